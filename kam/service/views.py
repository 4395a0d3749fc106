"""The service pages: the queue, a case and its timeline, opening a case, the dashboard,
SLA policies, and the account panel. Surveys are in :mod:`kam.service.survey_views`."""

from datetime import timedelta
from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Case as When_
from django.db.models import F, IntegerField, Q, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kam.accounts.forms import refuse_on_form
from kam.accounts.models import Account
from kam.accounts.selectors import (
    account_get_for,
    account_list_for,
    account_search,
    contact_list_for,
)
from kam.core import access, panels
from kam.core.calendar import unconfirmed_years_message, working_calendar
from kam.core.errors import ApplicationError
from kam.core.exports import csv_response, xlsx_response
from kam.core.models import User
from kam.core.views import forbidden

from . import selectors, services
from .forms import AssignForm, CaseForm, ClaimForm, PolicyForm, QueueForm, TransitionForm
from .models import OPEN_STATUSES, Case, CaseEvent, Claim, RootCause, Severity, SlaPolicy

PAGE_SIZE = 30
ACTION_BUTTONS = [
    ("acknowledge", gettext_lazy("Acknowledge"), "bi-hand-thumbs-up"),
    ("start", gettext_lazy("Start work"), "bi-play-circle"),
    ("wait", gettext_lazy("Wait for customer"), "bi-pause-circle"),
    ("resume", gettext_lazy("Resume"), "bi-play-circle"),
    ("close", gettext_lazy("Close"), "bi-archive"),
    ("reopen", gettext_lazy("Reopen"), "bi-arrow-counterclockwise"),
]
DASHBOARD_SCRIPTS = ("vendor/echarts.min.js", "service/charts.js")
NOT_SERVICE = gettext_lazy(
    "Service cases are for account teams, the key-account department and directors."
)


def _sees(request: HttpRequest) -> bool:
    return access.is_active_user(request.user) and access.sees_customer_data(request.user)


def _case(request: HttpRequest, pk: int) -> Case:
    try:
        return selectors.case_get_for(request.user, pk)
    except Case.DoesNotExist:
        raise Http404 from None


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(m for ms in exc.message_dict.values() for m in ms) if hasattr(
            exc, "error_dict") else " ".join(exc.messages)  # fmt: skip
    return str(getattr(exc, "message", exc))


def left_text(minutes: int | None) -> str:
    """Clock minutes as "2 h 05 min" (negative: overdue)."""
    if minutes is None:
        return ""
    sign = "-" if minutes < 0 else ""
    h, m = divmod(abs(int(minutes)), 60)
    if h >= 24:
        d, h = divmod(h, 24)
        return _("%(sign)s%(d)d d %(h)d h") % {"sign": sign, "d": d, "h": h}
    return _("%(sign)s%(h)d h %(m)02d min") % {"sign": sign, "h": h, "m": m}


def _decorate(cases: list[Case], now: Any) -> None:
    """Time left on the running clock and the row colour."""
    calendar = working_calendar()
    for case in cases:
        figures = services.clock_figures(case, calendar, now)
        clock = figures.get("resolution")
        if case.acknowledged_at is None and figures.get("response"):
            clock = figures["response"]
            case.clock_name = CaseEvent.Clock.RESPONSE.label  # type: ignore[attr-defined]
        else:
            case.clock_name = CaseEvent.Clock.RESOLUTION.label  # type: ignore[attr-defined]
        case.clock_info = clock  # type: ignore[attr-defined]
        if clock and clock["left"] < 0:
            text = _("overdue %(left)s") % {"left": left_text(-clock["left"])}
        else:
            text = left_text(clock["left"]) if clock else ""
        case.left_text = text  # type: ignore[attr-defined]
        state = "violated" if clock and clock["left"] < 0 else case.sla_state
        case.row_class = {"violated": "table-danger", "warning": "table-warning"}.get(state, "")  # type: ignore[attr-defined]


