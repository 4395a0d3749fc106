"""The demo's waybills drawn by DuckDB from the plan (see :mod:`kam.ledger.demo`)."""

import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings

from kam.ledger import lake

from .plan import (
    _REMOTE_PROVINCES,
    BAD_FREIGHT_ROWS,
    BAD_PRODUCT,
    BAD_PRODUCT_ROWS,
    FULL_LOAD_PIECES,
    HEAVY_FROM_KG,
    PRODUCTS,
    WaybillPlan,
)

# --- the rows (DuckDB) --------------------------------------------------------------------

# Every random value is uni(row, salt): a hash of the row number, a salt and the seed.
_MACROS = """
CREATE OR REPLACE MACRO uni(rid, salt) AS
    CAST(hash(rid, salt, getvariable('seed')) >> 11 AS DOUBLE) / 9007199254740992.0;
CREATE OR REPLACE MACRO gauss(rid, salt) AS
    sqrt(-2 * ln(1 - uni(rid, salt))) * cos(2 * pi() * uni(rid, salt + 100));
CREATE OR REPLACE MACRO pick(items, u) AS
    list_extract(items, 1 + CAST(floor(u * len(items)) AS INTEGER));
"""

_ROWS = """
WITH r AS (
    SELECT cm.ci, cm.mi, cm.rid0 + unnest(range(cm.n)) AS rid
    FROM plan_months cm WHERE cm.batch = $batch
),
b AS (
    SELECT r.rid, c.*, m.first_day, m.day_pick,
           uni(r.rid, 3) AS u_product, uni(r.rid, 5) AS u_lane, uni(r.rid, 21) AS u_status,
           uni(r.rid, 4) < c.return_rate AS is_return,
           uni(r.rid, 13) < c.declared_share AS declared
    FROM r JOIN plan_codes c ON c.ci = r.ci
    JOIN plan_days m ON m.mi = r.mi AND m.consumer = c.consumer
),
s AS (
    SELECT *,
        first_day + CAST(pick(day_pick, uni(rid, 1)) AS INTEGER) AS ship_date,
        CASE WHEN u_product < p1 THEN 1 WHEN u_product < p2 THEN 2 WHEN u_product < p3 THEN 3
             WHEN u_product < p4 THEN 4 ELSE 5 END AS pi,
        CASE WHEN uni(rid, 7) < 0.85 THEN home ELSE alt END AS o,
        CASE WHEN u_lane < lane_focus THEN pick(favourites, uni(rid, 6))
             WHEN u_lane < lane_focus + 0.06 THEN home
             ELSE pick(getvariable('destinations'), uni(rid, 6)) END AS d,
        CASE WHEN consumer THEN
                 CASE WHEN uni(rid, 8) < 0.88 THEN 1 ELSE 2 + CAST(floor(uni(rid, 9) * 2) AS INTEGER) END
             ELSE least(200, 1 + CAST(floor(-ln(1 - uni(rid, 8)) * piece_mean) AS INTEGER))
                  * CASE WHEN uni(rid, 25) < full_load THEN getvariable('full_load_pieces') ELSE 1 END
             END AS pieces,
        CASE WHEN declared THEN 100 * (1 + floor(pow(uni(rid, 14), 3) * 200)) END AS declared_v,
        NOT is_return AND uni(rid, 20) < consumer_share AS to_consumer
    FROM b
),
t AS (
    SELECT *,
        CAST(ship_date AS TIMESTAMP)
            + to_seconds(CAST(CASE WHEN consumer THEN 36000 ELSE 28800 END + floor(uni(rid, 2) * 43200) AS BIGINT))
            AS ship_ts,
        CASE WHEN is_return THEN d ELSE o END AS origin,
        CASE WHEN is_return THEN o ELSE d END AS destination,
        least(99999, greatest(0.5, ceil(pieces * piece_kg * exp(kg_sigma * gauss(rid, 10) - kg_sigma * kg_sigma / 2) * 2) / 2)) AS kg,
        CASE WHEN pi = 5 THEN 1.0 WHEN o = d THEN 0.75 WHEN left(o, 2) = left(d, 2) THEN 0.85
             WHEN list_contains(getvariable('remote'), left(o, 2))
               OR list_contains(getvariable('remote'), left(d, 2)) THEN 1.5
             ELSE 1.0 END AS distance,
        to_consumer AND uni(rid, 18) < cod_share AS cod
    FROM s
),
f AS (
    SELECT *,
        greatest(1.0, round((list_extract(getvariable('first_kg'), pi)
            + list_extract(getvariable('each_kg'), pi) * least(greatest(kg - 1, 0), getvariable('heavy_from') - 1)
            + list_extract(getvariable('heavy_kg'), pi) * greatest(kg - getvariable('heavy_from'), 0))
            * distance * discount * (0.97 + 0.06 * uni(rid, 12)), 2)) AS freight_v,
        round(CASE WHEN declared_v IS NOT NULL THEN greatest(1.0, declared_v * 0.005) ELSE 0 END
            + CASE WHEN uni(rid, 15) < 0.06 THEN 2 + 13 * uni(rid, 16) ELSE 0 END
            + CASE WHEN pi = 4 THEN 5 ELSE 0 END, 2) AS surcharges_v,
        CASE WHEN u_status < 0.0015 THEN 3 WHEN u_status < 0.0055 THEN 4
             WHEN u_status < 0.0055 + CASE WHEN cod THEN 0.07 ELSE 0.012 END THEN 2
             ELSE 1 END AS si,
        CASE WHEN pi <> 5 THEN CAST(ship_date + CAST(list_extract(getvariable('promise_days'), pi)
                 + CASE WHEN distance >= 1.5 THEN 2 WHEN distance >= 1.0 AND pi <> 1 THEN 1 ELSE 0 END
                 AS INTEGER) AS TIMESTAMP) + INTERVAL 18 HOUR END AS promised_ts,
        uni(rid, 22) < late_share + CASE WHEN list_contains(getvariable('busy_days'), ship_date)
            THEN 0.08 ELSE 0 END AS late
    FROM t
),
g AS (
    SELECT *,
        CASE WHEN si <> 1 THEN NULL
             WHEN promised_ts IS NULL THEN ship_ts + to_seconds(CAST((4 + 6 * uni(rid, 23)) * 86400 AS BIGINT))
             WHEN late THEN promised_ts + to_seconds(CAST((2 + 46 * uni(rid, 23)) * 3600 AS BIGINT))
             ELSE ship_ts + to_seconds(CAST(date_diff('second', ship_ts, promised_ts)
                                            * (0.35 + 0.6 * uni(rid, 23)) AS BIGINT)) END AS delivered_ts
    FROM f
)
SELECT
    'KM' || lpad(CAST((CAST(rid AS HUGEINT) * 2654435761 + getvariable('seed_offset')) % 1000000000000
                 AS VARCHAR), 12, '0') AS waybill_no,
    billing_code,
    ship_ts AS ship_time,
    origin,
    destination,
    CASE WHEN list_contains(getvariable('bad_product'), rid) THEN getvariable('bad_label')
         ELSE list_extract(getvariable('products'), pi) END AS product,
    CAST(pieces AS INTEGER) AS pieces,
    CAST(kg AS DECIMAL(12, 3)) AS weight_kg,
    CAST(CASE WHEN list_contains(getvariable('bad_freight'), rid) THEN -freight_v ELSE freight_v END
         AS DECIMAL(18, 2)) AS freight,
    CAST(surcharges_v AS DECIMAL(18, 2)) AS surcharges,
    CAST(round((freight_v + surcharges_v) * cost_ratio * (0.9 + 0.2 * uni(rid, 17)), 2)
         AS DECIMAL(18, 2)) AS cost,
    CAST(CASE WHEN cod THEN 19 + floor(pow(uni(rid, 19), 2) * 600) + 0.9 END AS DECIMAL(18, 2)) AS cod_amount,
    CAST(declared_v AS DECIMAL(18, 2)) AS declared_value,
    pick(goods, uni(rid, 24)) AS goods_category,
    CASE WHEN to_consumer THEN '个人' ELSE '企业' END AS consignee_type,
    -- Not delivered by the end of the export: still on its way (picked up, in transit,
    -- out for delivery); a later export brings its final status.
    CASE WHEN si = 1 AND delivered_ts > getvariable('delivered_cap') THEN
             CASE WHEN ship_ts > getvariable('delivered_cap') - INTERVAL 12 HOUR THEN '已揽收'
                  WHEN delivered_ts < getvariable('delivered_cap') + INTERVAL 12 HOUR THEN '派送中'
                  ELSE '运输中' END
         ELSE list_extract(getvariable('statuses'), si) END AS status,
    CASE WHEN delivered_ts <= getvariable('delivered_cap') THEN delivered_ts END AS delivered_time,
    CASE WHEN promised_ts <= getvariable('promised_cap') THEN promised_ts END AS promised_time,
    is_return
FROM g
"""


