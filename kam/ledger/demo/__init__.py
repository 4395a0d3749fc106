"""Demo waybills: two years of shipments for the demo archive, loaded through the real import.

``kam demo`` builds the archive (:mod:`kam.accounts.demo`) and then calls
:func:`waybills_build`, which

1. *plans* every billing code's business in Python, from one seeded ``random.Random``
   (:func:`plan`, no Django): the archive's codes, whose revenue is the account's
   logistics spend estimate times our share of its wallet (CNY at a carrier's scale:
   tier-1 economic accounts earn millions a year), and about one small code per two
   companies that the archive does not know (unlinked codes, a few of them big shippers
   the key-account department has not signed: the candidates); a trajectory per account
   (steady, growing, declining, churned, new; lost accounts churn, potential ones grow);
   what each code ships (pallets by road, cartons, consumer parcels, cold chain,
   documents), its weights, price level, cost ratio, COD and return habits; and the
   number of waybills of each code in each month (its revenue over the expected revenue
   of a waybill);
2. *draws* the waybills with DuckDB, every random value a hash of the row number and the
   seed, so the rows do not depend on the number of threads; one Parquet file per
   calendar quarter, with the contract's column names (:mod:`kam.ledger.contract`);
3. *imports* each file with :func:`kam.ledger.services.import_run`, one batch per
   quarter, so that the lake, the facts and the import history are exactly what an import
   of a carrier's export produces.

Revenue is concentrated as at real carriers (the top fifth of the codes bring roughly
four fifths of the revenue). Seasonality is per day and stronger for consumer shippers
(e-commerce) than for business ones: the 11.11 and 12.12 peaks, 618, the New Year goods
rush before the Spring Festival and its trough (the real dates, :data:`SPRING_FESTIVAL`),
the National Day week, quieter weekends.

On purpose the middle batch holds 20 bad rows, 12 with the product "次晨达" (not in the
contract) and 8 refund lines with a negative freight, so that the import history shows a
reject report. Everything else is accepted.

Deterministic for a given seed, archive and ``as_of``; the one exception is that days
after today are not drawn (the import refuses future ship times). Idempotent: a quarter
already committed as a demo batch is not loaded again.
"""

import datetime
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from kam.accounts.demo_data import share_of_wallet
from kam.accounts.models import Account, BillingCode
from kam.core import regions
from kam.ledger import lake, services
from kam.ledger.models import (
    AccountMonth,
    FactFile,
    ImportBatch,
    LakeFile,
)

from .plan import (  # noqa: F401 - re-exported for `kam demo`
    UNLINKED_PER_COMPANY,
    ArchiveAccount,
    Progress,
    day_weight,
    month_starts,
    plan,
)
from .rows import RowWriter

# --- the service ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WaybillResult:
    loaded: bool
    message: str
    counts: dict[str, int]
    seconds: float


def _no_progress(stage: str, done: int, total: int) -> None:
    pass


def archive_accounts() -> list[ArchiveAccount]:
    """The archive's accounts that have billing codes, in a stable order (by first code).

    An account's revenue is its logistics spend estimate times our share of its wallet
    (:func:`kam.accounts.demo_data.share_of_wallet`, from its stage and credit code): the
    demo archive wrote the estimate from that revenue, so both tell the same story."""
    codes: dict[int, list[str]] = {}
    for account_id, code in BillingCode.objects.order_by("code").values_list("account_id", "code"):
        codes.setdefault(account_id, []).append(code)
    accounts = []
    rows = Account.objects.filter(pk__in=list(codes)).values_list(
        "pk", "tier", "status", "industry__code", "city_code", "logistics_spend_estimate",
        "stage", "credit_code", "is_potential", "is_strategic",
    )  # fmt: skip
    for pk, tier, status, industry, city, spend, stage, credit, potential, strategic in rows:
        revenue = float(spend or 0) * share_of_wallet(stage, credit or str(pk))
        accounts.append(
            ArchiveAccount(
                tier=tier,
                lost=status == "lost",
                industry=industry or "other",
                city_code=city if city and regions.get(city) else "",
                revenue=max(revenue, 3_000.0),
                codes=tuple(codes[pk]),
                potential=potential and status == "active",
                strategic=strategic,
            )
        )
    return sorted(accounts, key=lambda a: a.codes[0])


