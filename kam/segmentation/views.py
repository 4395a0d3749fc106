"""The segmentation pages: portfolio, tier proposals, candidates, alerts inbox, rules, runs
and their comparison, and the value panel of the account page. Thin: parse, call a selector
or a service, render."""

from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kam.accounts.forms import refuse_on_form
from kam.accounts.models import Account
from kam.accounts.selectors import account_list_for
from kam.core import access, panels
from kam.core.errors import ApplicationError
from kam.core.exports import csv_response, xlsx_response
from kam.core.views import forbidden

from . import messages, selectors, services
from .forms import NoteForm, OverrideForm, ProspectForm, RulesForm
from .models import Alert, RuleSet, Run, TierProposal
from .rules import Rules

PAGE_SIZE = 25
PANEL_SCRIPTS = ("vendor/echarts.min.js", "segmentation/charts.js")
NOT_PORTFOLIO = gettext_lazy(
    "The portfolio is for the key-account department, directors and analysts."
)


def _portfolio_user(request: HttpRequest) -> bool:
    return selectors.sees_portfolio(request.user)


def _label_tiers(stats: dict[str, Any]) -> dict[str, Any]:
    return {
        "tiers": [{"label": _("Tier %(n)s") % {"n": t}, "count": c}
                  for t, c in stats.get("tiers", {}).items()],
        "categories": [{"label": str(messages.CATEGORY_LABELS[k]), "count": c}
                       for k, c in stats.get("categories", {}).items()],
    }  # fmt: skip


@login_required
@require_GET
def portfolio(request: HttpRequest) -> HttpResponse:
    if not _portfolio_user(request):
        if selectors.may_see_own_portfolio(request.user):
            return _own_portfolio(request)
        return forbidden(request, NOT_PORTFOLIO)
    run = selectors.latest_run()
    context: dict[str, Any] = {"nav": "segmentation", "run": run,
                               "may_run": services.may_run(request.user)}  # fmt: skip
    if run is not None and not run.stats.get("empty"):
        level = "codes" if request.GET.get("level") == "codes" else "accounts"
        stats = run.stats[level]
        context.update({
            "level": level, "stats": stats, "all_stats": run.stats,
            "chart": {
                "pareto": stats["pareto"], **_label_tiers(stats),
                "labels": {"share": _("Revenue share (%)"), "cumulative": _("Cumulative share (%)"),
                           "bucket": _("Share of customers (%)"), "count": _("Count")},
            },
            "equity_tier": selectors.equity(run, "tier"),
            "equity_industry": selectors.equity(run, "industry")[:12],
            "equity_owner": selectors.equity(run, "owner")[:12],
            "top": selectors.valuations_for(request.user, run).order_by("rank")[:15],
            "open_proposals": selectors.proposals_for(request.user).count(),
            "open_alerts": selectors.alerts_for(request.user).filter(status=Alert.Status.OPEN).count(),
        })  # fmt: skip
    context["running"] = Run.objects.filter(
        status__in=[Run.Status.QUEUED, Run.Status.RUNNING]
    ).first()
    return render(request, "segmentation/portfolio.html", context)


def _own_portfolio(request: HttpRequest) -> HttpResponse:
    """A manager's portfolio: the latest run's figures over their own accounts only."""
    run = selectors.latest_run()
    context: dict[str, Any] = {"nav": "segmentation", "run": run, "mine": True, "may_run": False}
    if run is not None and not run.stats.get("empty"):
        own = selectors.own_portfolio(request.user, run)
        stats = own["stats"]
        context.update({
            "level": "accounts", "stats": stats, "all_stats": {"months": run.stats.get("months")},
            "chart": {
                "pareto": stats["pareto"], **_label_tiers(stats),
                "labels": {"share": _("Revenue share (%)"), "cumulative": _("Cumulative share (%)"),
                           "bucket": _("Share of customers (%)"), "count": _("Count")},
            },
            "equity_tier": own["equity_tier"], "equity_industry": own["equity_industry"],
            "equity_owner": own["equity_owner"],
            "top": selectors.valuations_for(request.user, run).order_by("rank")[:15],
            "open_alerts": selectors.alerts_for(request.user).filter(status=Alert.Status.OPEN).count(),
        })  # fmt: skip
    return render(request, "segmentation/portfolio.html", context)


