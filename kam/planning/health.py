"""Account health (客户健康度): a 0–100 score per account, the weighted mean of seven parts
that directors weigh (:class:`HealthSettings`):

* **plan** — a current account plan, signed off and not overdue for review;
* **players** — the key players known: a decision maker (economic buyer), a coach, a
  technical or user buyer;
* **freshness** — the share of key contacts met (a visit report's attendee, or the
  contact's last-contacted date) within the coverage rules' N days;
* **satisfaction** — the latest survey's NPS (−100 → 0, +100 → 100);
* **value** — the trailing-12-month revenue against the 12 months before (the ledger's
  stored :class:`AccountRevenue`): −20 % or worse → 0, flat → 50, +20 % or better → 100;
* **service** — SLA breaches among the cases opened in the last 90 days (−25 each);
* **alerts** — open segmentation alerts (decline, silence, lost lane...; −30 each).

A part with no data (no survey answered, no revenue in either period) is left out and the
others' weights count for it. :func:`health_refresh` computes every account in batches
(a dozen queries per batch of :data:`BATCH` accounts, never a query per account or per
part), stores a :class:`HealthSnapshot` per account and day and the latest score in
:class:`AccountHealth` (the account list's sortable column), and raises an alert in the
existing inbox (``segmentation.Alert``, kind ``health``) when the score fell by the
directors' threshold or more since the previous snapshot."""

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kam.accounts.models import Account, BuyingRole
from kam.core.errors import PermissionDeniedError
from kam.core.models import User

from . import rules as coverage_rules
from . import selectors
from .models import (
    DEFAULT_HEALTH_WEIGHTS,
    HEALTH_PARTS,
    AccountHealth,
    AccountPlan,
    CoverageRules,
    HealthSettings,
    HealthSnapshot,
    PlanStatus,
)
from .stakeholders import AccountPeople, people_for

#: Accounts computed per batch (each batch reads its rows with a fixed number of queries).
BATCH = 1000
#: Cases opened this many days back count for the service part.
SERVICE_DAYS = 90


def part_labels() -> dict[str, str]:
    return {
        "plan": _("Plan current and reviewed"), "players": _("Key players known"),
        "freshness": _("Contact freshness"), "satisfaction": _("Satisfaction"),
        "value": _("Value trend"), "service": _("Service breaches"), "alerts": _("Open alerts"),
    }  # fmt: skip


def settings_get() -> HealthSettings:
    """The company's weights and threshold (the defaults, unsaved, until a director sets them)."""
    return HealthSettings.objects.order_by("pk").first() or HealthSettings()


@transaction.atomic
def settings_set(*, by: User | None, weights: dict[str, int], drop_alert: int) -> HealthSettings:
    """Set the weights (whole numbers 0–100, one per part, adding up to 100) and the drop
    that raises an alert (1–100 points). Refused with the field named; nothing changes."""
    if by is not None and not selectors.may_edit_policy(by):
        raise PermissionDeniedError(_("You may not do this."))
    errors: dict[str, str] = {}
    if set(weights) != set(HEALTH_PARTS):
        raise ValidationError({"weights": _("Give a weight for each part of the score.")})
    for part, value in weights.items():
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
            errors[f"w_{part}"] = _("A weight is a whole number from 0 to 100.")
    if not errors and sum(weights.values()) != 100:
        errors["__all__"] = _("The weights must add up to 100 (now %(sum)s).") % {
            "sum": sum(weights.values())}  # fmt: skip
    if (
        not isinstance(drop_alert, int)
        or isinstance(drop_alert, bool)
        or not 1 <= drop_alert <= 100
    ):
        errors["drop_alert"] = _("The alert threshold is a drop of 1 to 100 points.")
    if errors:
        raise ValidationError(errors)
    row = HealthSettings.objects.select_for_update().order_by("pk").first() or HealthSettings()
    for part, value in weights.items():
        setattr(row, f"w_{part}", value)
    row.drop_alert = drop_alert
    row._history_user = by  # simple-history's acting user
    row.full_clean()
    row.save()
    return row


# --- the parts ----------------------------------------------------------------------------------


def _clamp(value: float) -> int:
    return max(0, min(100, round(value)))


