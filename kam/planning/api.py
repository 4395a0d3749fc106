"""The planning app's API, mounted under /api/v1/: account plans, their objectives (with
progress computed from data) and actions. The same access rules as the pages: a plan of an
account the caller does not see answers 404."""

import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from kam.accounts.models import Account, CorporateGroup
from kam.accounts.selectors import account_get_for, group_list_for
from kam.core import access
from kam.core.api import ErrorOut, Id, InSchema
from kam.core.models import Role, User

from . import selectors, services
from .models import AccountPlan, Action, BuyingInfluence, Objective, Opportunity

router = Router(tags=["planning"])

Day = Annotated[datetime.date, Field(ge=datetime.date(2000, 1, 1), le=datetime.date(2100, 12, 31))]
Amount = Annotated[Decimal, Field(max_digits=20, decimal_places=2)]
ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                          409: ErrorOut, 422: ErrorOut}  # fmt: skip
PAGE_SIZE = 50

MetricName = Literal["revenue", "waybills", "weight", "margin", "lanes", "products", "nps",
                     "on_time"]  # fmt: skip


def _visible(request: HttpRequest) -> None:
    if not selectors.sees_plans(request.user):
        raise Http404


def _plan(request: HttpRequest, plan_id: int) -> AccountPlan:
    _visible(request)
    return selectors.plan_get_for(request.user, plan_id)


def _staff(pk: int | None, field: str) -> User | None:
    if pk is None:
        return None
    user = User.objects.filter(
        pk=pk, is_active=True, role__in=[Role.MANAGER, Role.DEPARTMENT, Role.DIRECTOR, Role.SERVICE]
    ).first()  # fmt: skip
    if user is None:
        raise ValidationError({field: _("Choose an active member of staff.")})
    return user


# --- schemas ---------------------------------------------------------------------------------


class PlanningObjectiveOut(Schema):
    id: int
    plan: int
    metric: str
    title: str
    baseline: Decimal
    target: Decimal
    target_date: datetime.date
    current: Decimal | None = Field(description="the metric now, from the data; null when none")
    progress: float | None = Field(description="0 at the baseline, 1 at the target")
    expected: float = Field(description="the share of the time to the target date gone")
    status: Literal["on_track", "at_risk", "off_track", "no_data"]


class PlanningActionOut(Schema):
    id: int
    plan: int
    title: str
    horizon: int
    owner: int
    due_date: datetime.date
    resources: str
    status: str = Field(description="the follow-up's status once the action is one")
    follow_up: int | None
    overdue: bool


class PlanningPlanOut(Schema):
    id: int
    account: int | None
    group: int | None
    name: str
    year: int
    kind: str
    owner: int
    team_members: list[int]
    start: datetime.date
    end: datetime.date
    ambition: str
    status: str
    rag: Literal["red", "amber", "green"]
    rag_reasons: list[str]
    next_review_due: datetime.date
    review_overdue_days: int
    overdue_actions: int
    objectives: list[PlanningObjectiveOut]


class PlanningPlanPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[PlanningPlanOut]


def _objective_out(v: selectors.ObjectiveView) -> dict[str, Any]:
    o = v.objective
    return {"id": o.pk, "plan": o.plan_id, "metric": o.metric, "title": o.title,
            "baseline": o.baseline, "target": o.target, "target_date": o.target_date,
            "current": v.progress.current, "progress": v.progress.share,
            "expected": v.progress.expected, "status": v.progress.status}  # fmt: skip


def _plan_out(row: selectors.PlanRow, team: list[int]) -> dict[str, Any]:
    p = row.plan
    return {
        "id": p.pk, "account": p.account_id, "group": p.group_id, "name": str(p.subject),
        "year": p.year, "kind": p.kind, "owner": p.owner_id, "team_members": team,
        "start": p.start, "end": p.end, "ambition": p.ambition, "status": p.status,
        "rag": row.rag.rag, "rag_reasons": list(row.rag.reasons),
        "next_review_due": p.next_review_due, "review_overdue_days": row.review_overdue_days,
        "overdue_actions": row.overdue_actions,
        "objectives": [_objective_out(v) for v in row.objectives],
    }  # fmt: skip


