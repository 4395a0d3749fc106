"""Reads of cases, measures and survey results, filtered by who is asking."""

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import numpy as np
from django.db.models import Count, Prefetch, Q, QuerySet

from kam.accounts.models import Account, TeamMembership, TeamRole
from kam.accounts.selectors import (
    account_scope_q,
    contact_list_for,
    in_account_scope,
)
from kam.core import access
from kam.core.models import User

from .models import OPEN_STATUSES, Campaign, Case, CaseType, Invitation, Response, Status


def case_list_for(user: User) -> QuerySet[Case]:
    """Cases of the accounts the user may see (analysts too: figures, read-only)."""
    if not access.is_active_user(user):
        return Case.objects.none()
    return (
        in_account_scope(Case.objects.all(), user)
        .select_related("account", "assignee", "root_cause", "policy")
        .prefetch_related("pauses")
    )


def case_get_for(user: User, pk: int) -> Case:
    return case_list_for(user).get(pk=pk)


def with_contacts_for(user: User, cases: QuerySet[Case]) -> QuerySet[Case]:
    """``case.contacts.all()`` holds only the contacts the user may see (analysts see
    cases but no contacts at all)."""
    return cases.prefetch_related(Prefetch("contacts", queryset=contact_list_for(user)))


def queue_for(user: User, *, scope: str = "mine") -> QuerySet[Case]:
    """Open cases: the user's own (``mine``) or every visible one (``all``), least time
    left first (cases whose clock stands still last)."""
    cases = case_list_for(user).filter(status__in=OPEN_STATUSES)
    if scope == "mine":
        cases = cases.filter(assignee=user)
    return cases


def accounts_with_open_complaints() -> set[int]:
    """Accounts with at least one open complaint (the visit planner brings them forward)."""
    return set(
        Case.objects.filter(kind=CaseType.COMPLAINT, status__in=OPEN_STATUSES)
        .values_list("account_id", flat=True)
        .distinct()
    )


# --- measures --------------------------------------------------------------------------------


def _stats(values: list[int]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "p90": None}
    arr = np.asarray(values, dtype=float)
    return {"median": float(np.median(arr)), "p90": float(np.percentile(arr, 90))}


def _rate(flags: list[bool]) -> float | None:
    return round(100 * sum(flags) / len(flags), 1) if flags else None


#: The dashboard lists this many accounts with repeat complaints (and says how many there are).
REPEAT_SHOWN = 20
#: Survey results list this many accounts, lowest average first (and say how many there are).
RESULTS_ACCOUNTS_SHOWN = 50


def measures(cases: QuerySet[Case], *, since: datetime.datetime | None = None) -> dict[str, Any]:
    """First-response and resolution times (median, 90th percentile, in clock minutes),
    SLA attainment overall and by tier, type, root cause and assignee, and repeat
    complaints per account."""
    if since is not None:
        cases = cases.filter(opened_at__gte=since)
    rows = list(cases.values(
        "pk", "kind", "account_id", "account__name", "account__tier", "root_cause__name_zh",
        "root_cause__name_en", "assignee__display_name", "assignee__username",
        "response_minutes", "resolution_minutes", "response_met", "resolution_met", "status",
    ))  # fmt: skip
    response = [r["response_minutes"] for r in rows if r["response_minutes"] is not None]
    resolution = [r["resolution_minutes"] for r in rows if r["resolution_minutes"] is not None]
    from django.utils.translation import get_language

    english = (get_language() or "").startswith("en")
    kinds = dict(CaseType.choices)

    def group(key: Callable[[dict[str, Any]], Any]) -> list[dict[str, Any]]:
        out: dict[Any, dict[str, list[bool]]] = defaultdict(
            lambda: {"resp": [], "res": [], "n": []}
        )
        for r in rows:
            g = out[key(r)]
            g["n"].append(True)
            if r["response_met"] is not None:
                g["resp"].append(r["response_met"])
            if r["resolution_met"] is not None:
                g["res"].append(r["resolution_met"])
        return sorted(
            ({"label": str(k) if k is not None else "—", "cases": len(v["n"]),
              "response": _rate(v["resp"]), "resolution": _rate(v["res"])}
             for k, v in out.items()),
            key=lambda x: (-x["cases"], x["label"]),
        )  # fmt: skip

    complaints: dict[int, dict[str, Any]] = {}
    for r in rows:
        if r["kind"] == CaseType.COMPLAINT:
            item = complaints.setdefault(r["account_id"], {"account_id": r["account_id"],
                                         "name": r["account__name"], "count": 0})  # fmt: skip
            item["count"] += 1
    repeat = sorted((c for c in complaints.values() if c["count"] >= 2), key=lambda c: -c["count"])
    return {
        "cases": len(rows),
        "open": sum(1 for r in rows if r["status"] in OPEN_STATUSES),
        "response": _stats(response),
        "resolution": _stats(resolution),
        "response_attainment": _rate(
            [r["response_met"] for r in rows if r["response_met"] is not None]
        ),
        "resolution_attainment": _rate(
            [r["resolution_met"] for r in rows if r["resolution_met"] is not None]
        ),  # fmt: skip
        # Tiers in their own order (1, 2, 3 ...; no tier last), not by how many cases.
        "by_tier": sorted(
            group(lambda r: f"{r['account__tier']}" if r["account__tier"] else None),
            key=lambda g: (g["label"] == "—", int(g["label"]) if g["label"].isdigit() else 0),
        ),
        "by_type": group(lambda r: kinds.get(r["kind"], r["kind"])),
        "by_root_cause": group(
            lambda r: r["root_cause__name_en"] if english else r["root_cause__name_zh"]
        ),  # fmt: skip
        "by_assignee": group(lambda r: r["assignee__display_name"] or r["assignee__username"]),
        "repeat_complaints": repeat[:REPEAT_SHOWN],
        "repeat_complaints_total": len(repeat),
    }