def _bad_rows(first: int, rows: int) -> tuple[list[int], list[int]]:
    """Row numbers in ``[first, first + rows)`` that are spoilt on purpose."""
    count = BAD_PRODUCT_ROWS + BAD_FREIGHT_ROWS
    if rows < 10 * count:
        return [], []
    picked = [first + (2 * k + 1) * rows // (2 * count) for k in range(count)]
    return picked[:BAD_PRODUCT_ROWS], picked[BAD_PRODUCT_ROWS:]


_PLAN_NUMBERS = ("piece_kg", "piece_mean", "kg_sigma", "full_load", "discount", "cost_ratio", "cod_share", "declared_share",
                 "return_rate", "consumer_share", "lane_focus", "late_share")  # fmt: skip


class RowWriter:
    """Draws the planned waybills with DuckDB and writes them as Parquet, batch by batch."""

    def __init__(self, p: WaybillPlan, *, seed: int, delivered_cap: datetime.datetime,
                 promised_cap: datetime.datetime) -> None:  # fmt: skip
        self.plan = p
        self.con = duckdb.connect(
            config={
                "memory_limit": settings.DUCKDB_MEMORY_LIMIT,
                "temp_directory": str(lake.root() / "duckdb-tmp"),
            }
        )
        if settings.DUCKDB_THREADS:
            self.con.execute("SET threads = ?", [int(settings.DUCKDB_THREADS)])
        variables: dict[str, Any] = {
            "seed": seed,
            "seed_offset": (seed * 1_000_003) % 10**12,
            "destinations": p.destinations,
            "remote": _REMOTE_PROVINCES,
            "products": [label for label, *_ in PRODUCTS],
            "first_kg": [first for _, first, _, _, _ in PRODUCTS],
            "each_kg": [each for _, _, each, _, _ in PRODUCTS],
            "heavy_kg": [heavy for _, _, _, heavy, _ in PRODUCTS],
            "heavy_from": HEAVY_FROM_KG,
            "full_load_pieces": FULL_LOAD_PIECES,
            "promise_days": [days for *_, days in PRODUCTS],
            "statuses": ["已签收", "退回", "丢失", "破损"],
            "busy_days": p.busy_days,
            "bad_label": BAD_PRODUCT,
            "bad_product": [-1],
            "bad_freight": [-1],
            "delivered_cap": delivered_cap,
            "promised_cap": promised_cap,
        }
        for name, value in variables.items():
            self._set(name, value)
        self.con.execute(_MACROS)
        self._register_plan()

    def _set(self, name: str, value: Any) -> None:
        # Variable names are this module's own; values travel as parameters.
        self.con.execute("SET VARIABLE " + name + " = ?", [value])

    def _register_plan(self) -> None:
        p = self.plan
        codes = pa.table(
            {
                "ci": list(range(len(p.codes))),
                "billing_code": [c.code for c in p.codes],
                "consumer": [c.consumer for c in p.codes],
                "home": [c.home for c in p.codes],
                "alt": [c.alt for c in p.codes],
                **{f"p{i + 1}": [c.mix[i] for c in p.codes] for i in range(4)},
                **{name: [float(getattr(c, name)) for c in p.codes] for name in _PLAN_NUMBERS},
                "favourites": [c.favourites for c in p.codes],
                "goods": [c.goods for c in p.codes],
            }
        )
        batch_of = {mi: b for b, (_, months) in enumerate(p.batches) for mi in months}
        ci, mi, n, rid0, batch = [], [], [], [], []
        next_rid = 0
        for m, row in enumerate(p.counts):  # months in order, so a batch's rows are contiguous
            for c, count in enumerate(row):
                if count:
                    ci.append(c)
                    mi.append(m)
                    n.append(count)
                    rid0.append(next_rid)
                    batch.append(batch_of[m])
                    next_rid += count
        months = pa.table({"ci": ci, "mi": mi, "n": n, "rid0": rid0, "batch": batch})
        days = pa.table(
            {
                "mi": [m for m, _ in p.day_picks],
                "consumer": [c for _, c in p.day_picks],
                "first_day": [p.months[m] for m, _ in p.day_picks],
                "day_pick": list(p.day_picks.values()),
            }
        )
        for name, table in (("plan_codes", codes), ("plan_months", months), ("plan_days", days)):
            self.con.register(name + "_arrow", table)
            self.con.execute("CREATE TABLE " + name + " AS FROM " + name + "_arrow")
            self.con.unregister(name + "_arrow")

    def rows_in(self, batch: int) -> tuple[int, int]:
        """(first row number, rows) of a batch."""
        first, rows = self.con.execute(
            "SELECT min(rid0), sum(n) FROM plan_months WHERE batch = ?", [batch]
        ).fetchone() or (0, 0)
        return int(first or 0), int(rows or 0)

    def write(self, batch: int, path: Path) -> int:
        """Write one batch to ``path``; returns the number of rows."""
        first, rows = self.rows_in(batch)
        label = self.plan.batches[batch][0]
        bad_product, bad_freight = (
            _bad_rows(first, rows) if label == self.plan.bad_batch else ([], [])
        )
        self._set("bad_product", bad_product or [-1])
        self._set("bad_freight", bad_freight or [-1])
        reader = self.con.sql(_ROWS, params={"batch": batch}).to_arrow_reader(200_000)
        with pq.ParquetWriter(path, reader.schema, compression="zstd") as out:
            for record_batch in reader:
                out.write_batch(record_batch)
        return rows

    def close(self) -> None:
        self.con.close()
