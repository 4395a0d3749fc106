"""What every strategy shares: the inputs and outputs (plain frozen dataclasses), the
strategies' names, the refusal they raise, and the arithmetic of margins and discounts (the
conventions are in the package's docstring)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from ..rating import (
    FEN,
    HUNDRED,
    ZERO,
    CostRate,
    Discount,
    Peak,
    Rule,
    money,
)

Figure = Decimal | int | str
LaneKey = tuple[str, str, Decimal, Decimal | None]  # product, zone, from_kg, to_kg
Where = LaneKey | str | None  # a lane, a tender lane's reference, or None for the account

COST_PLUS = "cost_plus"
TARGET_PROFIT = "target_profit"
PERCEIVED_VALUE = "perceived_value"
REVERSE = "reverse"
DIFFERENTIAL = "differential"
GOING_RATE = "going_rate"
SEALED_BID = "sealed_bid"
STRATEGIES = (
    COST_PLUS,
    TARGET_PROFIT,
    PERCEIVED_VALUE,
    REVERSE,
    DIFFERENTIAL,
    GOING_RATE,
    SEALED_BID,
)

_MAX_PLACES = 20  # a discount's decimals; 28-digit Decimal arithmetic holds them exactly
_PERCENT_SHOWN = Decimal("0.01")


class StrategyError(ValueError):
    """Parameters a strategy cannot work with. ``code`` names the problem, ``params`` fill
    the message the layer above shows."""

    def __init__(self, code: str, **params: Figure) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params


# --- inputs -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VolumeCell:
    """An account's waybills in one product, zone and weight band ``[from_kg, to_kg)`` over
    the profile's period: how many, their chargeable weight, what the list card charges
    for them before any discount (``list_freight``), what they were charged
    (``revenue``), and their cost from the ledger (None where the ledger has none)."""

    product: str
    zone: str
    from_kg: Decimal
    to_kg: Decimal | None
    waybills: int
    weight_kg: Decimal
    list_freight: Decimal
    revenue: Decimal
    cost: Decimal | None = None

    @property
    def lane(self) -> LaneKey:
        return (self.product, self.zone, self.from_kg, self.to_kg)

    @property
    def average_kg(self) -> Decimal:
        return self.weight_kg / self.waybills if self.waybills else ZERO


@dataclass(frozen=True, slots=True)
class VolumeProfile:
    """The account's volume over ``months`` months (usually the last twelve)."""

    cells: tuple[VolumeCell, ...]
    months: int = 12


@dataclass(frozen=True, slots=True)
class ServiceAttributes:
    """What the account gets from the carrier: on-time delivery and claims, in percent of
    its waybills, and its tier (segmentation's A / B / C ...)."""

    on_time_percent: Decimal
    claims_percent: Decimal
    tier: str = ""


@dataclass(frozen=True, slots=True)
class ValueWeights:
    """How much each service attribute is worth to the account, in price points.

    ``on_time_weight`` points of price per point of on-time rate above the market's;
    ``claims_weight`` points per point of claims rate below the market's. The adjustment is
    held within ``+-cap_percent``.
    """

    market_on_time_percent: Decimal
    market_claims_percent: Decimal
    on_time_weight: Decimal
    claims_weight: Decimal
    cap_percent: Decimal = Decimal("10")


@dataclass(frozen=True, slots=True)
class TargetPrice:
    """What the customer wants to pay per waybill, on average, in one lane."""

    product: str
    zone: str
    from_kg: Decimal
    to_kg: Decimal | None
    price_per_waybill: Decimal

    @property
    def lane(self) -> LaneKey:
        return (self.product, self.zone, self.from_kg, self.to_kg)


@dataclass(frozen=True, slots=True)
class VolumeBand:
    """From ``min_waybills`` a month on, ``percent`` off the list."""

    min_waybills: int
    percent: Decimal


@dataclass(frozen=True, slots=True)
class Season:
    """A surcharge (positive) or an off-season reduction (negative, at least -100) of the
    freight between two dates, inclusive; it becomes a ``rating.Peak``."""

    name: str
    start: dt.date
    end: dt.date
    percent: Decimal


@dataclass(frozen=True, slots=True)
class CompetitorRate:
    """A competitor's rate for a product and zone, as it was quoted (a first / additional
    weight or weight-break rule), when and where it was seen."""

    product: str
    zone: str
    rule: Rule
    as_of: dt.date
    source: str


@dataclass(frozen=True, slots=True)
class TenderLane:
    """One lane of a tender: places as GB/T 2260 city codes, the annual waybills and the
    average chargeable weight per waybill."""

    ref: str
    origin: str
    destination: str
    product: str
    annual_waybills: int
    weight_kg: Decimal


