"""``python -m bench.pricing [--rows N]``: the what-if on one very large account's year.

1. Generates ``--rows`` waybills (default 10 million) of one account over a year as
   Parquet with the lake's column types (:mod:`bench.pricing.generate`: four warehouses,
   destinations skewed to the big cities, 50 % standard, 25 % express, 17 % ground freight
   of 5 to 805 kg, 5 % cold chain, 3 % international that the card does not price; 10 % of
   the waybills without a cost) and a card for it (zones from a province-pair matrix with
   Tibet and Xinjiang remote, first / additional weight for parcels, weight breaks with a
   minimum for ground, discounts by product, zone and weight band, an index-linked fuel
   surcharge with one month's index missing, three peaks, remote, COD and insurance fees)
   with cost rates.
2. Measures, interleaved, ``--runs`` times each, in this process on the same file:
   (a) ``kam.pricing.reprice.what_if`` (totals and every breakdown, into Python);
   (b) a plain DuckDB aggregation of the same waybills into the what-if's own cells:
   count and the sums of every column the what-if reads (weight, freight, surcharges,
   cost, COD, declared value) by month and lane (origin, destination, product), fetched
   as Arrow: what the what-if would cost if repricing were free; the issue's target is
   the what-if within 2x of it;
   (b') the narrower aggregation by month and product alone (count, weight, freight,
   surcharges, cost), printed with its ratio too;
   (c) the same what-if in pandas (:mod:`bench.pricing.pandas_what_if`), reading the same
   file, its results as DataFrames.
   It prints best and median seconds and the ratios to (b).
3. Checks the what-if against the reference, ``kam.pricing.rating.price_waybill``, on a
   random sample of ``--sample`` waybills (20,000), amount by amount to the fen, and the
   estimated cost against ``rating.estimated_cost``; and the pandas totals against the
   what-if's.
"""

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from bench.pricing import generate
from bench.pricing.pandas_what_if import pandas_what_if
from kam.pricing.rating import RatingError, Waybill, estimated_cost, price_waybill
from kam.pricing.reprice import reprice_waybills, what_if

