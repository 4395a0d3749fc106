"""The key-account department's measures of planning (DOMAIN.md section 4): how many tier 1–2
accounts have a current, reviewed plan; how this year's objectives stand; the pipeline by
stage. Aggregated in SQL (counts and sums grouped), except the objectives' status, which is
computed from the facts by :func:`kam.planning.selectors.plan_rows` in a fixed number of
queries for any number of plans."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, Exists, ExpressionWrapper, F, OuterRef, Q, Sum
from django.db.models import Value as V

from kam.accounts.models import AccountStatus
from kam.accounts.selectors import account_list_for
from kam.core import access
from kam.core.models import Role, User

from . import selectors
from .models import CLOSED_STAGES, OPEN_STAGES, AccountPlan, PlanStatus, Stage

#: The tiers whose plan coverage the department measures.
KEY_TIERS = (1, 2)


def may_see(user: User) -> bool:
    """The department, directors and analysts."""
    return access.is_active_user(user) and user.role in (Role.DIRECTOR, Role.DEPARTMENT,
                                                         Role.ANALYST)  # fmt: skip


@dataclass
class Coverage:
    tier: int
    accounts: int
    planned: int  # with a plan of this year, in any status
    reviewed: int  # with a current, reviewed plan

    @property
    def share(self) -> float | None:
        return None if not self.accounts else round(100 * self.reviewed / self.accounts, 1)


def current_reviewed(today: datetime.date) -> Q:
    """A plan that is current and reviewed: this year's, signed off, not past its review."""
    return Q(year=today.year, status=PlanStatus.APPROVED, next_review_due__gte=today)


def plan_coverage(user: User, today: datetime.date) -> list[Coverage]:
    """Per key tier: the active accounts the user sees, those with a plan of this year (their
    own or their group's), and those whose plan is current and reviewed. One grouped query."""
    own = AccountPlan.objects.filter(account_id=OuterRef("pk"))
    group = AccountPlan.objects.filter(group_id=OuterRef("group_id"), group__isnull=False)
    reviewed = current_reviewed(today)
    rows = (
        account_list_for(user).filter(tier__in=KEY_TIERS, status=AccountStatus.ACTIVE)
        .order_by().values("tier")
        .annotate(n=Count("pk"),
                  planned=Count("pk", filter=Q(Exists(own.filter(year=today.year)))
                                | Q(Exists(group.filter(year=today.year)))),
                  reviewed=Count("pk", filter=Q(Exists(own.filter(reviewed)))
                                 | Q(Exists(group.filter(reviewed)))))
        .order_by("tier")
    )  # fmt: skip
    found = {r["tier"]: r for r in rows}
    return [Coverage(t, found.get(t, {}).get("n", 0), found.get(t, {}).get("planned", 0),
                     found.get(t, {}).get("reviewed", 0)) for t in KEY_TIERS]  # fmt: skip


@dataclass
class ObjectiveCounts:
    counts: dict[str, int] = field(default_factory=dict)
    plans: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def share(self, status: str) -> float | None:
        return None if not self.total else round(100 * self.counts.get(status, 0) / self.total, 1)


OBJECTIVE_STATES = ("on_track", "at_risk", "off_track", "no_data")


def objective_counts(user: User, today: datetime.date) -> ObjectiveCounts:
    """The objectives of this year's plans the user sees, by status (computed from data)."""
    plans = list(selectors.plan_list_for(user).filter(year=today.year))
    out = ObjectiveCounts(dict.fromkeys(OBJECTIVE_STATES, 0), len(plans))
    for row in selectors.plan_rows(plans, user, today=today):
        for view in row.objectives:
            out.counts[view.progress.status] += 1
    return out


def pipeline_by_stage(user: User, today: datetime.date) -> list[dict[str, Any]]:
    """Per stage: the count, estimated annual revenue and revenue × probability of the
    opportunities the user sees; open stages all, won and lost those closed this year."""
    weighted = ExpressionWrapper(F("annual_revenue") * F("probability") / V(100),
                                 output_field=DecimalField(max_digits=20, decimal_places=2))  # fmt: skip
    rows = (
        selectors.opportunity_list_for(user)
        .filter(Q(stage__in=OPEN_STAGES) | Q(stage__in=CLOSED_STAGES, closed_on__year=today.year))
        .order_by().values("stage")
        .annotate(n=Count("id"), revenue=Sum("annual_revenue"), weighted=Sum(weighted))
    )  # fmt: skip
    found = {r["stage"]: r for r in rows}
    out = []
    for stage in (*OPEN_STAGES, *CLOSED_STAGES):
        r = found.get(stage, {})
        out.append({"stage": stage, "label": Stage(stage).label, "open": stage in OPEN_STAGES,
                    "count": r.get("n", 0), "revenue": r.get("revenue") or Decimal(0),
                    "weighted": (r.get("weighted") or Decimal(0)).quantize(Decimal("0.01"))})  # fmt: skip
    return out


def open_totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    open_rows = [r for r in rows if r["open"]]
    return {"count": sum(r["count"] for r in open_rows),
            "revenue": sum((r["revenue"] for r in open_rows), Decimal(0)),
            "weighted": sum((r["weighted"] for r in open_rows), Decimal(0))}  # fmt: skip
