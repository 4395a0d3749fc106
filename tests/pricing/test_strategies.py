"""The seven strategies on a small account whose figures are worked out by hand below."""

import datetime as dt
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kam.pricing import strategies as s
from kam.pricing.rating import (
    Card,
    CostRate,
    Discount,
    FirstAdditional,
    Peak,
    Waybill,
    ZoneMatrix,
    price_waybill,
)

SHENZHEN, SHANGHAI, URUMQI = "440300", "310100", "650100"
ZONES = ZoneMatrix({("440000", "310000"): "z2"})
LIST_RULE = FirstAdditional(D("1"), D("12"), D("1"), D("4"))
RATES = {("express", "z2"): CostRate(D("3"), D("2"))}

# Light: 100 waybills of 0.6 kg, list 12 each; the ledger's cost 700.
LIGHT = s.VolumeCell("express", "z2", D("0"), D("1"), 100, D("60"), D("1200"), D("1080"), D("700"))
# Heavy: 50 waybills of 3 kg, list 12 + 2 x 4 = 20 each; no ledger cost, so the cost rates:
# 50 x 3 + 150 kg x 2 = 450.
HEAVY = s.VolumeCell("express", "z2", D("1"), None, 50, D("150"), D("1000"), D("900"))
PROFILE = s.VolumeProfile((LIGHT, HEAVY), months=12)


def discount_of(proposal, cell):
    [d] = [d for d in proposal.discounts if (d.product, d.zone, d.from_kg, d.to_kg) == cell.lane]
    return d.percent


def codes(proposal):
    return [(f.code, f.lane) for f in proposal.warnings]


# --- shared arithmetic --------------------------------------------------------------------


def test_discount_takes_the_decimals_it_needs_to_land_within_a_fen():
    # 1 - 875/1200 = 27.0833...%: 27.08 charges 875.04, 27.083 charges 875.004 -> 875.00.
    assert s.discount_for(D("1200"), D("875")) == D("27.083")
    assert s.discount_for(D("1000"), D("540")) == D("46.00")
    assert s.discount_for(D("100"), D("120")) == D("-20.00")  # a premium
    assert s.discount_for(D("100"), D("0")) == D("100.00")


def test_discount_refuses_no_list_and_a_negative_price():
    with pytest.raises(s.StrategyError) as no_list:
        s.discount_for(D("0"), D("10"))
    assert no_list.value.code == "no_list_freight"
    with pytest.raises(s.StrategyError) as negative:
        s.discount_for(D("100"), D("-1"))
    assert negative.value.code == "negative_price"


@settings(max_examples=200, deadline=None)
@given(
    list_fen=st.integers(min_value=1, max_value=10**12),
    share=st.decimals(min_value=0, max_value=3, places=6),
)
def test_discount_charges_the_target_to_the_fen(list_fen, share):
    list_freight = D(list_fen) / 100
    target = list_freight * share
    percent = s.discount_for(list_freight, target)
    assert s.revenue_at(list_freight, percent) == s.money_up(target)
    assert percent <= 100
    # One step less in the last decimal would charge less than the target: the discount is
    # the largest at its precision that still charges it.
    places = -percent.as_tuple().exponent
    assert s.revenue_at(list_freight, percent + D(1).scaleb(-places)) <= s.money_up(target)


def test_cost_comes_from_the_ledger_else_the_cost_rates():
    assert s.cell_cost(LIGHT, RATES) == D("700")
    assert s.cell_cost(HEAVY, RATES) == D("450.00")
    with pytest.raises(s.StrategyError) as err:
        s.cell_cost(HEAVY, {})
    assert (err.value.code, err.value.params) == (
        "no_cost_rate",
        {"product": "express", "zone": "z2"},
    )