PLAIN_SQL = """
    SELECT month, product, count(*) AS waybills, sum(weight_kg) AS weight_kg,
           sum(freight) AS freight, sum(surcharges) AS surcharges, sum(cost) AS cost
    FROM waybills GROUP BY ALL
"""
# The same waybills aggregated as plainly into the what-if's own cells: every column the
# what-if reads, summed by month and lane (origin, destination, product), from which its
# breakdowns by month, product, zone and lane come. What the what-if would cost if repricing
# were free: the baseline the target is checked against.
SAME_CELLS_SQL = """
    SELECT month, origin, destination, product, count(*) AS waybills,
           sum(weight_kg) AS weight_kg, sum(freight) AS freight, sum(surcharges) AS surcharges,
           sum(cost) AS cost, sum(cod_amount) AS cod_amount,
           sum(declared_value) AS declared_value
    FROM waybills GROUP BY ALL
"""
TARGET = 2.0
PLAIN = "plain DuckDB aggregation, the what-if's cells"
NARROW = "plain DuckDB aggregation, month x product"
WHAT_IF = "what-if (kam.pricing.reprice)"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def check_sample(con: duckdb.DuckDBPyConnection, size: int) -> dict[str, int]:
    """The what-if's per-waybill amounts against price_waybill on a random sample."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE sample AS SELECT * FROM waybills "  # noqa: S608 - a number
        f"USING SAMPLE reservoir({int(size)} ROWS) REPEATABLE (42)"
    )
    card, rates = generate.card(), generate.cost_rates()
    rows = reprice_waybills(con, card, "sample", rates).to_pylist()
    counts = {"waybills": len(rows), "priced": 0, "unpriced": 0, "differ": 0, "cost_checked": 0}
    for r in rows:
        waybill = Waybill(r["ship_date"], r["origin"], r["destination"], r["product"],
                          r["weight_kg"], r["cod_amount"] or Decimal(0),
                          r["declared_value"] or Decimal(0))  # fmt: skip
        try:
            want = price_waybill(card, waybill)
        except RatingError:
            want = None
        if want is None:
            counts["unpriced"] += 1
            counts["differ"] += bool(r["priced"])
            continue
        counts["priced"] += 1
        got = (r["zone"], r["new_freight"], r["new_fuel"], r["new_peak"], r["new_remote"],
               r["new_cod"], r["new_insurance"], r["new_revenue"])  # fmt: skip
        expected = (want.zone, want.freight, want.fuel, want.peak, want.remote, want.cod,
                    want.insurance, want.total)  # fmt: skip
        cost = r["cost"] if r["cost"] is not None else estimated_cost(card.zones, rates, waybill)
        counts["cost_checked"] += r["cost"] is None
        if got != expected or r["cost_used"] != cost or not r["priced"]:
            counts["differ"] += 1
            if counts["differ"] <= 5:
                log(f"differs: {r} got {got} want {expected}")
    return counts


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.pricing", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--runs", type=int, default=4, help="interleaved runs of each (default 4)")
    p.add_argument("--sample", type=int, default=20_000, help="waybills checked to the fen")
    p.add_argument("--pandas", choices=["auto", "on", "off"], default="auto",
                   help="auto: pandas up to 30 million rows")  # fmt: skip
    p.add_argument("--work-dir", default=None, help="where the Parquet file goes (temp)")
    p.add_argument("--keep", action="store_true", help="keep the Parquet file")
    args = p.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="kam-bench-pricing-", dir=args.work_dir))
    path = work / "waybills.parquet"
    try:
        con = duckdb.connect()
        seconds, _ = timed(lambda: generate.generate_parquet(con, path, args.rows))
        log(
            f"generated {args.rows:,} waybills in {seconds:.1f} s: {path.stat().st_size / 2**20:,.0f} MB"
        )
        con.execute(f"CREATE TEMP VIEW waybills AS SELECT * FROM read_parquet('{path}')")  # noqa: S608
        card, rates = generate.card(), generate.cost_rates()
        use_pandas = args.pandas == "on" or (args.pandas == "auto" and args.rows <= 30_000_000)

        methods: dict[str, Callable[[], Any]] = {
            WHAT_IF: lambda: what_if(con, card, cost_rates=rates),
            PLAIN: lambda: con.sql(SAME_CELLS_SQL).to_arrow_table(),
            NARROW: lambda: con.sql(PLAIN_SQL).to_arrow_table(),
        }
        if use_pandas:
            methods["pandas what-if"] = lambda: pandas_what_if(path, card, rates)
        times: dict[str, list[float]] = {name: [] for name in methods}
        results: dict[str, Any] = {}
        for run in range(args.runs):
            for name, fn in methods.items():
                seconds, results[name] = timed(fn)
                times[name].append(seconds)
                log(f"run {run + 1}: {name} {seconds:.3f} s")

        log(f"checking {args.sample:,} sampled waybills against price_waybill")
        sample = check_sample(con, args.sample)
        whatif = results[WHAT_IF]
        pandas_equal = None
        if use_pandas:
            totals = results["pandas what-if"]["totals"].iloc[0]
            pandas_equal = (
                int(totals["waybills"]) == whatif.totals["waybills"]
                and Decimal(int(totals["proposed"])).scaleb(-2) == whatif.totals["proposed_revenue"]
                and Decimal(int(totals["current"])).scaleb(-2) == whatif.totals["current_revenue"]
                and Decimal(int(totals["cost"])).scaleb(-2) == whatif.totals["cost"]
            )
        report(args, times, sample, whatif, pandas_equal)
    finally:
        if args.keep:
            log(f"kept {path}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _git_head() -> str:
    root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],  # noqa: S603,S607 - fixed git command
                             capture_output=True, text=True, check=True)  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return out.stdout.strip()


def report(args: argparse.Namespace, times: dict[str, list[float]], sample: dict[str, int],
           whatif: Any, pandas_equal: bool | None) -> None:  # fmt: skip
    plain = PLAIN
    base_best, base_median = min(times[plain]), statistics.median(times[plain])
    print(f"## bench.pricing: {args.rows:,} waybills, {args.runs} interleaved runs each")
    print()
    print(f"git {_git_head()}, duckdb {duckdb.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")  # fmt: skip
    print()
    print("| | best s | median s | best / plain | median / plain |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, values in times.items():
        best, median = min(values), statistics.median(values)
        print(f"| {name} | {best:.3f} | {median:.3f} | {best / base_best:.2f}x | "
              f"{median / base_median:.2f}x |")  # fmt: skip
    print()
    ratio = min(times[WHAT_IF]) / base_best
    verdict = "PASS" if ratio <= TARGET else "MISS"
    print(f"- target: the what-if within {TARGET:g}x of the plain aggregation into its cells "
          f"(best): {ratio:.2f}x, {verdict}")  # fmt: skip
    narrow = min(times[WHAT_IF]) / min(times[NARROW])
    print(f"- against the narrower aggregation by month and product alone (six columns, "
          f"no lanes): {narrow:.2f}x, {'PASS' if narrow <= TARGET else 'MISS'}")  # fmt: skip
    if "pandas what-if" in times:
        speedup = min(times["pandas what-if"]) / min(times[WHAT_IF])
        print(f"- pandas takes {speedup:.1f}x the what-if's time (best); its totals "
              f"{'equal' if pandas_equal else 'DIFFER FROM'} the what-if's to the fen")  # fmt: skip
    exact = "PASS" if sample["differ"] == 0 else "MISS"
    print(f"- exact to the fen against price_waybill on {sample['waybills']:,} sampled waybills: "
          f"{sample['priced']:,} priced (of which {sample['cost_checked']:,} with the cost "
          f"rates' estimate checked too), {sample['unpriced']:,} refused by both, "
          f"{sample['differ']:,} differ: {exact}")  # fmt: skip
    t = whatif.totals
    print(f"- the what-if: {t['waybills']:,} waybills priced, {t['unpriced_waybills']:,} not "
          f"(no rule: international); revenue {t['current_revenue']:,} -> "
          f"{t['proposed_revenue']:,} CNY, margin {t['current_margin_pct']} % -> "
          f"{t['proposed_margin_pct']} %")  # fmt: skip


if __name__ == "__main__":
    main()
