"""Reading import files: encodings, what a file really is, headings, empty files, streaming.

A file that cannot be read fails the whole batch with a code the user sees as a sentence,
and nothing is stored: no LakeFile, no facts, no file in the lake.
"""

import codecs
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from django.utils import translation

from kam.ledger import messages, sources
from kam.ledger.models import AccountMonth, ImportBatch, LakeFile
from kam.ledger.validation import LAKE_TYPES
from tests.ledger.conftest import (
    assert_failed_and_nothing_stored,
    good_row,
    good_rows,
    import_file,
    lake_files_on_disk,
    lake_rows,
    write_waybills,
)

pytestmark = pytest.mark.django_db


def rejects_of(batch: ImportBatch) -> list[tuple[int, str, str | None, str]]:
    from kam.ledger import selectors

    return [(r.row, r.column, r.value, r.reason) for r in selectors.rejects(batch)]


# --- encodings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),  # what Excel writes for "CSV UTF-8"
        ("gbk", "gb18030"),  # Chinese Excel's plain CSV; GB18030 reads every GBK file
        ("gb18030", "gb18030"),
        ("utf-16", "utf-16"),  # with its BOM
    ],
)
def test_csv_encodings_are_detected_with_chinese_headings_and_values(
    ledger_dir: Path, encoding: str, detected: str
) -> None:
    rows = [
        good_row(1, goods_category="电子产品（手机）"),
        good_row(2, origin="广东省深圳市", status="丢失"),
    ]
    path = write_waybills(ledger_dir / f"waybills-{encoding}.csv", rows, encoding=encoding)
    batch = import_file(path)
    assert batch.status == ImportBatch.Status.COMMITTED, (batch.error_code, batch.error_params)
    assert batch.encoding == detected
    assert (batch.rows_read, batch.accepted, batch.rejected) == (2, 2, 0)
    stored = lake_rows()
    assert [r["goods_category"] for r in stored] == ["电子产品（手机）", "电子产品"]
    assert [r["origin"] for r in stored] == ["350100", "440300"]
    assert [r["status"] for r in stored] == ["delivered", "lost"]


def test_detect_encoding_from_the_first_bytes() -> None:
    text = "运单号,月结账号\nSF1,YJ1\n"
    assert sources.detect_encoding(text.encode("utf-8")) == "utf-8"
    assert sources.detect_encoding(codecs.BOM_UTF8 + text.encode("utf-8")) == "utf-8-sig"
    assert sources.detect_encoding(text.encode("gbk")) == "gb18030"
    assert sources.detect_encoding(text.encode("utf-16")) == "utf-16"
    # A character cut in half at the end of the sample is not a wrong encoding.
    assert sources.detect_encoding(text.encode("utf-8") + "中".encode()[:2]) == "utf-8"
    with pytest.raises(sources.SourceError) as caught:
        sources.detect_encoding(b"a,b\n\xff\xff\xff\x80\n")
    assert caught.value.code == "encoding_unknown"


def test_a_users_encoding_choice_is_honoured_over_detection(ledger_dir: Path) -> None:
    # These six bytes are "中文" in UTF-8 and three other characters in GB18030: detection
    # says UTF-8, the user knows the file is GB18030.
    raw = "中文".encode()
    as_gb18030 = raw.decode("gb18030")
    assert as_gb18030 != "中文"
    row = good_row(1, origin="350100", destination="310100", product="express", status="delivered",
                   consignee_type="business", is_return="no", goods_category="X")  # fmt: skip
    path = write_waybills(ledger_dir / "ambiguous.csv", [row], headings="name")
    path.write_bytes(path.read_bytes().replace(b",X,", b"," + raw + b","))

    detected = import_file(path)
    assert detected.encoding == "utf-8"
    assert [r["goods_category"] for r in lake_rows()] == ["中文"]

    # Another waybill number, so that the second import is not a duplicate of the first.
    path.write_bytes(path.read_bytes().replace(b"SF0000000001", b"SF0000000002"))
    chosen = import_file(path, encoding="gb18030")
    assert chosen.status == ImportBatch.Status.COMMITTED
    assert chosen.encoding == "gb18030"
    assert [r["goods_category"] for r in lake_rows()] == ["中文", as_gb18030]


