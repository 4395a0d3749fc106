"""Waybills in transit (已揽收, 运输中, 派送中) and their later versions.

An in-transit waybill is accepted without a delivered time. A later import that brings it
further (a later in-transit stage, or a final status with its delivered time), changing
nothing but the status and the delivered time, *updates* it: the lake keeps both
versions, the facts count the latest once. Anything else that differs stays a conflict,
and so does a move backwards (a final waybill back in transit).
"""

import datetime
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from kam.accounts.models import Account
from kam.ledger import facts, lake, messages, selectors, services
from kam.ledger.contract import FINAL, IN_TRANSIT, STATUS_RANK, STATUSES
from kam.ledger.models import AccountMonth, ImportBatch, LakeFile
from tests import catalogues
from tests.ledger.conftest import (
    facts_snapshot,
    good_row,
    import_file,
    lake_rows,
    lane_facts,
    write_waybills,
)

pytestmark = pytest.mark.django_db


def counts(batch: ImportBatch) -> tuple[int, int, int, int, int, int]:
    """(read, accepted, updated, rejected, duplicates, conflicts)."""
    return (
        batch.rows_read,
        batch.accepted,
        batch.updated,
        batch.rejected,
        batch.duplicates,
        batch.conflicts,
    )


def rejects_of(batch: ImportBatch) -> list[tuple[int, str, str | None, str, str]]:
    return [(r.row, r.column, r.value, r.reason, r.detail) for r in selectors.rejects(batch)]


def moving(i: int, status: str, **overrides: Any) -> dict[str, str]:
    """Waybill ``i`` on its way: no delivered time (the promise stays)."""
    return good_row(i, status=status, delivered_time="", **overrides)


def current() -> dict[str, dict[str, Any]]:
    """The lake as every reader sees it: the latest version of each waybill."""
    con = lake.connect()
    try:
        facts.define_waybills_view(con, list(LakeFile.objects.values_list("path", flat=True)))
        cursor = con.execute("SELECT * FROM waybills ORDER BY waybill_no")
        names = [d[0] for d in cursor.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}
    finally:
        con.close()


def fact() -> AccountMonth:
    return AccountMonth.objects.get(billing_code="YJ0591001", month=datetime.date(2026, 1, 1))


# --- the contract ---------------------------------------------------------------------------


def test_the_contract_ranks_in_transit_before_final() -> None:
    assert set(IN_TRANSIT) | set(FINAL) == set(STATUSES)
    assert [STATUS_RANK[s] for s in IN_TRANSIT] == [1, 2, 3]
    assert {STATUS_RANK[s] for s in FINAL} == {4}


def test_in_transit_waybills_are_accepted_without_a_delivered_time(ledger_dir: Path) -> None:
    rows = [
        moving(1, "已揽收"),
        moving(2, "运输中"),
        moving(3, "派送中"),
        moving(4, "在途"),
        moving(5, "out for delivery"),
        good_row(6),
    ]
    batch = import_file(write_waybills(ledger_dir / "a.csv", rows))
    assert counts(batch) == (6, 6, 0, 0, 0, 0)
    assert [r["status"] for r in lake_rows()] == [
        "picked_up", "in_transit", "out_for_delivery", "in_transit", "out_for_delivery",
        "delivered",
    ]  # fmt: skip
    assert all(r["delivered_time"] is None for r in lake_rows()[:5])
    f = fact()
    # They were shipped and billed: counted in volume and money; not (yet) in the on-time
    # figures, nor as returned, lost or damaged.
    assert (f.waybills, f.revenue, f.cost, f.cod_amount) == (
        6, Decimal("81.00"), Decimal("48.00"), Decimal("600.00"),
    )  # fmt: skip
    assert (f.promised, f.on_time, f.returned, f.lost, f.damaged) == (1, 1, 0, 0, 0)