def test_a_profile_without_waybills_is_refused():
    empty = s.VolumeProfile((s.VolumeCell("express", "z2", D(0), None, 0, D(0), D(0), D(0)),))
    with pytest.raises(s.StrategyError) as err:
        s.cost_plus(empty, markup_percent=D("10"), cost_rates=RATES)
    assert err.value.code == "no_volume"


def test_a_proposal_charges_real_waybills_what_its_workings_say():
    """A profile summed from waybills priced by the rating contract, then the proposal's
    discounts applied to each waybill: the freight adds up to the target within half a fen a
    waybill (each waybill is rounded on its own)."""
    card = Card(ZONES, {("express", "z2"): LIST_RULE})
    bills = [
        Waybill(dt.date(2026, 5, d), SHENZHEN, SHANGHAI, "express", D(kg))
        for d, kg in enumerate(["0.3", "0.7", "0.95", "1.2", "2.5", "3.001", "7"], start=1)
    ]
    cells = []
    for lo, hi in ((D(0), D(1)), (D(1), None)):
        band = [b for b in bills if b.weight_kg >= lo and (hi is None or b.weight_kg < hi)]
        listed = sum(price_waybill(card, b).list_freight for b in band)
        cells.append(
            s.VolumeCell("express", "z2", lo, hi, len(band), sum(b.weight_kg for b in band),
                         listed, listed, None)
        )  # fmt: skip
    proposal = s.cost_plus(
        s.VolumeProfile(tuple(cells)), markup_percent=D("12.5"), cost_rates=RATES
    )
    offered = Card(ZONES, card.rules, proposal.discounts)
    for cell in cells:
        band = [
            b
            for b in bills
            if b.weight_kg >= cell.from_kg and (cell.to_kg is None or b.weight_kg < cell.to_kg)
        ]
        charged = sum(price_waybill(offered, b).freight for b in band)
        target = s.money_up(s.cell_cost(cell, RATES) * D("1.125"))
        assert abs(charged - target) <= D("0.005") * len(band) + D("0.01")


# --- cost-plus ----------------------------------------------------------------------------


def test_cost_plus_prices_each_lane_at_cost_times_one_plus_markup():
    proposal = s.cost_plus(PROFILE, markup_percent=D("20"), cost_rates=RATES)
    # light: 700 x 1.2 = 840 of 1200 list -> 30 % off; heavy: 450 x 1.2 = 540 of 1000 -> 46 %.
    assert discount_of(proposal, LIGHT) == D("30.00")
    assert discount_of(proposal, HEAVY) == D("46.00")
    assert proposal.strategy == "cost_plus"
    assert proposal.warnings == ()
    first = proposal.workings[0]
    assert (first.label, first.result, first.figures["cost_source"]) == (
        "cost_plus_price",
        D("840.00"),
        "ledger",
    )
    assert proposal.workings[1].figures["cost_source"] == "cost_rates"
    lane_steps = [w for w in proposal.workings if w.label == "lane_discount"]
    assert [w.figures["margin_percent"] for w in lane_steps] == [D("16.67"), D("16.67")]


def test_cost_plus_holds_a_lane_at_the_floor_and_says_so():
    proposal = s.cost_plus(PROFILE, markup_percent=D("20"), cost_rates=RATES, floor_percent=D("20"))
    # 20 % markup is a 16.67 % margin; the 20 % floor needs 700 / 0.8 = 875 and 450 / 0.8 = 562.50.
    assert discount_of(proposal, LIGHT) == D("27.083")
    assert discount_of(proposal, HEAVY) == D("43.75")
    assert codes(proposal) == [("held_at_floor", LIGHT.lane), ("held_at_floor", HEAVY.lane)]
    assert proposal.warnings[0].params["floor_revenue"] == D("875.00")


def test_cost_plus_above_the_list_is_a_negative_discount_and_flagged():
    dear = s.VolumeCell("express", "z2", D(0), None, 10, D(10), D("100"), D("100"), D("100"))
    proposal = s.cost_plus(s.VolumeProfile((dear,)), markup_percent=D("50"), cost_rates=RATES)
    assert discount_of(proposal, dear) == D("-50.00")
    assert codes(proposal) == [("above_list", dear.lane)]


