"""Cell-by-cell validation (kam.ledger.validation), run directly in DuckDB on one row.

Each case is a one-row source from ``good_row`` with one cell changed, read through the
``parsed`` view: the typed value (``v_*``), the UTC time (``u_*``) and the error
code (``e_*``). No database and no import: the import-level behaviour (rejects kept, good
rows stored) is in test_importer.py.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from kam.ledger import lake, validation
from kam.ledger.contract import COLUMNS, match_headings, normalize_heading
from tests.ledger.conftest import good_row

#: The validation's "now" (times more than a day after it are refused).
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class Parser:
    """One DuckDB connection whose ``parsed`` view reads the one-row table ``one_row``.

    The views are defined once. Each case replaces the row, evaluates ``parsed`` once into
    a table (planning the validation SQL is what takes the time) and reads the lake row
    from that table, so that 150 cases stay fast.
    """

    def __init__(self) -> None:
        self.con = duckdb.connect()
        lake.load_region_table(self.con)
        self.columns = list(good_row())
        columns = ", ".join(f'"{c}" VARCHAR' for c in self.columns)
        self.con.execute(f"CREATE TABLE one_row ({columns}, _row BIGINT)")
        present = validation.create_parsed_view(
            self.con,
            "one_row",
            {c: c for c in self.columns},
            dict.fromkeys(self.columns, "VARCHAR"),
            NOW,
        )
        marks = ", ".join(["?"] * len(self.columns))
        self.insert = f"INSERT INTO one_row VALUES ({marks}, 2)"  # noqa: S608 - placeholders only
        self.lake_sql = validation.lake_select_sql(present).replace(
            "FROM parsed", "FROM parsed_row"
        )
        assert "parsed_row" in self.lake_sql

    def __call__(self, row: dict[str, str]) -> dict[str, Any]:
        assert list(row) == self.columns
        self.con.execute("DELETE FROM one_row")
        self.con.execute(self.insert, list(row.values()))
        self.con.execute("CREATE OR REPLACE TEMP TABLE parsed_row AS SELECT * FROM parsed")
        out = self._one("SELECT * FROM parsed_row")
        out["lake"] = self._one(self.lake_sql)
        return out

    def _one(self, sql: str) -> dict[str, Any] | None:
        cursor = self.con.execute(sql)
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        return dict(zip(names, rows[0], strict=True)) if rows else None


@pytest.fixture(scope="module")
def con() -> Iterator[Parser]:
    parser = Parser()
    yield parser
    parser.con.close()


@pytest.fixture
def fresh() -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection of its own, for tests that define ``parsed`` over another source."""
    connection = duckdb.connect()
    lake.load_region_table(connection)
    yield connection
    connection.close()


def parse(con: Parser, row: dict[str, Any] | None = None, **cells: Any) -> dict[str, Any]:
    """The ``parsed`` row (and its lake row under ``lake``) of ``good_row(**cells)``."""
    return con(row if row is not None else good_row(**cells))


def errors(parsed: dict[str, Any]) -> dict[str, str]:
    return {k[2:]: v for k, v in parsed.items() if k.startswith("e_") and v is not None}


def test_a_good_row_has_no_error_and_typed_values(con: Parser) -> None:
    p = parse(con)
    assert errors(p) == {}
    lake_row = p["lake"]
    assert lake_row["waybill_no"] == "SF0000000001"
    assert lake_row["origin"] == "350100"  # 福州
    assert lake_row["destination"] == "310100"  # 上海
    assert lake_row["product"] == "express"
    assert lake_row["status"] == "delivered"
    assert lake_row["consignee_type"] == "business"
    assert lake_row["pieces"] == 1
    assert lake_row["weight_kg"] == Decimal("1.250")
    assert lake_row["freight"] == Decimal("12.50")
    assert lake_row["surcharges"] == Decimal("1.00")
    assert lake_row["declared_value"] is None
    assert lake_row["is_return"] is False
    # 10:00 in Beijing is 02:00 UTC.
    assert lake_row["ship_time"] == datetime(2026, 1, 5, 2, 0)  # noqa: DTZ001 - the lake's UTC wall time
    assert lake_row["ship_date"] == date(2026, 1, 5)
    assert lake_row["month"] == "2026-01"