def test_an_unknown_status_names_the_in_transit_ones_too(ledger_dir: Path) -> None:
    batch = import_file(write_waybills(ledger_dir / "a.csv", [moving(1, "在路上")]))
    assert counts(batch) == (1, 0, 0, 1, 0, 0)
    (reject,) = rejects_of(batch)
    assert reject[1:4] == ("status", "在路上", "unknown_status")
    with translation.override("zh-hans"):
        assert "运输中" in messages.reason_text("unknown_status")
    with translation.override("en"):
        assert "in_transit" in messages.reason_text("unknown_status")


# --- updates ---------------------------------------------------------------------------------


@pytest.fixture
def on_the_way(ledger_dir: Path) -> ImportBatch:
    """Batch 1: waybill 1 delivered, 2 in transit, 3 out for delivery, 4 picked up."""
    rows = [good_row(1), moving(2, "运输中"), moving(3, "派送中"), moving(4, "已揽收")]
    return import_file(write_waybills(ledger_dir / "day1.csv", rows))


def test_a_later_final_version_updates_the_waybill_and_the_facts_follow(
    on_the_way: ImportBatch, ledger_dir: Path
) -> None:
    assert (fact().waybills, fact().promised, fact().on_time) == (4, 1, 1)
    day2 = [
        good_row(2, delivered_time="2026-01-06 09:00:00"),  # on time (promised 01-07 18:00)
        good_row(3, delivered_time="2026-01-09 12:00:00"),  # late
        moving(4, "运输中"),  # further on its way: an update too
        good_row(5),  # new
    ]
    batch = import_file(write_waybills(ledger_dir / "day2.csv", day2))
    assert counts(batch) == (4, 1, 3, 0, 0, 0)
    assert batch.months == ["2026-01"]
    assert rejects_of(batch) == []
    # The lake keeps every version; the update rows are in files of their own.
    assert len(lake_rows()) == 8
    update_files = [p for p in LakeFile.objects.filter(batch=batch).values_list("path", flat=True)]
    assert sorted(lake.is_update_file(p) for p in update_files) == [False, True]
    latest = current()
    assert {n: r["status"] for n, r in latest.items()} == {
        "SF0000000001": "delivered",
        "SF0000000002": "delivered",
        "SF0000000003": "delivered",
        "SF0000000004": "in_transit",
        "SF0000000005": "delivered",
    }
    # Each waybill once, in its latest state: money to the cent, on time counted once.
    f = fact()
    assert (f.waybills, f.pieces, f.weight_kg) == (5, 5, Decimal("6.250"))
    assert (f.revenue, f.cost, f.margin, f.cod_amount) == (
        Decimal("67.50"), Decimal("40.00"), Decimal("27.50"), Decimal("500.00"),
    )  # fmt: skip
    assert (f.promised, f.on_time) == (4, 3)
    assert f.express_waybills == 5 and f.express_revenue == Decimal("67.50")
    assert [(lane["waybills"], lane["revenue"]) for lane in lane_facts()] == [(5, Decimal("67.50"))]

    # Day 3: the last one is delivered; an update of an update.
    batch3 = import_file(
        write_waybills(ledger_dir / "day3.csv", [good_row(4, status="退回", delivered_time="")])
    )
    assert counts(batch3) == (1, 0, 1, 0, 0, 0)
    assert current()["SF0000000004"]["status"] == "returned"
    f = fact()
    assert (f.waybills, f.revenue, f.promised, f.on_time, f.returned) == (
        5, Decimal("67.50"), 4, 3, 1,
    )  # fmt: skip
    # The facts rebuilt from the lake alone (kam facts rebuild) are the same.
    before = facts_snapshot()
    services.facts_rebuild()
    assert facts_snapshot() == before