def test_cost_plus_refuses_a_negative_markup_and_a_floor_of_100():
    with pytest.raises(s.StrategyError) as markup:
        s.cost_plus(PROFILE, markup_percent=D("-1"), cost_rates=RATES)
    assert markup.value.code == "negative_markup"
    with pytest.raises(s.StrategyError) as floor:
        s.cost_plus(PROFILE, markup_percent=D("1"), cost_rates=RATES, floor_percent=D("100"))
    assert floor.value.code == "margin_not_below_100"


cells = st.builds(
    s.VolumeCell,
    product=st.just("express"),
    zone=st.sampled_from(["z1", "z2", "z3"]),
    from_kg=st.just(D(0)),
    to_kg=st.none(),
    waybills=st.integers(min_value=1, max_value=100_000),
    weight_kg=st.decimals(min_value=1, max_value=10**6, places=3),
    list_freight=st.decimals(min_value="0.01", max_value=10**8, places=2),
    revenue=st.decimals(min_value=0, max_value=10**8, places=2),
    cost=st.one_of(st.none(), st.decimals(min_value=0, max_value=10**8, places=2)),
)
any_rates = {
    ("express", z): CostRate(D("1.5"), D("0.8")) for z in ("z1", "z2", "z3")
}  # fmt: skip


def unique_lanes(values):
    return list({c.lane: c for c in values}.values())


@settings(max_examples=100, deadline=None)
@given(st.lists(cells, min_size=1, max_size=3).map(unique_lanes), st.decimals(0, 200, places=2))
def test_cost_plus_never_prices_a_lane_below_cost(values, markup):
    proposal = s.cost_plus(
        s.VolumeProfile(tuple(values)), markup_percent=markup, cost_rates=any_rates
    )
    for cell in values:
        revenue = s.revenue_at(cell.list_freight, discount_of(proposal, cell))
        cost = s.cell_cost(cell, any_rates)
        assert revenue >= cost
        assert revenue >= cost * (100 + markup) / 100
        assert discount_of(proposal, cell) <= 100


# --- target profit ------------------------------------------------------------------------


def test_target_profit_solves_one_discount_for_the_account():
    proposal = s.target_profit(PROFILE, target_margin_percent=D("25"), cost_rates=RATES)
    # cost 700 + 450 = 1150; revenue for 25 %: 1150 / 0.75 = 1533.34 (up); list 2200;
    # 1 - 1533.34 / 2200 = 30.30272...%: 30.3027 charges 1533.34.
    assert proposal.discounts == (Discount(D("30.3027")),)
    steps = {w.label: w for w in proposal.workings}
    assert steps["account_volume"].figures["cost"] == D("1150.00")
    assert steps["required_revenue"].result == D("1533.34")
    assert steps["margin_reached"].result == D("25.00")


def test_target_profit_refuses_a_margin_of_100_or_more():
    with pytest.raises(s.StrategyError) as err:
        s.target_profit(PROFILE, target_margin_percent=D("100"), cost_rates=RATES)
    assert (err.value.code, err.value.params) == ("margin_not_below_100", {"margin": D("100")})


def test_target_profit_flags_the_lanes_it_takes_below_the_floor():
    proposal = s.target_profit(
        PROFILE, target_margin_percent=D("25"), cost_rates=RATES, floor_percent=D("30")
    )
    # light: 1200 x 69.6973 % = 836.37 against cost 700: 16.30 %; heavy 696.97 vs 450: 35.43 %.
    assert codes(proposal) == [("below_floor", LIGHT.lane)]
    assert proposal.warnings[0].params["margin_percent"] == D("16.30")


