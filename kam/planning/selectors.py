"""Every read of the planning app. Plans are reached through the accounts the user may see
(:func:`kam.accounts.selectors.account_list_for`, the one gate); figures come from the
ledger's facts and the other apps' selectors at view time, never retyped.

Reading many plans costs a fixed number of queries (objectives, actions, the facts of all
their billing codes grouped by code, survey scores), not a query per plan."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.utils import timezone

from kam.accounts.models import Account, BillingCode, CorporateGroup
from kam.accounts.selectors import (
    account_list_for,
    account_scope_q,
    account_visible,
    group_list_for,
)
from kam.core import access
from kam.core.models import Role, User
from kam.ledger import selectors as ledger
from kam.ledger.models import AccountMonth

from . import progress as maths
from .models import (
    DEFAULT_REVIEW_DAYS,
    OPEN_STAGES,
    AccountPlan,
    Action,
    Metric,
    Objective,
    Opportunity,
    PlanItem,
    PlanStatus,
    ReviewPolicy,
    Solution,
)

PRODUCTS = ("express", "standard", "ground", "cold", "international")

# --- who may do what ---------------------------------------------------------------------------


def sees_plans(user: User) -> bool:
    return access.is_active_user(user) and access.sees_customer_data(user)


def may_review(user: User) -> bool:
    """The key-account department (and directors) sign plans off or return them."""
    return access.is_active_user(user) and user.role in (Role.DIRECTOR, Role.DEPARTMENT)


def may_edit_policy(user: User) -> bool:
    return access.is_active_user(user) and user.role == Role.DIRECTOR


def may_create_for(user: User, account: Account | None = None) -> bool:
    """Managers plan the accounts whose team they are on; the department and directors any."""
    if not access.is_active_user(user) or user.role not in (
        Role.DIRECTOR, Role.DEPARTMENT, Role.MANAGER
    ):  # fmt: skip
        return False
    if user.role != Role.MANAGER:
        return True
    if account is None:  # a group plan covers other teams' accounts too
        return False
    return account_visible(user, account)


def may_edit(user: User, plan: AccountPlan) -> bool:
    """The department and directors; a manager who owns the plan, is on its team, or is on
    the team of its account. Analysts and service reps read."""
    if not access.is_active_user(user):
        return False
    if user.role in (Role.DIRECTOR, Role.DEPARTMENT):
        return True
    if user.role != Role.MANAGER:
        return False
    if plan.owner_id == user.pk or plan.team.filter(pk=user.pk).exists():
        return True
    return plan.account_id is not None and account_visible(user, plan.account_id)


# --- plans -------------------------------------------------------------------------------------


def plan_list_for(user: User) -> QuerySet[AccountPlan]:
    """Plans of the accounts ``user`` sees; group plans for those who see every account
    (a group plan adds up accounts of several teams; on PostgreSQL the row-level policy
    of plans, through their account, shows a manager none either). Foreign plans are
    simply not there (pages answer 404)."""
    if not sees_plans(user):
        return AccountPlan.objects.none()
    plans = AccountPlan.objects.all()
    if not access.sees_all_accounts(user):
        plans = plans.filter(account_scope_q(user))
    return plans.select_related("account", "group", "owner")


def plan_get_for(user: User, pk: int) -> AccountPlan:
    return plan_list_for(user).get(pk=pk)


def plan_accounts(plan: AccountPlan) -> QuerySet[Account]:
    """The accounts a plan covers: its account, or the group's accounts."""
    if plan.account_id:
        return Account.objects.filter(pk=plan.account_id)
    return Account.objects.filter(group_id=plan.group_id)


def current_plan(user: User, account: Account, *, year: int | None = None) -> AccountPlan | None:
    """The account's plan of ``year`` (default: this year's, else its latest)."""
    plans = plan_list_for(user).filter(account=account)
    if year is not None:
        return plans.filter(year=year).first()
    # One query for both: this year's first, else the latest year's.
    this_year = Case(When(year=timezone.localdate().year, then=0), default=1)
    return plans.order_by(this_year, "-year", "id").first()


def current_group_plan(user: User, group: CorporateGroup) -> AccountPlan | None:
    plans = plan_list_for(user).filter(group=group)
    return plans.filter(year=timezone.localdate().year).first() or plans.order_by("-year").first()


