"""The import pipeline: rejects, repeats, duplicates and conflicts, facts, and atomicity.

A batch lands whole or not at all: the LakeFile rows, the facts of the months it touches
and its status change in one database transaction. Files written before that commit are
read by nobody, and the next import removes them.
"""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from kam.accounts.models import Account, BillingCode
from kam.ledger import facts, importer, lake, messages, selectors, services
from kam.ledger.models import (
    AccountMonth,
    FactFile,
    ImportBatch,
    LakeFile,
    UnlinkedCode,
)
from tests.conftest import TEST_FIELD_KEY
from tests.ledger.conftest import (
    facts_snapshot,
    good_row,
    good_rows,
    import_file,
    lake_files_on_disk,
    lake_rows,
    lane_facts,
    write_waybills,
)

pytestmark = pytest.mark.django_db


def rejects_of(batch: ImportBatch) -> list[tuple[int, str, str | None, str, str]]:
    return [(r.row, r.column, r.value, r.reason, r.detail) for r in selectors.rejects(batch)]


def counts(batch: ImportBatch) -> tuple[int, int, int, int, int]:
    return batch.rows_read, batch.accepted, batch.rejected, batch.duplicates, batch.conflicts


# --- the happy path and the facts ---------------------------------------------------------------


def test_good_rows_land_in_the_lake_and_the_facts(ledger_dir: Path) -> None:
    batch = import_file(write_waybills(ledger_dir / "jan.csv", good_rows(3)))
    assert batch.status == ImportBatch.Status.COMMITTED
    assert counts(batch) == (3, 3, 0, 0, 0)
    assert batch.months == ["2026-01"]
    assert batch.file_format == "csv" and len(batch.file_sha256) == 64
    assert batch.started_at and batch.finished_at and batch.percent == 100
    (lake_file,) = LakeFile.objects.all()
    assert (lake_file.batch_id, lake_file.month, lake_file.rows) == (batch.pk, "2026-01", 3)
    assert lake_file.path.startswith(f"waybills/month=2026-01/b{batch.pk}_")
    assert [r["waybill_no"] for r in lake_rows()] == [
        "SF0000000001",
        "SF0000000002",
        "SF0000000003",
    ]
    fact = AccountMonth.objects.get()
    assert (fact.billing_code, fact.month) == ("YJ0591001", date(2026, 1, 1))
    assert (fact.waybills, fact.pieces, fact.weight_kg) == (3, 3, Decimal("3.750"))
    assert (fact.revenue, fact.cost, fact.margin, fact.cod_amount) == (
        Decimal("40.50"), Decimal("24.00"), Decimal("16.50"), Decimal("300.00"),
    )  # fmt: skip
    assert (fact.promised, fact.on_time, fact.lanes, fact.destination_cities, fact.active_days) == (
        3,
        3,
        1,
        1,
        1,
    )
    assert not lake.work_dir(batch.pk).exists()


def test_facts_count_statuses_returns_lanes_products_and_days(ledger_dir: Path) -> None:
    rows = [
        good_row(1),
        good_row(2, delivered_time="2026-01-08 10:00", destination="北京", product="标快"),  # late
        good_row(3, status="丢失", delivered_time="", ship_time="2026-01-06 09:00", cost=""),
        good_row(4, status="破损", consignee_type="个人", is_return="是", surcharges=""),
        good_row(5, status="退回", promised_time="", destination="北京", freight="100.00"),
        good_row(6, billing_code="other-1", ship_time="2026-02-01 00:30"),
    ]
    import_file(write_waybills(ledger_dir / "mix.csv", rows))
    jan = AccountMonth.objects.get(billing_code="YJ0591001")
    assert (jan.waybills, jan.lost, jan.damaged, jan.returned, jan.returns) == (5, 1, 1, 1, 1)
    assert (jan.promised, jan.on_time) == (2, 1)  # delivered with both times: rows 1 and 2
    assert jan.consumer_waybills == 1
    assert jan.revenue == Decimal("13.50") * 3 + Decimal("12.50") + Decimal("101.00")
    assert (jan.costed_waybills, jan.cost) == (4, Decimal("32.00"))
    assert jan.margin == jan.revenue - Decimal("13.50") - 4 * Decimal("8.00")
    assert (jan.lanes, jan.destination_cities, jan.active_days) == (2, 2, 2)
    feb = AccountMonth.objects.get(billing_code="OTHER-1")
    assert (feb.month, feb.waybills) == (date(2026, 2, 1), 1)
    assert (jan.express_waybills, jan.express_revenue) == (
        4,
        Decimal("13.50") * 2 + Decimal("12.50") + Decimal("101.00"),
    )
    assert (jan.standard_waybills, jan.standard_revenue) == (1, Decimal("13.50"))
    assert (jan.ground_waybills, jan.cold_waybills, jan.international_waybills) == (0, 0, 0)
    assert jan.ground_revenue == jan.cold_revenue == jan.international_revenue == Decimal("0")
    lanes = {
        (lane["origin"], lane["destination"]): (lane["waybills"], lane["revenue"])
        for lane in lane_facts()
        if lane["billing_code"] == "YJ0591001"
    }
    assert lanes == {
        ("350100", "310100"): (3, Decimal("39.50")),
        ("350100", "110100"): (2, Decimal("114.50")),
    }


