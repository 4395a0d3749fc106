"""``kam privacy retention``: erase the personal information of contacts with no business
for ``KAM_PERSONAL_DATA_RETENTION_YEARS`` years (default 3), as the system.

Meant for a scheduler (cron, a systemd timer): a second run erases nothing the first one
did not leave. ``--dry-run`` lists the contacts due and erases nothing; both kinds of run
are stored and shown to directors on the retention page.
"""

import argparse
import datetime
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone, translation

from kam.accounts.privacy.retention import retention_run
from kam.core.errors import ApplicationError


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a date like 2026-07-01 is needed, not {value!r}"
        ) from None


class Command(BaseCommand):
    help = (
        "Personal information. `retention`: erase the personal information of contacts with "
        "no business (edits, visit reports attended, service cases, survey answers, ties) "
        "for KAM_PERSONAL_DATA_RETENTION_YEARS years, logged as the system; directors are "
        "notified and see the run on the retention page."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        retention = actions.add_parser("retention", help="apply the retention rule")
        retention.add_argument(
            "--as-of", type=_date, default=None,
            help="the day the rule is applied on (default: today in China time)",
        )  # fmt: skip
        retention.add_argument(
            "--years", type=int, default=None,
            help="years without business (default: KAM_PERSONAL_DATA_RETENTION_YEARS)",
        )  # fmt: skip
        retention.add_argument(
            "--dry-run", action="store_true", help="list the contacts due; erase nothing"
        )
        retention.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = options["as_of"] or timezone.localdate()
        show = not options["json"] and sys.stderr.isatty()

        def progress(done: int, total: int) -> None:
            if show:
                sys.stderr.write(f"\rerasing {done}/{total}")
                if done == total:
                    sys.stderr.write("\n")

        try:
            with translation.override("en"):  # the command speaks English, as kam's others do
                run = retention_run(
                    as_of=as_of, years=options["years"], dry_run=options["dry_run"],
                    progress=progress,
                )  # fmt: skip
        except ApplicationError as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "run": run.pk,
                        "as_of": run.as_of.isoformat(),
                        "years": run.years,
                        "cutoff": run.cutoff.isoformat(),
                        "dry_run": run.dry_run,
                        "count": run.count,
                        "contacts": run.contact_ids,
                    }  # fmt: skip
                )
            )
            return
        verb = "would erase" if run.dry_run else "erased"
        self.stdout.write(
            f"Retention ({run.years} years, no business since {run.cutoff.isoformat()}): "
            f"{verb} the personal information of {run.count} contacts."
        )
