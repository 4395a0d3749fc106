"""The segmentation app's API, mounted under /api/v1/ (paths under /segmentation/).

Account results follow the access selector (a manager sees the accounts of their teams);
runs, rules, codes, groups and candidates are for the roles that see every account. Money
is a decimal string.
"""

from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from kam.accounts.selectors import account_get_for, account_list_for
from kam.core.api import ErrorOut, Id, InSchema, PageQuery
from kam.core.errors import PermissionDeniedError

from . import messages, selectors, services
from .figures import CRITERIA
from .models import Alert, Level, RuleSet, Run, TierChange, Valuation

router = Router(tags=["segmentation"])
ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                          409: ErrorOut, 422: ErrorOut}  # fmt: skip


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _portfolio(request: HttpRequest) -> None:
    if not selectors.sees_portfolio(request.user):
        raise PermissionDeniedError(
            _("The portfolio is for the key-account department, directors and analysts.")
        )


# --- runs ----------------------------------------------------------------------------------------


class RunOut(Schema):
    id: int
    status: str
    stage: str
    percent: int
    trigger: str
    as_of: str | None
    rule_set_version: int
    created_at: Any
    finished_at: Any | None
    stats: dict[str, Any]


def run_out(run: Run) -> dict[str, Any]:
    return {
        "id": run.pk, "status": run.status, "stage": run.stage, "percent": run.percent,
        "trigger": run.trigger, "as_of": f"{run.as_of:%Y-%m}" if run.as_of else None,
        "rule_set_version": run.rule_set.version, "created_at": run.created_at,
        "finished_at": run.finished_at, "stats": run.stats,
    }  # fmt: skip


class RunPage(Schema):
    count: int
    items: list[RunOut]


@router.get("/segmentation/runs", response={200: RunPage, **ERRORS}, summary="List runs")
def list_runs(request: HttpRequest, params: Query[PageQuery]) -> dict[str, Any]:
    _portfolio(request)
    runs = selectors.run_list_for(request.user)
    start = (params.page - 1) * params.page_size
    return {
        "count": runs.count(),
        "items": [run_out(r) for r in runs[start : start + params.page_size]],
    }


@router.post("/segmentation/runs", response={202: RunOut, **ERRORS}, summary="Start a run")
def start_run(request: HttpRequest) -> tuple[int, dict[str, Any]]:
    run = services.run_enqueue(trigger=Run.Trigger.MANUAL, by=request.user)
    run.refresh_from_db()
    return 202, run_out(run)


@router.get("/segmentation/runs/{run_id}", response={200: RunOut, **ERRORS}, summary="Read a run")
def get_run(request: HttpRequest, run_id: Id) -> dict[str, Any]:
    return run_out(get_object_or_404(selectors.run_list_for(request.user), pk=run_id))


class CompareOut(Schema):
    matrix: list[list[int]]
    moved: int
    movers: list[dict[str, Any]]


@router.get("/segmentation/runs/{run_id}/compare/{other_id}", response={200: CompareOut, **ERRORS},
            summary="Tier migration between two runs")  # fmt: skip
def compare_runs(request: HttpRequest, run_id: Id, other_id: Id) -> dict[str, Any]:
    runs = selectors.run_list_for(request.user).filter(status=Run.Status.DONE)
    a = get_object_or_404(runs, pk=run_id)
    b = get_object_or_404(runs, pk=other_id)
    result = selectors.migration_matrix(a, b)
    movers = [{"account_id": m["account"].pk, "account": str(m["account"]), "before": m["before"],
               "after": m["after"], "score": m["score"], "revenue": str(m["revenue"])}
              for m in result["movers"]]  # fmt: skip
    return {"matrix": result["matrix"], "moved": result["moved"], "movers": movers}


# --- valuations ----------------------------------------------------------------------------------


class ValuationOut(Schema):
    level: str
    code: str | None
    account_id: int | None
    group_id: int | None
    name: str
    revenue: str
    revenue_prev: str
    margin: str | None
    waybills: int
    active_months: int
    growth: float | None
    volatility: float | None
    rank: int
    cum_share: float
    abc: str
    score: float
    score_parts: dict[str, float | None]
    categories: list[str]
    current_tier: int | None
    proposed_tier: int
    clv: str | None
    clv_model: str
    forecast: dict[str, Any] | None
    reasons: list[str]


