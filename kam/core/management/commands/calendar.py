"""``kam calendar seed|show``: the working calendar (public holidays, make-up working days)."""

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kam.core.calendar import (
    calendar_seed,
    notify_unconfirmed_years,
    unconfirmed_years,
    unconfirmed_years_message,
    working_calendar,
)
from kam.core.models import CalendarDay


class Command(BaseCommand):
    help = (
        "The working calendar. `seed` loads every year the chinese-calendar package knows "
        "(an administrator's edits are kept); `show YEAR` lists that year's holidays and "
        "make-up working days and counts its working days; `check` (daily) tells the "
        "administrators when the coming days reach a year whose holidays are not entered."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser("seed", help="load the package's schedule")
        show = actions.add_parser("show", help="one year's exceptions and working days")
        show.add_argument("year", type=int, metavar="YEAR")
        check = actions.add_parser("check", help="warn about years without holidays ahead")
        check.add_argument(
            "--days", type=int, default=90, help="how far ahead to look (default 90 days)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "seed":
            written = calendar_seed()
            self.stdout.write(f"Working calendar seeded: {written} days written.")
            return
        if options["action"] == "check":
            days = options["days"]
            if not 0 <= days <= 3660:
                raise CommandError("--days must be between 0 and 3660.")
            today = timezone.localdate()
            years = unconfirmed_years(today, today + datetime.timedelta(days=days))
            if not years:
                self.stdout.write(f"Working calendar: every year to {days} days ahead is entered.")
                return
            sent = notify_unconfirmed_years(years, where=f"`kam calendar check --days {days}`")
            self.stdout.write(unconfirmed_years_message(years))
            self.stdout.write(f"Administrators notified: {sent}.")
            return
        year = options["year"]
        if not 1990 <= year <= 2100:
            raise CommandError("YEAR must be between 1990 and 2100.")
        calendar = working_calendar()
        start, end = datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)
        for row in CalendarDay.objects.filter(day__gte=start, day__lt=end):
            kind = "working" if row.working else "off"
            self.stdout.write(f"{row.day.isoformat()}  {row.day:%a}  {kind:8}{row.festival}")
        days = calendar.count_working_days(start, end)
        note = "" if calendar.is_confirmed(start) else " (not published yet: weekends only)"
        self.stdout.write(f"{year}: {days} working days{note}.")
