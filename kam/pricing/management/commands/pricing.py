"""``kam pricing expire``: sent quotes past their validity become expired (a scheduler runs
it once a day, just after midnight Asia/Shanghai). Idempotent: a second run finds nothing
left to expire. The quote lists still expire on reading, so a page is right even before
the day's run."""

import argparse
import datetime
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from kam.pricing import quotes


def _day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a date like 2026-07-15 is needed, not {value!r}"
        ) from None


class Command(BaseCommand):
    help = (
        "Pricing: `kam pricing expire` turns sent quotes valid until before today "
        "(Asia/Shanghai) into expired ones."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["expire"], help="what to do")
        parser.add_argument("--date", type=_day, default=None,
                            help="expire as of this day, YYYY-MM-DD (default: today)")  # fmt: skip
        parser.add_argument("--json", action="store_true", help="print the count as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        day = options["date"] or timezone.localdate()
        expired = quotes.expire_quotes(day)
        if options["json"]:
            self.stdout.write(json.dumps({"day": day.isoformat(), "expired": expired}))
        else:
            self.stdout.write(f"Expired {expired} sent quotes valid until before {day}.")
