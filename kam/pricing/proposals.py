"""A strategy's proposal for an account, from its own last twelve months: the Django side
of ``strategies`` (which is pure). It gathers the inputs (the volume profile from the
lake, cost rates, the tier's margin floor, competitor rates, the account's on-time and
loss rates from the ledger's facts), runs the strategy, and turns workings and warnings
into sentences in the user's language.

Reverse pricing needs the customer's target prices lane by lane and sealed bids a tender's
lane list: both come from a file (the tender page, the API), not from this form.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils.translation import gettext as _

from kam.accounts.models import Account
from kam.ledger.models import AccountMonth

from . import messages as texts
from . import services, strategies, whatif
from .models import CompetitorRate, PriceGuidance, Product, RateCard, Zone
from .rating import FirstAdditional

#: The strategies the quote form proposes from parameters alone.
FORM_STRATEGIES = (
    strategies.COST_PLUS,
    strategies.TARGET_PROFIT,
    strategies.PERCEIVED_VALUE,
    strategies.DIFFERENTIAL,
    strategies.GOING_RATE,
)
#: Differential pricing's default schedule: waybills a month -> % off, and points by tier.
DEFAULT_BANDS = (
    strategies.VolumeBand(0, Decimal("0")),
    strategies.VolumeBand(1_000, Decimal("5")),
    strategies.VolumeBand(10_000, Decimal("10")),
    strategies.VolumeBand(50_000, Decimal("15")),
)
DEFAULT_TIER_POINTS = {"1": Decimal("8"), "2": Decimal("5"), "3": Decimal("3"), "4": Decimal("0"),
                       "5": Decimal("0"), "": Decimal("0")}  # fmt: skip
#: Perceived value: the market's on-time and loss rates, and what a point of each is worth.
DEFAULT_WEIGHTS = strategies.ValueWeights(
    market_on_time_percent=Decimal("92"), market_claims_percent=Decimal("0.5"),
    on_time_weight=Decimal("0.5"), claims_weight=Decimal("2"), cap_percent=Decimal("8"),
)  # fmt: skip


@dataclass
class Outcome:
    """What the form shows: the proposal's discounts, its workings and warnings as
    sentences, or the refusal."""

    discounts: list[Any] = field(default_factory=list)
    workings: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    period: str = ""


def _lane(where: Any, zones: dict[str, str]) -> str:
    """A lane in words: 特快 · 二区（邻近大区） · 1–3 kg."""
    if where is None:
        return ""
    if isinstance(where, tuple):
        product, zone, lo, hi = where
        top = format(hi.normalize(), "f") if hi is not None else "∞"
        return (f"{Product(product).label} · {zones.get(zone, zone)} · "
                f"{format(lo.normalize(), 'f')}–{top} kg")  # fmt: skip
    return str(where)


def _service(
    accounts: QuerySet[Account], period: whatif.Period, tier: int | None
) -> strategies.ServiceAttributes:
    from kam.ledger import selectors as ledger

    codes = ledger.codes_of_accounts(accounts)
    sums = AccountMonth.objects.filter(
        billing_code__in=codes, month__gte=period.start, month__lte=period.end
    ).aggregate(w=Sum("waybills"), p=Sum("promised"), o=Sum("on_time"), lost=Sum("lost"),
                d=Sum("damaged"))  # fmt: skip
    promised, waybills = sums["p"] or 0, sums["w"] or 0
    on_time = Decimal(sums["o"] or 0) * 100 / promised if promised else Decimal("0")
    claims = (
        Decimal((sums["lost"] or 0) + (sums["d"] or 0)) * 100 / waybills
        if waybills
        else Decimal("0")
    )
    return strategies.ServiceAttributes(
        on_time.quantize(Decimal("0.01")), claims.quantize(Decimal("0.01")), str(tier or "")
    )


def _competitors() -> list[strategies.CompetitorRate]:
    return [
        strategies.CompetitorRate(
            r.product,
            r.zone.code,
            FirstAdditional(r.first_kg, r.first_price, r.step_kg, r.step_price),
            r.observed_on,
            f"{r.competitor} · {r.source}",
        )  # fmt: skip
        for r in CompetitorRate.objects.select_related("zone")
    ]


def margin_floor(tier: int | None) -> Decimal | None:
    guidance = PriceGuidance.objects.filter(tier=tier).first() if tier else None
    return guidance.margin_floor if guidance else None


def propose(
    strategy: str, account: Account, list_card: RateCard, params: dict[str, Any],
    *, today: dt.date,
) -> Outcome:  # fmt: skip
    """Run ``strategy`` on ``account``'s last twelve months with ``params`` (markup %,
    target margin %, offset %)."""
    if strategy not in FORM_STRATEGIES:
        return Outcome(error=_("This strategy needs a file: use the tender page or the API."))
    accounts = Account.objects.filter(pk=account.pk)
    found = whatif.volume_profile(accounts, list_card)
    if found is None:
        return Outcome(
            error=_(
                "The account has no shipments in the ledger's last twelve months to price from."
            )
        )
    profile, period = found
    rates = services.cost_rates()
    floor = margin_floor(account.tier)
    floor = floor.normalize() + 0 if floor is not None else None  # 8, not 8.000
    try:
        if strategy == strategies.COST_PLUS:
            proposal = strategies.cost_plus(
                profile, markup_percent=params.get("markup") or Decimal("15"), cost_rates=rates,
                floor_percent=floor,
            )  # fmt: skip
        elif strategy == strategies.TARGET_PROFIT:
            proposal = strategies.target_profit(
                profile, target_margin_percent=params.get("target_margin") or Decimal("15"),
                cost_rates=rates, floor_percent=floor,
            )  # fmt: skip
        elif strategy == strategies.PERCEIVED_VALUE:
            proposal = strategies.perceived_value(
                profile, service=_service(accounts, period, account.tier), weights=DEFAULT_WEIGHTS,
                cost_rates=rates, floor_percent=floor,
            )  # fmt: skip
        elif strategy == strategies.DIFFERENTIAL:
            proposal = strategies.differential(
                profile, bands=DEFAULT_BANDS, tier=str(account.tier or ""),
                tier_percent=DEFAULT_TIER_POINTS, cost_rates=rates, floor_percent=floor,
            )  # fmt: skip
        else:
            proposal = strategies.going_rate(
                profile, list_rules=services.card_spec(list_card).rules,
                competitors=_competitors(), as_of=today, cost_rates=rates,
                offset_percent=params.get("offset") or Decimal("0"), floor_percent=floor,
            )  # fmt: skip
    except strategies.StrategyError as exc:
        return Outcome(error=texts.error_text(exc))
    zones = {z.code: str(z) for z in Zone.objects.all()}
    workings = [
        {"lane": _lane(s.lane, zones), "text": texts.step_text(s)} for s in proposal.workings
    ]
    warnings = [
        (f"{_lane(f.lane, zones)}: " if f.lane else "") + texts.flag_text(f)
        for f in proposal.warnings
    ]
    return Outcome(list(proposal.discounts), workings, warnings, period=period.label)
