"""The pricing documents' pages: the quote as PDF and XLSX, the card's workbook export and
import, and the tender page (a tender workbook priced by the sealed bid, its bid sheet).

Every view starts from ``selectors.quote_get_for`` / ``card_get_for`` or the user's
accounts (foreign ids are 404); refusals are messages or sentences on a 403 page."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kam.accounts.models import Account
from kam.accounts.selectors import account_list_for
from kam.core import regions
from kam.core.models import Role
from kam.core.views import forbidden

from . import documents, selectors, sheets, strategies
from . import messages as texts
from .models import Product, Zone
from .views import card_or_404, quote_or_404

MAX_UPLOAD = 5 * 1024 * 1024
_BID_SESSION = "pricing_bid"


def _download(data: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _upload(request: HttpRequest) -> tuple[bytes | None, str]:
    upload = request.FILES.get("file")
    if upload is None:
        return None, _("Choose a workbook (.xlsx) to upload.")
    if upload.size is not None and upload.size > MAX_UPLOAD:
        return None, _("The workbook is larger than %(mb)s MB.") % {"mb": MAX_UPLOAD // 2**20}
    return upload.read(), ""


def _problem_rows(error: sheets.SheetError) -> list[dict[str, str]]:
    return [
        {"sheet": p.sheet, "cell": p.cell, "text": texts.problem_text(p)} for p in error.problems
    ]


# --- the quote -----------------------------------------------------------------------------


@login_required
@require_GET
def quote_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    data, filename = documents.quote_pdf(quote_or_404(request, pk))
    return _download(data, "application/pdf", filename)


@login_required
@require_GET
def quote_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    data, filename = documents.quote_xlsx(quote_or_404(request, pk))
    return _download(data, documents.XLSX, filename)


# --- the card's workbook -------------------------------------------------------------------


@login_required
@require_GET
def card_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    card = card_or_404(request, pk)
    try:
        data, filename = documents.card_xlsx(card)
    except sheets.CardLayoutError:
        messages.error(
            request,
            _(
                "This card's rates do not fit the workbook's layout (a product mixes first / "
                "additional weight with weight breaks, or its zones have different bands), "
                "or it has no rates."
            ),
        )
        return redirect("pricing:card", card.pk)
    return _download(data, documents.XLSX, filename)


@login_required
def card_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload a workbook into a draft list or custom card: every problem is listed by
    sheet and cell and nothing is stored; without problems the card's rates, divisors and
    discounts are replaced in one transaction."""
    card = card_or_404(request, pk)
    if not selectors.may_edit_cards(request.user):
        return forbidden(request, _("Only the key-account department and directors edit cards."))
    if (reason := documents.may_import(card)) is not None:
        messages.error(request, reason)
        return redirect("pricing:card", card.pk)
    problems: list[dict[str, str]] = []
    error = ""
    if request.method == "POST":
        data, error = _upload(request)
        if data is not None:
            try:
                tables = documents.read_card_for_import(data)
                count = documents.store_card_tables(card, tables)
            except sheets.SheetError as exc:
                problems = _problem_rows(exc)
            except documents.ImportRefused as exc:
                messages.error(request, str(exc))
                return redirect("pricing:card", card.pk)
            else:
                messages.success(
                    request,
                    _("The card's rates were replaced by the workbook's (%(count)s rates).")
                    % {"count": count},
                )
                return redirect("pricing:card", card.pk)
    return render(request, "pricing/card_import.html", {
        "card": card, "problems": problems, "error": error, "nav": "pricing",
    })  # fmt: skip


# --- tenders -------------------------------------------------------------------------------


def _percent(raw: str, label: str, errors: list[str]) -> Decimal | None:
    try:
        value = Decimal(raw.strip())
    except (InvalidOperation, AttributeError):
        errors.append(_("%(field)s must be a number of per cent.") % {"field": label})
        return None
    if not value.is_finite() or not Decimal("-100") < value < Decimal("100"):
        errors.append(_("%(field)s must be between -100 and 100.") % {"field": label})
        return None
    return value


def _quotable(request: HttpRequest) -> list[Account]:
    """The accounts the user may quote: all for the department and directors, a
    manager's own (``selectors.may_quote``: the accounts on their teams)."""
    user = request.user
    if not (selectors.may_quote(user) or user.role == Role.MANAGER):
        return []
    return list(account_list_for(user).order_by("name"))