@settings(max_examples=100, deadline=None)
@given(st.lists(cells, min_size=1, max_size=3).map(unique_lanes), st.decimals(-50, 95, places=2))
def test_target_profit_reaches_the_target_margin_within_a_fen(values, margin):
    proposal = s.target_profit(
        s.VolumeProfile(tuple(values)), target_margin_percent=margin, cost_rates=any_rates
    )
    [discount] = proposal.discounts
    list_total = sum(c.list_freight for c in values)
    cost = sum(s.cell_cost(c, any_rates) for c in values)
    required = cost * 100 / (100 - margin)
    revenue = s.revenue_at(list_total, discount.percent)
    assert required <= revenue < required + D("0.01")
    if revenue > 0:
        assert (revenue - cost) * 100 >= margin * revenue
    assert discount.percent <= 100


# --- perceived value ----------------------------------------------------------------------

WEIGHTS = s.ValueWeights(
    market_on_time_percent=D("95"),
    market_claims_percent=D("0.10"),
    on_time_weight=D("1.5"),
    claims_weight=D("20"),
    cap_percent=D("10"),
)


def test_perceived_value_turns_better_service_into_less_discount():
    service = s.ServiceAttributes(D("97"), D("0.05"), "A")
    proposal = s.perceived_value(PROFILE, service=service, weights=WEIGHTS, cost_rates=RATES)
    # today 1980 of 2200 list = 10 % off; on time +2 points x 1.5 = 3, claims 0.05 below the
    # market x 20 = 1: 4 points of premium -> 6 % off.
    assert proposal.discounts == (Discount(D("6.00")),)
    steps = {w.label: w.result for w in proposal.workings}
    assert steps["current_discount"] == D("10.00")
    assert (steps["on_time_value"], steps["claims_value"]) == (D("3.0"), D("1.00"))
    assert steps["value_adjustment"] == D("4.00")


def test_perceived_value_worse_service_deepens_the_discount_up_to_the_cap():
    service = s.ServiceAttributes(D("85"), D("0.50"), "C")
    proposal = s.perceived_value(
        PROFILE, service=service, weights=WEIGHTS, cost_rates=RATES, base_discount_percent=D("5")
    )
    # -10 x 1.5 - 0.4 x 20 = -23, capped at -10: 5 + 10 = 15 % off.
    assert proposal.discounts == (Discount(D("15")),)
    assert codes(proposal) == [("value_capped", None)]


# --- reverse pricing ----------------------------------------------------------------------


def test_reverse_shows_the_margin_and_holds_a_target_below_the_floor():
    targets = [
        s.TargetPrice("express", "z2", D("0"), D("1"), D("7.50")),
        s.TargetPrice("express", "z2", D("1"), None, D("12")),
        s.TargetPrice("cold", "z2", D("0"), None, D("30")),
    ]
    proposal = s.reverse(PROFILE, targets=targets, cost_rates=RATES, floor_percent=D("10"))
    margins = [w for w in proposal.workings if w.label == "target_margin"]
    # light: 7.50 x 100 = 750 against 700: 6.67 %, under 10 %, needs 37.5 % off;
    # heavy: 12 x 50 = 600 against 450: 25 %, clears, 40 % off.
    assert [
        (m.result, m.figures["clears_floor"], m.figures["discount_needed"]) for m in margins
    ] == [
        (D("6.67"), "no", D("37.50")),
        (D("25.00"), "yes", D("40.00")),
    ]
    # light held at 700 / 0.9 = 777.78: 1 - 777.78 / 1200 = 35.185 %.
    assert discount_of(proposal, LIGHT) == D("35.185")
    assert discount_of(proposal, HEAVY) == D("40.00")
    assert codes(proposal) == [
        ("no_volume", ("cold", "z2", D("0"), None)),
        ("held_at_floor", LIGHT.lane),
    ]