def valuation_out(v: Valuation) -> dict[str, Any]:
    name = v.code if v.level == Level.CODE else str(v.account if v.account_id else v.group)
    return {
        "level": v.level, "code": v.code or None, "account_id": v.account_id,
        "group_id": v.group_id, "name": name, "revenue": str(v.revenue),
        "revenue_prev": str(v.revenue_prev), "margin": _money(v.margin), "waybills": v.waybills,
        "active_months": v.active_months, "growth": v.growth, "volatility": v.volatility,
        "rank": v.rank, "cum_share": v.cum_share, "abc": v.abc, "score": v.score,
        "score_parts": v.score_parts, "categories": v.categories, "current_tier": v.current_tier,
        "proposed_tier": v.proposed_tier, "clv": _money(v.clv), "clv_model": v.clv_model,
        "forecast": v.forecast,
        "reasons": [messages.reason_text(r["code"], r["params"]) for r in v.reasons],
    }  # fmt: skip


class ValuationPage(Schema):
    count: int
    run: int | None
    items: list[ValuationOut]


class ValuationQuery(PageQuery):
    level: Literal["account", "code", "group"] = "account"
    run: int | None = Field(None, ge=1, le=2**62)
    tier: int | None = Field(None, ge=1, le=5)
    candidates: bool = False


@router.get("/segmentation/valuations", response={200: ValuationPage, **ERRORS},
            summary="Figures, scores and tiers of a run")  # fmt: skip
def list_valuations(request: HttpRequest, params: Query[ValuationQuery]) -> dict[str, Any]:
    if params.run:
        run = get_object_or_404(Run.objects.filter(status=Run.Status.DONE), pk=params.run)
    else:
        run = selectors.latest_run()
    if run is None:
        return {"count": 0, "run": None, "items": []}
    if params.level != Level.ACCOUNT:
        _portfolio(request)
    rows = selectors.valuations_for(request.user, run, params.level).order_by("rank")
    if params.candidates:
        rows = selectors.candidates_for(request.user, run).order_by("rank")
    if params.tier:
        rows = rows.filter(proposed_tier=params.tier)
    start = (params.page - 1) * params.page_size
    return {"count": rows.count(), "run": run.pk,
            "items": [valuation_out(v) for v in rows[start : start + params.page_size]]}  # fmt: skip


class AccountValueOut(Schema):
    valuation: ValuationOut | None
    tier_history: list[dict[str, Any]]


@router.get("/segmentation/accounts/{account_id}", response={200: AccountValueOut, **ERRORS},
            summary="An account's value, reasons and tier history")  # fmt: skip
def account_value(request: HttpRequest, account_id: Id) -> dict[str, Any]:
    account = account_get_for(request.user, account_id)
    v = selectors.account_valuation(request.user, account)
    history = [
        {"at": h.at, "from_tier": h.from_tier, "to_tier": h.to_tier, "kind": h.kind,
         "reason": h.reason, "by": h.by.username if h.by else None}
        for h in selectors.tier_history(request.user, account)
    ]  # fmt: skip
    return {"valuation": valuation_out(v) if v else None, "tier_history": history}


# --- tiers ---------------------------------------------------------------------------------------


class AcceptIn(InSchema):
    proposals: list[Id] = Field(..., min_length=1, max_length=1000)


class AcceptOut(Schema):
    accepted: int


@router.post("/segmentation/proposals/accept", response={200: AcceptOut, **ERRORS},
             summary="Accept tier proposals (all or none)")  # fmt: skip
def accept_proposals(request: HttpRequest, body: AcceptIn) -> dict[str, Any]:
    _portfolio(request)
    found = list(selectors.proposals_for(request.user).filter(pk__in=body.proposals))
    if len(found) != len(set(body.proposals)):
        raise Http404
    return {"accepted": services.proposals_accept(by=request.user, proposals=found)}


class OverrideIn(InSchema):
    tier: int = Field(..., ge=1, le=5)
    reason: str = Field(..., min_length=1, max_length=2000)


class TierChangeOut(Schema):
    account_id: int
    from_tier: int | None
    to_tier: int
    kind: str
    reason: str


@router.post("/segmentation/accounts/{account_id}/tier", response={200: TierChangeOut, **ERRORS},
             summary="Set an account's tier with a reason")  # fmt: skip
def override_tier(request: HttpRequest, account_id: Id, body: OverrideIn) -> TierChange:
    account = get_object_or_404(account_list_for(request.user), pk=account_id)
    proposal = selectors.proposals_for(request.user).filter(account=account).first()
    return services.tier_override(by=request.user, account=account, tier=body.tier,
                                  reason=body.reason, proposal=proposal)  # fmt: skip


# --- alerts --------------------------------------------------------------------------------------


class AlertOut(Schema):
    id: int
    kind: str
    status: str
    account_id: int | None
    code: str
    text: str
    params: dict[str, Any]
    note: str
    created_at: Any


