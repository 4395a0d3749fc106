"""The what-if in DuckDB against the reference rating, waybill by waybill and in total.

Small lakes are written as Parquet in ``tmp_path`` (the lake's column types) and read
through a DuckDB view, as the ledger's ``waybills`` view reads the lake. No Django.
"""

import datetime as dt
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kam.pricing.rating import (
    PRODUCTS,
    Band,
    Card,
    CostRate,
    Discount,
    FirstAdditional,
    FuelRule,
    Peak,
    RatingError,
    Surcharges,
    Waybill,
    WeightBreaks,
    ZoneMatrix,
    estimated_cost,
    money,
    price_waybill,
)
from kam.pricing.reprice import OTHERS, RepriceError, reprice_waybills, what_if

SHENZHEN, GUANGZHOU, SHANGHAI, BEIJING, URUMQI = "440300", "440100", "310100", "110100", "650100"
ZONES = ZoneMatrix(
    {
        ("440000", "310000"): "z2",
        ("440000", "110000"): "z3",
        ("440000", "650000"): "remote",
        ("310000", "440000"): "z2",
    }
)
PARCEL = FirstAdditional(D("1"), D("12"), D("0.5"), D("3"))
HEAVY = WeightBreaks(
    (Band(D(0), D(100), D("2.0")), Band(D(100), D(500), D("1.5")), Band(D(500), None, D("1.2"))),
    min_charge=D("260"),
)
FUEL = FuelRule(D("5"), D("0.5"), reference=D("7000"), floor_percent=D("2"), cap_percent=D("9"))
SURCHARGES = Surcharges(
    fuel=FUEL,
    fuel_index={"2026-01": D("7004"), "2026-11": D("9000")},  # other months: the base
    peaks=(
        Peak(dt.date(2026, 11, 1), dt.date(2026, 11, 15), D("10")),
        Peak(dt.date(2026, 11, 11), dt.date(2026, 11, 11), D("5")),  # 11.11 stacks
        Peak(dt.date(2026, 12, 10), dt.date(2026, 12, 12), D("7.5")),
    ),
    remote_zones=frozenset({"remote"}),
    remote_fee=D("20"),
    cod_percent=D("1.5"),
    cod_min=D("2"),
    insurance_percent=D("0.3"),
    insurance_min=D("1"),
)
CARD = Card(
    ZONES,
    {
        ("express", "z2"): PARCEL,
        ("express", "z3"): FirstAdditional(D("1"), D("14"), D("1"), D("5.5")),
        ("express", "remote"): FirstAdditional(D("0.5"), D("20"), D("0.5"), D("9")),
        ("express", "same_city"): FirstAdditional(D("1"), D("8"), D("1"), D("1")),
        ("express", "same_province"): PARCEL,
        ("ground", "z2"): HEAVY,
        ("ground", "z3"): HEAVY,
    },
    discounts=(
        Discount(D("10")),
        Discount(D("15"), product="express"),
        Discount(D("33.3"), product="express", zone="z2", from_kg=D(0), to_kg=D(5)),
        Discount(D("20"), product="ground", from_kg=D("100"), to_kg=D("500")),
        Discount(D("25"), product="ground", zone="z3", from_kg=D("500")),
    ),
    surcharges=SURCHARGES,
)
COST_RATES = {
    ("express", "z2"): CostRate(D("3.5"), D("1.25")),
    ("ground", "z2"): CostRate(D("20"), D("0.875")),
}

LAKE_SCHEMA = pa.schema(
    [
        ("billing_code", pa.string()),
        ("ship_date", pa.date32()),
        ("origin", pa.string()),
        ("destination", pa.string()),
        ("product", pa.string()),
        ("weight_kg", pa.decimal128(12, 3)),
        ("freight", pa.decimal128(18, 2)),
        ("surcharges", pa.decimal128(18, 2)),
        ("cost", pa.decimal128(18, 2)),
        ("cod_amount", pa.decimal128(18, 2)),
        ("declared_value", pa.decimal128(18, 2)),
        ("month", pa.string()),
    ]
)


