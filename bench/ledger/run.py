"""The ledger benchmark: N synthetic waybills -> import -> monthly facts, with baselines.

What it does, in one run (``python -m bench.ledger --help`` for the flags):

1. sets up its own KAM: a fresh temporary ``KAM_DATA_DIR`` (SQLite database and lake in
   it), migrated;
2. generates N waybills with DuckDB SQL (``range()`` and ``hash()``: deterministic and
   streamed) as Parquet files with the waybill contract's columns;
3. imports them through the real pipeline (``kam.ledger.services``) in a spawned child
   process, so that the child's peak RSS is the import's (DuckDB runs in-process); every
   engine step is timed by wrapping the engine's functions and DuckDB connection from the
   outside (nothing in ``kam/`` is changed);
4. rebuilds the facts of all months (``kam.ledger.facts.rebuild``) in this process and
   compares it with a plain DuckDB ``GROUP BY`` and a pandas ``groupby`` over the same lake
   files, also in this process;
5. times reading one account's 24 months of facts back (``selectors.monthly_totals``);
6. optionally (``--csv-gb``) writes a CSV file of that size and imports it in a fresh KAM,
   to show a big text file is streamed, not loaded whole;
7. prints markdown tables with the issue's targets (PASS / MISS) and where the time went.
"""

import argparse
import multiprocessing
import os
import platform
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

MB = 1024 * 1024
DEFAULT_ROWS = 10_000_000
CODES = 50_000
MONTHS = 24
READ_BACK_RUNS = 50

# The targets (issue 3, "Speed and memory").
TARGET_FACT_RATIO = 1.3  # fact build / plain DuckDB GROUP BY
TARGET_IMPORT_ROWS = 100_000_000
TARGET_IMPORT_SECONDS = 180.0
TARGET_PEAK_MB = 8 * 1024
TARGET_READ_BACK_MS = 50.0

# How carriers' exports spell them (the contract maps them to express, standard, ground, cold,
# international and delivered, returned, lost, damaged).
PRODUCTS_ZH = ["特快", "标快", "陆运", "冷运", "国际"]
STATUSES_ZH = ["已签收", "退回", "丢失", "破损"]
GOODS = ["服装", "电子产品", "文件", "食品", "日用品", "医药"]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- memory -----------------------------------------------------------------------------------


def _status_kb(key: str) -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: kB


def peak_kb() -> int:
    """The process's peak RSS (VmHWM) since start or since the last :func:`reset_peak`."""
    return _status_kb("VmHWM")


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: ``echo 5 > /proc/self/clear_refs``)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


# --- timing the engine's steps from the outside ------------------------------------------------


@dataclass
class Step:
    label: str
    path: tuple[str, ...]  # the labels of the enclosing steps and this one
    seconds: float = 0.0
    peak_kb: int = 0
    calls: int = 1

    @property
    def depth(self) -> int:
        return len(self.path) - 1


@dataclass
class Steps:
    """Nested, timed steps with the peak RSS of each (reset on entry, read on exit)."""

    started: list[Step] = field(default_factory=list)  # in the order they began
    stack: list[Step] = field(default_factory=list)
    peak_kb: int = 0
    per_step_peaks: bool = field(default_factory=reset_peak)

    def _checkpoint(self) -> None:
        hwm = peak_kb()
        self.peak_kb = max(self.peak_kb, hwm)
        for open_step in self.stack:
            open_step.peak_kb = max(open_step.peak_kb, hwm)

    @contextmanager
    def step(self, label: str) -> Iterator[Step]:
        self._checkpoint()
        if self.per_step_peaks:
            reset_peak()
        parent = self.stack[-1].path if self.stack else ()
        current = Step(label, (*parent, label))
        self.stack.append(current)
        self.started.append(current)
        began = time.perf_counter()
        try:
            yield current
        finally:
            current.seconds = time.perf_counter() - began
            self._checkpoint()
            self.stack.pop()

    def overall_peak_kb(self) -> int:
        self._checkpoint()
        return self.peak_kb

    def total(self, predicate: Callable[[str], bool]) -> float:
        return sum(s.seconds for s in self.started if predicate(s.label))

    def summary(self) -> list[tuple[str, int, float, int, int]]:
        """(label, depth, seconds, peak kB, calls): steps with the same path merged, in
        tree order (a parent before its children)."""
        merged: dict[tuple[str, ...], Step] = {}
        for s in self.started:
            if s.path in merged:
                m = merged[s.path]
                m.seconds += s.seconds
                m.peak_kb = max(m.peak_kb, s.peak_kb)
                m.calls += 1
            else:
                merged[s.path] = Step(s.label, s.path, s.seconds, s.peak_kb)
        children: dict[tuple[str, ...], list[Step]] = {}
        for m in merged.values():
            children.setdefault(m.path[:-1], []).append(m)
        out: list[tuple[str, int, float, int, int]] = []

        def walk(path: tuple[str, ...]) -> None:
            for m in children.get(path, []):
                out.append((m.label, m.depth, m.seconds, m.peak_kb, m.calls))
                walk(m.path)

        walk(())
        return out


