"""``kam coverage escalate``: remind owners of overdue follow-ups, then escalate.

Run it from a scheduler (cron, a systemd timer) a few times a day; it is idempotent.
"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kam.coverage import services


class Command(BaseCommand):
    help = (
        "escalate: overdue follow-ups remind their owner (in-app and e-mail); after "
        f"{services.ESCALATE_AFTER_WORKING_DAYS} working days overdue, their manager and the "
        "key-account department are told too. Each step happens once per follow-up."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["escalate"])
        parser.add_argument("--json", action="store_true", help="print the counts as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        counts = services.escalate_overdue()
        if options["json"]:
            self.stdout.write(json.dumps(counts))
            return
        self.stdout.write(
            f"Reminded {counts['reminded']} owners; escalated {counts['escalated']} follow-ups."
        )