def row(kg: str, destination: str = SHANGHAI, **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "billing_code": "A1",
        "ship_date": dt.date(2026, 6, 1),
        "origin": SHENZHEN,
        "destination": destination,
        "product": "express",
        "weight_kg": D(kg),
        "freight": D("10.00"),
        "surcharges": D("1.00"),
        "cost": None,
        "cod_amount": D("0"),
        "declared_value": D("0"),
    }
    base.update(kw)
    base["month"] = base["ship_date"].strftime("%Y-%m")
    return base


def lake(tmp_path: Path, rows: list[dict[str, Any]]) -> duckdb.DuckDBPyConnection:
    """A Parquet file of ``rows`` and a connection with a ``waybills`` view over it."""
    path = tmp_path / "waybills.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=LAKE_SCHEMA), path)
    con = duckdb.connect()
    con.execute(f"CREATE TEMP VIEW waybills AS SELECT * FROM read_parquet('{path}')")  # noqa: S608
    return con


def reference(card: Card, r: dict[str, Any]) -> Any:
    waybill = Waybill(
        r["ship_date"], r["origin"], r["destination"], r["product"], r["weight_kg"],
        r["cod_amount"] or D(0), r["declared_value"] or D(0),  # optional in the lake
    )  # fmt: skip
    try:
        return price_waybill(card, waybill)
    except RatingError:
        return None


def assert_exact(card: Card, rows: list[dict[str, Any]], priced: pa.Table) -> int:
    """Every waybill's amounts equal the reference's; returns how many the card priced."""
    out = priced.to_pylist()
    assert len(out) == len(rows)
    by_code = {r["billing_code"]: r for r in out}
    assert len(by_code) == len(rows), "each test row needs a billing code of its own"
    count = 0
    for r in rows:
        got = by_code[r["billing_code"]]
        want = reference(card, r)
        where = f"{r['product']} {r['origin']}->{r['destination']} {r['weight_kg']} kg"
        if want is None:
            assert got["priced"] is False, where
            assert got["new_revenue"] is None, where
            continue
        count += 1
        assert got["priced"] is True, where
        assert got["zone"] == want.zone, where
        assert (
            got["new_freight"], got["new_fuel"], got["new_peak"], got["new_remote"],
            got["new_cod"], got["new_insurance"], got["new_revenue"],
        ) == (
            want.freight, want.fuel, want.peak, want.remote, want.cod, want.insurance,
            want.total,
        ), where  # fmt: skip
    return count


def numbered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [dict(r, billing_code=f"W{i}") for i, r in enumerate(rows)]


EDGE_ROWS = numbered(
    [
        # first weight and steps: exactly on the first weight, on a step, a gram past it
        row("1"),
        row("1.5"),
        row("1.501"),
        row("0.001"),
        row("4.999"),  # the z2 discount band ends at 5 kg
        row("5"),
        row("5.001"),
        row("2", BEIJING),  # 1 kg steps in z3
        row("2.001", BEIJING),
        row("0.5", URUMQI),  # remote zone and its fee
        row("0.501", URUMQI),
        row("3", SHENZHEN),  # same city
        row("3", GUANGZHOU),  # same province
        # weight breaks: under the minimum charge, on each band edge, heavy
        row("1", product="ground"),
        row("129.999", product="ground"),
        row("99.999", product="ground"),
        row("100", product="ground"),
        row("499.999", product="ground"),
        row("500", product="ground"),
        row("500", BEIJING, product="ground"),
        row("12345.678", BEIJING, product="ground"),
        # peaks at their ends, stacked on 11.11; fuel index months present and missing
        row("2", ship_date=dt.date(2026, 10, 31)),
        row("2", ship_date=dt.date(2026, 11, 1)),
        row("2", ship_date=dt.date(2026, 11, 11)),
        row("2", ship_date=dt.date(2026, 11, 15)),
        row("2", ship_date=dt.date(2026, 11, 16)),
        row("2", ship_date=dt.date(2026, 12, 12)),
        row("2", ship_date=dt.date(2026, 12, 13)),
        row("2", ship_date=dt.date(2026, 1, 31)),
        row("2", ship_date=dt.date(2026, 2, 1)),
        # COD and insurance: under the minimum, over it, none
        row("1.2", cod_amount=D("50"), ship_date=dt.date(2026, 6, 2)),
        row("1.2", cod_amount=D("1000"), ship_date=dt.date(2026, 6, 3)),
        row("1.2", declared_value=D("100"), ship_date=dt.date(2026, 6, 4)),
        row("1.2", declared_value=D("3333.33"), ship_date=dt.date(2026, 6, 5)),
        row("1.2", cod_amount=None, declared_value=None, ship_date=dt.date(2026, 6, 6)),  # none
        # the card cannot price these: no rule, unknown product, no zone for the pair
        row("1", URUMQI, product="ground"),
        row("1", product="drone"),
        row("1", "540100"),
        row("1", SHENZHEN, origin=BEIJING),  # 110000 -> 440000 is not in the matrix
    ]
)


