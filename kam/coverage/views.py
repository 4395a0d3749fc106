"""The coverage pages. Thin: parse with a form, call a selector or service, render."""

import calendar as month_calendar
import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from kam.accounts.models import Account
from kam.accounts.selectors import account_get_for, account_list_for, contact_list_for
from kam.core import access, panels, rls
from kam.core.calendar import unconfirmed_years, unconfirmed_years_message, working_calendar
from kam.core.errors import ApplicationError
from kam.core.exports import csv_response
from kam.core.models import User
from kam.core.views import forbidden, form_errors, refusal_messages

from . import ical, selectors, services
from .forms import (
    AssignmentForm,
    CapacityForm,
    FindingFormSet,
    FollowUpFormSet,
    FollowUpUpdateForm,
    MoveForm,
    PeriodForm,
    PlanForm,
    PolicyNoteForm,
    ReportForm,
    RuleFormSet,
    clamp,
)
from .models import Assignment, FeedToken, FollowUp, Visit, VisitReport
from .planner import NO_CAPACITY, NO_CAPACITY_SET, NO_PERSON, NO_WORKING_DAY, TOO_FAR

PAGE_SIZE = 25


def _page(rows: QuerySet[Any], number: str | None) -> Page:
    """A page of ``rows`` (ordered, with their joins): the page's keys first, then its rows.
    Sorting keys only, the joins (and a manager's row-level policies on each joined table)
    run for the page's rows, not for every row: a manager's 1,600 open follow-ups, 40 ms
    -> 12 ms on bench/web."""
    page = Paginator(rows.values_list("pk", flat=True), PAGE_SIZE).get_page(number)
    shown = rows.in_bulk(list(page.object_list))
    page.object_list = [shown[pk] for pk in page.object_list]
    return page


def _reasons() -> dict[str, str]:
    return {
        NO_PERSON: _("Nobody covers this account (no owner, territory or industry manager)."),
        NO_CAPACITY: _("The person's days in the visit's window are fully booked."),
        NO_WORKING_DAY: _("No working day in the visit's window (public holidays)."),
        NO_CAPACITY_SET: _("The person has no visit capacity."),
        TOO_FAR: _(
            "Too far for a day's trip from the person's base city: the road alone "
            "fills the day. Give the account a manager nearer to it."
        ),
    }


# --- plan -----------------------------------------------------------------------------------


@login_required
def plan(request: HttpRequest) -> HttpResponse:
    """Generate the visit plan (director, department) and see the last one."""
    if not access.sees_customer_data(request.user):
        raise Http404
    can_plan = services.may_plan(request.user)
    calendar = working_calendar()
    today = timezone.localdate()
    form = PlanForm(initial={"start": calendar.next_working_day(today, include=False), "weeks": 12})
    if request.method == "POST":
        if not can_plan:
            return forbidden(request, _("You may not do this."))
        form = PlanForm(request.POST)
        if form.is_valid():
            try:
                result = services.plan_generate(by=request.user, **form.cleaned_data)
            except (ValidationError, ApplicationError) as exc:
                if isinstance(exc, ValidationError):
                    form_errors(form, exc)
                else:
                    refusal_messages(request, exc)
            else:
                messages.success(request, _("Plan generated: %(placed)s of %(due)s due visits "
                                            "planned.") % {"placed": f"{result.placed:,}",
                                                           "due": f"{result.due:,}"})  # fmt: skip
                return redirect("coverage:plan")
    latest = selectors.latest_plan()
    # Only the accounts the user sees: a manager's view of the department's plan.
    view = selectors.plan_view_for(request.user, latest) if latest else None
    unserved = view.unserved if view else []
    names = dict(User.objects.filter(pk__in={u["person"] for u in unserved if u["person"]})
                 .values_list("pk", "display_name"))  # fmt: skip
    page = Paginator(unserved, PAGE_SIZE).get_page(request.GET.get("page"))
    reasons = _reasons()
    rows = [{**u, "person_name": names.get(u["person"], ""), "reason_text": reasons.get(u["reason"], u["reason"])}
            for u in page]  # fmt: skip
    return render(request, "coverage/plan.html", {
        "form": form, "can_plan": can_plan, "plan": latest, "view": view, "page": page,
        "rows": rows, "people": view.people if view else [], "nav": "coverage",
        "warnings": selectors.plan_warnings(latest) if latest else [],
        "speed": settings.KAM_VISIT_SPEED_KMH, "hop": settings.KAM_VISIT_HOP_MINUTES,
    })  # fmt: skip


