"""``kam rotatekeys``: re-encrypt personal data under the first KAM_FIELD_KEY."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kam.core.errors import ApplicationError
from kam.core.management.progress import ProgressLine
from kam.core.services import encrypted_values_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted value under the first key in KAM_FIELD_KEY. Put the new "
        "key first and keep the old ones until this has finished (docs/operations.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="only check that every value decrypts, and count them",
        )
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--json", action="store_true", help="print the counts as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        progress = ProgressLine(self.stderr if options["json"] else self.stdout)
        try:
            result = encrypted_values_rotate(
                dry_run=options["dry_run"], batch_size=options["batch_size"], progress=progress
            )
        except ApplicationError as exc:
            progress.finish()
            raise CommandError(str(exc)) from None
        progress.finish()
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {"dry_run": result.dry_run, "total": result.total, "values": result.values}
                )
            )
        elif result.dry_run:
            self.stdout.write(f"Dry run: {result.total} values decrypt and would be rotated.")
        else:
            self.stdout.write(f"Rotated {result.total} values to the first key in KAM_FIELD_KEY.")