# --- survey results --------------------------------------------------------------------------


def campaign_list_for(user: User) -> QuerySet[Campaign]:
    if not access.is_active_user(user) or not access.sees_customer_data(user):
        return Campaign.objects.none()
    return Campaign.objects.select_related("template", "created_by")


def campaign_rows_for(user: User) -> QuerySet[Campaign]:
    """The campaigns list: how many invitations went out and were answered, counting only
    the accounts the user sees (a campaign covers every account of its tiers)."""
    answered = Q(invitations__answered_at__isnull=False)
    visible = None
    if not access.sees_all_accounts(user):
        visible = account_scope_q(user, "invitations__account")
        answered &= visible
    return campaign_list_for(user).annotate(
        invited=Count("invitations", filter=visible, distinct=True),
        answered=Count("invitations", filter=answered, distinct=True),
    )


def campaign_invitations_for(user: User, campaign: Campaign) -> QuerySet[Invitation]:
    """A campaign's invitations to the accounts the user sees."""
    return in_account_scope(Invitation.objects.filter(campaign=campaign), user).select_related(
        "account", "contact"
    )


def nps(scores: Iterable[int]) -> float | None:
    """Net promoter score: % promoters (9-10) minus % detractors (0-6)."""
    values = list(scores)
    if not values:
        return None
    promoters = sum(1 for s in values if s >= 9)
    detractors = sum(1 for s in values if s <= 6)
    return round(100 * (promoters - detractors) / len(values), 1)


def _avg(values: list[Decimal]) -> float | None:
    return round(float(sum(values) / len(values)), 2) if values else None


def survey_results(user: User, *, campaign: Campaign | None = None) -> dict[str, Any]:
    """Answers on visible accounts: per account, tier, industry and owner, and the trend
    over campaigns (average rating and NPS per campaign)."""
    responses = in_account_scope(Response.objects.all(), user)
    if campaign is not None:
        responses = responses.filter(campaign=campaign)
    rows = list(responses.values("account_id", "account__name", "account__tier",
                                 "account__industry__name_zh", "account__industry__name_en",
                                 "campaign_id", "campaign__name", "campaign__sent_at",
                                 "average", "nps"))  # fmt: skip
    owners = {
        m.account_id: str(m.user)
        for m in TeamMembership.objects.filter(
            account_id__in={r["account_id"] for r in rows}, role=TeamRole.OWNER
        ).select_related("user")
    }
    from django.utils.translation import get_language

    english = (get_language() or "").startswith("en")

    def group(key: Callable[[dict[str, Any]], Any]) -> list[dict[str, Any]]:
        out: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            out[key(r)].append(r)
        return sorted(
            ({"label": str(k) if k is not None else "—", "answers": len(v),
              "average": _avg([r["average"] for r in v if r["average"] is not None]),
              "nps": nps(r["nps"] for r in v if r["nps"] is not None)} for k, v in out.items()),
            key=lambda x: (x["average"] if x["average"] is not None else 9, x["label"]),
        )  # fmt: skip

    trend_groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        trend_groups[r["campaign_id"]].append(r)
    trend = sorted(
        ({"campaign": v[0]["campaign__name"], "sent_at": v[0]["campaign__sent_at"],
          "answers": len(v), "average": _avg([r["average"] for r in v if r["average"] is not None]),
          "nps": nps(r["nps"] for r in v if r["nps"] is not None)} for v in trend_groups.values()),
        key=lambda x: x["sent_at"] or datetime.datetime.min.replace(tzinfo=datetime.UTC),
    )  # fmt: skip
    return {
        "answers": len(rows),
        "average": _avg([r["average"] for r in rows if r["average"] is not None]),
        "nps": nps(r["nps"] for r in rows if r["nps"] is not None),
        "by_account": group(lambda r: r["account__name"])[:RESULTS_ACCOUNTS_SHOWN],
        "accounts_total": len({r["account_id"] for r in rows}),
        "by_tier": group(lambda r: r["account__tier"]),
        "by_industry": group(
            lambda r: (
                r["account__industry__name_en"] if english else r["account__industry__name_zh"]
            )
        ),  # fmt: skip
        "by_owner": group(lambda r: owners.get(r["account_id"])),
        "trend": trend,
    }