def _teams(plans: list[AccountPlan]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {p.pk: [] for p in plans}
    through = AccountPlan.team.through
    for plan_id, user_id in through.objects.filter(
        accountplan_id__in=list(out)
    ).values_list("accountplan_id", "user_id").order_by("user_id"):  # fmt: skip
        out[plan_id].append(user_id)
    return out


def _one(request: HttpRequest, plan: AccountPlan) -> dict[str, Any]:
    row = selectors.plan_rows([plan], request.user)[0]
    return _plan_out(row, _teams([plan])[plan.pk])


# --- plans -----------------------------------------------------------------------------------


class PlanningPlanQuery(Schema):
    q: str = Field("", max_length=100)
    tier: int | None = Field(None, ge=1, le=5)
    owner: Id | None = None
    status: Literal["draft", "submitted", "approved", "returned"] | None = None
    rag: Literal["red", "amber", "green"] | None = None
    review_due: bool = False
    year: int | None = Field(None, ge=2000, le=2100)
    page: int = Field(1, ge=1, le=1_000_000)


@router.get("/planning/plans", response={200: PlanningPlanPage, **ERRORS},
            summary="Account plans of the accounts you see, with status, a page at a time")  # fmt: skip
def plan_list(request: HttpRequest, params: Query[PlanningPlanQuery]) -> dict[str, Any]:
    _visible(request)
    f = selectors.ListFilters(
        q=params.q.replace("\x00", "").strip(), tier=params.tier, owner=params.owner,
        status=params.status or "", rag=params.rag or "", review_due=params.review_due,
        year=params.year,
    )  # fmt: skip
    offset = (params.page - 1) * PAGE_SIZE
    if f.rag:
        rows = selectors.plan_search(request.user, f)
        count, shown = len(rows), rows[offset : offset + PAGE_SIZE]
    else:
        plans = selectors.plan_search_queryset(request.user, f)
        count = plans.count()
        shown = selectors.plan_rows(list(plans[offset : offset + PAGE_SIZE]), request.user)
    teams = _teams([r.plan for r in shown])
    return {"count": count, "page": params.page, "page_size": PAGE_SIZE,
            "items": [_plan_out(r, teams[r.plan.pk]) for r in shown]}  # fmt: skip


@router.get("/planning/plans/{plan_id}", response={200: PlanningPlanOut, **ERRORS},
            summary="One account plan with its objectives' progress")  # fmt: skip
def plan_get(request: HttpRequest, plan_id: Id) -> dict[str, Any]:
    return _one(request, _plan(request, plan_id))


class PlanningPlanIn(InSchema):
    model_config = ConfigDict(extra="forbid")

    account: Id | None = None
    group: Id | None = None
    year: int = Field(ge=2000, le=2100)
    kind: Literal["acquire", "expand", "retain"]
    owner: Id | None = Field(None, description="default: you")
    team_members: list[Id] = Field(default_factory=list, max_length=30)
    start: Day | None = None
    end: Day | None = None
    ambition: str = Field("", max_length=4000)


@router.post("/planning/plans", response={201: PlanningPlanOut, **ERRORS},
             summary="Create an account plan (draft) for an account or a corporate group")  # fmt: skip
def plan_create(request: HttpRequest, payload: PlanningPlanIn) -> tuple[int, dict[str, Any]]:
    _visible(request)
    account: Account | None = None
    group: CorporateGroup | None = None
    if payload.account is not None:
        account = account_get_for(request.user, payload.account)
    elif payload.group is not None:
        group = group_list_for(request.user).get(pk=payload.group)
    owner = _staff(payload.owner, "owner") or request.user
    team = [u for pk in payload.team_members if (u := _staff(pk, "team_members")) is not None]
    plan = services.plan_create(
        by=request.user, account=account, group=group, year=payload.year, kind=payload.kind,
        owner=owner, team=team, start=payload.start, end=payload.end, ambition=payload.ambition,
    )  # fmt: skip
    return 201, _one(request, plan)


class PlanningPlanPatch(InSchema):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["acquire", "expand", "retain"] | None = None
    owner: Id | None = None
    team_members: list[Id] | None = Field(None, max_length=30)
    start: Day | None = None
    end: Day | None = None
    ambition: str | None = Field(None, max_length=4000)


@router.patch("/planning/plans/{plan_id}", response={200: PlanningPlanOut, **ERRORS},
              summary="Change a plan's type, owner, team, period or ambition")  # fmt: skip
def plan_patch(request: HttpRequest, plan_id: Id, payload: PlanningPlanPatch) -> dict[str, Any]:
    plan = _plan(request, plan_id)
    team = None
    if payload.team_members is not None:
        team = [u for pk in payload.team_members if (u := _staff(pk, "team_members")) is not None]
    plan = services.plan_update(
        by=request.user, plan=plan, kind=payload.kind, owner=_staff(payload.owner, "owner"),
        team=team, start=payload.start, end=payload.end, ambition=payload.ambition,
    )  # fmt: skip
    return _one(request, plan)


@router.post("/planning/plans/{plan_id}/submit", response={200: PlanningPlanOut, **ERRORS},
             summary="Send the plan to the key-account department for review")  # fmt: skip
def plan_submit(request: HttpRequest, plan_id: Id) -> dict[str, Any]:
    plan = services.plan_submit(by=request.user, plan=_plan(request, plan_id))
    return _one(request, plan)


class PlanningReviewIn(InSchema):
    decision: Literal["approved", "returned"]
    comment: str = Field("", max_length=4000)


@router.post("/planning/plans/{plan_id}/review", response={200: PlanningPlanOut, **ERRORS},
             summary="Sign a plan off or return it with comments (the department)")  # fmt: skip
def plan_review(request: HttpRequest, plan_id: Id, payload: PlanningReviewIn) -> dict[str, Any]:
    plan = _plan(request, plan_id)
    services.plan_review(by=request.user, plan=plan, decision=payload.decision,
                         comment=payload.comment)  # fmt: skip
    return _one(request, selectors.plan_get_for(request.user, plan.pk))


# --- objectives ------------------------------------------------------------------------------


class PlanningObjectiveIn(InSchema):
    model_config = ConfigDict(extra="forbid")

    metric: MetricName
    title: str = Field("", max_length=300)
    baseline: Amount | None = Field(None, description="required: where the metric stood")
    target: Amount | None = None
    target_date: Day | None = None


@router.get("/planning/plans/{plan_id}/objectives",
            response={200: list[PlanningObjectiveOut], **ERRORS},
            summary="A plan's objectives with their progress computed from data")  # fmt: skip
def objective_list(request: HttpRequest, plan_id: Id) -> list[dict[str, Any]]:
    row = selectors.plan_rows([_plan(request, plan_id)], request.user)[0]
    return [_objective_out(v) for v in row.objectives]


@router.post("/planning/plans/{plan_id}/objectives",
             response={201: PlanningObjectiveOut, **ERRORS}, summary="Add an objective")  # fmt: skip
def objective_create(
    request: HttpRequest, plan_id: Id, payload: PlanningObjectiveIn
) -> tuple[int, dict[str, Any]]:
    plan = _plan(request, plan_id)
    objective = services.objective_add(by=request.user, plan=plan, **payload.dict())
    return 201, _objective_view(request, objective)


def _objective_view(request: HttpRequest, objective: Objective) -> dict[str, Any]:
    row = selectors.plan_rows([objective.plan], request.user)[0]
    view = next(v for v in row.objectives if v.objective.pk == objective.pk)
    return _objective_out(view)


def _objective(request: HttpRequest, objective_id: int) -> Objective:
    _visible(request)
    return Objective.objects.select_related("plan").get(
        pk=objective_id, plan__in=selectors.plan_list_for(request.user)
    )


@router.put("/planning/objectives/{objective_id}", response={200: PlanningObjectiveOut, **ERRORS},
            summary="Change an objective")  # fmt: skip
def objective_put(
    request: HttpRequest, objective_id: Id, payload: PlanningObjectiveIn
) -> dict[str, Any]:
    objective = _objective(request, objective_id)
    services.objective_update(by=request.user, objective=objective, **payload.dict())
    return _objective_view(request, objective)


@router.delete("/planning/objectives/{objective_id}", response={204: None, **ERRORS},
               summary="Remove an objective")  # fmt: skip
def objective_delete(request: HttpRequest, objective_id: Id) -> tuple[int, None]:
    services.objective_delete(by=request.user, objective=_objective(request, objective_id))
    return 204, None


# --- actions ---------------------------------------------------------------------------------


def _action_out(a: Action, today: datetime.date) -> dict[str, Any]:
    return {"id": a.pk, "plan": a.plan_id, "title": a.title, "horizon": a.horizon,
            "owner": a.owner_id, "due_date": a.due_date, "resources": a.resources,
            "status": a.tracked_status, "follow_up": a.follow_up_id,
            "overdue": a.overdue_on(today)}  # fmt: skip


class PlanningActionPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[PlanningActionOut]


class PlanningPageQuery(Schema):
    page: int = Field(1, ge=1, le=1_000_000)


@router.get("/planning/plans/{plan_id}/actions", response={200: PlanningActionPage, **ERRORS},
            summary="A plan's actions, 30-day ones first, a page at a time")  # fmt: skip
def action_list(
    request: HttpRequest, plan_id: Id, params: Query[PlanningPageQuery]
) -> dict[str, Any]:
    rows = selectors.plan_actions(_plan(request, plan_id))
    offset = (params.page - 1) * PAGE_SIZE
    today = timezone.localdate()
    return {"count": rows.count(), "page": params.page, "page_size": PAGE_SIZE,
            "items": [_action_out(a, today) for a in rows[offset : offset + PAGE_SIZE]]}  # fmt: skip


class PlanningActionIn(InSchema):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=300)
    horizon: Literal[30, 60, 90]
    owner: Id | None = Field(None, description="default: you")
    due_date: Day | None = None
    resources: str = Field("", max_length=1000)
    status: Literal["open", "in_progress", "done", "cancelled"] | None = None


