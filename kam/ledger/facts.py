"""Building the monthly facts: run ``sql/facts.sql`` with DuckDB and load the result.

The caller holds the database transaction (the import's commit), so facts, lake files and
the batch's status change together.
"""

import re
from collections.abc import Callable, Iterable
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
from django.db import connection

from . import lake
from .models import AccountMonth, AccountMonthLane, AccountMonthProduct
from .validation import LAKE_TYPES

SQL_FILE = Path(__file__).with_name("sql") / "facts.sql"
_NAME = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)
INSERT_CHUNK = 5_000


@cache
def statements() -> dict[str, str]:
    """The named statements of facts.sql."""
    text = SQL_FILE.read_text(encoding="utf-8")
    parts = _NAME.split(text)
    return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts), 2)}


_TARGETS: dict[str, tuple[type, list[str]]] = {
    "account_month": (
        AccountMonth,
        ["billing_code", "month", "waybills", "pieces", "weight_kg", "revenue", "cost", "margin",
         "costed_waybills", "cod_amount", "returns", "returned", "lost", "damaged", "promised",
         "on_time", "consumer_waybills", "lanes", "destination_cities", "active_days"],
    ),
    "account_month_product": (
        AccountMonthProduct, ["billing_code", "month", "product", "waybills", "revenue"]
    ),
    "account_month_lane": (
        AccountMonthLane,
        ["billing_code", "month", "origin", "destination", "waybills", "revenue"],
    ),
}  # fmt: skip


def is_intermediate(name: str) -> bool:
    """A statement whose result the later statements read (kept as a temporary table)."""
    return name not in _TARGETS


def define_waybills_view(con: duckdb.DuckDBPyConnection, files: list[str]) -> None:
    """``waybills``: the lake restricted to ``files`` (paths relative to the lake root)."""
    if files:
        # The lake's columns by name: files also hold the import's bookkeeping (``_row``, an
        # always empty ``problems``), which is nobody's business here.
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW waybills AS SELECT {', '.join(LAKE_TYPES)}, month "
            f"FROM read_parquet({lake.sql_file_list(files)}, hive_partitioning = true, "
            "union_by_name = true)"
        )
    else:
        columns = ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t in LAKE_TYPES.items())
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW waybills AS SELECT {columns}, CAST(NULL AS VARCHAR) AS month WHERE false"
        )


def _for_the_database(con: duckdb.DuckDBPyConnection, sql: str) -> duckdb.DuckDBPyConnection:
    """Run ``sql`` with its columns as the database driver takes them fastest: decimals and
    dates as text (DuckDB hands over strings ten times faster than Decimal objects, and both
    databases read a decimal string exactly), whole numbers as 64-bit integers."""
    described = con.execute(f"DESCRIBE {sql}").fetchall()
    columns = ", ".join(
        f'CAST("{name}" AS BIGINT)' if str(kind).upper() in _WHOLE else f'CAST("{name}" AS VARCHAR)'
        for name, kind, *_ in described
    )
    return con.execute(f"SELECT {columns} FROM ({sql})")


_WHOLE = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
          "UINTEGER", "UBIGINT"}  # fmt: skip


def _load(cursor: Any, table: str, columns: list[str], result: duckdb.DuckDBPyConnection) -> int:
    """Insert DuckDB's result rows (already in ``columns`` order) in chunks; PostgreSQL by COPY."""
    rows = 0
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            while chunk := result.fetchmany(INSERT_CHUNK):
                for row in chunk:
                    copy.write_row(row)
                rows += len(chunk)
        return rows
    insert = (
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - names from the model
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    while chunk := result.fetchmany(INSERT_CHUNK):
        cursor.executemany(insert, chunk)
        rows += len(chunk)
    return rows


def month_start(month: str) -> date:
    year, mon = month.split("-")
    return date(int(year), int(mon), 1)


def rebuild(
    con: duckdb.DuckDBPyConnection,
    files: list[str],
    months: Iterable[str],
    progress: Callable[[str], None] = lambda name: None,
) -> dict[str, int]:
    """Replace the facts of ``months`` with what the lake ``files`` say. Returns row counts."""
    months = sorted(set(months))
    counts: dict[str, int] = {}
    if not months:
        return counts
    define_waybills_view(con, files)
    con.execute("CREATE OR REPLACE TEMP TABLE touched_months (month VARCHAR)")
    con.executemany("INSERT INTO touched_months VALUES (?)", [(m,) for m in months])
    starts = [month_start(m) for m in months]
    with connection.cursor() as cursor:
        for name, sql in statements().items():
            progress(name)
            if is_intermediate(name):
                con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
                continue
            model, columns = _TARGETS[name]
            table = model._meta.db_table
            cursor.execute(
                f"DELETE FROM {table} WHERE month IN ({', '.join(['%s'] * len(starts))})",  # noqa: S608 - table from the model
                starts,
            )
            counts[name] = _load(cursor, table, columns, _for_the_database(con, sql))
    return counts
