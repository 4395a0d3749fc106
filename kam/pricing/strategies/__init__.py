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

The package, by concern: ``base`` (the inputs, outputs and arithmetic every strategy
shares), ``texts`` (the English texts of the workings, warnings and refusals),
``lanes`` (cost-plus and reverse pricing, lane by lane), ``account`` (target profit,
perceived value and differential: one discount for the account), ``market`` (going rate)
and ``tender`` (sealed bid). Callers import the package: every public name is here.
"""

from .account import differential, perceived_value, target_profit
from .base import (
    COST_PLUS,
    DIFFERENTIAL,
    GOING_RATE,
    PERCEIVED_VALUE,
    REVERSE,
    SEALED_BID,
    STRATEGIES,
    TARGET_PROFIT,
    BidLane,
    CompetitorRate,
    Figure,
    Flag,
    LaneKey,
    Proposal,
    Season,
    ServiceAttributes,
    Step,
    StrategyError,
    TargetPrice,
    TenderLane,
    ValueWeights,
    VolumeBand,
    VolumeCell,
    VolumeProfile,
    Where,
    cell_cost,
    discount_for,
    margin_percent,
    margin_shown,
    money_up,
    revenue_at,
    revenue_for_margin,
    shown,
)
from .lanes import cost_plus, reverse
from .market import going_rate
from .tender import sealed_bid
from .texts import (
    ERROR_TEXTS,
    FLAG_TEXTS,
    STEP_TEXTS,
    error_text,
    flag_text,
    gettext_noop,
    step_text,
)

__all__ = [
    "COST_PLUS",
    "DIFFERENTIAL",
    "ERROR_TEXTS",
    "FLAG_TEXTS",
    "GOING_RATE",
    "PERCEIVED_VALUE",
    "REVERSE",
    "SEALED_BID",
    "STEP_TEXTS",
    "STRATEGIES",
    "TARGET_PROFIT",
    "BidLane",
    "CompetitorRate",
    "Figure",
    "Flag",
    "LaneKey",
    "Proposal",
    "Season",
    "ServiceAttributes",
    "Step",
    "StrategyError",
    "TargetPrice",
    "TenderLane",
    "ValueWeights",
    "VolumeBand",
    "VolumeCell",
    "VolumeProfile",
    "Where",
    "cell_cost",
    "cost_plus",
    "differential",
    "discount_for",
    "error_text",
    "flag_text",
    "gettext_noop",
    "going_rate",
    "margin_percent",
    "margin_shown",
    "money_up",
    "perceived_value",
    "revenue_at",
    "revenue_for_margin",
    "reverse",
    "sealed_bid",
    "shown",
    "step_text",
    "target_profit",
]