def test_the_same_update_again_is_a_duplicate_and_rebuilds_nothing(
    on_the_way: ImportBatch, ledger_dir: Path
) -> None:
    path = write_waybills(ledger_dir / "day2.csv", [good_row(2), moving(3, "派送中")])
    first = import_file(path)
    assert counts(first) == (2, 0, 1, 0, 1, 0)
    ids = list(AccountMonth.objects.values_list("pk", flat=True))
    again = import_file(path)
    assert counts(again) == (2, 0, 0, 0, 2, 0)
    assert again.months == [] and not LakeFile.objects.filter(batch=again).exists()
    assert list(AccountMonth.objects.values_list("pk", flat=True)) == ids


def test_an_in_transit_waybill_imported_again_unchanged_adds_nothing(
    on_the_way: ImportBatch, ledger_dir: Path
) -> None:
    before = facts_snapshot()
    rows = [moving(2, "运输中"), moving(3, "派送中"), moving(4, "已揽收")]
    batch = import_file(write_waybills(ledger_dir / "again.xlsx", rows))
    assert counts(batch) == (3, 0, 0, 0, 3, 0)
    assert batch.months == []
    assert len(lake_rows()) == 4
    assert facts_snapshot() == before


def test_other_changes_to_an_in_transit_waybill_stay_conflicts(
    on_the_way: ImportBatch, ledger_dir: Path
) -> None:
    before = facts_snapshot()
    rows = [
        good_row(2, freight="99.00"),  # delivered, but the money changed too
        moving(3, "派送中", weight_kg="3.000"),  # same status, another weight
        good_row(4, cost="9.00"),  # delivered with a cost that changed
    ]
    batch = import_file(write_waybills(ledger_dir / "day2.csv", rows))
    assert counts(batch) == (3, 0, 0, 0, 0, 3)
    assert rejects_of(batch) == [
        (2, "waybill_no", "SF0000000002", "conflict", "freight,status,delivered_time"),
        (3, "waybill_no", "SF0000000003", "conflict", "weight_kg"),
        (4, "waybill_no", "SF0000000004", "conflict", "cost,status,delivered_time"),
    ]
    assert {n: r["status"] for n, r in current().items()}["SF0000000002"] == "in_transit"
    assert facts_snapshot() == before


def test_a_final_waybill_moved_back_in_transit_is_a_conflict(
    on_the_way: ImportBatch, ledger_dir: Path
) -> None:
    import_file(write_waybills(ledger_dir / "day2.csv", [good_row(2)]))  # 2 delivered now
    before = facts_snapshot()
    rows = [
        moving(1, "派送中"),  # delivered in batch 1
        moving(2, "运输中"),  # its own earlier version, imported again after the update
        moving(3, "运输中"),  # out for delivery back to in transit
        good_row(1, status="丢失", delivered_time=""),  # final to another final
    ]
    batch = import_file(write_waybills(ledger_dir / "late.csv", rows))
    assert (batch.accepted, batch.updated, batch.conflicts) == (0, 0, 3)
    assert rejects_of(batch) == [
        (2, "waybill_no", "SF0000000001", "conflict", "status,delivered_time"),
        (3, "waybill_no", "SF0000000002", "conflict", "status,delivered_time"),
        (4, "waybill_no", "SF0000000003", "conflict", "status"),
        (5, "waybill_no", "SF0000000001", "repeated_in_file", "2"),
    ]
    assert {n: r["status"] for n, r in current().items()} == {
        "SF0000000001": "delivered",
        "SF0000000002": "delivered",
        "SF0000000003": "out_for_delivery",
        "SF0000000004": "picked_up",
    }
    assert facts_snapshot() == before


