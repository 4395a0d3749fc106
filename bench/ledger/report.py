"""The results of one run, printed as markdown tables with the targets (PASS / MISS)."""

import argparse
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.ledger.common import (
    MB,
    READ_BACK_RUNS,
    TARGET_FACT_RATIO,
    TARGET_IMPORT_ROWS,
    TARGET_IMPORT_SECONDS,
    TARGET_PEAK_MB,
    TARGET_READ_BACK_MS,
    dir_mb,
    engine_fingerprint,
    mem_total_gb,
    version,
)
from bench.ledger.measure import Timing
from bench.ledger.steps import Steps

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
    plain_same: Timing = field(default_factory=lambda: Timing(0.0, 0.0, 0))
    pandas: tuple[float, float, float] | None = None  # read s, groupby s, peak MB
    back: dict[str, Any] = field(default_factory=dict)
    prototypes: list[tuple[str, dict[str, Timing]]] = field(default_factory=list)
    csv: dict[str, Any] | None = None


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
    build_db = steps.total(lambda label: label.endswith("(Django DB)"))
    build_sql = r.build_seconds - build_db
    sql_total = sum(t.total for t in r.facts_sql.values())
    sql_execute = sum(t.execute for t in r.facts_sql.values())
    plain = r.plain
    ratio = r.build_seconds / plain.total
    same = r.plain_same
    ratio_same = r.build_seconds / same.total
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    counts = r.build_counts
    print()
    print(f"## bench/ledger: {args.rows:,} waybills")
    print()
    print(
        f"Machine: {os.cpu_count()} cores, {mem_total_gb():.0f} GB RAM, load average "
        f"{r.start_load} at the start, {load} at the end. Python {platform.python_version()}, "
        f"DuckDB {version('duckdb')}, pandas {version('pandas')}; engine {engine_fingerprint()}. "
        f"DuckDB memory_limit={settings.DUCKDB_MEMORY_LIMIT}, "
        f"threads={settings.DUCKDB_THREADS or 'one per core'}. "
        f"Source: {len(r.sources)} Parquet file(s), {sum(p.stat().st_size for p in r.sources) / MB:,.0f} MB; "
        f"lake: {len(r.files)} files, {dir_mb(settings.LAKE_DIR / 'waybills'):,.0f} MB. "
        f"Facts: {counts.get('account_month', 0):,} account-months (database), "
        f"{counts.get('account_month_lane', 0):,} lane rows (Parquet)."
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
        ["&nbsp;&nbsp;of which DuckDB (execute, fetch, lane files) and Python", fmt_s(build_sql), "", ""],
        ["&nbsp;&nbsp;of which the Django DB: DELETE + INSERT of account-months", fmt_s(build_db), "", ""],
        ["fact build peak RSS MB (this process)", f"{r.build_peak_mb:,.0f}", "", ""],
        ["facts.sql alone, no DB: execute + fetch s",
         f"{fmt_s(sql_total)} ({fmt_s(sql_execute)} + {fmt_s(sql_total - sql_execute)})", "", ""],
        ["DuckDB plain GROUP BY of the same figures: execute + fetch s",
         f"{fmt_s(same.total)} ({fmt_s(same.execute)} + {fmt_s(same.fetch)}; {same.rows:,} groups)", "", ""],
        ["**ratio fact build / DuckDB plain GROUP BY of the same figures**", f"{ratio_same:.2f}",
         f"≤ {TARGET_FACT_RATIO}", verdict(ratio_same <= TARGET_FACT_RATIO)],
        ["DuckDB plain GROUP BY of 6 sums (the earlier baseline): execute + fetch s",
         f"{fmt_s(plain.total)} ({fmt_s(plain.execute)} + {fmt_s(plain.fetch)}; {plain.rows:,} groups)", "", ""],
        ["ratio fact build / DuckDB plain GROUP BY of 6 sums", f"{ratio:.2f}", f"≤ {TARGET_FACT_RATIO}",
         verdict(ratio <= TARGET_FACT_RATIO)],
        ["ratio facts.sql alone / DuckDB plain of 6 sums (execute + fetch)", f"{sql_total / plain.total:.2f}",
         f"≤ {TARGET_FACT_RATIO}", verdict(sql_total / plain.total <= TARGET_FACT_RATIO)],
        ["ratio facts.sql alone / DuckDB plain of 6 sums (execute only)", f"{sql_execute / plain.execute:.2f}",
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
    if r.csv:
        print()
        print("### CSV import steps")
        print()
        print(steps_table(r.csv["steps"], r.csv["wall"], r.csv["per_step_peaks"]))
    print()
