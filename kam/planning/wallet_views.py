"""Share-of-wallet pages: the portfolio's wallet and headroom by tier and industry, an
account's wallet (estimates, competitors' shares, trend) with the estimate form, the
competitors' list (department and directors) and the benchmarks (directors). Thin: a form
parses, :mod:`kam.planning.wallet` reads and writes."""

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kam.accounts.models import Account, Industry
from kam.accounts.selectors import account_get_for
from kam.core import panels
from kam.core.views import forbidden

from . import selectors, stages, wallet
from .forms import DateInput, Styled
from .models import CompanySize, Competitor, WalletEstimate
from .views import _form_errors

#: Competitor rows on the estimate form.
SHARE_ROWS = 5


class EstimateForm(Styled):
    total_spend = forms.DecimalField(
        label=gettext_lazy("total logistics spend (CNY / year)"), max_digits=16, decimal_places=2
    )
    as_of = forms.DateField(label=gettext_lazy("estimated on"), widget=DateInput)
    source = forms.ChoiceField(label=gettext_lazy("source"), choices=WalletEstimate.Source.choices)
    confidence = forms.ChoiceField(
        label=gettext_lazy("confidence"), choices=WalletEstimate.Confidence.choices
    )
    source_note = forms.CharField(label=gettext_lazy("source details"), max_length=500,
                                  required=False)  # fmt: skip
    inhouse_share = forms.DecimalField(
        label=gettext_lazy("in-house logistics share (%)"), max_digits=6, decimal_places=2,
        required=False,
    )  # fmt: skip


class CompetitorForm(Styled):
    name = forms.CharField(label=gettext_lazy("name"), max_length=100)
    name_en = forms.CharField(label=gettext_lazy("English name"), max_length=100, required=False)
    notes = forms.CharField(label=gettext_lazy("notes"), max_length=1000, required=False)
    active = forms.BooleanField(label=gettext_lazy("active"), required=False, initial=True)


def _visible(request: HttpRequest) -> None:
    if not selectors.sees_plans(request.user):
        raise Http404


def _account(request: HttpRequest, pk: int) -> Account:
    _visible(request)
    try:
        return account_get_for(request.user, pk)
    except Account.DoesNotExist:
        raise Http404 from None


@login_required
@require_GET
def wallet_portfolio(request: HttpRequest) -> HttpResponse:
    _visible(request)
    return render(request, "planning/wallet_portfolio.html", {
        "tiers": wallet.portfolio(request.user, "tier"),
        "industries": wallet.portfolio(request.user, "industry"),
        "top": wallet.top_headroom(request.user), "nav": "planning",
    })  # fmt: skip


def _latest_inhouse(account: Account) -> Decimal:
    """The in-house share of the latest estimate, else the archive's figure."""
    latest = account.wallet_estimates.order_by("-as_of", "-id").values_list(
        "inhouse_share", flat=True
    ).first()  # fmt: skip
    if latest is not None:
        return latest
    return account.inhouse_logistics_share or Decimal(0)


def _segments(view: wallet.AccountWallet) -> list[dict[str, Any]]:
    """The wallet's bar: ours, each competitor's, in-house (x and width in per cent; an SVG
    drawn with attributes, as the pages' content security policy forbids inline styles)."""
    if view.latest is None or view.our_share is None:
        return []
    parts = [(_("Us"), float(view.our_share), "ours")]
    parts += [(str(s.competitor), float(s.share), "rival") for s in view.latest.shares]
    parts.append((_("In-house logistics"), float(view.latest.estimate.inhouse_share), "inhouse"))
    out, x = [], 0.0
    for label, share, kind in parts:
        width = max(0.0, min(share, 100.0 - x))
        if width > 0:
            out.append({"label": label, "share": share, "kind": kind, "x": round(x, 2),
                        "width": round(width, 2)})  # fmt: skip
        x += width
    return out


def _shares(request: HttpRequest) -> list[tuple[str, str]]:
    """The form's competitor rows (competitor, share) that name a competitor or a share."""
    rows = zip(request.POST.getlist("competitor"), request.POST.getlist("competitor_share"),
               strict=False)  # fmt: skip
    out = []
    for competitor, share in rows:
        if competitor.strip() or share.strip():
            if not competitor.strip():
                raise ValidationError({"shares": _(
                    "Unknown competitor: choose one from the department's list.")})  # fmt: skip
            out.append((competitor.strip(), share.strip() or "0"))
    return out


