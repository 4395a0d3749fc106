"""``kam import waybills PATH...``: load waybill files into the lake, with a progress line.

``--json`` prints one JSON object (the counts of every batch and their totals) for
scripts. The exit status is non-zero only when nothing at all could be read.
"""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from kam.core.management.progress import ProgressLine
from kam.ledger import messages, services, sources
from kam.ledger.models import ImportBatch

COUNTS = ("read", "accepted", "updated", "rejected", "duplicates", "conflicts")


class Command(BaseCommand):
    help = "Import shipment data: `kam import waybills PATH...` (CSV, XLSX, Parquet, JSON)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=["waybills"], help="what the files hold")
        parser.add_argument("paths", nargs="+", type=Path, help="files to import")
        parser.add_argument(
            "--format", choices=sources.FORMATS, default="", help="override detection"
        )
        parser.add_argument(
            "--encoding",
            choices=sources.ENCODINGS,
            default="",
            help="text encoding (default: detect)",
        )
        parser.add_argument(
            "--json", action="store_true", help="print the counts as one JSON object"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        as_json = options["json"]
        results = []
        for path in options["paths"]:
            if not path.is_file():
                results.append({"file": str(path), "status": "failed", "error": _("No such file."),
                                **dict.fromkeys(COUNTS, 0)})  # fmt: skip
                if not as_json:
                    self.stderr.write(f"{path}: {_('No such file.')}")
                continue
            batch = services.import_create(
                by=None, source=ImportBatch.Source.CLI, file_name=path.name, path=path,
                fmt=options["format"], encoding=options["encoding"],
            )  # fmt: skip
            progress = ProgressLine(self.stderr, enabled=not as_json)
            batch = services.import_run(
                batch=batch,
                path=path,
                on_progress=lambda b, progress=progress, name=path.name: progress(
                    f"{name}: {b.get_stage_display()}", b.progress_done, 100
                ),
            )
            progress.finish()
            result = {
                "batch": batch.pk,
                "file": str(path),
                "status": batch.status,
                "read": batch.rows_read,
                "accepted": batch.accepted,
                "updated": batch.updated,
                "rejected": batch.rejected,
                "duplicates": batch.duplicates,
                "conflicts": batch.conflicts,
                "months": batch.months,
                "seconds": round(batch.duration_seconds or 0, 3),
            }
            if batch.error_code:
                result["error"] = messages.failure_text(batch.error_code, batch.error_params)
            results.append(result)
            if not as_json:
                self._summary(result, batch)
        totals = {k: sum(r[k] for r in results) for k in COUNTS}
        if as_json:
            self.stdout.write(json.dumps({**totals, "batches": results}, ensure_ascii=False))
        if all(r["status"] == "failed" for r in results):
            raise CommandError(_("Nothing could be read."), returncode=1)

    def _summary(self, result: dict[str, Any], batch: ImportBatch) -> None:
        if result["status"] == "failed":
            self.stderr.write(f"{result['file']}: {result.get('error', '')}")
            return
        self.stdout.write(
            _("%(file)s: batch %(batch)s, read %(read)s, accepted %(accepted)s, updated %(updated)s, "
              "rejected %(rejected)s, duplicates %(duplicates)s, conflicts %(conflicts)s "
              "(%(seconds)s s)") % result
        )  # fmt: skip
        for warning in batch.warnings:
            self.stdout.write(
                "  " + messages.warning_text(warning["code"], warning.get("params", {}))
            )
        if result["rejected"] or result["conflicts"]:
            self.stdout.write(
                "  " + _("Reject report: kam rejects %(batch)s -o rejects.csv") % result
            )
