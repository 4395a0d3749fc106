"""What-if: an account's real waybills repriced under a card, in DuckDB, exact to the fen.

Pure (no Django). The input is a DuckDB relation with the lake's columns (``ship_date``,
``origin``, ``destination``, ``product``, ``weight_kg`` DECIMAL(12,3) chargeable,
``freight``, ``surcharges``, ``cost`` (nullable), ``cod_amount``, ``declared_value``
DECIMAL(18,2)); the card is a :class:`kam.pricing.rating.Card`.

How the card becomes SQL (every amount stays DECIMAL; nothing goes through DOUBLE):

- ``_reprice_pairs``: (origin province prefix, destination province prefix) -> zone, the
  card's :class:`~kam.pricing.rating.ZoneMatrix`; same city and same province are a
  ``CASE`` before it, as :meth:`ZoneMatrix.zone` decides.
- ``_reprice_segments``: per (product, zone) with a rule, the weight axis (whole grams) cut
  into segments ``[from_g, to_g)`` on which everything that depends on the weight is
  constant: the rule's shape and prices, the weight-break band and the discount. The
  segments are cut at every band edge and every discount edge (an edge in kilograms becomes
  the first whole gram at or above it, which is exact because lake weights are whole
  grams) and each segment's discount is :meth:`Card.discount` itself asked at the
  segment's first gram, so the most-specific-wins order is the reference's by
  construction. The cost rate of the (product, zone) and its remote fee ride along.
- ``_reprice_days``: per day of the waybills' date range, the fuel fraction (the month's
  index through :meth:`FuelRule.percent`, computed in Python with ``Decimal``; a month
  without an index gets the base percentage, as the reference does) and the peak fraction
  (the sum of the peaks covering the day).

One SQL pass then joins each waybill to its zone, segment and day and computes, as
:func:`kam.pricing.rating.price_waybill` does: grams counted up (weights are whole grams
already), additional steps counted up (integer arithmetic), freight rounded once after the
discount (``ROUND`` on a DECIMAL, half away from zero, which is ``ROUND_HALF_UP`` for these
non-negative amounts), each surcharge rounded on its own.

A waybill the card cannot price (no zone for its province pair, no rule for its product
and zone, no weight band for its weight) is left out of the comparison and reported apart,
per (product, zone) or per province pair, with its current revenue.

Limits the card must respect (checked, :class:`RepriceError` names the value): prices,
fees and per-kilogram rates with at most four decimals and below 10^8; percentages with at
most four decimals; fuel percentages (after the index formula) with at most ten decimals;
remote-area fee in whole fen (the reference adds it unrounded).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa

from kam.pricing.rating import (
    GRAM,
    HUNDRED,
    SAME_CITY,
    SAME_PROVINCE,
    ZERO,
    Card,
    CostRate,
    FirstAdditional,
    WeightBreaks,
    money,
)

# Segment bounds: below any weight and above any weight (DECIMAL(12,3) kg < 10^12 g).
_LOW = -(10**15)
_HIGH = 10**15

PRICE_TYPE = "DECIMAL(12,4)"
FRACTION_TYPE = "DECIMAL(7,6)"  # (100 - discount %) / 100
PERCENT_FRACTION_TYPE = "DECIMAL(12,6)"  # a percentage / 100 (peaks, COD, insurance)
FUEL_FRACTION_TYPE = "DECIMAL(18,12)"
OTHERS = "others"


class RepriceError(ValueError):
    """The card holds a value the SQL cannot carry exactly (the message names it)."""


# ---------------------------------------------------------------------------------------------
# The card as small tables


def _exact(value: Decimal, places: int, what: str, limit: Decimal | None = None) -> str:
    """``value`` as a SQL literal with ``places`` decimals, refused if that rounds it."""
    quantum = Decimal(1).scaleb(-places)
    fixed = value.quantize(quantum)
    if fixed != value:
        raise RepriceError(f"{what} ({value}) has more than {places} decimals")
    if limit is not None and abs(fixed) >= limit:
        raise RepriceError(f"{what} ({value}) is too large")
    return str(fixed)


def _price(value: Decimal, what: str) -> str:
    return _exact(value, 4, what, Decimal(10) ** 8)


def _fraction(percent: Decimal, what: str, places: int = 4) -> Decimal:
    _exact(percent, places, what, Decimal(10) ** 6)
    return percent / HUNDRED


def _grams_up(kg: Decimal) -> int:
    """The first whole gram at or above ``kg`` (negative weights included)."""
    thousandths = kg / GRAM
    whole = int(thousandths)  # towards zero
    return whole + (1 if thousandths > whole else 0)


@dataclass(frozen=True, slots=True)
class _Segment:
    product: str
    zone: str
    from_g: int
    to_g: int
    fa: bool
    first_g: int
    first_price: Decimal
    step_g: int
    step_price: Decimal
    per_kg: Decimal
    min_charge: Decimal
    keep: Decimal  # (100 - discount) / 100
    remote: Decimal
    cost_per_waybill: Decimal | None
    cost_per_kg: Decimal | None


def card_segments(
    card: Card, cost_rates: Mapping[tuple[str, str], CostRate] | None = None
) -> list[_Segment]:
    """The card's rules, bands and discounts as weight segments per (product, zone)."""
    rates = cost_rates or {}
    s = card.surcharges
    remote_fee = s.remote_fee
    _exact(remote_fee, 2, "the remote-area fee", Decimal(10) ** 8)
    out: list[_Segment] = []
    for (product, zone), rule in card.rules.items():
        where = f"the rule for {product} in zone {zone}"
        edges = {_LOW, 0}
        if isinstance(rule, WeightBreaks):
            for band in rule.bands:
                edges.add(_grams_up(band.from_kg))
                if band.to_kg is not None:
                    edges.add(_grams_up(band.to_kg))
            _price(rule.min_charge, f"{where}: the minimum charge")
        for d in card.discounts:
            if (d.product is None or d.product == product) and (d.zone is None or d.zone == zone):
                edges.add(_grams_up(d.from_kg))
                if d.to_kg is not None:
                    edges.add(_grams_up(d.to_kg))
        cuts = sorted(e for e in edges if _LOW <= e < _HIGH) + [_HIGH]
        rate = rates.get((product, zone))
        if rate is not None:
            _price(rate.per_waybill, f"the cost rate for {product} in zone {zone}")
            _price(rate.per_kg, f"the cost rate for {product} in zone {zone}")
        remote = remote_fee if zone in s.remote_zones else ZERO
        for lo, hi in zip(cuts, cuts[1:], strict=False):
            at = Decimal(lo) * GRAM
            off = card.discount(product, zone, at)
            _fraction(off, f"the discount for {product} in zone {zone} at {at} kg")
            keep = (HUNDRED - off) / HUNDRED
            if isinstance(rule, FirstAdditional):
                first_g = _grams_up(rule.first_kg)
                step_g = _grams_up(rule.step_kg)
                if step_g <= 0:
                    raise RepriceError(f"{where}: the additional weight step must be above 0")
                _price(rule.first_price, f"{where}: the first-weight price")
                _price(rule.step_price, f"{where}: the additional-weight price")
                seg = _Segment(
                    product, zone, lo, hi, True, first_g, rule.first_price, step_g,
                    rule.step_price, ZERO, ZERO, keep, remote,
                    rate.per_waybill if rate else None, rate.per_kg if rate else None,
                )  # fmt: skip
            else:
                held = next((b for b in rule.bands if b.holds(at)), None)
                if held is None:
                    continue  # no band holds these weights: the reference refuses them too
                _price(held.per_kg, f"{where}: the per-kg rate from {held.from_kg} kg")
                seg = _Segment(
                    product, zone, lo, hi, False, 0, ZERO, 1, ZERO, held.per_kg,
                    rule.min_charge, keep, remote,
                    rate.per_waybill if rate else None, rate.per_kg if rate else None,
                )  # fmt: skip
            out.append(seg)
    return out


