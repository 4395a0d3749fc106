"""A strategy's proposal for an account, from its own last twelve months: the Django side
of ``strategies`` (which is pure). It gathers the inputs (the volume profile from the
lake, cost rates, the tier's margin floor, competitor rates, the account's on-time and
loss rates from the ledger's facts), runs the strategy, and turns workings and warnings
into sentences in the user's language.

Reverse pricing starts from the customer's target price per waybill in each lane of the
account's volume profile (:func:`lanes_of` lists the lanes for the form; the API takes
the same targets); it needs the tier's margin floor. Differential pricing takes the
seasons the manager keeps (:func:`suggested_seasons` offers the coming 11.11, 12.12 and
Spring Festival). Sealed bids need a tender's lane list: the tender page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any, cast

from django.db.models import QuerySet, Sum
from django.utils.translation import gettext as _

from kam.accounts.models import Account
from kam.ledger.models import AccountMonth

from . import messages as texts
from . import services, strategies, whatif
from .models import CompetitorRate, PriceGuidance, Product, RateCard, Zone
from .rating import Discount, FirstAdditional
from .seasons import spring_festival

#: The strategies the quote form (and the API's proposals) run on the account's volume.
FORM_STRATEGIES = (
    strategies.COST_PLUS,
    strategies.TARGET_PROFIT,
    strategies.PERCEIVED_VALUE,
    strategies.REVERSE,
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
    """What the form shows: the proposal's discounts and seasons (differential pricing's,
    with their names), its workings and warnings as sentences, or the refusal."""

    discounts: list[Any] = field(default_factory=list)
    workings: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    period: str = ""
    seasons: list[strategies.Season] = field(default_factory=list)
    span: whatif.Period | None = None  # the months proposed from


def suggested_seasons(today: dt.date) -> list[strategies.Season]:
    """The coming 11.11 (1 to 15 November), 12.12 (8 to 16 December) and Spring Festival
    (ten days before New Year's day to seven after), each the next one that has not ended,
    in date order; percentages are the manager's (0 here)."""
    zero = Decimal("0")
    out = []
    for name, first, last in (
        ("双十一 / 11.11", (11, 1), (11, 15)),
        ("双十二 / 12.12", (12, 8), (12, 16)),
    ):
        year = today.year if dt.date(today.year, *last) >= today else today.year + 1
        out.append(strategies.Season(name, dt.date(year, *first), dt.date(year, *last), zero))
    for year in (today.year, today.year + 1):
        day = spring_festival(year)
        if day + dt.timedelta(days=7) >= today:
            out.append(strategies.Season("春节 / Spring Festival", day - dt.timedelta(days=10),
                                         day + dt.timedelta(days=7), zero))  # fmt: skip
            break
    return sorted(out, key=lambda s: s.start)


@dataclass(frozen=True)
class TargetLane:
    """A lane of the account's volume profile as the reverse-pricing form shows it."""

    product: str
    zone: str
    from_kg: Decimal
    to_kg: Decimal | None
    label: str
    waybills: int
    revenue_per_waybill: Decimal  # charged today, on average
    list_per_waybill: Decimal  # the list card's freight, on average

    @property
    def key(self) -> strategies.LaneKey:
        return (self.product, self.zone, self.from_kg, self.to_kg)


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def lanes_of(profile: strategies.VolumeProfile) -> list[TargetLane]:
    """Each lane of a volume profile (product, zone, weight band): its waybills, today's
    average revenue and the list price per waybill."""
    zones = {z.code: str(z) for z in Zone.objects.all()}
    return [
        TargetLane(c.product, c.zone, c.from_kg, c.to_kg, _lane(c.lane, zones), c.waybills,
                   _money(c.revenue / c.waybills), _money(c.list_freight / c.waybills))
        for c in profile.cells if c.waybills
    ]  # fmt: skip


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


def card_discounts(discounts: Sequence[Discount]) -> list[Discount]:
    """A proposal's discounts as a card keeps them. The strategies give as many decimals as
    charge their target to the fen; a card keeps four (0.0001 % of a ten-million-yuan
    account is ten yuan), rounded down: less discount, never less revenue."""
    return [
        Discount(d.percent.quantize(Decimal("0.0001"), rounding=ROUND_FLOOR), d.product, d.zone,
                 d.from_kg, d.to_kg)
        for d in discounts
    ]  # fmt: skip


def margin_floor(tier: int | None) -> Decimal | None:
    guidance = PriceGuidance.objects.filter(tier=tier).first() if tier else None
    return guidance.margin_floor if guidance else None


def no_shipments_text() -> str:
    return str(_("The account has no shipments in the ledger's last twelve months to price from."))


def no_floor_text(tier: int | None) -> str:
    if tier is None:
        return str(
            _(
                "Reverse pricing needs the margin floor of the account's tier, and the account "
                "has no tier yet."
            )
        )
    text = _(
        "Reverse pricing needs the margin floor of the account's tier: no price guidance "
        "is set for tier %(tier)s. A director sets it under Pricing → Price guidance."
    )
    return str(text % {"tier": tier})


def propose(
    strategy: str, account: Account, list_card: RateCard, params: dict[str, Any],
    *, today: dt.date, targets: Sequence[strategies.TargetPrice] = (),
    seasons: Sequence[strategies.Season] = (),
    found: tuple[strategies.VolumeProfile, whatif.Period] | None = None,
) -> Outcome:  # fmt: skip
    """Run ``strategy`` on ``account``'s last twelve months with ``params`` (markup %,
    target margin %, offset %), the customer's ``targets`` (reverse pricing) and the
    ``seasons`` to propose (differential pricing). ``found``: the account's volume
    profile when the caller has it already."""
    if strategy not in FORM_STRATEGIES:
        return Outcome(error=_("This strategy needs a tender's lane list: use the tender page."))
    floor = margin_floor(account.tier)
    floor = floor.normalize() + 0 if floor is not None else None  # 8, not 8.000
    if strategy == strategies.REVERSE:
        if floor is None:
            return Outcome(error=no_floor_text(account.tier))
        if not targets:
            return Outcome(error=_("Give the customer's target price for at least one lane."))
    accounts = Account.objects.filter(pk=account.pk)
    found = found or whatif.volume_profile(accounts, list_card)
    if found is None:
        return Outcome(error=no_shipments_text())
    profile, period = found
    rates = services.cost_rates()
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
        elif strategy == strategies.REVERSE:
            proposal = strategies.reverse(
                profile, targets=targets, cost_rates=rates,
                floor_percent=cast(Decimal, floor),  # None refused above
            )  # fmt: skip
        elif strategy == strategies.DIFFERENTIAL:
            proposal = strategies.differential(
                profile, bands=DEFAULT_BANDS, tier=str(account.tier or ""),
                tier_percent=DEFAULT_TIER_POINTS, seasons=seasons, cost_rates=rates,
                floor_percent=floor,
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
    # The proposal's peaks are the seasons in date order; the names come from the input.
    named = sorted(seasons, key=lambda s: s.start)
    proposed = [
        strategies.Season(s.name, p.start, p.end, p.percent)
        for s, p in zip(named, proposal.peaks, strict=False)
    ]
    return Outcome(list(proposal.discounts), workings, warnings, period=period.label,
                   seasons=proposed, span=period)  # fmt: skip