def counts() -> dict[str, int]:
    """What the lake holds from the demo (and how many codes the facts know)."""
    demo = ImportBatch.objects.filter(
        source=ImportBatch.Source.DEMO, status=ImportBatch.Status.COMMITTED
    ).aggregate(
        batches=Count("pk"),
        read=Sum("rows_read"),
        accepted=Sum("accepted"),
        rejected=Sum("rejected"),
    )
    codes = set(AccountMonth.objects.values_list("billing_code", flat=True).distinct())
    linked = set(BillingCode.objects.filter(code__in=codes).values_list("code", flat=True))
    return {
        **{k: int(v or 0) for k, v in demo.items()},
        "codes": len(codes),
        "unlinked_codes": len(codes - linked),
    }


def _file_name(label: str) -> str:
    return f"demo-waybills-{label}.parquet"


def waybills_build(
    *,
    seed: int,
    as_of: datetime.date,
    waybills: int | None,
    unlinked: int,
    progress: Progress = _no_progress,
) -> WaybillResult:
    """Generate the demo waybills and import them, a batch per quarter (see the module).

    Quarters already committed as demo batches are skipped, so a second run loads nothing
    and an interrupted run is completed. Needs the archive's billing codes.
    """
    started = time.monotonic()
    months = month_starts(as_of)
    labels = {_file_name(f"{m.year}Q{(m.month - 1) // 3 + 1}") for m in months}
    done = set(
        ImportBatch.objects.filter(
            source=ImportBatch.Source.DEMO, status=ImportBatch.Status.COMMITTED
        ).values_list("file_name", flat=True)
    )
    if done and (labels <= done or not done <= labels):
        return WaybillResult(
            False,
            "Demo waybills are already loaded; nothing changed.",
            counts(),
            time.monotonic() - started,
        )
    accounts = archive_accounts()
    if not accounts:
        return WaybillResult(
            False,
            "The archive has no billing codes; no demo waybills were made.",
            counts(),
            time.monotonic() - started,
        )
    now = timezone.localtime(timezone.now(), datetime.timezone(datetime.timedelta(hours=8)))
    now_local = now.replace(tzinfo=None)
    progress("waybills: planning", 0, 1)
    p = plan(
        accounts,
        seed=seed,
        as_of=as_of,
        waybills=waybills,
        unlinked=unlinked,
        last_day=now_local.date(),
    )
    progress("waybills: planning", 1, 1)
    as_of_end = datetime.datetime.combine(as_of + datetime.timedelta(days=1), datetime.time())
    folder = Path(settings.FILE_UPLOAD_TEMP_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="demo-waybills-", dir=folder))
    writer = RowWriter(
        p,
        seed=seed,
        delivered_cap=min(as_of_end, now_local),
        promised_cap=now_local + datetime.timedelta(hours=23),
    )
    try:
        for index, (label, _) in enumerate(p.batches):
            name = _file_name(label)
            if name in done:
                continue
            stage = f"waybills {label}"
            progress(f"{stage}: generating", index, len(p.batches))
            path = work / name
            writer.write(index, path)
            batch = services.import_create(
                by=None, source=ImportBatch.Source.DEMO, file_name=name, path=path
            )
            services.import_run(
                batch=batch,
                path=path,
                on_progress=lambda b, stage=stage: progress(
                    f"{stage}: {b.get_stage_display()}", b.progress_done, 100
                ),
            )
            path.unlink(missing_ok=True)
    finally:
        writer.close()
        shutil.rmtree(work, ignore_errors=True)
    result = counts()
    return WaybillResult(
        True,
        "Demo waybills loaded.",
        result,
        time.monotonic() - started,
    )


def ledger_wipe(progress: Progress = _no_progress) -> None:
    """Delete every import, the facts and the lake's files (``kam demo --reset``)."""
    with lake.write_lock():  # no import writes meanwhile
        steps: list[Callable[[], object]] = [
            FactFile.objects.all().delete,
            AccountMonth.objects.all().delete,
            LakeFile.objects.all().delete,
            ImportBatch.objects.all().delete,
        ]
        with transaction.atomic():
            for i, step in enumerate(steps, start=1):
                step()
                progress("wiping the ledger", i, len(steps) + 1)
        for child in lake.root().iterdir():
            if child.name != ".write.lock":
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
        progress("wiping the ledger", len(steps) + 1, len(steps) + 1)