def test_reverse_refuses_a_negative_target_and_a_lane_twice():
    with pytest.raises(s.StrategyError) as negative:
        s.reverse(
            PROFILE,
            targets=[s.TargetPrice("express", "z2", D("0"), D("1"), D("-1"))],
            cost_rates=RATES,
            floor_percent=D("10"),
        )
    assert negative.value.code == "negative_price"
    twice = [s.TargetPrice("express", "z2", D("0"), D("1"), D("9"))] * 2
    with pytest.raises(s.StrategyError) as repeated:
        s.reverse(PROFILE, targets=twice, cost_rates=RATES, floor_percent=D("10"))
    assert repeated.value.code == "repeated_lane"


# --- differential -------------------------------------------------------------------------

BANDS = [s.VolumeBand(0, D("5")), s.VolumeBand(10, D("8")), s.VolumeBand(100, D("12"))]
TIERS = {"A": D("2"), "B": D("0"), "C": D("-10")}
SINGLES = s.Season("11.11", dt.date(2026, 11, 1), dt.date(2026, 11, 30), D("5"))


def test_differential_picks_the_volume_band_adds_the_tier_and_the_seasons():
    proposal = s.differential(
        PROFILE, bands=BANDS, tier="A", tier_percent=TIERS, seasons=[SINGLES], cost_rates=RATES
    )
    # 150 waybills / 12 months = 12.5 a month: the 10+ band (8 %), tier A +2 -> 10 %.
    assert proposal.discounts == (Discount(D("10")),)
    assert proposal.peaks == (Peak(dt.date(2026, 11, 1), dt.date(2026, 11, 30), D("5")),)
    steps = {w.label: w for w in proposal.workings}
    assert steps["monthly_waybills"].result == D("12.5")
    assert steps["next_band"].figures["waybills_to_go"] == D("87.5")


def test_differential_holds_the_discount_at_zero_and_refuses_bad_schedules():
    proposal = s.differential(PROFILE, bands=BANDS, tier="C", tier_percent=TIERS, cost_rates=RATES)
    assert proposal.discounts == (Discount(D("0")),)
    assert codes(proposal) == [("discount_held_in_range", None)]
    bad = {
        "bands_not_from_zero": dict(bands=[s.VolumeBand(5, D("5"))]),
        "repeated_band": dict(bands=[s.VolumeBand(0, D("5")), s.VolumeBand(0, D("6"))]),
        "discount_out_of_range": dict(bands=[s.VolumeBand(0, D("101"))]),
        "unknown_tier": dict(tier="Z"),
        "seasons_overlap": dict(
            seasons=[SINGLES, s.Season("x", dt.date(2026, 11, 30), dt.date(2026, 12, 12), D("3"))]
        ),
        "season_ends_before_start": dict(
            seasons=[s.Season("x", dt.date(2026, 12, 2), dt.date(2026, 12, 1), D("3"))]
        ),
    }
    for code, change in bad.items():
        args = dict(bands=BANDS, tier="A", tier_percent=TIERS, cost_rates=RATES) | change
        with pytest.raises(s.StrategyError) as err:
            s.differential(PROFILE, **args)
        assert err.value.code == code


def test_a_differential_proposal_prices_waybills_through_the_rating_contract():
    proposal = s.differential(
        PROFILE, bands=BANDS, tier="A", tier_percent=TIERS, seasons=[SINGLES], cost_rates=RATES
    )
    from kam.pricing.rating import Surcharges

    card = Card(
        ZONES,
        {("express", "z2"): LIST_RULE},
        proposal.discounts,
        Surcharges(peaks=proposal.peaks),
    )
    price = price_waybill(
        card, Waybill(dt.date(2026, 11, 11), SHENZHEN, SHANGHAI, "express", D("3"))
    )
    # list 20, 10 % off = 18.00, peak 5 % = 0.90.
    assert (price.freight, price.peak) == (D("18.00"), D("0.90"))


# --- going rate ---------------------------------------------------------------------------