# --- times --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "utc", "beijing_date"),
    [
        ("2026-01-05 10:00:00", datetime(2026, 1, 5, 2, 0), date(2026, 1, 5)),  # noqa: DTZ001
        ("2026-01-05 10:00", datetime(2026, 1, 5, 2, 0), date(2026, 1, 5)),  # noqa: DTZ001
        ("2026/1/5 10:00", datetime(2026, 1, 5, 2, 0), date(2026, 1, 5)),  # noqa: DTZ001
        ("2026.01.05 10:00", datetime(2026, 1, 5, 2, 0), date(2026, 1, 5)),  # noqa: DTZ001
        ("2026年1月5日 10:00", datetime(2026, 1, 5, 2, 0), date(2026, 1, 5)),  # noqa: DTZ001
        ("2026年1月5日", datetime(2026, 1, 4, 16, 0), date(2026, 1, 5)),  # noqa: DTZ001
        ("20260105", datetime(2026, 1, 4, 16, 0), date(2026, 1, 5)),  # noqa: DTZ001
        ("20260105100000", datetime(2026, 1, 5, 2, 0), date(2026, 1, 5)),  # noqa: DTZ001
        ("2026-01-05T10:00:00", datetime(2026, 1, 5, 2, 0), date(2026, 1, 5)),  # noqa: DTZ001
        ("2026-01-05T10:00:00+08:00", datetime(2026, 1, 5, 2, 0), date(2026, 1, 5)),  # noqa: DTZ001
        ("２０２６－０１－０５　１０：００", datetime(2026, 1, 5, 2, 0), date(2026, 1, 5)),  # noqa: DTZ001
        # UTC evening of 31 January is already 1 February in Beijing.
        ("2026-01-31T20:00:00Z", datetime(2026, 1, 31, 20, 0), date(2026, 2, 1)),  # noqa: DTZ001
        ("2026-01-31T20:00:00+00:00", datetime(2026, 1, 31, 20, 0), date(2026, 2, 1)),  # noqa: DTZ001
        ("2026-01-31T20:00:00.000Z", datetime(2026, 1, 31, 20, 0), date(2026, 2, 1)),  # noqa: DTZ001
        ("2026-01-31 20:00:00+0000", datetime(2026, 1, 31, 20, 0), date(2026, 2, 1)),  # noqa: DTZ001
    ],
)
def test_times_in_many_spellings_are_stored_in_utc_with_the_beijing_month(
    con: Parser, text: str, utc: datetime, beijing_date: date
) -> None:
    p = parse(con, ship_time=text, delivered_time="", promised_time="")
    assert errors(p) == {}
    assert p["lake"]["ship_time"] == utc
    assert p["lake"]["ship_date"] == beijing_date
    assert p["lake"]["month"] == beijing_date.strftime("%Y-%m")


@pytest.mark.parametrize(
    "text",
    ["2026-02-30", "2026-02-30 10:00", "2026-13-01", "2026-01-05 25:00", "2026-01-05 10:61",
     "2026-00-10", "yesterday", "05/01/2026 10:00"],
)  # fmt: skip
def test_impossible_or_unreadable_times_are_bad_time(con: Parser, text: str) -> None:
    p = parse(con, ship_time=text, delivered_time="", promised_time="")
    assert errors(p) == {"ship_time": "bad_time"}
    assert p["lake"] is None


@pytest.mark.parametrize(
    "text", ["1999-12-31 23:59:59", "1970-01-01", "2030-01-01 00:00", "2026-11-29 12:00"]
)
def test_times_before_2000_or_in_the_future_are_out_of_range(con: Parser, text: str) -> None:
    p = parse(con, ship_time=text, delivered_time="", promised_time="")
    assert errors(p) == {"ship_time": "time_out_of_range"}


