"""The coverage app's sections of the home page (工作台).

A manager sees the visits of today and this week (the report to file), visits whose day
passed without a report (missed), and their follow-ups overdue or due soon. The key-account
department and directors see the reports waiting for review, overdue follow-ups by person
and this month's coverage so far. Everything is read through this app's selectors, which
start from the access gate."""

import datetime

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone

from kam.core.home import ITEMS, section, total_of
from kam.core.models import Role, User

from . import selectors
from .models import FollowUp, Visit, VisitReport

#: Follow-ups due within this many days count as "due" (overdue ones come first).
DUE_SOON_DAYS = 7
#: A visit whose day passed without a report is listed as missed for this many days.
MISSED_WINDOW_DAYS = 60


def visits_section(request: HttpRequest, user: User) -> str | None:
    """Today's and this week's visits, and missed ones, of the signed-in manager."""
    if user.role != Role.MANAGER:
        return None
    today = timezone.localdate()
    week_end = today + datetime.timedelta(days=6 - today.weekday())
    planned = selectors.visits_for(user).filter(
        person=user, status=Visit.Status.PLANNED, report__isnull=True
    )
    week = list(planned.filter(day__gte=today, day__lte=week_end).order_by("day", "id")[:20])
    # Missed: marked so, or planned on a day that passed without a report (coverage's rule).
    missed_rows = selectors.missed_visits_for(user, today=today).filter(
        person=user, day__gte=today - datetime.timedelta(days=MISSED_WINDOW_DAYS)
    )
    missed_count = missed_rows.count()
    missed = list(missed_rows[:ITEMS])
    return section(
        request, "coverage/home/visits.html", "visits",
        today=today, week_end=week_end, week=week, today_count=sum(v.day == today for v in week),
        missed=missed, missed_count=missed_count, window=MISSED_WINDOW_DAYS,
    )  # fmt: skip


def follow_ups_section(request: HttpRequest, user: User) -> str | None:
    """The manager's open follow-ups that are overdue or due within a week."""
    if user.role != Role.MANAGER:
        return None
    today = timezone.localdate()
    rows = selectors.follow_ups_for(user).filter(
        owner=user,
        status__in=FollowUp.OPEN_STATUSES,
        due_date__lte=today + datetime.timedelta(days=DUE_SOON_DAYS),
    )
    counts = rows.aggregate(total=Count("id"), overdue=Count("id", filter=Q(due_date__lt=today)))
    # The first keys, then their rows with the joins (not every row joined, then sorted).
    ids = list(rows.order_by("due_date", "id").values_list("pk", flat=True)[:ITEMS])
    shown = rows.in_bulk(ids)
    items = [shown[pk] for pk in ids]
    return section(
        request, "coverage/home/follow_ups.html", "follow-ups",
        today=today, items=items, total=counts["total"], overdue=counts["overdue"],
        days=DUE_SOON_DAYS,
    )  # fmt: skip


def reviews_section(request: HttpRequest, user: User) -> str | None:
    """Visit reports waiting for the department's review, oldest first."""
    if not selectors.may_see_queue(user):
        return None
    rows = selectors.reports_for(user).filter(status=VisitReport.Status.SUBMITTED)
    items = list(rows.order_by("submitted_at", "id")[:ITEMS])
    return section(
        request, "coverage/home/reviews.html", "reviews",
        total=total_of(rows, items), items=items,
    )  # fmt: skip


def overdue_by_person_section(request: HttpRequest, user: User) -> str | None:
    """Overdue follow-ups per owner (one grouped query), most first."""
    if not selectors.may_see_queue(user):
        return None
    today = timezone.localdate()
    rows = selectors.follow_ups_for(user).filter(
        status__in=FollowUp.OPEN_STATUSES, due_date__lt=today
    )
    people = list(
        rows.values("owner_id", "owner__display_name", "owner__username")
        .annotate(n=Count("id"))
        .order_by("-n", "owner__username")[:ITEMS]
    )
    return section(
        request, "coverage/home/overdue_by_person.html", "overdue-by-person",
        people=people, total=rows.count(),
    )  # fmt: skip


def compliance_section(request: HttpRequest, user: User) -> str | None:
    """This month so far: visits whose day has come, and how many of them were made."""
    if not selectors.may_see_queue(user):
        return None
    today = timezone.localdate()
    start = today.replace(day=1)
    prev_start = (start - datetime.timedelta(days=1)).replace(day=1)
    this_month = Q(day__gte=start)
    counts = (
        selectors.visits_for(user)
        .filter(day__gte=prev_start, day__lte=today)
        .exclude(status=Visit.Status.CANCELLED)
        .aggregate(
            due=Count("id", filter=this_month),
            done=Count("id", filter=this_month & Q(status=Visit.Status.DONE)),
            later=Count("id", filter=Q(day=today) & ~Q(status=Visit.Status.DONE)),
            prev_due=Count("id", filter=~this_month),
            prev_done=Count("id", filter=~this_month & Q(status=Visit.Status.DONE)),
        )
    )
    # Today's visits not yet reported are not missed yet: they count once done.
    due = counts["due"] - counts["later"]
    rate = round(100 * counts["done"] / due, 1) if due else None
    prev_due = counts["prev_due"]
    prev_rate = round(100 * counts["prev_done"] / prev_due, 1) if prev_due else None
    return section(
        request, "coverage/home/compliance.html", "compliance",
        start=start, today=today, done=counts["done"], due=due, rate=rate,
        missed=due - counts["done"] if due else 0,
        prev_start=prev_start, prev_rate=prev_rate, prev_done=counts["prev_done"],
        prev_due=prev_due,
    )  # fmt: skip


def register() -> None:
    from kam.core import panels

    panels.register("home", "coverage.visits", visits_section, order=10)
    panels.register("home", "coverage.follow_ups", follow_ups_section, order=20)
    panels.register("home", "coverage.reviews", reviews_section, order=10)
    panels.register("home", "coverage.overdue_by_person", overdue_by_person_section, order=30)
    panels.register("home", "coverage.compliance", compliance_section, order=50)