def test_a_wrong_encoding_choice_fails_and_stores_nothing(ledger_dir: Path) -> None:
    path = write_waybills(ledger_dir / "gbk.csv", good_rows(3), encoding="gbk")
    batch = import_file(path, encoding="utf-8")
    assert_failed_and_nothing_stored(batch, "encoding_wrong")
    assert batch.error_params["encoding"] == "utf-8"
    with translation.override("en"):
        text = messages.failure_text(batch.error_code, batch.error_params)
    assert "not valid utf-8" in text and "Choose another encoding" in text


def test_a_wrong_byte_after_the_sniffed_sample_fails_the_whole_file(ledger_dir: Path) -> None:
    """Detection reads the first 64 KB; a GBK row further down still fails the batch whole."""
    rows = good_rows(1200)
    path = write_waybills(ledger_dir / "mixed.csv", rows, encoding="utf-8")
    assert path.stat().st_size > sources.SNIFF_BYTES
    with open(path, "ab") as f:
        f.write(",".join(good_row(5000, goods_category="服装").values()).encode("gbk") + b"\r\n")
    batch = import_file(path)
    assert_failed_and_nothing_stored(batch, "encoding_wrong")


def test_an_unknown_encoding_name_is_refused_by_the_service(ledger_dir: Path) -> None:
    from kam.core.errors import ApplicationError
    from kam.ledger import services

    path = write_waybills(ledger_dir / "a.csv", good_rows(1))
    with pytest.raises(ApplicationError):
        services.import_create(
            by=None, source="cli", file_name="a.csv", path=path, encoding="latin-1"
        )
    assert not ImportBatch.objects.exists()


# --- a file that is not what its name says ----------------------------------------------------


def test_an_xlsx_renamed_csv_is_refused(ledger_dir: Path) -> None:
    path = write_waybills(ledger_dir / "real.xlsx", good_rows(2)).rename(ledger_dir / "fake.csv")
    batch = import_file(path)
    assert_failed_and_nothing_stored(batch, "extension_mismatch")
    assert batch.error_params == {"extension": ".csv", "actual": "xlsx"}


def test_a_csv_renamed_xlsx_is_refused(ledger_dir: Path) -> None:
    path = write_waybills(ledger_dir / "real.csv", good_rows(2)).rename(ledger_dir / "fake.xlsx")
    batch = import_file(path)
    assert_failed_and_nothing_stored(batch, "extension_mismatch")
    assert batch.error_params == {"extension": ".xlsx", "actual": "csv"}


def test_a_parquet_file_renamed_csv_is_refused(ledger_dir: Path) -> None:
    path = write_waybills(ledger_dir / "real.parquet", good_rows(2)).rename(ledger_dir / "fake.csv")
    assert_failed_and_nothing_stored(import_file(path), "extension_mismatch")


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        (
            "report.csv",
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
            "pdf",
        ),
        ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10", "binary"),
        ("dump.xlsx", bytes(range(256)) * 8, "binary"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "xls"),
        ("old-renamed.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "xls"),
    ],
)
def test_pdf_binary_and_old_xls_are_refused_with_what_they_are(
    ledger_dir: Path, name: str, content: bytes, kind: str
) -> None:
    path = ledger_dir / name
    path.write_bytes(content)
    batch = import_file(path)
    assert_failed_and_nothing_stored(batch, "unsupported_content")
    assert batch.error_params == {"kind": kind}
    with translation.override("en"):
        text = messages.failure_text(batch.error_code, batch.error_params)
    assert {"pdf": "PDF", "binary": "binary data", "xls": "save it as .xlsx"}[kind] in text


def test_a_damaged_workbook_is_refused(ledger_dir: Path) -> None:
    path = ledger_dir / "damaged.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    assert_failed_and_nothing_stored(import_file(path), "xlsx_unreadable")


def test_a_damaged_parquet_file_is_refused(ledger_dir: Path) -> None:
    path = ledger_dir / "damaged.parquet"
    path.write_bytes(b"PAR1" + b"\x00garbage" * 50)
    assert_failed_and_nothing_stored(import_file(path), "parquet_unreadable")


def test_an_unknown_extension_is_refused(ledger_dir: Path) -> None:
    path = write_waybills(ledger_dir / "a.csv", good_rows(1)).rename(ledger_dir / "a.doc")
    batch = import_file(path)
    assert_failed_and_nothing_stored(batch, "unknown_extension")
    assert batch.error_params == {"extension": ".doc"}


def test_a_chosen_format_that_the_file_is_not_is_refused(ledger_dir: Path) -> None:
    path = write_waybills(ledger_dir / "a.csv", good_rows(1))
    batch = import_file(path, fmt="xlsx")
    assert_failed_and_nothing_stored(batch, "format_mismatch")
    assert batch.error_params == {"expected": "xlsx", "actual": "csv"}


