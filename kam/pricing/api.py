"""The pricing app's API, mounted under /api/v1/: rate cards (read), the card pricing an
account today, a strategy's proposal for an account (as the quote form's "Propose",
reverse pricing and seasons included), and quotes through their workflow (create, change,
submit, decide, send, answer, contract) with the what-if of the proposal on the subject's
last twelve months.

The archive's access rules, as the pages: every operation starts from
``selectors.card_list_for`` / ``quote_list_for``, so a card or quote the caller does not
see answers 404 (never a 403 that confirms it exists); an action the caller may not take
on a row they do see answers 403. Money, percentages and weights are decimal strings.
"""

import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from kam.accounts.models import Account, CorporateGroup
from kam.accounts.selectors import account_get_for, group_list_for
from kam.core.api import ErrorOut, Id, InSchema
from kam.core.errors import ApplicationError, PermissionDeniedError

from . import proposals, quotes, rating, reprice, selectors, services, strategies, whatif
from .models import Approval, Quote, RateCard, Zone

router = Router(tags=["pricing"])

ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                          409: ErrorOut, 422: ErrorOut}  # fmt: skip

Day = Annotated[datetime.date, Field(ge=datetime.date(2000, 1, 1), le=datetime.date(2100, 12, 31))]
Percent = Annotated[Decimal, Field(ge=-100, le=100, max_digits=7, decimal_places=4)]
Kilograms = Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=3)]
ProductName = Literal["express", "standard", "ground", "cold", "international"]
StrategyName = Literal["cost_plus", "target_profit", "perceived_value", "reverse",
                       "differential", "going_rate", "sealed_bid"]  # fmt: skip
