"""``kam service tick``: advance every open case's SLA clocks (a scheduler runs it, e.g.
every five minutes). Warnings and violations fire once each, at the instant they were
crossed, with their policy's actions; a second run fires nothing new."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kam.service import services


class Command(BaseCommand):
    help = "Service cases: `kam service tick` advances the SLA clocks of open cases."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["tick"], help="what to do")
        parser.add_argument("--json", action="store_true", help="print the counts as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] != "tick":
            raise CommandError("unknown action")
        counts = services.clocks_tick()
        if options["json"]:
            self.stdout.write(json.dumps(counts))
        else:
            self.stdout.write(
                f"{counts['cases']} open cases checked, {counts['fired']} warnings or violations fired"
            )
