"""The service app's API, mounted under /api/v1/: cases and their workflow, measures,
SLA policies, survey campaigns and results, and the public survey answer.

Money is a decimal string. Durations are clock minutes of the case's SLA policy.
"""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from kam.accounts.selectors import account_get_for, contact_list_for
from kam.core import access, rls
from kam.core.api import ErrorOut, Id, InSchema
from kam.core.calendar import unconfirmed_years_message, working_calendar
from kam.core.errors import ApplicationError, PermissionDeniedError
from kam.core.models import User
from kam.core.workcal import WorkingCalendar

from . import selectors, services, surveys
from .models import Case, RootCause, SlaPolicy, Status

router = Router(tags=["service"])

ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                          409: ErrorOut, 410: ErrorOut, 422: ErrorOut}  # fmt: skip


class ClockOut(Schema):
    target: int
    used: int
    left: int
    percent: int
    due: datetime | None
    running: bool


class CaseOut(Schema):
    id: int
    number: str
    account_id: int
    account: str
    type: str
    channel: str
    severity: str
    subject: str
    description: str
    waybills: list[str]
    contact_ids: list[int]
    assignee: str
    assignee_id: int
    status: str
    root_cause: str | None
    resolution_note: str
    claim_amount: str | None
    sla_state: str
    opened_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    response: ClockOut | None
    resolution: ClockOut | None
    calendar_unconfirmed_years: list[int] = Field(
        description="Years a business-hours clock runs through whose official holidays have "
        "not been entered (there, public holidays count as working days)."
    )
    calendar_notice: str = Field(
        description="What that means and how to enter a year; empty if none."
    )
    version: int


def case_out(case: Case, *, figures: dict[str, Any] | None = None,
             calendar: WorkingCalendar | None = None, now: datetime | None = None) -> dict[str, Any]:  # fmt: skip
    calendar = calendar or working_calendar()
    now = now or timezone.now()
    figures = figures if figures is not None else services.clock_figures(case, calendar, now)
    unknown = services.clock_unconfirmed_years(case, figures, calendar, now)
    return {
        "calendar_unconfirmed_years": unknown,
        "calendar_notice": unconfirmed_years_message(unknown),
        "id": case.pk, "number": case.number, "account_id": case.account_id,
        "account": case.account.name, "type": case.kind, "channel": case.channel,
        "severity": case.severity, "subject": case.subject, "description": case.description,
        "waybills": case.waybills, "contact_ids": [c.pk for c in case.contacts.all()],
        "assignee": str(case.assignee), "assignee_id": case.assignee_id, "status": case.status,
        "root_cause": case.root_cause.code if case.root_cause else None,
        "resolution_note": case.resolution_note,
        "claim_amount": f"{case.claim_amount:.2f}" if case.claim_amount is not None else None,
        "sla_state": case.sla_state, "opened_at": case.opened_at,
        "acknowledged_at": case.acknowledged_at, "resolved_at": case.resolved_at,
        "closed_at": case.closed_at, "response": figures.get("response"),
        "resolution": figures.get("resolution"), "version": case.version,
    }  # fmt: skip


class CasePage(Schema):
    count: int
    page: int
    page_size: int
    items: list[CaseOut]


class CaseFilter(Schema):
    scope: Literal["mine", "all"] = "all"
    status: Literal["new", "acknowledged", "in_progress", "waiting", "resolved", "closed", "reopened", "open"] | None = None  # fmt: skip
    account: Id | None = None
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(50, ge=1, le=200)


@router.get("/service/cases", response={200: CasePage, **ERRORS}, summary="List cases")
def case_list(request: HttpRequest, filters: Query[CaseFilter]) -> dict[str, Any]:
    cases = selectors.with_contacts_for(request.user, selectors.case_list_for(request.user))
    if filters.scope == "mine":
        cases = cases.filter(assignee=request.user)
    if filters.status == "open":
        cases = cases.filter(
            status__in=[s for s in Status if s not in {Status.RESOLVED, Status.CLOSED}]
        )
    elif filters.status:
        cases = cases.filter(status=filters.status)
    if filters.account:
        cases = cases.filter(account_id=filters.account)
    cases = cases.order_by("resolution_due", "-opened_at")
    start = (filters.page - 1) * filters.page_size
    rows = list(cases[start : start + filters.page_size])
    calendar, now = working_calendar(), timezone.now()
    return {"count": cases.count(), "page": filters.page, "page_size": filters.page_size,
            "items": [case_out(c, figures=services.clock_figures(c, calendar, now), calendar=calendar,
                               now=now) for c in rows]}  # fmt: skip


