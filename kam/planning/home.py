"""The planning app's sections of the home page (工作台).

A manager sees their plans that need attention (red or amber, returned by the department,
or due for review); the key-account department and directors see the plans awaiting their
review and the signed-off plans whose next review is overdue. Everything is read through
this app's selectors, which start from the access gate."""

from django.http import HttpRequest
from django.utils import timezone

from kam.core import panels
from kam.core.home import ITEMS, section, total_of
from kam.core.models import Role, User

from . import selectors


def attention_section(request: HttpRequest, user: User) -> str | None:
    if user.role != Role.MANAGER:
        return None
    rows = selectors.plans_needing_attention(user)
    return section(
        request, "planning/home/attention.html", "plans-attention",
        rows=rows[:ITEMS], total=len(rows), today=timezone.localdate(), user_pk=user.pk,
    )  # fmt: skip


def reviews_section(request: HttpRequest, user: User) -> str | None:
    if not selectors.may_review(user):
        return None
    waiting = selectors.plans_awaiting_review(user)
    overdue = selectors.plans_review_overdue(user)
    items = list(waiting[:ITEMS])
    return section(
        request, "planning/home/reviews.html", "plans-reviews",
        items=items, total=total_of(waiting, items), overdue=overdue.count(),
    )  # fmt: skip


def register() -> None:
    panels.register("home", "planning.attention", attention_section, order=35)
    panels.register("home", "planning.reviews", reviews_section, order=35)
