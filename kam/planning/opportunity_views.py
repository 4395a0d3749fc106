"""The opportunity pages: list, pipeline board, detail / edit with the stage move, the
weighted pipeline, and the solutions catalogue (directors). Thin, as the plan pages: a
form parses, a selector reads, a service writes."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kam.accounts.models import TIER_CHOICES, Account, BuyingRole
from kam.accounts.selectors import account_get_for, account_list_for
from kam.core import access
from kam.core.models import Role
from kam.core.views import forbidden

from . import selectors, services
from .forms import OpportunityForm, OpportunityListForm, SolutionForm
from .models import OPEN_STAGES, QUALIFIERS, Opportunity, Solution, Stage
from .view_helpers import run_posted, save_posted

PAGE_SIZE = 25


def _visible(request: HttpRequest) -> None:
    if not selectors.sees_plans(request.user):
        raise Http404


def _opportunity(request: HttpRequest, pk: int) -> Opportunity:
    _visible(request)
    try:
        return selectors.opportunity_get_for(request.user, pk)
    except Opportunity.DoesNotExist:
        raise Http404 from None


def _filters(request: HttpRequest) -> selectors.OpportunityFilters:
    form = OpportunityListForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    sort = data.get("sort") or "close"
    return selectors.OpportunityFilters(
        stage=data.get("stage") or "", solution=data.get("solution"), owner=data.get("owner"),
        tier=data.get("tier"), sort=sort if sort in selectors.OPPORTUNITY_SORTS else "close",
    )  # fmt: skip


def _choices(request: HttpRequest) -> dict[str, Any]:
    owners = selectors.opportunity_list_for(request.user).values("owner")
    from kam.core.models import User  # noqa: PLC0415

    return {"solutions": selectors.solutions(active_only=False),
            "owners": User.objects.filter(pk__in=owners).order_by("display_name", "username"),
            "tiers": [t for t, _l in TIER_CHOICES], "stages": Stage.choices}  # fmt: skip


@login_required
@require_GET
def opportunity_list(request: HttpRequest) -> HttpResponse:
    _visible(request)
    f = _filters(request)
    page = Paginator(selectors.opportunity_search(request.user, f), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "planning/opportunity_list.html", {
        "page": page, "filters": f, "query": query.urlencode(), "nav": "planning",
        "sorts": list(selectors.OPPORTUNITY_SORTS), **_choices(request),
    })  # fmt: skip


@login_required
@require_GET
def opportunity_board(request: HttpRequest) -> HttpResponse:
    _visible(request)
    f = _filters(request)
    columns = selectors.opportunity_board(request.user, f)
    # What a card's drag needs to know: may it move, are its stage's qualifiers all
    # answered yes (else the drag asks for them), which ones are (to tick them).
    editable = _editable_accounts(request, [o for cards in columns.values() for o in cards])
    for cards in columns.values():
        for o in cards:
            answers = (o.qualifiers or {}).get(o.stage, {})
            o.board_editable = o.account_id in editable  # type: ignore[attr-defined]
            o.board_qualified = o.answered_yes(o.stage)  # type: ignore[attr-defined]
            o.board_yes = " ".join(k for k, _l in QUALIFIERS[o.stage] if answers.get(k) is True)  # type: ignore[attr-defined]
    return render(request, "planning/opportunity_board.html", {
        "columns": [(s, Stage(s).label, columns[s]) for s in OPEN_STAGES], "filters": f,
        "closing": [(s, Stage(s).label) for s in Stage.values], "nav": "planning",
        "qualifiers": [(s, Stage(s).label, [(k, str(label)) for k, label in QUALIFIERS[s]])
                       for s in OPEN_STAGES],
        **_choices(request),
    })  # fmt: skip


def _editable_accounts(request: HttpRequest, opps: list[Opportunity]) -> set[int]:
    """The accounts among ``opps``' whose opportunities the user may move (one query)."""
    ids = {o.account_id for o in opps}
    user = request.user
    if not ids or not access.is_active_user(user) or user.role not in (
        Role.DIRECTOR, Role.DEPARTMENT, Role.MANAGER
    ):  # fmt: skip
        return set()
    if user.role != Role.MANAGER:
        return ids
    return set(account_list_for(user).filter(pk__in=ids).values_list("pk", flat=True))


@login_required
@require_GET
def opportunity_pipeline(request: HttpRequest) -> HttpResponse:
    _visible(request)
    return render(request, "planning/opportunity_pipeline.html", {
        "tables": [(key, label, selectors.weighted_pipeline(request.user, key))
                   for key, label in (("owner", _("By owner")), ("tier", _("By tier")),
                                      ("solution", _("By solution")))],
        "nav": "planning",
    })  # fmt: skip


def _influences(request: HttpRequest, opp: Opportunity) -> list[tuple[int, str]]:
    contacts = request.POST.getlist("influence_contact")
    roles = request.POST.getlist("influence_role")
    out = []
    for contact, role in zip(contacts, roles, strict=False):
        if contact.strip():
            try:
                out.append((int(contact), role))
            except ValueError:
                raise ValidationError(
                    {"influences": _("A buying influence must be a contact of this account.")}
                ) from None
    return out