def plan_part(plan: dict[str, Any] | None, today: datetime.date) -> tuple[int, dict[str, Any]]:
    if plan is None:
        return 0, {"state": "none"}
    facts = {"year": plan["year"], "status": plan["status"],
             "next_review_due": plan["next_review_due"].isoformat()}  # fmt: skip
    if plan["status"] == PlanStatus.APPROVED:
        overdue = plan["next_review_due"] < today
        facts["state"] = "overdue" if overdue else "approved"
        return (60 if overdue else 100), facts
    if plan["status"] == PlanStatus.SUBMITTED:
        facts["state"] = "submitted"
        return 70, facts
    facts["state"] = "returned" if plan["status"] == PlanStatus.RETURNED else "draft"
    return 40, facts


def players_part(people: AccountPeople) -> tuple[int, dict[str, Any]]:
    roles = {p.role for p in people.people}
    facts = {
        "decision_maker": BuyingRole.ECONOMIC_BUYER in roles,
        "coach": BuyingRole.COACH in roles,
        "buyer": bool(roles & {BuyingRole.TECHNICAL_BUYER, BuyingRole.USER_BUYER}),
    }
    return 40 * facts["decision_maker"] + 30 * facts["coach"] + 30 * facts["buyer"], facts


def freshness_part(people: AccountPeople, *, days: int,
                   today: datetime.date) -> tuple[int, dict[str, Any]]:  # fmt: skip
    key = [p for p in people.people if p.key]
    fresh = [p for p in key if (d := p.days_since_met(today)) is not None and d <= days]
    facts = {"key": len(key), "fresh": len(fresh), "days": days}
    return (_clamp(100 * len(fresh) / len(key)) if key else 0), facts


def satisfaction_part(nps: float | None) -> tuple[int | None, dict[str, Any]]:
    if nps is None:
        return None, {}
    return _clamp((float(nps) + 100) / 2), {"nps": round(float(nps), 1)}


def value_part(revenue: Decimal | None, prev: Decimal | None) -> tuple[int | None, dict[str, Any]]:
    revenue, prev = revenue or Decimal(0), prev or Decimal(0)
    facts: dict[str, Any] = {"revenue": str(revenue), "revenue_prev": str(prev)}
    if prev <= 0:
        if revenue <= 0:
            return None, facts
        return 100, {**facts, "growth": None}
    growth = float((revenue - prev) / prev)
    facts["growth"] = round(100 * growth, 1)
    return _clamp(50 + 250 * growth), facts


def service_part(breaches: int) -> tuple[int, dict[str, Any]]:
    return _clamp(100 - 25 * breaches), {"breaches": breaches, "days": SERVICE_DAYS}


def alerts_part(alerts: int) -> tuple[int, dict[str, Any]]:
    return _clamp(100 - 30 * alerts), {"alerts": alerts}


def weighted(parts: dict[str, int | None], weights: dict[str, int]) -> int:
    """The weighted mean of the parts that have data (0 when none has weight)."""
    have = {p: s for p, s in parts.items() if s is not None}
    total = sum(weights[p] for p in have)
    if total <= 0:
        return 0
    return _clamp(sum(weights[p] * s for p, s in have.items()) / total)


# --- reading the facts of a batch of accounts ---------------------------------------------------


@dataclass
class Health:
    account_id: int
    score: int
    parts: dict[str, dict[str, Any]] = field(default_factory=dict)


def _current_plans(accounts: list[tuple[int, int | None, int | None]],
                   today: datetime.date) -> dict[int, dict[str, Any]]:  # fmt: skip
    """Each account's current plan: its own covering today (or of this year), else its
    group's. One query."""
    ids = [pk for pk, _tier, _group in accounts]
    groups = {group for _pk, _tier, group in accounts if group}
    current = Q(year=today.year) | Q(start__lte=today, end__gte=today)
    rows = (
        AccountPlan.objects.filter(current)
        .filter(Q(account_id__in=ids) | Q(group_id__in=groups))
        .order_by("year", "id")
        .values("account_id", "group_id", "year", "status", "next_review_due")
    )
    own: dict[int, dict[str, Any]] = {}
    by_group: dict[int, dict[str, Any]] = {}
    for row in rows:  # later years win
        if row["account_id"]:
            own[row["account_id"]] = row
        else:
            by_group[row["group_id"]] = row
    out = {}
    for pk, _tier, group in accounts:
        plan = own.get(pk) or (by_group.get(group) if group else None)
        if plan is not None:
            out[pk] = plan
    return out


