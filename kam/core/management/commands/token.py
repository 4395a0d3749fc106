"""``kam token create|list|revoke``: API bearer tokens for programs."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kam.core.models import ApiToken, User
from kam.core.services import token_create, token_revoke


def _when(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "-"


class Command(BaseCommand):
    help = (
        "API bearer tokens. `create NAME [--user USERNAME]` makes a token labelled NAME for "
        "USERNAME (default: the user whose name is NAME) and prints it once, alone on the "
        "last line of output; only its hash is stored. `list [--user U]` shows tokens by "
        "prefix; `revoke PREFIX` stops one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="create a token and print it once")
        create.add_argument("name", metavar="NAME", help="the token's label")
        create.add_argument("--user", help="the user the token acts as (default: NAME)")
        create.add_argument("--json", action="store_true")
        listing = actions.add_parser("list", help="list tokens (prefix, label, user, state)")
        listing.add_argument("--user", help="only this user's tokens")
        listing.add_argument("--json", action="store_true")
        revoke = actions.add_parser("revoke", help="revoke the token with this prefix")
        revoke.add_argument("prefix", metavar="PREFIX", help="as shown by `kam token list`")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"handle_{options['action']}")(options)

    def _user(self, username: str) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r} (give the owner with --user USERNAME).")
        return user

    def handle_create(self, options: dict[str, Any]) -> None:
        user = self._user(options["user"] or options["name"])
        if not user.is_active:
            raise CommandError(f"User {user.username!r} is deactivated; a token would not work.")
        token, plain = token_create(user=user, name=options["name"])
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "name": token.name,
                        "user": user.username,
                        "prefix": token.prefix,
                        "token": plain,
                    }
                )
            )
            return
        self.stdout.write(
            f"Created token {token.name!r} for {user.username} (prefix {token.prefix}). "
            "It is shown only this once:"
        )
        self.stdout.write(plain)

    def handle_list(self, options: dict[str, Any]) -> None:
        tokens = ApiToken.objects.select_related("user").order_by("-created_at", "-id")
        if options["user"]:
            tokens = tokens.filter(user=self._user(options["user"]))
        rows = [
            {
                "prefix": t.prefix,
                "name": t.name,
                "user": t.user.username,
                "created": _when(t.created_at),
                "last_used": _when(t.last_used_at),
                "revoked": _when(t.revoked_at) if t.revoked_at else "",
            }
            for t in tokens
        ]
        if options["json"]:
            self.stdout.write(json.dumps(rows, ensure_ascii=False))
            return
        if not rows:
            self.stdout.write("No tokens.")
            return
        header = {
            "prefix": "PREFIX",
            "name": "NAME",
            "user": "USER",
            "created": "CREATED",
            "last_used": "LAST USED",
            "revoked": "REVOKED",
        }
        widths = {k: max(len(str(r[k])) for r in [header, *rows]) for k in header}
        for row in [header, *rows]:
            self.stdout.write("  ".join(str(row[k]).ljust(widths[k]) for k in header).rstrip())

    def handle_revoke(self, options: dict[str, Any]) -> None:
        prefix = options["prefix"].strip()
        tokens = list(ApiToken.objects.select_related("user").filter(prefix=prefix))
        if not tokens:
            raise CommandError(f"No token with prefix {prefix!r} (see `kam token list`).")
        active = [t for t in tokens if t.revoked_at is None]
        if not active:
            self.stdout.write(f"Token {prefix} was already revoked; nothing changed.")
            return
        if len(active) > 1:
            raise CommandError(
                f"{len(active)} active tokens share prefix {prefix!r}; revoke them "
                "in the admin instead."
            )
        token_revoke(token=active[0])
        self.stdout.write(f"Revoked token {prefix} ({active[0].name}, {active[0].user.username}).")