@login_required
@require_POST
def run_start(request: HttpRequest) -> HttpResponse:
    try:
        run = services.run_enqueue(trigger=Run.Trigger.MANUAL, by=request.user)
    except ApplicationError as exc:
        return forbidden(request, exc.message)
    flash.info(request, _("The segmentation run has started."))
    return redirect("segmentation:run_detail", pk=run.pk)


# --- runs ---------------------------------------------------------------------------------------


@login_required
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    if not _portfolio_user(request):
        return forbidden(request, NOT_PORTFOLIO)
    page = Paginator(selectors.run_list_for(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "segmentation/run_list.html", {
        "page": page, "nav": "segmentation", "may_run": services.may_run(request.user),
        "done": selectors.run_list_for(request.user).filter(status=Run.Status.DONE)[:50],
    })  # fmt: skip


@login_required
@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(selectors.run_list_for(request.user), pk=pk)
    context = {"run": run, "nav": "segmentation"}
    if request.htmx:
        return render(request, "segmentation/_run_status.html", context)
    return render(request, "segmentation/run_detail.html", context)


@login_required
@require_GET
def run_compare(request: HttpRequest) -> HttpResponse:
    runs = selectors.run_list_for(request.user).filter(status=Run.Status.DONE)
    try:
        a = runs.get(pk=int(request.GET.get("a", "")))
        b = runs.get(pk=int(request.GET.get("b", "")))
    except (ValueError, Run.DoesNotExist):
        raise Http404 from None
    result = selectors.migration_matrix(a, b)
    rows = [{"tier": i + 1, "cells": row} for i, row in enumerate(result["matrix"])]
    return render(request, "segmentation/run_compare.html", {
        "a": a, "b": b, "rows": rows, "movers": result["movers"][:100], "moved": result["moved"],
        "nav": "segmentation",
    })  # fmt: skip


# --- tier proposals -----------------------------------------------------------------------------


@login_required
def proposal_list(request: HttpRequest) -> HttpResponse:
    if not _portfolio_user(request):
        return forbidden(request, NOT_PORTFOLIO)
    proposals = selectors.proposals_for(request.user)
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("proposal") if i.isdigit()]
        chosen = list(proposals.filter(pk__in=ids))
        if not chosen:
            flash.warning(request, _("Choose at least one proposal."))
        else:
            try:
                n = services.proposals_accept(by=request.user, proposals=chosen)
            except (ApplicationError, ValidationError) as exc:
                flash.error(request, str(getattr(exc, "message", exc)))
            else:
                flash.success(request, _("%(n)s tier proposals accepted.") % {"n": n})
        return redirect("segmentation:proposals")
    direction = request.GET.get("direction", "")
    if direction == "up":
        proposals = [
            p for p in proposals if p.current_tier is None or p.proposed_tier < p.current_tier
        ]
    elif direction == "down":
        proposals = [
            p for p in proposals if p.current_tier is not None and p.proposed_tier > p.current_tier
        ]
    page = Paginator(proposals, PAGE_SIZE).get_page(request.GET.get("page"))
    for p in page.object_list:
        p.reason_text = messages.reason_text(
            p.valuation.reasons[0]["code"], p.valuation.reasons[0]["params"]
        )
    return render(request, "segmentation/proposal_list.html", {
        "page": page, "nav": "segmentation", "direction": direction,
        "may_decide": services.may_decide_tiers(request.user),
    })  # fmt: skip