@router.post("/planning/plans/{plan_id}/actions", response={201: PlanningActionOut, **ERRORS},
             summary="Add a 30 / 60 / 90-day action")  # fmt: skip
def action_create(
    request: HttpRequest, plan_id: Id, payload: PlanningActionIn
) -> tuple[int, dict[str, Any]]:
    plan = _plan(request, plan_id)
    action = services.action_add(
        by=request.user, plan=plan, title=payload.title, horizon=payload.horizon,
        owner=_staff(payload.owner, "owner") or request.user, due_date=payload.due_date,
        resources=payload.resources,
    )  # fmt: skip
    return 201, _action_out(action, timezone.localdate())


def _action(request: HttpRequest, action_id: int) -> Action:
    _visible(request)
    return Action.objects.select_related("plan", "follow_up").get(
        pk=action_id, plan__in=selectors.plan_list_for(request.user)
    )


@router.put("/planning/actions/{action_id}", response={200: PlanningActionOut, **ERRORS},
            summary="Change an action")  # fmt: skip
def action_put(request: HttpRequest, action_id: Id, payload: PlanningActionIn) -> dict[str, Any]:
    action = _action(request, action_id)
    action = services.action_update(
        by=request.user, action=action, title=payload.title, horizon=payload.horizon,
        owner=_staff(payload.owner, "owner") or action.owner, due_date=payload.due_date,
        resources=payload.resources, status=payload.status,
    )  # fmt: skip
    return _action_out(action, timezone.localdate())


@router.post("/planning/actions/{action_id}/follow-up", response={200: PlanningActionOut, **ERRORS},
             summary="Make the action a coverage follow-up (tracked and escalated there)")  # fmt: skip
def action_track(request: HttpRequest, action_id: Id) -> dict[str, Any]:
    action = services.action_track(by=request.user, action=_action(request, action_id))
    return _action_out(action, timezone.localdate())


# --- opportunities ---------------------------------------------------------------------------