def _segments_table(segments: Sequence[_Segment]) -> pa.Table:
    def dec(values: list[Decimal | None], precision: int, scale: int) -> pa.Array:
        return pa.array(values, type=pa.decimal128(precision, scale))

    return pa.table(
        {
            "product": pa.array([x.product for x in segments], pa.string()),
            "zone": pa.array([x.zone for x in segments], pa.string()),
            "from_g": pa.array([x.from_g for x in segments], pa.int64()),
            "to_g": pa.array([x.to_g for x in segments], pa.int64()),
            "fa": pa.array([x.fa for x in segments], pa.bool_()),
            "first_g": pa.array([x.first_g for x in segments], pa.int64()),
            "first_price": dec([x.first_price for x in segments], 12, 4),
            "step_g": pa.array([x.step_g for x in segments], pa.int64()),
            "step_price": dec([x.step_price for x in segments], 12, 4),
            "per_kg": dec([x.per_kg for x in segments], 12, 4),
            "min_charge": dec([x.min_charge for x in segments], 12, 4),
            "keep": dec([x.keep for x in segments], 7, 6),
            "remote": dec([x.remote for x in segments], 12, 2),
            "cost_per_waybill": dec([x.cost_per_waybill for x in segments], 12, 4),
            "cost_per_kg": dec([x.cost_per_kg for x in segments], 12, 4),
        }
    )


