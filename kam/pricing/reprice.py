"""What-if: an account's real waybills repriced under a card, in DuckDB, exact to the fen.

Pure (no Django). The input is a DuckDB relation with the lake's columns (``ship_date``,
``origin``, ``destination``, ``product``, ``weight_kg`` DECIMAL(12,3) chargeable,
``freight``, ``surcharges``, ``cost`` (nullable), ``cod_amount``, ``declared_value``
DECIMAL(18,2)); the card is a :class:`kam.pricing.rating.Card`.

How the card becomes SQL (money never goes through DOUBLE: the arithmetic is on whole
numbers, BIGINT, in units the card's values are exact in; see the units below):

- ``_reprice_lanes``: every (origin, destination, product) of the waybills, from a first
  cheap GROUP BY pass, with its zone as :meth:`ZoneMatrix.zone` itself decides it (same
  city, same province, else the province-pair matrix; no zone for an unknown pair) and the
  position of its rule in ``card.rules`` (none for a product or zone without one).
- ``_reprice_segments``: per rule, the weight axis (whole grams) cut into segments
  ``[from_g, to_g)`` on which everything that depends on the weight is constant: the
  rule's shape and prices, the weight-break band and the discount. The segments are cut at
  every band edge and every discount edge (an edge in kilograms becomes the first whole
  gram at or above it, which is exact because lake weights are whole grams) and each
  segment's discount is :meth:`Card.discount` itself asked at the segment's first gram, so
  the most-specific-wins order is the reference's by construction. Weights no band holds
  are a segment marked unpriced. The cost rate of the (product, zone) and its remote fee
  ride along. ``_reprice_lane_segments`` joins the two, so that one join finds a
  waybill's zone, rule and segment.
- ``_reprice_days``: per day of the waybills' date range, the fuel fraction (the month's
  index through :meth:`FuelRule.percent`, computed in Python with ``Decimal``; a month
  without an index gets the base percentage, as the reference does) and the peak fraction
  (the sum of the peaks covering the day).

One SQL pass then joins each waybill to its lane segment and day and computes, as
:func:`kam.pricing.rating.price_waybill` does: additional steps counted up (integer
division rounded up), freight rounded once after the discount, each surcharge rounded on
its own, all half up (the amounts are non-negative: the card's values are checked so;
an off-season reduction, a negative peak, is rounded half away from zero as ``Decimal``'s
``ROUND_HALF_UP`` does).

A waybill the card cannot price (no zone for its province pair, no rule for its product
and zone, no weight band for its weight) is left out of the comparison and reported apart,
per (product, zone) or per province pair, with its current revenue. The lake holds no
waybill without a ship date, origin, destination or product (the import refuses them); a
relation that does would see those rows in no figure.

Limits the card must respect (checked; :class:`RepriceError` names the value): no negative
values, discounts between -100 % (a premium: at most double the list) and 100 %; prices, fees and per-kilogram rates with at most four
decimals and below 10^8 CNY; percentages with at most four decimals; fuel percentages
(after the index formula) with at most six; the remote-area fee in whole fen (the
reference adds it unrounded). A waybill's list freight must stay below about 450,000 CNY
(BIGINT in 1e-7 CNY times the share kept in 1e-6, at most 2 with a premium); beyond it
DuckDB stops with an overflow error, never a wrong amount.
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
    ZERO,
    Card,
    CostRate,
    FirstAdditional,
    RatingError,
    WeightBreaks,
    money,
)

# Segment bounds: below any weight and above any weight (DECIMAL(12,3) kg < 10^12 g).
_LOW = -(10**15)
_HIGH = 10**15
OTHERS = "others"

# The SQL computes in whole numbers of these units (BIGINT: exact, and several times faster
# than DuckDB's wide DECIMALs, which are 128-bit once wider than 18 digits):
#   weights in grams; card prices in 1e-4 CNY ("p4"); a list freight in 1e-7 CNY (grams ×
#   CNY/kg at 1e-4); the share kept after a discount, (100 − %) / 100, in 1e-6; the fuel
#   fraction in 1e-8; peak, COD and insurance fractions in 1e-6; every result in fen.
# Rounding half up of a non-negative x to a unit d: (x + d / 2) // d. The card's values are
# checked non-negative (and discounts within ±100 %), so every amount here is.
_PRICE_PLACES = 4
_PRICE_LIMIT = Decimal(10) ** 8  # CNY: a price, fee or per-kilogram rate
_PERCENT_LIMIT = Decimal(10) ** 4


class RepriceError(ValueError):
    """The card holds a value the SQL cannot carry exactly (the message names it)."""


# ---------------------------------------------------------------------------------------------
# The card as small tables


def _units(value: Decimal, places: int, what: str, limit: Decimal) -> int:
    """``value`` in units of 10^-``places``, refused unless whole, non-negative, below ``limit``."""
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise RepriceError(f"{what} ({value}) has more than {places} decimals")
    if value < 0:
        raise RepriceError(f"{what} ({value}) is negative")
    if value >= limit:
        raise RepriceError(f"{what} ({value}) is too large")
    return int(scaled)


def _signed_units(value: Decimal, places: int, what: str, limit: Decimal) -> int:
    """As :func:`_units`, for a value that may be negative (an off-season reduction)."""
    return -_units(-value, places, what, limit) if value < 0 else _units(value, places, what, limit)


def _p4(value: Decimal, what: str) -> int:
    return _units(value, _PRICE_PLACES, what, _PRICE_LIMIT)


def _grams_up(kg: Decimal) -> int:
    """The first whole gram at or above ``kg`` (negative weights included)."""
    thousandths = kg / GRAM
    whole = int(thousandths)  # towards zero
    return whole + (1 if thousandths > whole else 0)


@dataclass(frozen=True, slots=True)
class Segment:
    """Weights ``[from_g, to_g)`` of one (product, zone), all in the units above."""

    rule_id: int  # the rule's position in ``card.rules``
    band_no: int  # the segment's position among the card's weight cuts (:func:`weight_cuts`)
    from_g: int
    to_g: int
    priced: bool  # False: weights no band of the rule holds (the reference refuses them)
    fa: bool  # first / additional weight (else weight breaks)
    first_g: int
    first_p4: int
    step_g: int
    step_p4: int
    per_kg_p4: int
    min_p4: int
    keep6: int  # (100 - discount %) / 100 in 1e-6
    remote_fen: int
    cost_waybill_p4: int | None
    cost_kg_p4: int | None


def weight_cuts(card: Card) -> list[int]:
    """Every weight (whole grams) where some rule's band or some discount starts or ends,
    and 0: the same cuts for every rule, so that a waybill's segment number is a function of
    its weight alone (a few integer comparisons) and the join to its segment an equality."""
    edges = {0}
    for rule in card.rules.values():
        if isinstance(rule, WeightBreaks):
            for band in rule.bands:
                edges.add(_grams_up(band.from_kg))
                if band.to_kg is not None:
                    edges.add(_grams_up(band.to_kg))
    for d in card.discounts:
        edges.add(_grams_up(d.from_kg))
        if d.to_kg is not None:
            edges.add(_grams_up(d.to_kg))
    return sorted(e for e in edges if _LOW < e < _HIGH)


def card_segments(
    card: Card, cost_rates: Mapping[tuple[str, str], CostRate] | None = None
) -> list[Segment]:
    """The card's rules, bands and discounts as weight segments per rule, cut at
    :func:`weight_cuts`: segment ``band_no`` of every rule is ``[cuts[band_no - 1],
    cuts[band_no])`` (from below any weight, to above any weight)."""
    rates = cost_rates or {}
    s = card.surcharges
    remote_fen = _units(s.remote_fee, 2, "the remote-area fee", _PRICE_LIMIT)
    cuts = [_LOW, *weight_cuts(card), _HIGH]
    out: list[Segment] = []
    for rule_id, ((product, zone), rule) in enumerate(card.rules.items()):
        where = f"the rule for {product} in zone {zone}"
        rate = rates.get((product, zone))
        rate_what = f"the cost rate for {product} in zone {zone}"
        cost_waybill = _p4(rate.per_waybill, rate_what) if rate else None
        cost_kg = _p4(rate.per_kg, rate_what) if rate else None
        remote = remote_fen if zone in s.remote_zones else 0
        for band_no, (lo, hi) in enumerate(zip(cuts, cuts[1:], strict=False)):
            at = Decimal(lo) * GRAM
            off = card.discount(product, zone, at)
            what = f"the discount for {product} in zone {zone} at {at} kg"
            if not -HUNDRED <= off <= HUNDRED:
                raise RepriceError(f"{what} ({off}) is beyond ±100 %")
            # A negative discount is a premium (at most double the list).
            keep6 = _units(HUNDRED - off, 4, what, 2 * HUNDRED + 1)
            if isinstance(rule, FirstAdditional):
                first_g, step_g = _grams_up(rule.first_kg), _grams_up(rule.step_kg)
                if step_g <= 0:
                    raise RepriceError(f"{where}: the additional weight step must be above 0")
                prices = (
                    _p4(rule.first_price, f"{where}: the first-weight price"),
                    _p4(rule.step_price, f"{where}: the additional-weight price"), 0, 0,
                )  # fmt: skip
            else:
                held = next((b for b in rule.bands if b.holds(at)), None)
                first_g, step_g = 0, 1
                if held is None:
                    out.append(
                        Segment(
                            rule_id,
                            band_no,
                            lo,
                            hi,
                            False,
                            False,
                            0,
                            0,
                            1,
                            0,
                            0,
                            0,
                            0,
                            0,
                            None,
                            None,
                        )  # fmt: skip
                    )
                    continue
                prices = (
                    0, 0, _p4(held.per_kg, f"{where}: the per-kg rate from {held.from_kg} kg"),
                    _p4(rule.min_charge, f"{where}: the minimum charge"),
                )  # fmt: skip
            out.append(
                Segment(
                    rule_id,
                    band_no,
                    lo,
                    hi,
                    True,
                    isinstance(rule, FirstAdditional),
                    first_g,
                    prices[0],
                    step_g,
                    prices[1],
                    prices[2],
                    prices[3],
                    keep6,
                    remote,
                    cost_waybill,
                    cost_kg,
                )  # fmt: skip
            )
    return out


def _segments_table(segments: Sequence[Segment]) -> pa.Table:
    columns: dict[str, pa.Array] = {}
    for name in Segment.__slots__:
        values = [getattr(x, name) for x in segments]
        kind = pa.bool_() if name in ("fa", "priced") else pa.int64()
        columns[name] = pa.array(values, kind)
    return pa.table(columns)


def _days_table(card: Card, first: dt.date, last: dt.date) -> pa.Table:
    """Fuel (1e-8) and peak (1e-6) fractions per day from ``first`` to ``last``."""
    s = card.surcharges
    days: list[dt.date] = []
    fuel: list[int] = []
    peak: list[int] = []
    by_month: dict[str, int] = {}
    for p in s.peaks:
        _signed_units(p.percent, 4, f"the peak surcharge {p.start} to {p.end}", _PERCENT_LIMIT)
    day = first
    while day <= last:
        key = day.strftime("%Y-%m")
        if key not in by_month:
            pct = s.fuel.percent(s.fuel_index.get(key)) if s.fuel else ZERO
            by_month[key] = _units(pct, 6, f"the fuel surcharge of {key}", _PERCENT_LIMIT)
        days.append(day)
        fuel.append(by_month[key])
        peak.append(sum(_signed_units(p.percent, 4, "", _PERCENT_LIMIT)
                        for p in s.peaks if p.start <= day <= p.end))  # fmt: skip
        day += dt.timedelta(days=1)
    return pa.table(
        {
            "day": pa.array(days, pa.date32()),
            "month": pa.array([d.replace(day=1) for d in days], pa.date32()),
            "month_no": pa.array(
                [(d.year - first.year) * 12 + d.month - first.month for d in days], pa.int64()
            ),
            "fuel8": pa.array(fuel, pa.int64()),
            "peak6": pa.array(peak, pa.int64()),
        }
    )


def load_card(
    con: duckdb.DuckDBPyConnection,
    card: Card,
    source: str,
    cost_rates: Mapping[tuple[str, str], CostRate] | None = None,
) -> None:
    """Create the temp tables the one pass joins: ``_reprice_lanes`` (each origin,
    destination and product of ``source`` with its zone, as :meth:`ZoneMatrix.zone` gives
    it, and the position of its rule in ``card.rules``), ``_reprice_segments`` and
    ``_reprice_days`` (over the ship dates of ``source``).

    The lanes come from a first, cheap pass over ``source`` (a GROUP BY of three columns with
    a few hundred groups): joining each waybill to its lane on the codes as they are is
    several times faster than cutting the province out of every waybill's codes."""
    keys = con.execute(
        f"""SELECT origin, destination, product, min(ship_date), max(ship_date)
            FROM ({source}) GROUP BY ALL"""  # noqa: S608 - the caller's trusted text
    ).fetchall()
    rule_ids = {key: i for i, key in enumerate(card.rules)}
    origins, destinations, products, zones, ids = [], [], [], [], []
    for origin, destination, product, _, _ in keys:
        try:
            zone: str | None = card.zones.zone(origin, destination)
        except (RatingError, TypeError):  # no zone for the pair; a missing code
            zone = None
        origins.append(origin)
        destinations.append(destination)
        products.append(product)
        zones.append(zone)
        ids.append(rule_ids.get((product, zone)) if zone is not None else None)
    lanes = pa.table(
        {
            "origin": pa.array(origins, pa.string()),
            "destination": pa.array(destinations, pa.string()),
            "product": pa.array(products, pa.string()),
            "zone": pa.array(zones, pa.string()),
            "rule_id": pa.array(ids, pa.int64()),
            "lane_id": pa.array(range(len(keys)), pa.int64()),
        }
    )
    firsts = [k[3] for k in keys if k[3] is not None]
    lasts = [k[4] for k in keys if k[4] is not None]
    first_day = min(firsts, default=dt.date(2000, 1, 1))
    last_day = max(lasts, default=first_day)
    segments = _segments_table(card_segments(card, cost_rates))
    days = _days_table(card, first_day, last_day)
    for name, table in (("lanes", lanes), ("segments", segments), ("days", days)):
        con.register(f"_reprice_{name}_arrow", table)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _reprice_{name} AS FROM _reprice_{name}_arrow")
        con.unregister(f"_reprice_{name}_arrow")
    # Each lane with its rule's segments (a lane without a rule: unpriced segments), keyed
    # by one whole number, lane_id * bands + band_no: a waybill finds its lane by the hash
    # of its three codes (one 64-bit key instead of three strings; exact, because no two
    # lanes of the source share a hash: checked, else the strings are joined), then its
    # zone, rule and segment by that number.
    bands = len(weight_cuts(card)) + 1
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _reprice_lane_segments AS
            SELECT l.*, b.band_no, l.lane_id * {bands} + b.band_no AS segment_key,
                   s.* EXCLUDE (rule_id, band_no, priced),
                   coalesce(s.priced, false) AS priced,
                   1000 * s.first_p4 AS first7, 1000 * s.step_p4 AS step7,
                   1000 * s.min_p4 AS min7, 1000 * s.cost_waybill_p4 AS cost7
            FROM _reprice_lanes l CROSS JOIN range({bands}) b(band_no)
            LEFT JOIN _reprice_segments s ON s.rule_id = l.rule_id AND s.band_no = b.band_no"""  # noqa: S608
    )
    for salt in range(100):
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _reprice_lane_keys AS
                SELECT hash(origin, destination, product, {salt}) AS lane_hash, lane_id,
                       {salt} AS salt
                FROM _reprice_lanes"""  # noqa: S608 - a number
        )
        found = con.execute("SELECT count(DISTINCT lane_hash) FROM _reprice_lane_keys")
        if int(found.fetchall()[0][0]) == len(keys):
            break
    else:  # pragma: no cover - a hundred 64-bit hashes colliding among a few thousand lanes
        raise RepriceError("the lanes' hashes collide")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _reprice_salt AS SELECT max(salt) AS salt FROM _reprice_lane_keys"
    )


