"""Running one import: file -> validated rows -> the lake -> the facts of the months touched.

The steps, each streamed by DuckDB with its memory cap (``KAM_DUCKDB_MEMORY_LIMIT``):

1. sniff and stage the file (:mod:`kam.ledger.sources`);
2. find the *suspects*: waybill numbers the file holds twice or the lake holds already
   (a pass over the waybill number column alone, by hash);
3. one pass over the file checks every cell (:mod:`kam.ledger.validation`) and writes every
   row once, partitioned: good rows by month, bad rows to ``rejected`` (their problems become
   the reject report), suspects to ``suspect``;
4. decide the suspects, a few rows: a waybill number repeated in the file keeps its first
   row (a later identical row is a duplicate, a later different one is rejected); a waybill
   the lake already holds is a duplicate when identical to its latest version, an *update*
   when that version is in transit and the row moves it forward changing only the status
   and the delivered time (written to update files, ``b<batch>_u<n>.parquet``, which make
   the readers drop the superseded version), and a *conflict* otherwise (the lake keeps its
   version); the ones that stay are written beside the others;
5. move the month files into ``waybills/month=.../b<batch>_<n>.parquet``;
6. in one database transaction: name the new files (``LakeFile``), rebuild the facts of
   the months they touch, and mark the batch committed.

Until step 6 commits, nothing of the batch is visible. If the process dies earlier, the
next import removes the files it left and marks the batch interrupted; importing the same
file again then lands it whole.
"""

import hashlib
import logging
import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from django.db import transaction
from django.utils import timezone

from . import facts, lake, signals, sources, validation
from .contract import UPDATABLE
from .models import FactFile, ImportBatch, LakeFile

logger = logging.getLogger(__name__)

Progress = Callable[[ImportBatch], None]
# Parquet's version 2 encodings (delta for times and numbers): a sixth less work in the
# import's write than version 1, same read speed, 9 % smaller (bench/ledger). DuckDB,
# pyarrow and Spark 3.3 or later read them.
_LAKE_FORMAT = "FORMAT parquet, COMPRESSION zstd, PARQUET_VERSION v2"
_REJECT_COLUMNS = 'row BIGINT, "column" VARCHAR, value VARCHAR, reason VARCHAR, detail VARCHAR'


class ImportFailed(Exception):
    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


