"""The same what-if written the way a pandas user would: pyarrow reads the Parquet, money
and weights become exact integers (fen, grams: floats would not be exact to the fen),
lanes get their zone with a merge, weights their segment with ``merge_asof``, the day its
fuel and peak fractions with ``map``, numpy does the arithmetic, ``groupby`` the sums.

It reuses the card's flattening into weight segments (:func:`kam.pricing.reprice.card_segments`)
so that both implementations price from the same table; the rounding is written again here.
"""

from collections.abc import Mapping
from dataclasses import astuple
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kam.pricing.rating import Card, CostRate, RatingError
from kam.pricing.reprice import Segment, card_segments

COLUMNS = ["ship_date", "origin", "destination", "product", "weight_kg", "freight",
           "surcharges", "cost", "cod_amount", "declared_value"]  # fmt: skip


def _whole(column: pa.ChunkedArray, factor: int) -> pa.ChunkedArray:
    """An exact decimal column times ``factor`` as int64 (nulls kept)."""
    scaled = pc.multiply(column, pa.scalar(Decimal(factor), pa.decimal128(len(str(factor)), 0)))
    return pc.cast(scaled, pa.int64())


def _units(value: Decimal, places: int) -> int:
    return int(value.scaleb(places))


def pandas_what_if(
    path: Path, card: Card, rates: Mapping[tuple[str, str], CostRate], top_lanes: int = 20
) -> dict[str, pd.DataFrame]:
    table = pq.read_table(
        path, columns=COLUMNS, read_dictionary=["origin", "destination", "product"]
    )
    df = pd.DataFrame(
        {
            "ship_date": table["ship_date"].to_pandas(),
            "origin": table["origin"].to_pandas(),
            "destination": table["destination"].to_pandas(),
            "product": table["product"].to_pandas(),
            "g": _whole(table["weight_kg"], 1000).to_pandas(),
            "revenue": pc.add(
                _whole(table["freight"], 100), _whole(table["surcharges"], 100)
            ).to_pandas(),
            "cost": _whole(table["cost"], 100).to_pandas(),  # float64 with NaN where null
            "cod": _whole(table["cod_amount"], 100).to_pandas(),
            "declared": _whole(table["declared_value"], 100).to_pandas(),
        }
    )
    del table

    # zones and rules per lane (a few hundred lanes), merged onto the waybills
    lanes = df[["origin", "destination", "product"]].drop_duplicates().reset_index(drop=True)
    rule_ids = {key: i for i, key in enumerate(card.rules)}
    zones, ids = [], []
    for o, d, p in lanes.itertuples(index=False):
        try:
            zone = card.zones.zone(o, d)
        except RatingError:
            zone = None
        zones.append(zone)
        ids.append(rule_ids.get((p, zone), -1))
    lanes["zone"] = zones
    lanes["rule_id"] = np.array(ids, dtype=np.int64)
    df = df.merge(lanes, on=["origin", "destination", "product"], how="left")

    # the weight segment of each waybill: the last segment of its rule starting at or below
    segments = pd.DataFrame(
        [astuple(x) for x in card_segments(card, rates)], columns=list(Segment.__slots__)
    )
    segments = segments.astype({"from_g": np.int64, "rule_id": np.int64}).sort_values("from_g")
    df = pd.merge_asof(
        df.sort_values("g"),
        segments,
        left_on="g",
        right_on="from_g",
        by="rule_id",
        direction="backward",
    )
    priced = (df["rule_id"] >= 0) & (df["g"] < df["to_g"]) & df["priced"].eq(True)

    g = df["g"].to_numpy()
    fa = df["fa"].eq(True).to_numpy()
    first_g = df["first_g"].fillna(0).to_numpy(dtype=np.int64)
    step_g = df["step_g"].fillna(1).to_numpy(dtype=np.int64)
    first_p4 = df["first_p4"].fillna(0).to_numpy(dtype=np.int64)
    step_p4 = df["step_p4"].fillna(0).to_numpy(dtype=np.int64)
    steps = np.where(g <= first_g, 0, (g - first_g + step_g - 1) // step_g)
    list7 = np.where(
        fa,
        1000 * (first_p4 + steps * step_p4),
        np.maximum(g * df["per_kg_p4"].fillna(0).to_numpy(dtype=np.int64),
                   1000 * df["min_p4"].fillna(0).to_numpy(dtype=np.int64)),
    )  # fmt: skip
    freight = (
        list7 * df["keep6"].fillna(0).to_numpy(dtype=np.int64) + 50_000_000_000
    ) // 100_000_000_000

    # fuel and peak fractions per day
    s = card.surcharges
    days = pd.date_range(df["ship_date"].min(), df["ship_date"].max(), freq="D")
    month_fuel = {}
    fuel8, peak6 = [], []
    for day in days:
        key = day.strftime("%Y-%m")
        if key not in month_fuel:
            pct = s.fuel.percent(s.fuel_index.get(key)) if s.fuel else Decimal(0)
            month_fuel[key] = _units(pct, 6)
        fuel8.append(month_fuel[key])
        peak6.append(sum(_units(p.percent, 4) for p in s.peaks if p.start <= day.date() <= p.end))
    dates = pd.to_datetime(df["ship_date"])
    fuel = (
        freight * dates.map(pd.Series(fuel8, index=days)).to_numpy(dtype=np.int64) + 50_000_000
    ) // 100_000_000
    peak = (
        freight * dates.map(pd.Series(peak6, index=days)).to_numpy(dtype=np.int64) + 500_000
    ) // 1_000_000
    remote = np.where(df["zone"].isin(list(s.remote_zones)), _units(s.remote_fee, 2), 0)
    cod_amount = df["cod"].fillna(0).to_numpy(dtype=np.int64)
    cod = np.where(cod_amount > 0, (np.maximum(cod_amount * _units(s.cod_percent, 4),
                                               10_000 * _units(s.cod_min, 4)) + 500_000) // 1_000_000, 0)  # fmt: skip
    declared = df["declared"].fillna(0).to_numpy(dtype=np.int64)
    insurance = np.where(declared > 0, (np.maximum(declared * _units(s.insurance_percent, 4),
                                                   10_000 * _units(s.insurance_min, 4)) + 500_000) // 1_000_000, 0)  # fmt: skip
    estimate = (1000 * df["cost_waybill_p4"] + df["g"] * df["cost_kg_p4"] + 50_000) // 100_000
    cost = df["cost"].fillna(estimate)

    out = pd.DataFrame(
        {
            "month": dates.dt.to_period("M"),
            "product": df["product"],
            "zone": df["zone"],
            "origin": df["origin"],
            "destination": df["destination"],
            "priced": priced.to_numpy(),
            "waybills": 1,
            "g": g,
            "current": df["revenue"].to_numpy(),
            "freight": freight,
            "fuel": fuel,
            "peak": peak,
            "remote": remote,
            "cod": cod,
            "insurance": insurance,
            "cost": cost.to_numpy(),
        }
    )
    out["proposed"] = out[["freight", "fuel", "peak", "remote", "cod", "insurance"]].sum(axis=1)
    good = out[out["priced"]]
    sums = ["waybills", "g", "current", "proposed", "freight", "fuel", "peak", "remote", "cod",
            "insurance", "cost"]  # fmt: skip
    result = {
        "totals": good[sums].sum().to_frame().T,
        "by_month": good.groupby("month")[sums].sum().reset_index(),
        "by_product": good.groupby("product", observed=True)[sums].sum().reset_index(),
        "by_zone": good.groupby("zone")[sums].sum().reset_index(),
        "unpriced": out[~out["priced"]]
        .groupby(["product", "zone"], dropna=False, observed=True)[["waybills", "g", "current"]]
        .sum()
        .reset_index(),
    }
    lanes_sum = good.groupby(["origin", "destination"], observed=True)[sums].sum()
    lanes_sum = lanes_sum.sort_values("current", ascending=False)
    top = lanes_sum.iloc[:top_lanes].reset_index()
    others = (
        lanes_sum.iloc[top_lanes:].sum().to_frame().T.assign(origin="others", destination="others")
    )
    result["by_lane"] = pd.concat([top, others], ignore_index=True)
    return result