# --- the queue --------------------------------------------------------------------------------


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    if not _sees(request):
        return forbidden(request, NOT_SERVICE)
    form = QueueForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    default_scope = "all" if services.may_manage_service(request.user) else "mine"
    scope = data.get("scope") or default_scope
    sort = data.get("sort") or "due"
    cases = selectors.queue_for(request.user, scope=scope)
    if data.get("status"):
        cases = cases.filter(status=data["status"])
    if data.get("kind"):
        cases = cases.filter(kind=data["kind"])
    if data.get("account"):
        cases = cases.filter(account_id=data["account"])  # within the user's cases already
    if data.get("q"):
        q = data["q"]
        cases = cases.filter(Q(subject__icontains=q) | Q(account__name__icontains=q)
                             | Q(waybills__icontains=q.upper()))  # fmt: skip
    if sort == "due":
        # The running clock's due time: first response until acknowledged, then resolution;
        # cases whose clock stands still (waiting for the customer) come last.
        from django.db.models import F

        cases = cases.annotate(
            due_at=When_(When(acknowledged_at__isnull=True, response_due__isnull=False,
                              then=F("response_due")), default=F("resolution_due")),
        ).order_by(F("due_at").asc(nulls_last=True), "opened_at")  # fmt: skip
    elif sort == "severity":
        order = When_(*[When(severity=s, then=Value(i)) for i, s in
                        enumerate(["critical", "high", "medium", "low"])],
                      output_field=IntegerField())  # fmt: skip
        cases = cases.order_by(order, "opened_at")
    else:
        cases = cases.order_by("-opened_at")
    fmt = request.GET.get("format")
    if fmt in {"csv", "xlsx"}:
        return _queue_export(request, list(cases[:5000]), fmt)
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    _decorate(rows, timezone.now())
    context = {
        "form": form, "page": page, "rows": rows, "scope": scope, "sort": sort, "nav": "service",
        "can_bulk": services.may_manage_service(request.user),
        "assign_form": AssignForm(assignees=selectors.assignable_users()),
        "can_open": services.may_work_cases(request.user),
    }  # fmt: skip
    return render(request, "service/queue.html", context)


def _queue_export(request: HttpRequest, rows: list[Case], fmt: str) -> HttpResponse:
    _decorate(rows, timezone.now())
    header = [_("Case"), _("Account"), _("Type"), _("Severity"), _("Status"), _("Assignee"),
              _("Opened"), _("Time left"), _("SLA")]  # fmt: skip
    data = [[c.number, c.account.name, c.get_kind_display(), c.get_severity_display(),
             c.get_status_display(), str(c.assignee), timezone.localtime(c.opened_at).strftime("%Y-%m-%d %H:%M"),
             c.left_text, c.sla_state] for c in rows]  # type: ignore[attr-defined]  # fmt: skip
    name = f"service-queue-{timezone.localtime():%Y%m%d-%H%M}"
    if fmt == "csv":
        return csv_response(f"{name}.csv", header, data)
    return xlsx_response(f"{name}.xlsx", str(_("Queue")), header, data)


@login_required
@require_POST
def bulk_assign(request: HttpRequest) -> HttpResponse:
    if not services.may_manage_service(request.user):
        return forbidden(request, _("Only the key-account department assigns in bulk."))
    form = AssignForm(request.POST, assignees=selectors.assignable_users())
    ids = [int(i) for i in request.POST.getlist("case") if i.isdigit()]
    cases = list(selectors.case_list_for(request.user).filter(pk__in=ids))
    if not form.is_valid() or not cases:
        flash.error(request, _("Choose cases and an assignee."))
        return redirect("service:queue")
    try:
        n = services.cases_bulk_assign(
            by=request.user, cases=cases, assignee=form.cleaned_data["assignee"]
        )
    except (ApplicationError, ValidationError) as exc:
        flash.error(request, _message(exc))
    else:
        flash.success(
            request,
            _("%(n)s cases assigned to %(user)s.")
            % {"n": n, "user": form.cleaned_data["assignee"]},
        )
    return redirect(request.POST.get("next") or "service:queue")


# --- a case ---------------------------------------------------------------------------------


@login_required
def case_new(request: HttpRequest) -> HttpResponse:
    if not services.may_work_cases(request.user):
        return forbidden(request, NOT_SERVICE)
    raw = request.GET.get("account") or request.POST.get("account") or ""
    try:
        account = account_get_for(request.user, int(raw))
    except (Account.DoesNotExist, ValueError):
        return _pick_account(request, unknown=bool(raw))
    contacts = contact_list_for(request.user).filter(account=account)
    form = CaseForm(request.POST or None, account=account, contacts=contacts,
                    assignees=selectors.assignable_users(account))  # fmt: skip
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            case = services.case_open(
                by=request.user, account=account, kind=d["kind"], channel=d["channel"],
                severity=d["severity"], subject=d["subject"], description=d["description"],
                waybills=[d["waybills"]], contacts=d["contacts"], assignee=d["assignee"],
                claim_amount=d["claim_amount"],
            )  # fmt: skip
        except (ValidationError, ApplicationError) as exc:
            refuse_on_form(form, exc)
        else:
            flash.success(request, _("Case %(n)s opened.") % {"n": case.number})
            return redirect("service:case_detail", pk=case.pk)
    return render(
        request, "service/case_form.html", {"form": form, "account": account, "nav": "service"}
    )


