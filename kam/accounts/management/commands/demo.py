"""``kam demo``: load the demo archive (idempotent) and print the demo logins."""

import argparse
import datetime
import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kam.accounts.demo import DEFAULT_AS_OF, DEFAULT_COMPANIES, DEFAULT_SEED, demo_build
from kam.core.errors import ApplicationError
from kam.core.management.progress import ProgressLine


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a date like 2026-06-30 is needed, not {value!r}"
        ) from None


class Command(BaseCommand):
    help = (
        "Build a realistic demo archive: companies across industries and provinces, corporate "
        "groups, contacts with org charts and ties, account teams, and a demo user in every "
        "role. Deterministic for a given --seed. Does nothing when the archive already holds "
        "accounts, unless --reset, which first DELETES every account, group, contact, tie and "
        "team and the demo users."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
        parser.add_argument(
            "--companies", type=int, default=DEFAULT_COMPANIES, help="how many accounts"
        )
        parser.add_argument(
            "--as-of",
            type=_date,
            default=DEFAULT_AS_OF,
            help=f"the demo's reference date (default {DEFAULT_AS_OF.isoformat()})",
        )
        parser.add_argument("--reset", action="store_true", help="wipe the archive first")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        companies = options["companies"]
        if not 10 <= companies <= 100_000:
            raise CommandError("--companies must be between 10 and 100000.")
        progress = ProgressLine(self.stderr if options["json"] else self.stdout)
        started = time.monotonic()
        try:
            result = demo_build(
                seed=options["seed"],
                companies=companies,
                as_of=options["as_of"],
                reset=options["reset"],
                progress=progress,
            )
        except ApplicationError as exc:
            progress.finish()
            raise CommandError(str(exc)) from None
        progress.finish()
        seconds = time.monotonic() - started
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "loaded": result.loaded,
                        "message": result.message,
                        "seconds": round(seconds, 1),
                        "counts": result.counts,
                        "password": result.password if result.logins else None,
                        "logins": [
                            {"username": u, "role": r, "name": n} for u, r, n in result.logins
                        ],
                    },
                    ensure_ascii=False,
                )
            )
            return
        counts = result.counts
        if result.loaded:
            self.stdout.write(
                f"Loaded the demo archive in {seconds:.1f} s: {counts['accounts']} accounts, "
                f"{counts['groups']} groups, {counts['contacts']} contacts, "
                f"{counts['contact_ties'] + counts['staff_ties']} ties, "
                f"{counts['team_members']} team members, {counts['users']} users."
            )
        else:
            self.stdout.write(result.message)
        if result.logins:
            self.write_logins(result.logins, result.password)

    def write_logins(self, logins: list[tuple[str, str, str]], password: str) -> None:
        self.stdout.write(f"\nDemo logins (the password of every one is {password}):")
        rows = [("USERNAME", "ROLE", "NAME", "PASSWORD")]
        rows += [(u, r, n, password) for u, r, n in logins]
        widths = [max(_width(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            cells = [cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True)]
            self.stdout.write("  " + "  ".join(cells).rstrip())


def _width(text: str) -> int:
    """Columns a string takes in a terminal: CJK characters take two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