def band_sql(card: Card, grams: str) -> str:
    """The segment number of a weight of ``grams`` (an SQL expression): how many of the
    card's weight cuts it reaches."""
    return " + ".join(f"CAST({grams} >= {cut} AS INTEGER)" for cut in weight_cuts(card))


def _scalar_surcharges(card: Card) -> dict[str, int]:
    s = card.surcharges
    return {
        "cod6": _units(s.cod_percent, 4, "the COD percentage", _PERCENT_LIMIT),
        "cod_min8": 10**4 * _p4(s.cod_min, "the COD minimum"),
        "ins6": _units(s.insurance_percent, 4, "the insurance percentage", _PERCENT_LIMIT),
        "ins_min8": 10**4 * _p4(s.insurance_min, "the insurance minimum"),
    }


# ---------------------------------------------------------------------------------------------
# The one pass


def priced_fen_sql(card: Card, source: str) -> str:
    """The per-waybill SELECT (after :func:`load_card`): the source's columns plus ``zone``,
    ``priced`` and the new amounts as whole fen (BIGINT): ``freight_fen``, ``fuel_fen``,
    ``peak_fen``, ``remote_fen``, ``cod_fen``, ``insurance_fen``, ``total_fen``, and
    ``estimate_fen``, the cost rate's cost (NULL without a rate). The amounts mean
    something only where ``priced`` (elsewhere they are 0 or NULL)."""
    k = _scalar_surcharges(card)
    bands = len(weight_cuts(card)) + 1
    # Decimals to whole grams and fen: narrow types times a narrow constant keep the product
    # within 18 digits, i.e. 64-bit (a plain ``* 100`` widens to 128-bit arithmetic).
    # The source is the caller's trusted text; the card's values are checked whole numbers.
    return f"""
WITH r AS (
    SELECT src.*, l.zone, l.lane_id, coalesce(l.priced, false) AS priced, l.remote_fen,
        dd.fuel8, dd.peak6, dd.month_no AS _month_no,
        -- No CASE (several times slower here): a segment of one shape has the other
        -- shape's prices at 0, and a first / additional segment's steps are never below 0.
        ((l.first7 + greatest((src._g - l.first_g + l.step_g - 1) // l.step_g, 0) * l.step7
         + greatest(src._g * l.per_kg_p4, l.min7)) * l.keep6 + 50000000000)
        // 100000000000 AS freight_fen,
        (l.cost7 + src._g * l.cost_kg_p4 + 50000) // 100000 AS estimate_fen
    FROM (SELECT w.*, {band_sql(card, "_g")} AS _band, k.lane_id AS _lane
          FROM (SELECT *, CAST(CAST(weight_kg AS DECIMAL(12,3)) * CAST(1000 AS DECIMAL(4,0))
                AS BIGINT) AS _g FROM ({source})) w
          CROSS JOIN _reprice_salt salt
          LEFT JOIN _reprice_lane_keys k
            ON k.lane_hash = hash(w.origin, w.destination, w.product, salt.salt)) src
    LEFT JOIN _reprice_lane_segments l ON l.segment_key = src._lane * {bands} + src._band
    LEFT JOIN _reprice_days dd ON dd.day = src.ship_date
), m AS (
    SELECT r.* EXCLUDE (_g, _band, _lane, fuel8, peak6),
        (r.freight_fen * r.fuel8 + 50000000) // 100000000 AS fuel_fen,
        -- A season may reduce (peak6 < 0): round its size half up, as the reference
        -- rounds half away from zero (freight_fen is never negative).
        sign(r.peak6) * ((r.freight_fen * abs(r.peak6) + 500000) // 1000000) AS peak_fen,
        CASE WHEN r.cod_amount > 0 THEN (greatest(
            CAST(CAST(r.cod_amount AS DECIMAL(15,2)) * CAST(100 AS DECIMAL(3,0)) AS BIGINT) * {k["cod6"]}, {k["cod_min8"]}) + 500000) // 1000000
            ELSE 0 END AS cod_fen,
        CASE WHEN r.declared_value > 0 THEN (greatest(
            CAST(CAST(r.declared_value AS DECIMAL(15,2)) * CAST(100 AS DECIMAL(3,0)) AS BIGINT) * {k["ins6"]}, {k["ins_min8"]}) + 500000)
            // 1000000 ELSE 0 END AS insurance_fen
    FROM r
)
SELECT m.*,
    m.freight_fen + m.fuel_fen + m.peak_fen + m.remote_fen + m.cod_fen + m.insurance_fen
        AS total_fen
FROM m
"""  # noqa: S608