class _Reporter:
    """Writes progress to the batch row at most every half second (and calls ``on_progress``)."""

    def __init__(self, batch: ImportBatch, on_progress: Progress | None) -> None:
        self.batch = batch
        self.on_progress = on_progress
        self._last = 0.0

    def __call__(self, stage: str, percent: int, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < 0.5 and stage == self.batch.stage:
            return
        self._last = now
        self.batch.stage = stage
        self.batch.progress_done = percent
        self.batch.progress_total = 100
        ImportBatch.objects.filter(pk=self.batch.pk).update(
            stage=stage, progress_done=percent, progress_total=100
        )
        if self.on_progress:
            self.on_progress(self.batch)


def _interrupt_stale(current: int) -> None:
    """Batches left RUNNING by a killed process (we hold the lake lock, so none is alive)."""
    ImportBatch.objects.filter(status=ImportBatch.Status.RUNNING).exclude(pk=current).update(
        status=ImportBatch.Status.INTERRUPTED,
        finished_at=timezone.now(),
        stage=ImportBatch.Stage.DONE,
    )


def storable(value: Any) -> Any:
    """``value`` with every string made storable text: a file's headings may hold NUL or half
    a UTF-16 pair, which PostgreSQL refuses in text and JSON (they become U+FFFD)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    return value


def run(batch_id: int, path: Path, on_progress: Progress | None = None) -> ImportBatch:
    """Import ``path`` as batch ``batch_id``. Never raises for bad input: the batch says."""
    batch = ImportBatch.objects.get(pk=batch_id)
    if batch.is_finished:
        return batch  # a task delivered twice does nothing the second time
    batch.status = ImportBatch.Status.RUNNING
    batch.started_at = timezone.now()
    batch.worker_pid = os.getpid()
    batch.save(update_fields=["status", "started_at", "worker_pid"])
    report = _Reporter(batch, on_progress)
    try:
        with lake.write_lock():
            _interrupt_stale(batch.pk)
            known = set(LakeFile.objects.values_list("path", flat=True))
            lake.remove_orphans(known | set(FactFile.objects.values_list("path", flat=True)))
            _run_locked(batch, Path(path), report, known)
    except ImportFailed as exc:
        batch.status = ImportBatch.Status.FAILED
        batch.error_code = exc.code
        batch.error_params = storable(exc.params)
    except sources.SourceError as exc:
        batch.status = ImportBatch.Status.FAILED
        batch.error_code = exc.code
        batch.error_params = storable(exc.params)
    except Exception:
        logger.exception("import %s failed", batch.pk)
        batch.status = ImportBatch.Status.FAILED
        batch.error_code = "internal"
        batch.error_params = {}
    finally:
        shutil.rmtree(lake.work_dir(batch.pk), ignore_errors=True)
    if batch.status != ImportBatch.Status.COMMITTED:
        batch.finished_at = timezone.now()
        batch.stage = ImportBatch.Stage.DONE
        batch.save()
    if batch.status == ImportBatch.Status.COMMITTED and batch.accepted and not signals.is_quiet():
        for receiver, result in signals.import_committed.send_robust(ImportBatch, batch=batch):
            if isinstance(result, Exception):
                logger.error("after import %s, %r failed: %r", batch.pk, receiver, result)
    if on_progress:
        on_progress(batch)
    return batch


def _run_locked(batch: ImportBatch, path: Path, report: _Reporter, known: set[str]) -> None:
    work = lake.work_dir(batch.pk)
    work.mkdir(parents=True, exist_ok=True)
    size = path.stat().st_size
    batch.file_size = size
    batch.file_sha256 = file_sha256(path)
    sniffed = sources.sniff(
        path, batch.file_name, fmt=batch.file_format, encoding=batch.encoding_requested
    )
    batch.file_format = sniffed.format
    batch.encoding = sniffed.encoding
    report(ImportBatch.Stage.READING, 0, force=True)
    staged = sources.stage(
        path,
        sniffed,
        work,
        progress=lambda done: report(ImportBatch.Stage.READING, int(40 * done / max(size, 1))),
    )
    batch.rows_read = staged.rows
    match = staged.match
    if match.missing:
        raise ImportFailed(
            "missing_columns", columns=list(match.missing), found=staged.headings[:40]
        )
    if match.repeated:
        raise ImportFailed("repeated_columns", columns=list(match.repeated))
    warnings = []
    if match.unknown:
        warnings.append({"code": "unknown_columns", "params": {"columns": list(match.unknown)}})

    con = lake.connect()
    try:
        lake.load_region_table(con)
        types = {
            row[0]: str(row[1])
            for row in con.execute(f"DESCRIBE SELECT * FROM {staged.sql_source}").fetchall()
        }
        present = validation.create_parsed_view(
            con,
            staged.sql_source,
            match.mapping,
            types,
            timezone.now(),
            normalized=not staged.typed,
        )
        report(ImportBatch.Stage.VALIDATING, 45, force=True)
        con.execute(f"CREATE TEMP TABLE rejects ({_REJECT_COLUMNS})")
        _find_suspects(con, sorted(known))
        suspects = con.execute("SELECT count(*) FROM suspect_hashes").fetchone()[0]
        validation.freeze_distinct_values(con, present)
        out = work / "out"
        con.execute(
            f"""COPY ({validation.checked_sql(present, "suspect_hashes" if suspects else "")})
                TO '{out}' ({_LAKE_FORMAT}, PARTITION_BY (part),
                FILENAME_PATTERN 'b{batch.pk}_{{i}}', OVERWRITE_OR_IGNORE true)"""
        )
        report(ImportBatch.Stage.WRITING, 70, force=True)
        rejected_files = _part_files(out, "rejected")
        if rejected_files:
            con.execute(
                f"""INSERT INTO rejects SELECT _row, p.column, p.value, p.reason, ''
                    FROM (SELECT _row, unnest(problems) AS p
                          FROM read_parquet({lake.sql_file_list([str(f) for f in rejected_files])}, hive_partitioning = false))"""
            )
        if staged.invalid:
            con.executemany(
                "INSERT INTO rejects VALUES (?, '', ?, 'bad_record', ?)",
                [(r.row, r.text, f"{r.fields}/{r.expected}") for r in staged.invalid],
            )
        duplicates = conflicts = 0
        suspect_files = _part_files(out, "suspect")
        if suspect_files:
            # Good rows whose waybill number the file repeats or the lake may hold: decided
            # here, a few rows, and the ones that stay are written beside the others.
            con.execute(
                f"""CREATE TEMP VIEW good AS SELECT * EXCLUDE (problems)
                    FROM read_parquet({lake.sql_file_list([str(f) for f in suspect_files])}, hive_partitioning = false)"""
            )
            duplicates = _split_repeats(con)
            lake_dups, conflicts = _match_lake(con, sorted(known))
            duplicates += lake_dups
            con.execute(
                f"""COPY (SELECT *, strftime(ship_date, '%Y-%m') AS part
                          FROM good ANTI JOIN excluded USING (_row) ANTI JOIN updates USING (_row))
                    TO '{out}' ({_LAKE_FORMAT}, PARTITION_BY (part),
                    FILENAME_PATTERN 'b{batch.pk}_s{{i}}', OVERWRITE_OR_IGNORE true)"""
            )
            # New versions of waybills the lake holds in transit: files of their own (the
            # readers' sign that the month holds superseded rows, lake.is_update_file).
            if con.execute("SELECT count(*) FROM updates").fetchone()[0]:
                con.execute(
                    f"""COPY (SELECT *, strftime(ship_date, '%Y-%m') AS part
                              FROM good SEMI JOIN updates USING (_row))
                        TO '{out}' ({_LAKE_FORMAT}, PARTITION_BY (part),
                        FILENAME_PATTERN 'b{batch.pk}_u{{i}}', OVERWRITE_OR_IGNORE true)"""
                )
        rejected = con.execute(
            "SELECT count(DISTINCT row) FROM rejects WHERE reason <> 'conflict'"
        ).fetchone()[0]
        reject_file = lake.reject_path(batch.pk)
        con.execute(
            f"COPY (SELECT * FROM rejects ORDER BY row, \"column\") TO '{reject_file}' (FORMAT parquet)"
        )
        new_files = _move_to_lake(out)
        updated = sum(rows for file, _, rows in new_files if lake.is_update_file(file))
        accepted = sum(rows for _, _, rows in new_files) - updated
        months = sorted({m for _, m, _ in new_files})
        report(ImportBatch.Stage.FACTS, 85, force=True)
        batch.accepted = accepted
        batch.rejected = rejected
        batch.duplicates = duplicates
        batch.conflicts = conflicts
        batch.updated = updated
        batch.months = months
        batch.warnings = storable(warnings)
        if (
            batch.rows_read != accepted + updated + rejected + duplicates + conflicts
        ):  # pragma: no cover
            raise AssertionError(
                f"import counts do not add up: read {batch.rows_read}, accepted {accepted}, "
                f"updated {updated}, rejected {rejected}, duplicates {duplicates}, "
                f"conflicts {conflicts}"
            )
        _commit(batch, con, known, new_files, months)
    finally:
        con.close()


_MONTH_PART = re.compile(r"^part=(\d{4}-\d{2})$")


def _part_files(out: Path, part: str) -> list[Path]:
    return sorted((out / f"part={part}").glob("*.parquet"))


def _find_suspects(con: Any, known: list[str]) -> None:
    """``suspect_hashes(h)``: hashes of the waybill numbers the file holds more than once or
    the lake holds already. Only the waybill number column is read; a hash shared by chance
    makes a row a suspect, which the exact comparison afterwards clears."""
    # No WHERE on the waybill number: DuckDB would compute it for the filter and again for
    # the hash (a third more time). Missing numbers share hash(NULL) but are not counted.
    con.execute(
        """CREATE TEMP TABLE suspect_hashes AS
           SELECT hash(v_waybill_no) AS h FROM parsed_keys
           GROUP BY 1 HAVING count(v_waybill_no) > 1"""
    )
    if known:
        facts.define_waybills_view(con, known, versions=True)
        con.execute(
            """INSERT INTO suspect_hashes
               SELECT hash(waybill_no) FROM waybills
               INTERSECT
               SELECT hash(v_waybill_no) FROM parsed_keys"""
        )


def _move_to_lake(out: Path) -> list[tuple[str, str, int]]:
    """Move the month partitions the import wrote into the lake (still unnamed: until the
    commit names them, they are orphans a later import removes). (path, month, rows)."""
    moved = []
    for folder in sorted(out.glob("part=*")):
        match = _MONTH_PART.match(folder.name)
        if not match:
            continue  # rejected and suspect rows
        target = lake.waybill_dir() / f"month={match.group(1)}"
        target.mkdir(parents=True, exist_ok=True)
        for file in sorted(folder.glob("*.parquet")):
            rows = pq.ParquetFile(file).metadata.num_rows
            destination = target / file.name
            os.replace(file, destination)
            moved.append((str(destination.relative_to(lake.root())), match.group(1), rows))
    return moved


def _split_repeats(con: Any) -> int:
    """Rows of a waybill number seen earlier in the same file. Fills ``excluded``; returns
    how many were identical repeats (duplicates)."""
    con.execute(
        """CREATE TEMP TABLE repeats AS
           SELECT waybill_no, min(_row) AS first_row FROM good
           GROUP BY waybill_no HAVING count(*) > 1"""
    )
    same = " AND ".join(f"g.{c} IS NOT DISTINCT FROM f.{c}" for c in validation.CONTENT_COLUMNS)
    con.execute(
        f"""CREATE TEMP TABLE repeat_rows AS
            SELECT g._row, g.waybill_no, r.first_row, ({same}) AS same
            FROM good g JOIN repeats r USING (waybill_no)
            JOIN good f ON f._row = r.first_row
            WHERE g._row <> r.first_row"""
    )
    con.execute("CREATE TEMP TABLE excluded AS SELECT _row FROM repeat_rows")
    con.execute(
        """INSERT INTO rejects
           SELECT _row, 'waybill_no', waybill_no, 'repeated_in_file', CAST(first_row AS VARCHAR)
           FROM repeat_rows WHERE NOT same"""
    )
    return con.execute("SELECT count(*) FROM repeat_rows WHERE same").fetchone()[0]


def _match_lake(con: Any, known: list[str]) -> tuple[int, int]:
    """Good rows whose waybill the lake already holds: (duplicates, conflicts). Each is
    compared with the waybill's latest version (the one of highest status rank): identical,
    it is a duplicate; later in status with only the status and the delivered time changed,
    an *update* (table ``updates``: kept, written to the batch's update files); else a
    conflict. Duplicates and conflicts go to ``excluded``."""
    con.execute("CREATE TEMP TABLE IF NOT EXISTS updates (_row BIGINT)")
    if not known:
        return 0, 0
    facts.define_waybills_view(con, known, versions=True)
    differs = ", ".join(
        f"CASE WHEN g.{c} IS DISTINCT FROM l.{c} THEN '{c}' END" for c in validation.CONTENT_COLUMNS
    )
    updatable = "[" + ", ".join(f"'{c}'" for c in UPDATABLE) + "]"
    con.execute(
        f"""CREATE TEMP TABLE lake_hits AS
            SELECT _row, waybill_no, changed,
                   len(changed) > 0 AND forward AND list_has_all({updatable}, changed) AS is_update
            FROM (SELECT g._row, g.waybill_no,
                         list_filter([{differs}], lambda x: x IS NOT NULL) AS changed,
                         {facts.status_rank_sql("g.status")} > {facts.status_rank_sql("l.status")} AS forward
                  FROM good g JOIN waybills l USING (waybill_no)
                  WHERE g._row NOT IN (SELECT _row FROM excluded)
                  QUALIFY row_number() OVER (
                      PARTITION BY g._row ORDER BY {facts.status_rank_sql("l.status")} DESC) = 1)"""
    )
    con.execute("INSERT INTO updates SELECT _row FROM lake_hits WHERE is_update")
    con.execute("INSERT INTO excluded SELECT _row FROM lake_hits WHERE NOT is_update")
    con.execute(
        """INSERT INTO rejects
           SELECT _row, 'waybill_no', waybill_no, 'conflict', array_to_string(changed, ',')
           FROM lake_hits WHERE len(changed) > 0 AND NOT is_update"""
    )
    dups, conflicts = con.execute(
        """SELECT count(*) FILTER (WHERE len(changed) = 0),
                  count(*) FILTER (WHERE len(changed) > 0 AND NOT is_update) FROM lake_hits"""
    ).fetchone()
    return dups, conflicts


def _commit(
    batch: ImportBatch,
    con: Any,
    known: set[str],
    new_files: list[tuple[str, str, int]],
    months: list[str],
) -> None:
    month_files = [p for p in known if p.split("/")[1].removeprefix("month=") in set(months)]
    with transaction.atomic():
        LakeFile.objects.bulk_create(
            [LakeFile(batch=batch, path=p, month=m, rows=n) for p, m, n in new_files]
        )
        facts.rebuild(con, month_files + [p for p, _, _ in new_files], months, batch_id=batch.pk)
        batch.status = ImportBatch.Status.COMMITTED
        batch.stage = ImportBatch.Stage.DONE
        batch.progress_done = batch.progress_total = 100
        batch.finished_at = timezone.now()
        batch.save()