def test_edge_cases_equal_the_reference_to_the_fen(tmp_path):
    con = lake(tmp_path, EDGE_ROWS)
    priced = reprice_waybills(con, CARD)
    assert assert_exact(CARD, EDGE_ROWS, priced) == len(EDGE_ROWS) - 4
    # the cases above are really at the edges the reference distinguishes
    freight = {
        r["weight_kg"]: r["new_freight"]
        for r in priced.to_pylist()
        if r["product"] == "ground" and r["destination"] == SHANGHAI
    }
    assert freight[D("1")] == freight[D("99.999")] == money(D("260") * D("0.9"))  # the minimum
    assert freight[D("129.999")] == money(D("260") * D("0.8"))  # the minimum, band 2's discount
    assert freight[D("499.999")] == D("600.00")  # 499.999 × 1.5 = 749.9985, less 20 %
    assert freight[D("500")] == D("540.00")  # 500 × 1.2, band 3, only the 10 % for all


def test_the_amounts_are_decimals_not_floats(tmp_path):
    priced = reprice_waybills(lake(tmp_path, EDGE_ROWS[:3]), CARD)
    for name in ("new_freight", "new_fuel", "new_peak", "new_cod", "new_revenue", "cost_used"):
        assert pa.types.is_decimal(priced.schema.field(name).type), name


def test_cost_is_the_lakes_else_the_rates_estimate_else_unknown(tmp_path):
    rows = [
        row("2", cost=D("7.77")),
        row("2.5"),  # express z2: a cost rate
        row("3", BEIJING),  # express z3: no cost rate
        row("150", product="ground"),
    ]
    con = lake(tmp_path, rows)
    got = {
        r["weight_kg"]: r["cost_used"]
        for r in reprice_waybills(con, CARD, cost_rates=COST_RATES).to_pylist()
    }
    assert got[D("2")] == D("7.77")
    assert got[D("2.5")] == estimated_cost(
        ZONES, COST_RATES, Waybill(dt.date(2026, 6, 1), SHENZHEN, SHANGHAI, "express", D("2.5"))
    )
    assert got[D("2.5")] == D("6.63")  # 3.5 + 1.25 × 2.5 = 6.625, half up
    assert got[D("3")] is None
    assert got[D("150")] == D("151.25")
    result = what_if(con, CARD, cost_rates=COST_RATES)
    assert result.totals["costed_waybills"] == 3
    assert result.totals["cost_unknown_waybills"] == 1
    assert result.totals["cost"] == D("7.77") + D("6.63") + D("151.25")


def reference_totals(card: Card, rows: list[dict[str, Any]], rates: dict) -> dict[str, Any]:
    t: dict[str, Any] = {"waybills": 0, "current": D(0), "proposed": D(0), "cost": D(0),
                         "costed_current": D(0), "costed_proposed": D(0), "unpriced": 0}  # fmt: skip
    for r in rows:
        price = reference(card, r)
        if price is None:
            t["unpriced"] += 1
            continue
        current = r["freight"] + r["surcharges"]
        t["waybills"] += 1
        t["current"] += current
        t["proposed"] += price.total
        cost = r["cost"]
        if cost is None:
            w = Waybill(r["ship_date"], r["origin"], r["destination"], r["product"], r["weight_kg"])
            try:
                cost = estimated_cost(card.zones, rates, w)
            except RatingError:
                continue
        t["cost"] += cost
        t["costed_current"] += current
        t["costed_proposed"] += price.total
    return t