@login_required
def wallet_account(request: HttpRequest, pk: int) -> HttpResponse:
    """An account's wallet: now, its estimates over time, and the form for a new one."""
    account = _account(request, pk)
    can_edit = wallet.may_estimate(request.user, account.pk)
    form = EstimateForm(request.POST or None, initial={
        "as_of": timezone.localdate(), "confidence": "medium", "source": "field",
        "inhouse_share": _latest_inhouse(account),
    })  # fmt: skip
    share_errors: list[str] = []
    if request.method == "POST":
        if not can_edit:
            return forbidden(request, _("You may not do this."))
        if form.is_valid():
            d = form.cleaned_data
            try:
                wallet.estimate_add(
                    by=request.user, account=account, total_spend=d["total_spend"],
                    source=d["source"], confidence=d["confidence"], as_of=d["as_of"],
                    source_note=d["source_note"], inhouse_share=d["inhouse_share"] or 0,
                    shares=_shares(request),
                )  # fmt: skip
            except ValidationError as exc:
                if hasattr(exc, "error_dict") and "shares" in exc.error_dict:
                    share_errors = [m for e in exc.error_dict.pop("shares") for m in e.messages]
                _form_errors(form, exc)
            else:
                messages.success(request, _("Wallet estimate saved."))
                return redirect("planning:wallet_account", pk=account.pk)
    view = wallet.account_wallet(account)
    posted = list(zip(request.POST.getlist("competitor"), request.POST.getlist("competitor_share"),
                      strict=False)) if request.method == "POST" else []  # fmt: skip
    rows = posted + [("", "")] * max(SHARE_ROWS - len(posted), 0)
    if not posted and view.latest is not None:
        prior = [(str(s.competitor_id), str(s.share)) for s in view.latest.shares]
        rows = prior + [("", "")] * max(SHARE_ROWS - len(prior), 0)
    benchmark, why = wallet.benchmark_for(account)
    segments = _segments(view)
    return render(request, "planning/wallet_account.html", {
        "account": account, "w": view, "form": form, "can_edit": can_edit,
        "competitors": wallet.competitors(), "share_rows": rows, "share_errors": share_errors,
        "benchmark": benchmark, "benchmark_why": why, "segments": segments,
        "trend": [v for v in reversed(view.history)], "nav": "planning",
    })  # fmt: skip


@login_required
@require_POST
def wallet_benchmark(request: HttpRequest, pk: int) -> HttpResponse:
    """An estimate derived from the benchmark of the account's industry and size."""
    account = _account(request, pk)
    if not wallet.may_estimate(request.user, account.pk):
        return forbidden(request, _("You may not do this."))
    try:
        wallet.estimate_from_benchmark(by=request.user, account=account)
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    else:
        messages.success(request, _("Wallet estimate derived from the benchmark."))
    return redirect("planning:wallet_account", pk=account.pk)


@login_required
def competitor_list(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The competitors; the department and directors add and change them."""
    _visible(request)
    can_edit = wallet.may_edit_competitors(request.user)
    row = None
    if pk is not None:
        row = Competitor.objects.filter(pk=pk).first()
        if row is None:
            raise Http404
    initial = {f: getattr(row, f) for f in ("name", "name_en", "notes", "active")} if row else None
    form = CompetitorForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not can_edit:
            return forbidden(request, _("You may not do this."))
        if form.is_valid():
            try:
                wallet.competitor_save(by=request.user, competitor=row, **form.cleaned_data)
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Competitor saved."))
                return redirect("planning:competitors")
    return render(request, "planning/wallet_competitors.html", {
        "competitors": wallet.competitors(active_only=False), "form": form, "row": row,
        "can_edit": can_edit, "nav": "planning",
    })  # fmt: skip


@login_required
def benchmark_list(request: HttpRequest) -> HttpResponse:
    """The benchmarks (spend per employee by industry and size); directors set them, one
    cell at a time (an empty amount removes it)."""
    _visible(request)
    can_edit = wallet.may_edit_benchmarks(request.user)
    errors: list[str] = []
    if request.method == "POST":
        if not can_edit:
            return forbidden(request, _("You may not do this."))
        industry = None
        raw = request.POST.get("industry", "")
        if raw:
            industry = Industry.objects.filter(pk=raw).first() if raw.isdigit() else None
            if industry is None:
                errors.append(_("Choose an industry from the list."))
        amount: Decimal | None = None
        text = request.POST.get("spend_per_employee", "").strip()
        if text:
            try:
                amount = Decimal(text)
            except ArithmeticError:
                errors.append(_("Enter an amount in CNY."))
        if not errors:
            try:
                wallet.benchmark_set(by=request.user, industry=industry,
                                     size=request.POST.get("size", ""), spend_per_employee=amount)  # fmt: skip
            except ValidationError as exc:
                errors.extend(exc.messages)
            else:
                messages.success(request, _("Benchmark saved."))
                return redirect("planning:wallet_benchmarks")
    return render(request, "planning/wallet_benchmarks.html", {
        "benchmarks": wallet.benchmarks(), "industries": Industry.objects.all(),
        "sizes": CompanySize.choices, "can_edit": can_edit, "errors": errors,
        "posted": request.POST if request.method == "POST" else {}, "nav": "planning",
    })  # fmt: skip


def account_wallet_panel(request: HttpRequest, account: Account) -> panels.Content | None:
    """The account page: our share of wallet, the competitors', and the relationship stage
    with its open proposal."""
    user = request.user
    if not selectors.sees_plans(user):
        return None
    view = wallet.account_wallet(account, history=1)
    since = stages.stage_since(account)
    context: dict[str, Any] = {
        "account": account,
        "w": view,
        "stage": stages.label(account.stage),
        "since": since,
        "days": (timezone.localdate() - since).days,
        "proposal": stages.open_proposal(account),
    }
    return panels.Content(panels.render_template(request, "planning/_wallet_panel.html", context))