StageName = Literal["identified", "qualified", "proposal", "negotiation", "won", "lost"]


class PlanningInfluenceOut(Schema):
    contact: int | None = Field(description="null for a caller who does not see contacts")
    name: str = Field(description="empty for a caller who does not see contacts")
    role: str


class PlanningOpportunityOut(Schema):
    id: int
    account: int
    account_name: str
    solution: int
    solution_code: str
    title: str
    owner: int
    annual_revenue: Decimal
    annual_margin: Decimal
    probability: int
    weighted_revenue: Decimal
    expected_close: datetime.date
    stage: str
    qualifiers: dict[str, dict[str, bool]]
    stage_reason: str
    decision_criteria: str
    competitors: str
    closed_reason: str
    closed_on: datetime.date | None
    finding: int | None
    influences: list[PlanningInfluenceOut]


class PlanningOpportunityPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[PlanningOpportunityOut]


def _opportunity_outs(request: HttpRequest, opps: list[Opportunity]) -> list[dict[str, Any]]:
    """The opportunities with their buying influences (one query for all of them); the
    contacts (id and name) only for those who see contacts, the roles for all."""
    names = access.sees_contacts(request.user)
    influences: dict[int, list[dict[str, Any]]] = {o.pk: [] for o in opps}
    for i in BuyingInfluence.objects.filter(opportunity__in=[o.pk for o in opps]).select_related(
        "contact"
    ):  # fmt: skip
        influences[i.opportunity_id].append(
            {
                "contact": i.contact_id if names else None,
                "name": i.contact.name if names else "",
                "role": i.role,
            }  # fmt: skip
        )
    return [
        {"id": o.pk, "account": o.account_id, "account_name": o.account.name,
         "solution": o.solution_id, "solution_code": o.solution.code, "title": o.title,
         "owner": o.owner_id, "annual_revenue": o.annual_revenue,
         "annual_margin": o.annual_margin, "probability": o.probability,
         "weighted_revenue": o.weighted.quantize(Decimal("0.01")),
         "expected_close": o.expected_close, "stage": o.stage, "qualifiers": o.qualifiers or {},
         "stage_reason": o.stage_reason, "decision_criteria": o.decision_criteria,
         "competitors": o.competitors, "closed_reason": o.closed_reason,
         "closed_on": o.closed_on, "finding": o.finding_id, "influences": influences[o.pk]}
        for o in opps
    ]  # fmt: skip


def _opportunity(request: HttpRequest, opportunity_id: int) -> Opportunity:
    _visible(request)
    return selectors.opportunity_get_for(request.user, opportunity_id)


def _opp_one(request: HttpRequest, opportunity_id: int) -> dict[str, Any]:
    return _opportunity_outs(request, [_opportunity(request, opportunity_id)])[0]


class PlanningOpportunityQuery(Schema):
    stage: Literal["open", "identified", "qualified", "proposal", "negotiation", "won",
                   "lost"] | None = None  # fmt: skip
    solution: Id | None = None
    owner: Id | None = None
    tier: int | None = Field(None, ge=1, le=5)
    account: Id | None = None
    sort: Literal[tuple(selectors.OPPORTUNITY_SORTS)] = "close"  # type: ignore[valid-type]
    page: int = Field(1, ge=1, le=1_000_000)


@router.get("/planning/opportunities", response={200: PlanningOpportunityPage, **ERRORS},
            summary="Opportunities of the accounts you see, a page at a time")  # fmt: skip
def opportunity_list(
    request: HttpRequest, params: Query[PlanningOpportunityQuery]
) -> dict[str, Any]:
    _visible(request)
    f = selectors.OpportunityFilters(
        stage=params.stage or "", solution=params.solution, owner=params.owner,
        tier=params.tier, account=params.account, sort=params.sort,
    )  # fmt: skip
    opps = selectors.opportunity_search(request.user, f)
    offset = (params.page - 1) * PAGE_SIZE
    shown = list(opps[offset : offset + PAGE_SIZE])
    return {"count": opps.count(), "page": params.page, "page_size": PAGE_SIZE,
            "items": _opportunity_outs(request, shown)}  # fmt: skip


@router.get("/planning/opportunities/{opportunity_id}",
            response={200: PlanningOpportunityOut, **ERRORS}, summary="One opportunity")  # fmt: skip
def opportunity_get(request: HttpRequest, opportunity_id: Id) -> dict[str, Any]:
    return _opp_one(request, opportunity_id)


class PlanningInfluenceIn(InSchema):
    contact: Id
    role: Literal["economic_buyer", "user_buyer", "technical_buyer", "coach", "other"]


class PlanningOpportunityIn(InSchema):
    model_config = ConfigDict(extra="forbid")

    account: Id
    solution: Id
    owner: Id | None = Field(None, description="default: you")
    title: str = Field("", max_length=200)
    annual_revenue: Amount
    annual_margin: Amount = Decimal(0)
    probability: int = Field(description="0 to 100 (%)", ge=-32768, le=32767)
    expected_close: Day
    decision_criteria: str = Field("", max_length=4000)
    competitors: str = Field("", max_length=4000)
    finding: Id | None = Field(None, description="a visit-report finding of the same account")
    influences: list[PlanningInfluenceIn] = Field(default_factory=list, max_length=50)


def _solution(pk: int | None) -> Any:
    if pk is None:
        return None
    solution = selectors.solutions().filter(pk=pk).first()
    if solution is None:
        raise ValidationError({"solution": _("Choose a solution from the catalogue.")})
    return solution


