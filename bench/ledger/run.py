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
import os
import shutil
import tempfile
import time
from pathlib import Path

from bench.ledger.common import (
    DEFAULT_ROWS,
    MB,
    django_setup,
    kam_environment,
    log,
    migrate_in_child,
    migrate_quietly,
    peak_kb,
    reset_peak,
)
from bench.ledger.generate import generate_csv, generate_parquet
from bench.ledger.measure import (
    PLAIN_SAME_SQL,
    PLAIN_SQL,
    best_of,
    check_totals,
    fact_build,
    lake_files,
    pandas_groupby,
    prototypes,
    read_back,
    run_import,
    run_statements,
)
from bench.ledger.report import Results, report, table
from bench.ledger.steps import instrument
from bench.ledger.updates import update_scenario

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
    parser.add_argument("--updates", type=int, default=0,
                        help="also import this many waybills in transit, then again delivered "
                             "(updates), and time facts.sql over their month (default 0: off)")  # fmt: skip
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

    log(f"baselines: facts.sql alone and the plain DuckDB GROUP BYs (best of {args.repeat})")
    r.facts_sql = best_of(args.repeat, lambda: run_statements(r.files, months, facts.statements()))
    r.plain = best_of(args.repeat, lambda: run_statements(r.files, months, {"plain": PLAIN_SQL}))[
        "plain"
    ]
    r.plain_same = best_of(
        args.repeat, lambda: run_statements(r.files, months, {"same": PLAIN_SAME_SQL})
    )["same"]
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

    if args.csv_gb > 0:
        log(f"writing a CSV file of about {args.csv_gb:g} GB")
        csv_path, csv_rows = generate_csv(work, args.csv_gb)
        size_mb = csv_path.stat().st_size / MB
        log(f"{csv_path.name}: {csv_rows:,} rows, {size_mb:,.0f} MB; importing into a fresh KAM")
        env = kam_environment(work / "kam-csv")
        migrate_in_child(env)
        r.csv = run_import([csv_path], env) | {"rows": csv_rows, "size_mb": size_mb}
        csv_path.unlink()
    updates = update_scenario(work, args.updates, args.repeat) if args.updates else None
    report(r)
    if updates:
        print(f"\n## Waybills in transit, then delivered (--updates {args.updates:,})\n")
        print(
            table(
                ["what", "rows", "seconds", "rows/s"],
                [
                    [w, f"{n:,}", f"{s:.2f}", f"{n / s:,.0f}" if s else "-"]
                    for w, n, s, _ in updates
                ],
            )
        )
