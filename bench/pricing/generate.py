"""One very large account's year of waybills (DuckDB SQL, deterministic, streamed to
Parquet) and a realistic card for it."""

import datetime as dt
from decimal import Decimal as D
from pathlib import Path

import duckdb

from kam.pricing.rating import (
    Band,
    Card,
    CostRate,
    Discount,
    FirstAdditional,
    FuelRule,
    Peak,
    Surcharges,
    WeightBreaks,
    ZoneMatrix,
)

YEAR = 2025
# GB/T 2260 city codes, biggest destinations first (destinations are skewed to the front).
CITIES = [
    "310100", "110100", "440100", "440300", "330100", "510100", "320500", "420100", "500100",
    "120100", "320100", "610100", "430100", "410100", "370200", "441900", "440600", "330200",
    "350200", "370100", "340100", "210100", "210200", "350100", "360100", "230100", "220100",
    "130100", "320200", "330700", "450100", "530100", "520100", "140100", "130200", "150100",
    "620100", "460100", "640100", "630100", "650100", "540100",
]  # fmt: skip
# The account's warehouses and their shares of its waybills.
WAREHOUSES = [("310100", 0.40), ("441900", 0.25), ("120100", 0.20), ("510100", 0.15)]
# product, share, shape: parcels by first / additional weight, ground by weight breaks
PRODUCT_MIX = [("standard", 0.50), ("express", 0.25), ("ground", 0.17), ("cold", 0.05),
               ("international", 0.03)]  # fmt: skip
REMOTE = {"54", "65"}  # Tibet, Xinjiang
ZONE_NAMES = ("z1", "z2", "z3", "remote")


def zone_matrix() -> ZoneMatrix:
    """Inter-province zones from the provinces' regions (the code's first digit: 1 north,
    2 north-east, 3 east, 4 centre-south, 5 south-west, 6 north-west): the same region z1,
    a neighbouring region z2, else z3; Tibet and Xinjiang are remote either way."""
    provinces = sorted({c[:2] for c in CITIES})
    pairs = {}
    for o in provinces:
        for d in provinces:
            if o == d:
                continue
            if o in REMOTE or d in REMOTE:
                zone = "remote"
            else:
                gap = abs(int(o[0]) - int(d[0]))
                zone = "z1" if gap == 0 else "z2" if gap == 1 else "z3"
            pairs[(o + "0000", d + "0000")] = zone
    return ZoneMatrix(pairs)


def card() -> Card:
    zones = ("same_city", "same_province", *ZONE_NAMES)
    rules: dict[tuple[str, str], FirstAdditional | WeightBreaks] = {}
    for i, zone in enumerate(zones):
        rules[("express", zone)] = FirstAdditional(D("1"), D(12 + 3 * i), D("1"), D(2 + 2 * i))
        rules[("standard", zone)] = FirstAdditional(
            D("1"), D(8 + 2 * i), D("0.5"), D("1.5") + D("0.75") * i
        )
        rules[("cold", zone)] = FirstAdditional(D("0.5"), D(20 + 4 * i), D("0.5"), D(4 + 2 * i))
        per_kg = [D("1.20") + D("0.35") * i, D("0.95") + D("0.3") * i, D("0.80") + D("0.25") * i,
                  D("0.65") + D("0.2") * i]  # fmt: skip
        rules[("ground", zone)] = WeightBreaks(
            (
                Band(D(0), D(30), per_kg[0]),
                Band(D(30), D(100), per_kg[1]),
                Band(D(100), D(300), per_kg[2]),
                Band(D(300), None, per_kg[3]),
            ),
            min_charge=D(30 + 10 * i),
        )
    # international is priced on its own card: its waybills are reported as unpriced
    discounts = (
        Discount(D("12")),
        Discount(D("18"), product="express"),
        Discount(D("22"), product="standard", zone="z1", to_kg=D("3")),
        Discount(D("15"), product="ground", from_kg=D("100")),
        Discount(D("8.5"), product="cold"),
    )
    months = {f"{YEAR}-{m:02d}": D(7200 + 40 * m) for m in range(1, 13) if m != 7}  # July: none
    surcharges = Surcharges(
        fuel=FuelRule(D("6"), D("0.0015"), D("7500"), D("3"), D("12")),
        fuel_index=months,
        peaks=(
            Peak(dt.date(YEAR, 1, 20), dt.date(YEAR, 2, 5), D("10")),  # Spring Festival
            Peak(dt.date(YEAR, 11, 1), dt.date(YEAR, 11, 15), D("8")),  # 11.11
            Peak(dt.date(YEAR, 12, 10), dt.date(YEAR, 12, 12), D("5")),  # 12.12
        ),
        remote_zones=frozenset({"remote"}),
        remote_fee=D("15"),
        cod_percent=D("1"),
        cod_min=D("3"),
        insurance_percent=D("0.3"),
        insurance_min=D("2"),
    )
    return Card(zone_matrix(), rules, discounts, surcharges)