def test_a_time_up_to_a_day_ahead_is_accepted_for_clock_skew(
    con: Parser,
) -> None:
    # NOW is 20:00 Beijing time on 27 November; the next evening is still within a day.
    p = parse(con, ship_time="2026-11-28 19:00", delivered_time="", promised_time="")
    assert errors(p) == {}


@pytest.mark.parametrize("column", ["delivered_time", "promised_time"])
def test_delivery_or_promise_before_the_ship_time_is_refused(con: Parser, column: str) -> None:
    p = parse(con, **{column: "2026-01-05 09:59"})
    assert errors(p) == {column: "before_ship"}


def test_a_missing_required_time_is_required_and_an_optional_one_is_empty(
    con: Parser,
) -> None:
    p = parse(con, ship_time="", delivered_time="", promised_time="")
    assert errors(p) == {"ship_time": "required"}
    p = parse(con, delivered_time="", promised_time="")
    assert errors(p) == {}
    assert p["lake"]["delivered_time"] is None


def test_an_offset_time_does_not_depend_on_the_machines_time_zone(
    con: Parser,
) -> None:
    """A server set to Asia/Shanghai reads '...Z' as the same UTC instant."""
    con.con.execute("SET TimeZone = 'Asia/Shanghai'")
    try:
        p = parse(con, ship_time="2026-01-31T20:00:00Z", delivered_time="", promised_time="")
    finally:
        con.con.execute("SET TimeZone = 'UTC'")
    assert p["lake"]["ship_time"] == datetime(2026, 1, 31, 20, 0)  # noqa: DTZ001
    assert p["lake"]["month"] == "2026-02"


def test_a_typed_timestamptz_column_does_not_depend_on_the_machines_time_zone(
    fresh: duckdb.DuckDBPyConnection,
) -> None:
    """Parquet sources keep their types: a TIMESTAMPTZ is an instant, naive TIMESTAMP is Beijing."""
    fresh.execute("SET TimeZone = 'Asia/Shanghai'")
    row = good_row(delivered_time="", promised_time="")
    del row["ship_time"]
    table = pa.table({k: pa.array([v], pa.string()) for k, v in row.items()})
    fresh.register("one_row", table)
    try:
        validation.create_parsed_view(
            fresh,
            "(SELECT *, TIMESTAMPTZ '2026-01-31 20:00:00+00' AS ship_time, 2 AS _row FROM one_row)",
            {k: k for k in [*row, "ship_time"]},
            {**dict.fromkeys(row, "VARCHAR"), "ship_time": "TIMESTAMP WITH TIME ZONE"},
            NOW,
        )
        ((ship, error),) = fresh.execute("SELECT u_ship_time, e_ship_time FROM parsed").fetchall()
    finally:
        fresh.unregister("one_row")
        fresh.execute("SET TimeZone = 'UTC'")
    assert error is None
    assert ship == datetime(2026, 1, 31, 20, 0)  # noqa: DTZ001


# --- money, weights, pieces ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12.5", Decimal("12.50")),
        ("1234.50", Decimal("1234.50")),
        ("1,234.50", Decimal("1234.50")),
        ("1,234,567.89", Decimal("1234567.89")),
        ("１２３．５０", Decimal("123.50")),
        ("１，２３４．５", Decimal("1234.50")),
        ("¥12", Decimal("12.00")),
        ("￥12.30", Decimal("12.30")),
        ("12元", Decimal("12.00")),
        ("RMB 8.8", Decimal("8.80")),
        (" 7 ", Decimal("7.00")),
        (".5", Decimal("0.50")),
        ("0", Decimal("0.00")),
        ("-0", Decimal("0.00")),
        ("-0.00", Decimal("0.00")),
    ],
)
def test_money_as_people_type_it(con: Parser, text: str, value: Decimal) -> None:
    p = parse(con, freight=text)
    assert errors(p) == {}
    assert p["lake"]["freight"] == value


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("-5", "negative"),
        ("-0.01", "negative"),
        ("- 5", "negative"),
        ("abc", "not_a_number"),
        ("12,34a", "not_a_number"),
        ("1e3", "not_a_number"),
        ("1.2.3", "not_a_number"),
        ("12.345", "too_many_decimals"),
        ("0.001", "too_many_decimals"),
        ("99999999999999999999", "too_large"),
        ("", "required"),
        ("   ", "required"),
    ],
)
def test_bad_money_is_refused_never_rounded(con: Parser, text: str, code: str) -> None:
    p = parse(con, freight=text)
    assert errors(p) == {"freight": code}
    assert p["lake"] is None