AS_OF = dt.date(2026, 6, 30)


def competitor(first, step, day, source):
    return s.CompetitorRate(
        "express", "z2", FirstAdditional(D(1), D(first), D(1), D(step)), day, source
    )


def test_going_rate_aligns_to_the_median_of_fresh_rates_and_notes_stale_ones():
    rates = [
        competitor("10", "3", dt.date(2026, 6, 1), "SF quote"),
        competitor("11", "4", dt.date(2026, 5, 1), "ZTO tender"),
        competitor("6", "1", dt.date(2025, 6, 1), "old flyer"),
    ]
    proposal = s.going_rate(
        PROFILE, list_rules={("express", "z2"): LIST_RULE}, competitors=rates, as_of=AS_OF,
        cost_rates=RATES,
    )  # fmt: skip
    levels = [w for w in proposal.workings if w.label == "competitor_level"]
    # At the account's weights: list 100 x 12 + 50 x 20 = 2200. SF 100 x 10 + 50 x 16 = 1800
    # (18.18 %), ZTO 100 x 11 + 50 x 19 = 2050 (6.82 %), the flyer 600 + 400 (54.55 %).
    assert [(w.result, w.figures["age_days"]) for w in levels] == [
        (D("18.18"), 29),
        (D("6.82"), 60),
        (D("54.55"), 394),
    ]
    [going] = [w for w in proposal.workings if w.label == "going_rate"]
    assert going.result == D("12.50")  # the median of 18.18... and 6.81...: (400/2200)/2 + ...
    assert codes(proposal) == [("stale_rate", ("express", "z2", D(0), None))]
    assert proposal.warnings[0].params["age_days"] == 394
    # Each lane charged its list less the going rate, to within a fen.
    for cell in PROFILE.cells:
        revenue = s.revenue_at(cell.list_freight, discount_of(proposal, cell))
        assert abs(revenue - cell.list_freight * D("0.875")) <= D("0.01")


def test_going_rate_with_only_stale_rates_uses_them_and_says_so():
    proposal = s.going_rate(
        PROFILE,
        list_rules={("express", "z2"): LIST_RULE},
        competitors=[competitor("10", "3", dt.date(2025, 1, 1), "old")],
        as_of=AS_OF,
        cost_rates=RATES,
        floor_percent=D("30"),
    )
    flagged = [code for code, _ in codes(proposal)]
    assert flagged[:2] == ["stale_rate", "all_rates_stale"]
    # 18.18 % off leaves the light lane at 981.82 against 700 (28.7 %), under 30 %: floor 1000.
    assert ("held_at_floor", LIGHT.lane) in codes(proposal)
    assert s.revenue_at(LIGHT.list_freight, discount_of(proposal, LIGHT)) == D("1000.00")


def test_going_rate_flags_a_zone_without_rates_and_a_rate_from_the_future():
    other = s.VolumeCell("express", "z9", D(0), None, 5, D(5), D("60"), D("60"), D("30"))
    proposal = s.going_rate(
        s.VolumeProfile((LIGHT, HEAVY, other)),
        list_rules={("express", "z2"): LIST_RULE},
        competitors=[competitor("10", "3", dt.date(2026, 7, 1), "tomorrow")],
        as_of=AS_OF,
        cost_rates=RATES,
    )
    assert codes(proposal) == [
        ("rate_in_future", ("express", "z2", D(0), None)),
        ("no_competitor_rate", ("express", "z9", D(0), None)),
    ]
    assert proposal.discounts == ()


# --- sealed bid ---------------------------------------------------------------------------


def tender(ref, origin, destination, waybills, kg):
    return s.TenderLane(ref, origin, destination, "express", waybills, D(kg))


def bid(lanes, target="20", floor="10"):
    return s.sealed_bid(
        lanes,
        zones=ZONES,
        list_rules={("express", "z2"): LIST_RULE},
        cost_rates=RATES,
        target_margin_percent=D(target),
        floor_percent=D(floor),
    )