def alert_out(a: Alert) -> dict[str, Any]:
    return {"id": a.pk, "kind": a.kind, "status": a.status, "account_id": a.account_id,
            "code": a.code, "text": messages.alert_text(a), "params": a.params, "note": a.note,
            "created_at": a.created_at}  # fmt: skip


class AlertPage(Schema):
    count: int
    items: list[AlertOut]


class AlertQuery(PageQuery):
    status: Literal["open", "acknowledged", "resolved"] | None = None
    kind: Literal["decline", "silence", "lane_loss", "new_code", "health"] | None = None
    account_id: int | None = Field(None, ge=1, le=2**62)


@router.get("/segmentation/alerts", response={200: AlertPage, **ERRORS}, summary="List alerts")
def list_alerts(request: HttpRequest, params: Query[AlertQuery]) -> dict[str, Any]:
    alerts = selectors.alerts_for(request.user)
    if params.status:
        alerts = alerts.filter(status=params.status)
    if params.kind:
        alerts = alerts.filter(kind=params.kind)
    if params.account_id:
        alerts = alerts.filter(account_id=params.account_id)
    start = (params.page - 1) * params.page_size
    return {"count": alerts.count(),
            "items": [alert_out(a) for a in alerts[start : start + params.page_size]]}  # fmt: skip


class AlertActionIn(InSchema):
    action: Literal["acknowledge", "resolve"]
    note: str = Field("", max_length=2000)


@router.post("/segmentation/alerts/{alert_id}", response={200: AlertOut, **ERRORS},
             summary="Acknowledge or resolve an alert")  # fmt: skip
def act_on_alert(request: HttpRequest, alert_id: Id, body: AlertActionIn) -> dict[str, Any]:
    alert = get_object_or_404(selectors.alerts_for(request.user), pk=alert_id)
    if body.action == "resolve":
        alert = services.alert_resolve(by=request.user, alert=alert, note=body.note)
    else:
        alert = services.alert_acknowledge(by=request.user, alert=alert, note=body.note)
    return alert_out(alert)


# --- rules ---------------------------------------------------------------------------------------


class RulesOut(Schema):
    version: int
    rules: dict[str, Any]
    note: str
    created_at: Any


def rules_out(r: RuleSet) -> dict[str, Any]:
    return {"version": r.version, "rules": r.rules, "note": r.note, "created_at": r.created_at}


Finite = Annotated[float, Field(allow_inf_nan=False, ge=-1e15, le=1e15)]


class RulesIn(InSchema):
    # Bounds here only keep absurd numbers out (they would overflow); the service checks
    # the rules themselves and explains what contradicts.
    # Every field is optional, so a misspelt name would save an unchanged new version.
    model_config = ConfigDict(extra="forbid")

    economic_threshold: Finite | None = None
    abc_a: Finite | None = None
    abc_b: Finite | None = None
    weights: dict[Literal[CRITERIA], Finite] | None = None  # type: ignore[valid-type]
    tier_cutoffs: list[Finite] | None = Field(None, min_length=4, max_length=4)
    economic_tier: int | None = Field(None, ge=-1000, le=1000)
    strategic_growth: Finite | None = None
    strategic_min_score: Finite | None = None
    potential_growth: Finite | None = None
    potential_min_percentile: Finite | None = None
    potential_min_months: int | None = Field(None, ge=-1000, le=1000)
    decline_drop: Finite | None = None
    silence_days: int | None = Field(None, ge=-10_000, le=10_000)
    daily_shipper_days: int | None = Field(None, ge=-1000, le=1000)
    lane_loss_share: Finite | None = None
    clv_horizon_months: int | None = Field(None, ge=-10_000, le=10_000)
    discount_rate: Finite | None = None
    note: str = Field("", max_length=200)


@router.get("/segmentation/rules", response={200: RulesOut, **ERRORS}, summary="The current rules")
def get_rules(request: HttpRequest) -> dict[str, Any]:
    _portfolio(request)
    return rules_out(services.rule_set_current())


@router.post("/segmentation/rules", response={201: RulesOut, **ERRORS},
             summary="Save a new version of the rules (directors)")  # fmt: skip
def save_rules(request: HttpRequest, body: RulesIn) -> tuple[int, dict[str, Any]]:
    current = services.rule_set_current().rules
    changes = body.dict(exclude_none=True)
    note = changes.pop("note", "")
    if "weights" in changes:
        changes["weights"] = {**current.get("weights", {}), **changes["weights"]}
    new = services.rule_set_create(by=request.user, data={**current, **changes}, note=note)
    return 201, rules_out(new)