def test_a_rebuilt_month_switches_its_lane_files_and_the_next_import_removes_the_old(
    ledger_dir: Path,
) -> None:
    import_file(write_waybills(ledger_dir / "a.csv", good_rows(3)))
    first = set(FactFile.objects.values_list("path", flat=True))
    import_file(write_waybills(ledger_dir / "b.csv", [good_row(4)]))
    second = set(FactFile.objects.values_list("path", flat=True))
    assert first and second and first.isdisjoint(second)
    assert [(lane["waybills"], lane["revenue"]) for lane in lane_facts()] == [(4, Decimal("54.00"))]
    assert all((lake.root() / p).exists() for p in first)  # a reader may still have them
    import_file(write_waybills(ledger_dir / "c.csv", [good_row(9, ship_time="2026-03-02")]))
    assert not any((lake.root() / p).exists() for p in first)
    assert all((lake.root() / p).exists() for p in second)


def test_lane_files_are_sorted_by_code_in_small_row_groups_a_reader_can_skip(
    ledger_dir: Path,
) -> None:
    # 1,100 codes, each with two lanes used twice in January (2,200 lanes: more than one
    # row group), a few also in February; written in a shuffled order of codes.
    import random

    codes = [f"LN{n:05d}" for n in range(1100)]
    random.Random(7).shuffle(codes)
    rows = []
    for code in codes:
        lanes = [("上海", "01"), ("北京", "01")] + ([("上海", "02")] if code < "LN00003" else [])
        for destination, month in lanes:
            for _ in range(2):
                rows.append(good_row(len(rows) + 1, billing_code=code, destination=destination,
                                     ship_time=f"2026-{month}-05 10:00:00"))  # fmt: skip
    import_file(write_waybills(ledger_dir / "lanes.csv", rows))
    files = dict(FactFile.objects.values_list("month", "path"))
    assert sorted(files) == ["2026-01", "2026-02"]
    con = duckdb.connect()
    try:
        for month, path in files.items():
            file = lake.root() / path
            found = con.execute(
                "SELECT billing_code, origin, destination FROM read_parquet(?)", [str(file)]
            ).fetchall()
            assert found == sorted(found) and len(found) == (2200 if month == "2026-01" else 3)
            groups = con.execute(
                "SELECT row_group_num_rows, stats_min, stats_max FROM parquet_metadata(?) "
                "WHERE path_in_schema = 'billing_code' ORDER BY row_group_id",
                [str(file)],
            ).fetchall()
            assert max(n for n, _, _ in groups) <= facts.LANE_ROW_GROUP
            # Each row group holds a range of codes after the one before: min/max skip works.
            assert all(a[2] <= b[1] for a, b in zip(groups, groups[1:], strict=False))
            assert len(groups) == (2 if month == "2026-01" else 1)
    finally:
        con.close()
    # The reader finds one code's lanes among them.
    assert selectors.top_lanes(["LN00001"], date(2026, 1, 1), date(2026, 2, 1)) == [
        {"origin": "350100", "destination": "310100", "waybills": 4, "revenue": Decimal("54.00")},
        {"origin": "350100", "destination": "110100", "waybills": 2, "revenue": Decimal("27.00")},
    ]


