"""The service app's sections of the home page (工作台).

A service representative sees their own queue, most urgent clock first; an account
manager the open cases of their accounts near or past their SLA; the key-account
department and directors the open cases past their SLA. Cases come from
:func:`kam.service.selectors.case_list_for` (the access gate), a fixed number of queries
whatever the number of cases."""

import datetime

from django.db.models import Case as When_
from django.db.models import F, Q, QuerySet, When
from django.http import HttpRequest
from django.utils import timezone

from kam.core import access
from kam.core.home import ITEMS, section, total_of
from kam.core.models import Role, User

from . import selectors
from .models import OPEN_STATUSES, Case

#: A case whose running clock falls due within this time is "near" its SLA.
NEAR = datetime.timedelta(hours=24)


def _by_urgency(cases: QuerySet[Case]) -> QuerySet[Case]:
    """The running clock's due time first (as the queue sorts): first response until the
    case is acknowledged, then resolution; clocks that stand still come last."""
    return cases.annotate(
        due_at=When_(
            When(acknowledged_at__isnull=True, response_due__isnull=False, then=F("response_due")),
            default=F("resolution_due"),
        )
    ).order_by(F("due_at").asc(nulls_last=True), "opened_at", "id")


def _rows(cases: QuerySet[Case]) -> list[Case]:
    from .views import _decorate  # the queue's "time left" and row colour

    rows = list(cases[:ITEMS])
    _decorate(rows, timezone.now())
    return rows


def my_queue_section(request: HttpRequest, user: User) -> str | None:
    if user.role != Role.SERVICE:
        return None
    cases = _by_urgency(selectors.queue_for(user, scope="mine"))
    rows = _rows(cases)
    return section(
        request, "service/home/queue.html", "my-queue",
        rows=rows, total=total_of(cases, rows),
        breached=cases.filter(Q(sla_state="violated") | Q(due_at__lt=timezone.now())).count(),
    )  # fmt: skip


def near_sla_section(request: HttpRequest, user: User) -> str | None:
    """Open cases of the user's accounts near or past their SLA: a manager's, and for a
    service representative those of their accounts that others work on (their own are
    in "My queue")."""
    if user.role not in (Role.MANAGER, Role.SERVICE):
        return None
    now = timezone.now()
    cases = _by_urgency(selectors.case_list_for(user).filter(status__in=OPEN_STATUSES)).filter(
        Q(sla_state__in=["warning", "violated"]) | Q(due_at__lte=now + NEAR)
    )
    if user.role == Role.SERVICE:
        cases = cases.exclude(assignee=user)
    rows = _rows(cases)
    return section(
        request, "service/home/near_sla.html", "cases-near-sla",
        rows=rows, total=total_of(cases, rows), hours=int(NEAR.total_seconds() // 3600),
    )  # fmt: skip


def breaches_section(request: HttpRequest, user: User) -> str | None:
    """Open cases past their SLA, for the department and directors."""
    if user.role not in (Role.DEPARTMENT, Role.DIRECTOR) or not access.is_active_user(user):
        return None
    cases = _by_urgency(selectors.case_list_for(user).filter(status__in=OPEN_STATUSES)).filter(
        Q(sla_state="violated") | Q(due_at__lt=timezone.now())
    )
    rows = _rows(cases)
    return section(
        request, "service/home/breaches.html", "sla-breaches",
        rows=rows, total=total_of(cases, rows),
    )  # fmt: skip


def register() -> None:
    from kam.core import panels

    panels.register("home", "service.my_queue", my_queue_section, order=10)
    panels.register("home", "service.near_sla", near_sla_section, order=30)
    panels.register("home", "service.breaches", breaches_section, order=40)