PICK_PAGE_SIZE = 20


def _pick_account(request: HttpRequest, *, unknown: bool) -> HttpResponse:
    """Step one of a new case from the queue: search the accounts the user sees (name,
    English name, credit code, billing code, pinyin), paged; a link per account."""
    q = (request.GET.get("q") or "").strip()[:100]
    accounts = account_search(account_list_for(request.user), q=q, sort="name")
    page = Paginator(accounts, PICK_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"q": q, "page": page, "nav": "service", "unknown": unknown,
               "hx_target": "#account-results"}  # fmt: skip
    if request.htmx and request.htmx.target == "account-results":
        return render(request, "service/_account_results.html", context)
    return render(request, "service/case_pick_account.html", context)


def _detail_context(request: HttpRequest, case: Case, **extra: Any) -> dict[str, Any]:
    now = timezone.now()
    calendar = working_calendar()
    figures = services.clock_figures(case, calendar, now)
    unknown_years = services.clock_unconfirmed_years(case, figures, calendar, now)
    first_warning = min((int(x) for x in case.warning_shares), default=100)
    for f in figures.values():
        f["left_text"] = left_text(abs(f["left"]))
        f["bar"] = max(0, min(100, f["percent"]))
        f["bar_class"] = f"kam-pct-{round(f['bar'] / 10) * 10}"
        f["warned"] = f["percent"] >= first_warning
    allowed = {a for a, (sources, _t) in services.TRANSITIONS.items() if case.status in sources}
    may_work = services.may_work_cases(request.user)
    return {
        "case": case, "figures": figures, "events": case.events.select_related("actor"),
        "claims": case.claims.all(), "nav": "service",
        # Through the user's selector: analysts see cases but no contacts.
        "contacts": contact_list_for(request.user).filter(pk__in=case.contacts.values("pk")),
        "allowed": allowed if may_work else set(), "may_work": may_work,
        "transition_form": extra.pop("transition_form", None) or TransitionForm(
            initial={"version": case.version}),
        "assign_form": extra.pop("assign_form", None) or AssignForm(
            assignees=selectors.assignable_users(case.account), initial={"assignee": case.assignee_id}),
        "claim_form": extra.pop("claim_form", None) or ClaimForm(),
        "root_causes": RootCause.objects.filter(active=True),
        "action_buttons": ACTION_BUTTONS,
        "may_reassign": may_work and services.may_reassign(request.user, case),
        "unknown_years": unknown_years,
        "calendar_notice": unconfirmed_years_message(unknown_years),
        "open_claims": any(c.status == Claim.ClaimStatus.OPEN for c in case.claims.all()),
        **extra,
    }  # fmt: skip


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    return render(request, "service/case_detail.html", _detail_context(request, case))


