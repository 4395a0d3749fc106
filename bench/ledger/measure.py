"""The measurements: the import in a spawned child, the fact build and its baselines in this
process, the read-back, and variants of facts.sql."""

import multiprocessing
import re
import resource
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.ledger.common import READ_BACK_RUNS, django_setup, environment, log
from bench.ledger.steps import ORIGINALS, Steps, instrument

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
                "updated": batch.updated,
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

    con = ORIGINALS.get("connect", lake.connect)()
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

# The same figures as the account-month facts (product mix included), written the direct
# way: one GROUP BY over the waybills, COUNT(DISTINCT) for lanes, destinations and days.
PLAIN_SAME_SQL = """
    SELECT billing_code, month, count(*) AS waybills, sum(pieces) AS pieces,
           sum(weight_kg) AS weight_kg, sum(freight + surcharges) AS revenue, sum(cost) AS cost,
           sum(freight + surcharges - cost) AS margin, count(cost) AS costed_waybills,
           sum(cod_amount) AS cod_amount,
           count(*) FILTER (WHERE is_return) AS returns,
           count(*) FILTER (WHERE status = 'returned') AS returned,
           count(*) FILTER (WHERE status = 'lost') AS lost,
           count(*) FILTER (WHERE status = 'damaged') AS damaged,
           count(*) FILTER (WHERE status = 'delivered' AND promised_time IS NOT NULL
                            AND delivered_time IS NOT NULL) AS promised,
           count(*) FILTER (WHERE status = 'delivered' AND delivered_time <= promised_time) AS on_time,
           count(*) FILTER (WHERE consignee_type = 'consumer') AS consumer_waybills,
           count(DISTINCT (origin, destination)) AS lanes,
           count(DISTINCT destination) AS destination_cities,
           count(DISTINCT ship_date) AS active_days,
           count(*) FILTER (WHERE product = 'express') AS express_waybills, sum(freight + surcharges) FILTER (WHERE product = 'express') AS express_revenue,
           count(*) FILTER (WHERE product = 'standard') AS standard_waybills, sum(freight + surcharges) FILTER (WHERE product = 'standard') AS standard_revenue,
           count(*) FILTER (WHERE product = 'ground') AS ground_waybills, sum(freight + surcharges) FILTER (WHERE product = 'ground') AS ground_revenue,
           count(*) FILTER (WHERE product = 'cold') AS cold_waybills, sum(freight + surcharges) FILTER (WHERE product = 'cold') AS cold_revenue,
           count(*) FILTER (WHERE product = 'international') AS international_waybills, sum(freight + surcharges) FILTER (WHERE product = 'international') AS international_revenue
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
    out += [
        ("plain GROUP BY, 6 sums", {"plain": PLAIN_SQL}, False),
        ("plain GROUP BY, 6 sums, results as Arrow", {"plain": PLAIN_SQL}, True),
        ("plain GROUP BY, the same figures", {"same": PLAIN_SAME_SQL}, False),
        ("plain GROUP BY, the same figures, results as Arrow", {"same": PLAIN_SAME_SQL}, True),
    ]
    return out
