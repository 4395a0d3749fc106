"""Rating: what a waybill costs under a rate card. Plain data and arithmetic, no Django.

This module is the contract between the pricing app's stored cards (``models.py``, which
``services.card_spec`` turns into a :class:`Card`) and everything that prices with them:
the quote calculator, the strategies, and the what-if that reprices a year of an
account's waybills in DuckDB (``reprice.py``). :func:`price_waybill` is the slow,
obviously-correct reference; the DuckDB repricing must equal it to the cent.

Units and rounding (one rule, everywhere):
- weights are ``Decimal`` kilograms with up to three decimals, handled as whole grams;
- money is ``Decimal`` CNY; a waybill's freight is rounded to the fen (0.01) once, after
  its discount, half away from zero (``ROUND_HALF_UP``; DuckDB's ``ROUND`` on a DECIMAL
  does the same for the non-negative amounts here); each surcharge is rounded to the fen
  on its own;
- additional weight units are counted up: 1.01 kg with a 1 kg first weight and 0.5 kg
  steps is one first weight plus one step.

Zones: a waybill's zone comes from its origin and destination city codes (GB/T 2260,
six digits; the province is the first two digits + ``0000``): the same city is
:data:`SAME_CITY`, the same province :data:`SAME_PROVINCE`, anything else the zone the
card's :class:`ZoneMatrix` gives the pair of provinces (remote areas such as Xinjiang and
Tibet are zones of their own there).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

SAME_CITY = "same_city"  # 同城
SAME_PROVINCE = "same_province"  # 省内
PRODUCTS = ("express", "standard", "ground", "cold", "international")  # the ledger's products

FEN = Decimal("0.01")
GRAM = Decimal("0.001")
ZERO = Decimal("0")
HUNDRED = Decimal("100")


class RatingError(ValueError):
    """A waybill the card cannot price (no rule for its product and zone, say)."""


def province_of(city_code: str) -> str:
    return city_code[:2] + "0000"


def grams(weight_kg: Decimal) -> int:
    """Whole grams, a fraction of a gram counted up (weights carry three decimals)."""
    thousandths = weight_kg / GRAM
    whole = int(thousandths)
    return whole + (1 if thousandths > whole else 0)


def money(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class ZoneMatrix:
    """Inter-province zones: (origin province code, destination province code) -> zone."""

    pairs: Mapping[tuple[str, str], str]

    def zone(self, origin: str, destination: str) -> str:
        if origin == destination:
            return SAME_CITY
        o, d = province_of(origin), province_of(destination)
        if o == d:
            return SAME_PROVINCE
        try:
            return self.pairs[(o, d)]
        except KeyError:
            raise RatingError(f"no zone for {o} -> {d}") from None


@dataclass(frozen=True, slots=True)
class FirstAdditional:
    """首重 / 续重: ``first_price`` covers up to ``first_kg``; each started ``step_kg``
    beyond it adds ``step_price``."""

    first_kg: Decimal
    first_price: Decimal
    step_kg: Decimal
    step_price: Decimal

    def charge(self, weight_kg: Decimal) -> Decimal:
        g, first_g, step_g = grams(weight_kg), grams(self.first_kg), grams(self.step_kg)
        if g <= first_g:
            return self.first_price
        steps = -(-(g - first_g) // step_g)
        return self.first_price + steps * self.step_price


@dataclass(frozen=True, slots=True)
class Band:
    """A weight band ``[from_kg, to_kg)``; ``to_kg`` None is open-ended."""

    from_kg: Decimal
    to_kg: Decimal | None
    per_kg: Decimal

    def holds(self, weight_kg: Decimal) -> bool:
        return weight_kg >= self.from_kg and (self.to_kg is None or weight_kg < self.to_kg)


@dataclass(frozen=True, slots=True)
class WeightBreaks:
    """Heavy freight: the whole weight at the per-kg rate of the band it falls in, never
    less than ``min_charge``. Bands are contiguous from 0 and the last is open-ended
    (``check_bands``)."""

    bands: tuple[Band, ...]
    min_charge: Decimal

    def charge(self, weight_kg: Decimal) -> Decimal:
        for band in self.bands:
            if band.holds(weight_kg):
                return max(weight_kg * band.per_kg, self.min_charge)
        raise RatingError(f"no weight band holds {weight_kg} kg")


Rule = FirstAdditional | WeightBreaks


@dataclass(frozen=True, slots=True)
class Discount:
    """A percentage off the list freight. ``product`` / ``zone`` None match any; the weight
    band ``[from_kg, to_kg)`` is of the chargeable weight. The most specific matching
    discount wins (product and zone given beats one given beats none; then the narrower
    band)."""

    percent: Decimal
    product: str | None = None
    zone: str | None = None
    from_kg: Decimal = ZERO
    to_kg: Decimal | None = None

    def matches(self, product: str, zone: str, weight_kg: Decimal) -> bool:
        return (
            (self.product is None or self.product == product)
            and (self.zone is None or self.zone == zone)
            and weight_kg >= self.from_kg
            and (self.to_kg is None or weight_kg < self.to_kg)
        )

    def specificity(self) -> tuple[int, Decimal]:
        given = (self.product is not None) + (self.zone is not None)
        width = (self.to_kg - self.from_kg) if self.to_kg is not None else Decimal("1e9")
        return (given, -width)


@dataclass(frozen=True, slots=True)
class FuelRule:
    """Fuel surcharge percentage = base + factor × (index − reference), held within
    [floor, cap] (the seed's index-linked price with a floor and a cap)."""

    base_percent: Decimal
    factor: Decimal
    reference: Decimal
    floor_percent: Decimal
    cap_percent: Decimal

    def percent(self, index: Decimal | None) -> Decimal:
        if index is None:
            return self.base_percent
        raw = self.base_percent + self.factor * (index - self.reference)
        return min(max(raw, self.floor_percent), self.cap_percent)


@dataclass(frozen=True, slots=True)
class Peak:
    """A peak-season surcharge (11.11, 12.12, the Spring Festival): a percentage of the
    freight on ship dates ``start`` to ``end`` inclusive (Beijing calendar)."""

    start: dt.date
    end: dt.date
    percent: Decimal


@dataclass(frozen=True, slots=True)
class Surcharges:
    fuel: FuelRule | None = None
    fuel_index: Mapping[str, Decimal] = field(default_factory=dict)  # 'YYYY-MM' -> index
    peaks: tuple[Peak, ...] = ()
    remote_zones: frozenset[str] = frozenset()  # zones that carry the remote-area fee
    remote_fee: Decimal = ZERO  # per waybill
    cod_percent: Decimal = ZERO  # of the COD amount
    cod_min: Decimal = ZERO
    insurance_percent: Decimal = ZERO  # of the declared value
    insurance_min: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class Card:
    """A priced card: rules per (product, zone), discounts off them, and surcharges.

    An account card expressed as discounts off the list is the list's rules with the
    account's discounts; a custom card has rules of its own and usually no discounts.
    """

    zones: ZoneMatrix
    rules: Mapping[tuple[str, str], Rule]
    discounts: tuple[Discount, ...] = ()
    surcharges: Surcharges = field(default_factory=Surcharges)
    dim_divisor: Mapping[str, int] = field(default_factory=dict)  # product -> cm³ per kg

    def discount(self, product: str, zone: str, weight_kg: Decimal) -> Decimal:
        best = max(
            (d for d in self.discounts if d.matches(product, zone, weight_kg)),
            key=Discount.specificity,
            default=None,
        )
        return best.percent if best is not None else ZERO


@dataclass(frozen=True, slots=True)
class Waybill:
    ship_date: dt.date
    origin: str
    destination: str
    product: str
    weight_kg: Decimal  # chargeable
    cod_amount: Decimal = ZERO
    declared_value: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class Price:
    zone: str
    list_freight: Decimal  # before the discount, unrounded
    freight: Decimal  # after the discount, to the fen
    fuel: Decimal
    peak: Decimal
    remote: Decimal
    cod: Decimal
    insurance: Decimal

    @property
    def surcharges(self) -> Decimal:
        return self.fuel + self.peak + self.remote + self.cod + self.insurance

    @property
    def total(self) -> Decimal:
        return self.freight + self.surcharges


@dataclass(frozen=True, slots=True)
class CostRate:
    """What carrying a waybill costs where the ledger has no cost for it: a handling cost
    per waybill plus a line-haul cost per kilogram of chargeable weight, per product and
    zone (administrators maintain them)."""

    per_waybill: Decimal
    per_kg: Decimal

    def cost(self, weight_kg: Decimal) -> Decimal:
        return money(self.per_waybill + self.per_kg * weight_kg)


def estimated_cost(
    zones: ZoneMatrix, rates: Mapping[tuple[str, str], CostRate], waybill: Waybill
) -> Decimal:
    """The cost rates' cost of one waybill (the reference for the DuckDB estimate)."""
    zone = zones.zone(waybill.origin, waybill.destination)
    try:
        rate = rates[(waybill.product, zone)]
    except KeyError:
        raise RatingError(f"no cost rate for {waybill.product} in zone {zone}") from None
    return rate.cost(waybill.weight_kg)


def chargeable_weight(
    actual_kg: Decimal, length_cm: Decimal, width_cm: Decimal, height_cm: Decimal, divisor: int
) -> Decimal:
    """The larger of the actual and the dimensional weight (L×W×H ÷ divisor), to the gram
    counted up."""
    if divisor <= 0:
        raise RatingError("the dimensional divisor must be above zero")
    dimensional = Decimal(grams(length_cm * width_cm * height_cm / divisor)) * GRAM
    return max(actual_kg, dimensional)


def price_waybill(card: Card, waybill: Waybill) -> Price:
    """The reference price of one waybill under ``card`` (slow and plain on purpose)."""
    zone = card.zones.zone(waybill.origin, waybill.destination)
    try:
        rule = card.rules[(waybill.product, zone)]
    except KeyError:
        raise RatingError(f"no rate for {waybill.product} in zone {zone}") from None
    list_freight = rule.charge(waybill.weight_kg)
    off = card.discount(waybill.product, zone, waybill.weight_kg)
    freight = money(list_freight * (HUNDRED - off) / HUNDRED)
    s = card.surcharges
    fuel_pct = (
        s.fuel.percent(s.fuel_index.get(waybill.ship_date.strftime("%Y-%m"))) if s.fuel else ZERO
    )
    peak_pct = sum((p.percent for p in s.peaks if p.start <= waybill.ship_date <= p.end), ZERO)
    fuel = money(freight * fuel_pct / HUNDRED)
    peak = money(freight * peak_pct / HUNDRED)
    remote = s.remote_fee if zone in s.remote_zones else ZERO
    cod = (
        money(max(waybill.cod_amount * s.cod_percent / HUNDRED, s.cod_min))
        if waybill.cod_amount > 0
        else ZERO
    )
    insurance = (
        money(max(waybill.declared_value * s.insurance_percent / HUNDRED, s.insurance_min))
        if waybill.declared_value > 0
        else ZERO
    )
    return Price(zone, list_freight, freight, fuel, peak, remote, cod, insurance)


def check_bands(bands: list[tuple[Decimal, Decimal | None]]) -> list[str]:
    """Problems with weight bands, as ``(index, message)``-free strings naming the band by
    its position (1-based): a gap, an overlap, an empty band, a start above 0, a closed
    last band. Empty when the bands are contiguous from 0 and open-ended."""
    problems: list[str] = []
    if not bands:
        return ["no weight band"]
    ordered = sorted(enumerate(bands, start=1), key=lambda b: b[1][0])
    if ordered[0][1][0] != 0:
        problems.append(f"band {ordered[0][0]} starts at {ordered[0][1][0]} kg, not 0")
    for (i, (lo, hi)), (j, (next_lo, _)) in zip(ordered, ordered[1:], strict=False):
        if hi is None:
            problems.append(f"band {i} is open-ended but band {j} follows it")
        elif hi <= lo:
            problems.append(f"band {i} ends at or below its start")
        elif next_lo < hi:
            problems.append(f"bands {i} and {j} overlap")
        elif next_lo > hi:
            problems.append(f"a gap between bands {i} and {j} ({hi} to {next_lo} kg)")
    last_i, (last_lo, last_hi) = ordered[-1]
    if last_hi is not None:
        if last_hi <= last_lo:
            problems.append(f"band {last_i} ends at or below its start")
        problems.append(f"the last band ({last_i}) must be open-ended")
    return problems