# --- outputs ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """One line of the workings: a label code (the page translates it), the figures that
    went in, by name, and the result. ``lane`` says which lane (a tender lane by its
    reference), None for the account."""

    label: str
    figures: Mapping[str, Figure]
    result: Figure
    lane: Where = None


@dataclass(frozen=True, slots=True)
class Flag:
    """A warning the manager should see: a code, the lane (None for the account) and the
    figures that explain it."""

    code: str
    lane: Where = None
    params: Mapping[str, Figure] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BidLane:
    """A priced tender lane: price per waybill and what stands behind it."""

    lane: TenderLane
    zone: str
    cost: Decimal  # per waybill
    list_price: Decimal  # per waybill, the list card at the lane's weight
    price: Decimal  # per waybill, to the fen
    discount_percent: Decimal  # off the list price, two decimals, for the record
    margin_percent: Decimal  # two decimals
    annual_revenue: Decimal
    at_floor: bool


@dataclass(frozen=True, slots=True)
class Proposal:
    """What a strategy proposes over the list card.

    ``discounts`` are off the list's rules (a lane's discount names its product, zone and
    weight band, so it wins over an account-wide one in ``rating.Card.discount``; a
    proposal that prices only some lanes is meant to be laid over the account's current
    discounts). ``rules`` is for a custom card's own rules (the seven strategies all keep
    the list's shape and leave it empty); ``peaks`` are season surcharges (differential);
    ``lanes`` the priced tender lanes (sealed bid).
    """

    strategy: str
    discounts: tuple[Discount, ...] = ()
    rules: Mapping[tuple[str, str], Rule] = field(default_factory=dict)
    peaks: tuple[Peak, ...] = ()
    lanes: tuple[BidLane, ...] = ()
    workings: tuple[Step, ...] = ()
    warnings: tuple[Flag, ...] = ()


# --- arithmetic shared by the strategies ----------------------------------------------


def money_up(value: Decimal) -> Decimal:
    """To the fen, rounded up (a target revenue is never rounded below itself)."""
    return value.quantize(FEN, rounding=ROUND_CEILING)


def shown(percent: Decimal) -> Decimal:
    """A percentage to two decimals, for the workings."""
    return percent.quantize(_PERCENT_SHOWN, rounding=ROUND_HALF_UP)


def revenue_at(list_freight: Decimal, percent: Decimal) -> Decimal:
    """The list freight after ``percent`` off, to the fen."""
    return money(list_freight * (HUNDRED - percent) / HUNDRED)


def margin_percent(revenue: Decimal, cost: Decimal) -> Decimal:
    """``(revenue - cost) / revenue * 100``, unrounded; revenue must be above zero."""
    if revenue <= 0:
        raise StrategyError("no_revenue")
    return (revenue - cost) * HUNDRED / revenue


def margin_shown(revenue: Decimal, cost: Decimal) -> Figure:
    """The margin to two decimals for the workings; "-" where there is no revenue."""
    return shown(margin_percent(revenue, cost)) if revenue > 0 else "-"


def revenue_for_margin(cost: Decimal, margin: Decimal) -> Decimal:
    """The revenue that earns ``margin`` % on ``cost``: ``cost * 100 / (100 - margin)``, up
    to the fen."""
    if margin >= HUNDRED:
        raise StrategyError("margin_not_below_100", margin=margin)
    return money_up(cost * HUNDRED / (HUNDRED - margin))


def discount_for(list_freight: Decimal, target: Decimal) -> Decimal:
    """The discount off ``list_freight`` that charges exactly ``target`` (rounded up to the
    fen): ``(1 - target / list) * 100`` rounded down, to as many decimals as that takes (at
    least two; once the unrounded revenue is within half a fen above the target, it rounds
    to it). Negative when the target is above the list (a premium);
    never above 100 (targets are not negative)."""
    if list_freight <= 0:
        raise StrategyError("no_list_freight")
    if target < 0:
        raise StrategyError("negative_price", price=target)
    target = money_up(target)
    exact = (1 - target / list_freight) * HUNDRED
    for places in range(2, _MAX_PLACES + 1):
        percent = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_FLOOR)
        if revenue_at(list_freight, percent) == target:
            return percent
    return exact  # not reached for any list freight below 10^16 yuan


def cell_cost(cell: VolumeCell, rates: Mapping[tuple[str, str], CostRate]) -> Decimal:
    """The ledger's cost of the cell, else the cost rates' estimate for its volume."""
    if cell.cost is not None:
        return cell.cost
    try:
        rate = rates[(cell.product, cell.zone)]
    except KeyError:
        raise StrategyError("no_cost_rate", product=cell.product, zone=cell.zone) from None
    return money(rate.per_waybill * cell.waybills + rate.per_kg * cell.weight_kg)


def _cells(profile: VolumeProfile) -> list[VolumeCell]:
    cells = [c for c in profile.cells if c.waybills > 0]
    if not cells:
        raise StrategyError("no_volume")
    for c in cells:
        if c.list_freight <= 0:
            raise StrategyError("no_list_freight", product=c.product, zone=c.zone)
    return cells


def _check_floor(floor_percent: Decimal | None) -> None:
    if floor_percent is not None and floor_percent >= HUNDRED:
        raise StrategyError("margin_not_below_100", margin=floor_percent)


def _lane_discount(cell: VolumeCell, percent: Decimal) -> Discount:
    return Discount(percent, cell.product, cell.zone, cell.from_kg, cell.to_kg)


class _Book:
    """Collects a strategy's workings and warnings in order."""

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.flags: list[Flag] = []

    def step(self, label: str, result: Figure, lane: Where = None, **figures: Figure) -> None:
        self.steps.append(Step(label, figures, result, lane))

    def flag(self, code: str, lane: Where = None, **params: Figure) -> None:
        self.flags.append(Flag(code, lane, params))

    def proposal(
        self,
        strategy: str,
        discounts: tuple[Discount, ...],
        peaks: tuple[Peak, ...] = (),
        lanes: tuple[BidLane, ...] = (),
    ) -> Proposal:
        return Proposal(
            strategy,
            discounts=discounts,
            peaks=peaks,
            lanes=lanes,
            workings=tuple(self.steps),
            warnings=tuple(self.flags),
        )