def compute(accounts: list[tuple[int, int | None, int | None]], *, today: datetime.date,
            settings: HealthSettings, rules: CoverageRules,
            people: dict[int, AccountPeople] | None = None) -> dict[int, Health]:  # fmt: skip
    """The health of ``accounts`` ((id, tier, group id) each) on ``today``: a fixed number
    of queries for the batch. ``people``: their :func:`people_for` of ``today`` when the
    caller has read it already."""
    from kam.ledger import selectors as ledger  # noqa: PLC0415
    from kam.ledger.models import AccountRevenue  # noqa: PLC0415
    from kam.segmentation.models import Alert  # noqa: PLC0415
    from kam.service.models import Case  # noqa: PLC0415
    from kam.service.selectors import latest_nps  # noqa: PLC0415

    ids = [pk for pk, _tier, _group in accounts]
    if not ids:
        return {}
    plans = _current_plans(accounts, today)
    if people is None:
        people = people_for(ids, today=today, staff=False)
    scores = latest_nps(ids)
    period = ledger.trailing_period()
    revenue: dict[int, tuple[Decimal, Decimal]] = {}
    if period is not None:
        revenue = {
            pk: (rev, prev) for pk, rev, prev in AccountRevenue.objects.filter(
                account_id__in=ids, as_of=period[1]
            ).values_list("account_id", "revenue", "revenue_prev")
        }  # fmt: skip
    since = datetime.datetime.combine(
        today - datetime.timedelta(days=SERVICE_DAYS), datetime.time(), tzinfo=datetime.UTC
    )
    breach = Q(response_met=False) | Q(resolution_met=False) | Q(sla_state="violated")
    breaches = dict(
        Case.objects.filter(account_id__in=ids, opened_at__gte=since)
        .values("account_id").annotate(n=Count("id", filter=breach)).order_by()
        .values_list("account_id", "n")
    )  # fmt: skip
    alerts = dict(
        Alert.objects.filter(account_id__in=ids).exclude(status=Alert.Status.RESOLVED)
        .exclude(kind="health").values("account_id").annotate(n=Count("id")).order_by()
        .values_list("account_id", "n")
    )  # fmt: skip
    weights = settings.weights
    out: dict[int, Health] = {}
    for pk in ids:
        p = people[pk]
        rev = revenue.get(pk)
        computed: dict[str, tuple[int | None, dict[str, Any]]] = {
            "plan": plan_part(plans.get(pk), today),
            "players": players_part(p),
            "freshness": freshness_part(p, days=rules.stale_days, today=today),
            "satisfaction": satisfaction_part(scores[pk]["nps"] if pk in scores else None),
            "value": value_part(*(rev or (None, None))),
            "service": service_part(breaches.get(pk, 0)),
            "alerts": alerts_part(alerts.get(pk, 0)),
        }  # fmt: skip
        score = weighted({part: s for part, (s, _f) in computed.items()}, weights)
        out[pk] = Health(pk, score, {
            part: {"score": s, "weight": weights[part], "facts": facts}
            for part, (s, facts) in computed.items()
        })  # fmt: skip
    return out


def account_batches(
    account_ids: Iterable[int] | None,
) -> Iterable[list[tuple[int, int | None, int | None]]]:
    accounts = Account.objects.order_by("pk")
    if account_ids is not None:
        accounts = accounts.filter(pk__in=list(account_ids))
    last = 0
    while True:
        batch = list(accounts.filter(pk__gt=last).values_list("pk", "tier", "group_id")[:BATCH])
        if not batch:
            return
        yield batch
        last = batch[-1][0]


@dataclass
class RefreshResult:
    accounts: int = 0
    alerts: int = 0
    day: datetime.date | None = None


