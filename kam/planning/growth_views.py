"""The whitespace grid (accounts × solutions, XLSX export) and the department's measures
page. Thin, as the other planning pages: a form parses, :mod:`.whitespace` and
:mod:`.measures` read."""

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from kam.accounts.models import TIER_CHOICES, CorporateGroup, Industry
from kam.accounts.selectors import account_owners, group_list_for
from kam.core import panels

from . import measures, selectors, whitespace
from .exports import XLSX
from .models import Solution

PAGE_SIZE = 25


class WhitespaceForm(forms.Form):
    group = forms.IntegerField(required=False, min_value=1, max_value=2**62)
    mine = forms.BooleanField(required=False)
    tier = forms.TypedChoiceField(required=False, coerce=int, empty_value=None,
                                  choices=[("", "")] + [(t, t) for t, _l in TIER_CHOICES])  # fmt: skip
    owner = forms.IntegerField(required=False, min_value=1, max_value=2**62)
    industry = forms.IntegerField(required=False, min_value=1, max_value=2**62)
    q = forms.CharField(required=False, max_length=100)
    sort = forms.ChoiceField(required=False, choices=[(s, s) for s in whitespace.SORTS])


def _filters(request: HttpRequest) -> whitespace.Filters:
    form = WhitespaceForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    return whitespace.Filters(
        group=data.get("group"), mine=bool(data.get("mine")), tier=data.get("tier"),
        owner=data.get("owner"), industry=data.get("industry"),
        q=(data.get("q") or "").strip(), sort=data.get("sort") or "tier",
    )  # fmt: skip


def _group(request: HttpRequest, f: whitespace.Filters) -> CorporateGroup | None:
    """The group the grid is narrowed to; a group the user may not see answers 404."""
    if not f.group:
        return None
    group = group_list_for(request.user).filter(pk=f.group).first()
    if group is None:
        raise Http404
    return group


@login_required
@require_GET
def whitespace_grid(request: HttpRequest) -> HttpResponse:
    if not selectors.sees_plans(request.user):
        raise Http404
    f = _filters(request)
    group = _group(request, f)
    solutions = list(Solution.objects.filter(active=True))
    # Paged on ids: the page's accounts alone are read, then their cells in two queries.
    page = Paginator(whitespace.accounts(request.user, f).values_list("pk", flat=True),
                     PAGE_SIZE).get_page(request.GET.get("page"))  # fmt: skip
    ids = list(page.object_list)
    from kam.accounts.models import Account  # noqa: PLC0415

    names = {a.pk: a for a in Account.objects.filter(pk__in=ids).only("pk", "name", "tier")}
    grid = whitespace.cells(request.user, ids, solutions)
    labels = whitespace.state_labels()
    rows = [(names[pk], [(s, grid[pk][s.pk], labels[grid[pk][s.pk].state]) for s in solutions])
            for pk in ids]  # fmt: skip
    counts = whitespace.counts(grid, solutions)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "planning/whitespace.html", {
        "page": page, "rows": rows, "solutions": solutions, "filters": f, "group": group,
        "query": query.urlencode(), "legend": [(s, labels[s]) for s in whitespace.STATES],
        "can_create": whitespace.may_create(request.user),
        "counts": [(s, counts[s.pk]) for s in solutions], "tiers": [t for t, _l in TIER_CHOICES],
        "owners": account_owners(), "industries": Industry.objects.all(), "nav": "planning",
    })  # fmt: skip


@login_required
@require_GET
def whitespace_xlsx(request: HttpRequest) -> HttpResponse:
    if not selectors.sees_plans(request.user):
        raise Http404
    f = _filters(request)
    _group(request, f)
    response = HttpResponse(whitespace.xlsx(request.user, f), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="whitespace.xlsx"'
    return response


@login_required
@require_GET
def measures_page(request: HttpRequest) -> HttpResponse:
    if not measures.may_see(request.user):
        raise Http404
    today = timezone.localdate()
    pipeline = measures.pipeline_by_stage(request.user, today)
    objectives = measures.objective_counts(request.user, today)
    context: dict[str, Any] = {
        "today": today, "coverage": measures.plan_coverage(request.user, today),
        "objectives": objectives,
        "objective_rows": [(s, objectives.counts[s], objectives.share(s))
                           for s in measures.OBJECTIVE_STATES],
        "pipeline": pipeline, "pipeline_open": measures.open_totals(pipeline),
        "nav": "planning",
    }  # fmt: skip
    # Relationship stages: today's distribution, and the moves of this quarter.
    from . import stages  # noqa: PLC0415

    period = stages.current_period(today, "quarter")
    bounds = stages.period_bounds(period)
    assert bounds is not None  # noqa: S101 - current_period is always readable
    context |= {"stage_period": period, "stages": stages.portfolio(request.user, *bounds)}
    return render(request, "planning/measures.html", context)


# --- the visit report's panel -----------------------------------------------------------------


def report_opportunity_panel(request: HttpRequest, report: Any) -> panels.Content | None:
    """On a visit report's page: each finding the user may turn into an opportunity, with
    the link that does it (or the opportunity already made of it)."""
    user = request.user
    account = report.visit.account
    if not selectors.sees_plans(user) or not selectors.may_edit_opportunity(user, account.pk):
        return None
    findings = list(selectors.linkable_account_findings(user, account).filter(report=report))
    if not findings:
        return None
    made = dict(
        selectors.opportunity_list_for(user).filter(finding__in=findings)
        .values_list("finding_id", "pk")
    )  # fmt: skip
    html = panels.render_template(request, "planning/_report_panel.html", {
        "account": account, "rows": [(f, made.get(f.pk)) for f in findings],
    })  # fmt: skip
    return panels.Content(html)