# DuckDB statements of the engine, named by what they do.
_STATEMENT_LABELS: list[tuple[str, str]] = [
    (r"^DESCRIBE", "describe the source"),
    (r"^CREATE OR REPLACE TEMP VIEW parsed", "define the validation views"),
    (r"^CREATE OR REPLACE TEMP TABLE region_alias", "load region aliases"),
    (r"^CREATE TEMP TABLE rejects", "create rejects"),
    (
        r"^INSERT INTO rejects\s+SELECT _row AS row",
        "validate: find bad cells (scan 1 of the source)",
    ),
    (r"^INSERT INTO rejects VALUES", "rejects: unsplittable records"),
    (
        r"^COPY \(SELECT _row, .* TO '.*good\.parquet'",
        "validate: COPY good rows -> good.parquet (scan 2 of the source)",
    ),
    (
        r"^COPY \(.*\) TO '.*checked\.parquet'",
        "validate: one pass over the source -> checked.parquet",
    ),
    (r"^CREATE TEMP VIEW checked", "define view checked"),
    (r"^INSERT INTO rejects SELECT _row, p\.column", "rejects from checked.parquet"),
    (r"^CREATE TEMP VIEW good", "define view good"),
    (r"^CREATE TEMP TABLE repeats", "repeats: GROUP BY waybill_no HAVING count > 1"),
    (r"^CREATE TEMP TABLE repeat_rows", "repeats: join the repeated rows"),
    (r"^CREATE TEMP TABLE excluded", "repeats: excluded rows"),
    (r"^INSERT INTO rejects\s+SELECT .*'repeated_in_file'", "repeats: reject changed repeats"),
    (r"^SELECT count\(\*\) FROM repeat_rows", "repeats: count"),
    (r"^CREATE OR REPLACE TEMP VIEW waybills", "define view waybills (lake files)"),
    (r"^CREATE TEMP TABLE lake_hits", "lake dedup: join good rows with the lake"),
    (r"^INSERT INTO excluded", "lake dedup: exclude"),
    (
        r"^INSERT INTO rejects\s+SELECT .*'conflict'",
        "lake dedup: reject conflicts",
    ),
    (r"^SELECT count\(\*\) FILTER", "lake dedup: count"),
    (r"^SELECT count\(DISTINCT row\) FROM rejects", "count rejected rows"),
    (r"^COPY \(SELECT \* FROM rejects", "write the reject report"),
    (r"^SELECT count\(\*\) FROM good WHERE _row NOT IN", "count accepted rows (scan good.parquet)"),
    (
        r"^COPY \(SELECT \* EXCLUDE \(_row\) FROM good",
        "write the lake (COPY ... PARTITION_BY month)",
    ),
    (r"^CREATE OR REPLACE TEMP TABLE touched_months", "facts: touched_months"),
    (r"^INSERT INTO touched_months", "facts: touched_months"),
    (r"^SET ", "settings"),
]


def statement_label(sql: str) -> str:
    from kam.ledger import facts

    for name, text in facts.statements().items():
        # facts.rebuild may wrap a statement (SELECT CAST(...) FROM (<statement>)).
        if sql == text or (text in sql and not sql.lstrip().upper().startswith("DESCRIBE")):
            return f"facts: {name}"
    flat = " ".join(sql.split())
    for pattern, label in _STATEMENT_LABELS:
        if re.search(pattern, flat):
            return label
    return "duckdb: " + flat[:60]


