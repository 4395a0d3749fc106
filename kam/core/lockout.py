"""Login lockout: three counts of recent failures, each with its own limit.

django-axes records every failed password (and, through :func:`failure_record`, every
wrong second-factor code) as ``AccessAttempt`` rows of user name, client address and user
agent. Failures younger than ``KAM_LOGIN_LOCKOUT_MINUTES`` are counted three ways:

==================  ==========================================  ========================
rule                counts failures of                          limit (setting)
==================  ==========================================  ========================
user name + address  one user name from one address              ``KAM_LOGIN_FAILURE_LIMIT`` (5)
user name            one user name from anywhere                 ``KAM_LOGIN_USERNAME_FAILURE_LIMIT`` (10)
address              any user names from one address             ``KAM_LOGIN_ADDRESS_FAILURE_LIMIT`` (50)
==================  ==========================================  ========================

A login is refused while any rule has reached its limit; the lock ends
``KAM_LOGIN_LOCKOUT_MINUTES`` after the last failure that rule counted (failures during a
lock are not recorded, so they do not extend it). Made-up user names from one address
therefore lock only that address, and only at the high address limit: behind a shared
proxy, five of them lock nobody else out.

Axes compares one number with one limit (``AXES_FAILURE_LIMIT``), so
:meth:`LockoutHandler.get_failures` reports each rule's count scaled to that limit:
``count * base // limit`` reaches ``base`` exactly when ``count`` reaches the rule's limit.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.db.models import Max, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kam.core.models import SecurityEvent, User
from kam.core.security_events import security_event_record


@dataclass(frozen=True)
class Rule:
    key: str
    fields: tuple[str, ...]  # AccessAttempt fields that make one count
    limit: int
    label: Promise


def rules() -> list[Rule]:
    return [
        Rule("username_address", ("username", "ip_address"), settings.KAM_LOGIN_FAILURE_LIMIT,
             _("User name from this address")),
        Rule("username", ("username",), settings.KAM_LOGIN_USERNAME_FAILURE_LIMIT,
             _("User name from any address")),
        Rule("address", ("ip_address",), settings.KAM_LOGIN_ADDRESS_FAILURE_LIMIT,
             _("Any user name from this address")),
    ]  # fmt: skip


def rule(key: str) -> Rule:
    for candidate in rules():
        if candidate.key == key:
            return candidate
    raise KeyError(key)


def cooloff() -> timedelta:
    return settings.AXES_COOLOFF_TIME  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Lockout:
    """One rule at its limit: who, from where, how many failures, and until when."""

    rule: Rule
    username: str | None
    address: str | None
    failures: int
    last_failure: datetime

    @property
    def until(self) -> datetime:
        return self.last_failure + cooloff()


@dataclass(frozen=True)
class Counts:
    """The failures each rule counts for one user name and address, newest failure of each."""

    failures: dict[str, int]
    last: dict[str, datetime | None]


def _filters(username: str | None, address: str | None) -> dict[str, Q]:
    return {
        "username_address": Q(username=username, ip_address=address),
        "username": Q(username=username),
        "address": Q(ip_address=address),
    }


def failure_counts(
    username: str | None, address: str | None, *, now: datetime | None = None
) -> Counts:
    """Recent failures per rule for this user name and address, in one query."""
    since = (now or timezone.now()) - cooloff()
    filters = _filters(username, address)
    aggregates: dict[str, Any] = {}
    for key, condition in filters.items():
        aggregates[f"{key}_n"] = Sum("failures_since_start", filter=condition)
        aggregates[f"{key}_at"] = Max("attempt_time", filter=condition)
    row = (
        AccessAttempt.objects.filter(attempt_time__gte=since)
        .filter(Q(username=username) | Q(ip_address=address))
        .aggregate(**aggregates)
    )
    return Counts(
        failures={key: row[f"{key}_n"] or 0 for key in filters},
        last={key: row[f"{key}_at"] for key in filters},
    )


def lockout_for(
    username: str | None, address: str | None, *, now: datetime | None = None
) -> Lockout | None:
    """The lock that holds this user name at this address the longest, or ``None``."""
    counts = failure_counts(username, address, now=now)
    found = [
        Lockout(rule=r, username=username if "username" in r.fields else None,
                address=address if "ip_address" in r.fields else None,
                failures=counts.failures[r.key], last_failure=last)
        for r in rules()
        if counts.failures[r.key] >= r.limit and (last := counts.last[r.key]) is not None
    ]  # fmt: skip
    return max(found, key=lambda lock: lock.until, default=None)


def lockouts_current(*, now: datetime | None = None) -> list[Lockout]:
    """Every lock in force, the one that lasts longest first (for the administrators' page)."""
    since = (now or timezone.now()) - cooloff()
    recent = AccessAttempt.objects.filter(attempt_time__gte=since)
    found: list[Lockout] = []
    for r in rules():
        groups = (
            recent.values(*r.fields)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=r.limit)
        )
        found.extend(
            Lockout(rule=r, username=g.get("username"), address=g.get("ip_address"),
                    failures=g["failures"], last_failure=g["last"])
            for g in groups
        )  # fmt: skip
    return sorted(found, key=lambda lock: (lock.until, lock.rule.key), reverse=True)