def test_a_utc_time_late_on_the_last_day_lands_in_the_next_beijing_month(ledger_dir: Path) -> None:
    rows = [
        good_row(1, ship_time="2026-01-31T20:00:00Z"),  # 04:00 on 1 February in Beijing
        good_row(2, ship_time="2026-01-31T15:59:59+00:00"),  # 23:59:59 on 31 January
        good_row(3, ship_time="2026-02-01 00:00:00"),  # Beijing wall time
    ]
    batch = import_file(write_waybills(ledger_dir / "utc.csv", rows))
    assert batch.months == ["2026-01", "2026-02"]
    assert dict(LakeFile.objects.values_list("month", "rows")) == {"2026-01": 1, "2026-02": 2}
    stored = {r["waybill_no"]: r for r in lake_rows()}
    assert str(stored["SF0000000001"]["ship_time"]) == "2026-01-31 20:00:00"  # stored in UTC
    assert str(stored["SF0000000001"]["ship_date"]) == "2026-02-01"  # Beijing's day
    assert dict(AccountMonth.objects.values_list("month", "waybills")) == {
        date(2026, 1, 1): 1,
        date(2026, 2, 1): 2,
    }


def test_an_import_never_stops_at_the_first_error(ledger_dir: Path) -> None:
    rows = [
        good_row(1),
        good_row(2, freight="-5"),
        good_row(3, ship_time="2026-02-30", pieces="1.5"),
        good_row(4),
        good_row(5, waybill_no="=1+1"),
        good_row(6, origin="火星"),
        good_row(7, delivered_time="2026-01-01 00:00"),
        good_row(8, weight_kg="1.2345"),
        good_row(9),
    ]
    batch = import_file(write_waybills(ledger_dir / "bad.csv", rows))
    assert batch.status == ImportBatch.Status.COMMITTED
    assert counts(batch) == (9, 3, 6, 0, 0)  # rejected counts rows, not cells
    assert rejects_of(batch) == [
        (3, "freight", "-5", "negative", ""),
        (4, "pieces", "1.5", "not_whole", ""),
        (4, "ship_time", "2026-02-30", "bad_time", ""),
        (6, "waybill_no", "=1+1", "bad_code", ""),
        (7, "origin", "火星", "unknown_region", ""),
        (8, "delivered_time", "2026-01-01 00:00", "before_ship", ""),
        (9, "weight_kg", "1.2345", "too_many_decimals", ""),
    ]
    assert [r["waybill_no"] for r in lake_rows()] == [
        "SF0000000001",
        "SF0000000004",
        "SF0000000009",
    ]
    assert AccountMonth.objects.get().waybills == 3


def test_a_file_with_only_bad_rows_commits_nothing_but_keeps_the_report(ledger_dir: Path) -> None:
    batch = import_file(write_waybills(ledger_dir / "bad.csv", good_rows(2, freight="abc")))
    assert batch.status == ImportBatch.Status.COMMITTED
    assert counts(batch) == (2, 0, 2, 0, 0)
    assert batch.months == []
    assert not LakeFile.objects.exists() and not AccountMonth.objects.exists()
    assert selectors.reject_count(batch) == 2


# --- repeats within a file, duplicates and conflicts with the lake ----------------------------------


def test_an_identical_repeat_in_the_file_is_a_duplicate(ledger_dir: Path) -> None:
    rows = [good_row(1), good_row(2), good_row(1), good_row(1, freight="12.5")]  # 12.5 == 12.50
    batch = import_file(write_waybills(ledger_dir / "repeat.csv", rows))
    assert counts(batch) == (4, 2, 0, 2, 0)
    assert rejects_of(batch) == []
    assert [r["waybill_no"] for r in lake_rows()] == ["SF0000000001", "SF0000000002"]
    assert AccountMonth.objects.get().waybills == 2