@login_required
def opportunity_new(request: HttpRequest) -> HttpResponse:
    _visible(request)
    try:
        account = account_get_for(request.user, int(request.GET.get("account", "")))
    except (ValueError, Account.DoesNotExist) as exc:
        raise Http404 from exc
    if not selectors.may_edit_opportunity(request.user, account.pk):
        return forbidden(request, _("You may not do this."))
    findings = selectors.linkable_account_findings(request.user, account)
    finding = None
    if request.GET.get("finding", "").isdigit():
        finding = findings.filter(pk=int(request.GET["finding"])).first()
        if finding is None:
            raise Http404
    initial: dict[str, Any] = {"title": finding.text if finding else ""}
    if request.GET.get("solution", "").isdigit():  # from a whitespace cell
        initial["solution"] = int(request.GET["solution"])
    form = OpportunityForm(request.POST or None, solutions=selectors.solutions(),
                           initial=initial)  # fmt: skip
    outcome = save_posted(request, form, lambda d: services.opportunity_create(
        by=request.user, account=account, solution=d["solution"], owner=request.user,
        title=d["title"], annual_revenue=d["annual_revenue"],
        annual_margin=d["annual_margin"] or 0, probability=d["probability"],
        expected_close=d["expected_close"], decision_criteria=d["decision_criteria"],
        competitors=d["competitors"], finding=finding,
    ), _("Opportunity created."))  # fmt: skip
    if outcome.saved:
        return redirect("planning:opportunity_detail", pk=outcome.value.pk)
    return render(request, "planning/opportunity_form.html", {
        "form": form, "account": account, "finding": finding, "nav": "planning",
    })  # fmt: skip


@login_required
def opportunity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    opp = _opportunity(request, pk)
    can_edit = selectors.may_edit_opportunity(request.user, opp.account_id)
    initial = {f: getattr(opp, f) for f in services.OPPORTUNITY_FIELDS if f != "owner"}
    form = OpportunityForm(request.POST or None, solutions=selectors.solutions(active_only=False),
                           initial=initial)  # fmt: skip
    if request.method == "POST" and not can_edit:
        return forbidden(request, _("You may not do this."))
    if save_posted(request, form, lambda d: services.opportunity_update(
        by=request.user, opportunity=opp, influences=_influences(request, opp),
        **{**d, "annual_margin": d["annual_margin"] or 0},
    ), _("Opportunity saved.")).saved:  # fmt: skip
        return redirect("planning:opportunity_detail", pk=opp.pk)
    sees_contacts = access.sees_contacts(request.user)
    influences = list(opp.influences.select_related("contact")) if sees_contacts else []
    from kam.accounts.models import Contact  # noqa: PLC0415

    contacts = Contact.objects.filter(account_id=opp.account_id).order_by("name") if (
        can_edit and sees_contacts) else Contact.objects.none()  # fmt: skip
    answers = opp.qualifiers or {}
    qualifiers = [(s, Stage(s).label, [(k, str(label), answers.get(s, {}).get(k))
                                       for k, label in QUALIFIERS[s]]) for s in OPEN_STAGES]  # fmt: skip
    return render(request, "planning/opportunity_detail.html", {
        "opp": opp, "form": form, "can_edit": can_edit and opp.is_open,
        "influences": influences, "sees_contacts": sees_contacts, "contacts": contacts,
        "roles": BuyingRole.choices, "qualifiers": qualifiers, "stages": Stage.choices,
        "history": opp.history.select_related("history_user")[:20], "nav": "planning",
    })  # fmt: skip


@login_required
@require_POST
def opportunity_move(request: HttpRequest, pk: int) -> HttpResponse:
    """A card's move (the board) or the detail page's: the qualifiers answered yes are the
    checked boxes ``q:<stage>:<key>`` (a stage's boxes all sent as answered)."""
    opp = _opportunity(request, pk)
    if not selectors.may_edit_opportunity(request.user, opp.account_id):
        return forbidden(request, _("You may not do this."))
    answers: dict[str, dict[str, bool]] = {}
    for stage in request.POST.getlist("answered"):
        if stage in QUALIFIERS:
            answers[stage] = {k: f"q:{stage}:{k}" in request.POST for k, _l in QUALIFIERS[stage]}
    run_posted(request, lambda: services.opportunity_move(
        by=request.user, opportunity=opp, stage=request.POST.get("stage", ""), answers=answers,
        reason=request.POST.get("reason", ""),
    ), _("Opportunity moved."))  # fmt: skip
    back = request.POST.get("next", "")
    if back == "board":
        return redirect("planning:opportunity_board")
    return redirect("planning:opportunity_detail", pk=opp.pk)


@login_required
def solution_list(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The solutions catalogue; directors add and change solutions here."""
    _visible(request)
    can_edit = selectors.may_edit_solutions(request.user)
    row = None
    if pk is not None:
        row = Solution.objects.filter(pk=pk).first()
        if row is None:
            raise Http404
    initial = {f: getattr(row, f) for f in ("code", "name_zh", "name_en", "description",
                                             "position", "active")} if row else None  # fmt: skip
    form = SolutionForm(request.POST or None, initial=initial)
    if request.method == "POST" and not can_edit:
        return forbidden(request, _("You may not do this."))
    if save_posted(request, form, lambda d: services.solution_save(by=request.user, solution=row, **d),
                   _("Solution saved.")).saved:  # fmt: skip
        return redirect("planning:solutions")
    return render(request, "planning/solutions.html", {
        "solutions": selectors.solutions(active_only=False), "form": form, "row": row,
        "can_edit": can_edit, "nav": "planning",
    })  # fmt: skip