class CaseIn(InSchema):
    account_id: Id
    type: Literal["complaint", "inquiry", "request", "claim"]
    channel: Literal["phone", "email", "wechat", "visit", "portal", "survey"]
    severity: Literal["critical", "high", "medium", "low"]
    subject: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=4000)
    waybills: list[str] = Field(default_factory=list, max_length=50)
    contact_ids: list[Id] = Field(default_factory=list, max_length=50)
    assignee_id: Id | None = None
    claim_amount: Decimal | None = Field(None, gt=0, max_digits=14, decimal_places=2)


@router.post("/service/cases", response={201: CaseOut, **ERRORS}, summary="Open a case")
def case_create(request: HttpRequest, payload: CaseIn) -> tuple[int, dict[str, Any]]:
    account = account_get_for(request.user, payload.account_id)
    contacts = list(contact_list_for(request.user).filter(pk__in=payload.contact_ids))
    if len(contacts) != len(set(payload.contact_ids)):
        raise ValidationError({"contact_ids": "Unknown contact."})
    assignee = User.objects.filter(pk=payload.assignee_id).first() if payload.assignee_id else None
    if payload.assignee_id and assignee is None:
        raise ValidationError({"assignee_id": "Unknown user."})
    case = services.case_open(
        by=request.user, account=account, kind=payload.type, channel=payload.channel,
        severity=payload.severity, subject=payload.subject, description=payload.description,
        waybills=payload.waybills, contacts=contacts, assignee=assignee,
        claim_amount=payload.claim_amount,
    )  # fmt: skip
    return 201, case_out(case)


@router.get("/service/cases/{case_id}", response={200: CaseOut, **ERRORS}, summary="One case")
def case_get(request: HttpRequest, case_id: Id) -> dict[str, Any]:
    cases = selectors.with_contacts_for(request.user, selectors.case_list_for(request.user))
    return case_out(cases.get(pk=case_id))


class TransitionIn(InSchema):
    action: Literal["acknowledge", "start", "wait", "resume", "resolve", "close", "reopen"]
    note: str = Field("", max_length=4000)
    root_cause: str | None = Field(None, max_length=40)
    version: int | None = None


@router.post("/service/cases/{case_id}/transitions", response={200: CaseOut, **ERRORS},
             summary="Move a case through its workflow")  # fmt: skip
def case_transition(request: HttpRequest, case_id: Id, payload: TransitionIn) -> dict[str, Any]:
    case = selectors.case_get_for(request.user, case_id)
    cause = None
    if payload.root_cause:
        cause = RootCause.objects.filter(code=payload.root_cause, active=True).first()
        if cause is None:
            raise ValidationError({"root_cause": "Unknown root cause."})
    case = services.case_transition(by=request.user, case=case, action=payload.action,
                                    note=payload.note, root_cause=cause, version=payload.version)  # fmt: skip
    return case_out(selectors.case_get_for(request.user, case.pk))


class AssignIn(InSchema):
    assignee_id: Id
    reason: str = Field("", max_length=200)


@router.post("/service/cases/{case_id}/assign", response={200: CaseOut, **ERRORS},
             summary="Re-assign a case")  # fmt: skip
def case_assign(request: HttpRequest, case_id: Id, payload: AssignIn) -> dict[str, Any]:
    case = selectors.case_get_for(request.user, case_id)
    assignee = User.objects.filter(pk=payload.assignee_id).first()
    if assignee is None:
        raise ValidationError({"assignee_id": "Unknown user."})
    services.case_assign(by=request.user, case=case, assignee=assignee, reason=payload.reason)
    return case_out(selectors.case_get_for(request.user, case.pk))


class MeasureGroupOut(Schema):
    label: str
    cases: int
    response: float | None
    resolution: float | None