def test_a_known_in_transit_waybill_and_new_ones_in_one_file(ledger_dir: Path) -> None:
    """Updates, new rows, conflicts and bad rows together: the counts add up and only the
    updated waybills' month and the new rows' month are rebuilt."""
    import_file(
        write_waybills(
            ledger_dir / "a.csv",
            [moving(1, "运输中"), good_row(9, ship_time="2026-02-03 08:00:00")],
        )
    )
    february = facts_snapshot()[1]
    rows = [
        good_row(1),  # update (January)
        good_row(2, ship_time="2026-03-02 08:00:00"),  # new (March)
        moving(9, "运输中", ship_time="2026-02-03 08:00:00"),  # back in transit: conflict
        good_row(3, freight="x"),  # bad
    ]
    batch = import_file(write_waybills(ledger_dir / "b.csv", rows))
    assert counts(batch) == (4, 1, 1, 1, 0, 1)
    assert batch.months == ["2026-01", "2026-03"]
    assert facts_snapshot()[1] == february
    assert (fact().waybills, fact().promised, fact().on_time) == (1, 1, 1)


# --- the facts to the cent -------------------------------------------------------------------


def test_facts_reconcile_to_the_cent_with_the_latest_versions(ledger_dir: Path) -> None:
    """Many waybills over two codes and two months, some updated twice: every fact equals
    the sums over the latest version of each waybill, computed here with Decimal."""
    statuses = ["已揽收", "运输中", "派送中"]
    day1, day2, day3 = [], [], []
    latest: dict[str, dict[str, str]] = {}
    for i in range(1, 121):
        code = "YJ0591001" if i % 3 else "K-002"
        ship = f"2026-0{1 + i % 2}-{1 + i % 27:02d} 0{i % 10}:15:00"
        money = {
            "freight": f"{i * 7 % 1000 + 0.37 * (i % 3):.2f}",
            "surcharges": f"{(i % 5) * 1.11:.2f}",
            "cost": "" if i % 7 == 0 else f"{i % 50 + 0.99:.2f}",
        }
        base = dict(billing_code=code, ship_time=ship, promised_time="", **money)
        if i % 4 == 0:
            row = good_row(i, **base, delivered_time="")  # delivered from the start
            day1.append(row)
            latest[row["waybill_no"]] = row
            continue
        first = moving(i, statuses[i % 3], **base)
        day1.append(first)
        latest[first["waybill_no"]] = first
        if i % 4 in (1, 2):
            second = moving(i, "派送中", **base) if i % 3 < 2 else None
            if second is not None:
                day2.append(second)
                latest[second["waybill_no"]] = second
            final = good_row(i, **base, status="已签收" if i % 4 == 1 else "丢失")
            final["delivered_time"] = "" if i % 4 == 2 else final["ship_time"][:10] + " 23:00:00"
            day3.append(final)
            latest[final["waybill_no"]] = final
    for name, rows in (("d1.csv", day1), ("d2.csv", day2), ("d3.csv", day3)):
        batch = import_file(write_waybills(ledger_dir / name, rows))
        assert batch.status == ImportBatch.Status.COMMITTED
        assert batch.rejected == batch.conflicts == 0, rejects_of(batch)
    assert sum(b.updated for b in ImportBatch.objects.all()) == len(day2) + len(day3)

    expected: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {
            "waybills": 0,
            "revenue": Decimal(0),
            "cost": Decimal(0),
            "margin": Decimal(0),
            "lost": 0,
            "costed": 0,
        }  # fmt: skip
    )
    for row in latest.values():
        e = expected[(row["billing_code"], row["ship_time"][:7] + "-01")]
        revenue = Decimal(row["freight"]) + Decimal(row["surcharges"] or 0)
        e["waybills"] += 1
        e["revenue"] += revenue
        if row["cost"]:
            e["cost"] += Decimal(row["cost"])
            e["margin"] += revenue - Decimal(row["cost"])
            e["costed"] += 1
        e["lost"] += row["status"] == "丢失"
    got = {
        (f.billing_code, f.month.isoformat()): {
            "waybills": f.waybills,
            "revenue": f.revenue,
            "cost": f.cost,
            "margin": f.margin,
            "lost": f.lost,
            "costed": f.costed_waybills,
        }  # fmt: skip
        for f in AccountMonth.objects.all()
    }
    assert got == dict(expected)
    assert sum(lane["waybills"] for lane in lane_facts()) <= len(latest)