def test_what_if_totals_are_the_sums_of_the_reference_prices(tmp_path):
    rows = [dict(r, cost=D("5.55") if i % 3 == 0 else None, freight=D(i), surcharges=D("0.5"))
            for i, r in enumerate(EDGE_ROWS)]  # fmt: skip
    con = lake(tmp_path, rows)
    result = what_if(con, CARD, cost_rates=COST_RATES)
    want = reference_totals(CARD, rows, COST_RATES)
    t = result.totals
    assert t["waybills"] == want["waybills"] == len(rows) - 4
    assert t["current_revenue"] == want["current"]
    assert t["proposed_revenue"] == want["proposed"]
    assert (
        t["freight"] + t["fuel"] + t["peak"] + t["remote"] + t["cod"] + t["insurance"]
        == want["proposed"]
    )
    assert t["cost"] == want["cost"]
    assert t["current_margin"] == want["costed_current"] - want["cost"]
    assert t["proposed_margin"] == want["costed_proposed"] - want["cost"]
    assert t["margin_difference"] == t["proposed_margin"] - t["current_margin"]
    assert t["revenue_difference"] == want["proposed"] - want["current"]
    assert t["current_margin_pct"] == money(t["current_margin"] * 100 / want["costed_current"])
    assert t["unpriced_waybills"] == want["unpriced"] == 4
    # every breakdown adds up to the totals
    for breakdown in (result.by_month, result.by_product, result.by_zone, result.by_lane):
        for name in ("waybills", "weight_kg", "current_revenue", "proposed_revenue", "cost"):
            assert sum(r[name] for r in breakdown) == t[name], name
    assert [r["month"] for r in result.by_month] == [
        "2026-01",
        "2026-02",
        "2026-06",
        "2026-10",
        "2026-11",
        "2026-12",
    ]
    assert {r["product"] for r in result.by_product} == {"express", "ground"}
    assert {r["zone"] for r in result.by_zone} == {
        "z2",
        "z3",
        "remote",
        "same_city",
        "same_province",
    }


def test_lanes_are_the_top_n_by_current_revenue_then_others(tmp_path):
    rows = [row("1", d, freight=D(f), billing_code=str(i))
            for i, (d, f) in enumerate([(SHANGHAI, 100), (SHANGHAI, 100), (BEIJING, 150),
                                        (URUMQI, 10), (GUANGZHOU, 20), (SHENZHEN, 5)])]  # fmt: skip
    result = what_if(lake(tmp_path, rows), CARD, top_lanes=2)
    lanes = [(r["origin"], r["destination"], r["waybills"]) for r in result.by_lane]
    assert lanes == [(SHENZHEN, SHANGHAI, 2), (SHENZHEN, BEIJING, 1), (OTHERS, OTHERS, 3)]
    assert result.by_lane[0]["current_revenue"] == D("202.00")


def test_unpriceable_waybills_are_counted_by_product_and_zone_or_province_pair(tmp_path):
    rows = [*EDGE_ROWS[:3], EDGE_ROWS[-4], EDGE_ROWS[-3],
            row("2", product="drone"), EDGE_ROWS[-2], EDGE_ROWS[-1]]  # fmt: skip
    result = what_if(lake(tmp_path, rows), CARD)
    assert result.totals["waybills"] == 3
    assert result.totals["unpriced_waybills"] == 5
    assert result.totals["unpriced_revenue"] == D("55.00")
    got = {(r["product"], r["zone"], r.get("origin_province"), r.get("destination_province")):
           (r["waybills"], r["reason"]) for r in result.unpriced}  # fmt: skip
    assert got == {
        ("ground", "remote", None, None): (1, "no_rule"),
        ("drone", "z2", None, None): (2, "no_rule"),
        ("express", None, "440000", "540000"): (1, "no_zone"),
        ("express", None, "110000", "440000"): (1, "no_zone"),
    }


