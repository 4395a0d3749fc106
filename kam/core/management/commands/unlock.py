"""``kam unlock USERNAME`` / ``kam unlock --address A`` / ``kam unlock --list``: login lockouts."""

import ipaddress
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kam.core import lockout


def _when(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


class Command(BaseCommand):
    help = (
        "Lift a login lockout early. `kam unlock USERNAME` forgets the user name's failed "
        "log-ins from every address; `kam unlock --address A` those from address A (every user "
        "name). `kam unlock --list` shows the locks in force. Times are China time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", nargs="?", metavar="USERNAME")
        parser.add_argument("--address", metavar="A", help="an IP address, e.g. 203.0.113.7")
        parser.add_argument("--list", action="store_true", help="list the locks in force")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        username, address = options["username"], options["address"]
        if options["list"]:
            if username or address:
                raise CommandError("--list takes no USERNAME or --address.")
            return self._list(options["json"])
        if bool(username) == bool(address):
            raise CommandError("Give a USERNAME or --address A (one of them).")
        if address:
            try:
                address = str(ipaddress.ip_address(address.strip()))
            except ValueError:
                raise CommandError(
                    f"--address {options['address']!r} is not an IP address (e.g. 203.0.113.7)."
                ) from None
        removed = lockout.unlock(by=None, username=username, address=address)
        what = f"user name {username!r}" if username else f"address {address}"
        if options["json"]:
            self.stdout.write(
                json.dumps({"unlocked": username or address, "failures_removed": removed})
            )
        elif removed:
            self.stdout.write(f"Unlocked {what}: {removed} failure record(s) forgotten.")
        else:
            self.stdout.write(f"No failed log-ins recorded for {what}; nothing to unlock.")

    def _list(self, as_json: bool) -> None:
        rows = [
            {"rule": lock.rule.key, "username": lock.username or "", "address": lock.address or "",
             "failures": lock.failures, "until": _when(lock.until)}
            for lock in lockout.lockouts_current()
        ]  # fmt: skip
        if as_json:
            self.stdout.write(json.dumps(rows, ensure_ascii=False))
            return
        if not rows:
            self.stdout.write("No login is locked.")
            return
        header = {"rule": "RULE", "username": "USER NAME", "address": "ADDRESS",
                  "failures": "FAILURES", "until": "UNTIL"}  # fmt: skip
        widths = {k: max(len(str(r[k])) for r in [header, *rows]) for k in header}
        for row in [header, *rows]:
            self.stdout.write("  ".join(str(row[k]).ljust(widths[k]) for k in header).rstrip())
