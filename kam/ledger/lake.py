"""The Parquet lake of waybills: where files live, who may write, and how DuckDB opens it.

Layout under ``settings.LAKE_DIR``::

    waybills/month=YYYY-MM/b<batch>_<n>.parquet   accepted waybills, one file set per batch
    waybills/month=YYYY-MM/b<batch>_u<n>.parquet  new versions of waybills held in transit
    facts/lanes/month=YYYY-MM/b<batch>_....parquet  the lanes that matter per code, sorted by code (FactFile)
    rejects/b<batch>.parquet                     the reject report of a batch
    work/b<batch>/                               scratch space of a running import
    duckdb-tmp/                                  DuckDB's spill space

A file in ``waybills/`` is part of the lake only once a ``LakeFile`` row names it; that
row is written in the same database transaction that marks its batch committed and
rebuilds the facts. A batch killed half-way therefore leaves files nobody reads, which
the next import removes. One import writes at a time (an advisory file lock).

A waybill file holds the lake's columns (``validation.LAKE_TYPES``; the month is the
folder's) and two of the import's: ``_row``, the row's number in the batch's file, and
``problems``, always empty here. The import writes each row once, the bad ones to a
folder of their own; readers select the lake's columns by name.
"""

import fcntl
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from django.conf import settings

from kam.core import regions

_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州",
             "地区", "省", "市", "盟")  # fmt: skip
_FOLD = re.compile(r"[\s/\-,，·|>]+")


def root() -> Path:
    return Path(settings.LAKE_DIR)


def waybill_dir() -> Path:
    return root() / "waybills"


def reject_path(batch_id: int) -> Path:
    return root() / "rejects" / f"b{batch_id}.parquet"


def work_dir(batch_id: int) -> Path:
    return root() / "work" / f"b{batch_id}"


def ensure() -> None:
    for sub in ("waybills", "rejects", "work", "duckdb-tmp"):
        (root() / sub).mkdir(parents=True, exist_ok=True)


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with KAM's limits; the lake is read through explicit file lists."""
    ensure()
    con = duckdb.connect(
        config={
            "memory_limit": settings.DUCKDB_MEMORY_LIMIT,
            "temp_directory": str(root() / "duckdb-tmp"),
            "preserve_insertion_order": False,
        }
    )
    if settings.DUCKDB_THREADS:
        con.execute(f"SET threads = {int(settings.DUCKDB_THREADS)}")
    # KAM shows its own progress (page, CLI line); DuckDB's bar would garble the CLI's.
    con.execute("SET enable_progress_bar = false")
    # A partitioned COPY buffers rows per month before it writes; flushing every 100k rows
    # keeps the lake write's peak under 1 GB instead of ~3.5 GB at 10 million rows
    # (bench/ledger), for about 20 % more time in that step.
    con.execute("SET partitioned_write_flush_threshold = 100000")
    return con


@contextmanager
def write_lock() -> Iterator[None]:
    """Held for a whole import: dedup against the lake must see every committed file."""
    ensure()
    with open(root() / ".write.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# An import writes the rows that update a waybill the lake holds in transit to files of their
# own, ``b<batch>_u<n>.parquet``: their presence among a month's files tells the readers that
# some rows of the month are superseded (see ``facts.define_waybills_view``).
_UPDATE_FILE = re.compile(r"_u\d+\.parquet$")


def is_update_file(path: str) -> bool:
    return bool(_UPDATE_FILE.search(path))


def sql_file_list(paths: list[str]) -> str:
    """A DuckDB list literal of file paths (relative to the lake root, or absolute)."""
    return "[" + ", ".join("'" + str(root() / p).replace("'", "''") + "'" for p in paths) + "]"


def remove_orphans(known: set[str]) -> int:
    """Delete lake and fact files no database row names (left by a killed import, or fact
    files a later rebuild replaced). Lock held."""
    removed = 0
    for base in (waybill_dir(), root() / "facts"):
        if base.exists():
            for path in base.rglob("*.parquet"):
                if str(path.relative_to(root())) not in known:
                    path.unlink(missing_ok=True)
                    removed += 1
    shutil.rmtree(root() / "work", ignore_errors=True)
    (root() / "work").mkdir(parents=True, exist_ok=True)
    return removed


def fold(text: str) -> str:
    return _FOLD.sub("", text).lower()


def _short(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def region_aliases() -> list[tuple[str, str]]:
    """(folded spelling, GB/T 2260 code) for every spelling of a province or city we accept.

    Spellings: the code; the Chinese name with and without its suffix; province and city
    together ("广东深圳", "广东省深圳市"); the English name. A spelling shared by two
    places is dropped unless one is the city of a municipality named after its province
    (北京 means the city 110100).
    """
    candidates: dict[str, set[str]] = {}

    def add(spelling: str, code: str) -> None:
        if spelling:
            candidates.setdefault(fold(spelling), set()).add(code)

    provinces = {p.code: p for p in regions.provinces()}
    for p in provinces.values():
        add(p.code, p.code)
        add(p.name_zh, p.code)
        add(_short(p.name_zh), p.code)
        add(p.name_en, p.code)
    for c in regions.cities():
        p = provinces[c.province_code]
        add(c.code, c.code)
        for city in {c.name_zh, _short(c.name_zh)}:
            add(city, c.code)
            for prov in {p.name_zh, _short(p.name_zh)}:
                add(prov + city, c.code)
        add(c.name_en, c.code)
        add(f"{p.name_en}{c.name_en}", c.code)
    aliases = []
    for alias, codes in candidates.items():
        if len(codes) == 1:
            aliases.append((alias, next(iter(codes))))
            continue
        cities = [c for c in codes if not c.endswith("0000")]
        # A municipality: the province and its first city share the name; the city wins.
        if len(cities) == 1 and all(
            c.endswith("0000") and c[:2] == cities[0][:2] for c in codes - {cities[0]}
        ):
            aliases.append((alias, cities[0]))
    return aliases


def load_region_table(con: duckdb.DuckDBPyConnection) -> None:
    import pyarrow as pa

    pairs = region_aliases()
    table = pa.table({"alias": [a for a, _ in pairs], "code": [c for _, c in pairs]})
    con.register("region_alias_arrow", table)
    con.execute("CREATE OR REPLACE TEMP TABLE region_alias AS SELECT * FROM region_alias_arrow")
    con.unregister("region_alias_arrow")