def _finding(request: HttpRequest, account: Account, pk: int | None) -> Any:
    if pk is None:
        return None
    finding = selectors.linkable_account_findings(request.user, account).filter(pk=pk).first()
    if finding is None:
        raise ValidationError(
            {"finding": _("The finding must come from a visit report on this account.")}
        )
    return finding


@router.post("/planning/opportunities", response={201: PlanningOpportunityOut, **ERRORS},
             summary="Create an opportunity for an account you plan")  # fmt: skip
def opportunity_create(
    request: HttpRequest, payload: PlanningOpportunityIn
) -> tuple[int, dict[str, Any]]:
    _visible(request)
    account = account_get_for(request.user, payload.account)
    opp = services.opportunity_create(
        by=request.user, account=account, solution=_solution(payload.solution),
        owner=_staff(payload.owner, "owner") or request.user, title=payload.title,
        annual_revenue=payload.annual_revenue, annual_margin=payload.annual_margin,
        probability=payload.probability, expected_close=payload.expected_close,
        decision_criteria=payload.decision_criteria, competitors=payload.competitors,
        finding=_finding(request, account, payload.finding),
        influences=[(i.contact, i.role) for i in payload.influences],
    )  # fmt: skip
    return 201, _opp_one(request, opp.pk)


class PlanningOpportunityPatch(InSchema):
    model_config = ConfigDict(extra="forbid")

    solution: Id | None = None
    owner: Id | None = None
    title: str | None = Field(None, max_length=200)
    annual_revenue: Amount | None = None
    annual_margin: Amount | None = None
    probability: int | None = Field(None, ge=-32768, le=32767)
    expected_close: Day | None = None
    decision_criteria: str | None = Field(None, max_length=4000)
    competitors: str | None = Field(None, max_length=4000)
    influences: list[PlanningInfluenceIn] | None = Field(None, max_length=50)


@router.patch("/planning/opportunities/{opportunity_id}",
              response={200: PlanningOpportunityOut, **ERRORS},
              summary="Change an opportunity's figures, texts or buying influences")  # fmt: skip
def opportunity_patch(
    request: HttpRequest, opportunity_id: Id, payload: PlanningOpportunityPatch
) -> dict[str, Any]:
    opp = _opportunity(request, opportunity_id)
    data = payload.dict(exclude_unset=True)
    influences = data.pop("influences", None)
    if "solution" in data:
        data["solution"] = _solution(data["solution"])
    if "owner" in data:
        data["owner"] = _staff(data["owner"], "owner")
    services.opportunity_update(
        by=request.user, opportunity=opp, **{k: v for k, v in data.items() if v is not None},
        influences=None if influences is None else [(i["contact"], i["role"]) for i in influences],
    )  # fmt: skip
    return _opp_one(request, opp.pk)


class PlanningMoveIn(InSchema):
    model_config = ConfigDict(extra="forbid")

    stage: StageName
    answers: dict[str, dict[str, bool]] = Field(
        default_factory=dict, description="{stage: {qualifier: yes/no}}"
    )
    reason: str = Field("", max_length=1000)


@router.post("/planning/opportunities/{opportunity_id}/advance",
             response={200: PlanningOpportunityOut, **ERRORS},
             summary="Answer qualifiers and move an opportunity to a stage (won / lost with a reason)")  # fmt: skip
def opportunity_advance(
    request: HttpRequest, opportunity_id: Id, payload: PlanningMoveIn
) -> dict[str, Any]:
    opp = _opportunity(request, opportunity_id)
    services.opportunity_move(by=request.user, opportunity=opp, stage=payload.stage,
                              answers=payload.answers, reason=payload.reason)  # fmt: skip
    return _opp_one(request, opp.pk)


# --- whitespace and the department's measures ---------------------------------------------


class PlanningWhitespaceCellOut(Schema):
    solution: int
    solution_code: str
    state: Literal["open", "won", "in_use", "lost", "not_offered"]
    evidence: str = Field(description="the cell's explanation, with the ledger's evidence")
    opportunity: int | None


class PlanningWhitespaceRowOut(Schema):
    account: int
    account_name: str
    tier: int | None
    cells: list[PlanningWhitespaceCellOut]


class PlanningWhitespacePage(Schema):
    count: int
    page: int
    page_size: int
    items: list[PlanningWhitespaceRowOut]


class PlanningWhitespaceQuery(Schema):
    group: Id | None = None
    mine: bool = False
    tier: int | None = Field(None, ge=1, le=5)
    owner: Id | None = None
    industry: Id | None = None
    q: str = Field("", max_length=100)
    sort: Literal["name", "tier", "-tier"] = "tier"
    page: int = Field(1, ge=1, le=1_000_000)


@router.get("/planning/whitespace", response={200: PlanningWhitespacePage, **ERRORS},
            summary="Accounts you see × solutions: in use, open, won, lost or not offered")  # fmt: skip