@login_required
@require_POST
def proposal_accept(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = get_object_or_404(selectors.proposals_for(request.user), pk=pk)
    try:
        services.proposal_accept(by=request.user, proposal=proposal)
    except (ApplicationError, ValidationError) as exc:
        flash.error(request, str(getattr(exc, "message", exc)))
    else:
        flash.success(request, _("%(account)s is now tier %(tier)s.")
                      % {"account": proposal.account, "tier": proposal.proposed_tier})  # fmt: skip
    return redirect(request.POST.get("next") or "segmentation:proposals")


@login_required
def tier_override(request: HttpRequest, account_pk: int) -> HttpResponse:
    account = get_object_or_404(account_list_for(request.user), pk=account_pk)
    if not services.may_decide_tiers(request.user):
        return forbidden(request, _("Only the key-account department and directors decide tiers."))
    proposal = TierProposal.objects.filter(account=account, status=TierProposal.Status.OPEN).first()
    form = OverrideForm(request.POST or None, initial={"tier": account.tier or 3})
    if request.method == "POST" and form.is_valid():
        try:
            services.tier_override(by=request.user, account=account, tier=form.cleaned_data["tier"],
                                   reason=form.cleaned_data["reason"], proposal=proposal)  # fmt: skip
        except (ValidationError, ApplicationError) as exc:
            refuse_on_form(form, exc)
        else:
            flash.success(request, _("%(account)s is now tier %(tier)s.")
                          % {"account": account, "tier": form.cleaned_data["tier"]})  # fmt: skip
            return redirect("account_detail", pk=account.pk)
    return render(request, "segmentation/tier_override.html", {
        "account": account, "proposal": proposal, "form": form, "nav": "segmentation",
    })  # fmt: skip


# --- candidates ---------------------------------------------------------------------------------


@login_required
def candidate_list(request: HttpRequest) -> HttpResponse:
    if not _portfolio_user(request):
        return forbidden(request, NOT_PORTFOLIO)
    run = selectors.latest_run()
    rows = selectors.candidates_for(request.user, run).order_by("rank") if run else []
    may_create = access.may_import(request.user)
    if request.method == "POST":
        form = ProspectForm(request.POST)
        code = request.POST.get("code", "")
        if not may_create:
            return forbidden(
                request, _("Only the key-account department and directors may create accounts.")
            )
        if form.is_valid():
            try:
                account = services.candidate_prospect_create(by=request.user, code=code,
                                                             name=form.cleaned_data["name"])  # fmt: skip
            except (ValidationError, ApplicationError) as exc:
                flash.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
            else:
                flash.success(request, _("Prospect account “%(name)s” created with billing account code %(code)s.")
                              % {"name": account, "code": code})  # fmt: skip
                return redirect("account_detail", pk=account.pk)
        else:
            flash.error(request, _("Give the company's name."))
        return redirect("segmentation:candidates")
    if request.GET.get("format") in ("csv", "xlsx") and run:
        header = [
            _("Billing account code"),
            _("Revenue"),
            _("Growth"),
            _("Class"),
            _("Value score"),
            _("Categories"),
        ]
        data = (
            [v.code, v.revenue, v.growth, v.abc, v.score, ", ".join(v.categories)] for v in rows
        )
        if request.GET["format"] == "csv":
            return csv_response("kam-candidates.csv", header, data)
        return xlsx_response("kam-candidates.xlsx", _("Candidates"), header, data)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for v in page.object_list:
        v.category_labels = [messages.CATEGORY_LABELS[c] for c in v.categories]
    return render(request, "segmentation/candidate_list.html", {
        "page": page, "run": run, "may_create": may_create, "nav": "segmentation",
    })  # fmt: skip


# --- alerts -------------------------------------------------------------------------------------


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    alerts = selectors.alerts_for(request.user)
    if request.method == "POST":
        alert = get_object_or_404(alerts, pk=request.POST.get("alert", "0") or 0)
        form = NoteForm(request.POST)
        form.is_valid()
        note = form.cleaned_data.get("note", "") if form.is_valid() else ""
        try:
            if request.POST.get("action") == "resolve":
                services.alert_resolve(by=request.user, alert=alert, note=note)
                flash.success(request, _("Alert resolved."))
            else:
                services.alert_acknowledge(by=request.user, alert=alert, note=note)
                flash.success(request, _("Alert acknowledged."))
        except (ValidationError, ApplicationError) as exc:
            flash.error(
                request, " ".join(getattr(exc, "messages", [str(getattr(exc, "message", exc))]))
            )
        return redirect(request.get_full_path())
    status = request.GET.get("status", "open")
    kind = request.GET.get("kind", "")
    if status in Alert.Status.values:
        alerts = alerts.filter(status=status)
    if kind in Alert.Kind.values:
        alerts = alerts.filter(kind=kind)
    page = Paginator(alerts, PAGE_SIZE).get_page(request.GET.get("page"))
    for a in page.object_list:
        a.text = messages.alert_text(a)
    return render(request, "segmentation/alert_list.html", {
        "page": page, "status": status, "kind": kind, "nav": "segmentation",
        "statuses": Alert.Status.choices, "kinds": Alert.Kind.choices, "form": NoteForm(),
    })  # fmt: skip


# --- rules --------------------------------------------------------------------------------------


@login_required
def rules_edit(request: HttpRequest) -> HttpResponse:
    if not _portfolio_user(request):
        return forbidden(request, NOT_PORTFOLIO)
    current = services.rule_set_current()
    may_edit = services.may_edit_rules(request.user)
    form = RulesForm(request.POST or None, rules=Rules.from_dict(current.rules))
    if request.method == "POST":
        if not may_edit:
            return forbidden(request, _("Only directors may change the segmentation rules."))
        if form.is_valid():
            try:
                new = services.rule_set_create(by=request.user, data=form.rules_data(),
                                               note=form.cleaned_data["note"])  # fmt: skip
            except ValidationError as exc:
                for field, errors in exc.error_dict.items():
                    target = {"tier_cutoffs": "cutoff_1", "weights": None}.get(field, field)
                    form.add_error(target if target in form.fields else None, errors)
            else:
                flash.success(
                    request,
                    _("Rules saved as version %(v)s; the next run uses them.") % {"v": new.version},
                )
                return redirect("segmentation:rules")
    scalar = [
        form[n] for n in form.fields if not n.startswith(("cutoff_", "weight_")) and n != "note"
    ]
    return render(request, "segmentation/rules.html", {
        "form": form, "current": current, "may_edit": may_edit, "nav": "segmentation",
        "scalar": scalar, "cutoffs": [form[f"cutoff_{i}"] for i in range(1, 5)],
        "weights": [form[n] for n in form.fields if n.startswith("weight_")],
        "versions": RuleSet.objects.select_related("created_by")[:20],
    })  # fmt: skip


# --- the account page's value panel ---------------------------------------------------------------


def account_value_panel(request: HttpRequest, account: Account) -> panels.Content | None:
    if not access.is_active_user(request.user) or not access.sees_customer_data(request.user):
        return None
    v = selectors.account_valuation(request.user, account)
    history = list(selectors.tier_history(request.user, account)[:10])
    context: dict[str, Any] = {"account": account, "v": v, "history": history,
                               "may_decide": services.may_decide_tiers(request.user)}  # fmt: skip
    if v is not None:
        codes = len(account.billing_codes.all())
        context.update({
            "reasons": [messages.reason_text(r["code"], r["params"]) for r in v.reasons],
            "figure_reasons": messages.figure_reasons(v, codes),
            "categories": [messages.CATEGORY_LABELS[c] for c in v.categories],
            "growth_pct": v.growth * 100 if v.growth is not None else None,
            "proposal": TierProposal.objects.filter(account=account, status=TierProposal.Status.OPEN).first(),
            "alerts": list(selectors.alerts_for(request.user).filter(account=account)
                           .exclude(status=Alert.Status.RESOLVED)[:5]),
            "json_id": f"value-data-{account.pk}",
            "chart": {"forecast": v.forecast, "labels": {
                "revenue": _("Revenue forecast (CNY)"), "band": _("Interval (80 %)"),
                "waybills": _("Waybills")}},
        })  # fmt: skip
        for a in context["alerts"]:
            a.text = messages.alert_text(a)
    html = panels.render_template(request, "segmentation/_value_panel.html", context)
    return panels.Content(html, PANEL_SCRIPTS if v is not None and v.forecast else ())