@login_required
@require_POST
def case_action(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    form = TransitionForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.case_transition(by=request.user, case=case, action=d["action"], note=d["note"],
                                     root_cause=d["root_cause"], version=d["version"])  # fmt: skip
        except (ValidationError, ApplicationError) as exc:
            if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
                exc = ValidationError({("note" if k == "resolution_note" else k): v
                                       for k, v in exc.error_dict.items()})  # fmt: skip
            refuse_on_form(form, exc)
        else:
            return redirect("service:case_detail", pk=case.pk)
    case = _case(request, pk)
    return render(request, "service/case_detail.html",
                  _detail_context(request, case, transition_form=form, failed_action=request.POST.get("action")),
                  status=400)  # fmt: skip


@login_required
@require_POST
def case_assign(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    # Any active user parses, so that the service's refusal says why (off the team, a role
    # that takes no cases); the list offered stays the account's assignable people.
    form = AssignForm(request.POST, assignees=User.objects.filter(is_active=True))
    if form.is_valid():
        try:
            services.case_assign(by=request.user, case=case, assignee=form.cleaned_data["assignee"],
                                 reason=form.cleaned_data["reason"])  # fmt: skip
        except (ValidationError, ApplicationError) as exc:
            refuse_on_form(form, exc)
        else:
            flash.success(request, _("Case %(n)s assigned to %(user)s.") % {
                "n": case.number, "user": form.cleaned_data["assignee"]})  # fmt: skip
            return redirect("service:case_detail", pk=case.pk)
    form.fields["assignee"].queryset = selectors.assignable_users(case.account)  # type: ignore[attr-defined]
    return render(request, "service/case_detail.html", _detail_context(request, case, assign_form=form),
                  status=400)  # fmt: skip


@login_required
@require_POST
def claim_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    form = ClaimForm(request.POST)
    if form.is_valid():
        try:
            services.claim_add(by=request.user, case=case, amount=form.cleaned_data["amount"])
        except (ValidationError, ApplicationError) as exc:
            refuse_on_form(form, exc)
        else:
            return redirect("service:case_detail", pk=case.pk)
    return render(request, "service/case_detail.html", _detail_context(request, case, claim_form=form),
                  status=400)  # fmt: skip


@login_required
@require_POST
def claim_decide(request: HttpRequest, pk: int, claim: int) -> HttpResponse:
    case = _case(request, pk)
    row = get_object_or_404(Claim, pk=claim, case=case)
    try:
        services.claim_decide(by=request.user, claim=row, status=request.POST.get("status", ""))
    except (ValidationError, ApplicationError) as exc:
        flash.error(request, _message(exc))
    return redirect("service:case_detail", pk=case.pk)


# --- dashboard ---------------------------------------------------------------------------


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    if not _sees(request):
        return forbidden(request, NOT_SERVICE)
    try:
        days = max(7, min(730, int(request.GET.get("days", 180))))
    except ValueError:
        days = 180
    since = timezone.now() - timedelta(days=days)
    figures = selectors.measures(selectors.case_list_for(request.user), since=since)
    for key in ("response", "resolution"):
        figures[key]["median_text"] = left_text(figures[key]["median"])
        figures[key]["p90_text"] = left_text(figures[key]["p90"])
    chart = {
        "title": _("SLA attainment by tier (%)"),
        "labels": [_("Tier %(n)s") % {"n": g["label"]} if g["label"] != "—" else "—" for g in figures["by_tier"]],
        "series": [
            {"name": _("First response"), "data": [g["response"] for g in figures["by_tier"]]},
            {"name": _("Resolution"), "data": [g["resolution"] for g in figures["by_tier"]]},
        ],
    }  # fmt: skip
    return render(request, "service/dashboard.html", {
        "m": figures, "days": days, "chart": chart, "nav": "service", "scripts": DASHBOARD_SCRIPTS,
        "day_choices": [30, 90, 180, 365],
    })  # fmt: skip


# --- policies --------------------------------------------------------------------------


@login_required
def policy_list(request: HttpRequest) -> HttpResponse:
    if not _sees(request):
        return forbidden(request, NOT_SERVICE)
    severity_rank = When_(  # django's Case (the name Case is the model here)
        *[When(severity=value, then=Value(i)) for i, value in enumerate(Severity.values)],
        output_field=IntegerField(),
    )  # critical first, as the choices list them (not alphabetically)
    rows = SlaPolicy.objects.select_related("reassign_to").order_by(
        "-active", F("tier").asc(nulls_first=True), severity_rank
    )
    for p in rows:
        p.response_text = left_text(p.response_minutes)  # type: ignore[attr-defined]
        p.resolution_text = left_text(p.resolution_minutes)  # type: ignore[attr-defined]
    return render(request, "service/policy_list.html", {
        "rows": rows, "nav": "service", "can_edit": services.may_manage_service(request.user)})  # fmt: skip


@login_required
def policy_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    if not services.may_manage_service(request.user):
        return forbidden(request, _("Only the key-account department sets SLA policies."))
    policy = get_object_or_404(SlaPolicy, pk=pk) if pk else SlaPolicy()
    form = PolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        try:
            services.policy_save(by=request.user, policy=form.apply())
        except (ValidationError, ApplicationError) as exc:
            if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
                exc = ValidationError({("warning_text" if k == "warning_shares" else k): v
                                       for k, v in exc.error_dict.items()})  # fmt: skip
            refuse_on_form(form, exc)
        else:
            flash.success(request, _("Policy saved."))
            return redirect("service:policies")
    return render(
        request, "service/policy_form.html", {"form": form, "policy": policy, "nav": "service"}
    )


# --- the account page's panel ---------------------------------------------------------


def account_service_panel(request: HttpRequest, account: Account) -> panels.Content | None:
    if not _sees(request):
        return None
    figures = selectors.account_figures(account)
    if not figures["measures"]["cases"] and not figures["survey_answers"]:
        html = panels.render_template(request, "service/_account_panel.html", {
            "empty": True, "account": account, "can_open": services.may_work_cases(request.user),
        })  # fmt: skip
        return panels.Content(html)
    _decorate(figures["open_cases"], timezone.now())
    m = figures["measures"]
    for key in ("response", "resolution"):
        m[key]["median_text"] = left_text(m[key]["median"])
    html = panels.render_template(request, "service/_account_panel.html", {
        "f": figures, "m": m, "account": account, "can_open": services.may_work_cases(request.user),
        "open_statuses": OPEN_STATUSES,
    })  # fmt: skip
    return panels.Content(html)
