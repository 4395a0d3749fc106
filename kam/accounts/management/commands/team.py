"""``kam team add|remove``: put users on account teams from scripts (acting as the system)."""

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kam.accounts.models import Account, TeamMembership, TeamRole
from kam.accounts.services import team_member_add, team_member_remove
from kam.core.errors import ApplicationError
from kam.core.models import User


def _error_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{f}: {' '.join(m)}" for f, m in exc.message_dict.items())
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = (
        "Account teams. `add ACCOUNT_ID USERNAME --role ROLE` (ROLE: "
        + ", ".join(TeamRole.values)
        + "); `remove ACCOUNT_ID USERNAME`. Changes are recorded in the team's history as "
        "made by the system."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        add = actions.add_parser("add", help="put a user on an account's team")
        add.add_argument("account_id", metavar="ACCOUNT_ID", type=int)
        add.add_argument("username", metavar="USERNAME")
        add.add_argument("--role", required=True, help=", ".join(TeamRole.values))
        add.add_argument("--json", action="store_true")
        remove = actions.add_parser("remove", help="take a user off an account's team")
        remove.add_argument("account_id", metavar="ACCOUNT_ID", type=int)
        remove.add_argument("username", metavar="USERNAME")

    def handle(self, *args: Any, **options: Any) -> None:
        account = Account.objects.filter(pk=options["account_id"]).first()
        if account is None:
            raise CommandError(f"No account with id {options['account_id']}.")
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user named {options['username']!r}.")
        try:
            if options["action"] == "add":
                self.add(account, user, options)
            else:
                self.remove(account, user)
        except ValidationError as exc:
            raise CommandError(_error_text(exc)) from None
        except ApplicationError as exc:
            raise CommandError(str(exc)) from None

    def add(self, account: Account, user: User, options: dict[str, Any]) -> None:
        role = options["role"]
        if role not in TeamRole.values:
            raise CommandError(
                f"Unknown team role {role!r}; use one of: {', '.join(TeamRole.values)}."
            )
        membership = team_member_add(by=None, account=account, user=user, role=role)
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "id": membership.pk,
                        "account": account.pk,
                        "user": user.username,
                        "role": role,
                    }
                )
            )
        else:
            self.stdout.write(
                f"Added {user.username} to account {account.pk} ({account.name}) as {role}."
            )

    def remove(self, account: Account, user: User) -> None:
        membership = TeamMembership.objects.filter(account=account, user=user).first()
        if membership is None:
            raise CommandError(f"{user.username} is not on the team of account {account.pk}.")
        team_member_remove(by=None, membership=membership)
        self.stdout.write(
            f"Removed {user.username} ({membership.role}) from account {account.pk} "
            f"({account.name})."
        )