def test_a_gap_in_the_bands_leaves_those_weights_unpriced(tmp_path):
    gapped = WeightBreaks((Band(D(0), D(10), D(2)), Band(D(20), None, D(1))), D("5"))
    card = Card(ZONES, {("ground", "z2"): gapped})
    rows = numbered([row(kg, product="ground") for kg in ("9.999", "10", "19.999", "20")])
    con = lake(tmp_path, rows)
    assert assert_exact(card, rows, reprice_waybills(con, card)) == 2
    result = what_if(con, card)
    assert [(r["reason"], r["waybills"]) for r in result.unpriced] == [("no_weight_band", 2)]


@pytest.mark.parametrize("change", [D("20"), D("-10"), D("0"), D("-100")])
def test_the_volume_change_scales_the_proposed_side_only(tmp_path, change):
    rows = [dict(r, cost=D("3.33")) for r in EDGE_ROWS]
    con = lake(tmp_path, rows)
    base = what_if(con, CARD)
    changed = what_if(con, CARD, volume_change=change)
    k = 1 + change / 100
    for b, c in ((base.totals, changed.totals), (base.by_month[0], changed.by_month[0])):
        for name in ("waybills", "weight_kg", "current_revenue", "cost", "current_margin",
                     "current_margin_pct", "proposed_margin_pct"):  # fmt: skip
            assert c[name] == b[name], name
        assert c["proposed_waybills"] == b["waybills"] * k
        assert c["proposed_weight_kg"] == b["weight_kg"] * k
        for name in ("proposed_revenue", "freight", "fuel", "proposed_cost", "proposed_margin"):
            assert c[name] == money(b[name] * k), name
        assert c["revenue_difference"] == money(b["proposed_revenue"] * k) - b["current_revenue"]
    if change == D("-100"):
        assert changed.totals["proposed_revenue"] == 0
        assert changed.totals["margin_difference"] == -base.totals["current_margin"]


def test_a_premium_prices_above_the_list_as_the_reference_does(tmp_path):
    premium = Card(ZONES, {("express", "z2"): PARCEL}, discounts=(Discount(D("-12.5")),))
    rows = numbered([row("1.2"), row("7")])
    priced = reprice_waybills(lake(tmp_path, rows), premium)
    assert assert_exact(premium, rows, priced) == 2
    beyond = Card(ZONES, {("express", "z2"): PARCEL}, discounts=(Discount(D("-100.5")),))
    with pytest.raises(RepriceError, match=r"\(-100.5\) is beyond ±100 %"):
        (tmp_path / "b").mkdir()
        reprice_waybills(lake(tmp_path / "b", rows), beyond)


def test_an_off_season_reduction_prices_as_the_reference_does(tmp_path):
    """A negative peak (differential pricing's off-season) reduces the freight; a half fen
    rounds away from zero, as the reference's ``ROUND_HALF_UP`` (-0.015 is -0.02)."""
    seasons = Surcharges(peaks=(
        Peak(dt.date(2026, 6, 1), dt.date(2026, 6, 30), D("-0.1")),
        Peak(dt.date(2026, 7, 1), dt.date(2026, 7, 1), D("-100")),
    ))  # fmt: skip
    card = Card(ZONES, {("express", "z2"): PARCEL}, surcharges=seasons)
    rows = numbered([row("1.2"), row("7"), row("1.2", ship_date=dt.date(2026, 7, 1))])
    priced = reprice_waybills(lake(tmp_path, rows), card)
    assert assert_exact(card, rows, priced) == 3
    assert sorted(r["new_peak"] for r in priced.to_pylist()) == [D("-15.00"), D("-0.05"),
                                                                 D("-0.02")]  # fmt: skip


