"""Building the monthly facts: run ``sql/facts.sql`` with DuckDB and keep the results.

``account_month`` goes to the database (``AccountMonth``: what pages, segmentation and
coverage read); ``account_month_lane``, the per-lane detail, to Parquet files beside the
lake (``facts/lanes/month=YYYY-MM/...``) that ``FactFile`` rows name. The caller holds the
database transaction (the import's commit), so facts, lake files and the batch's status
change together; a replaced lane file is removed by the next import (as a killed import's
files are), never under a reader's feet.
"""

import re
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
from django.db import connection

from . import lake
from .contract import IN_TRANSIT, PRODUCTS, STATUS_RANK
from .models import AccountMonth, FactFile
from .validation import LAKE_TYPES

SQL_FILE = Path(__file__).with_name("sql") / "facts.sql"
_NAME = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)
INSERT_CHUNK = 5_000
LANE_KIND = "lanes"
#: Rows per row group of a lane file: DuckDB's vector size, the smallest it writes.
LANE_ROW_GROUP = 2048


@cache
def statements() -> dict[str, str]:
    """The named statements of facts.sql."""
    text = SQL_FILE.read_text(encoding="utf-8")
    parts = _NAME.split(text)
    return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts), 2)}


# The product mix's columns, in the contract's order (``{product}_waybills``, ``_revenue``).
PRODUCT_COLUMNS = [f"{p}_{what}" for p in PRODUCTS for what in ("waybills", "revenue")]
ACCOUNT_MONTH_COLUMNS = [
    "billing_code", "month", "waybills", "pieces", "weight_kg", "revenue", "cost", "margin",
    "costed_waybills", "cod_amount", "returns", "returned", "lost", "damaged", "promised",
    "on_time", "consumer_waybills", "lanes", "destination_cities", "active_days",
    *PRODUCT_COLUMNS,
]  # fmt: skip
_TARGETS = ("account_month", "account_month_lane")


def is_intermediate(name: str) -> bool:
    """A statement whose result the later statements read (kept as a temporary table)."""
    return name not in _TARGETS


def status_rank_sql(column: str) -> str:
    """SQL for the rank of the status in ``column`` (:data:`contract.STATUS_RANK`)."""
    cases = " ".join(f"WHEN '{s}' THEN {r}" for s, r in STATUS_RANK.items() if r < _FINAL_RANK)
    return f"CASE CAST({column} AS VARCHAR) {cases} ELSE {_FINAL_RANK} END"


_FINAL_RANK = max(STATUS_RANK.values())


def define_waybills_view(
    con: duckdb.DuckDBPyConnection, files: list[str], versions: bool = False
) -> None:
    """``waybills``: the lake restricted to ``files`` (paths relative to the lake root), one
    row per waybill, its latest version. ``versions``: every version instead (the import's
    checks against the lake).

    A waybill imported in transit and later in a later state has a row in each batch; the
    later rows are in the batches' *update files* (:func:`lake.is_update_file`), which hold
    nothing else. Without an update file among ``files`` every row is the latest version and
    the view reads the files as they are: the usual import and its facts pay nothing. With
    one, a row in transit is left out when an update row of the same waybill ranks higher
    (a hash join of the rows in transit against the small update files).
    """
    columns = f"{', '.join(LAKE_TYPES)}, month"
    if not files:
        typed = ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t in LAKE_TYPES.items())
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW waybills AS SELECT {typed}, CAST(NULL AS VARCHAR) AS month WHERE false"
        )
        return
    # The lake's columns by name: files also hold the import's bookkeeping (``_row``, an
    # always empty ``problems``), which is nobody's business here.
    source = (
        f"SELECT {columns} FROM read_parquet({lake.sql_file_list(files)}, "
        "hive_partitioning = true, union_by_name = true)"
    )
    updates = [f for f in files if lake.is_update_file(f)]
    if versions or not updates:
        con.execute(f"CREATE OR REPLACE TEMP VIEW waybills AS {source}")
        return
    # Only a row in transit can be superseded: the rows in a final state (nearly all) are
    # read as they are, and the join probes the few in transit alone. Two filtered scans of
    # the files cost less than probing every row (DuckDB reads the other columns of a
    # filtered scan only where a row passes; in-transit rows sit in the last days).
    in_transit = "(" + ", ".join(f"'{s}'" for s in IN_TRANSIT) + ")"
    picked = ", ".join(f"w.{c}" for c in [*LAKE_TYPES, "month"])
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW waybill_updates AS
            SELECT waybill_no, {status_rank_sql("status")} AS status_rank
            FROM read_parquet({lake.sql_file_list(updates)}, hive_partitioning = false)"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW waybills AS
            SELECT {picked} FROM ({source}) w WHERE w.status NOT IN {in_transit}
            UNION ALL
            SELECT {picked} FROM ({source}) w
            ANTI JOIN waybill_updates u
            ON u.waybill_no = w.waybill_no AND u.status_rank > {status_rank_sql("w.status")}
            WHERE w.status IN {in_transit}"""
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
    """Insert DuckDB's result rows (already in ``columns`` order) in chunks."""
    rows = 0
    insert = (
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - names from the model
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    while chunk := result.fetchmany(INSERT_CHUNK):
        cursor.executemany(insert, chunk)
        rows += len(chunk)
    return rows


def _copy_csv(
    cursor: Any, table: str, columns: list[str], con: duckdb.DuckDBPyConnection, sql: str
) -> int:
    """PostgreSQL: DuckDB writes the rows as CSV and COPY reads it, no Python per row."""
    work = lake.root() / "work"
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work) as folder:
        path = Path(folder) / "facts.csv"
        rows = con.execute(
            f"COPY ({sql}) TO '{path}' (FORMAT csv, HEADER false, NULLSTR '')"
        ).fetchone()[0]
        with (
            cursor.cursor.copy(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv)"
            ) as copy,
            open(path, "rb") as f,
        ):
            while block := f.read(1024 * 1024):
                copy.write(block)
    return int(rows)


