"""The coverage app's API, mounted under /api/v1/: policy, plans, visits, reports,
follow-ups and measures."""

import datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from kam.accounts.selectors import account_get_for
from kam.core import access
from kam.core.api import ErrorOut, Id, InSchema
from kam.core.models import User

from . import selectors, services
from .models import FollowUp, Visit

router = Router(tags=["coverage"])

#: A day the product plans for; far-off years are refused (422) rather than overflowing
#: date arithmetic.
Day = Annotated[datetime.date, Field(ge=datetime.date(2000, 1, 1), le=datetime.date(2100, 12, 31))]

ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                          409: ErrorOut, 422: ErrorOut}  # fmt: skip


def _customer_data(request: HttpRequest) -> None:
    if not access.sees_customer_data(request.user):
        raise Http404


# --- policy ---------------------------------------------------------------------------------


class CoverageRuleIn(InSchema):
    tier: int = Field(ge=1, le=5)
    category: Literal["", "economic", "group", "strategic", "important", "potential"] = ""
    coverage_model: Literal["resident", "representative", "industry", "territory"]
    cadence_days: int = Field(description="a visit every n days; at least 1", le=366)
    executive_every: int = Field(0, ge=0, le=52)
    survey_months: int = Field(12, ge=1, le=60)


class CoverageRuleOut(Schema):
    tier: int
    category: str
    coverage_model: str
    cadence_days: int
    executive_every: int
    survey_months: int


class CoveragePolicyOut(Schema):
    version: int
    note: str
    published_at: datetime.datetime
    rules: list[CoverageRuleOut]


class CoveragePolicyIn(InSchema):
    rules: list[CoverageRuleIn] = Field(max_length=60)
    note: str = Field("", max_length=300)


def _policy_out(version: Any) -> dict[str, Any]:
    return {"version": version.number, "note": version.note, "published_at": version.created_at,
            "rules": list(version.rules.all())}  # fmt: skip


@router.get(
    "/coverage/policy", response={200: CoveragePolicyOut, **ERRORS}, summary="The policy in force"
)
def policy_get(request: HttpRequest) -> dict[str, Any]:
    _customer_data(request)
    return _policy_out(services.policy_current())


@router.post("/coverage/policy", response={201: CoveragePolicyOut, **ERRORS},
             summary="Publish a new policy version (directors)")  # fmt: skip
def policy_post(request: HttpRequest, payload: CoveragePolicyIn) -> tuple[int, dict[str, Any]]:
    version = services.policy_publish(
        by=request.user, rules_in=[r.dict() for r in payload.rules], note=payload.note
    )
    return 201, _policy_out(version)


# --- plans ----------------------------------------------------------------------------------


class CoveragePlanIn(InSchema):
    start: Day
    weeks: int = Field(12, description="1 to 26")


class CoverageUnservedOut(Schema):
    account: int
    name: str
    person: int | None
    due: str
    reason: Literal["no_person", "no_capacity", "no_working_day", "no_capacity_set", "too_far"]
    value: str


class CoveragePlanWarningOut(Schema):
    code: Literal["calendar_unconfirmed", "unknown_cities"] = Field(
        description="calendar_unconfirmed: the plan reaches a year whose official holidays "
        "have not been entered (years); unknown_cities: cities without coordinates (cities)"
    )
    message: str = Field(description="in the caller's language; says how to put it right")
    years: list[int]
    cities: list[str]


class CoveragePlanOut(Schema):
    id: int
    start: datetime.date
    weeks: int
    policy_version: int
    due: int
    placed: int
    km: int = Field(
        description="km travelled on every planned day of the whole plan (road km, also for legs by rail or air)"
    )
    unserved: list[CoverageUnservedOut]
    warnings: list[CoveragePlanWarningOut]


def _plan_out(plan: Any, user: User) -> dict[str, Any]:
    view = selectors.plan_view_for(user, plan)
    return {
        "id": plan.pk, "start": plan.start, "weeks": plan.weeks,
        "policy_version": plan.policy.number, "due": view.due, "placed": view.placed,
        "km": plan.km, "unserved": view.unserved, "warnings": selectors.plan_warnings(plan),
    }  # fmt: skip


