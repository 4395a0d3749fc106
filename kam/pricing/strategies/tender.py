"""Sealed-bid pricing (投标定价): a tender's lanes priced to a target margin."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_FLOOR, Decimal

from ..rating import HUNDRED, ZERO, CostRate, Discount, RatingError, Rule, ZoneMatrix
from .base import (
    _PERCENT_SHOWN,
    SEALED_BID,
    BidLane,
    Proposal,
    StrategyError,
    TenderLane,
    _Book,
    _check_floor,
    margin_percent,
    revenue_for_margin,
    shown,
)


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