def test_bad_inputs_are_refused_by_name(tmp_path):
    con = lake(tmp_path, EDGE_ROWS[:2])
    with pytest.raises(RepriceError, match="volume change of -101"):
        what_if(con, CARD, volume_change=D("-101"))
    fine = Card(ZONES, {("express", "z2"): FirstAdditional(D("1"), D("12.00001"), D("1"), D("1"))})
    with pytest.raises(
        RepriceError,
        match=r"express in zone z2: the first-weight price \(12.00001\) has more than 4",
    ):
        reprice_waybills(con, fine)
    no_step = Card(ZONES, {("express", "z2"): FirstAdditional(D("1"), D("12"), D("0"), D("1"))})
    with pytest.raises(RepriceError, match="express in zone z2: the additional weight step"):
        reprice_waybills(con, no_step)
    odd_fee = Card(ZONES, {("express", "z2"): PARCEL}, surcharges=Surcharges(remote_fee=D("0.005")))
    with pytest.raises(RepriceError, match="remote-area fee"):
        what_if(con, odd_fee)
    odd_rate = {("express", "z2"): CostRate(D("1"), D("0.123456"))}
    with pytest.raises(RepriceError, match="cost rate for express in zone z2"):
        what_if(con, CARD, cost_rates=odd_rate)
    too_much = Card(ZONES, {("express", "z2"): PARCEL}, discounts=(Discount(D("100.5")),))
    with pytest.raises(
        RepriceError, match=r"discount for express in zone z2 at .* \(100.5\) is beyond ±100 %"
    ):
        what_if(con, too_much)
    negative = WeightBreaks((Band(D(0), None, D("-1")),), D(0))
    with pytest.raises(
        RepriceError, match=r"ground in zone z2: the per-kg rate from 0 kg \(-1\) is negative"
    ):
        what_if(con, Card(ZONES, {("ground", "z2"): negative}))
    odd_fuel = Surcharges(fuel=FuelRule(D("5.0000001"), D(0), D(0), D(0), D(10)))
    with pytest.raises(RepriceError, match="the fuel surcharge of 2026-06"):
        what_if(con, Card(ZONES, {("express", "z2"): PARCEL}, surcharges=odd_fuel))


def test_an_empty_lake_gives_zero_totals(tmp_path):
    result = what_if(lake(tmp_path, []), CARD)
    assert result.totals["waybills"] == 0
    assert result.totals["proposed_revenue"] == 0
    assert result.by_month == result.by_lane == result.unpriced == []


# ---------------------------------------------------------------------------------------------
# Random cards and random waybills

CITIES = ["440300", "440100", "310100", "110100", "650100", "510100", "330100"]
PROVINCES = sorted({c[:2] + "0000" for c in CITIES})
ZONE_NAMES = ["z1", "z2", "z3", "remote"]

money_st = st.decimals(min_value=D("0"), max_value=D("500"), places=2)
price_st = st.decimals(min_value=D("0"), max_value=D("99"), places=4)
percent_st = st.decimals(min_value=D("0"), max_value=D("100"), places=2)
kg_st = st.decimals(min_value=D("0.001"), max_value=D("60"), places=3)


@st.composite
def rules(draw: st.DrawFn) -> FirstAdditional | WeightBreaks:
    if draw(st.booleans()):
        return FirstAdditional(
            draw(kg_st),
            draw(price_st),
            draw(st.decimals(D("0.001"), D("5"), places=3)),
            draw(price_st),
        )
    edges = sorted(set(draw(st.lists(st.decimals(D("0.001"), D("80"), places=3), max_size=3))))
    lows = [D(0), *edges]
    bands = tuple(Band(lo, hi, draw(price_st)) for lo, hi in zip(lows, [*edges, None], strict=True))
    return WeightBreaks(bands, draw(money_st))


@st.composite
def discounts(draw: st.DrawFn) -> Discount:
    lo = draw(st.decimals(D(0), D("40"), places=3))
    hi = draw(st.none() | st.decimals(D("0.001"), D("60"), places=3))
    return Discount(
        draw(st.decimals(D(-100), D(100), places=4)),  # negative: a premium
        draw(st.none() | st.sampled_from(PRODUCTS[:3])),
        draw(st.none() | st.sampled_from(["same_city", "same_province", *ZONE_NAMES])),
        lo,
        hi if hi is None or hi > lo else lo + hi,
    )