def review_intervals() -> dict[int, int]:
    """Days between reviews per tier: the directors' schedule over the defaults."""
    out = dict(DEFAULT_REVIEW_DAYS)
    out.update(dict(ReviewPolicy.objects.values_list("tier", "interval_days")))
    return out


def plan_tier(plan: AccountPlan) -> int | None:
    """The account's tier; a group plan takes its best (lowest) account tier."""
    if plan.account_id:
        return plan.account.tier if plan.account else None
    tiers = [t for t in plan_accounts(plan).values_list("tier", flat=True) if t is not None]
    return min(tiers) if tiers else None


def review_interval_for(plan: AccountPlan) -> int:
    tier = plan_tier(plan)
    return review_intervals()[tier] if tier in DEFAULT_REVIEW_DAYS else DEFAULT_REVIEW_DAYS[5]


# --- figures from the facts ------------------------------------------------------------------


@dataclass
class Figures:
    """A plan's metrics now, over the trailing period (``None`` where data is missing)."""

    values: dict[str, Decimal | None] = field(default_factory=dict)
    revenue_prev: Decimal | None = None
    waybills_prev: int | None = None
    margin_prev: Decimal | None = None
    period: tuple[datetime.date, datetime.date] | None = None

    def growth(self, metric: str) -> float | None:
        now = self.values.get(metric)
        before = {"revenue": self.revenue_prev, "waybills": self.waybills_prev,
                  "margin": self.margin_prev}.get(metric)  # fmt: skip
        if now is None or not before:
            return None
        return float((Decimal(now) - Decimal(before)) / abs(Decimal(before)))