def test_a_different_repeat_in_the_file_is_rejected_naming_the_first_row(ledger_dir: Path) -> None:
    rows = [good_row(7), good_row(8), good_row(7, freight="99.00"), good_row(7, status="丢失")]
    batch = import_file(write_waybills(ledger_dir / "repeat.csv", rows))
    assert counts(batch) == (4, 2, 2, 0, 0)
    assert rejects_of(batch) == [
        (4, "waybill_no", "SF0000000007", "repeated_in_file", "2"),
        (5, "waybill_no", "SF0000000007", "repeated_in_file", "2"),
    ]
    assert [str(r["freight"]) for r in lake_rows()] == ["12.50", "12.50"]  # the first row was kept
    with translation.override("en"):
        assert "(row 2)" in messages.reason_text("repeated_in_file", "2")


def test_a_repeat_whose_first_row_is_bad_lands_its_good_row(ledger_dir: Path) -> None:
    rows = [good_row(5, freight="bad"), good_row(6), good_row(5)]
    batch = import_file(write_waybills(ledger_dir / "repeat.csv", rows))
    assert counts(batch) == (3, 2, 1, 0, 0)
    assert [r[:4] for r in rejects_of(batch)] == [(2, "freight", "bad", "not_a_number")]
    assert [(r["waybill_no"], r["_row"]) for r in lake_rows()] == [
        ("SF0000000005", 4),
        ("SF0000000006", 3),
    ]


