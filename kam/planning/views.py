"""The planning pages. Thin: parse with a form, call a selector or service, render."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kam.accounts.models import Account, CorporateGroup
from kam.accounts.selectors import account_get_for, group_list_for
from kam.core import access, panels
from kam.core.errors import ApplicationError
from kam.core.models import Role, User
from kam.core.views import forbidden, form_messages, refusal_messages

from . import exports, selectors, services
from .forms import ActionForm, ItemForm, ListForm, ObjectiveForm, PlanForm, PolicyForm, ReviewForm
from .models import AccountPlan, Action, Metric, Objective, PlanItem, PlanStatus
from .view_helpers import form_errors, run_posted, save_posted

PAGE_SIZE = 25


_form_errors = form_errors  # the opportunity pages import it from here


def _plan(request: HttpRequest, pk: int) -> AccountPlan:
    try:
        return selectors.plan_get_for(request.user, pk)
    except AccountPlan.DoesNotExist:
        raise Http404 from None


def _staff() -> Any:
    return User.objects.filter(
        is_active=True, role__in=[Role.MANAGER, Role.DEPARTMENT, Role.DIRECTOR, Role.SERVICE]
    ).order_by("display_name", "username")


# --- the list -----------------------------------------------------------------------------------


@login_required
@require_GET
def plan_list(request: HttpRequest) -> HttpResponse:
    if not selectors.sees_plans(request.user):
        raise Http404
    form = ListForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    filters = selectors.ListFilters(
        q=(data.get("q") or "").strip(), tier=data.get("tier"), owner=data.get("owner"),
        status=data.get("status") or "", rag=data.get("rag") or "",
        review_due=bool(data.get("review_due")), year=data.get("year"),
        sort=data.get("sort") or "year",
    )  # fmt: skip
    today = timezone.localdate()
    # Paged on ids first: the status of the page's plans only is computed, unless the
    # list is filtered by RAG (computed from data, so over the matching plans).
    if filters.rag:
        rows = selectors.plan_search(request.user, filters, today=today)
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    else:
        plans = selectors.plan_search_queryset(request.user, filters, today=today)
        page = Paginator(plans, PAGE_SIZE).get_page(request.GET.get("page"))
        page.object_list = selectors.plan_rows(list(page.object_list), request.user, today=today)
    return render(request, "planning/list.html", {
        "page": page, "rows": page.object_list, "filters": filters, "today": today,
        "owners": selectors.plan_owners(request.user), "statuses": PlanStatus.choices,
        "sort": filters.sort, "can_create": selectors.may_create_for(request.user),
        "tiers": range(1, 6), "nav": "planning",
    })  # fmt: skip


# --- a plan ----------------------------------------------------------------------------------------


@login_required
def plan_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    account: Account | None = None
    group: CorporateGroup | None = None
    try:
        if request.GET.get("account", "").isdigit():
            account = account_get_for(user, int(request.GET["account"]))
        elif request.GET.get("group", "").isdigit():
            group = group_list_for(user).get(pk=int(request.GET["group"]))
        else:
            raise Http404
    except (Account.DoesNotExist, CorporateGroup.DoesNotExist):
        raise Http404 from None
    if not selectors.may_create_for(user, account):
        return forbidden(request, _("You may not do this."))
    year = timezone.localdate().year
    form = PlanForm(request.POST or None, staff=_staff(),
                    initial={"year": year, "kind": "expand", "owner": user.pk})  # fmt: skip
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            plan = services.plan_create(
                by=user, account=account, group=group, year=d["year"], kind=d["kind"],
                owner=d["owner"], team=list(d["team_members"]), start=d["start"], end=d["end"],
                ambition=d["ambition"],
            )  # fmt: skip
        except ValidationError as exc:
            _form_errors(form, exc)
        except ApplicationError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("Plan created. Add its analysis, objectives and actions."))
            return redirect("planning:detail", plan.pk)
    return render(request, "planning/plan_form.html", {
        "form": form, "subject": account or group, "plan": None, "nav": "planning",
    })  # fmt: skip


@login_required
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    if not selectors.may_edit(request.user, plan):
        return forbidden(request, _("You may not do this."))
    initial = {"year": plan.year, "kind": plan.kind, "owner": plan.owner_id,
               "team_members": list(plan.team.values_list("pk", flat=True)), "start": plan.start,
               "end": plan.end, "ambition": plan.ambition}  # fmt: skip
    form = PlanForm(request.POST or None, staff=_staff(), initial=initial)
    form.fields["year"].disabled = True
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.plan_update(
                by=request.user, plan=plan, kind=d["kind"], owner=d["owner"],
                team=list(d["team_members"]), start=d["start"], end=d["end"], ambition=d["ambition"],
            )  # fmt: skip
        except ValidationError as exc:
            _form_errors(form, exc)
        except ApplicationError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("Plan saved."))
            return redirect("planning:detail", plan.pk)
    return render(request, "planning/plan_form.html", {
        "form": form, "subject": plan.subject, "plan": plan, "nav": "planning",
    })  # fmt: skip


def _detail_context(request: HttpRequest, plan: AccountPlan) -> dict[str, Any]:
    user = request.user
    today = timezone.localdate()
    row = selectors.plan_rows([plan], user, today=today)[0]
    items = list(selectors.plan_items(plan))
    return {
        "plan": plan, "row": row, "today": today,
        "situation": selectors.situation(user, plan, today=today),
        "swot": [(k, label, [i for i in items if i.kind == k])
                 for k, label in PlanItem.Kind.choices if k in PlanItem.SWOT],
        "gpn": [(k, label, [i for i in items if i.kind == k])
                for k, label in PlanItem.Kind.choices if k in PlanItem.GPN],
        "actions": list(selectors.plan_actions(plan)),
        "reviews": list(selectors.plan_reviews(plan)),
        "team": list(selectors.plan_team(plan)),
        "history": list(plan.history.select_related("history_user").order_by("-history_date")[:15]),
        "metrics": Metric, "nav": "planning",
    }  # fmt: skip


@login_required
@require_GET
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    user = request.user
    context = _detail_context(request, plan)
    can_edit = selectors.may_edit(user, plan) and plan.editable
    if can_edit:
        context.update({
            "item_form": ItemForm(findings=list(selectors.linkable_findings(user, plan)[:50]),
                                  cases=list(selectors.linkable_cases(user, plan)[:50]),
                                  prefix="item"),
            "objective_form": ObjectiveForm(prefix="objective"),
            "action_form": ActionForm(staff=_staff(), prefix="action",
                                      initial={"owner": plan.owner_id, "horizon": 30}),
        })  # fmt: skip
    context.update({
        "can_edit": can_edit, "may_edit": selectors.may_edit(user, plan),
        "can_review": selectors.may_review(user)
        and plan.status in (PlanStatus.SUBMITTED, PlanStatus.APPROVED),
        "review_form": ReviewForm(prefix="review"),
    })  # fmt: skip
    return render(request, "planning/detail.html", context)


@login_required
@require_POST
def plan_submit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    try:
        services.plan_submit(by=request.user, plan=plan)
    except (ApplicationError, ValidationError) as exc:
        refusal_messages(request, exc)
    else:
        messages.success(request, _("Plan sent to the key-account department for review."))
    return redirect("planning:detail", plan.pk)


@login_required
@require_POST
def plan_review(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    form = ReviewForm(request.POST, prefix="review")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("planning:detail", plan.pk)
    try:
        review = services.plan_review(by=request.user, plan=plan, **form.cleaned_data)
    except (ApplicationError, ValidationError) as exc:
        refusal_messages(request, exc)
    else:
        messages.success(request, _("Plan signed off.") if review.decision == "approved"
                         else _("Plan returned to its owner."))  # fmt: skip
    return redirect("planning:detail", plan.pk)


# --- items, objectives, actions ---------------------------------------------------------------


def _add(request: HttpRequest, plan: AccountPlan, form: Any, call: Any, ok: str) -> HttpResponse:
    """Run ``call(cleaned_data)`` for a valid ``form`` posted on the plan page; refusals
    come back as messages (nothing stored)."""
    if not selectors.may_edit(request.user, plan):
        return forbidden(request, _("You may not do this."))
    if not form.is_valid():
        form_messages(request, form)
        return redirect("planning:detail", plan.pk)
    try:
        call(form.cleaned_data)
    except (ApplicationError, ValidationError) as exc:
        refusal_messages(request, exc)
    else:
        messages.success(request, ok)
    return redirect("planning:detail", plan.pk)


def _edit_part(request: HttpRequest, plan: AccountPlan, obj: Any, form: Any, call: Any,
               ok: str, title: str, delete_url: str) -> HttpResponse:  # fmt: skip
    """The edit page of a plan's part: ``call(cleaned_data)`` for a valid posted ``form``
    (refusals next to the fields, nothing stored), back to the plan when it saved."""
    if save_posted(request, form, call, ok).saved:
        return redirect("planning:detail", plan.pk)
    return render(request, "planning/part_form.html", {
        "form": form, "plan": plan, "title": title, "nav": "planning",
        "delete_url": delete_url, "obj": obj,
    })  # fmt: skip


def _delete_part(request: HttpRequest, plan_id: int, call: Any, ok: str) -> HttpResponse:
    """Run ``call()`` (a removal or a change posted from the plan page); refusals come
    back as messages."""
    run_posted(request, call, ok)
    return redirect("planning:detail", plan_id)


def _source(user: User, plan: AccountPlan, data: dict[str, Any]) -> dict[str, Any]:
    """The finding and case an item names, among those the user may link (else refused)."""
    from kam.coverage.models import Finding
    from kam.service.models import Case

    finding = case = None
    if data.get("finding"):
        finding = Finding.objects.select_related("report__visit").filter(pk=data["finding"]).first()
        if finding is None:
            raise ValidationError({"finding": _("The finding must come from a visit report on "
                                                "this plan's account.")})  # fmt: skip
    if data.get("case"):
        case = Case.objects.filter(pk=data["case"]).first()
        if case is None:
            raise ValidationError({"case": _("The service case must be one of this plan's "
                                             "account.")})  # fmt: skip
    return {"finding": finding, "case": case}


class _FreeItemForm(ItemForm):
    """The item form with any id accepted for finding and case: the service decides (and
    refuses one of another account with a message, not a silent drop)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, findings=[], cases=[], **kwargs)
        from django import forms

        self.fields["finding"] = forms.IntegerField(required=False, min_value=1, max_value=2**62)
        self.fields["case"] = forms.IntegerField(required=False, min_value=1, max_value=2**62)


