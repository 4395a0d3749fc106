"""``kam createuser NAME --role ROLE``: a user who can log in (or not, without a password)."""

import getpass
import json
import sys
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kam.core.models import Role, User
from kam.core.services import user_create


def error_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{f}: {' '.join(m)}" for f, m in exc.message_dict.items())
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = (
        "Create a user. ROLE is one of: " + ", ".join(Role.values) + ". Without --password "
        "the password is asked for twice on a terminal; when input is not a terminal the "
        "user gets no usable password (set one later in the admin or with `kam "
        "changepassword NAME`)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", metavar="NAME")
        parser.add_argument("--role", required=True, help=", ".join(Role.values))
        parser.add_argument("--password", help="the password (visible in the shell history)")
        parser.add_argument("--display-name", default="", help="name shown in pages")
        parser.add_argument("--email", default="")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        username, role = options["username"], options["role"]
        if role not in Role.values:
            raise CommandError(f"Unknown role {role!r}; use one of: {', '.join(Role.values)}.")
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} already exists.")
        password = options["password"]
        if password is None and sys.stdin.isatty():
            password = self.ask_password()
        if password:
            candidate = User(
                username=username, email=options["email"], display_name=options["display_name"]
            )
            try:
                password_validation.validate_password(password, candidate)
            except ValidationError as exc:
                raise CommandError(f"Password refused: {' '.join(exc.messages)}") from None
        try:
            user = user_create(
                username=username,
                role=role,
                password=password or None,
                display_name=options["display_name"],
                email=options["email"],
            )
        except ValidationError as exc:
            raise CommandError(error_text(exc)) from None
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "id": user.pk,
                        "username": user.username,
                        "role": user.role,
                        "usable_password": user.has_usable_password(),
                    }
                )
            )
        elif user.has_usable_password():
            self.stdout.write(f"Created user {username} ({role}).")
        else:
            self.stdout.write(
                f"Created user {username} ({role}) without a usable password: they cannot log "
                f"in until one is set (`kam changepassword {username}`)."
            )

    def ask_password(self) -> str:
        first = getpass.getpass("Password: ")
        if not first:
            raise CommandError("No password given.")
        if getpass.getpass("Password (again): ") != first:
            raise CommandError("The two passwords differ; nothing was created.")
        return first