def whitespace_list(request: HttpRequest, params: Query[PlanningWhitespaceQuery]) -> dict[str, Any]:
    from . import whitespace  # noqa: PLC0415

    _visible(request)
    if params.group and not group_list_for(request.user).filter(pk=params.group).exists():
        raise Http404
    f = whitespace.Filters(group=params.group, mine=params.mine, tier=params.tier,
                           owner=params.owner, industry=params.industry, q=params.q.strip(),
                           sort=params.sort)  # fmt: skip
    ids = whitespace.accounts(request.user, f).values_list("pk", flat=True)
    offset = (params.page - 1) * PAGE_SIZE
    shown = list(ids[offset : offset + PAGE_SIZE])
    solutions = list(selectors.solutions())
    grid = whitespace.cells(request.user, shown, solutions)
    accounts = {a.pk: a for a in Account.objects.filter(pk__in=shown).only("pk", "name", "tier")}
    return {"count": ids.count(), "page": params.page, "page_size": PAGE_SIZE, "items": [
        {"account": pk, "account_name": accounts[pk].name, "tier": accounts[pk].tier,
         "cells": [{"solution": s.pk, "solution_code": s.code, "state": grid[pk][s.pk].state,
                    "evidence": grid[pk][s.pk].title,
                    "opportunity": grid[pk][s.pk].opportunity} for s in solutions]}
        for pk in shown
    ]}  # fmt: skip


class PlanningCoverageOut(Schema):
    tier: int
    accounts: int
    planned: int
    reviewed: int
    share: float | None = Field(
        description="per cent of the accounts with a current, reviewed plan"
    )


class PlanningStageOut(Schema):
    stage: str
    count: int
    revenue: Decimal
    weighted: Decimal


class PlanningMeasuresOut(Schema):
    as_of: datetime.date
    plan_coverage: list[PlanningCoverageOut]
    objectives: dict[str, int] = Field(description="this year's objectives by status")
    pipeline: list[PlanningStageOut]


@router.get("/planning/measures", response={200: PlanningMeasuresOut, **ERRORS},
            summary="The department's planning measures (department, directors, analysts)")  # fmt: skip
def measures_get(request: HttpRequest) -> dict[str, Any]:
    from . import measures  # noqa: PLC0415

    if not measures.may_see(request.user):
        raise Http404
    today = timezone.localdate()
    return {
        "as_of": today,
        "plan_coverage": [{"tier": c.tier, "accounts": c.accounts, "planned": c.planned,
                           "reviewed": c.reviewed, "share": c.share}
                          for c in measures.plan_coverage(request.user, today)],
        "objectives": measures.objective_counts(request.user, today).counts,
        "pipeline": [{k: r[k] for k in ("stage", "count", "revenue", "weighted")}
                     for r in measures.pipeline_by_stage(request.user, today)],
    }  # fmt: skip


# --- stakeholder map and account health --------------------------------------------------------


class PlanningStakeholderOut(Schema):
    contact: int | None = Field(description="null for callers who do not see contacts")
    name: str = Field(description='"" for callers who do not see contacts')
    title: str
    buying_role: str
    attitude: str
    influence: str
    closeness: int
    trust: int
    favour: int
    last_met: datetime.date | None
    key: bool = Field(description="a decision maker, a coach, or of high influence")
    staff: list[str] = Field(description="our staff who know them (names; empty without contacts)")


class PlanningWarningOut(Schema):
    rule: Literal["no_decision_maker", "no_coach", "opponent", "stale_contact", "no_sponsor"]
    text: str
    todo: str
    contact: int | None


class PlanningStakeholderMapOut(Schema):
    account: int
    sponsors: list[str]
    people: list[PlanningStakeholderOut]
    warnings: list[PlanningWarningOut]


def _account(request: HttpRequest, account_id: int) -> Account:
    _visible(request)
    return account_get_for(request.user, account_id)


@router.get("/planning/accounts/{account_id}/stakeholders",
            response={200: PlanningStakeholderMapOut, **ERRORS},
            summary="An account's stakeholder map (buying roles, attitude, influence, ties) and coverage warnings")  # fmt: skip
def account_stakeholders(request: HttpRequest, account_id: Id) -> dict[str, Any]:
    from .health_views import stakeholder_context  # noqa: PLC0415

    account = _account(request, account_id)
    block = stakeholder_context(request.user, [account], today=timezone.localdate())[0]
    names = block["names"]
    return {
        "account": account.pk,
        "sponsors": block["people"].sponsors,
        "people": [{
            "contact": p.pk if names else None, "name": p.name if names else "",
            "title": p.title if names else "", "buying_role": p.role, "attitude": p.attitude,
            "influence": p.influence, "closeness": p.closeness, "trust": p.trust,
            "favour": p.favour, "last_met": p.last_met, "key": p.key,
            "staff": [n for n, _s in p.staff] if names else [],
        } for p in block["people"].people],
        "warnings": [{"rule": w.rule, "text": w.text, "todo": w.todo,
                      "contact": w.contact_id if names else None} for w in block["warnings"]],
    }  # fmt: skip


class PlanningHealthPartOut(Schema):
    part: Literal["plan", "players", "freshness", "satisfaction", "value", "service", "alerts"]
    label: str
    score: int | None = Field(description="0-100; null when the part has no data (left out)")
    weight: int
    text: str = Field(description="what the score rests on")
    todo: str = Field(description='what to do about it ("" when nothing)')


class PlanningHealthPointOut(Schema):
    day: datetime.date
    score: int


class PlanningHealthOut(Schema):
    account: int
    score: int = Field(ge=0, le=100)
    day: datetime.date | None = Field(description="the stored snapshot's day; null: computed now")
    parts: list[PlanningHealthPartOut]
    history: list[PlanningHealthPointOut] = Field(description="stored scores, oldest first")


