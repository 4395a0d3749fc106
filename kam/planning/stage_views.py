"""Relationship-stage pages: the portfolio (distribution, movement, transition matrix per
period, proposals to decide), an account's stage (history, time in stage, evaluation,
proposal and decision) and the entry criteria (directors; versioned). Thin: parse, call
:mod:`kam.planning.stages`, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kam.accounts.models import Account
from kam.accounts.selectors import account_get_for
from kam.core.errors import ApplicationError
from kam.core.models import Role, User
from kam.core.views import forbidden

from . import selectors, stages
from .models import StageCriteria, StageProposal

PAGE_SIZE = 25


def _visible(request: HttpRequest) -> None:
    if not selectors.sees_plans(request.user):
        raise Http404


def _account(request: HttpRequest, pk: int) -> Account:
    _visible(request)
    try:
        return account_get_for(request.user, pk)
    except Account.DoesNotExist:
        raise Http404 from None


def _refused(request: HttpRequest, exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        for text in exc.messages:
            messages.error(request, text)
    else:
        messages.error(request, str(exc))


@login_required
@require_GET
def stage_portfolio(request: HttpRequest) -> HttpResponse:
    """Stage distribution now; movement and the transition matrix of a period (a quarter
    ``2026Q3`` or a year ``2026``); the proposals the user decides."""
    _visible(request)
    today = timezone.localdate()
    kind = "year" if request.GET.get("kind") == "year" else "quarter"
    period = request.GET.get("period", "") or stages.current_period(today, kind)
    bounds = stages.period_bounds(period)
    if bounds is None:
        messages.error(request, _("Choose a period such as 2026 or 2026Q3."))
        period = stages.current_period(today, kind)
        bounds = stages.period_bounds(period)
    assert bounds is not None  # noqa: S101 - current_period is always readable
    year = int(period[:4])
    periods = [str(year - 1), str(year)] + [f"{year}Q{q}" for q in range(1, 5)]
    decide = stages.proposals_to_decide(request.user).select_related("account")
    page = Paginator(decide, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "planning/stage_portfolio.html", {
        "p": stages.portfolio(request.user, *bounds), "period": period, "bounds": bounds,
        "periods": periods, "stages": [(s, stages.label(s)) for s in stages.STAGES],
        "page": page, "nav": "planning",
    })  # fmt: skip


@login_required
@require_GET
def stage_account(request: HttpRequest, pk: int) -> HttpResponse:
    """An account's stage: time in stage, what the data say against the criteria, the
    open proposal and its decision, the history."""
    account = _account(request, pk)
    today = timezone.localdate()
    criteria = stages.current_criteria()
    facts = stages.facts_for([account.pk], today=today)[account.pk]
    evaluated, evidence = stages.evaluate(account.stage, facts, criteria.criteria)
    since = stages.stage_since(account)
    proposal = stages.open_proposal(account)
    return render(request, "planning/stage_account.html", {
        "account": account, "stage": stages.label(account.stage), "since": since,
        "days": (today - since).days, "history": stages.account_history(account, today=today),
        "evaluated": evaluated, "evaluated_label": stages.label(evaluated),
        "evidence": [(r, stages.evidence_text(r)) for r in evidence], "criteria": criteria,
        "proposal": proposal,
        "proposal_evidence": [(r, stages.evidence_text(r)) for r in (proposal.evidence if proposal else [])],
        "past": stages.proposal_list_for(request.user).filter(account=account).exclude(
            status="open")[:10],
        "can_propose": stages.may_propose(request.user, account.pk),
        "can_decide": stages.may_decide(request.user, account.pk),
        "stages": [(s, stages.label(s)) for s in stages.STAGES], "nav": "planning",
    })  # fmt: skip


@login_required
@require_POST
def stage_propose(request: HttpRequest, pk: int) -> HttpResponse:
    """A proposal: the data's (no stage chosen) or the user's with a reason."""
    account = _account(request, pk)
    if not stages.may_propose(request.user, account.pk):
        return forbidden(request, _("You may not do this."))
    try:
        stages.proposal_create(by=request.user, account=account,
                               to_stage=request.POST.get("stage", ""),
                               reason=request.POST.get("reason", ""))  # fmt: skip
    except (ValidationError, ApplicationError) as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("Stage change proposed."))
    return redirect("planning:stage_account", pk=account.pk)


@login_required
@require_POST
def proposal_decide(request: HttpRequest, pk: int) -> HttpResponse:
    _visible(request)
    try:
        proposal = stages.proposal_list_for(request.user).get(pk=pk)
    except StageProposal.DoesNotExist:
        raise Http404 from None
    if not stages.may_decide(request.user, proposal.account_id):
        return forbidden(request, _("You may not do this."))
    accept = request.POST.get("decision") == "accept"
    try:
        stages.proposal_decide(by=request.user, proposal=proposal, accept=accept,
                               reason=request.POST.get("reason", ""),
                               stage=request.POST.get("stage", ""),
                               confirmed=request.POST.getlist("confirmed"))  # fmt: skip
    except (ValidationError, ApplicationError) as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("Stage proposal accepted.") if accept else
                         _("Stage proposal overridden."))  # fmt: skip
    if request.POST.get("next") == "portfolio":
        return redirect("planning:stages")
    return redirect("planning:stage_account", pk=proposal.account_id)


@login_required
def stage_criteria(request: HttpRequest) -> HttpResponse:
    """The entry criteria by stage; a director's save adds a version."""
    _visible(request)
    can_edit = stages.may_edit_criteria(request.user)
    current = stages.current_criteria()
    if request.method == "POST":
        if not can_edit:
            return forbidden(request, _("You may not do this."))
        raw = {s: {k: request.POST.get(f"{s}:{k}", "") for k in stages.CRITERIA}
               for s in stages.STAGES}  # fmt: skip
        try:
            row = stages.criteria_set(by=request.user, criteria=raw,
                                      note=request.POST.get("note", ""))  # fmt: skip
        except (ValidationError, ApplicationError) as exc:
            _refused(request, exc)
        else:
            messages.success(
                request, _("Entry criteria saved as version %(v)s.") % {"v": row.version}
            )
            return redirect("planning:stage_criteria")
    return render(request, "planning/stage_criteria.html", {
        "criteria": current, "rows": stages.criteria_rows(current.criteria),
        "stages": [(s, stages.label(s)) for s in stages.STAGES], "can_edit": can_edit,
        "versions": StageCriteria.objects.select_related("created_by")[:20], "nav": "planning",
    })  # fmt: skip


def home_section(request: HttpRequest, user: User) -> str | None:
    """The home page: the open stage proposals the user decides (an owner's accounts';
    the department's and directors' all). Nothing for the other roles."""
    from kam.core.home import ITEMS, section  # noqa: PLC0415

    if user.role not in (Role.MANAGER, Role.DEPARTMENT, Role.DIRECTOR):
        return None
    waiting = stages.proposals_to_decide(user).select_related("account")
    return section(request, "planning/home/stage_proposals.html", "stage-proposals",
                   items=list(waiting[:ITEMS]), total=waiting.count())  # fmt: skip