@st.composite
def cards(draw: st.DrawFn) -> Card:
    pairs = {(o, d): draw(st.sampled_from(ZONE_NAMES)) for o in PROVINCES for d in PROVINCES
             if o != d and draw(st.integers(0, 9)) > 0}  # fmt: skip
    keys = draw(st.lists(st.tuples(st.sampled_from(PRODUCTS[:3]),
                                   st.sampled_from(["same_city", "same_province", *ZONE_NAMES])),
                         min_size=1, max_size=12, unique=True))  # fmt: skip
    base = draw(st.decimals(D(0), D(20), places=2))
    floor = draw(st.decimals(D(0), base, places=2))
    fuel = draw(st.none() | st.just(FuelRule(base, draw(st.decimals(D(0), D(1), places=4)),
                                             D(7000), floor, base + D(5))))  # fmt: skip
    months = draw(st.lists(st.integers(1, 12), unique=True, max_size=6))
    fuel_index = {f"2026-{m:02d}": draw(st.decimals(D(5000), D(9000), places=2)) for m in months}
    peaks = []
    for _ in range(draw(st.integers(0, 3))):
        start = dt.date(2026, 1, 1) + dt.timedelta(days=draw(st.integers(0, 360)))
        end = start + dt.timedelta(days=draw(st.integers(0, 20)))
        peaks.append(Peak(start, end, draw(st.decimals(D(-100), D(30), places=2))))
    surcharges = Surcharges(
        fuel, fuel_index, tuple(peaks), frozenset(draw(st.lists(st.sampled_from(ZONE_NAMES)))),
        draw(money_st), draw(percent_st), draw(money_st), draw(percent_st), draw(money_st),
    )  # fmt: skip
    return Card(
        ZoneMatrix(pairs),
        {key: draw(rules()) for key in keys},
        tuple(draw(st.lists(discounts(), max_size=5))),
        surcharges,
    )


@st.composite
def waybill_rows(draw: st.DrawFn) -> dict[str, Any]:
    return row(
        str(
            draw(
                st.one_of(kg_st, st.sampled_from([D("0.001"), D("1"), D("0.5"), D("10"), D("100")]))
            )
        ),
        draw(st.sampled_from(CITIES)),
        origin=draw(st.sampled_from(CITIES)),
        product=draw(st.sampled_from(PRODUCTS[:3])),
        ship_date=dt.date(2026, 1, 1) + dt.timedelta(days=draw(st.integers(0, 364))),
        cod_amount=draw(st.none() | st.just(D(0)) | money_st),
        declared_value=draw(st.none() | st.just(D(0)) | money_st),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(card=cards(), rows=st.lists(waybill_rows(), min_size=1, max_size=40))
def test_random_cards_and_waybills_price_exactly_as_the_reference(card, rows):
    rows = [dict(r, billing_code=str(i)) for i, r in enumerate(rows)]
    con = duckdb.connect()
    con.register("waybills", pa.Table.from_pylist(rows, schema=LAKE_SCHEMA))
    assert_exact(card, rows, reprice_waybills(con, card))
    result = what_if(con, card)
    want = reference_totals(card, rows, {})
    assert result.totals["proposed_revenue"] == want["proposed"]
    assert result.totals["waybills"] == want["waybills"]
    assert result.totals["unpriced_waybills"] == want["unpriced"]


def test_a_freight_beyond_the_integer_range_stops_with_an_error_not_a_wrong_amount(tmp_path):
    huge = WeightBreaks((Band(D(0), None, D("99999999")),), D(0))
    card = Card(ZONES, {("ground", "z2"): huge})
    con = lake(tmp_path, [row("999999", product="ground")])
    with pytest.raises(duckdb.OutOfRangeException, match="Overflow"):
        what_if(con, card)
