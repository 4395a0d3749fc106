"""Demo data: a deterministic, realistic key-account archive for trials and screenshots.

Everything comes from one seed (a ``random.Random`` and a seeded ``Faker('zh_CN')``) and
a reference date ``as_of`` (never "today"), so the same seed gives the same companies,
credit codes and people on every machine. :func:`generate` builds unsaved model
instances and writes nothing (:mod:`kam.accounts.demo_generator`, drawing on
:mod:`kam.accounts.demo_data`); :func:`demo_build` is the service behind ``kam demo``.

The rows are written with bulk inserts, which skip ``full_clean()`` (the tests check
credit codes, org charts and group nesting instead). History rows are written with
``bulk_create_with_history``, so each account's history starts with its creation.
"""

import datetime
import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from typing import Any

from django.db import models, transaction
from django.db.models import Q, QuerySet
from simple_history.utils import bulk_create_with_history

from kam.core.errors import ApplicationError
from kam.core.models import User

from . import demo_generator
from .demo_data import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD, DEMO_USERNAMES, DEMO_USERS
from .demo_generator import DemoArchive
from .models import (
    Account,
    BillingCode,
    ConsentRecord,
    Contact,
    ContactTie,
    CorporateGroup,
    StaffTie,
    TeamMembership,
)

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_USERNAMES",
    "DEMO_USERS",
    "DemoArchive",
    "DemoResult",
    "demo_build",
    "demo_wipe",
    "generate",
    "load",
]

DEFAULT_SEED = 42
DEFAULT_COMPANIES = 1200
#: The demo's "today": last-contacted dates and ties are relative to it.
DEFAULT_AS_OF = datetime.date(2026, 6, 30)

Progress = Callable[[str, int, int], None]


def generate(
    *,
    seed: int = DEFAULT_SEED,
    companies: int = DEFAULT_COMPANIES,
    as_of: datetime.date = DEFAULT_AS_OF,
) -> DemoArchive:
    """Build the demo archive in memory (reads industries and regions, writes nothing)."""
    return demo_generator.generate(seed=seed, companies=companies, as_of=as_of)


# --- writing it ----------------------------------------------------------------------------


def _bulk(
    model: type[models.Model],
    rows: list[Any],
    progress: Progress,
    stage: str,
    history: bool = False,
) -> None:
    batch = 1000
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        if history:
            bulk_create_with_history(chunk, model, batch_size=batch)
        else:
            model._default_manager.bulk_create(chunk, batch_size=batch)
        progress(stage, min(start + batch, len(rows)), len(rows))


def load(archive: DemoArchive, progress: Progress) -> dict[str, int]:
    """Insert the archive; returns counts by kind."""
    remaining = archive.users
    while remaining:  # managers before the people who report to them
        ready = [u for u in remaining if u.manager is None or u.manager.pk is not None]
        _bulk(User, ready, progress, "users")
        remaining = [u for u in remaining if u.pk is None]
    groups = [g for level in archive.groups for g in level]
    for level in archive.groups:
        _bulk(CorporateGroup, level, progress, "groups", history=True)
    _bulk(Account, archive.accounts, progress, "accounts", history=True)
    _bulk(BillingCode, archive.billing_codes, progress, "billing codes")
    _bulk(TeamMembership, archive.memberships, progress, "teams", history=True)
    contacts = [c for level in archive.contacts for c in level]
    done = 0
    for level in archive.contacts:

        def contact_progress(stage: str, d: int, t: int, before: int = done) -> None:
            progress(stage, before + d, len(contacts))

        _bulk(Contact, level, contact_progress, "contacts", history=True)
        done += len(level)
    _bulk(ContactTie, archive.contact_ties, progress, "ties")
    _bulk(StaffTie, archive.staff_ties, progress, "staff ties")
    _bulk(ConsentRecord, archive.consent_records, progress, "lawful bases", history=True)
    return {
        "users": len(archive.users),
        "groups": len(groups),
        "accounts": len(archive.accounts),
        "billing_codes": len(archive.billing_codes),
        "team_members": len(archive.memberships),
        "contacts": len(contacts),
        "contact_ties": len(archive.contact_ties),
        "staff_ties": len(archive.staff_ties),
        "consent_records": len(archive.consent_records),
    }


