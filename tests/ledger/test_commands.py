"""``kam import waybills PATH...`` and ``kam rejects BATCH``.

The import prints one summary per file (or, with ``--json``, one JSON object for scripts);
its exit status is non-zero only when nothing at all could be read.
"""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation
from openpyxl import load_workbook

from kam.ledger.models import AccountMonth, ImportBatch
from tests.conftest import TEST_FIELD_KEY
from tests.ledger.conftest import good_row, good_rows, lake_rows, write_waybills

pytestmark = pytest.mark.django_db


def kam(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def mixed_file(ledger_dir: Path) -> Path:
    """4 rows read: 2 accepted, 1 rejected (a formula in the waybill number), 1 duplicate."""
    rows = [good_row(1), good_row(2), good_row(3, waybill_no="=1+1"), good_row(1)]
    return write_waybills(ledger_dir / "a.csv", rows)


@pytest.fixture(autouse=True)
def _english() -> Any:
    """In-process commands print in the active language; these tests read English."""
    with translation.override("en"):
        yield


# --- kam import waybills --------------------------------------------------------------------


def test_json_prints_one_object_with_the_counts(mixed_file: Path) -> None:
    out, err = kam("import", "waybills", str(mixed_file), "--json")
    result = json.loads(out)  # the whole output is one JSON object
    assert isinstance(result, dict)
    assert {k: result[k] for k in ("read", "accepted", "rejected", "duplicates", "conflicts")} == {
        "read": 4, "accepted": 2, "rejected": 1, "duplicates": 1, "conflicts": 0,
    }  # fmt: skip
    (batch,) = result["batches"]
    assert batch["batch"] == ImportBatch.objects.get().pk
    assert (batch["status"], batch["file"], batch["months"]) == (
        "committed",
        str(mixed_file),
        ["2026-01"],
    )
    assert err == ""  # no progress line to get in the way of a script


def test_json_totals_add_up_over_several_files(ledger_dir: Path, mixed_file: Path) -> None:
    other = write_waybills(ledger_dir / "b.xlsx", [good_row(2), good_row(9, freight="9.99")])
    out, _ = kam("import", "waybills", str(mixed_file), str(other), "--json")
    result = json.loads(out)
    assert [b["accepted"] for b in result["batches"]] == [2, 1]
    assert (result["read"], result["accepted"], result["duplicates"]) == (6, 3, 2)


def test_without_json_a_summary_line_and_progress(mixed_file: Path) -> None:
    out, err = kam("import", "waybills", str(mixed_file))
    batch = ImportBatch.objects.get()
    assert (
        f"a.csv: batch {batch.pk}, read 4, accepted 2, updated 0, rejected 1, duplicates 1, conflicts 0"
        in out
    )
    assert f"kam rejects {batch.pk} -o rejects.csv" in out
    assert "a.csv: " in err  # the progress line names the file and its stage


def test_a_warning_is_printed_for_unknown_columns(ledger_dir: Path) -> None:
    path = write_waybills(ledger_dir / "extra.csv", [good_row(1, 备注="x")])
    out, _ = kam("import", "waybills", str(path))
    assert "ignored: 备注" in out


def test_a_missing_file_alone_exits_non_zero(ledger_dir: Path) -> None:
    with pytest.raises(CommandError) as caught:
        kam("import", "waybills", str(ledger_dir / "nope.csv"), "--json")
    assert caught.value.returncode == 1
    assert not ImportBatch.objects.exists()


def test_an_unreadable_file_alone_exits_non_zero(ledger_dir: Path) -> None:
    empty = ledger_dir / "empty.csv"
    empty.write_bytes(b"")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError):
        call_command("import", "waybills", str(empty), stdout=out, stderr=err)
    assert "The file is empty." in err.getvalue()
    assert ImportBatch.objects.get().status == ImportBatch.Status.FAILED


def test_a_good_file_with_a_bad_one_exits_zero(ledger_dir: Path, mixed_file: Path) -> None:
    empty = ledger_dir / "empty.csv"
    empty.write_bytes(b"")
    out, _ = kam(
        "import", "waybills", str(ledger_dir / "nope.csv"), str(empty), str(mixed_file), "--json"
    )
    result = json.loads(out)
    assert [b["status"] for b in result["batches"]] == ["failed", "failed", "committed"]
    assert result["batches"][0]["error"] == "No such file."
    assert result["batches"][1]["error"] == "The file is empty."
    assert result["accepted"] == 2


def test_a_file_whose_rows_are_all_rejected_was_read_and_exits_zero(ledger_dir: Path) -> None:
    path = write_waybills(ledger_dir / "bad.csv", good_rows(2, freight="-1"))
    out, _ = kam("import", "waybills", str(path), "--json")
    assert (json.loads(out)["read"], json.loads(out)["rejected"]) == (2, 2)


def test_encoding_and_format_can_be_chosen(ledger_dir: Path) -> None:
    path = write_waybills(ledger_dir / "gbk.csv", good_rows(2), encoding="gbk")
    with pytest.raises(CommandError):
        kam("import", "waybills", str(path), "--encoding", "utf-8", "--json")
    assert ImportBatch.objects.get().error_code == "encoding_wrong"
    out, _ = kam("import", "waybills", str(path), "--encoding", "gbk", "--format", "csv", "--json")
    assert json.loads(out)["accepted"] == 2
    assert ImportBatch.objects.latest("pk").encoding == "gbk"
    assert {r["goods_category"] for r in lake_rows()} == {"电子产品"}
    with pytest.raises(CommandError):
        kam("import", "waybills", str(path), "--encoding", "latin-1")