def test_a_chosen_format_reads_a_file_without_a_known_extension(ledger_dir: Path) -> None:
    path = write_waybills(ledger_dir / "export.csv", good_rows(2)).rename(ledger_dir / "export.dat")
    batch = import_file(path, fmt="csv")
    assert batch.status == ImportBatch.Status.COMMITTED
    assert batch.accepted == 2


# --- formats ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "suffix", [".csv", ".tsv", ".txt", ".xlsx", ".parquet", ".json", ".ndjson"]
)
def test_every_format_imports_the_same_waybills(ledger_dir: Path, suffix: str) -> None:
    rows = [
        good_row(1),
        good_row(
            2,
            freight="1,234.50",
            ship_time="2026/2/1 08:00",
            product="标快",
            delivered_time="",
            promised_time="",
        ),
    ]
    batch = import_file(write_waybills(ledger_dir / f"w{suffix}", rows))
    assert batch.status == ImportBatch.Status.COMMITTED, (batch.error_code, batch.error_params)
    assert (batch.rows_read, batch.accepted) == (2, 2)
    stored = lake_rows()
    assert [r["freight"] for r in stored] == [12.5, 1234.5]
    assert [r["month"] for r in stored] == ["2026-01", "2026-02"]
    assert [r["product"] for r in stored] == ["express", "standard"]


def test_semicolon_and_pipe_separated_csv_is_read(ledger_dir: Path) -> None:
    path = write_waybills(ledger_dir / "comma.csv", good_rows(2))
    text = path.read_text(encoding="utf-8")
    for i, sep in enumerate((";", "|")):
        other = ledger_dir / f"sep{i}.csv"
        other.write_text(text.replace(",", sep).replace("SF000", f"S{i}F000"), encoding="utf-8")
        batch = import_file(other)
        assert (batch.status, batch.accepted) == (ImportBatch.Status.COMMITTED, 2)


def test_an_xlsx_with_real_dates_and_numbers_imports(ledger_dir: Path) -> None:
    import datetime

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(
        [
            "运单号",
            "月结账号",
            "寄件时间",
            "始发地",
            "目的地",
            "产品",
            "件数",
            "计费重量",
            "运费",
            "状态",
        ]
    )
    sheet.append(
        [
            "SF1",
            "YJ0591001",
            datetime.datetime(2026, 3, 1, 9, 30),  # noqa: DTZ001 - a spreadsheet's wall time
            "福州",
            "上海",
            "特快",
            2,
            1.5,
            12.5,
            "已签收",
        ]
    )  # noqa: DTZ001 - a spreadsheet's wall time
    sheet.append(
        [
            "SF2",
            "YJ0591001",
            datetime.date(2026, 3, 2),
            350100,
            310100,
            "标快",
            1,
            0.25,
            8,
            "已签收",
        ]
    )
    sheet.append(
        [
            "SF3",
            "YJ0591001",
            datetime.date(2026, 3, 2),
            "福州",
            "上海",
            "标快",
            1,
            0.25,
            8.125,
            "已签收",
        ]
    )
    path = ledger_dir / "dates.xlsx"
    workbook.save(path)
    batch = import_file(path)
    assert (batch.accepted, batch.rejected) == (2, 1)
    assert rejects_of(batch) == [(4, "freight", "8.125", "too_many_decimals")]
    stored = lake_rows()
    assert [str(r["ship_time"]) for r in stored] == ["2026-03-01 01:30:00", "2026-03-01 16:00:00"]
    assert [(r["pieces"], str(r["weight_kg"]), str(r["freight"])) for r in stored] == [
        (2, "1.500", "12.50"),
        (1, "0.250", "8.00"),
    ]
    assert stored[1]["origin"] == "350100"


