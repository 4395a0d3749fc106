"""The seven pricing strategies (DOMAIN.md section 5): plain data in, a proposal out.

Each strategy takes an account's volume (:class:`VolumeCell` rows per product, zone and
weight band, from the ledger's facts) and its own parameters, and returns a
:class:`Proposal`: discounts off the list card (``rating.Discount``), for sealed bids the
priced tender lanes, for differential pricing peak-season surcharges, and always its
``workings`` (the ordered steps a page shows so the manager can defend the price) and
``warnings`` (a lane below the margin floor, a stale competitor rate, ...).

Conventions (one rule everywhere):

- Percentages are ``Decimal`` percent: a markup of 15 is 15 %, a margin of 12 is 12 %.
- Margin is of the price: ``margin % = (revenue - cost) / revenue * 100``; the revenue that
  reaches a margin ``m`` on cost ``c`` is ``c * 100 / (100 - m)`` (so ``m`` < 100).
- A discount is a percentage off the list freight, at most 100 % (a price never goes below
  zero). **A premium is a negative discount**: -5 charges 5 % above the list, which
  ``rating.price_waybill`` applies as it is (``list * (100 - (-5)) / 100``). Every proposal
  that prices above the list says so with an ``above_list`` warning.
- Money is ``Decimal`` CNY. A target revenue is rounded *up* to the fen, and the discount
  that reaches it is rounded *down* (less discount, never less revenue) to as many decimals
  as it takes to charge the target to the fen on this volume (at least two): a 0.01 % step
  on a 10-million-yuan account is 1,000 yuan, so two decimals would not do.
- Cost is the ledger's cost where the cell has one, else the administrators' cost rates
  (``rating.CostRate``): ``per_waybill * waybills + per_kg * weight``, rounded to the fen
  once for the cell (the per-waybill estimate ``rating.estimated_cost`` rounds each
  waybill, so the two may differ by half a fen per waybill).
- The margin floor: the strategies that price lane by lane (cost-plus, reverse pricing,
  going rate, sealed bid) never propose a lane below the floor; where their own arithmetic
  would, they propose the floor price and warn (``held_at_floor``). The account-wide ones
  (target profit, perceived value, differential) propose one discount and warn about each
  lane it takes below the floor (``below_floor``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from .rating import (
    FEN,
    HUNDRED,
    ZERO,
    CostRate,
    Discount,
    Peak,
    RatingError,
    Rule,
    ZoneMatrix,
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


def gettext_noop(text: str) -> str:
    """Marks a text for the translation catalogue (``makemessages`` finds the name) without
    importing Django; the Django layer translates it when it shows it."""
    return text


# English texts of the codes: the msgids the Django layer translates (proposals.py);
# figures fill the %(name)s placeholders.
STEP_TEXTS = {
    "account_volume": gettext_noop(
        "Account volume: %(waybills)s waybills, list freight %(result)s, charged today %(current_revenue)s, cost %(cost)s (%(estimated_lanes)s lanes costed from cost rates)."
    ),
    "cost_plus_price": gettext_noop("Cost %(cost)s x (1 + %(markup_percent)s %%) = %(result)s."),
    "lane_discount": gettext_noop(
        "List %(list_freight)s to charge %(target_revenue)s: %(result)s %% off, charging %(revenue)s against cost %(cost)s (margin %(margin_percent)s %%)."
    ),
    "required_revenue": gettext_noop(
        "Revenue for a %(target_margin_percent)s %% margin on cost %(cost)s: %(cost)s x 100 / (100 - %(target_margin_percent)s) = %(result)s."
    ),
    "account_discount": gettext_noop("Discount for the account: %(result)s %%."),
    "margin_reached": gettext_noop(
        "Margin reached: (%(revenue)s - %(cost)s) / %(revenue)s = %(result)s %%."
    ),
    "current_discount": gettext_noop(
        "Current discount: 1 - %(revenue)s / %(list_freight)s = %(result)s %%."
    ),
    "on_time_value": gettext_noop(
        "On-time %(on_time_percent)s %% against the market's %(market_percent)s %%, x %(weight)s = %(result)s points."
    ),
    "claims_value": gettext_noop(
        "Claims %(claims_percent)s %% against the market's %(market_percent)s %%, x %(weight)s = %(result)s points."
    ),
    "value_adjustment": gettext_noop(
        "Value of the service: %(raw)s points, held within +-%(cap_percent)s: %(result)s points of premium."
    ),
    "target_revenue": gettext_noop(
        "Customer's target %(price_per_waybill)s a waybill x %(waybills)s waybills = %(result)s."
    ),
    "target_margin": gettext_noop(
        "Target revenue %(revenue)s against cost %(cost)s: margin %(result)s %%; clears the %(floor_percent)s %% floor: %(clears_floor)s; needs %(discount_needed)s %% off."
    ),
    "monthly_waybills": gettext_noop(
        "%(waybills)s waybills over %(months)s months = %(result)s a month."
    ),
    "volume_band": gettext_noop("Volume band from %(min_waybills)s a month: %(result)s %% off."),
    "next_band": gettext_noop(
        "Next band from %(min_waybills)s a month (%(waybills_to_go)s more): %(result)s %% off."
    ),
    "tier_adjustment": gettext_noop("Tier %(tier)s: %(result)s points."),
    "season": gettext_noop("Season %(name)s, %(start)s to %(end)s: %(result)s %% of the freight."),
    "competitor_level": gettext_noop(
        "%(source)s (%(date)s, %(age_days)s days old) charges %(their_freight)s where the list charges %(list_freight)s: %(result)s %% below the list."
    ),
    "going_rate": gettext_noop(
        "Going rate: median %(median)s %% of %(rates)s rates, plus %(offset_percent)s points = %(result)s %% off."
    ),
    "bid_price": gettext_noop(
        "Cost %(cost)s a waybill to a %(target_margin_percent)s %% margin, not below the floor price %(floor_price)s: %(result)s (list %(list_price)s, %(discount_percent)s %% off; %(annual_revenue)s a year)."
    ),
    "bid_total": gettext_noop(
        "Bid: %(lanes)s lanes priced, %(flagged_lanes)s not, %(result)s a year."
    ),
}
FLAG_TEXTS = {
    "above_list": gettext_noop("Priced above the list (a premium)."),
    "below_floor": gettext_noop(
        "Margin %(margin_percent)s %% is below the %(floor_percent)s %% floor."
    ),
    "held_at_floor": gettext_noop(
        "The strategy's price %(target)s is below the floor; priced at the floor, %(floor_revenue)s."
    ),
    "value_capped": gettext_noop(
        "The service's value, %(raw)s points, was held at the cap of %(cap_percent)s."
    ),
    "no_volume": gettext_noop("No shipments in this lane: not priced."),
    "discount_held_in_range": gettext_noop(
        "The schedule gives %(raw)s %%; held between 0 and 100 %%."
    ),
    "no_competitor_rate": gettext_noop("No competitor rate for this product and zone: not priced."),
    "rate_in_future": gettext_noop(
        "The rate from %(source)s is dated %(date)s, after the pricing date: left out."
    ),
    "stale_rate": gettext_noop("The rate from %(source)s is %(age_days)s days old."),
    "all_rates_stale": gettext_noop(
        "Every competitor rate is older than %(stale_after_days)s days; the stale ones were used."
    ),
    "target_below_floor": gettext_noop(
        "The target margin %(target_margin_percent)s %% is below the floor %(floor_percent)s %%."
    ),
    "no_zone": gettext_noop("No zone for %(origin)s to %(destination)s: not priced."),
    "no_list_rule": gettext_noop("No list rate in zone %(zone)s: not priced."),
    "no_cost_rate": gettext_noop("No cost rate in zone %(zone)s: not priced."),
}
ERROR_TEXTS = {
    "no_volume": gettext_noop("The account has no shipments to price."),
    "no_revenue": gettext_noop("A margin needs revenue above zero."),
    "no_list_freight": gettext_noop(
        "The list card charges nothing for %(product)s in zone %(zone)s."
    ),
    "no_cost_rate": gettext_noop("No cost rate for %(product)s in zone %(zone)s."),
    "no_list_rule": gettext_noop("No list rate for %(product)s in zone %(zone)s."),
    "negative_price": gettext_noop("A price must not be negative (%(price)s)."),
    "negative_markup": gettext_noop("A markup must not be negative (%(markup)s %%)."),
    "negative_cap": gettext_noop("The cap must not be negative (%(cap)s)."),
    "negative_stale_days": gettext_noop(
        "The age after which a rate is stale must not be negative."
    ),
    "margin_not_below_100": "A margin must be below 100 %% (%(margin)s %%).",
    "repeated_lane": gettext_noop("Two target prices for one lane (%(product)s, %(zone)s)."),
    "bands_not_from_zero": gettext_noop("The volume bands must start at 0 waybills."),
    "repeated_band": gettext_noop("Two volume bands start at %(min_waybills)s."),
    "discount_out_of_range": gettext_noop(
        "A discount must be between 0 and 100 %% (%(percent)s %%)."
    ),
    "unknown_tier": gettext_noop("No tier adjustment for tier %(tier)s."),
    "season_ends_before_start": gettext_noop("The season %(season)s ends before it starts."),
    "season_below_minus_100": "The season %(season)s takes off more than the freight.",
    "seasons_overlap": gettext_noop("The seasons %(first)s and %(second)s overlap."),
    "no_months": gettext_noop("The profile's period must be at least one month."),
}


class _Figures(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def _fill(template: str, figures: Mapping[str, Figure]) -> str:
    return template % _Figures({k: str(v) for k, v in figures.items()})


def step_text(step: Step) -> str:
    """A working step in English."""
    return _fill(STEP_TEXTS.get(step.label, step.label), {**step.figures, "result": step.result})


def flag_text(flag: Flag) -> str:
    """A warning in English."""
    return _fill(FLAG_TEXTS.get(flag.code, flag.code), flag.params)


def error_text(error: StrategyError) -> str:
    """A refusal in English."""
    return _fill(ERROR_TEXTS.get(error.code, error.code), error.params)


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


# --- the seven strategies ---------------------------------------------------------------


def cost_plus(
    profile: VolumeProfile,
    *,
    markup_percent: Decimal,
    cost_rates: Mapping[tuple[str, str], CostRate],
    floor_percent: Decimal | None = None,
) -> Proposal:
    """成本加成: each lane's price is its cost times ``(1 + markup / 100)``, rounded up to the
    fen; the proposal is the discount off the lane's list freight that charges it.

    The margin this earns is ``markup / (100 + markup)`` (15 % markup, 13.04 % margin).
    """
    if markup_percent < 0:
        raise StrategyError("negative_markup", markup=markup_percent)
    _check_floor(floor_percent)
    book = _Book()
    cells = _cells(profile)
    costs = {c.lane: cell_cost(c, cost_rates) for c in cells}
    targets = {}
    for cell in cells:
        cost = costs[cell.lane]
        targets[cell.lane] = money_up(cost * (HUNDRED + markup_percent) / HUNDRED)
        book.step(
            "cost_plus_price",
            targets[cell.lane],
            cell.lane,
            cost=cost,
            cost_source="ledger" if cell.cost is not None else "cost_rates",
            markup_percent=markup_percent,
        )
    discounts = _price_lanes(book, cells, costs, targets, floor_percent)
    return book.proposal(COST_PLUS, discounts=discounts)


def target_profit(
    profile: VolumeProfile,
    *,
    target_margin_percent: Decimal,
    cost_rates: Mapping[tuple[str, str], CostRate],
    floor_percent: Decimal | None = None,
) -> Proposal:
    """目标利润: one discount for the whole account that earns ``target_margin_percent`` on
    its volume.

    required revenue ``R = cost * 100 / (100 - margin)`` (up to the fen); discount
    ``d = (1 - R / list freight) * 100``, so that ``list * (100 - d) / 100`` is ``R`` to
    within a fen.
    """
    _check_floor(floor_percent)
    book = _Book()
    cells = _cells(profile)
    costs, list_total, cost_total = _account_figures(book, cells, cost_rates)
    required = revenue_for_margin(cost_total, target_margin_percent)
    book.step(
        "required_revenue", required, cost=cost_total, target_margin_percent=target_margin_percent
    )
    percent = min(discount_for(list_total, required), HUNDRED)
    revenue = revenue_at(list_total, percent)
    book.step("account_discount", percent, list_freight=list_total, required_revenue=required)
    book.step(
        "margin_reached",
        margin_shown(revenue, cost_total),
        revenue=revenue,
        cost=cost_total,
    )
    if percent < 0:
        book.flag("above_list", premium_percent=-percent)
    _flag_lanes_below_floor(book, cells, costs, percent, floor_percent)
    return book.proposal(TARGET_PROFIT, discounts=(Discount(percent),))


def perceived_value(
    profile: VolumeProfile,
    *,
    service: ServiceAttributes,
    weights: ValueWeights,
    cost_rates: Mapping[tuple[str, str], CostRate],
    base_discount_percent: Decimal | None = None,
    floor_percent: Decimal | None = None,
) -> Proposal:
    """感受价值: the account pays for the service it values.

    adjustment ``a = on_time_weight * (on-time % - market on-time %)
    + claims_weight * (market claims % - claims %)``, held within ``+-cap``; positive is a
    premium. The proposed discount is ``base - a`` (at most 100), where the base is the
    account's current discount ``(1 - revenue / list freight) * 100`` unless given.
    """
    _check_floor(floor_percent)
    if weights.cap_percent < 0:
        raise StrategyError("negative_cap", cap=weights.cap_percent)
    book = _Book()
    cells = _cells(profile)
    costs, list_total, _ = _account_figures(book, cells, cost_rates)
    if base_discount_percent is None:
        current = sum((c.revenue for c in cells), ZERO)
        base = discount_for(list_total, current)
        book.step("current_discount", base, list_freight=list_total, revenue=current)
    else:
        base = base_discount_percent
    on_time = weights.on_time_weight * (service.on_time_percent - weights.market_on_time_percent)
    book.step(
        "on_time_value",
        on_time,
        on_time_percent=service.on_time_percent,
        market_percent=weights.market_on_time_percent,
        weight=weights.on_time_weight,
    )
    claims = weights.claims_weight * (weights.market_claims_percent - service.claims_percent)
    book.step(
        "claims_value",
        claims,
        claims_percent=service.claims_percent,
        market_percent=weights.market_claims_percent,
        weight=weights.claims_weight,
    )
    raw = on_time + claims
    adjustment = max(-weights.cap_percent, min(raw, weights.cap_percent))
    book.step("value_adjustment", adjustment, raw=raw, cap_percent=weights.cap_percent)
    if adjustment != raw:
        book.flag("value_capped", raw=raw, cap_percent=weights.cap_percent)
    percent = min(base - adjustment, HUNDRED)
    book.step("account_discount", percent, base_discount=base, adjustment=adjustment)
    if percent < 0:
        book.flag("above_list", premium_percent=-percent)
    _flag_lanes_below_floor(book, cells, costs, percent, floor_percent)
    return book.proposal(PERCEIVED_VALUE, discounts=(Discount(percent),))


def reverse(
    profile: VolumeProfile,
    *,
    targets: Sequence[TargetPrice],
    cost_rates: Mapping[tuple[str, str], CostRate],
    floor_percent: Decimal,
) -> Proposal:
    """反向定价: start from the customer's price per waybill in each lane.

    Per lane: target revenue ``T = price * waybills``; margin ``(T - cost) / T``; the
    discount the target needs ``(1 - T / list freight) * 100``. Where the margin clears the
    floor the proposal charges the target; below it, the floor revenue (flagged). Lanes the
    account did not ship in are flagged and not priced.
    """
    _check_floor(floor_percent)
    book = _Book()
    by_lane = {c.lane: c for c in _cells(profile)}
    priced: list[VolumeCell] = []
    costs: dict[LaneKey, Decimal] = {}
    revenues: dict[LaneKey, Decimal] = {}
    for target in targets:
        if target.price_per_waybill < 0:
            raise StrategyError("negative_price", price=target.price_per_waybill)
        cell = by_lane.get(target.lane)
        if cell is None:
            book.flag("no_volume", target.lane)
            continue
        if cell.lane in revenues:
            raise StrategyError("repeated_lane", product=cell.product, zone=cell.zone)
        cost = costs[cell.lane] = cell_cost(cell, cost_rates)
        revenue = revenues[cell.lane] = money(target.price_per_waybill * cell.waybills)
        needed = discount_for(cell.list_freight, revenue)
        margin = margin_percent(revenue, cost) if revenue > 0 else None
        book.step(
            "target_revenue",
            revenue,
            cell.lane,
            price_per_waybill=target.price_per_waybill,
            waybills=cell.waybills,
        )
        book.step(
            "target_margin",
            shown(margin) if margin is not None else "-",
            cell.lane,
            revenue=revenue,
            cost=cost,
            floor_percent=floor_percent,
            clears_floor="yes" if margin is not None and margin >= floor_percent else "no",
            discount_needed=needed,
        )
        priced.append(cell)
    discounts = _price_lanes(book, priced, costs, revenues, floor_percent)
    return book.proposal(REVERSE, discounts=discounts)


def differential(
    profile: VolumeProfile,
    *,
    bands: Sequence[VolumeBand],
    tier: str,
    tier_percent: Mapping[str, Decimal],
    seasons: Sequence[Season] = (),
    cost_rates: Mapping[tuple[str, str], CostRate],
    floor_percent: Decimal | None = None,
) -> Proposal:
    """差别定价: a discount schedule by volume band and tier, and season surcharges.

    The account's monthly waybills (period waybills / months) pick the highest band it
    reaches; its tier adds ``tier_percent[tier]`` points (negative takes some away); the
    discount is the sum, held within 0 and 100. Each season becomes a ``rating.Peak``: a
    percentage of the freight on its dates (a negative one is an off-season reduction).
    """
    _check_floor(floor_percent)
    ordered = sorted(bands, key=lambda b: b.min_waybills)
    if not ordered or ordered[0].min_waybills != 0:
        raise StrategyError("bands_not_from_zero")
    for low, high in zip(ordered, ordered[1:], strict=False):
        if low.min_waybills == high.min_waybills:
            raise StrategyError("repeated_band", min_waybills=low.min_waybills)
    for band in ordered:
        if not ZERO <= band.percent <= HUNDRED:
            raise StrategyError("discount_out_of_range", percent=band.percent)
    if tier not in tier_percent:
        raise StrategyError("unknown_tier", tier=tier)
    dated = sorted(seasons, key=lambda s: s.start)
    for season in dated:
        if season.end < season.start:
            raise StrategyError("season_ends_before_start", season=season.name)
        if season.percent < -HUNDRED:
            raise StrategyError("season_below_minus_100", season=season.name)
    for a, b in zip(dated, dated[1:], strict=False):
        if b.start <= a.end:
            raise StrategyError("seasons_overlap", first=a.name, second=b.name)
    if profile.months <= 0:
        raise StrategyError("no_months")
    book = _Book()
    cells = _cells(profile)
    costs, _, _ = _account_figures(book, cells, cost_rates)
    total = sum(c.waybills for c in cells)
    monthly = Decimal(total) / profile.months
    book.step("monthly_waybills", monthly, waybills=total, months=profile.months)
    band = [b for b in ordered if monthly >= b.min_waybills][-1]
    book.step("volume_band", band.percent, min_waybills=band.min_waybills)
    following = [b for b in ordered if b.min_waybills > band.min_waybills]
    if following:
        book.step(
            "next_band",
            following[0].percent,
            min_waybills=following[0].min_waybills,
            waybills_to_go=Decimal(following[0].min_waybills) - monthly,
        )
    extra = tier_percent[tier]
    book.step("tier_adjustment", extra, tier=tier)
    raw = band.percent + extra
    percent = max(ZERO, min(raw, HUNDRED))
    if percent != raw:
        book.flag("discount_held_in_range", raw=raw)
    book.step("account_discount", percent, band_percent=band.percent, tier_percent=extra)
    peaks = []
    for season in dated:
        peaks.append(Peak(season.start, season.end, season.percent))
        book.step(
            "season",
            season.percent,
            name=season.name,
            start=season.start.isoformat(),
            end=season.end.isoformat(),
        )
    _flag_lanes_below_floor(book, cells, costs, percent, floor_percent)
    return book.proposal(DIFFERENTIAL, discounts=(Discount(percent),), peaks=tuple(peaks))


def _median(values: Sequence[Decimal]) -> Decimal:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def going_rate(
    profile: VolumeProfile,
    *,
    list_rules: Mapping[tuple[str, str], Rule],
    competitors: Sequence[CompetitorRate],
    as_of: dt.date,
    cost_rates: Mapping[tuple[str, str], CostRate],
    stale_after_days: int = 90,
    offset_percent: Decimal = ZERO,
    floor_percent: Decimal | None = None,
) -> Proposal:
    """随行就市: align each product and zone to what competitors charge.

    A competitor's level in a product and zone is the discount its rule amounts to off the
    list rule at the account's own weights: ``(1 - sum(n * competitor(w)) / sum(n *
    list(w))) * 100`` over the zone's weight bands, ``n`` the band's waybills and ``w`` its
    average weight. The going rate is the median of the rates no older than
    ``stale_after_days`` on ``as_of`` (all of them, flagged, when every one is stale);
    ``offset_percent`` more off undercuts it (negative: above it). Rates dated after
    ``as_of`` are left out and flagged. A zone the account ships in with no competitor rate
    is flagged and left at its current price (no discount proposed).
    """
    _check_floor(floor_percent)
    if stale_after_days < 0:
        raise StrategyError("negative_stale_days", days=stale_after_days)
    book = _Book()
    cells = _cells(profile)
    costs = {c.lane: cell_cost(c, cost_rates) for c in cells}
    zones: dict[tuple[str, str], list[VolumeCell]] = {}
    for cell in cells:
        zones.setdefault((cell.product, cell.zone), []).append(cell)
    targets: dict[LaneKey, Decimal] = {}
    priced: list[VolumeCell] = []
    for (product, zone), group in zones.items():
        key: LaneKey = (product, zone, ZERO, None)
        rates = [r for r in competitors if (r.product, r.zone) == (product, zone)]
        if not rates:
            book.flag("no_competitor_rate", key)
            continue
        try:
            rule = list_rules[(product, zone)]
        except KeyError:
            raise StrategyError("no_list_rule", product=product, zone=zone) from None
        list_at = sum((c.waybills * rule.charge(c.average_kg) for c in group), ZERO)
        if list_at <= 0:
            raise StrategyError("no_list_freight", product=product, zone=zone)
        fresh, stale = [], []
        for rate in rates:
            age = (as_of - rate.as_of).days
            if age < 0:
                book.flag("rate_in_future", key, source=rate.source, date=rate.as_of.isoformat())
                continue
            theirs = sum((c.waybills * rate.rule.charge(c.average_kg) for c in group), ZERO)
            level = (1 - theirs / list_at) * HUNDRED
            book.step(
                "competitor_level",
                shown(level),
                key,
                source=rate.source,
                date=rate.as_of.isoformat(),
                age_days=age,
                their_freight=money(theirs),
                list_freight=money(list_at),
            )
            if age > stale_after_days:
                book.flag("stale_rate", key, source=rate.source, age_days=age)
                stale.append(level)
            else:
                fresh.append(level)
        if not fresh and not stale:
            continue
        if not fresh:
            book.flag("all_rates_stale", key, stale_after_days=stale_after_days)
        going = _median(fresh or stale)
        aligned = going + offset_percent
        book.step(
            "going_rate",
            shown(aligned),
            key,
            median=shown(going),
            rates=len(fresh or stale),
            offset_percent=offset_percent,
        )
        for cell in group:
            targets[cell.lane] = money_up(cell.list_freight * (HUNDRED - aligned) / HUNDRED)
            priced.append(cell)
    discounts = _price_lanes(book, priced, costs, targets, floor_percent)
    return book.proposal(GOING_RATE, discounts=discounts)


def sealed_bid(
    lanes: Sequence[TenderLane],
    *,
    zones: ZoneMatrix,
    list_rules: Mapping[tuple[str, str], Rule],
    cost_rates: Mapping[tuple[str, str], CostRate],
    target_margin_percent: Decimal,
    floor_percent: Decimal,
) -> Proposal:
    """投标定价: price each tender lane to a target margin, never below the floor.

    Per lane: cost per waybill from the cost rates at the lane's average weight; price
    ``cost * 100 / (100 - target margin)`` up to the fen, or the floor's price when the
    target is below the floor (flagged); its discount off the list card's price at that
    weight, for the record. A lane whose zone, list rule or cost rate is missing is
    flagged and not priced. The card proposal is, per product and zone, the smallest of
    its lanes' discounts, so every lane is charged at least its bid.
    """
    _check_floor(floor_percent)
    if target_margin_percent >= HUNDRED:
        raise StrategyError("margin_not_below_100", margin=target_margin_percent)
    book = _Book()
    if target_margin_percent < floor_percent:
        book.flag(
            "target_below_floor",
            target_margin_percent=target_margin_percent,
            floor_percent=floor_percent,
        )
    priced: list[BidLane] = []
    for lane in lanes:
        ref = lane.ref
        if lane.annual_waybills <= 0 or lane.weight_kg <= 0:
            book.flag("no_volume", ref)
            continue
        try:
            zone = zones.zone(lane.origin, lane.destination)
        except RatingError:
            book.flag("no_zone", ref, origin=lane.origin, destination=lane.destination)
            continue
        rule, rate = list_rules.get((lane.product, zone)), cost_rates.get((lane.product, zone))
        if rule is None or rate is None:
            book.flag("no_list_rule" if rule is None else "no_cost_rate", ref, zone=zone)
            continue
        list_price = rule.charge(lane.weight_kg)
        if list_price <= 0:
            book.flag("no_list_rule", ref, zone=zone)
            continue
        cost = rate.cost(lane.weight_kg)
        target = revenue_for_margin(cost, target_margin_percent)
        floor = revenue_for_margin(cost, floor_percent)
        price = max(target, floor)
        discount = shown((1 - price / list_price) * HUNDRED)
        margin = margin_percent(price, cost) if price > 0 else ZERO
        bid = BidLane(
            lane,
            zone,
            cost,
            list_price,
            price,
            discount,
            shown(margin),
            price * lane.annual_waybills,
            at_floor=price > target,
        )
        priced.append(bid)
        book.step(
            "bid_price",
            price,
            ref,
            zone=zone,
            cost=cost,
            target_margin_percent=target_margin_percent,
            floor_price=floor,
            list_price=list_price,
            discount_percent=discount,
            margin_percent=bid.margin_percent,
            annual_revenue=bid.annual_revenue,
        )
        if bid.at_floor:
            book.flag("held_at_floor", ref, target=target, floor_revenue=floor)
        if price > list_price:
            book.flag("above_list", ref, price=price, list_price=list_price)
    smallest: dict[tuple[str, str], Decimal] = {}
    for bid in priced:
        exact = (1 - bid.price / bid.list_price) * HUNDRED
        exact = min(exact.quantize(_PERCENT_SHOWN, rounding=ROUND_FLOOR), HUNDRED)
        key = (bid.lane.product, bid.zone)
        smallest[key] = min(smallest.get(key, exact), exact)
    total = sum((b.annual_revenue for b in priced), ZERO)
    book.step("bid_total", total, lanes=len(priced), flagged_lanes=len(lanes) - len(priced))
    discounts = tuple(Discount(p, product, zone) for (product, zone), p in smallest.items())
    return book.proposal(SEALED_BID, discounts=discounts, lanes=tuple(priced))
