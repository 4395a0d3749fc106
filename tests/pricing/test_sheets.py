"""Rate cards and tenders as the pricing team's workbooks: round trips and bad cells."""

import io
from decimal import Decimal as D

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from kam.pricing import sheets
from kam.pricing import strategies as s
from kam.pricing.rating import (
    SAME_CITY,
    SAME_PROVINCE,
    Band,
    CostRate,
    Discount,
    FirstAdditional,
    WeightBreaks,
    ZoneMatrix,
)

PARCEL_RULES = {
    ("express", SAME_CITY): FirstAdditional(D("1"), D("8"), D("1"), D("2")),
    ("express", SAME_PROVINCE): FirstAdditional(D("1"), D("10"), D("1"), D("2.5")),
    ("express", "z2"): FirstAdditional(D("1"), D("12.5"), D("0.5"), D("3.15")),
}
FREIGHT_RULES = {
    ("ground", zone): WeightBreaks(
        (Band(D(0), D(30), D(rate)), Band(D(30), D(100), D("1.5")), Band(D(100), None, D("1.1"))),
        D(minimum),
    )
    for zone, rate, minimum in ((SAME_CITY, "1.2", "30"), ("z2", "2.25", "45"))
}
CARD = sheets.CardTables(
    {**PARCEL_RULES, **FREIGHT_RULES},
    (
        Discount(D("30.3027")),
        Discount(D("12.123456789012"), "express", "z2", D("0"), D("1")),
        Discount(D("-5"), "ground"),  # a premium
    ),
    {"express": 6000, "ground": 12000},
)


