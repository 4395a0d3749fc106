"""``kam health``: compute and store every account's health score now (what a nightly
scheduler calls, after the segmentation run); ``--json`` prints a one-line summary for
scripts, ``--dry-run`` computes without storing or alerting."""

import argparse
import datetime
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from kam.planning import health


def _day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a date like 2026-07-15 is needed, not {value!r}"
        ) from None


class Command(BaseCommand):
    help = "Compute every account's health score, store today's snapshot, alert on drops."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=_day, default=None,
                            help="the day of the snapshot, YYYY-MM-DD (default: today)")  # fmt: skip
        parser.add_argument("--account", type=int, action="append", default=None,
                            help="only this account (repeatable)")  # fmt: skip
        parser.add_argument("--dry-run", action="store_true", help="compute, store nothing")
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        day = options["date"] or timezone.localdate()
        result = health.health_refresh(today=day, account_ids=options["account"],
                                       dry_run=options["dry_run"])  # fmt: skip
        summary = {"day": day.isoformat(), "accounts": result.accounts, "alerts": result.alerts,
                   "dry_run": options["dry_run"]}  # fmt: skip
        if options["json"]:
            self.stdout.write(json.dumps(summary))
        else:
            verb = "computed" if options["dry_run"] else "stored"
            self.stdout.write(f"Health {verb} for {result.accounts} accounts on {day}; "
                              f"{result.alerts} drop alerts raised.")  # fmt: skip