def test_missing_waybill_numbers_are_required_not_repeats_of_each_other(
    ledger_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = importer._find_suspects
    suspects: list[int] = []

    def counted(con: Any, known: list[str]) -> None:
        found(con, known)
        suspects.append(con.execute("SELECT count(*) FROM suspect_hashes").fetchone()[0])

    monkeypatch.setattr(importer, "_find_suspects", counted)
    rows = [good_row(1, waybill_no=""), good_row(2), good_row(3, waybill_no="")]
    batch = import_file(write_waybills(ledger_dir / "blank.csv", rows))
    assert suspects == [0]  # two blanks are no repeated number
    assert counts(batch) == (3, 1, 2, 0, 0)
    assert [r[:4] for r in rejects_of(batch)] == [
        (2, "waybill_no", "", "required"),
        (4, "waybill_no", "", "required"),
    ]


def test_suspects_are_decided_exactly_whatever_their_hashes_say(
    ledger_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every row a suspect (as if all hashes collided): the same counts and the same lake."""
    found = importer._find_suspects

    def everyone(con: Any, known: list[str]) -> None:
        found(con, known)
        con.execute("INSERT INTO suspect_hashes SELECT hash(v_waybill_no) FROM parsed_keys")

    monkeypatch.setattr(importer, "_find_suspects", everyone)
    import_file(write_waybills(ledger_dir / "a.csv", good_rows(2)))
    rows = [good_row(1), good_row(3), good_row(3), good_row(2, freight="1.00"), good_row(4)]
    batch = import_file(write_waybills(ledger_dir / "b.csv", rows))
    assert counts(batch) == (5, 2, 0, 2, 1)
    assert [r["waybill_no"] for r in lake_rows()] == [f"SF000000000{i}" for i in (1, 2, 3, 4)]
    assert all(
        "_s" in p for p in LakeFile.objects.filter(batch=batch).values_list("path", flat=True)
    )
    assert AccountMonth.objects.get().waybills == 4


def test_the_same_file_imported_twice_adds_nothing(ledger_dir: Path) -> None:
    path = write_waybills(ledger_dir / "jan.csv", [*good_rows(4), good_row(5, freight="bad")])
    first = import_file(path)
    before = facts_snapshot()
    ids_before = list(AccountMonth.objects.values_list("pk", flat=True))
    second = import_file(path)
    assert second.status == ImportBatch.Status.COMMITTED
    assert counts(first) == (5, 4, 1, 0, 0)
    assert counts(second) == (5, 0, 1, 4, 0)  # duplicates == what the first accepted
    assert second.months == []
    assert facts_snapshot() == before
    assert list(AccountMonth.objects.values_list("pk", flat=True)) == ids_before  # not even rebuilt
    assert LakeFile.objects.filter(batch=second).count() == 0
    assert len(lake_rows()) == 4


def test_waybills_already_in_the_lake_are_duplicates_in_another_file_too(ledger_dir: Path) -> None:
    import_file(write_waybills(ledger_dir / "a.csv", good_rows(3)))
    # Another file, another format, other spellings of the same values.
    again = [
        good_row(2, freight="¥12.5", origin="福建福州", product="特快专递"),
        good_row(3),
        good_row(4),
    ]
    batch = import_file(write_waybills(ledger_dir / "b.xlsx", again))
    assert counts(batch) == (3, 1, 0, 2, 0)
    assert [r["waybill_no"] for r in lake_rows()] == [f"SF000000000{i}" for i in (1, 2, 3, 4)]
    assert AccountMonth.objects.get().waybills == 4


def test_a_changed_row_for_a_known_waybill_is_a_conflict_and_the_lake_keeps_its_version(
    ledger_dir: Path,
) -> None:
    import_file(write_waybills(ledger_dir / "a.csv", good_rows(3)))
    before = facts_snapshot()
    changed = [good_row(2, freight="99.00", status="丢失"), good_row(3)]
    batch = import_file(write_waybills(ledger_dir / "b.csv", changed))
    assert counts(batch) == (2, 0, 0, 1, 1)
    assert rejects_of(batch) == [(2, "waybill_no", "SF0000000002", "conflict", "freight,status")]
    stored = {r["waybill_no"]: r for r in lake_rows()}
    assert (str(stored["SF0000000002"]["freight"]), stored["SF0000000002"]["status"]) == (
        "12.50",
        "delivered",
    )
    assert facts_snapshot() == before
    with translation.override("en"):
        text = messages.reason_text("conflict", "freight,status")
    assert "Freight revenue (CNY), Status" in text and "stored version was kept" in text
    with translation.override("zh-hans"):
        assert "运费, 状态" in messages.reason_text("conflict", "freight,status")


def test_a_conflict_does_not_hold_back_the_new_rows_of_the_file(ledger_dir: Path) -> None:
    import_file(write_waybills(ledger_dir / "a.csv", good_rows(2)))
    rows = [good_row(1, weight_kg="5"), good_row(3), good_row(4, freight="x")]
    batch = import_file(write_waybills(ledger_dir / "b.csv", rows))
    assert counts(batch) == (3, 1, 1, 0, 1)
    assert AccountMonth.objects.get().waybills == 3  # the month rebuilt from both batches' files
    assert AccountMonth.objects.get().revenue == Decimal("40.50")


def test_counts_always_add_up_to_the_rows_read(ledger_dir: Path) -> None:
    import_file(write_waybills(ledger_dir / "a.csv", good_rows(3)))
    rows = [
        good_row(1),
        good_row(2, cost="1"),
        good_row(9),
        good_row(9),
        good_row(9, pieces="3"),
        good_row(10, pieces="0"),
    ]
    batch = import_file(write_waybills(ledger_dir / "b.csv", rows))
    assert counts(batch) == (6, 1, 2, 2, 1)
    assert batch.rows_read == batch.accepted + batch.rejected + batch.duplicates + batch.conflicts


# --- unlinked codes --------------------------------------------------------------------------


def test_codes_not_in_the_archive_are_kept_and_listed_as_unlinked(
    ledger_dir: Path, account_a: Account, director: Any, owner: Any
) -> None:
    rows = [
        good_row(1),
        good_row(2, billing_code="new-001"),
        good_row(3, billing_code="new-001", ship_time="2026-03-01"),
    ]
    import_file(write_waybills(ledger_dir / "a.csv", rows))
    unlinked = list(selectors.unlinked_codes(director))
    assert [(u["billing_code"], u["waybills"], u["revenue"], u["months"]) for u in unlinked] == [
        ("NEW-001", 2, Decimal("27.00"), 2)
    ]
    assert list(selectors.unlinked_codes(owner)) == []  # account managers do not see the ledger


def test_unlinked_codes_are_read_from_stored_totals_equal_to_grouping_the_facts(
    ledger_dir: Path,
    account_a: Account,
    director: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # Ties in revenue and waybills (NEW-2 / NEW-3), several months, a linked code.
    spec = [("new-1", 1, "2026-01-05"), ("new-2", 2, "2026-01-05"), ("new-3", 2, "2026-02-05"),
            ("new-1", 3, "2026-03-05"), ("zz-9", 1, "2026-02-05"), ("YJ0591001", 4, "2026-01-05")]  # fmt: skip
    rows = [
        good_row(len(spec) * i + j, billing_code=code, ship_time=f"{day} 10:00:00")
        for j, (code, n, day) in enumerate(spec)
        for i in range(n)
    ]
    import_file(write_waybills(ledger_dir / "a.csv", rows))
    assert sorted(UnlinkedCode.objects.values_list("billing_code", flat=True)) == [
        "NEW-1", "NEW-2", "NEW-3", "ZZ-9",
    ]  # fmt: skip

    def both(**kwargs: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        stored = list(selectors.unlinked_codes(director, **kwargs))
        grouped = list(selectors._unlinked_from_facts(**kwargs))
        return stored, [{k: r[k] for k in selectors.UNLINKED_COLUMNS} for r in grouped]

    for sort in [*selectors.UNLINKED_SORTS, "bogus"]:
        for q in ("", "new", " NEW-1 ", "nothing"):
            stored, grouped = both(q=q, sort=sort)
            assert stored == grouped, (sort, q)
    stored, _ = both(q="", sort="-revenue")
    assert [(r["billing_code"], r["waybills"], r["revenue"], r["months"]) for r in stored] == [
        ("NEW-1", 4, Decimal("54.00"), 2), ("NEW-2", 2, Decimal("27.00"), 1),
        ("NEW-3", 2, Decimal("27.00"), 1), ("ZZ-9", 1, Decimal("13.50"), 1),
    ]  # fmt: skip
    assert (stored[0]["first_month"], stored[0]["last_month"]) == (
        date(2026, 1, 1),
        date(2026, 3, 1),
    )
    # The page reads the stored rows, not the facts.
    with CaptureQueriesContext(connection) as queries:
        list(selectors.unlinked_codes(director))
    assert not any("ledger_accountmonth" in q["sql"] for q in queries.captured_queries)

    # Linked: gone at once. Removed from the account again: back with its totals.
    with django_capture_on_commit_callbacks(execute=True):
        code = BillingCode.objects.create(account=account_a, code="NEW-1")
    assert [r["billing_code"] for r in selectors.unlinked_codes(director)] == [
        "NEW-2", "NEW-3", "ZZ-9",
    ]  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        code.delete()
    assert both() == (stored, stored)


# --- atomicity -------------------------------------------------------------------------------------


def test_a_failure_in_the_facts_rebuild_leaves_nothing_and_a_rerun_lands_whole(
    ledger_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = import_file(write_waybills(ledger_dir / "a.csv", good_rows(2)))
    before = facts_snapshot()
    real_rebuild = facts.rebuild

    def rebuild_then_fail(*args: Any, **kwargs: Any) -> Any:
        real_rebuild(*args, **kwargs)  # the facts of January are deleted and rewritten ...
        raise RuntimeError("disk full")  # ... and then the process fails before the commit

    monkeypatch.setattr(facts, "rebuild", rebuild_then_fail)
    path = write_waybills(
        ledger_dir / "b.csv", [*good_rows(3, start=10), good_row(20, ship_time="2026-02-02")]
    )
    failed = import_file(path)
    assert failed.status == ImportBatch.Status.FAILED
    assert failed.error_code == "internal"
    assert facts_snapshot() == before
    assert not LakeFile.objects.filter(batch=failed).exists()
    assert list(LakeFile.objects.values_list("batch_id", flat=True)) == [first.pk]
    orphans = [p for p in lake_files_on_disk() if p.name.startswith(f"b{failed.pk}_")]
    assert orphans  # written, but no LakeFile names them: nobody reads them
    assert len(lake_rows()) == 2

    monkeypatch.setattr(facts, "rebuild", real_rebuild)
    other = import_file(write_waybills(ledger_dir / "c.csv", [good_row(30)]))
    assert other.accepted == 1
    assert all(not p.exists() for p in orphans)  # the next import removed them
    assert (
        AccountMonth.objects.get(month=date(2026, 1, 1)).waybills == 3
    )  # not counting the orphans

    rerun = import_file(path)
    assert counts(rerun) == (4, 4, 0, 0, 0)
    assert sorted(rerun.months) == ["2026-01", "2026-02"]
    assert dict(AccountMonth.objects.values_list("month", "waybills")) == {
        date(2026, 1, 1): 6,
        date(2026, 2, 1): 1,
    }


def test_a_failure_while_writing_leaves_no_trace_in_the_database(
    ledger_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(importer, "_commit", fail)
    batch = import_file(write_waybills(ledger_dir / "a.csv", good_rows(2)))
    assert batch.status == ImportBatch.Status.FAILED
    assert not LakeFile.objects.exists() and not AccountMonth.objects.exists()
    assert not lake.work_dir(batch.pk).exists()
    with translation.override("en"):
        assert "nothing was stored" in messages.failure_text(batch.error_code, batch.error_params)


def test_a_batch_left_running_by_a_dead_process_is_marked_interrupted_and_its_files_removed(
    ledger_dir: Path,
) -> None:
    stale = ImportBatch.objects.create(
        source="cli", file_name="killed.csv", status=ImportBatch.Status.RUNNING
    )
    lake.ensure()
    orphan = lake.waybill_dir() / "month=2026-01" / f"b{stale.pk}_0.parquet"
    orphan.parent.mkdir(parents=True)
    shutil.copy(write_waybills(ledger_dir / "x.parquet", good_rows(5, start=100)), orphan)
    (lake.work_dir(stale.pk)).mkdir(parents=True)
    batch = import_file(write_waybills(ledger_dir / "a.csv", good_rows(2)))
    stale.refresh_from_db()
    assert stale.status == ImportBatch.Status.INTERRUPTED
    assert stale.finished_at is not None
    assert not orphan.exists() and not lake.work_dir(stale.pk).exists()
    assert batch.accepted == 2 and AccountMonth.objects.get().waybills == 2


def test_a_finished_batch_is_not_run_again(ledger_dir: Path) -> None:
    path = write_waybills(ledger_dir / "a.csv", good_rows(2))
    batch = import_file(path)
    again = services.import_run(batch=batch, path=path)
    assert counts(again) == (2, 2, 0, 0, 0)
    assert LakeFile.objects.count() == 1


def _kill_env(base: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAM_")}
    env.update(
        KAM_DATA_DIR=str(base / "data"),
        KAM_LAKE_DIR=str(base / "lake"),
        KAM_DATABASE_URL=f"sqlite:///{base / 'db.sqlite3'}",
        KAM_FIELD_KEY=TEST_FIELD_KEY,
        KAM_SECRET_KEY="kill-test-secret-key-that-is-long-enough-0123456789",
        KAM_DUCKDB_MEMORY_LIMIT="1GB",
        DJANGO_SETTINGS_MODULE="kam.settings",
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
    )
    return env


def _kam(env: dict[str, str], *args: str, **kwargs: Any) -> Any:
    return subprocess.run(  # noqa: S603 - our own interpreter and command
        [sys.executable, "-m", "kam.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


def _query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _big_file(path: Path, rows: int) -> Path:
    """Every row its own code and month (1001 codes x 12 months), so that writing the facts
    in the commit takes long enough to kill the process before it."""
    header = "运单号,月结账号,寄件时间,始发地,目的地,产品,件数,计费重量,运费,附加费,状态\n"
    with open(path, "w", encoding="utf-8") as f:
        f.write(header)
        f.write(
            "".join(
                f"K{i:09d},C{i % 1001:05d},2025-{1 + i % 12:02d}-{1 + i % 28:02d} 10:00,福州,上海,特快,1,1.5,10.25,0.50,已签收\n"
                for i in range(rows)
            )
        )
    return path


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_a_process_killed_before_its_commit_leaves_nothing_and_a_rerun_completes_it(
    tmp_path: Path,
) -> None:
    """The real thing: ``kam import waybills`` in a subprocess, SIGKILLed once the batch's
    files are in the lake but before its commit. Nothing of it is visible; the next import
    marks it interrupted, removes its files and lands the file whole."""
    rows = 12_000
    template = tmp_path / "template"
    template.mkdir()
    migrated = _kam(_kill_env(template), "migrate", "-v0")
    assert migrated.returncode == 0, migrated.stderr
    source = _big_file(tmp_path / "big.csv", rows)

    for attempt in range(4):
        base = tmp_path / f"attempt{attempt}"
        base.mkdir()
        db = base / "db.sqlite3"
        shutil.copy(template / "db.sqlite3", db)
        shutil.copytree(template / "data", base / "data")
        env = _kill_env(base)
        month_dir = base / "lake" / "waybills"
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and command
            [sys.executable, "-m", "kam.cli", "import", "waybills", str(source), "--json"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and process.poll() is None:
                if month_dir.exists() and any(month_dir.glob("month=*/b1_*.parquet")):
                    break
                time.sleep(0.002)
            process.send_signal(signal.SIGKILL)
        finally:
            process.wait(timeout=30)
        status = _query(db, "SELECT status FROM ledger_importbatch WHERE id = 1")
        if status == [("running",)]:
            break  # killed inside the window
        # The commit won the race (or the process never got there): try again, wider window.
    else:
        pytest.fail(f"could not kill the import before its commit: {status}")

    # Killed: the batch is stale, nothing of it is visible.
    assert _query(db, "SELECT count(*) FROM ledger_lakefile") == [(0,)]
    assert _query(db, "SELECT count(*) FROM ledger_accountmonth") == [(0,)]

    rerun = _kam(env, "import", "waybills", str(source), "--json")
    assert rerun.returncode == 0, rerun.stderr
    result = json.loads(rerun.stdout)
    assert (result["read"], result["accepted"], result["rejected"], result["duplicates"]) == (
        rows,
        rows,
        0,
        0,
    )
    assert _query(db, "SELECT id, status FROM ledger_importbatch ORDER BY id") == [
        (1, "interrupted"),
        (2, "committed"),
    ]
    assert not list(month_dir.glob("month=*/b1_*.parquet"))
    assert _query(db, "SELECT count(*) FROM ledger_lakefile WHERE batch_id <> 2") == [(0,)]
    assert _query(db, "SELECT sum(rows) FROM ledger_lakefile") == [(rows,)]
    assert _query(db, "SELECT sum(waybills) FROM ledger_accountmonth") == [(rows,)]
    revenue_cents = _query(
        db,
        "SELECT sum(CAST(round(CAST(revenue AS REAL) * 100) AS INTEGER)) FROM ledger_accountmonth",
    )
    assert revenue_cents == [(rows * 1075,)]  # 10.25 + 0.50 per waybill
    assert _query(
        db, "SELECT count(DISTINCT billing_code), count(DISTINCT month) FROM ledger_accountmonth"
    ) == [(1001, 12)]


def test_a_committed_import_tells_the_apps_built_on_the_ledger(ledger_dir: Path) -> None:
    """Segmentation starts a run from ``import_committed``; a failing receiver is logged and
    never fails the import, and an import that accepted nothing sends nothing."""
    from kam.ledger.signals import import_committed

    heard: list[int] = []

    def listener(sender: Any, batch: ImportBatch, **kwargs: Any) -> None:
        heard.append(batch.pk)

    def broken(sender: Any, batch: ImportBatch, **kwargs: Any) -> None:
        raise RuntimeError("a receiver's bug")

    import_committed.connect(listener, weak=False)
    import_committed.connect(broken, weak=False)
    try:
        batch = import_file(write_waybills(ledger_dir / "a.csv", good_rows(3)))
        assert batch.status == ImportBatch.Status.COMMITTED and heard == [batch.pk]
        again = import_file(write_waybills(ledger_dir / "b.csv", good_rows(3)))  # duplicates
        assert (again.status, again.accepted) == (ImportBatch.Status.COMMITTED, 0)
        assert heard == [batch.pk]
    finally:
        import_committed.disconnect(listener)
        import_committed.disconnect(broken)