def test_a_typed_parquet_file_is_read_in_place(ledger_dir: Path) -> None:
    """Parquet keeps its types: numbers stay numbers (checked for decimals), times are Beijing."""
    path = ledger_dir / "typed.parquet"
    con = duckdb.connect()
    table = con.sql(
        """SELECT * FROM (VALUES
            ('SF1', 'YJ0591001', TIMESTAMP '2026-04-01 10:00:00', '福州', '上海', '特快', 2, 1.5::DOUBLE, 12.5::DOUBLE, 12.50::DECIMAL(10,2), '已签收', true),
            ('SF2', 'YJ0591001', TIMESTAMP '2026-04-02 10:00:00', '福州', '上海', '特快', 1, 1.0::DOUBLE, 12.345::DOUBLE, 1::DECIMAL(10,2), '已签收', false),
            ('SF3', 'YJ0591001', TIMESTAMP '2026-04-03 10:00:00', '福州', '上海', '特快', 0, 1.0::DOUBLE, -1::DOUBLE, 1::DECIMAL(10,2), '已签收', NULL)
          ) t(运单号, 月结账号, 寄件时间, 始发地, 目的地, 产品, 件数, 计费重量, 运费, 成本, 状态, 逆向)"""
    ).to_arrow_table()
    con.close()
    pq.write_table(table, path)
    batch = import_file(path)
    assert (batch.rows_read, batch.accepted, batch.rejected) == (3, 1, 2)
    assert rejects_of(batch) == [
        (2, "freight", "12.345", "too_many_decimals"),
        (3, "freight", "-1.0", "negative"),
        (3, "pieces", "0", "below_one"),
    ]
    (row,) = lake_rows()
    assert str(row["ship_time"]) == "2026-04-01 02:00:00"
    assert (row["pieces"], str(row["freight"]), str(row["cost"]), row["is_return"]) == (
        2,
        "12.50",
        "12.50",
        True,
    )


def test_typed_parquet_decimals_are_checked_by_their_scale(ledger_dir: Path) -> None:
    """A money column with four places is refused only where a third or fourth place is not
    zero; integers and codes stored as numbers are read as they are."""
    path = ledger_dir / "scaled.parquet"
    con = duckdb.connect()
    table = con.sql(
        """SELECT * FROM (VALUES
            ('SF1', 591001, TIMESTAMP '2026-04-01 10:00:00', '福州', '上海', '特快', 2::BIGINT, 1.500::DECIMAL(12,3), 12.3400::DECIMAL(18,4), '已签收'),
            ('SF2', 591001, TIMESTAMP '2026-04-02 10:00:00', '福州', '上海', '特快', 1::BIGINT, 1.250::DECIMAL(12,3), 12.3456::DECIMAL(18,4), '已签收'),
            ('SF3', 591002, TIMESTAMP '2026-04-03 10:00:00', '福州', '上海', '特快', 0::BIGINT, 2.000::DECIMAL(12,3), 0.0100::DECIMAL(18,4), '已签收')
          ) t(运单号, 月结账号, 寄件时间, 始发地, 目的地, 产品, 件数, 计费重量, 运费, 状态)"""
    ).to_arrow_table()
    con.close()
    pq.write_table(table, path)
    batch = import_file(path)
    assert (batch.rows_read, batch.accepted, batch.rejected) == (3, 1, 2)
    assert rejects_of(batch) == [
        (2, "freight", "12.3456", "too_many_decimals"),
        (3, "pieces", "0", "below_one"),
    ]
    (row,) = lake_rows()
    assert (row["billing_code"], row["pieces"], str(row["weight_kg"]), str(row["freight"])) == (
        "591001",
        2,
        "1.500",
        "12.34",
    )


# --- headings -----------------------------------------------------------------------------


def test_missing_required_columns_fail_with_their_names(ledger_dir: Path) -> None:
    rows = [
        {k: v for k, v in good_row(i).items() if k not in ("freight", "status")} for i in (1, 2)
    ]
    batch = import_file(write_waybills(ledger_dir / "short.csv", rows))
    assert_failed_and_nothing_stored(batch, "missing_columns")
    assert batch.error_params["columns"] == ["freight", "status"]
    assert "运单号" in batch.error_params["found"]
    with translation.override("zh-hans"):
        assert "运费 (freight)" in messages.failure_text(batch.error_code, batch.error_params)
    with translation.override("en"):
        text = messages.failure_text(batch.error_code, batch.error_params)
    assert "Freight revenue (CNY) (freight)" in text and "Status (status)" in text


