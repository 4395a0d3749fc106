"""The strategies that price lane by lane from a cost or a customer's price: cost-plus
(成本加成) and reverse pricing (反向定价)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from ..rating import HUNDRED, CostRate, money
from .base import (
    COST_PLUS,
    REVERSE,
    LaneKey,
    Proposal,
    StrategyError,
    TargetPrice,
    VolumeCell,
    VolumeProfile,
    _Book,
    _cells,
    _check_floor,
    _price_lanes,
    cell_cost,
    discount_for,
    margin_percent,
    money_up,
    shown,
)


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