#: The largest volume change the what-if takes (per cent), as on the quote page.
VOLUME_LIMIT = 500


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _plain(value: Any) -> Any:
    """A what-if figure for JSON: money and percentages as decimal strings."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


# --- cards -----------------------------------------------------------------------------------


class PricingBandOut(Schema):
    from_kg: str
    to_kg: str | None = Field(description="null: open-ended")
    per_kg: str


class PricingRuleOut(Schema):
    product: str
    zone: str
    shape: Literal["first_additional", "weight_breaks"]
    first_kg: str | None
    first_price: str | None
    step_kg: str | None
    step_price: str | None
    min_charge: str | None
    bands: list[PricingBandOut]


class PricingDiscountOut(Schema):
    percent: str = Field(description="off the list; negative is a premium over it")
    product: str | None
    zone: str | None
    from_kg: str
    to_kg: str | None


class PricingPeakOut(Schema):
    name: str
    start: datetime.date
    end: datetime.date
    percent: str


class PricingSurchargesOut(Schema):
    fuel_base_percent: str | None = Field(description="null: no fuel surcharge")
    fuel_factor: str
    fuel_reference: str
    fuel_floor_percent: str
    fuel_cap_percent: str
    remote_fee: str
    cod_percent: str
    cod_min: str
    insurance_percent: str
    insurance_min: str
    peaks: list[PricingPeakOut]


class PricingCardOut(Schema):
    id: int
    name: str
    kind: Literal["list", "discount", "custom"]
    status: Literal["draft", "active", "retired"]
    account: int | None
    group: int | None
    base: int | None = Field(description="the list card a discount card discounts")
    effective_from: datetime.date
    effective_to: datetime.date | None


class PricingCardDetailOut(PricingCardOut):
    notes: str
    rules: list[PricingRuleOut]
    discounts: list[PricingDiscountOut]
    surcharges: PricingSurchargesOut


class PricingCardPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[PricingCardOut]


class PricingCardQuery(Schema):
    kind: Literal["list", "discount", "custom"] | None = None
    account: Id | None = None
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(50, ge=1, le=500)


def _card_out(card: RateCard) -> dict[str, Any]:
    return {"id": card.pk, "name": card.name, "kind": card.kind, "status": card.status,
            "account": card.account_id, "group": card.group_id, "base": card.base_id,
            "effective_from": card.effective_from, "effective_to": card.effective_to}  # fmt: skip


def _discounts_out(card: RateCard) -> list[dict[str, Any]]:
    return [
        {"percent": str(d.percent), "product": d.product or None,
         "zone": d.zone.code if d.zone else None, "from_kg": str(d.from_kg),
         "to_kg": _text(d.to_kg)}
        for d in card.discounts.select_related("zone")
    ]  # fmt: skip


def _peaks_out(peaks: Any) -> list[dict[str, Any]]:
    return [{"name": p.name, "start": p.start, "end": p.end, "percent": str(p.percent)}
            for p in peaks]  # fmt: skip


def _card_detail_out(card: RateCard) -> dict[str, Any]:
    rules = card.rules.select_related("zone").prefetch_related("bands")
    return {
        **_card_out(card),
        "notes": card.notes,
        "rules": [
            {"product": r.product, "zone": r.zone.code, "shape": r.shape,
             "first_kg": _text(r.first_kg), "first_price": _text(r.first_price),
             "step_kg": _text(r.step_kg), "step_price": _text(r.step_price),
             "min_charge": _text(r.min_charge),
             "bands": [{"from_kg": str(b.from_kg), "to_kg": _text(b.to_kg),
                        "per_kg": str(b.per_kg)} for b in r.bands.all()]}
            for r in rules
        ],
        "discounts": _discounts_out(card),
        "surcharges": {
            "fuel_base_percent": _text(card.fuel_base_percent),
            "fuel_factor": str(card.fuel_factor), "fuel_reference": str(card.fuel_reference),
            "fuel_floor_percent": str(card.fuel_floor_percent),
            "fuel_cap_percent": str(card.fuel_cap_percent), "remote_fee": str(card.remote_fee),
            "cod_percent": str(card.cod_percent), "cod_min": str(card.cod_min),
            "insurance_percent": str(card.insurance_percent),
            "insurance_min": str(card.insurance_min),
            "peaks": _peaks_out(card.peaks.all()),
        },
    }  # fmt: skip


@router.get("/pricing/cards", response={200: PricingCardPage, **ERRORS}, summary="List rate cards")
def card_list(request: HttpRequest, filters: Query[PricingCardQuery]) -> dict[str, Any]:
    cards = selectors.card_list_for(request.user)
    if filters.kind:
        cards = cards.filter(kind=filters.kind)
    if filters.account:
        cards = cards.filter(account_id=filters.account)
    cards = cards.order_by("-effective_from", "id")
    start = (filters.page - 1) * filters.page_size
    rows = list(cards[start : start + filters.page_size])
    return {"count": cards.count(), "page": filters.page, "page_size": filters.page_size,
            "items": [_card_out(c) for c in rows]}  # fmt: skip


@router.get("/pricing/cards/{card_id}", response={200: PricingCardDetailOut, **ERRORS},
            summary="One rate card with its rates, bands, discounts and surcharges")  # fmt: skip
def card_get(request: HttpRequest, card_id: Id) -> dict[str, Any]:
    return _card_detail_out(selectors.card_get_for(request.user, card_id))


@router.get("/pricing/accounts/{account_id}/active-card",
            response={200: PricingCardDetailOut, **ERRORS},
            summary="The card pricing an account's shipments today")  # fmt: skip
def active_card(request: HttpRequest, account_id: Id) -> dict[str, Any]:
    if not selectors.sees_pricing(request.user):  # type: ignore[arg-type]
        raise Http404
    account = account_get_for(request.user, account_id)
    card = services.active_card(account, timezone.localdate())
    if card is None:
        raise Http404
    # The card must be one the caller sees (a group's card of a group in their scope).
    return _card_detail_out(selectors.card_get_for(request.user, card.pk))


SeasonPercent = Annotated[Decimal, Field(ge=-100, le=100, max_digits=6, decimal_places=3)]


class PricingSeasonIn(InSchema):
    name: str = Field(min_length=1, max_length=services.SEASON_NAME_LENGTH)
    start: Day
    end: Day = Field(description="the last day, inclusive")
    percent: SeasonPercent = Field(
        description="of the freight on the season's dates; negative is an off-season reduction"
    )


def _seasons_in(rows: list[PricingSeasonIn], field: str = "seasons") -> list[strategies.Season]:
    """The rows as seasons; one ending before it starts, or overlapping another, is refused
    naming its row (``seasons.<n>``) before anything is written."""
    seasons = [strategies.Season(r.name.strip(), r.start, r.end, r.percent) for r in rows]
    problems = services.season_problems(seasons)
    if problems:
        raise ValidationError({f"{field}.{n - 1}": text for n, text in problems.items()})
    return seasons


# --- proposals -------------------------------------------------------------------------------


ProposalStrategy = Literal["cost_plus", "target_profit", "perceived_value", "reverse",
                           "differential", "going_rate"]  # fmt: skip


class PricingTargetIn(InSchema):
    product: ProductName
    zone: str = Field(max_length=20, description="a zone code")
    from_kg: Kilograms = Field(Decimal("0"), description="the weight band's start")
    to_kg: Kilograms | None = Field(None, description="the band's end; null: open-ended")
    price_per_waybill: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=4)] = Field(
        description="what the customer wants to pay per waybill, on average, in yuan"
    )


class PricingProposalIn(InSchema):
    strategy: ProposalStrategy = Field(description="sealed bids: the tender page")
    markup: Decimal | None = Field(
        None, ge=0, le=500, max_digits=6, decimal_places=2,
        description="cost-plus: % on cost (default 15)",
    )  # fmt: skip
    target_margin: Decimal | None = Field(
        None, ge=-50, le=95, max_digits=5, decimal_places=2,
        description="target profit: margin % (default 15)",
    )  # fmt: skip
    offset: Decimal | None = Field(
        None, ge=-50, le=50, max_digits=5, decimal_places=2,
        description="going rate: points below the median competitor rate",
    )  # fmt: skip
    targets: list[PricingTargetIn] = Field(
        default_factory=list, max_length=500,
        description="reverse pricing: the customer's target price per lane of the account's "
        "volume profile (product, zone, weight band from 0, 1, 3, 10, 30 kg)",
    )  # fmt: skip
    seasons: list[PricingSeasonIn] = Field(
        default_factory=list, max_length=24,
        description="differential pricing: seasons to propose as peak surcharges or reductions",
    )  # fmt: skip


class PricingWorkingOut(Schema):
    lane: str = Field(description="the lane in words; empty for the account")
    text: str


class PricingProposalOut(Schema):
    account: int
    strategy: str
    period_start: datetime.date = Field(description="the first month proposed from")
    period_end: datetime.date = Field(description="the last month proposed from")
    period: str
    discounts: list[PricingDiscountOut]
    peaks: list[PricingPeakOut] = Field(description="differential pricing's seasons")
    workings: list[PricingWorkingOut]
    warnings: list[str]


@router.post("/pricing/accounts/{account_id}/proposals",
             response={200: PricingProposalOut, **ERRORS},
             summary="Propose discounts for an account with a strategy, from its last twelve "
             "months (as the quote form's Propose; nothing is stored)")  # fmt: skip
def proposal_create(
    request: HttpRequest, account_id: Id, payload: PricingProposalIn
) -> dict[str, Any]:
    user: Any = request.user  # a User: the API's authentication let the request in
    if not selectors.sees_pricing(user):
        raise Http404
    account = account_get_for(user, account_id)
    if not selectors.may_quote(user, account):
        raise PermissionDeniedError(_("You may not quote prices for this account."))
    if payload.strategy == strategies.REVERSE and not payload.targets:
        raise ValidationError(
            {"targets": _("Give the customer's target price for at least one lane.")}
        )
    seasons = _seasons_in(payload.seasons)
    today = timezone.localdate()
    outcome = proposals.propose(
        payload.strategy, account, quotes.list_card(today),
        {"markup": payload.markup, "target_margin": payload.target_margin,
         "offset": payload.offset},
        today=today, seasons=seasons,
        targets=[strategies.TargetPrice(t.product, t.zone, t.from_kg, t.to_kg,
                                        t.price_per_waybill) for t in payload.targets],
    )  # fmt: skip
    if outcome.error or outcome.span is None:
        raise ApplicationError(outcome.error or proposals.no_shipments_text())
    return {
        "account": account.pk, "strategy": payload.strategy,
        "period_start": outcome.span.start, "period_end": outcome.span.end,
        "period": outcome.period,
        "discounts": [{"percent": str(d.percent), "product": d.product, "zone": d.zone,
                       "from_kg": str(d.from_kg), "to_kg": _text(d.to_kg)}
                      for d in proposals.card_discounts(outcome.discounts)],
        "peaks": _peaks_out(outcome.seasons), "workings": outcome.workings,
        "warnings": outcome.warnings,
    }  # fmt: skip


# --- quotes ----------------------------------------------------------------------------------


class PricingStepOut(Schema):
    revision: int
    level: str
    decision: Literal["submitted", "approved", "returned", "commented"]
    comment: str
    by: int
    at: datetime.datetime


class PricingQuoteOut(Schema):
    id: int
    number: str
    account: int | None
    group: int | None
    subject: str
    card: int = Field(description="the proposed card (its discounts off the list)")
    strategy: str
    valid_until: datetime.date
    terms: str
    status: str
    approval: Literal["none", "department", "director"] = Field(
        description="the approval the quote needed when last submitted"
    )
    awaiting: Literal["", "department", "director"] = Field(
        description="whose decision a submitted quote waits for; empty when none"
    )
    deepest_discount: str | None
    margin_percent: str | None
    revision: int
    contract_from: datetime.date | None
    contract_to: datetime.date | None
    owner: int
    submitted_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class PricingQuoteDetailOut(PricingQuoteOut):
    discounts: list[PricingDiscountOut]
    seasons: list[PricingPeakOut] = Field(
        description="the card's own seasons (empty: the list card's peak seasons apply)"
    )
    steps: list[PricingStepOut]


class PricingQuotePage(Schema):
    count: int
    page: int
    page_size: int
    items: list[PricingQuoteOut]


class PricingQuoteQuery(Schema):
    status: Literal["draft", "submitted", "returned", "approved", "sent", "accepted",
                    "rejected", "expired", "contracted"] | None = None  # fmt: skip
    account: Id | None = None
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(50, ge=1, le=500)


def _quote_out(q: Quote) -> dict[str, Any]:
    return {
        "id": q.pk, "number": q.number, "account": q.account_id, "group": q.group_id,
        "subject": str(q.subject), "card": q.card_id, "strategy": q.strategy,
        "valid_until": q.valid_until, "terms": q.terms, "status": q.status,
        "approval": q.approval, "awaiting": q.awaiting,
        "deepest_discount": _text(q.deepest_discount), "margin_percent": _text(q.margin_percent),
        "revision": q.revision, "contract_from": q.contract_from, "contract_to": q.contract_to,
        "owner": q.owner_id, "submitted_at": q.submitted_at, "created_at": q.created_at,
        "updated_at": q.updated_at,
    }  # fmt: skip


def _quote_detail(request: HttpRequest, pk: int) -> dict[str, Any]:
    q = selectors.quote_get_for(request.user, pk)
    return {
        **_quote_out(q),
        "discounts": _discounts_out(q.card),
        "seasons": _peaks_out(q.card.peaks.all()),
        "steps": [{"revision": s.revision, "level": s.level, "decision": s.decision,
                   "comment": s.comment, "by": s.by_id, "at": s.at} for s in q.steps.all()],
    }  # fmt: skip


@router.get("/pricing/quotes", response={200: PricingQuotePage, **ERRORS}, summary="List quotes")
def quote_list(request: HttpRequest, filters: Query[PricingQuoteQuery]) -> dict[str, Any]:
    quotes.expire_quotes()  # as the pages do: a sent quote past its validity reads expired
    rows = selectors.quote_list_for(request.user)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.account:
        rows = rows.filter(account_id=filters.account)
    rows = rows.order_by("-created_at", "-id")
    start = (filters.page - 1) * filters.page_size
    items = list(rows[start : start + filters.page_size])
    return {"count": rows.count(), "page": filters.page, "page_size": filters.page_size,
            "items": [_quote_out(q) for q in items]}  # fmt: skip


@router.get("/pricing/quotes/{quote_id}", response={200: PricingQuoteDetailOut, **ERRORS},
            summary="One quote with its discounts and approval steps")  # fmt: skip
def quote_get(request: HttpRequest, quote_id: Id) -> dict[str, Any]:
    return _quote_detail(request, quote_id)


class PricingDiscountIn(InSchema):
    percent: Percent = Field(description="off the list; negative is a premium over it")
    product: ProductName | None = None
    zone: str | None = Field(None, max_length=20, description="a zone code; null: any zone")
    from_kg: Kilograms = Decimal("0")
    to_kg: Kilograms | None = None


def _discounts_in(rows: list[PricingDiscountIn]) -> list[rating.Discount]:
    """The rows as the rating contract reads them; an unknown zone or an empty weight band
    is refused naming its row (``discounts.<n>.<field>``) before anything is written."""
    zones = set(Zone.objects.values_list("code", flat=True))
    errors: dict[str, str] = {}
    for n, row in enumerate(rows):
        if row.zone is not None and row.zone not in zones:
            errors[f"discounts.{n}.zone"] = _("Unknown zone “%(zone)s”.") % {"zone": row.zone}
        if row.to_kg is not None and row.to_kg <= row.from_kg:
            errors[f"discounts.{n}.to_kg"] = _("The weight band ends at or below its start.")
    if errors:
        raise ValidationError(errors)
    return [rating.Discount(r.percent, r.product, r.zone, r.from_kg, r.to_kg) for r in rows]


class PricingQuoteIn(InSchema):
    account: Id | None = Field(None, description="the account quoted (or a group)")
    group: Id | None = Field(None, description="the corporate group quoted (or an account)")
    strategy: StrategyName
    discounts: list[PricingDiscountIn] = Field(min_length=1, max_length=200)
    seasons: list[PricingSeasonIn] = Field(
        default_factory=list, max_length=24,
        description="the card's own seasons, in place of the list card's peak seasons",
    )  # fmt: skip
    valid_until: Day
    terms: str = Field("", max_length=4000)


def _subject(request: HttpRequest, payload: PricingQuoteIn) -> tuple[Account | None, CorporateGroup | None]:  # fmt: skip
    if (payload.account is None) == (payload.group is None):
        raise ValidationError({"account": _("Choose an account or a corporate group.")})
    if payload.account is not None:
        return account_get_for(request.user, payload.account), None
    return None, group_list_for(request.user).get(pk=payload.group)


@router.post("/pricing/quotes", response={201: PricingQuoteDetailOut, **ERRORS},
             summary="Draft a quote: discounts off today's list card")  # fmt: skip
def quote_create(request: HttpRequest, payload: PricingQuoteIn) -> tuple[int, dict[str, Any]]:
    if not selectors.sees_pricing(request.user):  # type: ignore[arg-type]
        raise PermissionDeniedError(_("You may not do this."))
    account, group = _subject(request, payload)
    discounts = _discounts_in(payload.discounts)
    seasons = _seasons_in(payload.seasons)
    quote = quotes.quote_create(
        by=request.user, account=account, group=group, strategy=payload.strategy,  # type: ignore[arg-type]
        discounts=discounts, valid_until=payload.valid_until, terms=payload.terms,
        seasons=seasons,
    )  # fmt: skip
    return 201, _quote_detail(request, quote.pk)


class PricingQuotePatch(InSchema):
    strategy: StrategyName | None = None
    discounts: list[PricingDiscountIn] | None = Field(None, min_length=1, max_length=200)
    seasons: list[PricingSeasonIn] | None = Field(
        None, max_length=24, description="replaces the card's seasons; [] removes them"
    )
    valid_until: Day | None = None
    terms: str | None = Field(None, max_length=4000)


@router.patch("/pricing/quotes/{quote_id}", response={200: PricingQuoteDetailOut, **ERRORS},
              summary="Change a quote (after submission: a new revision, in draft)")  # fmt: skip
def quote_update(request: HttpRequest, quote_id: Id, payload: PricingQuotePatch) -> dict[str, Any]:
    quote = selectors.quote_get_for(request.user, quote_id)
    # An empty change would still make a submitted quote a new revision: refuse it.
    fields = ("strategy", "discounts", "seasons", "valid_until", "terms")
    if all(getattr(payload, n) is None for n in fields):
        raise ValidationError(
            {"body": _("Say what to change: strategy, discounts, seasons, valid_until or terms.")}
        )
    discounts = _discounts_in(payload.discounts) if payload.discounts is not None else None
    seasons = _seasons_in(payload.seasons) if payload.seasons is not None else None
    quotes.quote_update(
        by=request.user, quote=quote, discounts=discounts, valid_until=payload.valid_until,  # type: ignore[arg-type]
        terms=payload.terms, strategy=payload.strategy, seasons=seasons,
    )  # fmt: skip
    return _quote_detail(request, quote.pk)


def _what_if(quote: Quote, volume_change: Decimal = Decimal("0")) -> Any:
    """The proposal on the subject's last twelve months (None without data); a card the
    what-if cannot reprice is refused in words, not a server error."""
    try:
        return whatif.card_what_if(
            quote.card, whatif.quote_accounts(quote.account, quote.group_id),
            volume_change=volume_change,
        )  # fmt: skip
    except reprice.RepriceError as exc:
        raise ApplicationError(
            _("The proposal cannot be repriced on the last twelve months: %(reason)s")
            % {"reason": exc}
        ) from exc


def _margin(quote: Quote) -> Decimal | None:
    """The proposal's margin % on the subject's last twelve months (None without data)."""
    found = _what_if(quote)
    return found[0].totals["proposed_margin_pct"] if found else None


@router.post("/pricing/quotes/{quote_id}/submit", response={200: PricingQuoteDetailOut, **ERRORS},
             summary="Submit a quote for approval (within guidance: approved at once)")  # fmt: skip
def quote_submit(request: HttpRequest, quote_id: Id) -> dict[str, Any]:
    quote = selectors.quote_get_for(request.user, quote_id)
    if not selectors.may_edit_quote(request.user, quote):  # type: ignore[arg-type]
        raise PermissionDeniedError(_("You may not do this."))
    quotes.quote_submit(by=request.user, quote=quote, margin=_margin(quote))  # type: ignore[arg-type]
    return _quote_detail(request, quote.pk)


class PricingDecisionIn(InSchema):
    decision: Literal["approved", "returned"]
    comment: str = Field("", max_length=2000, description="needed when returning")


@router.post("/pricing/quotes/{quote_id}/decide", response={200: PricingQuoteDetailOut, **ERRORS},
             summary="Approve or return a submitted quote (the department, then a director)")  # fmt: skip
def quote_decide(request: HttpRequest, quote_id: Id, payload: PricingDecisionIn) -> dict[str, Any]:
    quote = selectors.quote_get_for(request.user, quote_id)
    level = quote.awaiting or Approval.DEPARTMENT
    if not selectors.may_approve(request.user, level):  # type: ignore[arg-type]
        raise PermissionDeniedError(_("You may not do this."))
    quotes.quote_decide(by=request.user, quote=quote, decision=payload.decision,  # type: ignore[arg-type]
                        comment=payload.comment)  # fmt: skip
    return _quote_detail(request, quote.pk)


@router.post("/pricing/quotes/{quote_id}/send", response={200: PricingQuoteDetailOut, **ERRORS},
             summary="Mark an approved quote as sent to the customer")  # fmt: skip
def quote_send(request: HttpRequest, quote_id: Id) -> dict[str, Any]:
    quote = selectors.quote_get_for(request.user, quote_id)
    quotes.quote_send(by=request.user, quote=quote)  # type: ignore[arg-type]
    return _quote_detail(request, quote.pk)


class PricingAnswerIn(InSchema):
    accepted: bool


@router.post("/pricing/quotes/{quote_id}/answer", response={200: PricingQuoteDetailOut, **ERRORS},
             summary="Record the customer's answer to a sent quote")  # fmt: skip
def quote_answer(request: HttpRequest, quote_id: Id, payload: PricingAnswerIn) -> dict[str, Any]:
    quote = selectors.quote_get_for(request.user, quote_id)
    quotes.quote_answer(by=request.user, quote=quote, accepted=payload.accepted)  # type: ignore[arg-type]
    return _quote_detail(request, quote.pk)


class PricingContractIn(InSchema):
    contract_from: Day
    contract_to: Day | None = None


@router.post("/pricing/quotes/{quote_id}/contract",
             response={200: PricingQuoteDetailOut, **ERRORS},
             summary="An accepted quote becomes the contract: its card prices from contract_from")  # fmt: skip
def quote_contract(request: HttpRequest, quote_id: Id, payload: PricingContractIn) -> dict[str, Any]:  # fmt: skip
    quote = selectors.quote_get_for(request.user, quote_id)
    quotes.quote_contract(by=request.user, quote=quote, contract_from=payload.contract_from,  # type: ignore[arg-type]
                          contract_to=payload.contract_to)  # fmt: skip
    return _quote_detail(request, quote.pk)


# --- what-if ---------------------------------------------------------------------------------


class PricingWhatIfOut(Schema):
    quote: int
    available: bool = Field(description="false: no waybills of the subject to reprice")
    period_start: datetime.date | None = Field(description="the first month repriced")
    period_end: datetime.date | None = Field(description="the last month repriced")
    volume_change: str = Field(description="per cent more (or fewer) waybills assumed")
    totals: dict[str, Any] | None = Field(
        description="waybills, weight_kg, current_revenue, proposed_revenue and its parts, "
        "cost, margins and differences; money as decimal strings"
    )
    by_month: list[dict[str, Any]]
    by_product: list[dict[str, Any]]
    by_zone: list[dict[str, Any]]
    by_lane: list[dict[str, Any]]
    unpriced: list[dict[str, Any]]


class PricingWhatIfQuery(Schema):
    volume_change: Decimal = Field(
        Decimal("0"), ge=-100, le=VOLUME_LIMIT, max_digits=9, decimal_places=4,
        description="per cent more (or, negative, fewer) waybills of the same mix",
    )  # fmt: skip


def _rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in r.items()} for r in rows]


@router.get("/pricing/quotes/{quote_id}/what-if", response={200: PricingWhatIfOut, **ERRORS},
            summary="The proposal on the subject's last twelve months, with a volume change")  # fmt: skip
def quote_what_if(
    request: HttpRequest, quote_id: Id, filters: Query[PricingWhatIfQuery]
) -> dict[str, Any]:
    volume_change = filters.volume_change
    quote = selectors.quote_get_for(request.user, quote_id)
    found = _what_if(quote, volume_change)
    empty: dict[str, Any] = {"quote": quote.pk, "volume_change": str(volume_change),
                             "available": False, "period_start": None, "period_end": None,
                             "totals": None, "by_month": [], "by_product": [], "by_zone": [],
                             "by_lane": [], "unpriced": []}  # fmt: skip
    if found is None:
        return empty
    result, period = found
    return {**empty, "available": True, "period_start": period.start, "period_end": period.end,
            "totals": {k: _plain(v) for k, v in result.totals.items()},
            "by_month": _rows(result.by_month), "by_product": _rows(result.by_product),
            "by_zone": _rows(result.by_zone), "by_lane": _rows(result.by_lane),
            "unpriced": _rows(result.unpriced)}  # fmt: skip


__all__ = ["router"]
