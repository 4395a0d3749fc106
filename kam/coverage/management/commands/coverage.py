"""``kam coverage escalate``: remind owners of overdue follow-ups, then escalate.
``kam coverage missed``: planned visits whose day passed without a report become missed;
an account missed ``KAM_MISSED_VISITS_ALERT`` times in a row is alerted.

Run them from a scheduler (cron, a systemd timer): escalate a few times a day, missed once
a day after midnight (Asia/Shanghai); both are idempotent.
"""

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from kam.coverage import services


class Command(BaseCommand):
    help = (
        "escalate: overdue follow-ups remind their owner (in-app and e-mail); after "
        f"{services.ESCALATE_AFTER_WORKING_DAYS} working days overdue, their manager and the "
        "key-account department are told too. Each step happens once per follow-up. "
        "missed: planned visits whose day passed without a report become missed; an account "
        "missed KAM_MISSED_VISITS_ALERT times in a row (default 2) alerts the person, their "
        "manager and the department, once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["escalate", "missed"])
        parser.add_argument("--json", action="store_true", help="print the counts as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "missed":
            counts = services.visits_mark_missed(today=timezone.localdate())
            if options["json"]:
                self.stdout.write(json.dumps(counts))
                return
            self.stdout.write(
                f"Marked {counts['missed']} visits missed; alerted {counts['alerted']} accounts "
                f"(after {settings.KAM_MISSED_VISITS_ALERT} missed in a row)."
            )
            return
        counts = services.escalate_overdue()
        if options["json"]:
            self.stdout.write(json.dumps(counts))
            return
        self.stdout.write(
            f"Reminded {counts['reminded']} owners; escalated {counts['escalated']} follow-ups."
        )