class TimedConnection:
    """A DuckDB connection whose ``execute`` and fetches are timed as steps."""

    def __init__(self, con: Any, steps: Steps) -> None:
        self._con = con
        self._steps = steps
        self._last = ""

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> "TimedConnection":
        self._last = statement_label(sql)
        with self._steps.step(self._last):
            self._con.execute(sql, *args, **kwargs)
        return self

    def executemany(self, sql: str, *args: Any, **kwargs: Any) -> "TimedConnection":
        self._last = statement_label(sql)
        with self._steps.step(self._last):
            self._con.executemany(sql, *args, **kwargs)
        return self

    def fetchall(self) -> list[Any]:
        with self._steps.step(f"{self._last} · fetch to Python"):
            return self._con.fetchall()

    def fetchmany(self, *args: Any, **kwargs: Any) -> list[Any]:
        with self._steps.step(f"{self._last} · fetch to Python"):
            return self._con.fetchmany(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _timed(steps: Steps, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with steps.step(label):
            return function(*args, **kwargs)

    wrapper.__wrapped__ = function  # type: ignore[attr-defined]
    return wrapper


_TABLE = re.compile(r"\b(ledger_\w+)")
_ORIGINALS: dict[str, Callable[..., Any]] = {}


def instrument(steps: Steps) -> None:
    """Wrap the engine's functions (at runtime, from outside ``kam/``) to time each step."""
    from django.db import connection

    from kam.ledger import facts, importer, lake, sources

    original_connect = _ORIGINALS.setdefault("connect", lake.connect)

    def connect() -> TimedConnection:
        con = original_connect()
        con.execute("SET enable_progress_bar = false")  # the bench prints its own progress
        return TimedConnection(con, steps)

    lake.connect = connect
    importer.file_sha256 = _timed(steps, "sha256 of the file", importer.file_sha256)
    sources.sniff = _timed(steps, "sniff the file", sources.sniff)
    sources.stage = _timed(steps, "stage the source (CSV/XLSX -> staged.parquet)", sources.stage)
    lake.remove_orphans = _timed(steps, "remove orphan lake files", lake.remove_orphans)
    lake.load_region_table = _timed(steps, "load region aliases", lake.load_region_table)
    importer._split_repeats = _timed(
        steps, "repeated waybills in the file", importer._split_repeats
    )
    importer._match_lake = _timed(steps, "waybills already in the lake", importer._match_lake)
    importer._commit = _timed(steps, "commit (LakeFile rows, facts, batch)", importer._commit)

    original_rebuild = facts.rebuild

    def db_timer(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        match = _TABLE.search(sql)
        verb = sql.split(None, 1)[0].upper()
        with steps.step(f"facts: {verb} {match.group(1) if match else '?'} (Django DB)"):
            return execute(sql, params, many, context)

    def rebuild(*args: Any, **kwargs: Any) -> Any:
        with steps.step("facts.rebuild"), connection.execute_wrapper(db_timer):
            return original_rebuild(*args, **kwargs)

    facts.rebuild = rebuild


# --- environment -------------------------------------------------------------------------------


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kam.settings")
    import django

    django.setup()


def kam_environment(data_dir: Path) -> dict[str, str]:
    """The KAM_* variables of a fresh, private KAM under ``data_dir``."""
    return {
        "DJANGO_SETTINGS_MODULE": "kam.settings",
        "KAM_DATA_DIR": str(data_dir),
        "KAM_LAKE_DIR": str(data_dir / "lake"),
        "KAM_DATABASE_URL": f"sqlite:///{data_dir / 'kam.sqlite3'}",
        "KAM_LOG_LEVEL": os.environ.get("KAM_LOG_LEVEL", "WARNING"),
    }


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def migrate_quietly() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


# --- synthetic waybills ------------------------------------------------------------------------


def bench_months(today: date) -> tuple[date, int]:
    """The first day of the first of 24 whole months ending two months before ``today``'s
    (so that delivery and promise times never lie in the future), and the span in seconds."""
    index = today.year * 12 + today.month - 1 - 2 - (MONTHS - 1)
    start = date(index // 12, index % 12 + 1, 1)
    end_index = index + MONTHS
    end = date(end_index // 12, end_index % 12 + 1, 1)
    return start, int((end - start).total_seconds())


def city_codes() -> list[str]:
    from kam.core import regions

    return sorted(c.code for c in regions.cities())


def _uniform(salt: int) -> str:
    return f"((hash(i, {salt}) >> 11) / 9007199254740992.0)"


def waybill_sql(lo: int, hi: int, total: int, cities: list[str], start: date, span: int,
                prefix: str = "SF", headings: dict[str, str] | None = None) -> str:  # fmt: skip
    """A SELECT of waybills ``lo`` .. ``hi - 1`` of ``total`` (deterministic in the index).

    billing_code: 50,000 codes, log-uniform rank (Zipf-like: the top 20 % of codes carry
    about 82 % of waybills and 85 % of revenue); origin: a code's home city 85 % of the time; destination:
    skewed to the big cities; ship_time: spread evenly over the 24 months in index order
    (an export sorted by time), Beijing time without offset, as carriers' exports are.
    """
    city_list = "[" + ", ".join(f"'{c}'" for c in cities) + "]"
    n = len(cities)
    names = {c: c for c in _GENERATED_COLUMNS} | (headings or {})
    products = "[" + ", ".join(f"'{p}'" for p in PRODUCTS_ZH) + "]"
    goods = "[" + ", ".join(f"'{g}'" for g in GOODS) + "]"
    span_minus = span - 3600
    return f"""
    WITH b AS (
        SELECT i,
            least({CODES}, CAST(floor(exp({_uniform(1)} * ln({CODES}))) AS BIGINT)) AS code_rank,
            {_uniform(2)} AS u_origin, hash(i, 3) AS h_origin, {_uniform(4)} AS u_dest,
            {_uniform(5)} AS u_product, hash(i, 6) AS h_misc, {_uniform(7)} AS u_weight,
            {_uniform(8)} AS u_money, hash(i, 9) AS h_status, {_uniform(10)} AS u_delivery,
            TIMESTAMP '{start.isoformat()} 00:00:00'
                + to_seconds(CAST(i * {span_minus} // {total} + hash(i, 11) % 3600 AS BIGINT)) AS ship_time
        FROM range({lo}, {hi}) t(i)
    ), c AS (
        SELECT *,
            CASE WHEN u_product < 0.30 THEN 0 WHEN u_product < 0.75 THEN 1 WHEN u_product < 0.90 THEN 2
                 WHEN u_product < 0.97 THEN 3 ELSE 4 END AS p,
            round(0.1 + 30 * u_weight * u_weight * u_weight, 3) AS kg,
            CASE WHEN h_status % 1000 < 950 THEN 0 WHEN h_status % 1000 < 980 THEN 1
                 WHEN h_status % 1000 < 985 THEN 2 ELSE 3 END AS s
        FROM b
    ), d AS (
        SELECT *,
            round([18, 10, 8, 25, 120][1 + p] + [6, 3, 1.2, 8, 40][1 + p] * kg, 2) AS freight_d
        FROM c
    )
    SELECT
        printf('{prefix}%013d', i) AS "{names["waybill_no"]}",
        printf('C%07d', code_rank) AS "{names["billing_code"]}",
        ship_time AS "{names["ship_time"]}",
        CASE WHEN u_origin < 0.85 THEN {city_list}[1 + CAST(hash(code_rank, 99) % {n} AS BIGINT)]
             ELSE {city_list}[1 + CAST(h_origin % {n} AS BIGINT)] END AS "{names["origin"]}",
        {city_list}[1 + CAST(floor({n} * u_dest * u_dest) AS BIGINT)] AS "{names["destination"]}",
        {products}[1 + p] AS "{names["product"]}",
        CAST(CASE WHEN h_misc % 10 < 8 THEN 1 ELSE 1 + (h_misc >> 32) % 5 END AS INTEGER) AS "{names["pieces"]}",
        CAST(kg AS DECIMAL(12,3)) AS "{names["weight_kg"]}",
        CAST(freight_d AS DECIMAL(18,2)) AS "{names["freight"]}",
        CAST(CASE WHEN u_money < 0.7 THEN 0 ELSE round(u_money * 20, 2) END AS DECIMAL(18,2)) AS "{names["surcharges"]}",
        CAST(CASE WHEN h_misc % 10 = 0 THEN NULL ELSE round(freight_d * (0.55 + 0.3 * u_money), 2) END
             AS DECIMAL(18,2)) AS "{names["cost"]}",
        CAST(CASE WHEN (h_misc >> 8) % 100 < 15 THEN round(50 + u_weight * 500, 2) END AS DECIMAL(18,2)) AS "{names["cod_amount"]}",
        CAST(CASE WHEN (h_misc >> 16) % 10 = 0 THEN round(100 + u_dest * 2000, 2) END AS DECIMAL(18,2)) AS "{names["declared_value"]}",
        {goods}[1 + CAST((h_misc >> 24) % {len(GOODS)} AS BIGINT)] AS "{names["goods_category"]}",
        CASE WHEN (h_misc >> 40) % 10 < 6 THEN '个人' ELSE '企业' END AS "{names["consignee_type"]}",
        ['{"', '".join(STATUSES_ZH)}'][1 + s] AS "{names["status"]}",
        CASE WHEN s = 0 THEN ship_time + to_seconds(CAST(3600 * (12 + 72 * u_delivery) AS BIGINT)) END
            AS "{names["delivered_time"]}",
        CASE WHEN (h_status >> 10) % 10 < 3 THEN NULL
             ELSE ship_time + to_hours([24, 48, 72, 48, 120][1 + p]) END AS "{names["promised_time"]}",
        (h_status >> 20) % 100 < 3 AS "{names["is_return"]}"
    FROM d
    """  # noqa: S608 - generated numbers and fixed names, no user input


_GENERATED_COLUMNS = ("waybill_no", "billing_code", "ship_time", "origin", "destination", "product",
                      "pieces", "weight_kg", "freight", "surcharges", "cost", "cod_amount",
                      "declared_value", "goods_category", "consignee_type", "status",
                      "delivered_time", "promised_time", "is_return")  # fmt: skip


def generator_connection(work: Path) -> Any:
    import duckdb
    from django.conf import settings

    return duckdb.connect(
        config={
            "memory_limit": settings.DUCKDB_MEMORY_LIMIT,
            "temp_directory": str(work / "gen-tmp"),
        }
    )


def generate_parquet(work: Path, rows: int, files: int) -> list[Path]:
    start, span = bench_months(datetime.now(UTC).date())
    cities = city_codes()
    con = generator_connection(work)
    paths = []
    try:
        for k in range(files):
            lo, hi = rows * k // files, rows * (k + 1) // files
            path = work / f"waybills_{k + 1:02d}.parquet"
            con.execute(
                f"COPY ({waybill_sql(lo, hi, rows, cities, start, span)}) TO '{path}' "
                "(FORMAT parquet, COMPRESSION zstd)"
            )
            paths.append(path)
            log(f"generated {path.name}: {hi - lo:,} rows, {path.stat().st_size / MB:,.0f} MB")
    finally:
        con.close()
    return paths


def generate_csv(work: Path, gigabytes: float) -> tuple[Path, int]:
    """A UTF-8 CSV of about ``gigabytes`` GB with the Chinese headings carriers' exports use."""
    from kam.ledger.contract import BY_NAME

    start, span = bench_months(datetime.now(UTC).date())
    cities = city_codes()
    headings = {name: BY_NAME[name].label_zh for name in _GENERATED_COLUMNS}
    con = generator_connection(work)
    try:
        sample = work / "sample.csv"
        con.execute(
            f"COPY ({waybill_sql(0, 100_000, 100_000, cities, start, span, 'CS', headings)}) "
            f"TO '{sample}' (FORMAT csv, HEADER)"
        )
        per_row = sample.stat().st_size / 100_000
        sample.unlink()
        rows = max(1000, int(gigabytes * 1024**3 / per_row))
        path = work / "waybills.csv"
        con.execute(
            f"COPY ({waybill_sql(0, rows, rows, cities, start, span, 'CS', headings)}) "
            f"TO '{path}' (FORMAT csv, HEADER)"
        )
    finally:
        con.close()
    return path, rows


# --- the import (in a spawned child, for its own peak RSS) --------------------------------------


def _import_worker(paths: list[str], reply: Any) -> None:
    """Runs in a spawned process with the parent's environment (``KAM_*`` already set)."""
    django_setup()
    from django.utils import translation

    from kam.ledger import services
    from kam.ledger.models import ImportBatch

    translation.activate("en")  # the progress lines below
    steps = Steps()
    instrument(steps)
    batches = []
    started = time.perf_counter()
    for raw in paths:
        path = Path(raw)
        stage = [""]

        def on_progress(
            batch: ImportBatch, stage: list[str] = stage, name: str = path.name
        ) -> None:
            if batch.stage != stage[0]:
                stage[0] = batch.stage
                log(f"  import {name}: {batch.get_stage_display()} ({batch.progress_done} %)")

        with steps.step(f"import {path.name}"):
            batch = services.import_create(
                by=None, source=ImportBatch.Source.CLI, file_name=path.name, path=path
            )
            batch = services.import_run(batch=batch, path=path, on_progress=on_progress)
        batches.append(
            {
                "file": path.name,
                "status": batch.status,
                "error": batch.error_code,
                "read": batch.rows_read,
                "accepted": batch.accepted,
                "rejected": batch.rejected,
                "duplicates": batch.duplicates,
                "conflicts": batch.conflicts,
                "months": len(batch.months),
                "duration": batch.duration_seconds or 0.0,
            }
        )
    wall = time.perf_counter() - started
    peak = max(steps.overall_peak_kb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    reply.send(
        {
            "batches": batches,
            "wall": wall,
            "peak_kb": peak,
            "per_step_peaks": steps.per_step_peaks,
            "steps": steps.summary(),
        }
    )
    reply.close()


def run_import(paths: list[Path], env: dict[str, str] | None = None) -> dict[str, Any]:
    from django.db import connections

    connections.close_all()  # the child writes to the same SQLite file
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    with environment(env or {}):
        child = context.Process(target=_import_worker, args=([str(p) for p in paths], send))
        child.start()
    send.close()
    try:
        result = receive.recv()
    except EOFError:
        result = None
    child.join()
    if child.exitcode or result is None:
        raise RuntimeError(f"the import process failed with exit code {child.exitcode}")
    for batch in result["batches"]:
        if batch["status"] != "committed":
            raise RuntimeError(
                f"import of {batch['file']} ended {batch['status']}: {batch['error']}"
            )
    return result


# --- facts and baselines (in this process) -----------------------------------------------------


def lake_files() -> tuple[list[str], list[str]]:
    from kam.ledger.models import LakeFile

    files = list(LakeFile.objects.order_by("path").values_list("path", flat=True))
    months = sorted(set(LakeFile.objects.values_list("month", flat=True)))
    return files, months


def fact_build(steps: Steps, files: list[str], months: list[str]) -> tuple[float, dict[str, int]]:
    """``facts.rebuild`` over every month of the lake, as an import's commit runs it."""
    from django.db import transaction

    from kam.ledger import facts, lake

    con = lake.connect()  # instrumented: a TimedConnection
    try:
        started = time.perf_counter()
        with transaction.atomic():
            counts = facts.rebuild(con, files, months)
        return time.perf_counter() - started, counts
    finally:
        con.close()


def raw_connection() -> Any:
    """A plain (not timed) DuckDB connection with KAM's settings."""
    from kam.ledger import lake

    con = _ORIGINALS.get("connect", lake.connect)()
    con.execute("SET enable_progress_bar = false")
    return con


@dataclass
class Timing:
    execute: float  # DuckDB computes the result
    fetch: float  # the rows become Python objects (or an Arrow table)
    rows: int

    @property
    def total(self) -> float:
        return self.execute + self.fetch


def run_statements(
    files: list[str], months: list[str], sql: dict[str, str], arrow: bool = False
) -> dict[str, Timing]:
    """Run ``sql`` (name -> statement) over the lake ``files``, as ``facts.rebuild`` provides
    them (views ``waybills`` and ``touched_months``), and fetch each result; no database."""
    from kam.ledger import facts

    con = raw_connection()
    try:
        facts.define_waybills_view(con, files)
        con.execute("CREATE OR REPLACE TEMP TABLE touched_months (month VARCHAR)")
        con.executemany("INSERT INTO touched_months VALUES (?)", [(m,) for m in months])
        times = {}
        for name, text in sql.items():
            started = time.perf_counter()
            if facts.is_intermediate(name) and name in facts.statements():
                con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {text}")
                times[name] = Timing(time.perf_counter() - started, 0.0, 0)
                continue
            con.execute(text)
            executed = time.perf_counter()
            rows = 0
            if con.description and arrow:
                with (
                    warnings.catch_warnings()
                ):  # "an extra copy": a few ms, kept to time execute alone
                    warnings.simplefilter("ignore", UserWarning)
                    rows = con.to_arrow_table().num_rows
            elif con.description:
                rows = len(con.fetchall())
            times[name] = Timing(executed - started, time.perf_counter() - executed, rows)
        return times
    finally:
        con.close()


def best_of(runs: int, measure: Callable[[], dict[str, Timing]]) -> dict[str, Timing]:
    """The run with the smallest total (the machine may be shared: the minimum is the most
    repeatable figure)."""
    results = [measure() for _ in range(max(1, runs))]
    return min(results, key=lambda r: sum(t.total for t in r.values()))


PLAIN_SQL = """
    SELECT billing_code, month, count(*) AS waybills, sum(pieces) AS pieces,
           sum(weight_kg) AS weight_kg, sum(freight + surcharges) AS revenue, sum(cost) AS cost,
           sum(cod_amount) AS cod_amount
    FROM waybills GROUP BY billing_code, month
"""


def pandas_groupby(files: list[str]) -> tuple[float, float, int]:
    """(read s, groupby s, groups): pyarrow reads the lake files, money as exact integer
    minor units (cents, grams), then pandas sums per billing code and month."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    from kam.ledger import lake

    started = time.perf_counter()
    dataset = ds.dataset(
        [str(lake.root() / f) for f in files],
        format="parquet",
        partitioning=ds.partitioning(pa.schema([("month", pa.string())]), flavor="hive"),
        partition_base_dir=str(lake.waybill_dir()),
    )
    table = dataset.to_table(
        columns=[
            "billing_code",
            "month",
            "pieces",
            "weight_kg",
            "freight",
            "surcharges",
            "cost",
            "cod_amount",
        ]
    )
    scaled = {"weight_kg": 1000, "freight": 100, "surcharges": 100, "cost": 100, "cod_amount": 100}
    for name, factor in scaled.items():
        column = pc.multiply(table[name], pa.scalar(Decimal(factor), pa.decimal128(5, 0)))
        table = table.set_column(
            table.schema.get_field_index(name), name, pc.fill_null(pc.cast(column, pa.int64()), 0)
        )
    frame = table.to_pandas()
    del table
    read = time.perf_counter() - started
    started = time.perf_counter()
    frame["revenue"] = frame["freight"] + frame["surcharges"]
    grouped = frame.groupby(["billing_code", "month"], sort=False, observed=True).agg(
        waybills=("pieces", "size"),
        pieces=("pieces", "sum"),
        weight_g=("weight_kg", "sum"),
        revenue_cents=("revenue", "sum"),
        cost_cents=("cost", "sum"),
        cod_cents=("cod_amount", "sum"),
    )
    rows = list(grouped.itertuples(name=None))  # fetched to Python, as the DuckDB baseline
    return read, time.perf_counter() - started, len(rows)


def check_totals(files: list[str]) -> dict[str, Any]:
    """The facts' sums against the lake's (a sanity check of the run)."""
    from django.db.models import Sum

    from kam.ledger import facts
    from kam.ledger.models import AccountMonth

    con = raw_connection()
    try:
        facts.define_waybills_view(con, files)
        waybills, revenue = con.execute(
            "SELECT count(*), sum(freight + surcharges) FROM waybills"
        ).fetchone()
    finally:
        con.close()
    db = AccountMonth.objects.aggregate(w=Sum("waybills"), r=Sum("revenue"))
    cent = Decimal("0.01")
    return {
        "lake_waybills": waybills,
        "lake_revenue": revenue,
        "fact_waybills": db["w"],
        "fact_revenue": db["r"],
        "equal_to_cent": waybills == db["w"]
        and revenue.quantize(cent) == Decimal(db["r"]).quantize(cent),
        "exact": revenue == db["r"],
    }


# --- read-back --------------------------------------------------------------------------------


def read_back(months: list[str]) -> dict[str, Any]:
    from django.db.models import Sum

    from kam.ledger import selectors
    from kam.ledger.facts import month_start
    from kam.ledger.models import AccountMonth

    code = (
        AccountMonth.objects.values("billing_code")
        .annotate(w=Sum("waybills"))
        .order_by("-w")
        .values_list("billing_code", flat=True)
        .first()
    )
    start, end = month_start(months[0]), month_start(months[-1])

    def median_ms(function: Callable[[], Any]) -> float:
        function()  # warm
        times = []
        for _ in range(READ_BACK_RUNS):
            started = time.perf_counter()
            function()
            times.append(time.perf_counter() - started)
        return statistics.median(times) * 1000

    totals = median_ms(lambda: selectors.monthly_totals([code], start, end))
    page = median_ms(
        lambda: (
            selectors.monthly_totals([code], start, end),
            selectors.top_lanes([code], start, end),
            selectors.product_mix([code], start, end),
        )
    )
    rows = selectors.monthly_totals([code], start, end)
    return {
        "code": code,
        "months": len(rows),
        "monthly_totals_ms": totals,
        "page_ms": page,
        "sample": rows[0]["revenue"] if rows else None,
    }


# --- alternative fact SQL, measured (prototypes for the engine's owners; kam/ is untouched) ----

_ACTIVE_DAYS = "COUNT(DISTINCT w.ship_date)"
_ACTIVE_DAYS_BITS = "bit_count(bit_or(CAST(POWER(2, DAYOFMONTH(w.ship_date) - 1) AS BIGINT)))"
_DISTINCT = re.compile(r"COUNT\(DISTINCT [^\n]*?\) AS (\w+)")


def _needs(statements: dict[str, str], text: str) -> dict[str, str]:
    """The intermediate statements (kept as temporary tables) that ``text`` reads."""
    from kam.ledger import facts

    return {n: t for n, t in statements.items() if facts.is_intermediate(n) and n in text}


def prototypes() -> list[tuple[str, dict[str, str], bool]]:
    """(name, statements, fetch as Arrow): variants of facts.sql that show where its time
    goes. Variants made by editing facts.sql's text are left out when the text changed."""
    from kam.ledger import facts

    current = facts.statements()
    am = current.get("account_month", "")
    out: list[tuple[str, dict[str, str], bool]] = [
        ("facts.sql as it is", current, False),
        ("facts.sql, results as Arrow (no Python objects)", current, True),
    ]
    for name, text in current.items():
        out.append((f"{name} only", {**_needs(current, text), name: text}, False))
    if _DISTINCT.search(am):
        out.append(
            (
                "account_month without its COUNT(DISTINCT)s",
                {**_needs(current, am), "am": _DISTINCT.sub(r"0 AS \1", am)},
                False,
            )
        )
    if _ACTIVE_DAYS in am:
        out.append(
            (
                "account_month, active_days as a day bitmask (bit_or + bit_count; Spark has both)",
                {"am": am.replace(_ACTIVE_DAYS, _ACTIVE_DAYS_BITS)},
                False,
            )
        )
    out += [
        ("plain GROUP BY (the baseline)", {"plain": PLAIN_SQL}, False),
        ("plain GROUP BY, results as Arrow", {"plain": PLAIN_SQL}, True),
    ]
    return out


def check_prototype_bitmask(files: list[str], months: list[str]) -> bool | None:
    """Does the bitmask give the same active_days as COUNT(DISTINCT)? (None: not applicable.)"""
    from kam.ledger import facts

    am = facts.statements().get("account_month", "")
    if _ACTIVE_DAYS not in am:
        return None
    con = raw_connection()
    try:
        facts.define_waybills_view(con, files)
        con.execute("CREATE OR REPLACE TEMP TABLE touched_months (month VARCHAR)")
        con.executemany("INSERT INTO touched_months VALUES (?)", [(m,) for m in months])
        bits = am.replace(_ACTIVE_DAYS, _ACTIVE_DAYS_BITS)
        differ = con.execute(f"SELECT count(*) FROM (({am}) EXCEPT ALL ({bits}))").fetchone()[0]  # noqa: S608 - facts.sql
        return differ == 0
    finally:
        con.close()


# --- report ------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def steps_table(steps: list[tuple[str, int, float, int, int]], total: float, peaks: bool) -> str:
    rows = []
    for label, depth, seconds, peak, calls in steps:
        if seconds < 0.01 and depth > 0:
            continue
        name = "&nbsp;&nbsp;" * depth + label + (f" (×{calls})" if calls > 1 else "")
        rows.append(
            [
                name,
                f"{seconds:,.2f}",
                f"{100 * seconds / total:.0f} %" if total else "",
                f"{peak / 1024:,.0f}" if peaks else "n/a",
            ]  # fmt: skip
        )
    return table(["step", "s", "share", "peak RSS MB"], rows)


def fmt_s(seconds: float) -> str:
    return f"{seconds:,.2f}"


# --- main --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ledger", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--rows", type=int, default=DEFAULT_ROWS, help="waybills to generate (default 10,000,000)"
    )
    parser.add_argument("--files", type=int, default=1,
                        help="split the waybills into this many Parquet files, by time, imported as one "
                             "batch each (default 1: one import)")  # fmt: skip
    parser.add_argument("--csv-gb", type=float, default=0.0,
                        help="also write a CSV file of about this many GB and import it into a fresh KAM")  # fmt: skip
    parser.add_argument("--pandas", choices=("auto", "on", "off"), default="auto",
                        help="pandas baseline (auto: only up to 30 million rows)")  # fmt: skip
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each baseline and variant; the best counts (default 3)",
    )
    parser.add_argument("--prototypes", choices=("auto", "on", "off"), default="auto",
                        help="time variants of facts.sql (auto: only up to 30 million rows)")  # fmt: skip
    parser.add_argument(
        "--memory-limit", default="", help="sets KAM_DUCKDB_MEMORY_LIMIT for the run (e.g. 6GB)"
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="sets KAM_DUCKDB_THREADS for the run"
    )
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()),
                        help="where the temporary KAM and the generated files go")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.memory_limit:
        os.environ["KAM_DUCKDB_MEMORY_LIMIT"] = args.memory_limit
    if args.threads:
        os.environ["KAM_DUCKDB_THREADS"] = str(args.threads)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="kam-bench-", dir=args.work_dir))
    try:
        run(args, work)
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