def _days_table(card: Card, first: dt.date, last: dt.date) -> pa.Table:
    """Fuel and peak fractions per day from ``first`` to ``last``."""
    s = card.surcharges
    days: list[dt.date] = []
    fuel: list[Decimal] = []
    peak: list[Decimal] = []
    by_month: dict[str, Decimal] = {}
    for p in s.peaks:
        _fraction(p.percent, f"the peak surcharge {p.start} to {p.end}")
    day = first
    while day <= last:
        key = day.strftime("%Y-%m")
        if key not in by_month:
            pct = s.fuel.percent(s.fuel_index.get(key)) if s.fuel else ZERO
            by_month[key] = _fraction(pct, f"the fuel surcharge of {key}", places=10)
        days.append(day)
        fuel.append(by_month[key])
        peak.append(sum((p.percent for p in s.peaks if p.start <= day <= p.end), ZERO) / HUNDRED)
        day += dt.timedelta(days=1)
    for value in peak:
        _exact(value, 6, "the peak surcharges of a day", Decimal(10) ** 6)
    return pa.table(
        {
            "day": pa.array(days, pa.date32()),
            "fuel": pa.array(fuel, pa.decimal128(18, 12)),
            "peak": pa.array(peak, pa.decimal128(12, 6)),
        }
    )


def load_card(
    con: duckdb.DuckDBPyConnection,
    card: Card,
    cost_rates: Mapping[tuple[str, str], CostRate] | None,
    first_day: dt.date,
    last_day: dt.date,
) -> None:
    """Create the temp tables ``_reprice_pairs``, ``_reprice_segments``, ``_reprice_days``."""
    pairs = pa.table(
        {
            "o2": pa.array([o[:2] for o, _ in card.zones.pairs], pa.string()),
            "d2": pa.array([d[:2] for _, d in card.zones.pairs], pa.string()),
            "zone": pa.array(list(card.zones.pairs.values()), pa.string()),
        }
    )
    segments = _segments_table(card_segments(card, cost_rates))
    days = _days_table(card, first_day, last_day)
    for name, table in (("pairs", pairs), ("segments", segments), ("days", days)):
        con.register(f"_reprice_{name}_arrow", table)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _reprice_{name} AS FROM _reprice_{name}_arrow")
        con.unregister(f"_reprice_{name}_arrow")


def _scalar_surcharges(card: Card) -> dict[str, str]:
    s = card.surcharges
    return {
        "cod_frac": str(_fraction(s.cod_percent, "the COD percentage")),
        "cod_min": _price(s.cod_min, "the COD minimum"),
        "ins_frac": str(_fraction(s.insurance_percent, "the insurance percentage")),
        "ins_min": _price(s.insurance_min, "the insurance minimum"),
    }


# ---------------------------------------------------------------------------------------------
# The one pass


