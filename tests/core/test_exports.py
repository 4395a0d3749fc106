"""CSV and XLSX downloads: a cell a spreadsheet would run as a formula is shown, never run."""

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from kam.core import exports
from kam.core.exports import csv_lines, csv_response, safe_cell, xlsx_bytes, xlsx_response


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://evil.example","点我")', '\'=HYPERLINK("http://evil.example","点我")'),
        ("+8613912345678", "'+8613912345678"),
        ("-5", "'-5"),
        ("-", "'-"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
    ],
)
def test_safe_cell_puts_an_apostrophe_before_a_formula_start(value: str, expected: str) -> None:
    assert safe_cell(value) == expected


@pytest.mark.parametrize(
    "value",
    ["", "SF1234567890", "电子产品", "a=b", "1+1", " =1", "'=1", "＝1+1", "12.50", "2026-01-05"],
)
def test_safe_cell_leaves_other_text_alone(value: str) -> None:
    assert safe_cell(value) == value


@pytest.mark.parametrize(
    "value", [-5, 0, 12.5, -0.5, Decimal("-5.00"), None, True, date(2026, 1, 5)]
)
def test_safe_cell_leaves_numbers_dates_and_none_alone(value: Any) -> None:
    assert safe_cell(value) is value


def parse_csv(chunks: list[str]) -> list[list[str]]:
    text = "".join(chunks)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_csv_lines_neutralise_header_and_cells_and_keep_numbers() -> None:
    rows = [[1, "=1+1", Decimal("-5.00"), None], [2, "-5", -3, "普通文本"]]
    parsed = parse_csv(list(csv_lines(["=Row", "Value", "Amount", "Note"], rows)))
    assert parsed == [
        ["'=Row", "Value", "Amount", "Note"],
        ["1", "'=1+1", "-5.00", ""],  # a negative *number* is a number, not a formula
        ["2", "'-5", "-3", "普通文本"],
    ]


def test_csv_lines_stream_in_chunks() -> None:
    rows = ([i, "=x" * 50] for i in range(5000))
    chunks = list(csv_lines(["n", "text"], rows))
    assert len(chunks) > 3
    assert max(len(c) for c in chunks) < 80 * 1024
    parsed = parse_csv(chunks)
    assert len(parsed) == 5001
    assert parsed[-1] == ["4999", "'" + "=x" * 50]


def test_xlsx_cells_are_text_never_formulas() -> None:
    rows = [
        [1, "=1+1", Decimal("12.50"), None],
        [2, "@SUM(A1)", -3, "+86"],
        [3, "normal", 0.5, "-"],
    ]
    data = xlsx_bytes("Rejects =1", ["=Row", "Value", "Amount", "Note"], rows)
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.title == "Rejects =1"
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values == [
        ["'=Row", "Value", "Amount", "Note"],
        [1, "'=1+1", 12.5, None],
        [2, "'@SUM(A1)", -3, "'+86"],
        [3, "normal", 0.5, "'-"],
    ]
    types = [[c.data_type for c in row] for row in sheet.iter_rows(min_row=2)]
    assert types == [["n", "s", "n", "n"], ["n", "s", "n", "s"], ["n", "s", "n", "s"]]
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)


def test_xlsx_stops_at_excels_row_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 3)
    data = xlsx_bytes("s", ["n"], ([i] for i in range(10)))
    sheet = load_workbook(io.BytesIO(data)).active
    assert [r[0].value for r in sheet.iter_rows()] == ["n", 0, 1, 2]


def test_xlsx_sheet_names_are_cut_to_31_characters() -> None:
    data = xlsx_bytes("x" * 40, ["n"], [])
    assert load_workbook(io.BytesIO(data)).active.title == "x" * 31


def test_responses_are_attachments_of_the_right_type() -> None:
    response = csv_response("rejects-1.csv", ["a"], [["=1"]])
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="rejects-1.csv"'
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body == "\ufeffa\r\n'=1\r\n"
    response = xlsx_response("rejects-1.xlsx", "Rejects", ["a"], [["=1"]])
    assert response["Content-Type"] == exports.XLSX_TYPE
    assert response["Content-Disposition"] == 'attachment; filename="rejects-1.xlsx"'
    assert load_workbook(io.BytesIO(response.content)).active["A2"].value == "'=1"
