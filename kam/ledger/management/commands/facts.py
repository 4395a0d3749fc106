"""``kam facts rebuild [--month YYYY-MM ...]``: rebuild the monthly facts from the lake."""

import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from kam.ledger import services

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class Command(BaseCommand):
    help = "Rebuild the monthly facts from the lake (all months, or those named)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["rebuild"])
        parser.add_argument(
            "--month", action="append", default=[], help="YYYY-MM; repeat for several"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        bad = [m for m in options["month"] if not _MONTH.match(m)]
        if bad:
            raise CommandError(_("Not a month (YYYY-MM): %(months)s") % {"months": ", ".join(bad)})
        counts = services.facts_rebuild(options["month"] or None)
        self.stdout.write(
            _("Facts rebuilt: %(months)s account-months, %(lanes)s lane rows.")
            % {
                "months": f"{counts.get('account_month', 0):,}",
                "lanes": f"{counts.get('account_month_lane', 0):,}",
            }
        )