def test_sealed_bid_prices_each_lane_to_the_target_margin():
    proposal = bid([tender("L1", SHENZHEN, SHANGHAI, 1000, "2.5")])
    [lane] = proposal.lanes
    # cost 3 + 2 x 2.5 = 8; 8 / 0.8 = 10.00; list 12 + 2 x 4 = 20 -> 50 % off.
    assert (lane.zone, lane.cost, lane.price, lane.list_price) == (
        "z2",
        D("8.00"),
        D("10.00"),
        D("20"),
    )
    assert (lane.discount_percent, lane.margin_percent) == (D("50.00"), D("20.00"))
    assert lane.annual_revenue == D("10000.00")
    assert proposal.discounts == (Discount(D("50.00"), "express", "z2"),)
    assert proposal.warnings == ()


def test_sealed_bid_keeps_to_the_floor_and_flags_what_it_cannot_price():
    proposal = bid(
        [tender("L1", SHENZHEN, SHANGHAI, 1000, "2.5"), tender("L2", SHANGHAI, URUMQI, 10, "1")],
        target="5",
    )
    [lane] = proposal.lanes
    assert (lane.price, lane.at_floor) == (D("8.89"), True)  # 8 / 0.9 = 8.888... up
    assert [code for code, _ in codes(proposal)] == [
        "target_below_floor",
        "held_at_floor",
        "no_zone",
    ]
    assert proposal.warnings[2].lane == "L2"


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.builds(
            tender,
            ref=st.text(min_size=1, max_size=4),
            origin=st.sampled_from([SHENZHEN, SHANGHAI]),
            destination=st.sampled_from([SHANGHAI, URUMQI]),
            waybills=st.integers(min_value=0, max_value=10**6),
            kg=st.decimals(min_value="0.001", max_value=500, places=3).map(str),
        ),
        max_size=5,
    ),
    st.decimals(min_value=-20, max_value=60, places=1),
    st.decimals(min_value=0, max_value=40, places=1),
)
def test_sealed_bid_lanes_all_clear_the_floor_or_are_flagged(lanes, target, floor):
    proposal = bid(lanes, str(target), str(floor))
    flagged = {f.lane for f in proposal.warnings}
    for lane in proposal.lanes:
        assert (lane.price - lane.cost) * 100 >= floor * lane.price
        assert lane.price >= 0
    priced = {b.lane.ref for b in proposal.lanes}
    assert all(lane.ref in priced or lane.ref in flagged for lane in lanes)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(cells, min_size=1, max_size=3).map(unique_lanes),
    st.lists(st.decimals(min_value=0, max_value=500, places=2), min_size=3, max_size=3),
    st.decimals(min_value=-10, max_value=60, places=1),
)
def test_lane_by_lane_strategies_never_go_below_the_floor(values, prices, floor):
    profile = s.VolumeProfile(tuple(values))
    targets = [
        s.TargetPrice(c.product, c.zone, c.from_kg, c.to_kg, price)
        for c, price in zip(values, prices, strict=False)
    ]
    rates = [
        s.CompetitorRate("express", z, FirstAdditional(D(1), p, D(1), p / 2), AS_OF, "seen")
        for z, p in zip(("z1", "z2", "z3"), prices, strict=True)
    ]
    lists = {("express", z): LIST_RULE for z in ("z1", "z2", "z3")}
    proposals = [
        s.reverse(profile, targets=targets, cost_rates=any_rates, floor_percent=floor),
        s.going_rate(profile, list_rules=lists, competitors=rates, as_of=AS_OF,
                     cost_rates=any_rates, floor_percent=floor),
        s.cost_plus(profile, markup_percent=D(0), cost_rates=any_rates, floor_percent=floor),
    ]  # fmt: skip
    for proposal in proposals:
        for discount in proposal.discounts:
            [cell] = [
                c
                for c in values
                if c.lane == (discount.product, discount.zone, discount.from_kg, discount.to_kg)
            ]
            revenue = s.revenue_at(cell.list_freight, discount.percent)
            assert revenue >= s.revenue_for_margin(s.cell_cost(cell, any_rates), floor)
            assert revenue >= 0 and discount.percent <= 100