def priced_sql(card: Card, source: str) -> str:
    """The per-waybill SELECT (after :func:`load_card`): the source's columns plus ``zone``,
    ``priced``, ``new_freight``, ``new_fuel``, ``new_peak``, ``new_remote``, ``new_cod``,
    ``new_insurance``, ``new_revenue``, ``current_revenue``, ``cost_used`` (the lake's cost,
    else the cost rate's estimate, else NULL)."""
    k = _scalar_surcharges(card)
    # The source is the caller's trusted text; the card's values are checked decimals.
    return f"""
WITH w AS (
    SELECT src.*,
        CAST(src.weight_kg * 1000 AS BIGINT) AS _g,
        CASE WHEN src.origin = src.destination THEN '{SAME_CITY}'
             WHEN left(src.origin, 2) = left(src.destination, 2) THEN '{SAME_PROVINCE}'
             ELSE p.zone END AS zone
    FROM ({source}) src
    LEFT JOIN _reprice_pairs p
      ON p.o2 = left(src.origin, 2) AND p.d2 = left(src.destination, 2)
), r AS (
    SELECT w.*, s.from_g IS NOT NULL AS priced, s.keep AS _keep, s.remote AS _remote,
        dd.fuel AS _fuel, dd.peak AS _peak,
        CAST(CASE WHEN s.fa THEN
            CASE WHEN w._g <= s.first_g THEN s.first_price
                 ELSE s.first_price
                      + CAST((w._g - s.first_g + s.step_g - 1) // s.step_g AS DECIMAL(18,0))
                        * s.step_price END
            ELSE greatest(CAST(w.weight_kg AS DECIMAL(12,3)) * s.per_kg, s.min_charge)
        END AS DECIMAL(24,7)) AS list_freight,
        CASE WHEN s.cost_per_waybill IS NOT NULL THEN
            round(s.cost_per_waybill + CAST(w.weight_kg AS DECIMAL(12,3)) * s.cost_per_kg, 2)
        END AS _estimate
    FROM w
    LEFT JOIN _reprice_segments s
      ON s.product = w.product AND s.zone = w.zone AND w._g >= s.from_g AND w._g < s.to_g
    LEFT JOIN _reprice_days dd ON dd.day = w.ship_date
), f AS (
    SELECT r.*, CAST(round(r.list_freight * r._keep, 2) AS DECIMAL(18,2)) AS new_freight
    FROM r
), m AS (
    SELECT f.* EXCLUDE (_g, _keep, _remote, _fuel, _peak, _estimate),
        CAST(round(f.new_freight * f._fuel, 2) AS DECIMAL(18,2)) AS new_fuel,
        CAST(round(f.new_freight * f._peak, 2) AS DECIMAL(18,2)) AS new_peak,
        CAST(f._remote AS DECIMAL(18,2)) AS new_remote,
        CAST(CASE WHEN f.cod_amount > 0 THEN round(greatest(
            f.cod_amount * CAST({k["cod_frac"]} AS {PERCENT_FRACTION_TYPE}),
            CAST({k["cod_min"]} AS {PRICE_TYPE})), 2) ELSE 0 END AS DECIMAL(18,2)) AS new_cod,
        CAST(CASE WHEN f.declared_value > 0 THEN round(greatest(
            f.declared_value * CAST({k["ins_frac"]} AS {PERCENT_FRACTION_TYPE}),
            CAST({k["ins_min"]} AS {PRICE_TYPE})), 2) ELSE 0 END AS DECIMAL(18,2))
            AS new_insurance,
        CAST(f.freight + f.surcharges AS DECIMAL(18,2)) AS current_revenue,
        CAST(coalesce(f.cost, f._estimate) AS DECIMAL(18,2)) AS cost_used
    FROM f
)
SELECT m.*, CASE WHEN m.priced THEN
    m.new_freight + m.new_fuel + m.new_peak + m.new_remote + m.new_cod + m.new_insurance
    END AS new_revenue
FROM m
"""  # noqa: S608


def _date_range(con: duckdb.DuckDBPyConnection, source: str) -> tuple[dt.date, dt.date]:
    row = con.execute(f"SELECT min(ship_date), max(ship_date) FROM ({source})").fetchall()[0]  # noqa: S608
    if row[0] is None:
        today = dt.date(2000, 1, 1)
        return today, today
    return row[0], row[1]


def reprice_waybills(
    con: duckdb.DuckDBPyConnection,
    card: Card,
    source: str = "waybills",
    cost_rates: Mapping[tuple[str, str], CostRate] | None = None,
) -> pa.Table:
    """Every waybill of ``source`` (a table, view or SQL table expression: trusted text)
    with its new price, as Arrow: for samples and checks, not a year of waybills."""
    load_card(con, card, cost_rates, *_date_range(con, source))
    return con.sql(priced_sql(card, source)).to_arrow_table()


# ---------------------------------------------------------------------------------------------
# The what-if