def health_refresh(*, today: datetime.date, account_ids: Iterable[int] | None = None,
                   dry_run: bool = False,
                   progress: Callable[[int], None] | None = None) -> RefreshResult:  # fmt: skip
    """Compute and store the health of every account (or of ``account_ids``) on ``today``:
    one snapshot per account and day (a second run the same day replaces it), the latest
    score for the account list, and a ``health`` alert where the score fell by the
    threshold or more since the account's previous snapshot (one unresolved alert per
    account: a fall while one is open adds none). Idempotent; each batch commits alone."""
    from kam.segmentation.models import Alert  # noqa: PLC0415

    settings, rules = settings_get(), coverage_rules.rules_get()
    result = RefreshResult(day=today)
    for batch in account_batches(account_ids):
        healths = compute(batch, today=today, settings=settings, rules=rules)
        result.accounts += len(healths)
        if dry_run:
            continue
        ids = list(healths)
        with transaction.atomic():
            previous = dict(
                Account.objects.filter(pk__in=ids).annotate(prev=Subquery(
                    HealthSnapshot.objects.filter(account_id=OuterRef("pk"), day__lt=today)
                    .order_by("-day").values("score")[:1]
                )).filter(prev__isnull=False).values_list("pk", "prev")
            )  # fmt: skip
            previous_day = dict(
                Account.objects.filter(pk__in=list(previous)).annotate(d=Subquery(
                    HealthSnapshot.objects.filter(account_id=OuterRef("pk"), day__lt=today)
                    .order_by("-day").values("day")[:1]
                )).values_list("pk", "d")
            ) if previous else {}  # fmt: skip
            HealthSnapshot.objects.filter(account_id__in=ids, day=today).delete()
            HealthSnapshot.objects.bulk_create(
                HealthSnapshot(account_id=h.account_id, day=today, score=h.score, parts=h.parts)
                for h in healths.values()
            )
            AccountHealth.objects.bulk_create(
                [AccountHealth(account_id=h.account_id, day=today, score=h.score)
                 for h in healths.values()],
                update_conflicts=True, unique_fields=["account"], update_fields=["day", "score"],
            )  # fmt: skip
            open_already = set(
                Alert.objects.filter(kind="health", account_id__in=ids)
                .exclude(status=Alert.Status.RESOLVED).values_list("account_id", flat=True)
            )  # fmt: skip
            raised = [
                Alert(kind="health", account_id=pk, params={
                    "from": previous[pk], "to": h.score, "drop": previous[pk] - h.score,
                    "since": previous_day[pk].isoformat(), "day": today.isoformat()})
                for pk, h in healths.items()
                if pk in previous and previous[pk] - h.score >= settings.drop_alert
                and pk not in open_already
            ]  # fmt: skip
            Alert.objects.bulk_create(raised)
            result.alerts += len(raised)
        if progress is not None:
            progress(result.accounts)
    return result


# --- reading one account's health (the pages and the API) ---------------------------------------


@dataclass
class PartView:
    key: str
    label: str
    score: int | None
    weight: int
    text: str
    todo: str


@dataclass
class HealthView:
    score: int
    day: datetime.date | None  # None: computed now, not stored yet
    parts: list[PartView]
    history: list[tuple[datetime.date, int]]

    @property
    def band(self) -> str:
        return "good" if self.score >= 70 else "fair" if self.score >= 40 else "poor"


def explain(part: str, score: int | None, facts: dict[str, Any]) -> tuple[str, str]:
    """What a part's score rests on, and what to do about it ("" when nothing), in the
    active language."""
    if part == "plan":
        state = facts.get("state")
        if state == "none":
            return _("No current account plan."), _("Write this year's account plan.")
        if state == "approved":
            return _("Plan %(year)s signed off; next review due %(due)s.") % {
                "year": facts["year"], "due": facts["next_review_due"]}, ""  # fmt: skip
        if state == "overdue":
            return _("Plan %(year)s signed off, but its review was due %(due)s.") % {
                "year": facts["year"], "due": facts["next_review_due"]}, _(
                "Submit the plan for its review.")  # fmt: skip
        if state == "submitted":
            return _("Plan %(year)s awaits the department's review.") % {"year": facts["year"]}, ""
        if state == "returned":
            return _("Plan %(year)s was returned by the department.") % {"year": facts["year"]}, _(
                "Make the changes the review asks for and submit the plan again."
            )  # fmt: skip
        return _("Plan %(year)s not signed off yet.") % {"year": facts["year"]}, _(
            "Complete the plan and submit it for review.")  # fmt: skip
    if part == "players":
        missing = [label for key, label in (
            ("decision_maker", _("decision maker")), ("coach", _("coach")),
            ("buyer", _("technical or user buyer"))) if not facts.get(key)]  # fmt: skip
        if not missing:
            return _("Decision maker, coach and buyers known."), ""
        return _("Not known: %(missing)s.") % {"missing": ", ".join(missing)}, _(
            "Find and record the missing buying roles on the account's contacts.")  # fmt: skip
    if part == "freshness":
        if not facts.get("key"):
            return _("No key contact recorded."), _(
                "Record the account's decision maker and coach.")  # fmt: skip
        text = _("%(fresh)s of %(key)s key contacts met in the last %(days)s days.") % facts
        return text, "" if facts["fresh"] == facts["key"] else _(
            "Visit the key contacts not met lately.")  # fmt: skip
    if part == "satisfaction":
        if score is None:
            return _("No survey answered yet (left out of the score)."), _(
                "Send the account a satisfaction survey.")  # fmt: skip
        return _("Latest NPS %(nps)s.") % facts, "" if score >= 50 else _(
            "Follow up the detractors' answers.")  # fmt: skip
    if part == "value":
        if score is None:
            return _("No revenue in the last 24 months (left out of the score)."), ""
        if facts.get("growth") is None:
            return _("New revenue this year (none the year before)."), ""
        text = _("Revenue over 12 months %(growth)s %% against the 12 before.") % {
            "growth": f"{facts['growth']:+.1f}"}  # fmt: skip
        return text, "" if facts["growth"] >= 0 else _(
            "Find out why the account ships less, and plan to win it back.")  # fmt: skip
    if part == "service":
        if not facts.get("breaches"):
            return _("No SLA breach in the last %(days)s days.") % facts, ""
        return ngettext(
            "%(breaches)s SLA breach in the last %(days)s days.",
            "%(breaches)s SLA breaches in the last %(days)s days.",
            facts["breaches"],
        ) % facts, _(
            "Review the breached cases with the service team.")  # fmt: skip
    if part == "alerts":
        if not facts.get("alerts"):
            return _("No open alert."), ""
        return ngettext(
            "%(alerts)s open alert.", "%(alerts)s open alerts.", facts["alerts"]
        ) % facts, _("Work through the account's alerts.")
    return "", ""


