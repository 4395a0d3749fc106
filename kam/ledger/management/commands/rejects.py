"""``kam rejects BATCH``: write a batch's reject report as CSV (default) or XLSX."""

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from kam.core.exports import csv_lines, xlsx_bytes
from kam.ledger import exports
from kam.ledger.models import ImportBatch


class Command(BaseCommand):
    help = "Write the reject report of an import (row, column, value, problem)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("batch", type=int, help="the import's number")
        parser.add_argument("--xlsx", action="store_true", help="XLSX instead of CSV")
        parser.add_argument(
            "-o", "--output", type=Path, help="file to write (default: standard output)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch = ImportBatch.objects.filter(pk=options["batch"]).first()
        if batch is None:
            raise CommandError(_("There is no import %(batch)s.") % {"batch": options["batch"]})
        rows = exports.reject_rows(batch)
        if options["xlsx"]:
            if not options["output"]:
                raise CommandError(_("XLSX needs --output FILE."))
            options["output"].write_bytes(
                xlsx_bytes(_("Rejected rows"), exports.reject_header(), rows)
            )
            return
        header = exports.reject_header()
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8", newline="") as out:
                out.writelines(csv_lines(header, rows))
        else:
            sys.stdout.writelines(csv_lines(header, rows))