@pytest.mark.parametrize("column", ["surcharges", "cost", "cod_amount", "declared_value"])
def test_optional_money_may_be_empty_but_not_wrong(con: Parser, column: str) -> None:
    empty = parse(con, **{column: ""})
    assert errors(empty) == {}
    assert empty["lake"][column] == (Decimal("0.00") if column == "surcharges" else None)
    assert errors(parse(con, **{column: "-1"})) == {column: "negative"}
    assert errors(parse(con, **{column: "1.001"})) == {column: "too_many_decimals"}


@pytest.mark.parametrize(
    ("text", "value", "code"),
    [
        ("1.234", Decimal("1.234"), None),
        ("0.5kg", Decimal("0.500"), None),
        ("1,000.125", Decimal("1000.125"), None),
        ("0", Decimal("0.000"), None),
        ("1.2345", None, "too_many_decimals"),
        ("-1", None, "negative"),
        ("heavy", None, "not_a_number"),
    ],
)
def test_weight_has_up_to_three_decimals(
    con: Parser, text: str, value: Decimal | None, code: str | None
) -> None:
    p = parse(con, weight_kg=text)
    assert errors(p) == ({"weight_kg": code} if code else {})
    if value is not None:
        assert p["lake"]["weight_kg"] == value


@pytest.mark.parametrize(
    ("text", "value", "code"),
    [
        ("1", 1, None),
        ("12", 12, None),
        ("１０", 10, None),
        ("0", None, "below_one"),
        ("1.5", None, "not_whole"),
        ("-1", None, "negative"),
        ("two", None, "not_a_number"),
        ("99999999999", None, "too_large"),
    ],
)
def test_pieces_are_whole_numbers_from_one(
    con: Parser, text: str, value: int | None, code: str | None
) -> None:
    p = parse(con, pieces=text)
    assert errors(p) == ({"pieces": code} if code else {})
    if value is not None:
        assert p["lake"]["pieces"] == value


# --- codes and text: formula injection is data, never code ----------------------------------


@pytest.mark.parametrize(
    "text", ["=1+1", "+8613912345678", "-123", "@SUM(A1)", "SF 123", "单号1", "SF/1"]
)
def test_a_waybill_number_that_is_not_a_code_is_bad_code(con: Parser, text: str) -> None:
    p = parse(con, waybill_no=text)
    assert errors(p) == {"waybill_no": "bad_code"}


def test_codes_are_stored_in_capitals_and_limited_in_length(con: Parser) -> None:
    p = parse(con, waybill_no="sf-12_a", billing_code="yj0591001")
    assert errors(p) == {}
    assert (p["lake"]["waybill_no"], p["lake"]["billing_code"]) == ("SF-12_A", "YJ0591001")
    assert errors(parse(con, billing_code="A" * 41)) == {"billing_code": "too_long"}
    assert errors(parse(con, waybill_no="")) == {"waybill_no": "required"}


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://evil.example","点我")',
        "+1 电子",
        "-服装",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "=1+1",
    ],
)
def test_text_starting_with_a_formula_sign_is_kept_as_text(con: Parser, text: str) -> None:
    p = parse(con, goods_category=text)
    assert errors(p) == {}
    assert p["lake"]["goods_category"] == text