def lockout_release(
    *, by: User | None, rule_key: str, username: str | None, address: str | None
) -> int:
    """Lift a lock early: forget the failures that rule counts. Returns the rows removed."""
    r = rule(rule_key)
    values = {"username": username, "ip_address": address}
    condition = {field: values[field] for field in r.fields}
    if any(value in (None, "") for value in condition.values()):
        raise ValueError(f"the rule {r.key} needs {', '.join(r.fields)}")
    with transaction.atomic():
        removed = int(AccessAttempt.objects.filter(**condition).delete()[0])
        subject = " · ".join(str(v) for v in condition.values())
        security_event_record(
            by=by,
            user=User.objects.filter(username=username).first() if username else None,
            username=username or "",
            kind=SecurityEvent.Kind.UNLOCKED,
            detail=f"{r.key}: {subject}",
        )
    return removed


def unlock(*, by: User | None, username: str | None = None, address: str | None = None) -> int:
    """``kam unlock``: every failure of a user name (from anywhere), or of an address."""
    if bool(username) == bool(address):
        raise ValueError("give a user name or an address")
    key = "username" if username else "address"
    return lockout_release(by=by, rule_key=key, username=username, address=address)


def failures_forget(username: str) -> int:
    """A login completed (password and, where asked, the second factor): this user name's
    failures no longer count. Other names' failures from the same address still do."""
    return int(AccessAttempt.objects.filter(username=username).delete()[0])


def failure_record(request: HttpRequest, username: str) -> None:
    """Count a failure that was not a password (a wrong second-factor code) like one."""
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


def is_locked(request: HttpRequest, username: str) -> bool:
    return not AxesProxyHandler.is_allowed(request, {"username": username})


class LockoutHandler(AxesDatabaseHandler):  # type: ignore[misc]
    """Axes' database handler with a limit per rule (see the module's docstring)."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        username = get_client_username(request, credentials)
        counts = failure_counts(username, request.axes_ip_address, now=request.axes_attempt_time)
        base = int(settings.AXES_FAILURE_LIMIT)
        return max(counts.failures[r.key] * base // r.limit for r in rules())

    def reset_user_attempts(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> int:
        # Axes would also forget every other user name's failures from this address.
        username = get_client_username(request, credentials)
        return failures_forget(username) if username else 0


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:  # fmt: skip
    """The page a locked login gets: when to try again, and nothing about the user name."""
    username = get_client_username(request, credentials)
    lock = lockout_for(username, getattr(request, "axes_ip_address", None))
    return render(
        request, "core/locked_out.html", {"until": lock.until if lock else None}, status=429
    )