def month_start(month: str) -> date:
    year, mon = month.split("-")
    return date(int(year), int(mon), 1)


def lane_dir() -> Path:
    return lake.root() / "facts" / LANE_KIND


def rebuild(
    con: duckdb.DuckDBPyConnection,
    files: list[str],
    months: Iterable[str],
    progress: Callable[[str], None] = lambda name: None,
    batch_id: int | None = None,
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
            elif name == "account_month_lane":
                counts[name] = _write_lanes(con, sql, months, batch_id)
            else:
                table = AccountMonth._meta.db_table
                cursor.execute(
                    f"DELETE FROM {table} WHERE month IN ({', '.join(['%s'] * len(starts))})",  # noqa: S608 - table from the model
                    starts,
                )
                if connection.vendor == "postgresql":
                    counts[name] = _copy_csv(cursor, table, ACCOUNT_MONTH_COLUMNS, con, sql)
                else:
                    counts[name] = _load(
                        cursor, table, ACCOUNT_MONTH_COLUMNS, _for_the_database(con, sql)
                    )
    # The account list's stored revenue column and the unlinked codes' totals, from the
    # facts just written.
    from .selectors import refresh_revenue_12m, refresh_unlinked_codes

    refresh_revenue_12m()
    refresh_unlinked_codes()
    return counts


def _write_lanes(
    con: duckdb.DuckDBPyConnection, sql: str, months: list[str], batch_id: int | None
) -> int:
    """Write the months' lane facts as new Parquet files and make them the current ones.

    One file per month, sorted by billing code (then lane), in row groups of
    :data:`LANE_ROW_GROUP` rows: a reader of a few codes (an account's, a group's) reads
    only the row groups whose min/max statistics hold them (bench/web: a month's 27,000
    rows in 14 row groups; an account's lanes over 24 files ~3x faster). Each month is a
    COPY of its own: a partitioned COPY writes from several threads and does not keep the
    order."""
    target = lane_dir()
    target.mkdir(parents=True, exist_ok=True)
    token = f"b{batch_id or 0}_{uuid.uuid4().hex[:8]}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE lane_facts AS {sql}")
    FactFile.objects.filter(kind=LANE_KIND, month__in=months).delete()
    created = []
    written = dict(con.execute("SELECT month, count(*) FROM lane_facts GROUP BY month").fetchall())
    for month in months:
        rows = int(written.get(month, 0))
        if not rows:
            continue  # no lane that matters this month: no file
        folder = target / f"month={month}"
        folder.mkdir(parents=True, exist_ok=True)
        file = folder / f"{token}_0.parquet"
        con.execute(
            f"""COPY (SELECT * EXCLUDE (month, month_start) FROM lane_facts
                      WHERE month = {_quote(month)} ORDER BY billing_code, origin, destination)
                TO '{file}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {LANE_ROW_GROUP})"""
        )
        created.append(
            FactFile(
                batch_id=batch_id,
                kind=LANE_KIND,
                month=month,
                path=str(file.relative_to(lake.root())),
                rows=rows,
            )
        )
    con.execute("DROP TABLE lane_facts")
    FactFile.objects.bulk_create(created)
    return sum(f.rows for f in created)


_THREAD = threading.local()


def _reader() -> duckdb.DuckDBPyConnection:
    """The thread's in-memory DuckDB for reading fact files (opening one costs milliseconds)."""
    con = getattr(_THREAD, "duckdb", None)
    if con is None:
        # Lane files are never rewritten (a rebuild writes new names), so their footers can
        # be kept instead of read again on every page.
        con = _THREAD.duckdb = duckdb.connect()
        con.execute("SET parquet_metadata_cache = true")
    return con


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def lane_paths(start: date, end: date) -> list[str]:
    """The current lane files of the months from ``start`` to ``end``. A file's path is
    never reused (its name has a random token), so the same paths mean the same facts."""
    return list(
        FactFile.objects.filter(
            kind=LANE_KIND, month__gte=f"{start:%Y-%m}", month__lte=f"{end:%Y-%m}"
        ).values_list("path", flat=True)
    )


@contextmanager
def lanes(
    codes: list[str], start: date, end: date, *, paths: list[str] | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection with the view ``lanes(billing_code, month, origin, destination,
    waybills, revenue)``: the lane facts of ``codes`` from month ``start`` to ``end``
    (``paths``: those months' files, :func:`lane_paths`, when the caller has read them)."""
    if paths is None:
        paths = lane_paths(start, end)
    con = _reader().cursor()  # a connection of its own to the thread's in-memory DuckDB
    try:
        if paths and codes:
            source = (
                f"SELECT billing_code, month, origin, destination, waybills, revenue "
                f"FROM read_parquet({lake.sql_file_list(paths)}, hive_partitioning = true) "
                f"WHERE billing_code IN ({', '.join(_quote(c) for c in sorted(set(codes)))})"
            )
        else:
            source = (
                "SELECT CAST(NULL AS VARCHAR) AS billing_code, CAST(NULL AS VARCHAR) AS month, "
                "CAST(NULL AS VARCHAR) AS origin, CAST(NULL AS VARCHAR) AS destination, "
                "CAST(NULL AS BIGINT) AS waybills, CAST(NULL AS DECIMAL(38,2)) AS revenue "
                "WHERE false"
            )
        con.execute(f"CREATE OR REPLACE TEMP VIEW lanes AS {source}")
        yield con
    finally:
        con.close()