@login_required
@require_POST
def item_add(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    form = _FreeItemForm(request.POST, prefix="item")
    user = request.user
    return _add(request, plan, form, lambda d: services.item_add(
        by=user, plan=plan, kind=d["kind"], text=d["text"], **_source(user, plan, d)),
        _("Item added."))  # fmt: skip


def _item(request: HttpRequest, pk: int) -> PlanItem:
    item = PlanItem.objects.select_related("plan", "plan__account").filter(
        pk=pk, plan__in=selectors.plan_list_for(request.user)
    ).first()  # fmt: skip
    if item is None:
        raise Http404
    return item


@login_required
def item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    plan, user = item.plan, request.user
    if not selectors.may_edit(user, plan):
        return forbidden(request, _("You may not do this."))
    findings = list(selectors.linkable_findings(user, plan)[:50])
    cases = list(selectors.linkable_cases(user, plan)[:50])
    # The item's own source stays a choice even when it is older than the lists reach.
    if item.finding is not None and item.finding not in findings:
        findings += list(selectors.linkable_findings(user, plan).filter(pk=item.finding_id))
    if item.case is not None and item.case not in cases:
        cases += list(selectors.linkable_cases(user, plan).filter(pk=item.case_id))
    initial = {"kind": item.kind, "text": item.text, "finding": item.finding_id,
               "case": item.case_id}  # fmt: skip
    form = ItemForm(request.POST or None, findings=findings, cases=cases, initial=initial)
    return _edit_part(request, plan, item, form, lambda d: services.item_update(
        by=user, item=item, kind=d["kind"], text=d["text"], **_source(user, plan, d)),
        _("Item saved."), _("Edit item"), "planning:item_delete")  # fmt: skip


@login_required
@require_POST
def item_delete(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    return _delete_part(request, item.plan_id,
                        lambda: services.item_delete(by=request.user, item=item),
                        _("Item removed."))  # fmt: skip


@login_required
@require_POST
def objective_add(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    form = ObjectiveForm(request.POST, prefix="objective")
    return _add(request, plan, form, lambda d: services.objective_add(
        by=request.user, plan=plan, **d), _("Objective added."))  # fmt: skip


def _objective(request: HttpRequest, pk: int) -> Objective:
    objective = Objective.objects.select_related("plan").filter(
        pk=pk, plan__in=selectors.plan_list_for(request.user)
    ).first()  # fmt: skip
    if objective is None:
        raise Http404
    return objective


@login_required
def objective_edit(request: HttpRequest, pk: int) -> HttpResponse:
    objective = _objective(request, pk)
    plan = objective.plan
    if not selectors.may_edit(request.user, plan):
        return forbidden(request, _("You may not do this."))
    initial = {"metric": objective.metric, "title": objective.title,
               "baseline": objective.baseline, "target": objective.target,
               "target_date": objective.target_date}  # fmt: skip
    form = ObjectiveForm(request.POST or None, initial=initial)
    return _edit_part(request, plan, objective, form, lambda d: services.objective_update(
        by=request.user, objective=objective, **d), _("Objective saved."),
        _("Edit objective"), "planning:objective_delete")  # fmt: skip


@login_required
@require_POST
def objective_delete(request: HttpRequest, pk: int) -> HttpResponse:
    objective = _objective(request, pk)
    return _delete_part(request, objective.plan_id,
                        lambda: services.objective_delete(by=request.user, objective=objective),
                        _("Objective removed."))  # fmt: skip


@login_required
@require_POST
def action_add(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    form = ActionForm(request.POST, staff=_staff(), prefix="action")
    return _add(request, plan, form, lambda d: services.action_add(
        by=request.user, plan=plan, title=d["title"], horizon=d["horizon"], owner=d["owner"],
        due_date=d["due_date"], resources=d["resources"]), _("Action added."))  # fmt: skip


def _action(request: HttpRequest, pk: int) -> Action:
    action = Action.objects.select_related("plan", "follow_up").filter(
        pk=pk, plan__in=selectors.plan_list_for(request.user)
    ).first()  # fmt: skip
    if action is None:
        raise Http404
    return action


@login_required
def action_edit(request: HttpRequest, pk: int) -> HttpResponse:
    action = _action(request, pk)
    plan = action.plan
    if not selectors.may_edit(request.user, plan):
        return forbidden(request, _("You may not do this."))
    initial = {"title": action.title, "horizon": action.horizon, "owner": action.owner_id,
               "due_date": action.due_date, "resources": action.resources,
               "status": action.status}  # fmt: skip
    form = ActionForm(request.POST or None, staff=_staff(), initial=initial)
    if action.follow_up_id:
        del form.fields["status"]
    return _edit_part(request, plan, action, form, lambda d: services.action_update(
        by=request.user, action=action, title=d["title"], horizon=d["horizon"],
        owner=d["owner"], due_date=d["due_date"], resources=d["resources"],
        status=d.get("status") or None,
    ), _("Action saved."), _("Edit action"), "planning:action_delete")  # fmt: skip


@login_required
@require_POST
def action_delete(request: HttpRequest, pk: int) -> HttpResponse:
    action = _action(request, pk)
    return _delete_part(request, action.plan_id,
                        lambda: services.action_delete(by=request.user, action=action),
                        _("Action removed."))  # fmt: skip


@login_required
@require_POST
def action_track(request: HttpRequest, pk: int) -> HttpResponse:
    action = _action(request, pk)
    return _delete_part(request, action.plan_id,
                        lambda: services.action_track(by=request.user, action=action),
                        _("The action is now a follow-up, tracked with the others."))  # fmt: skip


# --- exports -------------------------------------------------------------------------------------


@login_required
@require_GET
def plan_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    return exports.xlsx_response(_detail_context(request, plan))


@login_required
@require_GET
def plan_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    return exports.pdf_response(_detail_context(request, plan))


# --- the review schedule ----------------------------------------------------------------------


@login_required
def policy(request: HttpRequest) -> HttpResponse:
    if not selectors.sees_plans(request.user):
        raise Http404
    can_edit = selectors.may_edit_policy(request.user)
    intervals = selectors.review_intervals()
    form = PolicyForm(request.POST or None, intervals=intervals)
    if request.method == "POST":
        if not can_edit:
            return forbidden(request, _("You may not do this."))
        if form.is_valid():
            try:
                services.review_policy_set(by=request.user, intervals={
                    int(k.removeprefix("tier_")): v for k, v in form.cleaned_data.items()})  # fmt: skip
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Review schedule saved."))
                return redirect("planning:policy")
    return render(request, "planning/policy.html", {
        "form": form, "intervals": sorted(intervals.items()), "can_edit": can_edit,
        "nav": "planning",
    })  # fmt: skip


# --- the account page's panel ---------------------------------------------------------------------


def account_plan_panel(request: HttpRequest, account: Account) -> panels.Content | None:
    user = request.user
    if not access.is_active_user(user) or not selectors.sees_plans(user):
        return None
    plan = selectors.current_plan(user, account)
    row = selectors.plan_rows([plan], user)[0] if plan is not None else None
    html = panels.render_template(request, "planning/_account_panel.html", {
        "plan": plan, "row": row, "new_query": f"account={account.pk}",
        "can_create": plan is None and selectors.may_create_for(user, account),
        "opportunity_account": account if selectors.may_edit_opportunity(user, account) else None,
    })  # fmt: skip
    return panels.Content(html)


def group_plan_panel(request: HttpRequest, group: CorporateGroup) -> panels.Content | None:
    """The group page: its current plan (group plans are for those who see every account)."""
    user = request.user
    if not selectors.sees_plans(user) or not access.sees_all_accounts(user):
        return None
    plan = selectors.current_group_plan(user, group)
    row = selectors.plan_rows([plan], user)[0] if plan is not None else None
    html = panels.render_template(request, "planning/_account_panel.html", {
        "plan": plan, "row": row, "new_query": f"group={group.pk}", "group": group,
        "can_create": plan is None and selectors.may_create_for(user),
    })  # fmt: skip
    return panels.Content(html)