class StatsOut(Schema):
    median: float | None
    p90: float | None


class MeasuresOut(Schema):
    cases: int
    open: int
    response: StatsOut
    resolution: StatsOut
    response_attainment: float | None
    resolution_attainment: float | None
    by_tier: list[MeasureGroupOut]
    by_type: list[MeasureGroupOut]
    by_root_cause: list[MeasureGroupOut]
    by_assignee: list[MeasureGroupOut]


@router.get("/service/measures", response={200: MeasuresOut, **ERRORS},
            summary="Response and resolution times, SLA attainment")  # fmt: skip
def measures(request: HttpRequest, days: int = Query(180, ge=1, le=3650)) -> dict[str, Any]:
    since = timezone.now() - timedelta(days=days)
    return selectors.measures(selectors.case_list_for(request.user), since=since)


class PolicyOut(Schema):
    id: int
    name: str
    tier: int | None
    severity: str
    clock: str
    day_start: str
    day_end: str
    response_minutes: int
    resolution_minutes: int
    warning_shares: list[int]
    warning_actions: list[str]
    violation_actions: list[str]
    active: bool


@router.get("/service/policies", response={200: list[PolicyOut], **ERRORS}, summary="SLA policies")
def policy_list(request: HttpRequest) -> list[dict[str, Any]]:
    if not access.sees_customer_data(request.user):  # type: ignore[arg-type]
        raise PermissionDeniedError(
            _("Service cases are for account teams, the key-account department and directors.")
        )
    return [
        {"id": p.pk, "name": p.name, "tier": p.tier, "severity": p.severity, "clock": p.clock,
         "day_start": p.day_start.strftime("%H:%M"), "day_end": p.day_end.strftime("%H:%M"),
         "response_minutes": p.response_minutes, "resolution_minutes": p.resolution_minutes,
         "warning_shares": p.warning_shares, "warning_actions": p.warning_actions,
         "violation_actions": p.violation_actions, "active": p.active}
        for p in SlaPolicy.objects.order_by("tier", "severity")
    ]  # fmt: skip


class ResultGroupOut(Schema):
    label: str
    answers: int
    average: float | None
    nps: float | None


class TrendOut(Schema):
    campaign: str
    sent_at: datetime | None
    answers: int
    average: float | None
    nps: float | None


class ResultsOut(Schema):
    answers: int
    average: float | None
    nps: float | None
    by_account: list[ResultGroupOut]
    by_tier: list[ResultGroupOut]
    by_industry: list[ResultGroupOut]
    by_owner: list[ResultGroupOut]
    trend: list[TrendOut]


@router.get("/service/survey-results", response={200: ResultsOut, **ERRORS},
            summary="Survey results per account, tier, industry, owner and campaign")  # fmt: skip
def survey_results(request: HttpRequest, campaign: Id | None = None) -> dict[str, Any]:
    chosen = selectors.campaign_list_for(request.user).get(pk=campaign) if campaign else None
    return selectors.survey_results(request.user, campaign=chosen)


class AnswerIn(InSchema):
    token: str = Field(min_length=1, max_length=100)
    ratings: dict[str, int]
    nps: int | None = None
    comment: str = Field("", max_length=4000)


class AnswerOut(Schema):
    received: bool
    follow_up_case: bool


@router.post("/service/survey-answers", auth=None, response={201: AnswerOut, **ERRORS},
             summary="Answer a survey with the token of a unique link (no login)")  # fmt: skip
def survey_answer(request: HttpRequest, payload: AnswerIn) -> tuple[int, dict[str, Any]]:
    # No user: the token is the credential and names its one invitation, so the lookup
    # and the answer run past the row-level policies (rls.unscoped, as the public page).
    with rls.bypass():
        invitation, state = surveys.invitation_lookup(payload.token)
        if state == "open":
            response = surveys.response_submit(token=payload.token, ratings=payload.ratings,
                                               nps=payload.nps, comment=payload.comment)  # fmt: skip
    if state != "open":
        error = ApplicationError(surveys.state_message(state), field="token")
        error.status = {"used": 409, "expired": 410, "replaced": 410}.get(state, 404)
        raise error
    return 201, {"received": True, "follow_up_case": response.follow_up_id is not None}