def test_the_real_exit_status_of_the_console_command(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAM_")}
    env.update(
        KAM_DATA_DIR=str(tmp_path / "data"),
        KAM_FIELD_KEY=TEST_FIELD_KEY,
        KAM_SECRET_KEY="exit-status-test-secret-key-0123456789-abcdefghij",
        KAM_DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and command
        [sys.executable, "-m", "kam.cli", "import", "waybills", str(tmp_path / "missing.csv")],
        env=env, capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert done.returncode == 1
    assert "文件不存在" in done.stderr  # the console speaks the product's default language


# --- kam rejects --------------------------------------------------------------------------------


@pytest.fixture
def formula_batch(ledger_dir: Path) -> ImportBatch:
    rows = [
        good_row(1),
        good_row(2, waybill_no="=1+1"),
        good_row(3, freight="-5"),
        good_row(4, billing_code="@SUM(A1)", pieces="+1"),
        good_row(5, ship_time="=NOW()"),
    ]
    call_command(
        "import",
        "waybills",
        str(write_waybills(ledger_dir / "f.csv", rows)),
        "--json",
        stdout=io.StringIO(),
    )
    return ImportBatch.objects.get()


def test_rejects_csv_neutralises_formulas(formula_batch: ImportBatch, tmp_path: Path) -> None:
    target = tmp_path / "rejects.csv"
    kam("rejects", str(formula_batch.pk), "-o", str(target))
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Chinese Excel
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["Row", "Column", "Column name", "Value", "Reason code", "Problem"]
    values = {(r[0], r[2]): r[3] for r in rows[1:]}
    assert values == {
        ("3", "waybill_no"): "'=1+1",
        ("4", "freight"): "'-5",
        ("5", "billing_code"): "'@SUM(A1)",
        ("5", "pieces"): "'+1",
        ("6", "ship_time"): "'=NOW()",
    }
    assert not any(v.startswith(("=", "+", "-", "@")) for r in rows for v in r)


def test_rejects_xlsx_holds_formulas_as_text(formula_batch: ImportBatch, tmp_path: Path) -> None:
    target = tmp_path / "rejects.xlsx"
    kam("rejects", str(formula_batch.pk), "--xlsx", "-o", str(target))
    sheet = load_workbook(target).active
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
    value_cells = [row[3] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in value_cells] == ["'=1+1", "'-5", "'@SUM(A1)", "'+1", "'=NOW()"]
    assert all(c.data_type == "s" for c in value_cells)
    assert not any(c.data_type == "f" for c in cells)  # no formula anywhere
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == [
        3,
        4,
        5,
        5,
        6,
    ]  # numbers stay numbers


def test_rejects_to_standard_output(
    formula_batch: ImportBatch, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("rejects", str(formula_batch.pk))
    printed = capsys.readouterr().out
    assert printed.startswith("\ufeffRow,Column")
    assert "'=1+1" in printed


def test_rejects_refusals(formula_batch: ImportBatch) -> None:
    with pytest.raises(CommandError, match="There is no import 999999"):
        kam("rejects", "999999")
    with pytest.raises(CommandError, match="XLSX needs --output"):
        kam("rejects", str(formula_batch.pk), "--xlsx")


def test_rejects_of_a_clean_batch_is_only_the_header(ledger_dir: Path, tmp_path: Path) -> None:
    call_command(
        "import",
        "waybills",
        str(write_waybills(ledger_dir / "ok.csv", good_rows(2))),
        "--json",
        stdout=io.StringIO(),
    )
    target = tmp_path / "none.csv"
    kam("rejects", str(ImportBatch.objects.get().pk), "-o", str(target))
    assert target.read_text(encoding="utf-8-sig").splitlines() == [
        "Row,Column,Column name,Value,Reason code,Problem"
    ]
    assert AccountMonth.objects.get().waybills == 2


# --- kam facts rebuild ----------------------------------------------------------------------


def test_facts_rebuild_brings_back_the_product_mix_and_lanes_from_the_lake(
    ledger_dir: Path,
) -> None:
    """As after an upgrade that dropped the old tables: the facts come back from the lake."""
    from kam.ledger.models import FactFile
    from tests.ledger.conftest import import_file, lane_facts

    import_file(write_waybills(ledger_dir / "a.csv", good_rows(3)))
    before = list(AccountMonth.objects.values_list("revenue", "express_waybills", "lanes"))
    lanes_before = lane_facts()
    AccountMonth.objects.update(express_waybills=0, express_revenue=0)
    FactFile.objects.all().delete()
    out = io.StringIO()
    with translation.override("en"):
        call_command("facts", "rebuild", stdout=out)
    assert "1 account-months, 1 lane rows" in out.getvalue()
    assert list(AccountMonth.objects.values_list("revenue", "express_waybills", "lanes")) == before
    assert lane_facts() == lanes_before


def test_facts_rebuild_refuses_a_month_that_is_not_one(ledger_dir: Path) -> None:
    with translation.override("en"), pytest.raises(CommandError, match="2026-13"):
        call_command("facts", "rebuild", "--month", "2026-01", "--month", "2026-13")
