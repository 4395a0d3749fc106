"""The rating contract on its own: no database, plain cards and waybills."""

import datetime as dt
from decimal import Decimal as D

import pytest

from kam.pricing.rating import (
    SAME_CITY,
    SAME_PROVINCE,
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
    chargeable_weight,
    check_bands,
    estimated_cost,
    grams,
    price_waybill,
)

SHENZHEN, GUANGZHOU, SHANGHAI, URUMQI = "440300", "440100", "310100", "650100"
ZONES = ZoneMatrix({("440000", "310000"): "z2", ("440000", "650000"): "remote"})
PARCEL = FirstAdditional(D("1"), D("12"), D("0.5"), D("3"))


def waybill(kg: str, destination: str = SHANGHAI, **kw: object) -> Waybill:
    base = dict(ship_date=dt.date(2026, 6, 1), origin=SHENZHEN, destination=destination)
    base.update(product="express", weight_kg=D(kg))
    base.update(kw)
    return Waybill(**base)  # type: ignore[arg-type]


def test_zones_same_city_same_province_and_the_matrix():
    assert ZONES.zone(SHENZHEN, SHENZHEN) == SAME_CITY
    assert ZONES.zone(SHENZHEN, GUANGZHOU) == SAME_PROVINCE
    assert ZONES.zone(SHENZHEN, SHANGHAI) == "z2"
    with pytest.raises(RatingError, match="310000 -> 440000"):
        ZONES.zone(SHANGHAI, SHENZHEN)


@pytest.mark.parametrize(
    ("kg", "price"),
    [("0.2", "12"), ("1", "12"), ("1.001", "15"), ("1.5", "15"), ("1.501", "18"), ("3", "24")],
)
def test_first_weight_then_each_started_step(kg, price):
    assert PARCEL.charge(D(kg)) == D(price)


def test_weight_breaks_price_the_whole_weight_at_its_band_with_a_minimum():
    breaks = WeightBreaks(
        (Band(D(0), D(100), D("2.0")), Band(D(100), None, D("1.5"))), min_charge=D("60")
    )
    assert breaks.charge(D("10")) == D("60")
    assert breaks.charge(D("99.5")) == D("199.0")
    assert breaks.charge(D("100")) == D("150.0")


def test_check_bands_names_gaps_overlaps_and_a_closed_end():
    assert check_bands([(D(0), D(100)), (D(100), None)]) == []
    assert check_bands([(D(0), D(100)), (D(120), None)]) == [
        "a gap between bands 1 and 2 (100 to 120 kg)"
    ]
    assert check_bands([(D(0), D(100)), (D(90), None)]) == ["bands 1 and 2 overlap"]
    assert "the last band (2) must be open-ended" in check_bands([(D(0), D(5)), (D(5), D(9))])
    assert check_bands([(D(1), None)]) == ["band 1 starts at 1 kg, not 0"]


def test_the_most_specific_discount_wins_and_freight_rounds_once():
    card = Card(
        ZONES,
        {("express", "z2"): PARCEL},
        discounts=(
            Discount(D("10")),
            Discount(D("15"), product="express"),
            Discount(D("33.3"), product="express", zone="z2", from_kg=D(0), to_kg=D(5)),
        ),
    )
    price = price_waybill(card, waybill("1.2"))  # list 15.00, 33.3 % off -> 10.005 -> 10.01
    assert (price.zone, price.list_freight, price.freight) == ("z2", D("15"), D("10.01"))
    assert price_waybill(card, waybill("6")).freight == D("35.70")  # 12 + 10 × 3, less 15 %


def test_fuel_is_held_between_floor_and_cap_and_peaks_add_up():
    fuel = FuelRule(D("5"), D("0.5"), reference=D("7000"), floor_percent=D("2"), cap_percent=D("9"))
    assert fuel.percent(None) == D("5")
    assert fuel.percent(D("7004")) == D("7.0")
    assert fuel.percent(D("9000")) == D("9")
    assert fuel.percent(D("1000")) == D("2")
    surcharges = Surcharges(
        fuel=fuel,
        fuel_index={"2026-11": D("7004")},
        peaks=(Peak(dt.date(2026, 11, 1), dt.date(2026, 11, 15), D("10")),),
        remote_zones=frozenset({"remote"}),
        remote_fee=D("20"),
        cod_percent=D("1"),
        cod_min=D("2"),
        insurance_percent=D("0.5"),
        insurance_min=D("1"),
    )
    card = Card(ZONES, {("express", "z2"): PARCEL, ("express", "remote"): PARCEL}, (), surcharges)
    peak_day = waybill("1", ship_date=dt.date(2026, 11, 11), cod_amount=D("50"))
    price = price_waybill(card, peak_day)
    assert (price.fuel, price.peak, price.cod, price.insurance) == (
        D("0.84"),
        D("1.20"),
        D("2.00"),
        D("0"),
    )
    far = price_waybill(card, waybill("1", URUMQI, declared_value=D("1000")))
    assert (far.fuel, far.peak, far.remote, far.insurance, far.total) == (
        D("0.60"),
        D("0"),
        D("20"),
        D("5.00"),
        D("37.60"),
    )


def test_a_waybill_without_a_rule_is_refused_by_name():
    card = Card(ZONES, {("express", "z2"): PARCEL})
    with pytest.raises(RatingError, match="no rate for ground in zone z2"):
        price_waybill(card, waybill("1", product="ground"))


def test_chargeable_weight_is_the_larger_and_a_zero_divisor_is_refused():
    assert chargeable_weight(D("2"), D("40"), D("30"), D("20"), 6000) == D("4.000")
    assert chargeable_weight(D("5"), D("40"), D("30"), D("20"), 6000) == D("5")
    assert chargeable_weight(D("0"), D("10"), D("10"), D("10.01"), 6000) == D("0.167")
    with pytest.raises(RatingError, match="divisor"):
        chargeable_weight(D("1"), D("1"), D("1"), D("1"), 0)


def test_grams_count_a_started_gram_up():
    assert grams(D("1.0001")) == 1001
    assert grams(D("1.000")) == 1000


def test_cost_rates_estimate_per_waybill_and_kilogram():
    rates = {("express", "z2"): CostRate(D("3.5"), D("1.25"))}
    assert estimated_cost(ZONES, rates, waybill("2.003")) == D("6.00")
    with pytest.raises(RatingError, match="no cost rate"):
        estimated_cost(ZONES, rates, waybill("1", GUANGZHOU))