# --- the demo's import path ------------------------------------------------------------------


def test_typed_parquet_with_in_transit_rows_as_the_demo_writes_it(tmp_path: Path) -> None:
    """The demo generates typed Parquet (timestamps, decimals) and imports it as a demo
    batch: in-transit rows of the last days, with no delivered time, are accepted."""
    ship = datetime.datetime(2026, 1, 30, 9, 0)  # noqa: DTZ001 - naive = Beijing time, as the demo writes
    table = pa.table(
        {
            "waybill_no": ["KM1", "KM2", "KM3"],
            "billing_code": ["YJ0591001"] * 3,
            "ship_time": [ship] * 3,
            "origin": ["350100"] * 3,
            "destination": ["310100"] * 3,
            "product": ["陆运"] * 3,
            "pieces": pa.array([3, 1, 2], pa.int32()),
            "weight_kg": pa.array([Decimal("120.500")] * 3, pa.decimal128(12, 3)),
            "freight": pa.array([Decimal("880.00")] * 3, pa.decimal128(18, 2)),
            "surcharges": pa.array([Decimal("0.00")] * 3, pa.decimal128(18, 2)),
            "status": ["已签收", "运输中", "派送中"],
            "delivered_time": pa.array([ship + datetime.timedelta(days=1), None, None]),
            "promised_time": pa.array([ship + datetime.timedelta(days=3)] * 3),
        }
    )
    path = tmp_path / "demo-waybills-2026Q1.parquet"
    pq.write_table(table, path)
    batch = services.import_create(
        by=None, source=ImportBatch.Source.DEMO, file_name=path.name, path=path
    )
    services.import_run(batch=batch, path=path)
    batch.refresh_from_db()
    assert counts(batch) == (3, 3, 0, 0, 0, 0)
    assert (fact().waybills, fact().revenue, fact().promised) == (3, Decimal("2640.00"), 1)


# --- the import's counts where people read them ---------------------------------------------


def test_updates_are_counted_on_the_page_the_cli_and_the_api(
    on_the_way: ImportBatch, ledger_dir: Path, department: Any, client: Any
) -> None:
    from django.core.management import call_command

    path = write_waybills(ledger_dir / "day2.csv", [good_row(2), good_row(3), good_row(7)])
    out = __import__("io").StringIO()
    with translation.override("en"):
        call_command("import", "waybills", str(path), "--json", stdout=out)
    import json

    result = json.loads(out.getvalue())
    assert (result["accepted"], result["updated"], result["batches"][0]["updated"]) == (1, 2, 2)
    batch = ImportBatch.objects.latest("pk")
    client.force_login(department)
    page = client.get(f"/ledger/imports/{batch.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert 'id="count-updated">2<' in page.content.decode()


# --- a waybill number is no billing account code (issue 14) ----------------------------------


@pytest.fixture
def compiled_catalogue() -> Any:
    catalogues.compile_stale()
    catalogues.reset_caches()
    yield
    catalogues.reset_caches()


@pytest.mark.usefixtures("compiled_catalogue")
def test_a_case_waybill_billed_elsewhere_is_called_a_waybill(
    account_a: Account, ledger_dir: Path
) -> None:
    from kam.service.services import waybills_clean

    import_file(
        write_waybills(ledger_dir / "a.csv", [good_row(1), good_row(2, billing_code="OTHER01")])
    )
    assert waybills_clean(account_a, ["SF0000000001"]) == ["SF0000000001"]
    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        waybills_clean(account_a, ["SF0000000002"])
    (text,) = caught.value.message_dict["waybills"]
    assert "SF0000000002" in text
    assert text == "以下运单由其他客户结算：SF0000000002"  # not "…的月结账号：" (a code)