_FEN_COLUMNS = ("freight", "fuel", "peak", "remote", "cod", "insurance", "total", "estimate")


def priced_sql(card: Card, source: str) -> str:
    """:func:`priced_fen_sql` with the new amounts as DECIMAL(18,2) yuan named ``new_freight``,
    ``new_fuel``, ``new_peak``, ``new_remote``, ``new_cod``, ``new_insurance``,
    ``new_revenue`` (NULL where not priced), plus ``current_revenue`` (the lake's freight +
    surcharges) and ``cost_used`` (the lake's cost, else the cost rate's, else NULL)."""
    names = {"total": "new_revenue", "estimate": "_estimate"}

    def dec(name: str) -> str:
        return f"CAST(CAST({name}_fen AS DECIMAL(18,0)) * 0.01 AS DECIMAL(18,2))"

    news = ",\n    ".join(
        f"CASE WHEN priced THEN {dec(n)} END AS {names.get(n, 'new_' + n)}" for n in _FEN_COLUMNS
    )
    return f"""
SELECT * EXCLUDE (_estimate, lane_id, _month_no, {", ".join(n + "_fen" for n in _FEN_COLUMNS)}),
    CAST(freight + surcharges AS DECIMAL(18,2)) AS current_revenue,
    coalesce(cost, _estimate) AS cost_used
FROM (SELECT *, {news} FROM ({priced_fen_sql(card, source)}))
"""  # noqa: S608