@router.post("/coverage/plans", response={201: CoveragePlanOut, **ERRORS},
             summary="Generate the visit plan (director, department)")  # fmt: skip
def plan_post(request: HttpRequest, payload: CoveragePlanIn) -> tuple[int, dict[str, Any]]:
    plan = services.plan_generate(by=request.user, start=payload.start, weeks=payload.weeks)
    return 201, _plan_out(plan, request.user)


@router.get("/coverage/plans/latest", response={200: CoveragePlanOut, **ERRORS},
            summary="The last plan generated")  # fmt: skip
def plan_latest(request: HttpRequest) -> dict[str, Any]:
    _customer_data(request)
    plan = selectors.latest_plan()
    if plan is None:
        raise Http404
    return _plan_out(plan, request.user)


# --- visits ---------------------------------------------------------------------------------


class CoverageVisitOut(Schema):
    id: int
    account: int
    account_name: str
    person: int
    day: datetime.date
    due: datetime.date | None
    city_code: str
    executive: bool
    priority: bool
    status: str = Field(
        description="planned, done, cancelled or missed (a planned visit "
        "whose day passed without a report reads as missed)"
    )
    version: int
    report: int | None


def _visit_out(v: Visit) -> dict[str, Any]:
    return {
        "id": v.pk, "account": v.account_id, "account_name": v.account.name,
        "person": v.person_id, "day": v.day, "due": v.due, "city_code": v.city_code,
        "executive": v.executive, "priority": v.priority, "status": v.shown_status,
        "version": v.version, "report": getattr(getattr(v, "report", None), "pk", None),
    }  # fmt: skip


class CoverageVisitQuery(Schema):
    person: Id | None = None
    start: Day | None = None
    end: Day | None = None
    page: int = Field(1, ge=1, le=1_000_000)


class CoverageVisitPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[CoverageVisitOut]


PAGE_SIZE = 200


@router.get("/coverage/visits", response={200: CoverageVisitPage, **ERRORS},
            summary="Visits of the accounts you see (a person, a period)")  # fmt: skip
def visit_list(request: HttpRequest, params: Query[CoverageVisitQuery]) -> dict[str, Any]:
    _customer_data(request)
    visits = selectors.visits_for(request.user).select_related("report")
    if params.person:
        visits = visits.filter(person_id=params.person)
    if params.start:
        visits = visits.filter(day__gte=params.start)
    if params.end:
        visits = visits.filter(day__lte=params.end)
    offset = (params.page - 1) * PAGE_SIZE
    # The page's keys first (visits alone, in the user's scope), then its rows with their
    # joins: joining every visible visit's account and report before the sort made a
    # manager's first page read 24,000 of them on bench/web.
    keys = list(visits.order_by("day", "id").values_list("pk", flat=True)[offset: offset + PAGE_SIZE])  # fmt: skip
    rows = Visit.objects.select_related("account", "report").in_bulk(keys)
    return {"count": visits.count(), "page": params.page, "page_size": PAGE_SIZE,
            "items": [_visit_out(rows[pk]) for pk in keys]}  # fmt: skip


class CoverageMoveIn(InSchema):
    day: Day
    version: int | None = None


@router.post("/coverage/visits/{visit_id}/move", response={200: CoverageVisitOut, **ERRORS},
             summary="Move a planned visit to another working day")  # fmt: skip
def visit_move(request: HttpRequest, visit_id: Id, payload: CoverageMoveIn) -> dict[str, Any]:
    visit = selectors.visit_get_for(request.user, visit_id)
    visit = services.visit_move(by=request.user, visit=visit, day=payload.day,
                                version=payload.version)  # fmt: skip
    return _visit_out(Visit.objects.select_related("account").get(pk=visit.pk))


# --- reports --------------------------------------------------------------------------------


class CoverageFindingIn(InSchema):
    kind: Literal["need", "complaint", "competitor", "opportunity", "price", "service"]
    severity: int = Field(ge=1, le=4)
    text: str = Field(min_length=1, max_length=1000)