def _view(parts: dict[str, dict[str, Any]], score: int, day: datetime.date | None,
          history: list[tuple[datetime.date, int]]) -> HealthView:  # fmt: skip
    labels = part_labels()
    views = []
    for part in HEALTH_PARTS:
        data = parts.get(part, {})
        text, todo = explain(part, data.get("score"), data.get("facts", {}))
        views.append(PartView(part, labels[part], data.get("score"),
                              data.get("weight", DEFAULT_HEALTH_WEIGHTS[part]), text, todo))  # fmt: skip
    return HealthView(score, day, views, history)


def account_health(
    account: Account,
    *,
    today: datetime.date,
    history_days: int = 400,
    people: dict[int, AccountPeople] | None = None,
    rules: CoverageRules | None = None,
) -> HealthView:
    """One account's health: the latest snapshot with its parts (computed now when none is
    stored yet) and the snapshots of the last ``history_days``, oldest first. ``account``
    is one the caller has already fetched through the user's access rules; ``people`` (its
    :func:`people_for` of ``today``) and ``rules``, when the caller has read them already."""
    snapshots = list(
        HealthSnapshot.objects.filter(
            account=account, day__gte=today - datetime.timedelta(days=history_days)
        ).order_by("day").values_list("day", "score", "parts")
    )  # fmt: skip
    history = [(day, score) for day, score, _parts in snapshots]
    if snapshots:
        day, score, parts = snapshots[-1]
        return _view(parts, score, day, history)
    now = compute([(account.pk, account.tier, account.group_id)], today=today,
                  settings=settings_get(),
                  rules=coverage_rules.rules_get() if rules is None else rules,
                  people=people)[account.pk]  # fmt: skip
    return _view(now.parts, now.score, None, history)


def with_health_score(accounts: QuerySet[Account]) -> QuerySet[Account]:
    """``health_score`` on each account: its latest stored score (None before the first
    run), one join on the stored :class:`AccountHealth`; the account list sorts by it."""
    return accounts.annotate(health_score=F("health_figure__score"))


def scores_of(account_ids: list[int]) -> dict[int, int]:
    """The latest stored score of each account (one query)."""
    return dict(
        AccountHealth.objects.filter(account_id__in=account_ids).values_list("account_id", "score")
    )


def history_by_account(
    account_ids: list[int], since: datetime.date
) -> dict[int, list[tuple[datetime.date, int]]]:
    out: dict[int, list[tuple[datetime.date, int]]] = defaultdict(list)
    for pk, day, score in (
        HealthSnapshot.objects.filter(account_id__in=account_ids, day__gte=since)
        .order_by("account_id", "day")
        .values_list("account_id", "day", "score")
    ):
        out[pk].append((day, score))
    return out