def reprice_waybills(
    con: duckdb.DuckDBPyConnection,
    card: Card,
    source: str = "waybills",
    cost_rates: Mapping[tuple[str, str], CostRate] | None = None,
) -> pa.Table:
    """Every waybill of ``source`` (a table, view or SQL table expression: trusted text)
    with its new price, as Arrow: for samples and checks, not a year of waybills."""
    load_card(con, card, source, cost_rates)
    return con.sql(priced_sql(card, source)).to_arrow_table()


# ---------------------------------------------------------------------------------------------
# The what-if


# The cells: one row per lane, month and product, and whether the card prices the waybills
# and their cost is known (as keys, so the one pass over the waybills needs no FILTER).
_CELL_SUMS = """
    count(*) AS n,
    sum(weight_kg) AS weight,
    sum(freight) + sum(surcharges) AS revenue,
    sum(freight) AS freight_now,
    sum(freight_fen) AS freight_fen,
    sum(fuel_fen) AS fuel_fen,
    sum(peak_fen) AS peak_fen,
    sum(remote_fen) AS remote_fen,
    sum(cod_fen) AS cod_fen,
    sum(insurance_fen) AS insurance_fen,
    sum(cost) AS lake_cost,
    sum(CASE WHEN cost IS NULL THEN estimate_fen END) AS estimate_fen
"""
_PROPOSED = "freight_fen + fuel_fen + peak_fen + remote_fen + cod_fen + insurance_fen"
_SUMS = f"""
    sum(n) FILTER (WHERE priced) AS waybills,
    sum(weight) FILTER (WHERE priced) AS weight_kg,
    sum(revenue) FILTER (WHERE priced) AS current_revenue,
    sum(freight_now) FILTER (WHERE priced) AS current_freight,
    sum(freight_fen) FILTER (WHERE priced) AS freight_fen,
    sum(fuel_fen) FILTER (WHERE priced) AS fuel_fen,
    sum(peak_fen) FILTER (WHERE priced) AS peak_fen,
    sum(remote_fen) FILTER (WHERE priced) AS remote_fen,
    sum(cod_fen) FILTER (WHERE priced) AS cod_fen,
    sum(insurance_fen) FILTER (WHERE priced) AS insurance_fen,
    sum({_PROPOSED}) FILTER (WHERE priced) AS proposed_revenue_fen,
    sum(n) FILTER (WHERE priced AND costed) AS costed_waybills,
    sum(lake_cost) FILTER (WHERE priced AND costed) AS lake_cost,
    sum(estimate_fen) FILTER (WHERE priced AND costed) AS estimated_cost_fen,
    sum(revenue) FILTER (WHERE priced AND costed) AS costed_current_revenue,
    sum({_PROPOSED}) FILTER (WHERE priced AND costed) AS costed_proposed_revenue_fen,
    sum(n) FILTER (WHERE NOT priced) AS unpriced_waybills,
    sum(weight) FILTER (WHERE NOT priced) AS unpriced_weight_kg,
    sum(revenue) FILTER (WHERE NOT priced) AS unpriced_revenue
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
    out = {}
    for name, value in row.items():
        if name not in _SUM_NAMES:
            out[name] = value
        elif name.endswith("_fen"):
            out[name[:-4]] = Decimal(value or 0).scaleb(-2)
        else:
            out[name] = Decimal(value) if value is not None else ZERO
    out["cost"] = out.pop("lake_cost") + out.pop("estimated_cost")
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
    load_card(con, card, source, cost_rates)
    lanes = int(con.execute("SELECT count(*) FROM _reprice_lanes").fetchall()[0][0])
    # One pass over the waybills into cells (month, lane, priced, costed), packed into one
    # BIGINT key (a little cheaper to group on than four columns), then every
    # breakdown from the cells.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _reprice_raw AS
            SELECT ((_month_no * {lanes} + lane_id) * 2 + CAST(priced AS INTEGER)) * 2
                   + CAST(cost IS NOT NULL OR estimate_fen IS NOT NULL AS INTEGER) AS cell,
                   {_CELL_SUMS}
            FROM ({priced_fen_sql(card, source)})
            GROUP BY ALL"""  # noqa: S608 - SQL of this module
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _reprice_cells AS
            WITH unpacked AS (
                SELECT *, cell // {4 * lanes} AS month_no, cell // 4 % {lanes} AS lane_id,
                       cell // 2 % 2 = 1 AS priced, cell % 2 = 1 AS costed
                FROM _reprice_raw)
            SELECT d.month, l.product, l.zone, l.origin, l.destination, {_SUMS}
            FROM unpacked c JOIN _reprice_lanes l USING (lane_id)
            JOIN (SELECT DISTINCT month_no, month FROM _reprice_days) d USING (month_no)
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
    "Segment",
    "WhatIf",
    "card_segments",
    "load_card",
    "priced_fen_sql",
    "priced_sql",
    "reprice_waybills",
    "what_if",
]
