"""The strategies that propose one discount for the whole account: target profit (目标利润),
perceived value (感受价值) and differential pricing (差别定价)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from ..rating import HUNDRED, ZERO, CostRate, Discount, Peak
from .base import (
    DIFFERENTIAL,
    PERCEIVED_VALUE,
    TARGET_PROFIT,
    Proposal,
    Season,
    ServiceAttributes,
    StrategyError,
    ValueWeights,
    VolumeBand,
    VolumeProfile,
    _account_figures,
    _Book,
    _cells,
    _check_floor,
    _flag_lanes_below_floor,
    discount_for,
    margin_shown,
    revenue_at,
    revenue_for_margin,
)


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
