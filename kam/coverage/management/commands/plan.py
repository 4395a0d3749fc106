"""``kam plan visits --weeks N``: generate the visit plan."""

import argparse
import datetime
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone, translation

from kam.core.calendar import working_calendar
from kam.coverage import selectors, services
from kam.coverage.views import _reasons


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a date like 2026-07-01 is needed, not {value!r}"
        ) from None


class Command(BaseCommand):
    help = (
        "Plan visits: every covered account gets the visits its tier and category ask for "
        "(the coverage policy), on working days, within each person's visits per day. "
        "Planned visits from the start on are replaced. Prints what was planned and which "
        "accounts go unserved, lowest value first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["visits"], help="what to plan")
        parser.add_argument("--weeks", type=int, default=12, help="how many weeks (1-26)")
        parser.add_argument(
            "--start", type=_date, default=None, help="first day (default: the next working day)"
        )
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        start = options["start"] or working_calendar().next_working_day(
            timezone.localdate(), include=False
        )
        try:
            with translation.override("en"):  # the command speaks English, as kam's others do
                plan = services.plan_generate(by=None, start=start, weeks=options["weeks"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        with translation.override("en"):
            warnings = selectors.plan_warnings(plan)
        if options["json"]:
            self.stdout.write(json.dumps({
                "id": plan.pk, "start": plan.start.isoformat(), "weeks": plan.weeks,
                "due": plan.due, "placed": plan.placed, "km": plan.km,
                "unserved": plan.unserved, "warnings": warnings,
            }, ensure_ascii=False))  # fmt: skip
            return
        self.stdout.write(
            f"Planned {plan.placed:,} of {plan.due:,} due visits ({plan.placed_share:.1%}) "
            f"from {plan.start} for {plan.weeks} weeks, {plan.km:,} km by road; "
            f"{len(plan.unserved):,} unserved."
        )
        for warning in warnings:
            self.stderr.write(self.style.WARNING(f"Warning: {warning['message']}"))
        with translation.override("en"):
            reasons = _reasons()
        for row in plan.unserved[:20]:
            self.stdout.write(
                f"  {row['name']}  due {row['due']}  value {row['value']}  "
                f"{reasons.get(row['reason'], row['reason'])}"
            )
        if len(plan.unserved) > 20:
            self.stdout.write(f"  … and {len(plan.unserved) - 20:,} more (see /coverage/plan/).")