#: The account page's panel lists this many open cases; the rest are a link to the queue.
PANEL_OPEN_SHOWN = 10


def account_figures(account: Account) -> dict[str, Any]:
    """The account page's panel: its cases, SLA figures and survey scores."""
    cases = Case.objects.filter(account=account).select_related("assignee", "root_cause")
    responses = list(Response.objects.filter(account=account).values("average", "nps",
                                                                       "submitted_at"))  # fmt: skip
    figures = measures(cases)
    # The measures read every case's status: how many are open (no COUNT of its own) and
    # whether the lists below have rows at all (a case is open, resolved or closed).
    open_cases = cases.filter(status__in=OPEN_STATUSES)
    closed = [Status.RESOLVED, Status.CLOSED]
    return {
        "open_cases": list(
            open_cases.order_by("resolution_due").prefetch_related("pauses")[:PANEL_OPEN_SHOWN]
        )
        if figures["open"]
        else [],
        "open_total": figures["open"],
        "recent_closed": list(cases.filter(status__in=closed)[:5])
        if figures["cases"] > figures["open"]
        else [],
        "measures": figures,
        "survey_answers": len(responses),
        "survey_average": _avg([r["average"] for r in responses if r["average"] is not None]),
        "survey_nps": nps(r["nps"] for r in responses if r["nps"] is not None),
    }


def assignable_users(account: Account | None = None) -> QuerySet[User]:
    """People a case can go to: active directors, department, managers and service reps
    (on the account's team for the latter two)."""
    users = User.objects.filter(is_active=True, role__in=["director", "department", "manager",
                                                           "service"])  # fmt: skip
    if account is not None:
        users = users.filter(
            Q(role__in=["director", "department"]) | Q(account_memberships__account=account)
        )
    return users.distinct().order_by("display_name", "username")


def latest_nps(account_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Each account's NPS in the latest survey campaign it answered: ``{account: {"nps",
    "answers", "at"}}`` (accounts that never answered are absent). One query."""
    rows = (
        Response.objects.filter(account_id__in=list(account_ids))
        .values("account_id", "campaign_id", "nps", "submitted_at")
        .order_by("account_id", "-submitted_at")
    )
    latest: dict[int, tuple[int, Any, list[int]]] = {}
    for r in rows:
        campaign, at, scores = latest.setdefault(
            r["account_id"], (r["campaign_id"], r["submitted_at"], [])
        )
        if r["campaign_id"] == campaign and r["nps"] is not None:
            scores.append(r["nps"])
    return {
        account: {"nps": nps(scores), "answers": len(scores), "at": at}
        for account, (_campaign, at, scores) in latest.items()
        if scores
    }


def sla_figures(
    user: User, accounts: QuerySet[Account], *, since: datetime.datetime
) -> dict[str, int]:
    """Open cases of ``accounts`` now and SLA breaches among the cases opened since
    ``since`` (a response or resolution target missed, or an open case past its due time)."""
    cases = case_list_for(user).filter(account__in=accounts)
    return cases.aggregate(
        open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
        breaches=Count(
            "id",
            filter=Q(opened_at__gte=since)
            & (Q(response_met=False) | Q(resolution_met=False) | Q(sla_state="violated")),
        ),
    )