@dataclass
class Results:
    """What one run measured (filled in by :func:`run`, printed by :func:`report`)."""

    args: argparse.Namespace
    start_load: str = ""
    generation: float = 0.0
    sources: list[Path] = field(default_factory=list)
    imported: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    build_seconds: float = 0.0
    build_counts: dict[str, int] = field(default_factory=dict)
    build_peak_mb: float = 0.0
    build_steps: Steps = field(default_factory=Steps)
    totals: dict[str, Any] = field(default_factory=dict)
    facts_sql: dict[str, Timing] = field(default_factory=dict)
    plain: Timing = field(default_factory=lambda: Timing(0.0, 0.0, 0))
    pandas: tuple[float, float, float] | None = None  # read s, groupby s, peak MB
    back: dict[str, Any] = field(default_factory=dict)
    prototypes: list[tuple[str, dict[str, Timing]]] = field(default_factory=list)
    bitmask_exact: bool | None = None
    csv: dict[str, Any] | None = None


def run(args: argparse.Namespace, work: Path) -> None:
    need = args.rows * 160 + int(args.csv_gb * 2.5 * 1024**3)  # source, work files, lake
    free = shutil.disk_usage(work).free
    if free < need:
        raise SystemExit(
            f"{work}: {free / 1024**3:.0f} GB free, about {need / 1024**3:.0f} GB needed"
        )
    r = Results(args, start_load=", ".join(f"{x:.1f}" for x in os.getloadavg()))
    home = work / "kam"
    os.environ.update(kam_environment(home))
    django_setup()
    log(f"temporary KAM in {home}; migrating")
    migrate_quietly()

    # 1. synthetic waybills
    log(f"generating {args.rows:,} waybills in {args.files} Parquet file(s)")
    started = time.perf_counter()
    r.sources = generate_parquet(work, args.rows, max(1, args.files))
    r.generation = time.perf_counter() - started

    # 2. the import, in a child process
    log("importing (child process)")
    r.imported = run_import(r.sources)
    accepted = sum(b["accepted"] for b in r.imported["batches"])
    if accepted != args.rows:
        raise SystemExit(f"accepted {accepted:,} of {args.rows:,} rows: {r.imported['batches']}")

    # 3. the fact build and the baselines, in this process
    instrument(r.build_steps)
    r.files, months = lake_files()
    log(f"fact build over {len(months)} months, {len(r.files)} lake files")
    reset_peak()
    r.build_seconds, r.build_counts = fact_build(r.build_steps, r.files, months)
    r.build_peak_mb = peak_kb() / 1024
    r.totals = check_totals(r.files)

    from kam.ledger import facts

    log(f"baselines: facts.sql alone and the plain DuckDB GROUP BY (best of {args.repeat})")
    r.facts_sql = best_of(args.repeat, lambda: run_statements(r.files, months, facts.statements()))
    r.plain = best_of(args.repeat, lambda: run_statements(r.files, months, {"plain": PLAIN_SQL}))[
        "plain"
    ]
    if args.pandas == "on" or (args.pandas == "auto" and args.rows <= 30_000_000):
        log("baseline: pandas groupby")
        reset_peak()
        read, group, _ = pandas_groupby(r.files)
        r.pandas = (read, group, peak_kb() / 1024)

    log("read-back of one account's 24 months")
    r.back = read_back(months)

    if args.prototypes == "on" or (args.prototypes == "auto" and args.rows <= 30_000_000):
        log("prototypes: variants of facts.sql")
        for name, sql, arrow in prototypes():
            timings = best_of(
                args.repeat,
                lambda sql=sql, arrow=arrow: run_statements(r.files, months, sql, arrow),
            )
            r.prototypes.append((name, timings))
        r.bitmask_exact = check_prototype_bitmask(r.files, months)

    if args.csv_gb > 0:
        log(f"writing a CSV file of about {args.csv_gb:g} GB")
        csv_path, csv_rows = generate_csv(work, args.csv_gb)
        size_mb = csv_path.stat().st_size / MB
        log(f"{csv_path.name}: {csv_rows:,} rows, {size_mb:,.0f} MB; importing into a fresh KAM")
        env = kam_environment(work / "kam-csv")
        _migrate_in_child(env)
        r.csv = run_import([csv_path], env) | {"rows": csv_rows, "size_mb": size_mb}
        csv_path.unlink()
    report(r)