_SUMS = """
    count(*) FILTER (WHERE priced) AS waybills,
    sum(weight_kg) FILTER (WHERE priced) AS weight_kg,
    sum(current_revenue) FILTER (WHERE priced) AS current_revenue,
    sum(freight) FILTER (WHERE priced) AS current_freight,
    sum(new_freight) FILTER (WHERE priced) AS freight,
    sum(new_fuel) FILTER (WHERE priced) AS fuel,
    sum(new_peak) FILTER (WHERE priced) AS peak,
    sum(new_remote) FILTER (WHERE priced) AS remote,
    sum(new_cod) FILTER (WHERE priced) AS cod,
    sum(new_insurance) FILTER (WHERE priced) AS insurance,
    sum(new_revenue) FILTER (WHERE priced) AS proposed_revenue,
    count(*) FILTER (WHERE priced AND cost_used IS NOT NULL) AS costed_waybills,
    sum(cost_used) FILTER (WHERE priced) AS cost,
    sum(current_revenue) FILTER (WHERE priced AND cost_used IS NOT NULL) AS costed_current_revenue,
    sum(new_revenue) FILTER (WHERE priced AND cost_used IS NOT NULL) AS costed_proposed_revenue,
    count(*) FILTER (WHERE NOT priced) AS unpriced_waybills,
    sum(weight_kg) FILTER (WHERE NOT priced) AS unpriced_weight_kg,
    sum(current_revenue) FILTER (WHERE NOT priced) AS unpriced_revenue
"""
_SUM_NAMES = [line.rsplit(" AS ", 1)[1].strip(" ,") for line in _SUMS.strip().splitlines()]
_ROLL = ",\n".join(f"sum({n}) AS {n}" for n in _SUM_NAMES)


@dataclass(frozen=True, slots=True)
class WhatIf:
    """The what-if's figures. Each row (``totals`` and the rows of each breakdown) holds:

    - over the waybills the card prices: ``waybills``, ``weight_kg``, ``current_revenue``
      (the lake's freight + surcharges) and ``current_freight`` (the lake's freight alone),
      ``proposed_revenue`` and its parts ``freight``,
      ``fuel``, ``peak``, ``remote``, ``cod``, ``insurance``;
    - ``cost`` and the margins over the priced waybills with a known cost
      (``costed_waybills``; the rest are ``cost_unknown_waybills``):
      ``current_margin`` = current revenue − cost, ``proposed_margin`` likewise, and their
      percentages of the revenue of the same waybills;
    - ``revenue_difference`` and ``margin_difference`` (proposed − current);
    - the waybills the card cannot price (``unpriced_waybills``, their weight and current
      revenue), outside every figure above.

    The volume change ``v`` % (``volume_change``) scales the proposed side only: the
    account is assumed to ship (1 + v/100) times as many waybills of the same mix, so
    ``proposed_waybills``, ``proposed_weight_kg``, ``proposed_revenue`` (and its parts),
    ``proposed_cost`` and ``proposed_margin`` are the repriced sums times (1 + v/100); money
    is then rounded to the fen (half up), counts and weight are left exact. Percentages are
    not changed by the scaling. With v = 0 the proposed side is the plain repriced sums.
    """

    volume_change: Decimal
    totals: dict[str, Any]
    by_month: list[dict[str, Any]]
    by_product: list[dict[str, Any]]
    by_zone: list[dict[str, Any]]
    by_lane: list[dict[str, Any]]
    unpriced: list[dict[str, Any]] = field(default_factory=list)


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    return money(part * HUNDRED / whole) if whole else None


def _finish(row: dict[str, Any], scale: Decimal) -> dict[str, Any]:
    """Nulls to zero, the volume change, margins and differences of one aggregated row."""
    out = dict(row)
    for name in _SUM_NAMES:
        value = out.get(name)
        out[name] = Decimal(value) if value is not None else ZERO
    for name in ("waybills", "costed_waybills", "unpriced_waybills"):
        out[name] = int(out[name])
    out["cost_unknown_waybills"] = out["waybills"] - out["costed_waybills"]
    cost = out["cost"]
    current_margin = out["costed_current_revenue"] - cost
    proposed_margin_unscaled = out["costed_proposed_revenue"] - cost
    out["current_margin"] = current_margin
    out["current_margin_pct"] = _percent(current_margin, out["costed_current_revenue"])
    out["proposed_margin_pct"] = _percent(proposed_margin_unscaled, out["costed_proposed_revenue"])
    out["proposed_waybills"] = out["waybills"] * scale
    out["proposed_weight_kg"] = out["weight_kg"] * scale
    for name in ("freight", "fuel", "peak", "remote", "cod", "insurance", "proposed_revenue"):
        out[name] = money(out[name] * scale)
    out["proposed_cost"] = money(cost * scale)
    out["proposed_margin"] = money(proposed_margin_unscaled * scale)
    out["revenue_difference"] = out["proposed_revenue"] - out["current_revenue"]
    out["margin_difference"] = out["proposed_margin"] - current_margin
    return out