def test_unknown_columns_are_ignored_with_a_warning_and_stored_nowhere(ledger_dir: Path) -> None:
    rows = [good_row(i, 备注=f"SECRET-NOTE-{i}", customer_phone="13900000000") for i in (1, 2)]
    batch = import_file(write_waybills(ledger_dir / "extra.csv", rows))
    assert batch.status == ImportBatch.Status.COMMITTED
    assert batch.accepted == 2
    assert batch.warnings == [
        {"code": "unknown_columns", "params": {"columns": ["备注", "customer_phone"]}}
    ]
    with translation.override("en"):
        assert "备注, customer_phone" in messages.warning_text(
            "unknown_columns", batch.warnings[0]["params"]
        )
    stored = lake_rows()
    # The lake's columns and the import's bookkeeping (the source row, no problems).
    assert set(stored[0]) == {*LAKE_TYPES, "month", "_row", "problems"}
    assert [(r["_row"], r["problems"]) for r in stored] == [(2, None), (3, None)]
    # Nothing in the lake (waybills or reject reports) holds the extra columns' values.
    con = duckdb.connect()
    for file in sorted(Path(lake_files_on_disk()[0]).parents[2].rglob("*.parquet")):
        text = str(con.execute("SELECT * FROM read_parquet(?)", [str(file)]).fetchall())
        assert "SECRET-NOTE" not in text and "13900000000" not in text
    con.close()


@pytest.mark.parametrize(
    "headings",
    [
        "en",
        "name",
        {"waybill_no": "运单编号", "billing_code": "月结卡号", "weight_kg": "计费重量(kg)",
         "freight": "运费金额（元）", "ship_time": "揽收时间", "pieces": "件数(件)"},
        {"waybill_no": " Tracking Number ", "billing_code": "客户编码", "weight_kg": "计费重量（KG）",
         "freight": "Freight_Revenue", "origin": "寄件城市", "destination": "收件城市"},
    ],
)  # fmt: skip
def test_english_names_and_chinese_aliases_map_to_the_contract(
    ledger_dir: Path, headings: Any
) -> None:
    batch = import_file(
        write_waybills(
            ledger_dir / "aliases.csv", [good_row(1, weight_kg="2.125")], headings=headings
        )
    )
    assert batch.status == ImportBatch.Status.COMMITTED, (batch.error_code, batch.error_params)
    assert batch.warnings == []
    (row,) = lake_rows()
    assert (row["waybill_no"], row["billing_code"], str(row["weight_kg"]), str(row["freight"])) == (
        "SF0000000001", "YJ0591001", "2.125", "12.50",
    )  # fmt: skip


def test_two_headings_for_one_column_fail(ledger_dir: Path) -> None:
    rows = [good_row(1) | {"单号": "SF9"}]
    batch = import_file(write_waybills(ledger_dir / "twice.csv", rows))
    assert_failed_and_nothing_stored(batch, "repeated_columns")
    assert batch.error_params == {"columns": ["waybill_no"]}


# --- empty files and blank lines --------------------------------------------------------------


def test_an_empty_file_fails(ledger_dir: Path) -> None:
    path = ledger_dir / "empty.csv"
    path.write_bytes(b"")
    batch = import_file(path)
    assert_failed_and_nothing_stored(batch, "empty")
    with translation.override("en"):
        assert messages.failure_text(batch.error_code) == "The file is empty."


@pytest.mark.parametrize(
    ("suffix", "encoding"),
    [(".csv", "utf-8"), (".csv", "utf-8-sig"), (".csv", "gbk"), (".xlsx", "utf-8")],
)
def test_a_file_with_headings_only_fails_with_no_rows(
    ledger_dir: Path, suffix: str, encoding: str
) -> None:
    path = write_waybills(
        ledger_dir / f"header{suffix}", [], columns=list(good_row()), encoding=encoding
    )
    batch = import_file(path)
    assert_failed_and_nothing_stored(batch, "no_rows")


def test_headings_followed_by_blank_lines_only_fail_with_no_rows(ledger_dir: Path) -> None:
    path = write_waybills(ledger_dir / "blank.csv", [], columns=list(good_row()))
    with open(path, "a", encoding="utf-8") as f:
        f.write("\r\n\r\n" + "," * 18 + "\r\n")
    assert_failed_and_nothing_stored(import_file(path), "no_rows")