def cost_rates() -> dict[tuple[str, str], CostRate]:
    zones = ("same_city", "same_province", *ZONE_NAMES)
    rates = {}
    for i, zone in enumerate(zones):
        rates[("express", zone)] = CostRate(D("6.5") + i, D("1.1") + D("0.4") * i)
        rates[("standard", zone)] = CostRate(D("4.2") + i, D("0.7") + D("0.3") * i)
        rates[("cold", zone)] = CostRate(D("12") + 2 * i, D("2.5") + D("0.5") * i)
        rates[("ground", zone)] = CostRate(D("15") + 3 * i, D("0.45") + D("0.12") * i)
    return rates


def _uniform(salt: int) -> str:
    # hash(i, salt) of consecutive i is correlated across salts; one value hashed is not
    return f"((hash(i * 64 + {salt}) >> 11) / 9007199254740992.0)"


def waybill_sql(rows: int) -> str:
    """``rows`` waybills of one account over the year, in ship-date order."""
    cities = "[" + ", ".join(f"'{c}'" for c in CITIES) + "]"
    n = len(CITIES)
    house = (
        "CASE "
        + " ".join(
            f"WHEN u_house < {sum(s for _, s in WAREHOUSES[: k + 1]):.2f} THEN '{c}'"
            for k, (c, _) in enumerate(WAREHOUSES[:-1])
        )
        + f" ELSE '{WAREHOUSES[-1][0]}' END"
    )
    product = (
        "CASE "
        + " ".join(
            f"WHEN u_product < {sum(s for _, s in PRODUCT_MIX[: k + 1]):.2f} THEN '{p}'"
            for k, (p, _) in enumerate(PRODUCT_MIX[:-1])
        )
        + f" ELSE '{PRODUCT_MIX[-1][0]}' END"
    )
    days = 366 if YEAR % 4 == 0 else 365
    return f"""
    WITH b AS (
        SELECT i, {_uniform(1)} AS u_house, {_uniform(2)} AS u_dest, {_uniform(3)} AS u_product,
               {_uniform(4)} AS u_weight, {_uniform(5)} AS u_money, hash(i * 64 + 6) AS h, hash(i * 64 + 7) AS h2, hash(i * 64 + 8) AS h3,
               DATE '{YEAR}-01-01' + CAST(i * {days} // {rows} AS INTEGER) AS ship_date
        FROM range({rows}) t(i)
    ), c AS (
        SELECT *, {house} AS origin, {product} AS product,
            CASE WHEN h2 % 20 = 0 THEN {house}  -- same city
                 ELSE {cities}[1 + CAST(floor({n} * u_dest * u_dest) AS BIGINT)] END AS destination
        FROM b
    ), d AS (
        SELECT *,
            CAST(CASE WHEN product = 'ground' THEN 5 + 800 * u_weight * u_weight
                      ELSE 0.05 + 25 * u_weight * u_weight * u_weight END AS DECIMAL(12,3))
                AS weight_kg
        FROM c
    ), e AS (
        SELECT *, CAST(CASE product WHEN 'express' THEN 13 + 4 * weight_kg
                                    WHEN 'ground' THEN 25 + 0.9 * weight_kg
                                    WHEN 'cold' THEN 22 + 5 * weight_kg
                                    WHEN 'international' THEN 120 + 40 * weight_kg
                                    ELSE 8 + 2 * weight_kg END AS DECIMAL(18,2)) AS freight
        FROM d
    )
    SELECT printf('KA%013d', i) AS waybill_no, 'C0000001' AS billing_code, ship_date,
        strftime(ship_date, '%Y-%m') AS month, origin, destination, product,
        CAST(1 + (h >> 32) % 3 AS INTEGER) AS pieces, weight_kg, freight,
        CAST(round(freight * (0.04 + 0.06 * u_money), 2) AS DECIMAL(18,2)) AS surcharges,
        CAST(CASE WHEN h3 % 10 = 0 THEN NULL
                  ELSE round(freight * (0.55 + 0.3 * u_money), 2) END AS DECIMAL(18,2)) AS cost,
        CAST(CASE WHEN (h >> 12) % 100 < 15 THEN round(20 + u_weight * 800, 2) END
             AS DECIMAL(18,2)) AS cod_amount,  -- optional in the lake: NULL without COD
        CAST(CASE WHEN (h >> 16) % 10 = 0 THEN round(100 + u_dest * 3000, 2) END
             AS DECIMAL(18,2)) AS declared_value
    FROM e
    """  # noqa: S608 - generated numbers and fixed names, no user input


def generate_parquet(con: duckdb.DuckDBPyConnection, path: Path, rows: int) -> None:
    con.execute(
        f"COPY ({waybill_sql(rows)}) TO '{path}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)"
    )
