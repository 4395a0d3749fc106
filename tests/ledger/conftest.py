"""Helpers for the ledger's tests: waybill files in every format, and running an import.

``good_row(i, **overrides)`` is one valid waybill (all values as text, the way a carrier's
export holds them); ``write_waybills(path, rows)`` writes rows as CSV / XLSX / Parquet /
JSON / NDJSON (chosen by the file's extension) under the contract's Chinese headings;
``import_file(path)`` runs the import the way ``kam import waybills`` does.
"""

import csv
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from kam.ledger import lake, services
from kam.ledger.contract import BY_NAME, COLUMNS
from kam.ledger.models import AccountMonth, FactFile, ImportBatch, LakeFile

ORDER = [c.name for c in COLUMNS]


def good_row(i: int = 1, **overrides: Any) -> dict[str, str]:
    """A valid waybill of billing code YJ0591001 (account A's code), shipped 2026-01-05.

    Overriding ``ship_time`` empties the delivered and promised times (unless given too).

    Revenue = freight + surcharges = 13.50; cost 8.00; margin 5.50; COD 100.00.
    """
    row = {
        "waybill_no": f"SF{i:010d}",
        "billing_code": "YJ0591001",
        "ship_time": "2026-01-05 10:00:00",
        "origin": "福州",
        "destination": "上海",
        "product": "特快",
        "pieces": "1",
        "weight_kg": "1.250",
        "freight": "12.50",
        "surcharges": "1.00",
        "cost": "8.00",
        "cod_amount": "100.00",
        "declared_value": "",
        "goods_category": "电子产品",
        "consignee_type": "企业",
        "status": "已签收",
        "delivered_time": "2026-01-06 15:00:00",
        "promised_time": "2026-01-07 18:00:00",
        "is_return": "否",
    }
    if "ship_time" in overrides:  # the default delivery and promise would be before it
        row["delivered_time"] = row["promised_time"] = ""
    row.update({k: ("" if v is None else str(v)) for k, v in overrides.items()})
    return row


def good_rows(n: int, start: int = 1, **overrides: Any) -> list[dict[str, str]]:
    return [good_row(i, **overrides) for i in range(start, start + n)]


def _heading(name: str, headings: str | Mapping[str, str]) -> str:
    if isinstance(headings, Mapping):
        if name in headings:
            return headings[name]
        headings = "zh"
    column = BY_NAME.get(name)
    if column is None:
        return name  # not a contract column: written as is
    return {"zh": column.label_zh, "en": column.label_en, "name": column.name}[headings]


def write_waybills(
    path: Path,
    rows: Iterable[Mapping[str, Any]],
    *,
    encoding: str = "utf-8",
    headings: str | Mapping[str, str] = "zh",
    columns: list[str] | None = None,
) -> Path:
    """Write ``rows`` to ``path`` in the format its extension names.

    ``headings`` is "zh" (the contract's Chinese headings), "en", "name", or a mapping of
    column -> heading (other columns in Chinese). ``columns`` fixes the columns and their
    order (default: every key of the rows, contract columns first). ``encoding`` applies to
    CSV and JSON ("utf-8-sig" writes a BOM, "utf-16" a UTF-16 file with its BOM).
    """
    rows = [dict(r) for r in rows]
    if columns is None:
        keys: list[str] = []
        for r in rows:
            keys.extend(k for k in r if k not in keys)
        columns = [c for c in ORDER if c in keys] + [k for k in keys if k not in ORDER]
    header = [_heading(c, headings) for c in columns]
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        with open(path, "w", encoding=encoding, newline="") as f:
            writer = csv.writer(f, delimiter="\t" if suffix == ".tsv" else ",")
            writer.writerow(header)
            writer.writerows([r.get(c, "") for c in columns] for r in rows)
    elif suffix == ".xlsx":
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(header)
        for r in rows:
            sheet.append([r.get(c, "") for c in columns])
        workbook.save(path)
    elif suffix == ".parquet":
        table = pa.table(
            {
                h: pa.array([r.get(c, "") for r in rows], pa.string())
                for h, c in zip(header, columns, strict=True)
            }
        )
        pq.write_table(table, path)
    elif suffix in (".ndjson", ".jsonl"):
        with open(path, "w", encoding=encoding) as f:
            for r in rows:
                f.write(
                    json.dumps(
                        {h: r.get(c, "") for h, c in zip(header, columns, strict=True)},
                        ensure_ascii=False,
                    )
                    + "\n"
                )
    elif suffix == ".json":
        records = [{h: r.get(c, "") for h, c in zip(header, columns, strict=True)} for r in rows]
        path.write_text(json.dumps(records, ensure_ascii=False), encoding=encoding)
    else:
        raise ValueError(f"no writer for {suffix}")
    return path


def import_file(path: Path, *, fmt: str = "", encoding: str = "", name: str = "") -> ImportBatch:
    """Import ``path`` now, as ``kam import waybills`` does; returns the finished batch."""
    batch = services.import_create(
        by=None,
        source=ImportBatch.Source.CLI,
        file_name=name or path.name,
        path=path,
        fmt=fmt,
        encoding=encoding,
    )
    services.import_run(batch=batch, path=path)
    batch.refresh_from_db()
    return batch


def lane_facts() -> list[dict[str, Any]]:
    """Every current lane fact (the Parquet files FactFile rows name), in a stable order."""
    paths = list(FactFile.objects.values_list("path", flat=True))
    if not paths:
        return []
    con = duckdb.connect()
    try:
        cursor = con.execute(
            f"SELECT billing_code, month, origin, destination, waybills, revenue "  # noqa: S608
            f"FROM read_parquet({lake.sql_file_list(paths)}, hive_partitioning = true) "
            "ORDER BY billing_code, month, origin, destination"
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def lake_rows(order_by: str = "waybill_no") -> list[dict[str, Any]]:
    """Every waybill of the lake's committed files (only files a LakeFile row names)."""
    paths = list(LakeFile.objects.values_list("path", flat=True))
    if not paths:
        return []
    con = duckdb.connect()
    try:
        # The lake paths are quoted by the lake's own helper.
        cursor = con.execute(
            f"SELECT * FROM read_parquet({lake.sql_file_list(paths)}, hive_partitioning = true, "  # noqa: S608
            f"union_by_name = true) ORDER BY {order_by}"
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def lake_files_on_disk() -> list[Path]:
    return sorted(lake.waybill_dir().rglob("*.parquet")) if lake.waybill_dir().exists() else []


def assert_failed_and_nothing_stored(batch: ImportBatch, code: str) -> None:
    """The batch failed with ``code`` and the lake and the facts are untouched (empty)."""
    assert batch.status == ImportBatch.Status.FAILED, (batch.status, batch.error_code)
    assert batch.error_code == code, (batch.error_code, batch.error_params)
    assert batch.accepted == 0
    assert not LakeFile.objects.exists()
    assert not AccountMonth.objects.exists()
    assert lake_files_on_disk() == []


def facts_snapshot() -> list[tuple[Any, ...]]:
    """Every fact row's values (not its id), to compare before and after."""
    return list(
        AccountMonth.objects.order_by("billing_code", "month").values_list(
            "billing_code", "month", "waybills", "pieces", "weight_kg", "revenue", "cost",
            "margin", "cod_amount", "returns", "lost", "damaged", "on_time",
        )
    )  # fmt: skip


def money(text: str) -> Decimal:
    return Decimal(text)


@pytest.fixture
def ledger_dir(tmp_path: Path) -> Path:
    """A folder for the test's input files (outside the lake)."""
    folder = tmp_path / "in"
    folder.mkdir()
    return folder
