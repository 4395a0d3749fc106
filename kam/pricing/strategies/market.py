"""Going-rate pricing (随行就市): each product and zone aligned to competitors' rates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

from ..rating import HUNDRED, ZERO, CostRate, Rule, money
from .base import (
    GOING_RATE,
    CompetitorRate,
    LaneKey,
    Proposal,
    StrategyError,
    VolumeCell,
    VolumeProfile,
    _Book,
    _cells,
    _check_floor,
    _price_lanes,
    cell_cost,
    money_up,
    shown,
)


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