@router.get("/planning/accounts/{account_id}/health",
            response={200: PlanningHealthOut, **ERRORS},
            summary="An account's health score with each part explained, and its history")  # fmt: skip
def account_health(request: HttpRequest, account_id: Id) -> dict[str, Any]:
    from . import health  # noqa: PLC0415

    account = _account(request, account_id)
    view = health.account_health(account, today=timezone.localdate())
    return {
        "account": account.pk, "score": view.score, "day": view.day,
        "parts": [{"part": p.key, "label": p.label, "score": p.score, "weight": p.weight,
                   "text": p.text, "todo": p.todo} for p in view.parts],
        "history": [{"day": d, "score": s} for d, s in view.history],
    }  # fmt: skip


# --- share of wallet and relationship stages (kam/planning/wallet.py, stages.py) ------------------


class PlanningCompetitorOut(Schema):
    id: int
    name: str
    name_en: str
    active: bool


@router.get("/planning/competitors", response={200: list[PlanningCompetitorOut], **ERRORS},
            summary="The competitors the department keeps")  # fmt: skip
def competitor_list(request: HttpRequest) -> list[dict[str, Any]]:
    _visible(request)
    from . import wallet  # noqa: PLC0415

    return [{"id": c.pk, "name": c.name, "name_en": c.name_en, "active": c.active}
            for c in wallet.competitors(active_only=False)]  # fmt: skip


class PlanningShareOut(Schema):
    competitor: int
    name: str
    share: Decimal


class PlanningEstimateOut(Schema):
    id: int
    account: int
    as_of: datetime.date
    total_spend: Decimal
    source: str
    source_note: str
    confidence: str
    inhouse_share: Decimal
    our_revenue: Decimal = Field(description="our trailing-12-month revenue when it was entered")
    our_share: float | None = Field(description="our share then, in per cent")
    shares: list[PlanningShareOut]


class PlanningWalletOut(Schema):
    account: int
    wallet: Decimal | None = Field(description="the latest estimate, else the archive's figure")
    source: Literal["estimate", "archive", ""]
    revenue_12m: Decimal = Field(description="ours, over the ledger's trailing 12 months")
    our_share: float | None
    headroom: Decimal | None
    estimates: list[PlanningEstimateOut] = Field(description="newest first")


def _estimate_out(v: Any) -> dict[str, Any]:
    e = v.estimate
    return {"id": e.pk, "account": e.account_id, "as_of": e.as_of, "total_spend": e.total_spend,
            "source": e.source, "source_note": e.source_note, "confidence": e.confidence,
            "inhouse_share": e.inhouse_share, "our_revenue": e.our_revenue,
            "our_share": v.our_share,
            "shares": [{"competitor": s.competitor_id, "name": s.competitor.name,
                        "share": s.share} for s in v.shares]}  # fmt: skip


def _wallet_out(account: Account) -> dict[str, Any]:
    from . import wallet  # noqa: PLC0415

    w = wallet.account_wallet(account)
    return {"account": account.pk, "wallet": w.wallet, "source": w.source,
            "revenue_12m": w.revenue, "our_share": w.our_share, "headroom": w.headroom,
            "estimates": [_estimate_out(v) for v in w.history]}  # fmt: skip


@router.get("/planning/accounts/{account_id}/wallet", response={200: PlanningWalletOut, **ERRORS},
            summary="An account's share of wallet and its estimates over time")  # fmt: skip
def wallet_get(request: HttpRequest, account_id: Id) -> dict[str, Any]:
    _visible(request)
    return _wallet_out(account_get_for(request.user, account_id))


class PlanningShareIn(InSchema):
    model_config = ConfigDict(extra="forbid")

    competitor: Id
    share: Decimal = Field(max_digits=7, decimal_places=2)


class PlanningEstimateIn(InSchema):
    model_config = ConfigDict(extra="forbid")

    total_spend: Decimal = Field(max_digits=16, decimal_places=2)
    source: Literal["customer", "tender", "report", "field", "benchmark"]
    confidence: Literal["low", "medium", "high"]
    as_of: Day | None = None
    source_note: str = Field("", max_length=500)
    inhouse_share: Decimal = Field(Decimal(0), max_digits=7, decimal_places=2)
    shares: list[PlanningShareIn] = Field(default_factory=list, max_length=30)


@router.post("/planning/accounts/{account_id}/wallet-estimates",
             response={201: PlanningWalletOut, **ERRORS},
             summary="Add an estimate of an account's total logistics spend")  # fmt: skip
def wallet_estimate_create(
    request: HttpRequest, account_id: Id, payload: PlanningEstimateIn
) -> tuple[int, dict[str, Any]]:
    from . import wallet  # noqa: PLC0415

    _visible(request)
    account = account_get_for(request.user, account_id)
    wallet.estimate_add(
        by=request.user, account=account, total_spend=payload.total_spend, source=payload.source,
        confidence=payload.confidence, as_of=payload.as_of, source_note=payload.source_note,
        inhouse_share=payload.inhouse_share,
        shares=[(s.competitor, s.share) for s in payload.shares],
    )  # fmt: skip
    return 201, _wallet_out(account)


class PlanningStageChangeOut(Schema):
    id: int
    account: int
    from_stage: str
    to_stage: str
    on: datetime.date
    days_in_stage: int = Field(description="until the next change, or today")
    reason: str
    proposal: int | None
    by: int | None


