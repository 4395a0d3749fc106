"""Timing the engine's steps from the outside: nested steps with peak RSS, a timed DuckDB
connection, and wrappers around the engine's functions (nothing in ``kam/`` is changed)."""

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench.ledger.common import peak_kb, reset_peak

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
    (r"^CREATE OR REPLACE TEMP VIEW d_", "define the validation views"),
    (r"^CREATE TEMP TABLE suspect_hashes", "suspects: waybill numbers repeated in the file (hash)"),
    (r"^INSERT INTO suspect_hashes", "suspects: waybill numbers already in the lake (hash)"),
    (r"^SELECT count\(\*\) FROM suspect_hashes", "suspects: count"),
    (
        r"^COPY \(SELECT _row, .*PARTITION_BY \(part\)",
        "check every row and write it once (COPY ... PARTITION_BY month / rejected / suspect)",
    ),
    (r"^INSERT INTO rejects VALUES", "rejects: unsplittable records"),
    (r"^INSERT INTO rejects SELECT _row, p\.column", "rejects: the problems of the bad rows"),
    (r"^CREATE TEMP VIEW good", "suspects: define view good"),
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
    (r"^COPY \(SELECT \*, strftime\(ship_date", "suspects: write the ones that stay"),
    (r"^SELECT count\(DISTINCT row\) FROM rejects", "count rejected rows"),
    (r"^COPY \(SELECT \* FROM rejects", "write the reject report"),
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
ORIGINALS: dict[str, Callable[..., Any]] = {}


def instrument(steps: Steps) -> None:
    """Wrap the engine's functions (at runtime, from outside ``kam/``) to time each step."""
    from django.db import connection

    from kam.ledger import facts, importer, lake, sources

    original_connect = ORIGINALS.setdefault("connect", lake.connect)

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
    importer._move_to_lake = _timed(
        steps, "move the month files into the lake", importer._move_to_lake
    )
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