# --- the workings in words ----------------------------------------------------------------


def every_proposal():
    targets = [
        s.TargetPrice("express", "z2", D("0"), D("1"), D("7.50")),
        s.TargetPrice("cold", "z2", D("0"), None, D("30")),
    ]
    rates = [
        competitor("10", "3", dt.date(2026, 6, 1), "SF quote"),
        competitor("6", "1", dt.date(2025, 6, 1), "old flyer"),
        competitor("6", "1", dt.date(2026, 7, 1), "tomorrow"),
    ]
    other = s.VolumeCell("express", "z9", D(0), None, 5, D(5), D("60"), D("60"), D("30"))
    dear = s.VolumeCell("express", "z2", D(0), None, 10, D(10), D("100"), D("100"), D("100"))
    return [
        s.cost_plus(PROFILE, markup_percent=D("20"), cost_rates=RATES, floor_percent=D("20")),
        s.cost_plus(s.VolumeProfile((dear,)), markup_percent=D("50"), cost_rates=RATES),
        s.target_profit(PROFILE, target_margin_percent=D("25"), cost_rates=RATES, floor_percent=D("30")),
        s.perceived_value(PROFILE, service=s.ServiceAttributes(D("85"), D("0.5")), weights=WEIGHTS, cost_rates=RATES),
        s.reverse(PROFILE, targets=targets, cost_rates=RATES, floor_percent=D("10")),
        s.differential(PROFILE, bands=BANDS, tier="C", tier_percent=TIERS, seasons=[SINGLES], cost_rates=RATES, floor_percent=D("50")),
        s.going_rate(s.VolumeProfile((LIGHT, HEAVY, other)), list_rules={("express", "z2"): LIST_RULE}, competitors=rates, as_of=AS_OF, cost_rates=RATES),
        s.going_rate(PROFILE, list_rules={("express", "z2"): LIST_RULE}, competitors=rates[1:2], as_of=AS_OF, cost_rates=RATES),
        bid([tender("L1", SHENZHEN, SHANGHAI, 1000, "2.5"), tender("L2", SHANGHAI, URUMQI, 1, "1"), tender("L3", SHENZHEN, SHANGHAI, 1, "90")], target="5"),
    ]  # fmt: skip


def test_every_step_and_warning_reads_as_a_sentence_with_its_figures():
    seen = set()
    for proposal in every_proposal():
        for step in proposal.workings:
            text = s.step_text(step)
            assert step.label in s.STEP_TEXTS and "?" not in text and "%(" not in text, text
            assert str(step.result) in text
            seen.add(step.label)
        for flag in proposal.warnings:
            text = s.flag_text(flag)
            assert flag.code in s.FLAG_TEXTS and "?" not in text and "%(" not in text, text
            seen.add(flag.code)
    assert set(s.STEP_TEXTS) <= seen
    assert set(s.FLAG_TEXTS) - seen == {"no_list_rule", "no_cost_rate"}
    step = s.Step("cost_plus_price", {"cost": D("700"), "markup_percent": D("20")}, D("840.00"))
    assert s.step_text(step) == "Cost 700 x (1 + 20 %) = 840.00."


def test_a_refusal_reads_as_a_sentence():
    with pytest.raises(s.StrategyError) as err:
        s.cost_plus(PROFILE, markup_percent=D("-3"), cost_rates=RATES)
    assert s.error_text(err.value) == "A markup must not be negative (-3 %)."
    assert all("%(" not in s.error_text(s.StrategyError(code)) for code in s.ERROR_TEXTS)