def demo_users() -> QuerySet[User]:
    """The users the demo made: a demo username *and* the demo's e-mail address, so that a
    real user who happens to be called ``director`` or ``admin`` is never deleted."""
    return User.objects.filter(
        reduce(
            operator.or_, (Q(username=u, email=f"{u}@{DEMO_EMAIL_DOMAIN}") for u in DEMO_USERNAMES)
        )
    )


def demo_wipe(progress: Progress) -> None:
    """Delete the whole archive, its history and the demo users (``kam demo --reset``)."""
    steps: list[Callable[[], object]] = [
        ContactTie.objects.all().delete,
        StaffTie.objects.all().delete,
        lambda: Contact.objects.update(reports_to=None),
        Contact.objects.all().delete,
        TeamMembership.objects.all().delete,
        Account.objects.all().delete,
        lambda: CorporateGroup.objects.update(parent=None),
        CorporateGroup.objects.all().delete,
        *[
            m.history.all().delete  # type: ignore[attr-defined]
            for m in (Account, Contact, CorporateGroup, TeamMembership, ConsentRecord)
        ],
        demo_users().delete,
    ]
    for i, step in enumerate(steps, start=1):
        step()
        progress("wiping", i, len(steps))


@dataclass(frozen=True)
class DemoResult:
    loaded: bool
    message: str
    counts: dict[str, int]
    logins: list[tuple[str, str, str]]
    password: str = DEMO_PASSWORD


def _counts() -> dict[str, int]:
    return {
        "users": User.objects.filter(username__in=DEMO_USERNAMES).count(),
        "groups": CorporateGroup.objects.count(),
        "accounts": Account.objects.count(),
        "billing_codes": BillingCode.objects.count(),
        "team_members": TeamMembership.objects.count(),
        "contacts": Contact.objects.count(),
        "contact_ties": ContactTie.objects.count(),
        "staff_ties": StaffTie.objects.count(),
        "consent_records": ConsentRecord.objects.count(),
    }


def _no_progress(stage: str, done: int, total: int) -> None:
    pass


@transaction.atomic
def demo_build(
    *,
    seed: int = DEFAULT_SEED,
    companies: int = DEFAULT_COMPANIES,
    as_of: datetime.date = DEFAULT_AS_OF,
    reset: bool = False,
    progress: Progress = _no_progress,
) -> DemoResult:
    """Load the demo archive into an empty archive; do nothing when it is already there.

    ``reset`` first deletes every account, group, contact, tie and team (with their
    history) and the demo users. Without it, an archive that holds accounts is left as
    it is; demo users that exist without an archive are refused (they would clash).
    """
    logins = [(u, str(r), d) for u, r, d in DEMO_USERS]
    if reset:
        demo_wipe(progress)
    accounts = Account.objects.count()
    if accounts:
        demo = User.objects.filter(username__in=DEMO_USERNAMES).exists()
        message = (
            f"Demo data is already loaded ({accounts} accounts); nothing changed."
            if demo
            else f"The archive already holds {accounts} accounts; demo data is loaded only "
            "into an empty archive (--reset wipes it first)."
        )
        return DemoResult(False, message, _counts(), logins if demo else [])
    clash = list(
        User.objects.filter(username__in=DEMO_USERNAMES)
        .order_by("username")
        .values_list("username", flat=True)
    )
    if clash:
        raise ApplicationError(
            f"Users {', '.join(clash)} already exist but the archive is empty; "
            "rename them (--reset deletes only the users an earlier demo made)."
        )
    progress("generating", 0, companies)
    archive = generate(seed=seed, companies=companies, as_of=as_of)
    progress("generating", companies, companies)
    counts = load(archive, progress)
    return DemoResult(True, "Demo archive loaded.", counts, logins)
