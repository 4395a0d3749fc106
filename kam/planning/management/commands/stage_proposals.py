"""``kam stage_proposals``: evaluate the relationship stage of the key accounts (tiers 1-3,
or ``--all``) against the current entry criteria and propose a change wherever the data
say one step up or down and no proposal is open. ``--dry-run`` counts without storing;
``--json`` prints the counts for scripts."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kam.accounts.models import Account
from kam.planning import stages


class Command(BaseCommand):
    help = "Propose relationship-stage changes where the data support one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="every account, not tiers 1-3")
        parser.add_argument("--dry-run", action="store_true", help="count, store nothing")
        parser.add_argument("--json", action="store_true", help="print the counts as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = Account.objects.all()
        if not options["all"]:
            accounts = accounts.filter(tier__in=[1, 2, 3])
        counts = stages.evaluate_accounts(accounts=accounts.order_by("pk"),
                                          dry_run=options["dry_run"])  # fmt: skip
        if options["json"]:
            self.stdout.write(json.dumps(counts))
        else:
            suffix = " (dry run)" if options["dry_run"] else ""
            self.stdout.write(
                f"{counts['evaluated']} evaluated, {counts['proposed']} proposed{suffix}."
            )
