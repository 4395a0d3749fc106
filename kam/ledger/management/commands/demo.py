"""``kam demo``: load the demo archive and two years of its waybills (idempotent), print the
demo logins.

The archive comes from :mod:`kam.accounts.demo`, the waybills from :mod:`kam.ledger.demo`
(through the real import). The command lives in ``ledger`` because it needs both apps and
``accounts`` must not import ``ledger``.
"""

import argparse
import datetime
import importlib
import importlib.util
import json
import time
from types import ModuleType
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kam.accounts.demo import DEFAULT_COMPANIES, DEFAULT_SEED, demo_build
from kam.core.errors import ApplicationError
from kam.core.management.progress import ProgressLine
from kam.ledger import demo as ledger_demo
from kam.ledger import signals


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
        "role; then two years of waybills for its billing codes and for smaller codes outside "
        "the archive, imported into the shipment lake (a batch per quarter). Deterministic for "
        "a given --seed. Does nothing when the archive already holds accounts, unless --reset, "
        "which first DELETES every account, group, contact, tie and team, the demo users, "
        "every import, the monthly facts and the lake."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
        parser.add_argument(
            "--companies", type=int, default=DEFAULT_COMPANIES, help="how many accounts"
        )
        parser.add_argument(
            "--as-of",
            type=_date,
            default=None,
            help="the demo's reference date: its two years of data end there (default: the "
            "last day of last month, so the demo is current)",
        )
        parser.add_argument(
            "--waybills",
            type=int,
            default=None,
            help="about how many waybills: scales the volume and the money (default: as many "
            "as the accounts' revenue at real prices takes, about 3,800 per company)",
        )
        parser.add_argument(
            "--no-waybills", action="store_true", help="load the archive only, no shipment data"
        )
        parser.add_argument(
            "--reset", action="store_true", help="wipe the archive and the shipment ledger first"
        )
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        companies = options["companies"]
        if not 10 <= companies <= 100_000:
            raise CommandError("--companies must be between 10 and 100000.")
        waybills = options["waybills"]
        if waybills is not None and not 1_000 <= waybills <= 500_000_000:
            raise CommandError("--waybills must be between 1000 and 500000000.")
        if options["as_of"] is None:
            options["as_of"] = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
        progress = ProgressLine(self.stderr if options["json"] else self.stdout)
        started = time.monotonic()
        try:
            if options["reset"]:
                for module in reversed(_app_demos()):
                    module.demo_wipe(progress)
                ledger_demo.ledger_wipe(progress)
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
        archive_seconds = time.monotonic() - started
        shipments = None
        # Waybills only for the demo's own archive (the logins say it is there).
        if not options["no_waybills"] and result.logins:
            with signals.quiet():  # segmentation runs once, from its demo, not per batch
                shipments = ledger_demo.waybills_build(
                    seed=options["seed"],
                    as_of=options["as_of"],
                    waybills=waybills,
                    unlinked=round(companies * ledger_demo.UNLINKED_PER_COMPANY),
                    progress=progress,
                )
        # The apps built on the ledger (segmentation, coverage, service) add their own demo
        # data on top, in INSTALLED_APPS order: a `demo` module with demo_load/demo_wipe.
        extras: dict[str, str] = {}
        if result.logins:
            try:
                for module in _app_demos():
                    extras[module.__name__] = module.demo_load(
                        seed=options["seed"], as_of=options["as_of"], progress=progress
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
                        "seconds": round(seconds, 1),  # the archive and the waybills
                        "counts": result.counts,
                        "waybills": _waybills_json(shipments),
                        "apps": extras,
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
                f"Loaded the demo archive in {archive_seconds:.1f} s: {counts['accounts']} accounts, "
                f"{counts['groups']} groups, {counts['contacts']} contacts, "
                f"{counts['contact_ties'] + counts['staff_ties']} ties, "
                f"{counts['team_members']} team members, {counts['users']} users."
            )
        else:
            self.stdout.write(result.message)
        if shipments is not None:
            self.write_waybills(shipments)
        for line in extras.values():
            if line:
                self.stdout.write(line)
        if result.logins:
            self.write_logins(result.logins, result.password)

    def write_waybills(self, result: ledger_demo.WaybillResult) -> None:
        c = result.counts
        if not result.loaded:
            self.stdout.write(result.message)
            return
        self.stdout.write(
            f"Loaded {c['accepted']:,} demo waybills in {result.seconds:.1f} s: {c['batches']} "
            f"import batches, {c['codes']:,} billing codes ({c['unlinked_codes']:,} not in the "
            f"archive), {c['rejected']} rows rejected on purpose (see the import history)."
        )

    def write_logins(self, logins: list[tuple[str, str, str]], password: str) -> None:
        self.stdout.write(f"\nDemo logins (the password of every one is {password}):")
        required = set(settings.KAM_TWO_FACTOR_ROLES)
        rows = [("USERNAME", "ROLE", "NAME", "PASSWORD", "SECOND FACTOR")]
        rows += [(u, r, n, password, "authenticator app" if r in required else "-")
                 for u, r, n in logins]  # fmt: skip
        widths = [max(_width(row[i]) for row in rows) for i in range(5)]
        for row in rows:
            cells = [cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True)]
            self.stdout.write("  " + "  ".join(cells).rstrip())
        if required & {r for _u, r, _n in logins}:
            self.stdout.write(
                "Roles marked 'authenticator app' set up a TOTP app (any authenticator on a "
                "phone) at their first login and give its code at each one (KAM_TWO_FACTOR_ROLES; "
                "an empty value turns the requirement off for a trial)."
            )


def _waybills_json(result: ledger_demo.WaybillResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "loaded": result.loaded,
        "message": result.message,
        "seconds": round(result.seconds, 1),
        **result.counts,
    }


def _app_demos() -> list[ModuleType]:
    """The `demo` modules of the apps installed after the ledger, in INSTALLED_APPS order.

    Each has ``demo_load(*, seed, as_of, progress) -> str`` (idempotent; returns a summary
    line) and ``demo_wipe(progress)`` (for --reset)."""
    names = [config.name for config in apps.get_app_configs()]
    after = names[names.index("kam.ledger") + 1 :]
    return [
        importlib.import_module(f"{name}.demo")
        for name in after
        if name.startswith("kam.") and importlib.util.find_spec(f"{name}.demo") is not None
    ]


def _width(text: str) -> int:
    """Columns a string takes in a terminal: CJK characters take two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