def test_text_longer_than_the_contract_allows_is_too_long(con: Parser) -> None:
    assert errors(parse(con, goods_category="电" * 60)) == {}
    assert errors(parse(con, goods_category="电" * 61)) == {"goods_category": "too_long"}


# --- choices and places ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "text", "value"),
    [
        ("product", "标快", "standard"),
        ("product", "陆运", "ground"),
        ("product", "Cold Chain", "cold"),
        ("product", "国际件", "international"),
        ("status", "丢失", "lost"),
        ("status", "破损", "damaged"),
        ("status", "退回", "returned"),
        ("status", "DELIVERED", "delivered"),
        ("status", "已揽收", "picked_up"),
        ("status", "运输中", "in_transit"),
        ("status", "在途", "in_transit"),
        ("status", "派送中", "out_for_delivery"),
        ("status", "Out for delivery", "out_for_delivery"),
        ("consignee_type", "个人", "consumer"),
        ("consignee_type", "toB", "business"),
        ("is_return", "是", True),
        ("is_return", "Y", True),
        ("is_return", "0", False),
        ("is_return", "", False),
        ("origin", "广东省深圳市", "440300"),
        ("origin", "广东 深圳", "440300"),
        ("origin", "440300", "440300"),
        ("origin", "Shenzhen", "440300"),
        ("destination", "北京", "110100"),
        ("destination", "广东", "440000"),
    ],
)
def test_value_spellings_map_to_canonical_values(
    con: Parser, column: str, text: str, value: Any
) -> None:
    p = parse(con, **{column: text})
    assert errors(p) == {}
    assert p["lake"][column] == value


@pytest.mark.parametrize(
    ("column", "text", "code"),
    [
        ("product", "超快", "unknown_product"),
        ("status", "已取消", "unknown_status"),
        ("consignee_type", "外星人", "unknown_consignee"),
        ("is_return", "maybe", "unknown_flag"),
        ("origin", "亚特兰蒂斯", "unknown_region"),
        ("destination", "999999", "unknown_region"),
        ("product", "", "required"),
        ("origin", "", "required"),
    ],
)
def test_unknown_values_are_refused(con: Parser, column: str, text: str, code: str) -> None:
    assert errors(parse(con, **{column: text})) == {column: code}


def test_every_bad_cell_of_a_row_is_reported_not_only_the_first(
    con: Parser,
) -> None:
    p = parse(con, waybill_no="=1", freight="-5", pieces="0", ship_time="2026-02-30", status="?")
    assert errors(p) == {
        "waybill_no": "bad_code",
        "freight": "negative",
        "pieces": "below_one",
        "ship_time": "bad_time",
        "status": "unknown_status",
    }


def test_rejects_sql_lists_one_line_per_bad_cell_with_the_raw_value(
    fresh: duckdb.DuckDBPyConnection,
) -> None:
    row = good_row(freight="１２．３４５", pieces="0")
    table = pa.table({k: pa.array([v], pa.string()) for k, v in row.items()})
    fresh.register("one_row", table)
    try:
        present = validation.create_parsed_view(
            fresh,
            "(SELECT *, 7 AS _row FROM one_row)",
            {k: k for k in row},
            dict.fromkeys(row, "VARCHAR"),
            NOW,
        )
        rejects = fresh.execute(validation.rejects_sql(present) + " ORDER BY 2").fetchall()
    finally:
        fresh.unregister("one_row")
    assert rejects == [
        (7, "freight", "１２．３４５", "too_many_decimals", ""),
        (7, "pieces", "0", "below_one", ""),
    ]