@login_required
@require_GET
def plan_unserved_csv(request: HttpRequest) -> HttpResponse:
    if not access.sees_customer_data(request.user):
        raise Http404
    latest = selectors.latest_plan()
    if latest is None:
        raise Http404
    reasons = _reasons()
    rows = ((u["name"], u["due"], reasons.get(u["reason"], u["reason"]), u["value"])
            for u in selectors.plan_view_for(request.user, latest).unserved)  # fmt: skip
    return csv_response(f"unserved-{latest.start}.csv",
                        [_("Account"), pgettext("visit", "Due"), _("Reason"), _("Value (CNY, 12 months)")], rows)  # fmt: skip


# --- calendar -------------------------------------------------------------------------------


def _week_start(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


@login_required
@require_GET
def calendar_view(request: HttpRequest) -> HttpResponse:
    """A week or a month of visits, for one person or the whole department."""
    user = request.user
    if not access.sees_customer_data(user):
        raise Http404
    people = selectors.people_for_calendar(user)
    everyone = services.may_plan(user)
    person_param = request.GET.get("person", "")
    person = None
    if person_param == "all" and everyone:
        person = None
    elif person_param.isdigit():
        person = people.filter(pk=int(person_param)).first()
        if person is None:
            raise Http404
    elif not everyone:
        person = user
    view = "month" if request.GET.get("view") == "month" else "week"
    today = timezone.localdate()  # Asia/Shanghai (settings.TIME_ZONE)
    try:
        anchor = datetime.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        anchor = today
    anchor = clamp(anchor)
    if view == "week":
        start = _week_start(anchor)
        end = start + datetime.timedelta(days=7)
        prev, nxt = start - datetime.timedelta(days=7), end
    else:
        start = anchor.replace(day=1)
        last = month_calendar.monthrange(start.year, start.month)[1]
        end = start + datetime.timedelta(days=last)
        prev = (start - datetime.timedelta(days=1)).replace(day=1)
        nxt = end
    visits = (
        selectors.visits_for(user)
        .filter(day__gte=start, day__lt=end)
        .exclude(status=Visit.Status.CANCELLED)
        .select_related("report")
    )
    if person is not None:
        visits = visits.filter(person=person)
    elif not everyone:
        visits = visits.filter(person=user)
    by_day: dict[datetime.date, list[Visit]] = {}
    for visit in visits.order_by("day", "person__username", "city_code", "account__name"):
        by_day.setdefault(visit.day, []).append(visit)
    cal = working_calendar()
    grid_start = _week_start(start)
    weeks = []
    day = grid_start
    while day < end:
        week = []
        for _i in range(7):
            week.append({"day": day, "visits": by_day.get(day, []), "working": cal.is_working(day),
                         "outside": not start <= day < end})  # fmt: skip
            day += datetime.timedelta(days=1)
        weeks.append(week)
    # One's own calendar offers the phone link: its date when there is one (the link itself
    # was shown once, when made; only its hash is kept).
    own = person is not None and person.pk == user.pk
    feed = FeedToken.objects.filter(user=user).first() if own else None
    last_day = end - datetime.timedelta(days=1)
    years = unconfirmed_years(start, last_day, cal)
    return render(request, "coverage/calendar.html", {
        "weeks": weeks, "view": view, "start": start, "end": last_day,
        "prev": prev, "next": nxt, "person": person, "people": people, "everyone": everyone,
        "person_param": person_param or (str(person.pk) if person else "all"), "own": own,
        "feed": feed,
        # Switching between week and month keeps the day looked at: today when it is shown
        # (a week that starts in the previous month must not open that month), else the
        # anchor.
        "anchor": today if start <= today < end else anchor,
        "calendar_warning": unconfirmed_years_message(years),
        "today": today, "nav": "coverage", "may_move": True,
    })  # fmt: skip


@login_required
@require_POST
def visit_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a planned visit (the calendar's drag and drop, or the edit form)."""
    try:
        visit = selectors.visit_get_for(request.user, pk)
    except Visit.DoesNotExist:
        raise Http404 from None
    form = MoveForm(request.POST)
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    if not form.is_valid():
        message = "; ".join(str(e) for errors in form.errors.values() for e in errors)
        if wants_json:
            return JsonResponse({"detail": message}, status=400)
        messages.error(request, message)
    else:
        try:
            services.visit_move(by=request.user, visit=visit, day=form.cleaned_data["day"],
                                version=form.cleaned_data.get("version"))  # fmt: skip
        except (ValidationError, ApplicationError) as exc:
            status = exc.status if isinstance(exc, ApplicationError) else 400
            text = (str(exc.message) if isinstance(exc, ApplicationError)
                    else "; ".join(m for ms in exc.message_dict.values() for m in ms))  # fmt: skip
            if wants_json:
                return JsonResponse({"detail": text}, status=status)
            messages.error(request, text)
        else:
            if wants_json:
                return JsonResponse({"id": visit.pk, "day": form.cleaned_data["day"].isoformat()})
            messages.success(request, _("Visit moved to %(day)s.")
                             % {"day": form.cleaned_data["day"].isoformat()})  # fmt: skip
    back = request.POST.get("next") or reverse("coverage:calendar")
    if not back.startswith("/coverage/"):
        back = reverse("coverage:calendar")
    return redirect(back)


@require_GET
def ical_feed(request: HttpRequest, token: str) -> HttpResponse:
    """A person's visits as iCalendar; the secret token in the URL is the authentication."""
    user = services.feed_user(token)
    if user is None:
        raise Http404
    rls.scope_to(user)  # the link authenticated the request after the middleware scoped it
    body = ical.feed(user, today=timezone.localdate())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="kam-visits.ics"'
    return response


@never_cache
@login_required
@require_POST
def ical_renew(request: HttpRequest) -> HttpResponse:
    """Make the calendar link and show it, this once: only its hash is kept, so the answer
    to this POST is the only place the link appears (no redirect that would need it)."""
    if not access.sees_customer_data(request.user):
        raise Http404
    had_one = FeedToken.objects.filter(user=request.user).exists()
    _feed, plain = services.feed_token_renew(user=request.user)
    return render(request, "coverage/ical_link.html", {
        "link": request.build_absolute_uri(reverse("coverage:ical", args=[plain])),
        "replaced": had_one, "nav": "coverage",
    })  # fmt: skip


# --- visit reports ----------------------------------------------------------------------------


@login_required
def report_new(request: HttpRequest) -> HttpResponse:
    """The visit report form (走访表), for a planned visit or an unplanned one."""
    user = request.user
    visit = None
    try:
        if request.GET.get("visit", "").isdigit():
            visit = selectors.visit_get_for(user, int(request.GET["visit"]))
            account = visit.account
        elif request.GET.get("account", "").isdigit():
            account = account_get_for(user, int(request.GET["account"]))
        else:
            raise Http404
    except (Visit.DoesNotExist, Account.DoesNotExist):
        raise Http404 from None
    if not selectors.may_report_on(user, account):
        return forbidden(request, _("You may not do this."))
    if visit is not None and hasattr(visit, "report"):
        return redirect("coverage:report_detail", visit.report.pk)
    contacts = selectors.report_contacts(user, account)
    staff = selectors.staff_choices().exclude(pk=user.pk)
    owners = selectors.staff_choices()
    initial = {"visited_on": min(visit.day, timezone.localdate())} if visit else {}
    data = request.POST if request.method == "POST" else None
    form = ReportForm(data, contacts=contacts, staff=staff, initial=initial)
    findings = FindingFormSet(data, prefix="finding")
    follow_ups = FollowUpFormSet(data, prefix="follow", form_kwargs={"owners": owners})
    if data is not None and form.is_valid() and findings.is_valid() and follow_ups.is_valid():
        finding_rows = [f.cleaned_data for f in findings if f.cleaned_data and not f.is_blank()]
        follow_rows = [f.cleaned_data for f in follow_ups if f.cleaned_data and not f.is_blank()]
        try:
            report = services.report_submit(
                by=user, account=account, visit=visit,
                visited_on=form.cleaned_data["visited_on"],
                purpose=form.cleaned_data["purpose"], summary=form.cleaned_data["summary"],
                contacts=list(form.cleaned_data["contacts"]), staff=list(form.cleaned_data["staff"]),
                findings=finding_rows, follow_ups=follow_rows,
            )  # fmt: skip
        except ValidationError as exc:
            form_errors(form, exc)
        except ApplicationError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("Report sent to the key-account department."))
            return redirect("coverage:report_detail", report.pk)
    return render(request, "coverage/report_form.html", {
        "form": form, "findings": findings, "follow_ups": follow_ups, "account": account,
        "visit": visit, "nav": "coverage",
    })  # fmt: skip


def _report(request: HttpRequest, pk: int) -> VisitReport:
    try:
        return selectors.reports_for(request.user).get(pk=pk)
    except VisitReport.DoesNotExist:
        raise Http404 from None


@login_required
@require_GET
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    return render(request, "coverage/report_detail.html", {
        "report": report, "findings": report.findings.all(),
        "follow_ups": report.follow_ups.select_related("owner"),
        # Through the user's selector: analysts see reports but no contacts.
        "contacts": contact_list_for(request.user).filter(pk__in=report.contacts.values("pk")),
        "staff": report.staff.all(),
        "can_review": services.may_review(request.user), "nav": "coverage",
        "report_panels": panels.render("visit_report", request, report),
    })  # fmt: skip


@login_required
@require_POST
def report_review(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    try:
        services.report_review(by=request.user, report=report)
    except ApplicationError as exc:
        refusal_messages(request, exc)
    else:
        messages.success(request, _("Report marked as reviewed."))
    return redirect("coverage:queue")


# --- the department's queue and follow-ups ------------------------------------------------------


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    if not services.may_review(request.user):
        raise Http404
    data = selectors.queue(request.user, report_sort=request.GET.get("rsort"),
                           follow_up_sort=request.GET.get("sort"))  # fmt: skip
    follow_ups = data["follow_ups"]
    if request.GET.get("overdue") == "1":
        follow_ups = follow_ups.filter(due_date__lt=data["today"])
    owner = request.GET.get("owner", "")
    if owner.isdigit():
        follow_ups = follow_ups.filter(owner_id=int(owner))
    # Both lists page (every report and follow-up is reachable); each keeps the other's
    # page, sort and filters in its links.
    page = _page(follow_ups, request.GET.get("page"))
    reports = _page(data["reports"], request.GET.get("rpage"))
    return render(request, "coverage/queue.html", {
        "reports": reports, "page": page, "overdue": data["overdue"],
        "report_sort": data["report_sort"], "follow_up_sort": data["follow_up_sort"],
        "today": data["today"], "owners": selectors.staff_choices(), "owner": owner,
        "only_overdue": request.GET.get("overdue") == "1", "nav": "coverage",
    })  # fmt: skip


@login_required
@require_GET
def follow_up_list(request: HttpRequest) -> HttpResponse:
    """My follow-ups (what I own), open first."""
    if not access.sees_customer_data(request.user):
        raise Http404
    rows = selectors.follow_ups_for(request.user).filter(owner=request.user)
    if request.GET.get("all") != "1":
        rows = rows.filter(status__in=FollowUp.OPEN_STATUSES)
    page = _page(rows.order_by("due_date", "id"), request.GET.get("page"))
    return render(request, "coverage/follow_ups.html", {
        "page": page, "today": timezone.localdate(), "show_all": request.GET.get("all") == "1",
        "nav": "coverage",
    })  # fmt: skip


@login_required
def follow_up_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        follow_up = selectors.follow_ups_for(request.user).get(pk=pk)
    except FollowUp.DoesNotExist:
        raise Http404 from None
    department = services.may_review(request.user)
    can_edit = department or follow_up.owner_id == request.user.pk
    initial = {"status": follow_up.status, "owner": follow_up.owner_id,
               "due_date": follow_up.due_date, "cancel_reason": follow_up.cancel_reason}  # fmt: skip
    data = request.POST if request.method == "POST" else None
    if data is not None and not can_edit:
        return forbidden(request, _("You may not do this."))
    form = FollowUpUpdateForm(data, initial=initial, owners=selectors.staff_choices(),
                              department=department)  # fmt: skip
    if data is not None and form.is_valid():
        try:
            services.follow_up_update(
                by=request.user, follow_up=follow_up, status=form.cleaned_data["status"],
                cancel_reason=form.cleaned_data.get("cancel_reason") or "",
                owner=form.cleaned_data.get("owner"), due_date=form.cleaned_data.get("due_date"),
            )  # fmt: skip
        except ValidationError as exc:
            form_errors(form, exc)
        except ApplicationError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("Follow-up saved."))
            return redirect("coverage:follow_up", follow_up.pk)
    history = follow_up.history.select_related("history_user", "owner").order_by("-history_date")
    return render(request, "coverage/follow_up.html", {
        "history": history[:20],
        "follow_up": follow_up, "form": form, "can_edit": can_edit, "department": department,
        "today": timezone.localdate(), "nav": "coverage",
    })  # fmt: skip


# --- team, policy -------------------------------------------------------------------------------


@login_required
def team(request: HttpRequest) -> HttpResponse:
    """Who covers what, and the workload per person."""
    if not access.sees_customer_data(request.user):
        raise Http404
    can_edit = services.may_plan(request.user)
    people = selectors.people_for_calendar(request.user) if can_edit else User.objects.none()
    assignment_form = AssignmentForm(people=people)
    capacity_form = CapacityForm(people=people)
    if request.method == "POST":
        if not can_edit:
            return forbidden(request, _("You may not do this."))
        action = request.POST.get("action")
        try:
            if action == "assign":
                assignment_form = AssignmentForm(request.POST, people=people)
                if assignment_form.is_valid():
                    services.assignment_add(by=request.user, **assignment_form.cleaned_data)
                    messages.success(request, _("Assignment added."))
                    return redirect("coverage:team")
            elif action == "capacity":
                capacity_form = CapacityForm(request.POST, people=people)
                if capacity_form.is_valid():
                    services.capacity_set(by=request.user, **capacity_form.cleaned_data)
                    messages.success(request, _("Capacity saved."))
                    return redirect("coverage:team")
            elif action == "unassign" and request.POST.get("id", "").isdigit():
                assignment = Assignment.objects.filter(pk=int(request.POST["id"])).first()
                if assignment is None:
                    raise Http404
                services.assignment_remove(by=request.user, assignment=assignment)
                messages.success(request, _("Assignment removed."))
                return redirect("coverage:team")
        except ValidationError as exc:
            form_errors(capacity_form if action == "capacity" else assignment_form, exc)
        except ApplicationError as exc:
            refusal_messages(request, exc)
    try:
        start = datetime.date.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        start = timezone.localdate()
    start = clamp(start)
    rows = selectors.workload(start=start)
    return render(request, "coverage/team.html", {
        "rows": rows, "can_edit": can_edit, "assignment_form": assignment_form, "start": start,
        "capacity_form": capacity_form, "nav": "coverage",
    })  # fmt: skip


@login_required
def policy(request: HttpRequest) -> HttpResponse:
    if not access.sees_customer_data(request.user):
        raise Http404
    current = services.policy_current()
    can_edit = services.may_edit_policy(request.user)
    fields = ("tier", "category", "coverage_model", "cadence_days", "executive_every",
              "survey_months")  # fmt: skip
    initial = [{f: getattr(r, f) for f in fields} for r in current.rules.all()]
    formset = RuleFormSet(initial=initial, prefix="rule")
    note = PolicyNoteForm()
    if request.method == "POST":
        if not can_edit:
            return forbidden(request, _("You may not do this."))
        formset = RuleFormSet(request.POST, initial=initial, prefix="rule")
        note = PolicyNoteForm(request.POST)
        if formset.is_valid() and note.is_valid():
            rows = [f.cleaned_data for f in formset
                    if f.cleaned_data and not f.cleaned_data.get("DELETE")
                    and f.cleaned_data.get("cadence_days") is not None]  # fmt: skip
            try:
                version = services.policy_publish(by=request.user, rules_in=rows,
                                                  note=note.cleaned_data["note"])  # fmt: skip
            except ValidationError as exc:
                for errors in exc.message_dict.values():
                    for error in errors:
                        note.add_error(None, error)
            else:
                messages.success(
                    request, _("Policy version %(n)d published.") % {"n": version.number}
                )
                return redirect("coverage:policy")
    return render(request, "coverage/policy.html", {
        "current": current, "rules": current.rules.all(), "formset": formset, "note": note,
        "can_edit": can_edit, "nav": "coverage",
        "versions": Paginator(selectors.policy_versions(), PAGE_SIZE).get_page(request.GET.get("page")),
        "editing": request.method == "POST" or request.GET.get("edit") == "1",
    })  # fmt: skip


# --- dashboard ----------------------------------------------------------------------------------


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    if not services.may_review(request.user) and not access.sees_all_accounts(request.user):
        raise Http404
    form = PeriodForm(request.GET or None)
    start, end = form.period(timezone.localdate())
    data = selectors.measures(request.user, start=start, end=end)
    chart = {
        "tiers": [str(_("Tier %(n)s") % {"n": r["key"]}) for r in data["by_tier"]],
        "tier_rates": [r["rate"] for r in data["by_tier"]],
        "people": [r["key"] for r in data["by_person"]],
        "person_rates": [r["rate"] for r in data["by_person"]],
        "provinces": [r["key"] for r in data["by_province"]],
        "province_rates": [r["rate"] for r in data["by_province"]],
        "rate_label": str(_("Compliance %")),
    }
    page = Paginator(data["not_visited"], PAGE_SIZE).get_page(request.GET.get("page"))
    # The measures name accounts by id; read only the page's accounts (one query).
    shown = account_list_for(request.user).in_bulk([r["account_id"] for r in page.object_list])
    page.object_list = [{**r, "account": shown[r["account_id"]]} for r in page.object_list]
    return render(request, "coverage/dashboard.html", {
        "form": form, "m": data, "chart": chart, "page": page, "nav": "coverage",
    })  # fmt: skip


# --- the account page's panel -------------------------------------------------------------------


def account_visits_panel(request: HttpRequest, account: Account) -> panels.Content | None:
    user = request.user
    if not access.is_active_user(user) or not access.sees_customer_data(user):
        return None
    items = selectors.account_timeline(user, account)
    html = panels.render_template(request, "coverage/_account_panel.html", {
        "items": items, "account": account, "today": timezone.localdate(),
        "can_report": selectors.may_report_on(user, account),
    })  # fmt: skip
    return panels.Content(html)
