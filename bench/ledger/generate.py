"""Synthetic waybills, generated with DuckDB SQL (deterministic and streamed)."""

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bench.ledger.common import CODES, GOODS, MB, MONTHS, PRODUCTS_ZH, STATUSES_ZH, log

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