@pytest.mark.parametrize("enum_max", [validation.ENUM_MAX_VALUES, 1])
def test_freezing_the_distinct_value_checks_changes_no_value_and_the_lake_stays_text(
    fresh: duckdb.DuckDBPyConnection, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, enum_max: int
) -> None:
    """The import evaluates the per-distinct-value checks once and writes the lake's text
    columns from ENUMs (when they have few values): the rows, the problems and the Parquet
    column types stay the same."""
    monkeypatch.setattr(validation, "ENUM_MAX_VALUES", enum_max)
    rows = [
        good_row(1, product="特快", consignee_type="个人", goods_category="服装"),
        good_row(2, product="standard", billing_code="yj0591002", goods_category=""),
        good_row(3, origin="火星", status="不知道"),  # unknown region and status: rejected
        good_row(4, billing_code="=cmd|x", waybill_no="SF 4"),  # bad codes: rejected
        good_row(5, product="陆运", origin="福建省福州市", destination="北京"),
    ]
    table = pa.table({k: pa.array([r[k] for r in rows], pa.string()) for k in rows[0]})
    fresh.register("some_rows", table)
    present = validation.create_parsed_view(
        fresh,
        "(SELECT *, row_number() OVER () + 1 AS _row FROM some_rows)",
        {k: k for k in rows[0]},
        dict.fromkeys(rows[0], "VARCHAR"),
        NOW,
    )
    checked = validation.checked_sql(present)
    before = fresh.execute(checked + " ORDER BY _row").fetchall()
    validation.freeze_distinct_values(fresh, present)
    after = fresh.execute(checked + " ORDER BY _row").fetchall()
    described = "SELECT column_name, column_type FROM (DESCRIBE {})"
    types = dict(fresh.execute(described.format(checked)).fetchall())
    fresh.execute(f"COPY ({checked}) TO '{tmp_path / 'lake.parquet'}' (FORMAT parquet)")
    file = f"SELECT * FROM '{tmp_path / 'lake.parquet'}'"  # noqa: S608 - the test's own path
    written = dict(fresh.execute(described.format(file)).fetchall())
    fresh.unregister("some_rows")
    assert after == before
    assert [r[-1] for r in after] == ["2026-01", "2026-01", "rejected", "rejected", "2026-01"]
    as_enum = enum_max > 1  # the rows have more than one product and billing code
    assert types["product"].startswith("ENUM(") == as_enum
    assert types["billing_code"].startswith("ENUM(") == as_enum
    assert types["waybill_no"] == "VARCHAR"  # unique per row: never an ENUM
    for name in ("billing_code", "origin", "destination", "product", "status", "goods_category"):
        assert written[name] == "VARCHAR", name


# --- headings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("heading", "column"),
    [
        ("运单号", "waybill_no"),
        ("\ufeff运单号", "waybill_no"),
        ("Waybill number", "waybill_no"),
        ("WAYBILL_NO", "waybill_no"),
        ("月结卡号", "billing_code"),
        ("月结账号", "billing_code"),
        ("计费重量(kg)", "weight_kg"),
        ("计费重量（KG）", "weight_kg"),
        ("Chargeable weight (kg)", "weight_kg"),
        ("chargeable-weight", "weight_kg"),
        ("代收货款（元）", "cod_amount"),
        ("寄件时间", "ship_time"),
        ("逆向", "is_return"),
    ],
)
def test_headings_match_by_name_english_label_and_chinese_alias(heading: str, column: str) -> None:
    match = match_headings([heading])
    assert match.mapping == {column: heading}


def test_heading_match_reports_missing_unknown_and_repeated_columns() -> None:
    match = match_headings(["运单号", "单号", "月结账号", "备注", "", "寄件时间"])
    assert match.repeated == ("waybill_no",)
    assert match.unknown == ("备注",)
    assert "freight" in match.missing and "waybill_no" not in match.missing


def test_every_contract_spelling_is_unambiguous() -> None:
    seen: dict[str, str] = {}
    for column in COLUMNS:
        for spelling in (column.name, column.label_en, column.label_zh, *column.aliases):
            key = normalize_heading(spelling)
            assert seen.setdefault(key, column.name) == column.name, (spelling, seen[key])
