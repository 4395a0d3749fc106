"""Writes of the ledger: creating and running imports, linking billing codes to accounts."""

import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from kam.accounts import services as account_services
from kam.accounts.models import Account, AccountStatus, BillingCode
from kam.core import access
from kam.core.errors import ApplicationError, PermissionDeniedError
from kam.core.models import User

from . import facts, importer, lake, sources
from .models import FactFile, ImportBatch, LakeFile


def _require_import(by: User | None) -> None:
    if by is not None and not access.may_import(by):
        raise PermissionDeniedError(_("Only the key-account department may import shipment data."))


def upload_dir() -> Path:
    folder = Path(settings.FILE_UPLOAD_TEMP_DIR) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _clean_name(name: str) -> str:
    base = os.path.basename(name or "").strip() or "upload"
    return base[:255]


def import_create(
    *,
    by: User | None,
    source: str,
    file_name: str,
    stream: IO[bytes] | None = None,
    path: Path | None = None,
    fmt: str = "",
    encoding: str = "",
) -> ImportBatch:
    """Register an import. ``stream`` (an upload or an API body) is copied to the upload
    folder for the worker; ``path`` (the CLI) is read where it is."""
    _require_import(by)
    if fmt and fmt not in sources.FORMATS:
        raise ApplicationError(_("Unknown format %(format)s.") % {"format": fmt}, field="format")
    if encoding and encoding not in sources.ENCODINGS:
        raise ApplicationError(
            _("Unknown encoding %(encoding)s.") % {"encoding": encoding}, field="encoding"
        )
    upload_path = ""
    size = 0
    if stream is not None:
        target = upload_dir() / f"{uuid.uuid4().hex}{Path(_clean_name(file_name)).suffix[:10]}"
        with open(target, "wb") as out:
            while chunk := stream.read(1024 * 1024):
                size += len(chunk)
                if size > settings.IMPORT_MAX_BYTES:
                    out.close()
                    target.unlink(missing_ok=True)
                    raise ApplicationError(
                        _("The file is larger than the limit of %(limit)s bytes.")
                        % {"limit": settings.IMPORT_MAX_BYTES},
                        field="file",
                    )
                out.write(chunk)
        upload_path = str(target)
    elif path is not None:
        size = path.stat().st_size
    return ImportBatch.objects.create(
        source=source,
        created_by=by,
        file_name=_clean_name(file_name),
        upload_path=upload_path,
        file_size=size,
        file_format=fmt,
        encoding_requested=encoding,
    )


def import_enqueue(batch: ImportBatch) -> None:
    """Hand the batch to the background worker once the transaction commits."""
    from .tasks import run_import

    transaction.on_commit(lambda: run_import.enqueue(batch.pk))


def import_run(
    *, batch: ImportBatch, path: Path | None = None, on_progress: importer.Progress | None = None
) -> ImportBatch:
    """Run the import now, in this process. An uploaded file is removed afterwards."""
    source_path = path or Path(batch.upload_path)
    try:
        return importer.run(batch.pk, source_path, on_progress=on_progress)
    finally:
        if batch.upload_path:
            Path(batch.upload_path).unlink(missing_ok=True)


@transaction.atomic
def billing_code_link(*, by: User, code: str, account: Account, note: str = "") -> BillingCode:
    """Link an unlinked billing code to an archive account (its facts follow it)."""
    _require_import(by)
    return account_services.billing_code_add(by=by, account=account, code=code, note=note)


@transaction.atomic
def prospect_from_code(*, by: User, code: str, data: Mapping[str, Any]) -> Account:
    """Create a prospect account for an unlinked billing code and link the code to it."""
    _require_import(by)
    account = account_services.account_create(
        by=by, data={**data, "status": AccountStatus.PROSPECT}
    )
    account_services.billing_code_add(by=by, account=account, code=code)
    return account


def facts_rebuild(months: list[str] | None = None) -> dict[str, int]:
    """Rebuild the facts of ``months`` (YYYY-MM; all the lake's months when None) from the
    lake, as an import's commit does: for an upgrade that changed what the facts hold, or
    after restoring the database. Waits for a running import (the lake's write lock)."""
    with lake.write_lock():
        lake_files = LakeFile.objects.all()
        lake.remove_orphans(
            set(lake_files.values_list("path", flat=True))
            | set(FactFile.objects.values_list("path", flat=True))
        )
        if months:
            lake_files = lake_files.filter(month__in=months)
        wanted = sorted(set(months or lake_files.values_list("month", flat=True)))
        files = sorted(lake_files.values_list("path", flat=True))
        con = lake.connect()
        try:
            with transaction.atomic():
                return facts.rebuild(con, files, wanted)
        finally:
            con.close()