def _price_lanes(
    book: _Book,
    cells: Sequence[VolumeCell],
    costs: Mapping[LaneKey, Decimal],
    targets: Mapping[LaneKey, Decimal],
    floor_percent: Decimal | None,
) -> tuple[Discount, ...]:
    """Each lane's discount for its target revenue, held at the floor: the lane-by-lane
    strategies' last step."""
    discounts = []
    for cell in cells:
        target, cost = targets[cell.lane], costs[cell.lane]
        if floor_percent is not None:
            floor = revenue_for_margin(cost, floor_percent)
            if target < floor:
                book.flag(
                    "held_at_floor",
                    cell.lane,
                    target=target,
                    floor_revenue=floor,
                    floor_percent=floor_percent,
                )
                target = floor
        percent = discount_for(cell.list_freight, target)
        revenue = revenue_at(cell.list_freight, percent)
        book.step(
            "lane_discount",
            percent,
            cell.lane,
            list_freight=cell.list_freight,
            target_revenue=target,
            revenue=revenue,
            cost=cost,
            margin_percent=margin_shown(revenue, cost),
        )
        if percent < 0:
            book.flag("above_list", cell.lane, premium_percent=-percent)
        discounts.append(_lane_discount(cell, percent))
    return tuple(discounts)


def _flag_lanes_below_floor(
    book: _Book,
    cells: Sequence[VolumeCell],
    costs: Mapping[LaneKey, Decimal],
    percent: Decimal,
    floor_percent: Decimal | None,
) -> None:
    """The account-wide strategies: warn about each lane the one discount takes below the
    floor."""
    if floor_percent is None:
        return
    for cell in cells:
        revenue = revenue_at(cell.list_freight, percent)
        cost = costs[cell.lane]
        if revenue <= 0 or margin_percent(revenue, cost) < floor_percent:
            book.flag(
                "below_floor",
                cell.lane,
                revenue=revenue,
                cost=cost,
                margin_percent=margin_shown(revenue, cost),
                floor_percent=floor_percent,
            )


def _account_figures(
    book: _Book, cells: Sequence[VolumeCell], rates: Mapping[tuple[str, str], CostRate]
) -> tuple[dict[LaneKey, Decimal], Decimal, Decimal]:
    costs = {c.lane: cell_cost(c, rates) for c in cells}
    list_total = sum((c.list_freight for c in cells), ZERO)
    cost_total = sum(costs.values(), ZERO)
    book.step(
        "account_volume",
        list_total,
        waybills=sum(c.waybills for c in cells),
        current_revenue=sum((c.revenue for c in cells), ZERO),
        cost=cost_total,
        estimated_lanes=sum(1 for c in cells if c.cost is None),
    )
    return costs, list_total, cost_total