def what_if(
    con: duckdb.DuckDBPyConnection,
    card: Card,
    source: str = "waybills",
    cost_rates: Mapping[tuple[str, str], CostRate] | None = None,
    volume_change: Decimal = ZERO,
    top_lanes: int = 20,
) -> WhatIf:
    """Reprice every waybill of ``source`` under ``card`` and compare with today's revenue,
    in total and by month, product, zone and lane (the ``top_lanes`` lanes by current
    revenue, then one ``others`` row). See :class:`WhatIf` for the figures."""
    scale = (HUNDRED + volume_change) / HUNDRED
    if scale < 0:
        raise RepriceError(f"a volume change of {volume_change} % leaves fewer than no waybills")
    load_card(con, card, cost_rates, *_date_range(con, source))
    # One pass over the waybills into lane-month cells, then every breakdown from the cells.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _reprice_cells AS
            SELECT date_trunc('month', ship_date) AS month, product, zone, origin, destination,
                   {_SUMS}
            FROM ({priced_sql(card, source)})
            GROUP BY ALL"""  # noqa: S608 - SQL of this module
    )

    def rows(sql: str) -> list[dict[str, Any]]:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [_finish(dict(zip(names, r, strict=True)), scale) for r in cur.fetchall()]

    def by(keys: str, order: str) -> list[dict[str, Any]]:
        return rows(
            f"SELECT {keys}, {_ROLL} FROM _reprice_cells GROUP BY {keys} "  # noqa: S608 - SQL of this module
            f"HAVING sum(waybills) > 0 ORDER BY {order}"
        )

    totals = rows(f"SELECT {_ROLL} FROM _reprice_cells")[0]  # noqa: S608
    by_month = by("month", "month")
    for r in by_month:
        r["month"] = r["month"].strftime("%Y-%m")
    by_product = by("product", "product")
    by_zone = by("zone", "zone")
    by_lane = rows(
        f"""WITH lanes AS (
                SELECT origin, destination, {_ROLL} FROM _reprice_cells
                GROUP BY origin, destination HAVING sum(waybills) > 0),
            ranked AS (
                SELECT *, row_number() OVER (
                    ORDER BY current_revenue DESC, origin, destination) AS _rank FROM lanes)
            SELECT CASE WHEN _rank <= {int(top_lanes)} THEN origin ELSE '{OTHERS}' END AS origin,
                   CASE WHEN _rank <= {int(top_lanes)} THEN destination ELSE '{OTHERS}' END
                       AS destination,
                   min(_rank) AS _first, {_ROLL}
            FROM ranked GROUP BY ALL ORDER BY _first"""  # noqa: S608 - SQL of this module
    )
    for r in by_lane:
        del r["_first"]
    unpriced = con.execute(
        """SELECT product, zone,
                  CASE WHEN zone IS NULL THEN left(origin, 2) || '0000' END AS origin_province,
                  CASE WHEN zone IS NULL THEN left(destination, 2) || '0000' END
                      AS destination_province,
                  sum(unpriced_waybills) AS waybills, sum(unpriced_weight_kg) AS weight_kg,
                  sum(unpriced_revenue) AS current_revenue
           FROM _reprice_cells WHERE unpriced_waybills > 0
           GROUP BY ALL
           ORDER BY waybills DESC, product, zone NULLS FIRST, origin_province,
                    destination_province"""
    )
    names = [d[0] for d in unpriced.description]
    unpriced_rows = [dict(zip(names, r, strict=True)) for r in unpriced.fetchall()]
    for r in unpriced_rows:
        r["waybills"] = int(r["waybills"])
        r["reason"] = (
            "no_zone"
            if r["zone"] is None
            else "no_rule"
            if (r["product"], r["zone"]) not in card.rules
            else "no_weight_band"
        )
        if r["zone"] is not None:
            del r["origin_province"], r["destination_province"]
    return WhatIf(volume_change, totals, by_month, by_product, by_zone, by_lane, unpriced_rows)


__all__ = [
    "OTHERS",
    "RepriceError",
    "WhatIf",
    "card_segments",
    "load_card",
    "priced_sql",
    "reprice_waybills",
    "what_if",
]