@login_required
def tender(request: HttpRequest) -> HttpResponse:
    """A customer's tender workbook priced lane by lane to a target margin (never below the
    floor) with the standard list card, the zone matrix and the cost rates."""
    user = request.user
    if not selectors.sees_pricing(user):
        raise Http404
    if not (accounts := _quotable(request)):
        return forbidden(request, _("You may not price tenders."))
    chosen = request.GET.get("account", "")
    values: dict[str, Any] = {
        "target": "15",
        "floor": "5",
        "account": next((a for a in accounts if str(a.pk) == chosen), None),
    }
    errors: list[str] = []
    problems: list[dict[str, str]] = []
    result: dict[str, Any] | None = None
    if request.method == "POST":
        raw_account = request.POST.get("account", "")
        account = next((a for a in accounts if str(a.pk) == raw_account), None)
        if account is None:
            if raw_account:  # a foreign or missing account: not one of the user's
                raise Http404
            errors.append(_("Choose the account the tender is from."))
        values.update(
            account=account,
            target=request.POST.get("target", ""),
            floor=request.POST.get("floor", ""),
        )
        target = _percent(values["target"], _("The target margin"), errors)
        floor = _percent(values["floor"], _("The margin floor"), errors)
        data, upload_error = _upload(request)
        if upload_error:
            errors.append(upload_error)
        list_card = documents.list_card_today()
        if list_card is None:
            errors.append(_("No standard (list) card is active today: a bid needs its rates."))
        if not errors and data is not None and account is not None:
            assert target is not None and floor is not None and list_card is not None  # noqa: S101
            try:
                lanes = sheets.read_tender(data, resolve_place=documents.place_resolver())
                proposal = documents.price_tender(
                    lanes, list_card, target_margin_percent=target, floor_percent=floor
                )
            except sheets.SheetError as exc:
                problems = _problem_rows(exc)
            except strategies.StrategyError as exc:
                errors.append(texts.error_text(exc))
            else:
                stored = documents.bid_to_session(proposal, lanes)
                stored["account"] = account.pk
                request.session[_BID_SESSION] = stored
                result = _result(proposal, lanes)
    return render(request, "pricing/tender.html", {
        "accounts": accounts, "values": values, "errors": errors, "problems": problems,
        "result": result, "nav": "pricing",
    })  # fmt: skip


def _result(proposal: strategies.Proposal, lanes: list[strategies.TenderLane]) -> dict[str, Any]:
    products = dict(Product.choices)
    zone_names = {z.code: str(z) for z in Zone.objects.all()}
    rows = [
        {
            "ref": b.lane.ref, "origin": regions.label(b.lane.origin),
            "destination": regions.label(b.lane.destination),
            "product": products.get(b.lane.product, b.lane.product),
            "waybills": b.lane.annual_waybills, "weight": b.lane.weight_kg,
            "zone": zone_names.get(b.zone, b.zone), "cost": b.cost, "list_price": b.list_price,
            "price": b.price, "discount": b.discount_percent, "margin": b.margin_percent,
            "revenue": b.annual_revenue, "at_floor": b.at_floor,
        }
        for b in proposal.lanes
    ]  # fmt: skip
    warnings = [
        (str(f.lane) if f.lane is not None else "", texts.flag_text(f)) for f in proposal.warnings
    ]
    return {
        "rows": rows,
        "warnings": warnings,
        "total": sum((b.annual_revenue for b in proposal.lanes), Decimal(0)),
        "unpriced": len(lanes) - len(rows),
    }


@login_required
@require_GET
def tender_bid(request: HttpRequest) -> HttpResponse:
    """The bid sheet of the tender last priced in this session."""
    user = request.user
    if not selectors.sees_pricing(user):
        raise Http404
    stored = request.session.get(_BID_SESSION)
    if not stored:
        messages.error(request, _("Price a tender first; its bid sheet is then ready here."))
        return redirect("pricing:tender")
    account = account_list_for(user).filter(pk=stored.get("account")).first()
    if account is None or not selectors.may_quote(user, account):
        raise Http404
    return _download(documents.bid_xlsx(stored), documents.XLSX, f"bid-{account.pk}.xlsx")