def test_a_file_of_blank_lines_fails_with_no_header(ledger_dir: Path) -> None:
    path = ledger_dir / "blank.csv"
    path.write_text("\n\n\n", encoding="utf-8")
    assert_failed_and_nothing_stored(import_file(path), "no_header")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_blank_line_in_the_middle_is_skipped_and_rows_keep_their_numbers(
    ledger_dir: Path, suffix: str
) -> None:
    """Row numbers are those a spreadsheet shows: the header is row 1, a blank line counts."""
    rows = [
        good_row(1),
        {},
        good_row(2, freight="abc"),
        {k: "" for k in good_row()},
        good_row(3, pieces="0"),
    ]
    path = write_waybills(ledger_dir / f"gaps{suffix}", rows)
    if (
        suffix == ".csv"
    ):  # the writer wrote the empty dict as a line of commas; make it a real blank line
        lines = path.read_bytes().decode("utf-8").split("\r\n")
        lines[2] = ""
        path.write_text("\r\n".join(lines), encoding="utf-8")
    batch = import_file(path)
    assert batch.status == ImportBatch.Status.COMMITTED
    assert (batch.rows_read, batch.accepted, batch.rejected) == (3, 1, 2)
    assert rejects_of(batch) == [
        (4, "freight", "abc", "not_a_number"),
        (6, "pieces", "0", "below_one"),
    ]


def test_a_record_with_the_wrong_number_of_fields_is_rejected_and_the_rest_kept(
    ledger_dir: Path,
) -> None:
    path = write_waybills(ledger_dir / "ragged.csv", good_rows(3))
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    lines[2] = lines[2] + ",extra,fields"
    path.write_text("\r\n".join(lines), encoding="utf-8")
    batch = import_file(path)
    assert (batch.rows_read, batch.accepted, batch.rejected) == (3, 2, 1)
    ((row, column, value, reason),) = rejects_of(batch)
    assert (row, column, reason) == (3, "", "bad_record")
    assert value.startswith("SF0000000002")
    assert [r["waybill_no"] for r in lake_rows()] == ["SF0000000001", "SF0000000003"]


def test_a_quoted_value_with_a_line_break_is_one_record(ledger_dir: Path) -> None:
    rows = [good_row(1, goods_category="第一行\n第二行"), good_row(2, freight="x")]
    batch = import_file(write_waybills(ledger_dir / "multiline.csv", rows))
    assert batch.accepted == 1
    assert rejects_of(batch) == [(3, "freight", "x", "not_a_number")]
    assert lake_rows()[0]["goods_category"] == "第一行\n第二行"


# --- streaming ----------------------------------------------------------------------------


def _big_csv(path: Path, rows: int) -> Path:
    header = ",".join(
        [
            "运单号",
            "月结账号",
            "寄件时间",
            "始发地",
            "目的地",
            "产品",
            "件数",
            "计费重量",
            "运费",
            "附加费",
            "托寄物",
            "状态",
        ]
    )
    tail = ",福州,上海,特快,1,1.250,12.50,1.00,电子产品 手机 配件 充电器,已签收\n"
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(header + "\n")
        chunk = 10_000
        for start in range(0, rows, chunk):
            f.write(
                "".join(
                    f"SF{i:012d},YJ{i % 997:07d},2026-01-{1 + i % 28:02d} 10:00:00{tail}"
                    for i in range(start, min(start + chunk, rows))
                )
            )
    return path


def test_a_big_csv_is_staged_in_blocks_not_loaded_whole(
    ledger_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """~40 MB, 300k rows: the reads from the file are bounded by the block size and Python's
    own allocations stay far below the file's size. (A 2 GB file is exercised by bench/ledger.)"""
    readers: list[sources._CountingReader] = []

    class Recording(sources._CountingReader):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            readers.append(self)

    monkeypatch.setattr(sources, "_CountingReader", Recording)
    block = 128 * 1024
    monkeypatch.setattr(sources, "BLOCK_BYTES", block)
    rows = 300_000
    path = _big_csv(ledger_dir / "big.csv", rows)
    size = path.stat().st_size
    assert size > 30 * 1024 * 1024
    work = tmp_path / "work"
    work.mkdir()
    progress: list[int] = []
    tracemalloc.start()
    try:
        sniffed = sources.sniff(path, path.name)
        staged = sources.stage(path, sniffed, work, progress=progress.append)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert staged.rows == rows
    (reader,) = readers
    assert reader.done == size  # every byte read once, through the counting reader
    assert 0 < reader.largest_read <= block
    assert len(progress) >= size // block  # progress reported block by block
    # Arrow reads ahead a bounded number of blocks (32) on its I/O thread; the Python
    # buffers it holds stay far below the file's size.
    assert peak < size / 4, peak
    con = duckdb.connect()
    assert con.execute(
        f"SELECT min(_row), max(_row), count(*) FROM {staged.sql_source}"  # noqa: S608 - the stager's own SQL
    ).fetchall() == [(2, rows + 1, rows)]
    con.close()
    assert not LakeFile.objects.exists() and not AccountMonth.objects.exists()