def workbook(**sheet_rows):
    """A workbook from rows per sheet, as a person would type it."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheet_rows.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def parcel_sheet(**changes):
    """特快 in the first / additional layout; ``changes`` maps a cell ("C4") to a value."""
    rows = [
        ["计费方式", "首重续重"],
        ["区域", "同城", "省内", "z2"],
        ["首重重量(kg)", 1, 1, 1],
        ["首重(元)", 8, 10, 12.5],
        ["续重重量(kg)", 1, 1, 0.5],
        ["续重(元)", 2, 2.5, 3.15],
        ["体积重除数", 6000],
    ]
    for ref, value in changes.items():
        column, row = ord(ref[0]) - ord("A"), int(ref[1:]) - 1
        rows[row] += [None] * (column + 1 - len(rows[row]))
        rows[row][column] = value
    return rows


def freight_sheet(bands=("0-30", "30-100", "100-")):
    rows = [["计费方式", "重量段"], ["区域", "同城", "z2"]]
    rows += [[band, 1.2, 2.25] for band in bands]
    return [*rows, ["最低收费(元)", 30, 45]]


def problems(data, **kw):
    with pytest.raises(sheets.SheetError) as err:
        sheets.read_card(data, **kw)
    return [(p.code, p.sheet, p.cell) for p in err.value.problems]


# --- cards --------------------------------------------------------------------------------


def test_a_card_round_trips_exactly():
    assert sheets.read_card(sheets.write_card(CARD)) == CARD


def test_the_card_is_laid_out_as_pricing_teams_do():
    book = openpyxl.load_workbook(io.BytesIO(sheets.write_card(CARD)))
    assert book.sheetnames == ["特快", "陆运", "折扣"]
    parcel = [[c.value for c in row] for row in book["特快"].iter_rows()]
    assert parcel[:3] == [
        ["计费方式", "首重续重", None, None],
        ["区域", "同城", "省内", "z2"],
        ["首重重量(kg)", 1, 1, 1],
    ]
    assert parcel[5] == ["续重(元)", 2, 2.5, 3.15]
    freight = [[c.value for c in row] for row in book["陆运"].iter_rows()]
    assert [row[0] for row in freight[2:]] == [
        "0-30",
        "30-100",
        "100-",
        "最低收费(元)",
        "体积重除数",
    ]
    assert freight[2][1:] == [1.2, 2.25]
    # A discount a float cannot hold is written as text, so it reads back the same.
    assert book["折扣"]["E3"].value == "12.123456789012"


def test_a_typed_workbook_reads_with_zone_names_and_english_labels():
    rows = parcel_sheet(A3="First weight (kg)")
    card = sheets.read_card(workbook(特快=rows, 陆运=freight_sheet()))
    assert card.rules[("express", "z2")] == PARCEL_RULES[("express", "z2")]
    assert card.rules[("ground", "z2")].bands[0] == Band(D(0), D(30), D("2.25"))
    assert card.dim_divisor == {"express": 6000}


@settings(max_examples=40, deadline=None)
@given(
    prices=st.lists(st.decimals(min_value=0, max_value=99999, places=2), min_size=4, max_size=4),
    percent=st.decimals(min_value=-100, max_value=100, places=6),
)
def test_any_prices_and_discounts_round_trip(prices, percent):
    rule = FirstAdditional(D("0.5"), prices[0], D("0.5"), prices[1])
    breaks = WeightBreaks(
        (Band(D(0), D("20.5"), prices[2]), Band(D("20.5"), None, D(0))), prices[3]
    )
    card = sheets.CardTables(
        {("express", "z1"): rule, ("cold", "z1"): breaks}, (Discount(percent, None, "z1"),)
    )
    assert sheets.read_card(sheets.write_card(card)) == card


def test_a_card_the_layout_cannot_hold_is_refused_on_export():
    mixed = sheets.CardTables({**PARCEL_RULES, ("express", "z9"): FREIGHT_RULES[("ground", "z2")]})
    with pytest.raises(sheets.CardLayoutError, match="mixed"):
        sheets.write_card(mixed)
    uneven = dict(FREIGHT_RULES)
    uneven[("ground", "z3")] = WeightBreaks((Band(D(0), None, D(1)),), D(1))
    with pytest.raises(sheets.CardLayoutError, match="different weight bands"):
        sheets.write_card(sheets.CardTables(uneven))


@pytest.mark.parametrize(
    ("bands", "code", "cell"),
    [
        (("0-30", "20-100", "100-"), "bands_overlap", "A4"),
        (("0-30", "40-100", "100-"), "bands_gap", "A4"),
        (("5-30", "30-100", "100-"), "band_not_from_zero", "A3"),
        (("0-30", "30-100", "100-200"), "last_band_closed", "A5"),
        (("0-30", "30-", "100-"), "open_band_not_last", "A4"),
        (("0-30", "heavy", "100-"), "bad_band", "A4"),
    ],
)
def test_bad_weight_bands_are_refused_at_their_row(bands, code, cell):
    assert (code, "陆运", cell) in problems(workbook(陆运=freight_sheet(bands)))


@pytest.mark.parametrize(
    ("change", "code", "cell"),
    [
        ({"C4": -10}, "negative", "C4"),
        ({"C4": "ten"}, "not_a_number", "C4"),
        ({"D4": 12.345}, "too_many_decimals", "D4"),
        ({"B3": 0}, "not_positive", "B3"),
        ({"C4": "1e400"}, "too_large", "C4"),
        ({"B6": None}, "required", "B6"),
        ({"B7": 0}, "divisor_not_positive", "B7"),
        ({"B7": 6000.5}, "divisor_not_positive", "B7"),
        ({"C2": None}, "missing_zone", "C2"),
        ({"D2": "同城"}, "repeated_zone", "D2"),
        ({"B1": "per parcel"}, "unknown_kind", "B1"),
        ({"A5": "续重"}, "bad_label", "A5"),
    ],
)
def test_a_bad_cell_is_refused_by_its_name(change, code, cell):
    found = problems(workbook(特快=parcel_sheet(**change)))
    assert (code, "特快", cell) in found


def test_a_weight_break_sheet_needs_its_minimum_row_and_every_rate():
    no_minimum = freight_sheet()[:-1]
    assert problems(workbook(陆运=no_minimum)) == [("bad_label", "陆运", "A6")]
    blank = freight_sheet()
    blank[3][2] = None
    assert problems(workbook(陆运=blank)) == [("required", "陆运", "C4")]


def test_a_value_outside_the_layout_is_refused_not_ignored():
    assert problems(workbook(特快=parcel_sheet(E4=15))) == [("outside_layout", "特快", "E4")]
    below = [*parcel_sheet(), [None, 7]]
    assert problems(workbook(特快=below)) == [("outside_layout", "特快", "B8")]
    freight = [*freight_sheet(), ["体积重除数", 0]]
    assert problems(workbook(陆运=freight)) == [("divisor_not_positive", "陆运", "B7")]


def test_a_missing_zone_column_is_named_where_it_should_be():
    found = problems(workbook(特快=parcel_sheet()), zones=[SAME_CITY, SAME_PROVINCE, "z2", "z3"])
    assert found == [("missing_zone_column", "特快", "E2")]
    extra = problems(workbook(特快=parcel_sheet()), zones=[SAME_CITY, SAME_PROVINCE])
    assert extra == [("unknown_zone", "特快", "D2")]


def test_discounts_beyond_100_and_unknown_products_are_refused():
    rows = [
        list(sheets.DISCOUNT_HEADINGS),
        ["特快", "z2", 0, 1, 120],
        ["快运", None, 0, None, 10],
        [None, None, 5, 2, 10],
        [None, None, 0, None, "-101%"],
        ["特快", "z2", 0, 1, 20],
    ]
    found = problems(workbook(特快=parcel_sheet(), 折扣=rows))
    assert found == [
        ("discount_out_of_range", "折扣", "E2"),
        ("unknown_product", "折扣", "A3"),
        ("band_empty", "折扣", "D4"),
        ("discount_out_of_range", "折扣", "E5"),
        ("repeated_discount", "折扣", "A6"),
    ]


def test_every_problem_is_reported_and_nothing_is_half_read():
    data = workbook(
        特快=parcel_sheet(C4=-1, D6="x"), 陆运=freight_sheet(("0-30", "40-")), 其他=[["?"]]
    )
    found = problems(data)
    assert found == [
        ("negative", "特快", "C4"),
        ("not_a_number", "特快", "D6"),
        ("bands_gap", "陆运", "A4"),
        ("unknown_sheet", "其他", ""),
    ]


def test_an_unreadable_or_empty_workbook_is_refused():
    assert problems(b"not a workbook")[0][0] == "unreadable"
    assert problems(workbook(折扣=[list(sheets.DISCOUNT_HEADINGS)])) == [
        ("no_product_sheet", "", "")
    ]


def test_problems_read_as_english_sentences_naming_the_cell():
    problem = sheets.Problem("negative", "特快", "C4")
    assert sheets.problem_text(problem) == "sheet 特快, cell C4: Must not be negative."
    beyond = sheets.Problem("discount_out_of_range", "折扣", "E2", {"value": "120"})
    assert sheets.problem_text(beyond) == (
        "sheet 折扣, cell E2: A discount must be between -100 % and 100 % "
        "(a negative one is a premium); this one is 120 %."
    )
    assert sheets.problem_text(sheets.Problem("no_product_sheet")).startswith("The workbook has")
    with pytest.raises(sheets.SheetError, match="cell C4: Must not be negative"):
        sheets.read_card(workbook(特快=parcel_sheet(C4=-1)))


def test_cell_references_go_past_z():
    assert [sheets.cell_ref(0, 0), sheets.cell_ref(9, 25), sheets.cell_ref(1, 26)] == [
        "A1",
        "Z10",
        "AA2",
    ]


# --- tenders and bids ---------------------------------------------------------------------

PLACES = {"深圳": "440300", "深圳市": "440300", "440300": "440300", "上海": "310100",
          "310100": "310100", "乌鲁木齐": "650100", "650100": "650100"}  # fmt: skip
TENDER = [
    ["线路编号", "始发地", "目的地", "产品", "年票量", "平均单票重量(kg)"],
    ["L1", "深圳", "上海", "特快", 1000, 2.5],
    ["L2", 440300, "310100", "标快", 12000, 0.8],
    [None, None, None, None, None, None],
    ["L3", "上海", "乌鲁木齐", "特快", 10, 1],
]


def test_a_tender_reads_lanes_with_places_as_names_or_codes():
    lanes = sheets.read_tender(workbook(招标=TENDER), resolve_place=PLACES.get)
    assert lanes == [
        s.TenderLane("L1", "440300", "310100", "express", 1000, D("2.5")),
        s.TenderLane("L2", "440300", "310100", "standard", 12000, D("0.8")),
        s.TenderLane("L3", "310100", "650100", "express", 10, D("1")),
    ]


def test_a_tender_without_references_numbers_its_lanes_by_row():
    rows = [
        ["Origin", "Destination", "Product", "Annual waybills", "Weight"],
        ["深圳", "上海", "express", 5, 1],
    ]
    [lane] = sheets.read_tender(workbook(Sheet=rows), resolve_place=PLACES.get)
    assert (lane.ref, lane.product) == ("2", "express")


def test_bad_tender_rows_are_refused_by_cell():
    rows = [
        TENDER[0],
        ["L1", "深圳", "火星", "特快", 1000, 2.5],
        ["L2", "深圳", "上海", "快运", 1.5, 0],
        ["L3", None, "上海", "特快", 0, -1],
    ]
    with pytest.raises(sheets.SheetError) as err:
        sheets.read_tender(workbook(招标=rows), resolve_place=PLACES.get)
    found = [(p.code, p.sheet, p.cell, dict(p.params)) for p in err.value.problems]
    assert found == [
        ("unknown_place", "招标", "C2", {"value": "火星"}),
        ("unknown_product", "招标", "D3", {"value": "快运"}),
        ("not_whole", "招标", "E3", {}),
        ("not_positive", "招标", "F3", {}),
        ("required", "招标", "B4", {}),
        ("below_one", "招标", "E4", {}),
        ("negative", "招标", "F4", {}),
    ]


def test_a_lane_reference_used_twice_is_refused():
    rows = [TENDER[0], TENDER[1], ["L1", *TENDER[2][1:]]]
    with pytest.raises(sheets.SheetError) as err:
        sheets.read_tender(workbook(招标=rows), resolve_place=PLACES.get)
    assert [(p.code, p.cell) for p in err.value.problems] == [("repeated_ref", "A3")]


def test_a_tender_missing_a_column_or_lanes_is_refused():
    with pytest.raises(sheets.SheetError) as missing:
        sheets.read_tender(workbook(T=[r[:4] for r in TENDER]), resolve_place=PLACES.get)
    assert [(p.code, p.cell, p.params["column"]) for p in missing.value.problems] == [
        ("missing_column", "E1", "年票量"),
        ("missing_column", "F1", "平均重量"),
    ]
    with pytest.raises(sheets.SheetError) as empty:
        sheets.read_tender(workbook(T=TENDER[:1]), resolve_place=PLACES.get)
    assert [p.code for p in empty.value.problems] == ["no_rows"]


def test_a_tender_round_trips_through_its_own_workbook():
    lanes = sheets.read_tender(workbook(招标=TENDER), resolve_place=PLACES.get)
    assert sheets.read_tender(sheets.write_tender(lanes), resolve_place=PLACES.get) == lanes


def test_the_bid_sheet_lists_priced_lanes_unpriced_ones_and_the_total():
    lanes = sheets.read_tender(workbook(招标=TENDER), resolve_place=PLACES.get)
    proposal = s.sealed_bid(
        lanes,
        zones=ZoneMatrix({("440000", "310000"): "z2"}),
        list_rules={
            (p, "z2"): FirstAdditional(D(1), D(12), D(1), D(4)) for p in ("express", "standard")
        },
        cost_rates={(p, "z2"): CostRate(D(3), D(2)) for p in ("express", "standard")},
        target_margin_percent=D("20"),
        floor_percent=D("10"),
    )
    priced = {b.lane.ref for b in proposal.lanes}
    unpriced = [lane for lane in lanes if lane.ref not in priced]
    names = {v: k for k, v in PLACES.items() if not k.isdigit() and not k.endswith("市")}
    data = sheets.write_bid(proposal.lanes, unpriced, place_name=names.__getitem__)
    rows = (
        CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("投标报价").to_python()
    )
    assert rows[0] == list(sheets.BID_HEADINGS)
    # L1: cost 3 + 2 x 2.5 = 8 -> 10.00 a waybill; L2: 3 + 1.6 = 4.6 -> 5.75; L3 has no zone.
    assert rows[1][:9] == ["L1", "深圳", "上海", "特快", 1000, 2.5, "z2", 10, 10000]
    assert rows[2][7:9] == [5.75, 69000]
    assert (rows[3][0], rows[3][7], rows[3][9]) == ("L3", "", "未报价")
    assert (rows[4][0], rows[4][8]) == ("合计", 79000)


cell_values = st.one_of(
    st.none(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(
        [
            "首重续重",
            "重量段",
            "同城",
            "省内",
            "z2",
            "0-30",
            "30-",
            "最低收费(元)",
            "首重(元)",
            "x",
            "1e400",
            "NaN",
            "-",
            "12%",
        ]
    ),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(cell_values, max_size=5), max_size=9),
    st.sampled_from([parcel_sheet(), freight_sheet()]),
)
def test_any_sheet_is_read_or_refused_with_named_cells_never_crashes(noise, base):
    rows = [list(r) for r in base]
    for i, extra in enumerate(noise):
        if i < len(rows):
            rows[i][1 : 1 + len(extra)] = extra
        else:
            rows.append(extra)
    try:
        card = sheets.read_card(workbook(特快=rows))
    except sheets.SheetError as err:
        assert err.problems
        assert all(p.sheet == "特快" for p in err.problems)
    else:
        assert all(product == "express" for product, _ in card.rules)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(cell_values, min_size=6, max_size=6), min_size=1, max_size=6))
def test_any_tender_is_read_or_refused_with_named_cells_never_crashes(rows):
    try:
        lanes = sheets.read_tender(workbook(招标=[TENDER[0], *rows]), resolve_place=PLACES.get)
    except sheets.SheetError as err:
        assert err.problems and all(p.sheet == "招标" and p.cell for p in err.problems)
    else:
        assert all(lane.annual_waybills >= 1 and lane.weight_kg > 0 for lane in lanes)
