"""The pricing pages. Thin: parse with a form, call a selector or service, render.

Every page starts from ``selectors.card_list_for`` / ``quote_list_for`` (foreign ids are
404) and checks the action's permission (a sentence on a 403 page)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kam.accounts.models import TIER_CHOICES, Account
from kam.accounts.selectors import account_get_for
from kam.core import access, panels
from kam.core.errors import ApplicationError
from kam.core.views import forbidden, form_errors, form_messages, refusal_messages

from . import quote_form, quotes, rating, reprice, selectors, services, strategies, whatif
from .forms import ContractForm, DecisionForm, GuidanceForm, QuoteListForm
from .models import (
    CardKind,
    PriceGuidance,
    Product,
    Quote,
    QuoteStatus,
    RateCard,
    RuleShape,
    Zone,
)

PAGE_SIZE = 25


def quote_or_404(request: HttpRequest, pk: int) -> Quote:
    try:
        return selectors.quote_get_for(request.user, pk)
    except Quote.DoesNotExist:
        raise Http404 from None


def card_or_404(request: HttpRequest, pk: int) -> RateCard:
    try:
        return selectors.card_get_for(request.user, pk)
    except RateCard.DoesNotExist:
        raise Http404 from None


# --- quotes --------------------------------------------------------------------------------


@login_required
@require_GET
def quote_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not selectors.sees_pricing(user):
        raise Http404
    quotes.expire_quotes()
    form = QuoteListForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    rows = (
        selectors.awaiting_approval(user)
        if data.get("awaiting")
        else selectors.quote_list_for(user)
    )
    if q := (data.get("q") or "").strip():
        rows = rows.filter(
            Q(number__icontains=q) | Q(account__name__icontains=q) | Q(group__name__icontains=q)
        )
    if data.get("status"):
        rows = rows.filter(status=data["status"])
    if data.get("mine"):
        rows = rows.filter(owner=user)
    page = Paginator(rows.order_by("-created_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "pricing/quote_list.html", {
        "page": page, "rows": page.object_list, "filters": data, "statuses": QuoteStatus.choices,
        "awaiting_count": selectors.awaiting_approval(user).count(), "nav": "pricing",
        "filtered": any(data.get(k) for k in ("q", "status", "mine", "awaiting")),
    })  # fmt: skip


@login_required
def quote_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    raw = request.GET.get("account", "")
    if not raw.isdigit():
        raise Http404
    try:
        account = account_get_for(user, int(raw))
    except Account.DoesNotExist:
        raise Http404 from None
    if not selectors.may_quote(user, account):
        return forbidden(request, _("You may not quote prices for this account."))

    def save(
        data: dict[str, Any], discounts: list[rating.Discount],
        seasons: list[strategies.Season] | None,
    ) -> Quote:  # fmt: skip
        quote = quotes.quote_create(
            by=user, account=account, strategy=data["strategy"], discounts=discounts,
            valid_until=data["valid_until"], terms=data["terms"], workings=data["workings"],
            seasons=seasons or (),
        )  # fmt: skip
        messages.success(
            request, _("Quote %(number)s saved as a draft.") % {"number": quote.number}
        )
        return quote

    return quote_form.quote_page(request, account, None, save)


@login_required
def quote_edit(request: HttpRequest, pk: int) -> HttpResponse:
    quote = quote_or_404(request, pk)
    if not selectors.may_edit_quote(request.user, quote):
        return forbidden(request, _("You may not change this quote."))

    def save(
        data: dict[str, Any], discounts: list[rating.Discount],
        seasons: list[strategies.Season] | None,
    ) -> Quote:  # fmt: skip
        saved = quotes.quote_update(
            by=request.user, quote=quote, discounts=discounts, valid_until=data["valid_until"],
            terms=data["terms"], strategy=data["strategy"], workings=data["workings"],
            seasons=seasons,
        )  # fmt: skip
        messages.success(request, _("Quote saved."))
        return saved

    return quote_form.quote_page(request, quote.account, quote, save)


@login_required
@require_GET
def quote_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    quote = quote_or_404(request, pk)
    can_edit = selectors.may_edit_quote(user, quote)
    return render(request, "pricing/quote_detail.html", {
        "quote": quote, "discounts": quote.card.discounts.select_related("zone"),
        "seasons": quote.card.peaks.all(),
        "steps": quote.steps.select_related("by"), "can_edit": can_edit,
        "can_decide": quote.status == QuoteStatus.SUBMITTED
        and selectors.may_approve(user, quote.awaiting),
        "decision_form": DecisionForm(), "contract_form": ContractForm(
            initial={"contract_from": timezone.localdate()}
        ),
        "today": timezone.localdate(), "nav": "pricing",
    })  # fmt: skip


@login_required
@require_POST
def quote_action(request: HttpRequest, pk: int) -> HttpResponse:
    quote = quote_or_404(request, pk)
    action = request.POST.get("action", "")
    try:
        if action == "submit":
            quotes.quote_submit(by=request.user, quote=quote, margin=_margin(quote))
            done = _("Quote submitted.")
        elif action == "send":
            quotes.quote_send(by=request.user, quote=quote)
            done = _("Quote marked as sent to the customer.")
        elif action in ("accept", "reject"):
            quotes.quote_answer(by=request.user, quote=quote, accepted=action == "accept")
            done = _("The customer's answer is recorded.")
        else:
            raise ApplicationError(_("Unknown action."))
    except (ApplicationError, ValidationError) as exc:
        refusal_messages(request, exc)
    else:
        messages.success(request, done)
    return redirect("pricing:quote", quote.pk)


@login_required
@require_POST
def quote_decide(request: HttpRequest, pk: int) -> HttpResponse:
    quote = quote_or_404(request, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        form_messages(request, form)
        return redirect("pricing:quote", quote.pk)
    try:
        quote = quotes.quote_decide(by=request.user, quote=quote, **form.cleaned_data)
    except (ApplicationError, ValidationError) as exc:
        refusal_messages(request, exc)
    else:
        messages.success(request, _("Decision recorded."))
    return redirect("pricing:quote", quote.pk)


@login_required
@require_POST
def quote_contract(request: HttpRequest, pk: int) -> HttpResponse:
    quote = quote_or_404(request, pk)
    form = ContractForm(request.POST)
    if not form.is_valid():
        form_messages(request, form)
        return redirect("pricing:quote", quote.pk)
    try:
        quotes.quote_contract(by=request.user, quote=quote, **form.cleaned_data)
    except (ApplicationError, ValidationError) as exc:
        refusal_messages(request, exc)
    else:
        messages.success(request, _("The contract's card is now the account's active card."))
    return redirect("pricing:quote", quote.pk)


def _margin(quote: Quote) -> Decimal | None:
    """The proposal's margin % on the subject's last twelve months (None without data)."""
    found = whatif.card_what_if(quote.card, whatif.quote_accounts(quote.account, quote.group_id))
    return found[0].totals["proposed_margin_pct"] if found else None


_VOLUME_LIMIT = Decimal("500")


def _volume(request: HttpRequest) -> tuple[Decimal, str]:
    raw = (request.GET.get("volume") or "").strip()
    if not raw:
        return Decimal("0"), ""
    try:
        value = Decimal(raw)
    except ArithmeticError:
        return Decimal("0"), _("The volume change must be a number of per cent, e.g. 10 or -5.")
    if not value.is_finite() or not -100 <= value <= _VOLUME_LIMIT:
        return Decimal("0"), _("The volume change must be between -100 %% and %(max)s %%.") % {
            "max": _VOLUME_LIMIT
        }
    return value, ""


@login_required
@require_GET
def quote_whatif(request: HttpRequest, pk: int) -> HttpResponse:
    """The what-if fragment of the quote page: the proposal on the subject's real last
    twelve months (an optional volume change), as figures, a chart and tables."""
    quote = quote_or_404(request, pk)
    volume, problem = _volume(request)
    try:
        found = whatif.card_what_if(
            quote.card, whatif.quote_accounts(quote.account, quote.group_id), volume_change=volume
        )
    except reprice.RepriceError as exc:
        found, problem = None, str(exc)
    result, period = found if found else (None, None)
    chart = None
    if result is not None:
        chart = {
            "months": [r["month"] for r in result.by_month],
            "current": [str(r["current_revenue"]) for r in result.by_month],
            "proposed": [str(r["proposed_revenue"]) for r in result.by_month],
            "currentMargin": [str(r["current_margin_pct"]) if r["current_margin_pct"] is not None else None for r in result.by_month],
            "proposedMargin": [str(r["proposed_margin_pct"]) if r["proposed_margin_pct"] is not None else None for r in result.by_month],
            "labels": {"current": _("Revenue today"), "proposed": _("Revenue under the proposal"),
                       "currentMargin": _("Margin today (%)"), "proposedMargin": _("Margin under the proposal (%)")},
        }  # fmt: skip
    zone_names = {z.code: str(z) for z in Zone.objects.all()}
    products = dict(Product.choices)
    return render(request, "pricing/_whatif.html", {
        "quote": quote, "result": result, "period": period, "volume": volume, "problem": problem,
        "chart": chart, "zone_names": zone_names, "products": products,
    })  # fmt: skip


@login_required
@require_GET
def quote_whatif_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    """The what-if as a workbook: every breakdown (month, product, zone, lane) as rows of
    one sheet, with the volume change asked for."""
    from kam.core import regions
    from kam.core.exports import xlsx_response

    quote = quote_or_404(request, pk)
    volume, problem = _volume(request)
    if problem:
        messages.error(request, problem)
        return redirect("pricing:quote", quote.pk)
    try:
        found = whatif.card_what_if(
            quote.card, whatif.quote_accounts(quote.account, quote.group_id), volume_change=volume
        )
    except reprice.RepriceError as exc:
        messages.error(request, str(exc))
        return redirect("pricing:quote", quote.pk)
    if found is None:
        messages.error(
            request,
            _(
                "No waybills of this account in the ledger's last twelve months: nothing to reprice."
            ),
        )
        return redirect("pricing:quote", quote.pk)
    result, period = found
    zones = {z.code: str(z) for z in Zone.objects.all()}
    products = dict(Product.choices)
    figures = ("waybills", "weight_kg", "current_revenue", "proposed_revenue",
               "revenue_difference", "cost", "current_margin", "proposed_margin",
               "current_margin_pct", "proposed_margin_pct")  # fmt: skip
    header = [_("Breakdown"), _("Key"), _("Waybills"), _("Weight (kg)"), _("Revenue today"),
              _("Proposed"), _("Difference"), _("Cost"), _("Margin today"),
              _("Proposed margin"), _("Margin today (%)"), _("Proposed margin (%)")]  # fmt: skip

    def lane(r: dict[str, Any]) -> str:
        if r["origin"] == reprice.OTHERS:
            return _("Other lanes")
        return f"{regions.label(r['origin'])} → {regions.label(r['destination'])}"

    parts = [
        (_("Total"), [(period.label, result.totals)]),
        (_("By month"), [(r["month"], r) for r in result.by_month]),
        (
            _("By product"),
            [(products.get(r["product"], r["product"]), r) for r in result.by_product],
        ),
        (_("By zone"), [(zones.get(r["zone"], r["zone"]), r) for r in result.by_zone]),
        (_("Top lanes"), [(lane(r), r) for r in result.by_lane]),
    ]
    rows = [
        [str(name), str(key), *(r[f] for f in figures)] for name, keyed in parts for key, r in keyed
    ]
    return xlsx_response(f"what-if-{quote.number}.xlsx", _("What-if"), header, rows)


# --- cards ---------------------------------------------------------------------------------


@login_required
@require_GET
def card_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not selectors.sees_pricing(user):
        raise Http404
    rows = selectors.card_list_for(user)
    q = (request.GET.get("q") or "").strip()[:100]
    if q:
        rows = rows.filter(
            Q(name__icontains=q) | Q(account__name__icontains=q) | Q(group__name__icontains=q)
        )
    kind = request.GET.get("kind", "")
    if kind in CardKind.values:
        rows = rows.filter(kind=kind)
    page = Paginator(rows.order_by("kind", "-effective_from", "id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "pricing/card_list.html", {
        "page": page, "rows": page.object_list, "q": q, "kind": kind, "kinds": CardKind.choices,
        "nav": "pricing",
    })  # fmt: skip


def rate_table(card: RateCard) -> dict[str, Any]:
    """The card's rates as the pricing team reads them: products as rows, zones as
    columns; a cell is first weight / additional step, or the weight breaks."""
    priced = card.base if card.kind == CardKind.DISCOUNT and card.base else card
    zones = list(Zone.objects.all())
    cells: dict[tuple[str, int], Any] = {}
    for rule in priced.rules.prefetch_related("bands"):
        cells[(rule.product, rule.zone_id)] = rule
    rows = []
    for value, label in Product.choices:
        line = [cells.get((value, z.pk)) for z in zones]
        if any(line):
            rows.append({"product": label, "cells": line})
    return {"zones": zones, "rows": rows, "shape_breaks": RuleShape.WEIGHT_BREAKS}


@login_required
@require_GET
def card_detail(request: HttpRequest, pk: int) -> HttpResponse:
    card = card_or_404(request, pk)
    return render(request, "pricing/card_detail.html", {
        "card": card, "table": rate_table(card), "discounts": card.discounts.select_related("zone"),
        "peaks": services.peaks_of(card),
        "nav": "pricing",
    })  # fmt: skip


# --- guidance ------------------------------------------------------------------------------


@login_required
def guidance(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not selectors.sees_pricing(user):
        raise Http404
    editable = selectors.may_edit_guidance(user)
    current = {g.tier: g for g in PriceGuidance.objects.all()}
    forms_by_tier = {}
    for tier, label in TIER_CHOICES:
        g = current.get(tier)
        initial = (
            {k: getattr(g, k) for k in ("target_discount", "normal_discount", "floor_discount",
                                         "margin_floor")} if g else None
        )  # fmt: skip
        bound = request.method == "POST" and editable and request.POST.get("tier") == str(tier)
        forms_by_tier[tier] = (label, GuidanceForm(request.POST if bound else None,
                                                   prefix=f"t{tier}", initial=initial))  # fmt: skip
    if request.method == "POST":
        if not editable:
            return forbidden(request, _("Only directors set price guidance."))
        tier_raw = request.POST.get("tier", "")
        entry = forms_by_tier.get(int(tier_raw)) if tier_raw.isdigit() else None
        if entry is None:
            raise Http404
        form = entry[1]
        if form.is_valid():
            try:
                services.guidance_set(by=user, tier=int(tier_raw), **form.cleaned_data)
            except (ValidationError, ApplicationError) as exc:
                form_errors(form, exc)
            else:
                messages.success(request, _("Price guidance saved."))
                return redirect("pricing:guidance")
    return render(request, "pricing/guidance.html", {
        "tiers": [(t, *forms_by_tier[t]) for t, _label in TIER_CHOICES], "editable": editable,
        "nav": "pricing",
    })  # fmt: skip


@login_required
@require_GET
def account_realisation(request: HttpRequest, pk: int) -> HttpResponse:
    """The account page's price realisation (an HTMX fragment): the freight the account's
    active card would have charged its waybills, month by month since the card took effect
    (within the ledger's last twelve months), against the freight the ledger shows."""
    user = request.user
    if not selectors.sees_pricing(user):
        raise Http404
    try:
        account = account_get_for(user, pk)
    except Account.DoesNotExist:
        raise Http404 from None
    card = services.active_card(account, timezone.localdate())
    if card is not None and not selectors.card_list_for(user).filter(pk=card.pk).exists():
        card = None
    rows, totals, leak = [], None, False
    period = whatif.last_twelve_months()
    if card is not None and period is not None:
        start = max(period.start, card.effective_from.replace(day=1))
        if start <= period.end:
            found = whatif.card_what_if(
                card, Account.objects.filter(pk=account.pk),
                period=whatif.Period(start, period.end), seasons_into_period=False,
            )  # fmt: skip
            if found is not None:
                result, period = found
                rows = [_realised(r) for r in result.by_month]
                totals = _realised(result.totals)
                leak = totals["leakage"] > 0 and totals["percent"] < REALISATION_FLOOR
    return render(request, "pricing/_realisation.html", {
        "card": card, "rows": rows, "totals": totals, "leak": leak, "period": period,
        "floor": REALISATION_FLOOR,
    })  # fmt: skip


#: Below this share of what the card charges, the account page flags leakage.
REALISATION_FLOOR = Decimal("98")


def _realised(row: dict[str, Any]) -> dict[str, Any]:
    """Freight against freight: the ledger's surcharges (what the carrier's billing
    added) are not the card's fuel and peak surcharges, so they are left out on both sides."""
    charged, card = row["current_freight"], row["freight"]
    percent = (charged * 100 / card).quantize(Decimal("0.1")) if card else None
    return {**row, "charged": charged, "card": card, "leakage": card - charged,
            "percent": percent if percent is not None else Decimal("100")}  # fmt: skip


# --- the account page ----------------------------------------------------------------------


def account_pricing_panel(request: HttpRequest, account: Account) -> panels.Content | None:
    user = request.user
    if not access.is_active_user(user) or not selectors.sees_pricing(user):
        return None
    today = timezone.localdate()
    card = services.active_card(account, today)
    visible = card is not None and selectors.card_list_for(user).filter(pk=card.pk).exists()
    recent = list(selectors.quote_list_for(user).filter(account=account)[:5])
    html = panels.render_template(request, "pricing/_account_panel.html", {
        "account": account, "card": card if visible else None,
        "discounts": card.discounts.select_related("zone")[:6] if visible and card else [],
        "quotes": recent, "can_quote": selectors.may_quote(user, account),
    })  # fmt: skip
    return panels.Content(html)
