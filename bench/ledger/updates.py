"""``--updates N``: waybills imported in transit, then again delivered (an update import).

After the main import, N waybills like the last month's (new numbers, same codes, lanes and
money) are imported as 运输中 without a delivered time (an import of new waybills), then
the same N again as 已签收 with their delivered time: every row is an update. Both imports
run through the real pipeline in a child process, like the main one. Then ``facts.sql``
alone over that month, best of ``--repeat``: once over the month's files as an import of
new waybills leaves them, and once with the update file, whose rows supersede the in-transit
ones (``facts.define_waybills_view`` adds one hash join against the update file): the cost
of reading the latest version of each waybill.
"""

from pathlib import Path
from typing import Any

from bench.ledger.common import log
from bench.ledger.measure import best_of, raw_connection, run_import, run_statements

# Lake times are UTC; a file's naive times are Beijing time.
_BEIJING = "INTERVAL 8 HOUR"


def _write(files: list[str], out: Path, n: int, delivered: bool) -> None:
    from kam.ledger import lake

    status = "'已签收'" if delivered else "'运输中'"
    delivered_time = f"delivered_time + {_BEIJING}" if delivered else "CAST(NULL AS TIMESTAMP)"
    con = raw_connection()
    try:
        con.execute(
            f"""COPY (
                SELECT 'U' || waybill_no AS waybill_no, billing_code,
                       ship_time + {_BEIJING} AS ship_time, origin, destination, product,
                       pieces, weight_kg, freight, surcharges, cost, cod_amount,
                       declared_value, goods_category, consignee_type, {status} AS status,
                       {delivered_time} AS delivered_time,
                       promised_time + {_BEIJING} AS promised_time, is_return
                FROM read_parquet({lake.sql_file_list(files)})
                WHERE status = 'delivered' AND delivered_time IS NOT NULL
                ORDER BY waybill_no LIMIT {int(n)}
            ) TO '{out}' (FORMAT parquet)"""  # noqa: S608 - the lake's own paths
        )
    finally:
        con.close()


def update_scenario(work: Path, n: int, repeat: int) -> list[list[Any]]:
    """Rows of the report's table: (what, rows, seconds, rows/s)."""
    from kam.ledger import facts, lake
    from kam.ledger.models import LakeFile

    month = max(LakeFile.objects.values_list("month", flat=True))
    month_files = sorted(LakeFile.objects.filter(month=month).values_list("path", flat=True))
    moving, arrived = work / "in_transit.parquet", work / "delivered.parquet"
    _write(month_files, moving, n, delivered=False)
    _write(month_files, arrived, n, delivered=True)
    rows: list[list[Any]] = []
    for label, path, key in (
        ("import: the waybills in transit (all new)", moving, "accepted"),
        ("import: the same waybills delivered (all updates)", arrived, "updated"),
    ):
        log(f"--updates: {label}")
        (batch,) = run_import([path])["batches"]
        if batch[key] != n:
            raise SystemExit(f"{label}: {key} {batch[key]:,} of {n:,}: {batch}")
        rows.append([label, n, batch["duration"], n / batch["duration"]])
    files = sorted(LakeFile.objects.filter(month=month).values_list("path", flat=True))
    plain = [f for f in files if not lake.is_update_file(f)]
    log(f"--updates: facts.sql over {month} with and without its update file")
    for label, chosen in (
        (f"facts.sql, {month}: new waybills only (no update file)", plain),
        (f"facts.sql, {month}: with the update file (latest versions)", files),
    ):
        timings = best_of(repeat, lambda c=chosen: run_statements(c, [month], facts.statements()))
        seconds = sum(t.total for t in timings.values())
        con = raw_connection()
        try:
            waybills = con.execute(
                f"SELECT count(*) FROM read_parquet({lake.sql_file_list(chosen)})"  # noqa: S608
            ).fetchone()[0]
        finally:
            con.close()
        rows.append([label, waybills, seconds, waybills / seconds])
    return rows