class PlanningStageHistoryOut(Schema):
    account: int
    stage: str
    since: datetime.date
    changes: list[PlanningStageChangeOut] = Field(description="newest first")


@router.get("/planning/accounts/{account_id}/stage-history",
            response={200: PlanningStageHistoryOut, **ERRORS},
            summary="An account's relationship stage, since when, and its changes")  # fmt: skip
def stage_history(request: HttpRequest, account_id: Id) -> dict[str, Any]:
    from . import stages  # noqa: PLC0415

    _visible(request)
    account = account_get_for(request.user, account_id)
    return {"account": account.pk, "stage": account.stage, "since": stages.stage_since(account),
            "changes": [{"id": h.change.pk, "account": account.pk,
                         "from_stage": h.change.from_stage, "to_stage": h.change.to_stage,
                         "on": h.change.on, "days_in_stage": h.days, "reason": h.change.reason,
                         "proposal": h.change.proposal_id, "by": h.change.by_id}
                        for h in stages.account_history(account)]}  # fmt: skip


class PlanningEvidenceOut(Schema):
    stage: str
    criterion: str
    required: Any
    value: Any
    met: bool | None = Field(description="null: not in the data, a person confirms it")


class PlanningStageProposalOut(Schema):
    id: int
    account: int
    from_stage: str
    to_stage: str
    criteria_version: int
    evidence: list[PlanningEvidenceOut]
    reason: str
    status: Literal["open", "accepted", "overridden"]
    proposed_by: int | None
    created_at: datetime.datetime
    decided_by: int | None
    decided_at: datetime.datetime | None
    decision_reason: str


class PlanningStageProposalPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[PlanningStageProposalOut]


def _proposal_out(p: Any) -> dict[str, Any]:
    return {"id": p.pk, "account": p.account_id, "from_stage": p.from_stage,
            "to_stage": p.to_stage, "criteria_version": p.criteria.version,
            "evidence": p.evidence, "reason": p.reason, "status": p.status,
            "proposed_by": p.proposed_by_id, "created_at": p.created_at,
            "decided_by": p.decided_by_id, "decided_at": p.decided_at,
            "decision_reason": p.decision_reason}  # fmt: skip


class PlanningStageProposalQuery(Schema):
    status: Literal["open", "accepted", "overridden"] | None = None
    to_decide: bool = Field(False, description="only the open ones the caller decides")
    page: int = Field(1, ge=1, le=100000)


@router.get("/planning/stage-proposals", response={200: PlanningStageProposalPage, **ERRORS},
            summary="Stage proposals of the accounts you see")  # fmt: skip
def stage_proposal_list(
    request: HttpRequest, q: Query[PlanningStageProposalQuery]
) -> dict[str, Any]:
    from . import stages  # noqa: PLC0415

    _visible(request)
    qs = (stages.proposals_to_decide(request.user) if q.to_decide
          else stages.proposal_list_for(request.user))  # fmt: skip
    if q.status:
        qs = qs.filter(status=q.status)
    qs = qs.order_by("-created_at", "-id")
    start = (q.page - 1) * PAGE_SIZE
    return {"count": qs.count(), "page": q.page, "page_size": PAGE_SIZE,
            "items": [_proposal_out(p) for p in qs[start:start + PAGE_SIZE]]}  # fmt: skip


RelationshipStage = Literal["exploratory", "basic", "cooperative", "interdependent", "integrated"]


class PlanningStageProposeIn(InSchema):
    model_config = ConfigDict(extra="forbid")

    stage: RelationshipStage | None = Field(None, description="empty: the stage the data support")
    reason: str = Field("", max_length=1000)


@router.post("/planning/accounts/{account_id}/stage-proposals",
             response={201: PlanningStageProposalOut, **ERRORS},
             summary="Propose a change of an account's relationship stage")  # fmt: skip
def stage_proposal_create(
    request: HttpRequest, account_id: Id, payload: PlanningStageProposeIn
) -> tuple[int, dict[str, Any]]:
    from . import stages  # noqa: PLC0415

    _visible(request)
    account = account_get_for(request.user, account_id)
    proposal = stages.proposal_create(by=request.user, account=account,
                                      to_stage=payload.stage or "", reason=payload.reason)  # fmt: skip
    return 201, _proposal_out(stages.proposal_list_for(request.user).get(pk=proposal.pk))


class PlanningStageDecideIn(InSchema):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["accept", "override"]
    reason: str = Field("", max_length=1000)
    stage: RelationshipStage | None = Field(None, description="overriding: the stage to set")
    confirmed: list[str] = Field(default_factory=list, max_length=20,
                                 description="criteria without data the decider confirms")  # fmt: skip


@router.post("/planning/stage-proposals/{proposal_id}/decide",
             response={200: PlanningStageProposalOut, **ERRORS},
             summary="Accept a stage proposal, or override it with a reason")  # fmt: skip
def stage_proposal_decide(
    request: HttpRequest, proposal_id: Id, payload: PlanningStageDecideIn
) -> dict[str, Any]:
    from . import stages  # noqa: PLC0415

    _visible(request)
    proposal = stages.proposal_list_for(request.user).get(pk=proposal_id)
    stages.proposal_decide(by=request.user, proposal=proposal,
                           accept=payload.decision == "accept", reason=payload.reason,
                           stage=payload.stage or "", confirmed=payload.confirmed)  # fmt: skip
    return _proposal_out(stages.proposal_list_for(request.user).get(pk=proposal.pk))