def _month_back(month: datetime.date, n: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 - n
    return datetime.date(index // 12, index % 12 + 1, 1)


def account_metrics(account_ids: set[int]) -> dict[int, dict[str, Any]]:
    """Per account: sums over the trailing 12 months (and the 12 before), the latest
    month's lanes, the last 3 months' on-time counts and the products used. One query for
    the codes, one grouped query over the facts."""
    period = ledger.trailing_period()
    if not account_ids or period is None:
        return {}
    start, end = period
    prev_start = _month_back(start, 12)
    recent = _month_back(end, 2)
    code_account = dict(
        BillingCode.objects.filter(account_id__in=account_ids).values_list("code", "account_id")
    )
    if not code_account:
        return {}
    cur, prev = Q(month__gte=start), Q(month__lt=start)
    sums = {
        "revenue": Sum("revenue", filter=cur), "revenue_prev": Sum("revenue", filter=prev),
        "waybills": Sum("waybills", filter=cur), "waybills_prev": Sum("waybills", filter=prev),
        "weight": Sum("weight_kg", filter=cur), "margin": Sum("margin", filter=cur),
        "margin_prev": Sum("margin", filter=prev), "costed": Sum("costed_waybills", filter=cur),
        "lanes": Sum("lanes", filter=Q(month=end)),
        "on_time": Sum("on_time", filter=Q(month__gte=recent)),
        "promised": Sum("promised", filter=Q(month__gte=recent)),
        **{p: Sum(f"{p}_waybills", filter=cur) for p in PRODUCTS},
    }  # fmt: skip
    rows = (
        AccountMonth.objects.filter(
            billing_code__in=list(code_account), month__gte=prev_start, month__lte=end
        )
        .values("billing_code")
        .annotate(**{f"s_{k}": v for k, v in sums.items()})  # not the facts' own names
        .order_by()
    )
    out: dict[int, dict[str, Any]] = {}
    for row in rows:
        account = code_account[row["billing_code"]]
        acc = out.setdefault(account, defaultdict(int))
        for key in sums:
            acc[key] += row[f"s_{key}"] or 0
    return out


def _cents(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def figures_for(plans: list[AccountPlan], members: dict[int, list[int]]) -> dict[int, Figures]:
    """Each plan's :class:`Figures` (``members``: plan id -> its account ids)."""
    from kam.service.selectors import latest_nps  # noqa: PLC0415

    ids = {a for accounts in members.values() for a in accounts}
    metrics = account_metrics(ids)
    scores = latest_nps(ids) if ids else {}
    period = ledger.trailing_period()
    out: dict[int, Figures] = {}
    for plan in plans:
        total: dict[str, Any] = defaultdict(int)
        any_facts = False
        for account in members.get(plan.pk, []):
            row = metrics.get(account)
            if row is None:
                continue
            any_facts = True
            for key, value in row.items():
                total[key] += value
        nps_values = [
            scores[a]["nps"] for a in members.get(plan.pk, []) if a in scores
        ]  # fmt: skip
        nps = (
            Decimal(str(round(sum(nps_values) / len(nps_values), 1))) if nps_values else None
        )  # fmt: skip
        fig = Figures(period=period)
        if any_facts:
            fig.values = {
                Metric.REVENUE: _cents(total["revenue"]),
                Metric.WAYBILLS: Decimal(total["waybills"]),
                Metric.WEIGHT: Decimal(total["weight"] or 0).quantize(Decimal("0.01")),
                Metric.MARGIN: _cents(total["margin"]) if total["costed"] else None,
                Metric.LANES: Decimal(total["lanes"]),
                Metric.PRODUCTS: Decimal(sum(1 for p in PRODUCTS if total[p])),
                Metric.ON_TIME: (
                    (Decimal(100) * total["on_time"] / total["promised"]).quantize(Decimal("0.1"))
                    if total["promised"]
                    else None
                ),
            }  # fmt: skip
            fig.revenue_prev = _cents(total["revenue_prev"])
            fig.waybills_prev = int(total["waybills_prev"])
            fig.margin_prev = _cents(total["margin_prev"]) if total["costed"] else None
        fig.values[Metric.NPS] = nps
        out[plan.pk] = fig
    return out


def accounts_of(plans: list[AccountPlan], user: User) -> dict[int, list[int]]:
    """Plan id -> the ids of the accounts it covers that ``user`` sees (one query for all
    group plans): a manager who sees one account of a group sees the group plan's
    figures of that account only."""
    out = {p.pk: [p.account_id] for p in plans if p.account_id}
    groups = {p.group_id for p in plans if p.group_id}
    if groups:
        members: dict[int, list[int]] = defaultdict(list)
        rows = Account.objects.filter(group_id__in=groups)
        if not access.sees_all_accounts(user):
            rows = rows.filter(account_scope_q(user, "pk"))
        for pk, group in rows.values_list("pk", "group_id"):
            members[group].append(pk)
        for p in plans:
            if p.group_id:
                out[p.pk] = members.get(p.group_id, [])
    return out


# --- objectives, actions, status ----------------------------------------------------------------


def metric_text(metric: str, value: Decimal | None) -> str:
    """A metric's value as people read it: money in yuan with the cent, counts grouped,
    rates in per cent ("—" when there is none)."""
    if value is None:
        return "—"
    if metric in (Metric.REVENUE, Metric.MARGIN):
        return f"¥{value:,.2f}" if value >= 0 else f"\u2212¥{-value:,.2f}"
    if metric == Metric.WEIGHT:
        return f"{value:,.2f}"
    if metric == Metric.ON_TIME:
        return f"{value:.1f} %"
    if metric == Metric.NPS:
        return f"{value:.1f}"
    return f"{value:,.0f}"


@dataclass
class ObjectiveView:
    objective: Objective
    progress: maths.Progress

    @property
    def baseline_text(self) -> str:
        return metric_text(self.objective.metric, self.objective.baseline)

    @property
    def target_text(self) -> str:
        return metric_text(self.objective.metric, self.objective.target)

    @property
    def current_text(self) -> str:
        return metric_text(self.objective.metric, self.progress.current)

    @property
    def percent(self) -> float | None:
        share = self.progress.share
        return None if share is None else round(100 * share, 1)

    @property
    def bar(self) -> int:
        share = self.progress.share
        return 0 if share is None else max(0, min(100, round(100 * share)))


@dataclass
class PlanRow:
    """A plan with everything its list row and summary show."""

    plan: AccountPlan
    objectives: list[ObjectiveView]
    overdue_actions: int
    open_actions: int
    review_overdue_days: int
    rag: maths.RagResult
    figures: Figures
    tier: int | None = None

    @property
    def review_due(self) -> bool:
        return self.review_overdue_days > 0

    @property
    def on_track(self) -> int:
        return sum(1 for v in self.objectives if v.progress.status == "on_track")


def objective_progress(objective: Objective, plan: AccountPlan, figures: Figures,
                       today: datetime.date) -> maths.Progress:  # fmt: skip
    return maths.progress(
        baseline=objective.baseline, target=objective.target,
        current=figures.values.get(objective.metric), start=plan.start,
        target_date=objective.target_date, today=today,
    )  # fmt: skip


def plan_rows(
    plans: list[AccountPlan], user: User, *, today: datetime.date | None = None
) -> list[PlanRow]:
    """The status of each plan: objectives with progress, overdue actions, review, RAG. A
    fixed number of queries for any number of plans."""
    today = today or timezone.localdate()
    if not plans:
        return []
    ids = [p.pk for p in plans]
    members = accounts_of(plans, user)
    figures = figures_for(plans, members)
    objectives: dict[int, list[Objective]] = defaultdict(list)
    for o in Objective.objects.filter(plan_id__in=ids).order_by("target_date", "id"):
        objectives[o.plan_id].append(o)
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"overdue": 0, "open": 0})
    # An action tracked as a follow-up has the follow-up's status.
    for plan_id, status, fu_status, due in Action.objects.filter(plan_id__in=ids).values_list(
        "plan_id", "status", "follow_up__status", "due_date"
    ):
        current = fu_status or status
        if current in Action.OPEN_STATUSES:
            counts[plan_id]["open"] += 1
            if due < today:
                counts[plan_id]["overdue"] += 1
    tiers: dict[int, int | None] = {}
    group_tiers: dict[int, list[int]] = defaultdict(list)
    if any(p.group_id for p in plans):
        for group, tier in Account.objects.filter(
            group_id__in={p.group_id for p in plans if p.group_id}, tier__isnull=False
        ).values_list("group_id", "tier"):
            group_tiers[group].append(tier)
    for p in plans:
        tiers[p.pk] = p.account.tier if p.account_id and p.account else (
            min(group_tiers[p.group_id]) if group_tiers.get(p.group_id or 0) else None
        )  # fmt: skip
    rows = []
    for p in plans:
        views = [ObjectiveView(o, objective_progress(o, p, figures[p.pk], today))
                 for o in objectives[p.pk]]  # fmt: skip
        overdue_days = (today - p.next_review_due).days if p.status != PlanStatus.DRAFT else 0
        overdue_days = max(0, overdue_days)
        result = maths.rag(
            objectives=[v.progress.status for v in views],
            overdue_actions=counts[p.pk]["overdue"], review_overdue_days=overdue_days,
        )  # fmt: skip
        rows.append(PlanRow(p, views, counts[p.pk]["overdue"], counts[p.pk]["open"],
                            overdue_days, result, figures[p.pk], tiers[p.pk]))  # fmt: skip
    return rows


# --- the list ------------------------------------------------------------------------------------

#: The list's sort keys -> order_by fields (a "-" in the URL reverses).
SORTS = {
    "year": ("-year", "id"),
    "name": ("account__name", "group__name", "id"),
    "owner": ("owner__username", "id"),
    "status": ("status", "id"),
    "review": ("next_review_due", "id"),
    "tier": ("account__tier", "id"),
}


@dataclass(frozen=True)
class ListFilters:
    q: str = ""
    tier: int | None = None
    owner: int | None = None
    status: str = ""
    rag: str = ""
    review_due: bool = False
    year: int | None = None
    sort: str = "year"


def plan_search(user: User, f: ListFilters, *, today: datetime.date | None = None) -> list[PlanRow]:
    """The plans matching ``f`` with their status, sorted; RAG is computed, so its filter
    runs over the matching plans (few per person: plans are per key account and year)."""
    today = today or timezone.localdate()
    rows = plan_rows(list(plan_search_queryset(user, f, today=today)), user, today=today)
    if f.rag in ("red", "amber", "green"):
        rows = [r for r in rows if r.rag.rag == f.rag]
    return rows


def plan_search_queryset(
    user: User, f: ListFilters, *, today: datetime.date | None = None
) -> QuerySet[AccountPlan]:
    """The plans matching ``f`` but its RAG (stored fields only), sorted."""
    today = today or timezone.localdate()
    plans = plan_list_for(user)
    if f.q:
        plans = plans.filter(
            Q(account__name__icontains=f.q) | Q(account__name_en__icontains=f.q)
            | Q(group__name__icontains=f.q) | Q(group__name_en__icontains=f.q)
            | Q(account__search_pinyin__icontains=f.q.lower())
        )  # fmt: skip
    if f.tier:
        plans = plans.filter(
            Q(account__tier=f.tier) | Q(group__accounts__tier=f.tier)
        ).distinct()  # fmt: skip
    if f.owner:
        plans = plans.filter(owner_id=f.owner)
    if f.status in PlanStatus.values:
        plans = plans.filter(status=f.status)
    if f.year:
        plans = plans.filter(year=f.year)
    if f.review_due:
        plans = plans.exclude(status=PlanStatus.DRAFT).filter(next_review_due__lt=today)
    key = f.sort.lstrip("-")
    order = list(SORTS.get(key, SORTS["year"]))
    if f.sort.startswith("-") and key in SORTS:
        order = [o[1:] if o.startswith("-") else f"-{o}" for o in order]
    return plans.order_by(*order)


def plan_owners(user: User) -> QuerySet[User]:
    """The people who own a plan the user sees (the owner filter's choices)."""
    return User.objects.filter(
        pk__in=plan_list_for(user).values("owner_id")
    ).order_by("display_name", "username")  # fmt: skip


# --- one plan --------------------------------------------------------------------------------


def plan_items(plan: AccountPlan) -> QuerySet[PlanItem]:
    return plan.items.select_related("finding__report__visit", "case").order_by("kind", "id")


def plan_actions(plan: AccountPlan) -> QuerySet[Action]:
    return plan.actions.select_related("owner", "follow_up").order_by("horizon", "due_date", "id")


def plan_reviews(plan: AccountPlan) -> QuerySet[Any]:
    return plan.reviews.select_related("by")


def plan_team(plan: AccountPlan) -> QuerySet[User]:
    return plan.team.order_by("display_name", "username")


def linkable_findings(user: User, plan: AccountPlan) -> QuerySet[Any]:
    """Findings of visit reports on the plan's accounts that ``user`` may read (the last
    year's): what an analysis item may cite."""
    from kam.coverage.selectors import recent_findings  # noqa: PLC0415

    since = timezone.localdate() - datetime.timedelta(days=365)
    visible = account_list_for(user).filter(pk__in=plan_accounts(plan).values("pk"))
    return recent_findings(user, visible, since=since)


def linkable_cases(user: User, plan: AccountPlan) -> QuerySet[Any]:
    from kam.service.selectors import case_list_for  # noqa: PLC0415

    return (
        case_list_for(user).filter(account__in=plan_accounts(plan).values("pk"))
        .order_by("-opened_at")
    )  # fmt: skip


@dataclass
class Situation:
    """Where the account stands, read from data when the page is shown."""

    period: tuple[datetime.date, datetime.date] | None
    figures: Figures
    tier: int | None
    valuation: Any  # segmentation.Valuation or None
    forecast_12m: Decimal | None
    share_of_wallet: float | None
    stage: str  # label; "" when not known
    compliance: dict[str, Any] | None
    open_cases: int
    sla_breaches: int
    nps: dict[str, Any] | None
    alerts: list[Any]
    alert_count: int
    findings: list[Any]
    stage_since: datetime.date | None = None  # when the account entered its stage

    @property
    def growth(self) -> dict[str, float | None]:
        """Growth on the 12 months before, in per cent, by metric."""
        out: dict[str, float | None] = {}
        for metric in ("revenue", "waybills", "margin"):
            g = self.figures.growth(metric)
            out[metric] = None if g is None else round(100 * g, 1)
        return out


#: The situation's look back for SLA breaches, alerts and findings.
SITUATION_DAYS = 365
FINDINGS_DAYS = 180
COMPLIANCE_DAYS = 90


def situation(user: User, plan: AccountPlan, *, today: datetime.date | None = None) -> Situation:
    from kam.coverage import selectors as coverage  # noqa: PLC0415
    from kam.segmentation import selectors as segmentation  # noqa: PLC0415
    from kam.segmentation.models import Alert, Level  # noqa: PLC0415
    from kam.service import selectors as service  # noqa: PLC0415

    today = today or timezone.localdate()
    members = accounts_of([plan], user)
    figures = figures_for([plan], members)[plan.pk]
    accounts = account_list_for(user).filter(pk__in=members[plan.pk])
    run = segmentation.latest_run()
    valuation = None
    if run is not None:
        if plan.account_id:
            valuation = segmentation.account_valuation(user, plan.account, run)  # type: ignore[arg-type]
        else:
            valuation = (
                segmentation.valuations_for(user, run, Level.GROUP).filter(group_id=plan.group_id)
                .first()
            )  # fmt: skip
    forecast = None
    if valuation is not None and isinstance(valuation.forecast, dict):
        mean = valuation.forecast.get("mean") or []
        forecast = _cents(sum(Decimal(str(m)) for m in mean if m is not None)) if mean else None
    share, stage, compliance = None, "", None
    stage_since: datetime.date | None = None
    if plan.account_id and plan.account is not None:
        account = plan.account
        revenue = figures.values.get(Metric.REVENUE)
        # The latest wallet estimate (kam/planning/wallet.py), else the archive's figure.
        from . import stages, wallet  # noqa: PLC0415

        share = wallet.account_share(account, revenue)
        stage = str(account.get_stage_display())
        stage_since = stages.stage_since(account)
        compliance = coverage.account_compliance(
            user, account, start=today - datetime.timedelta(days=COMPLIANCE_DAYS - 1), end=today
        )
    since = timezone.now() - datetime.timedelta(days=SITUATION_DAYS)
    sla = service.sla_figures(user, accounts, since=since)
    nps = service.latest_nps(members[plan.pk])
    nps_row = None
    if nps:
        latest = max(nps.values(), key=lambda r: r["at"])
        nps_row = {**latest, "nps": figures.values.get(Metric.NPS)}
    alerts = (
        segmentation.alerts_for(user).filter(account__in=accounts)
        .exclude(status=Alert.Status.RESOLVED).order_by("-created_at")
    )  # fmt: skip
    findings = coverage.recent_findings(
        user, accounts, since=today - datetime.timedelta(days=FINDINGS_DAYS)
    )
    return Situation(
        period=figures.period, figures=figures, tier=plan_tier(plan), valuation=valuation,
        forecast_12m=forecast, share_of_wallet=share, stage=stage, compliance=compliance,
        open_cases=sla["open"], sla_breaches=sla["breaches"], nps=nps_row,
        alerts=list(alerts[:5]), alert_count=alerts.count(), findings=list(findings[:8]),
        stage_since=stage_since,
    )  # fmt: skip


# --- home ------------------------------------------------------------------------------------


def plans_needing_attention(user: User, *, today: datetime.date | None = None) -> list[PlanRow]:
    """The manager's plans that are red or amber, returned, or due for review; reddest first."""
    plans = list(
        plan_list_for(user).filter(Q(owner=user) | Q(team=user)).distinct()
        .exclude(status=PlanStatus.SUBMITTED)
    )  # fmt: skip
    rows = [r for r in plan_rows(plans, user, today=today)
            if r.rag.rag != "green" or r.plan.status == PlanStatus.RETURNED]  # fmt: skip
    order = {"red": 0, "amber": 1, "green": 2}
    rows.sort(key=lambda r: (order[r.rag.rag], r.plan.next_review_due, r.plan.pk))
    return rows


def plans_awaiting_review(user: User) -> QuerySet[AccountPlan]:
    """Plans submitted to the department, oldest first."""
    if not may_review(user):
        return AccountPlan.objects.none()
    return plan_list_for(user).filter(status=PlanStatus.SUBMITTED).order_by("submitted_at", "id")


def plans_review_overdue(
    user: User, *, today: datetime.date | None = None
) -> QuerySet[AccountPlan]:
    today = today or timezone.localdate()
    return (
        plan_list_for(user).filter(status=PlanStatus.APPROVED, next_review_due__lt=today)
        .order_by("next_review_due", "id")
    )  # fmt: skip


def with_related(plans: QuerySet[AccountPlan]) -> QuerySet[AccountPlan]:
    return plans.prefetch_related(
        Prefetch("team", queryset=User.objects.order_by("username"))
    ).annotate(n_objectives=Count("objectives", distinct=True))


def group_for(user: User, pk: int) -> CorporateGroup:
    return group_list_for(user).get(pk=pk)


# --- opportunities -----------------------------------------------------------------------------


def may_edit_solutions(user: User) -> bool:
    return access.is_active_user(user) and user.role == Role.DIRECTOR


def may_edit_opportunity(user: User, account: Account | int) -> bool:
    """The department and directors any; a manager those of the accounts they see (their
    teams'). Analysts and service reps read."""
    if not access.is_active_user(user):
        return False
    if user.role in (Role.DIRECTOR, Role.DEPARTMENT):
        return True
    if user.role != Role.MANAGER:
        return False
    return account_visible(user, account)


def opportunity_list_for(user: User) -> QuerySet[Opportunity]:
    """Opportunities of the accounts ``user`` sees (foreign ones are simply not there)."""
    if not sees_plans(user):
        return Opportunity.objects.none()
    opportunities = Opportunity.objects.all()
    if not access.sees_all_accounts(user):
        opportunities = opportunities.filter(account_scope_q(user))
    return opportunities.select_related("account", "solution", "owner")


def opportunity_get_for(user: User, pk: int) -> Opportunity:
    return opportunity_list_for(user).get(pk=pk)


@dataclass
class OpportunityFilters:
    stage: str = ""
    solution: int | None = None
    owner: int | None = None
    tier: int | None = None
    account: int | None = None
    sort: str = "close"


OPPORTUNITY_SORTS = {
    "close": ("expected_close", "id"),
    "-close": ("-expected_close", "-id"),
    "revenue": ("annual_revenue", "id"),
    "-revenue": ("-annual_revenue", "-id"),
    "probability": ("probability", "id"),
    "-probability": ("-probability", "-id"),
    "account": ("account__name", "id"),
    "stage": ("stage", "id"),
}


def opportunity_search(user: User, f: OpportunityFilters) -> QuerySet[Opportunity]:
    qs = opportunity_list_for(user)
    if f.stage == "open":
        qs = qs.filter(stage__in=OPEN_STAGES)
    elif f.stage:
        qs = qs.filter(stage=f.stage)
    if f.solution:
        qs = qs.filter(solution_id=f.solution)
    if f.owner:
        qs = qs.filter(owner_id=f.owner)
    if f.tier:
        qs = qs.filter(account__tier=f.tier)
    if f.account:
        qs = qs.filter(account_id=f.account)
    return qs.order_by(*OPPORTUNITY_SORTS.get(f.sort, OPPORTUNITY_SORTS["close"]))


def solutions(*, active_only: bool = True) -> QuerySet[Solution]:
    qs = Solution.objects.all()
    return qs.filter(active=True) if active_only else qs


def weighted_pipeline(user: User, by: str) -> list[dict[str, Any]]:
    """The open opportunities' revenue and revenue × probability, summed by owner, tier or
    solution (one grouped query)."""
    key = {"owner": "owner_id", "tier": "account__tier", "solution": "solution_id"}[by]
    label = {"owner": "owner__display_name", "tier": "account__tier",
             "solution": "solution__code"}[by]  # fmt: skip
    weighted = ExpressionWrapper(
        F("annual_revenue") * F("probability") / Value(100),
        output_field=DecimalField(max_digits=20, decimal_places=2),
    )
    rows = (
        opportunity_list_for(user).filter(stage__in=OPEN_STAGES).order_by()
        .values(key, label).annotate(n=Count("id"), revenue=Sum("annual_revenue"),
                                     weighted=Sum(weighted))
        .order_by("-weighted")
    )  # fmt: skip
    names: dict[Any, str] = {}
    if by == "solution":
        names = {s.pk: s.name for s in Solution.objects.all()}
    elif by == "owner":
        names = {u.pk: str(u) for u in User.objects.filter(pk__in=[r[key] for r in rows])}
    return [
        {"key": r[key], "label": names.get(r[key], str(r[label] or "")), "count": r["n"],
         "revenue": r["revenue"] or Decimal(0),
         "weighted": (r["weighted"] or Decimal(0)).quantize(Decimal("0.01"))}
        for r in rows
    ]  # fmt: skip


def opportunity_board(user: User, f: OpportunityFilters) -> dict[str, list[Opportunity]]:
    """The open opportunities by stage (the pipeline board's columns)."""
    columns: dict[str, list[Opportunity]] = {s: [] for s in OPEN_STAGES}
    for opp in opportunity_search(user, OpportunityFilters(**{**f.__dict__, "stage": "open"})):
        columns[opp.stage].append(opp)
    return columns


def linkable_account_findings(user: User, account: Account) -> QuerySet[Any]:
    """Findings of the last year's visit reports on ``account`` that ``user`` may read."""
    from kam.coverage.selectors import recent_findings  # noqa: PLC0415

    since = timezone.localdate() - datetime.timedelta(days=365)
    return recent_findings(user, account_list_for(user).filter(pk=account.pk), since=since)