def report(r: Results) -> None:
    from django.conf import settings

    args = r.args
    batches = r.imported["batches"]
    accepted = sum(b["accepted"] for b in batches)
    import_duration = sum(b["duration"] for b in batches)
    rows_per_s = accepted / import_duration if import_duration else 0.0
    target_rate = TARGET_IMPORT_ROWS / TARGET_IMPORT_SECONDS
    import_peak_mb = r.imported["peak_kb"] / 1024
    steps = r.build_steps
    build_sql = steps.total(lambda label: label.startswith("facts: account_month"))
    build_db = steps.total(lambda label: label.endswith("(Django DB)"))
    sql_total = sum(t.total for t in r.facts_sql.values())
    sql_execute = sum(t.execute for t in r.facts_sql.values())
    plain = r.plain
    ratio = r.build_seconds / plain.total
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    counts = r.build_counts
    print()
    print(f"## bench/ledger: {args.rows:,} waybills")
    print()
    print(
        f"Machine: {os.cpu_count()} cores, {_mem_total_gb():.0f} GB RAM, load average "
        f"{r.start_load} at the start, {load} at the end. Python {platform.python_version()}, "
        f"DuckDB {_version('duckdb')}, pandas {_version('pandas')}; engine {engine_fingerprint()}. "
        f"DuckDB memory_limit={settings.DUCKDB_MEMORY_LIMIT}, "
        f"threads={settings.DUCKDB_THREADS or 'one per core'}. "
        f"Source: {len(r.sources)} Parquet file(s), {sum(p.stat().st_size for p in r.sources) / MB:,.0f} MB; "
        f"lake: {len(r.files)} files, {_dir_mb(settings.LAKE_DIR / 'waybills'):,.0f} MB. "
        f"Facts: {counts.get('account_month', 0):,} account-months, "
        f"{counts.get('account_month_product', 0):,} product rows, "
        f"{counts.get('account_month_lane', 0):,} lane rows."
    )
    print()
    rows = [
        ["rows", f"{args.rows:,}", "", ""],
        ["generation s (not part of the figures)", fmt_s(r.generation), "", ""],
        [f"import s ({len(batches)} batch(es): their own duration; wall in the child)",
         f"{fmt_s(import_duration)} ({fmt_s(r.imported['wall'])})", f"100 M in < {TARGET_IMPORT_SECONDS:.0f} s", ""],
        ["import rows/s", f"{rows_per_s:,.0f}", f"≥ {target_rate:,.0f}", verdict(rows_per_s >= target_rate)],
        ["import peak RSS MB (child process, DuckDB included)", f"{import_peak_mb:,.0f}",
         f"< {TARGET_PEAK_MB:,}", verdict(import_peak_mb < TARGET_PEAK_MB)],
        ["fact build s (facts.rebuild, all months, one run)", fmt_s(r.build_seconds), "", ""],
        ["&nbsp;&nbsp;of which DuckDB: execute + fetch to Python", fmt_s(build_sql), "", ""],
        ["&nbsp;&nbsp;of which the Django DB: DELETE + INSERT", fmt_s(build_db), "", ""],
        ["fact build peak RSS MB (this process)", f"{r.build_peak_mb:,.0f}", "", ""],
        ["facts.sql alone, no DB: execute + fetch s",
         f"{fmt_s(sql_total)} ({fmt_s(sql_execute)} + {fmt_s(sql_total - sql_execute)})", "", ""],
        ["DuckDB plain GROUP BY: execute + fetch s",
         f"{fmt_s(plain.total)} ({fmt_s(plain.execute)} + {fmt_s(plain.fetch)}; {plain.rows:,} groups)", "", ""],
        ["**ratio fact build / DuckDB plain**", f"{ratio:.2f}", f"≤ {TARGET_FACT_RATIO}",
         verdict(ratio <= TARGET_FACT_RATIO)],
        ["ratio facts.sql alone / DuckDB plain (execute + fetch)", f"{sql_total / plain.total:.2f}",
         f"≤ {TARGET_FACT_RATIO}", verdict(sql_total / plain.total <= TARGET_FACT_RATIO)],
        ["ratio facts.sql alone / DuckDB plain (execute only)", f"{sql_execute / plain.execute:.2f}",
         f"≤ {TARGET_FACT_RATIO}", verdict(sql_execute / plain.execute <= TARGET_FACT_RATIO)],
    ]  # fmt: skip
    if r.pandas:
        read, group, peak = r.pandas
        rows += [
            ["pandas groupby s (pyarrow read + groupby)", f"{fmt_s(read + group)} ({fmt_s(read)} + {fmt_s(group)}; peak RSS {peak:,.0f} MB)", "", ""],
            ["**ratio fact build / pandas**", f"{r.build_seconds / (read + group):.2f}", "", ""],
            ["ratio facts.sql alone / pandas", f"{sql_total / (read + group):.2f}", "", ""],
        ]  # fmt: skip
    else:
        rows.append(["pandas groupby", "skipped above 30 M rows (`--pandas on` forces it)", "", ""])
    back = r.back
    rows += [
        [f"24-month read-back ms (monthly_totals, median of {READ_BACK_RUNS})", f"{back['monthly_totals_ms']:.2f}",
         f"< {TARGET_READ_BACK_MS:.0f}", verdict(back["monthly_totals_ms"] < TARGET_READ_BACK_MS)],
        ["account page reads ms (totals + lanes + products)", f"{back['page_ms']:.2f}", "", ""],
    ]  # fmt: skip
    if r.csv:
        c = r.csv
        seconds = c["batches"][0]["duration"]
        peak = c["peak_kb"] / 1024
        rows += [
            [f"CSV import s ({c['size_mb']:,.0f} MB, {c['rows']:,} rows, fresh KAM)", fmt_s(seconds), "", ""],
            ["CSV import rows/s", f"{c['rows'] / seconds:,.0f}", "", ""],
            ["CSV import peak RSS MB", f"{peak:,.0f} ({peak / c['size_mb']:.2f} × the file size)",
             f"< {TARGET_PEAK_MB:,}", verdict(peak < TARGET_PEAK_MB)],
        ]  # fmt: skip
    print(table(["measure", "value", "target", ""], rows))
    print()
    t = r.totals
    print(
        f"Reconciliation: the lake holds {t['lake_waybills']:,} waybills, {t['lake_revenue']} CNY revenue; "
        f"the facts {t['fact_waybills']:,}, {t['fact_revenue']} CNY: "
        f"{'equal to the cent' if t['equal_to_cent'] else 'DIFFERENT'}"
        + (
            ""
            if t["exact"]
            else " (the database's SUM is not exact: SQLite sums DECIMAL columns as floating point)"
        )
        + f". Read back: {back['code']}, {back['months']} months; its first month's revenue as "
        f"monthly_totals returns it: {back['sample']!r}."
    )
    print()
    print(
        f"### Import steps (seconds in the child; peak RSS of each step; share of {fmt_s(r.imported['wall'])} s)"
    )
    print()
    print(steps_table(r.imported["steps"], r.imported["wall"], r.imported["per_step_peaks"]))
    print()
    print(f"### Fact build steps (this process; share of {fmt_s(r.build_seconds)} s)")
    print()
    print(steps_table(steps.summary(), r.build_seconds, steps.per_step_peaks))
    if r.prototypes:
        print()
        print(
            f"### Variants of facts.sql (DuckDB only, no DB; best of {args.repeat}; × = total / plain GROUP BY total)"
        )
        print()
        proto_rows = []
        for name, timings in r.prototypes:
            execute = sum(x.execute for x in timings.values())
            fetch = sum(x.fetch for x in timings.values())
            parts = (
                ", ".join(f"{k} {x.execute:.2f}+{x.fetch:.2f}" for k, x in timings.items())
                if len(timings) > 1
                else ""
            )
            proto_rows.append(
                [
                    name,
                    fmt_s(execute),
                    fmt_s(fetch),
                    fmt_s(execute + fetch),
                    f"{(execute + fetch) / plain.total:.2f}",
                    parts,
                ]
            )
        print(
            table(
                [
                    "variant",
                    "execute s",
                    "fetch s",
                    "total s",
                    "× plain",
                    "statements (execute+fetch s)",
                ],
                proto_rows,
            )
        )
        if r.bitmask_exact is not None:
            print()
            print(
                f"The day-bitmask active_days equals COUNT(DISTINCT ship_date) on every row: {r.bitmask_exact}."
            )
    if r.csv:
        print()
        print("### CSV import steps")
        print()
        print(steps_table(r.csv["steps"], r.csv["wall"], r.csv["per_step_peaks"]))
    print()