class CoverageFollowUpIn(InSchema):
    title: str = Field(min_length=1, max_length=300)
    owner: Id | None = None
    due_date: Day | None = None


class CoverageReportIn(InSchema):
    account: Id
    visit: Id | None = None
    visited_on: Day
    purpose: str = Field(min_length=1, max_length=300)
    summary: str = Field(min_length=1, max_length=8000)
    contacts: list[Id] = Field([], max_length=100)
    staff: list[Id] = Field([], max_length=50)
    findings: list[CoverageFindingIn] = Field([], max_length=50)
    follow_ups: list[CoverageFollowUpIn] = Field([], max_length=50)


class CoverageFollowUpOut(Schema):
    id: int
    account: int
    report: int | None = Field(
        description="the visit report it came from; null when another "
        "part of KAM opened it (origin says which)"
    )
    origin: str = Field("", description="where a follow-up without a report came from")
    title: str
    owner: int
    due_date: datetime.date
    status: str
    cancel_reason: str
    escalation: int
    overdue: bool


def _follow_up_out(f: FollowUp) -> dict[str, Any]:
    return {
        "id": f.pk, "account": f.account_id, "report": f.report_id, "origin": f.origin_label,
        "title": f.title,
        "owner": f.owner_id, "due_date": f.due_date, "status": f.status,
        "cancel_reason": f.cancel_reason, "escalation": f.escalation,
        "overdue": f.is_open and f.due_date < timezone.localdate(),
    }  # fmt: skip


class CoverageReportOut(Schema):
    id: int
    visit: int
    account: int
    status: str
    follow_ups: list[CoverageFollowUpOut]


@router.post("/coverage/reports", response={201: CoverageReportOut, **ERRORS},
             summary="File a visit report (走访表)")  # fmt: skip
def report_post(request: HttpRequest, payload: CoverageReportIn) -> tuple[int, dict[str, Any]]:
    account = account_get_for(request.user, payload.account)
    visit = selectors.visit_get_for(request.user, payload.visit) if payload.visit else None
    # Attendees are looked up among the contacts of this account that the caller sees: an
    # id of another account, of a contact they may not see, or of nobody is refused with
    # the same message naming only the ids sent (never a name, never a 404 for some).
    contacts = list(
        selectors.report_contacts(request.user, account).filter(pk__in=payload.contacts)
    )
    strangers = sorted(set(payload.contacts) - {c.pk for c in contacts})
    if strangers:
        raise ValidationError({"contacts": services.not_attendees_message(strangers)})
    staff = list(selectors.staff_choices().filter(pk__in=payload.staff))
    unknown = sorted(set(payload.staff) - {u.pk for u in staff})
    if unknown:
        raise ValidationError({"staff": _("Unknown colleagues: %(ids)s.")
                               % {"ids": ", ".join(map(str, unknown))}})  # fmt: skip
    owners = {u.pk: u for u in selectors.staff_choices().filter(
        pk__in=[f.owner for f in payload.follow_ups if f.owner])}  # fmt: skip
    for n, f in enumerate(payload.follow_ups, start=1):
        if f.owner and f.owner not in owners:
            raise ValidationError({"follow_ups": _("Follow-up %(n)d: unknown owner.") % {"n": n}})
    report = services.report_submit(
        by=request.user, account=account, visit=visit, visited_on=payload.visited_on,
        purpose=payload.purpose, summary=payload.summary, contacts=contacts, staff=staff,
        findings=[f.dict() for f in payload.findings],
        follow_ups=[{"title": f.title, "owner": owners.get(f.owner) if f.owner else None,
                     "due_date": f.due_date} for f in payload.follow_ups],
    )  # fmt: skip
    return 201, {"id": report.pk, "visit": report.visit_id, "account": account.pk,
                 "status": report.status,
                 "follow_ups": [_follow_up_out(f) for f in report.follow_ups.all()]}  # fmt: skip


# --- follow-ups -----------------------------------------------------------------------------


class CoverageFollowUpQuery(Schema):
    status: Literal["open", "in_progress", "done", "cancelled"] | None = None
    owner: Id | None = None
    overdue: bool = False
    page: int = Field(1, ge=1, le=1_000_000)


class CoverageFollowUpPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[CoverageFollowUpOut]


@router.get("/coverage/follow-ups", response={200: CoverageFollowUpPage, **ERRORS},
            summary="Follow-ups of the accounts you see, by due date, a page at a time")  # fmt: skip
def follow_up_list(request: HttpRequest, params: Query[CoverageFollowUpQuery]) -> dict[str, Any]:
    _customer_data(request)
    rows = selectors.follow_ups_for(request.user)
    if params.status:
        rows = rows.filter(status=params.status)
    if params.owner:
        rows = rows.filter(owner_id=params.owner)
    if params.overdue:
        rows = rows.filter(status__in=FollowUp.OPEN_STATUSES, due_date__lt=timezone.localdate())
    offset = (params.page - 1) * PAGE_SIZE
    # The page's keys first, then its rows with their joins (as the visits above): joined
    # before the sort, a manager's 1,800 follow-ups each read their report, visit, account
    # and owner (under the policies) to show 200 (bench/web).
    keys = list(rows.order_by("due_date", "id").values_list("pk", flat=True)[offset: offset + PAGE_SIZE])  # fmt: skip
    shown = rows.in_bulk(keys)
    return {"count": rows.count(), "page": params.page, "page_size": PAGE_SIZE,
            "items": [_follow_up_out(shown[pk]) for pk in keys]}  # fmt: skip


class CoverageFollowUpPatch(InSchema):
    # Every field is optional: a misspelt name is refused rather than ignored.
    model_config = ConfigDict(extra="forbid")

    status: Literal["open", "in_progress", "done", "cancelled"] | None = None
    cancel_reason: str = Field("", max_length=500)
    owner: Id | None = None
    due_date: Day | None = None


@router.patch("/coverage/follow-ups/{follow_up_id}", response={200: CoverageFollowUpOut, **ERRORS},
              summary="Change a follow-up's status, owner or due date")  # fmt: skip
def follow_up_patch(
    request: HttpRequest, follow_up_id: Id, payload: CoverageFollowUpPatch
) -> dict[str, Any]:
    follow_up = selectors.follow_ups_for(request.user).get(pk=follow_up_id)
    owner = None
    if payload.owner is not None:
        owner = selectors.staff_choices().filter(pk=payload.owner).first()
        if owner is None:
            raise ValidationError({"owner": _("Unknown owner.")})
    follow_up = services.follow_up_update(
        by=request.user, follow_up=follow_up, status=payload.status,
        cancel_reason=payload.cancel_reason, owner=owner, due_date=payload.due_date,
    )  # fmt: skip
    return _follow_up_out(follow_up)


# --- measures -------------------------------------------------------------------------------


class CoverageMeasureRow(Schema):
    key: str
    done: int
    due: int
    rate: float | None
    missed: int = Field(
        0, description="visits planned in the period whose day passed without a report (per person)"
    )


class CoverageMeasuresOut(Schema):
    start: datetime.date
    end: datetime.date
    compliance: float | None
    done: int
    due: int
    missed: int
    by_tier: list[CoverageMeasureRow]
    by_person: list[CoverageMeasureRow]
    by_province: list[CoverageMeasureRow]
    overdue_follow_ups: int
    open_follow_ups: int
    median_days_to_close: float | None
    not_visited: int


class CoveragePeriodQuery(Schema):
    start: Day | None = None
    end: Day | None = None


@router.get("/coverage/measures", response={200: CoverageMeasuresOut, **ERRORS},
            summary="Coverage compliance and follow-up measures for a period")  # fmt: skip
def measures(request: HttpRequest, params: Query[CoveragePeriodQuery]) -> dict[str, Any]:
    if not (services.may_review(request.user) or access.sees_all_accounts(request.user)):
        raise Http404
    end = params.end or timezone.localdate()
    start = params.start or end - datetime.timedelta(days=89)
    if start > end:
        start, end = end, start
    data = selectors.measures(request.user, start=start, end=end)
    for key in ("by_tier", "by_person", "by_province"):
        data[key] = [{**r, "key": str(r["key"])} for r in data[key]]
    data["not_visited"] = len(data["not_visited"])
    return data