def engine_fingerprint() -> str:
    """Which engine was measured: git HEAD, and a hash of kam/ledger's code when it differs."""
    import hashlib

    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for path in sorted((root / "kam" / "ledger").rglob("*")):
        if path.suffix in (".py", ".sql") and "migrations" not in path.parts:
            digest.update(path.read_bytes())
    head = _git(root, "rev-parse", "--short", "HEAD")
    changed = (
        _git(root, "--no-optional-locks", "diff", "--quiet", "HEAD", "--", "kam/ledger") is None
    )
    return f"git {head or '?'}{' + uncommitted changes' if changed else ''}, kam/ledger sha256 {digest.hexdigest()[:10]}"


def _git(root: Path, *args: str) -> str | None:
    """A read-only git command's output, None when it fails (or, for diff --quiet, differs)."""
    import subprocess

    try:
        done = subprocess.run(  # noqa: S603 - fixed read-only git commands, no shell
            ["git", "-C", str(root), *args],  # noqa: S607 - git from PATH
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip()


def _migrate_worker() -> None:
    django_setup()
    migrate_quietly()


def _migrate_in_child(env: dict[str, str]) -> None:
    """Migrate another KAM (its settings differ from this process's, so in a child)."""
    context = multiprocessing.get_context("spawn")
    with environment(env):
        child = context.Process(target=_migrate_worker)
        child.start()
    child.join()
    if child.exitcode:
        raise RuntimeError("migrating the CSV KAM failed")


def _mem_total_gb() -> float:
    return _meminfo_kb("MemTotal") / 1024 / 1024


def _meminfo_kb(key: str) -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) / MB


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"
