"""Demo waybills: two years of shipments for the demo archive, loaded through the real import.

``kam demo`` builds the archive (:mod:`kam.accounts.demo`) and then calls
:func:`waybills_build`, which

1. *plans* every billing code's business in Python, from one seeded ``random.Random``
   (:func:`plan`, no Django): the archive's codes, whose volume follows the account's
   logistics spend and tier, and about one smaller code per company that the archive does
   not know (unlinked codes, a few of them as big as a key account); a trajectory per
   account (steady, growing, declining, churned, new; lost accounts churn); a product
   mix, parcel weight, price level, cost ratio, COD and return habits; and the number of
   waybills of each code in each month;
2. *draws* the waybills with DuckDB, every random value a hash of the row number and the
   seed, so the rows do not depend on the number of threads; one Parquet file per
   calendar quarter, with the contract's column names (:mod:`kam.ledger.contract`);
3. *imports* each file with :func:`kam.ledger.services.import_run`, one batch per
   quarter, so that the lake, the facts and the import history are exactly what an import
   of a carrier's export produces.

Revenue is concentrated as at real carriers (the top fifth of the codes bring roughly
four fifths of the revenue). Seasonality is per day and stronger for consumer shippers
(e-commerce) than for business ones: the 11.11 and 12.12 peaks, 618, the New Year goods
rush before the Spring Festival and its trough (the real dates, :data:`SPRING_FESTIVAL`),
the National Day week, quieter weekends.

On purpose the middle batch holds 20 bad rows, 12 with the product "次晨达" (not in the
contract) and 8 refund lines with a negative freight, so that the import history shows a
reject report. Everything else is accepted.

Deterministic for a given seed, archive and ``as_of``; the one exception is that days
after today are not drawn (the import refuses future ship times). Idempotent: a quarter
already committed as a demo batch is not loaded again.
"""

import bisect
import datetime
import math
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from kam.accounts.demo_data import CITY_WEIGHTS, PROVINCE_WEIGHTS
from kam.accounts.models import Account, BillingCode
from kam.core import regions

from . import lake, services
from .models import AccountMonth, AccountMonthLane, AccountMonthProduct, ImportBatch, LakeFile

Progress = Callable[[str, int, int], None]

#: Waybills per archive company when ``kam demo`` is not told a number (3000 -> 1.05 million):
#: what the import checks in well under a minute on two cores.
WAYBILLS_PER_COMPANY = 350
#: Billing codes outside the archive, per archive company.
UNLINKED_PER_COMPANY = 1.0
MONTHS = 24
BAD_PRODUCT_ROWS = 12
BAD_FREIGHT_ROWS = 8
BAD_PRODUCT = "次晨达"  # a real carrier product name the contract does not know

#: Chinese New Year's Day (正月初一), the real dates.
SPRING_FESTIVAL = {
    2020: datetime.date(2020, 1, 25),
    2021: datetime.date(2021, 2, 12),
    2022: datetime.date(2022, 2, 1),
    2023: datetime.date(2023, 1, 22),
    2024: datetime.date(2024, 2, 10),
    2025: datetime.date(2025, 1, 29),
    2026: datetime.date(2026, 2, 17),
    2027: datetime.date(2027, 2, 6),
    2028: datetime.date(2028, 1, 26),
    2029: datetime.date(2029, 2, 13),
    2030: datetime.date(2030, 2, 3),
}

# Products as the carriers' exports spell them: (label, first kg, each further kg, days promised).
PRODUCTS = (
    ("特快", 20.0, 12.0, 1),
    ("标快", 11.0, 5.0, 2),
    ("陆运", 9.0, 2.2, 3),
    ("冷运", 28.0, 9.0, 2),
    ("国际", 95.0, 38.0, 0),  # no promised time
)
# Share of express, standard, ground, cold chain, international by kind of shipper.
_MIX_CONSUMER = (0.08, 0.58, 0.32, 0.01, 0.01)
_MIX_BUSINESS = (0.30, 0.40, 0.27, 0.01, 0.02)
_MIX = {
    "fresh_food": (0.15, 0.15, 0.10, 0.59, 0.01),
    "pharma": (0.35, 0.30, 0.10, 0.24, 0.01),
    "trade_forwarding": (0.35, 0.25, 0.20, 0.0, 0.20),
    "government": (0.70, 0.25, 0.05, 0.0, 0.0),
    "auto_parts": (0.15, 0.30, 0.54, 0.0, 0.01),
    "electromechanical": (0.15, 0.30, 0.54, 0.0, 0.01),
}
# How likely an industry's codes ship to consumers (e-commerce style) rather than businesses.
_CONSUMER_ODDS = {"ecommerce": 0.95, "fresh_food": 0.8, "apparel": 0.7, "it_electronics": 0.35,
                  "pharma": 0.15, "government": 0.0}  # fmt: skip
_PIECE_KG = {"government": 0.3, "it_electronics": 2.0, "pharma": 3.0, "apparel": 2.5,
             "auto_parts": 12.0, "electromechanical": 10.0, "fresh_food": 4.0}  # fmt: skip
_DECLARED = {"it_electronics": 0.4, "pharma": 0.2, "ecommerce": 0.1}
_GOODS = {
    "apparel": ("服装", "鞋帽", "纺织品"),
    "it_electronics": ("电子产品", "数码配件", "电子元器件"),
    "trade_forwarding": ("样品", "文件", "日用品"),
    "electromechanical": ("机械配件", "五金工具", "电机"),
    "ecommerce": ("日用品", "服装", "食品", "化妆品", "数码配件", "母婴用品"),
    "pharma": ("药品", "医疗器械"),
    "auto_parts": ("汽车配件", "轮胎", "五金工具"),
    "fresh_food": ("生鲜水果", "海鲜", "冷冻食品"),
    "government": ("文件", "证件", "档案"),
}
_GOODS_CONSUMER = ("日用品", "服装", "食品", "化妆品")
_GOODS_BUSINESS = ("文件", "样品", "配件", "办公用品")
# Contract price level (share of the list price) by tier; None: a small unlinked code.
_DISCOUNT = {1: (0.55, 0.75), 2: (0.62, 0.82), 3: (0.72, 0.9), 4: (0.82, 1.0), 5: (0.88, 1.05),
             None: (0.9, 1.1)}  # fmt: skip
# The carrier's share of the account's logistics spend, by tier.
_WALLET = {1: 0.5, 2: 0.4, 3: 0.3, 4: 0.2, 5: 0.15, None: 0.12}
# Warehouses of shippers who also ship from a hub.
_HUBS = ("440300", "440100", "330100", "310100", "320500", "420100", "510100", "110100",
         "120100", "500100")  # fmt: skip
_REMOTE_PROVINCES = ["54", "65", "63", "15", "64", "62", "46"]
# Spread of spend between accounts of the same size, and the size of unlinked codes (against
# the median archive code): together they set how concentrated revenue is.
SPEND_SIGMA = 0.35
SPEND_POWER = 0.7
UNLINKED_MEDIAN = 0.15
UNLINKED_SIGMA = 1.0
_TRAJECTORIES = ("steady", "growing", "declining", "churned", "new")
_TRAJECTORY_ODDS_ARCHIVE = (62, 15, 12, 3, 8)
_TRAJECTORY_ODDS_UNLINKED = (45, 12, 13, 15, 15)


# --- the plan (pure Python) ----------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveAccount:
    """What the plan needs of an archive account."""

    tier: int | None
    lost: bool
    industry: str
    city_code: str
    logistics_spend: float
    codes: tuple[str, ...]


@dataclass
class CodePlan:
    code: str
    linked: bool
    tier: int | None
    consumer: bool
    home: str  # GB/T 2260 city code the code ships from
    alt: str  # a second origin (a branch or a hub warehouse)
    mix: tuple[float, ...]  # cumulative shares of the products
    piece_kg: float
    piece_mean: float
    discount: float
    cost_ratio: float
    cod_share: float
    declared_share: float
    return_rate: float
    consumer_share: float
    lane_focus: float
    late_share: float
    favourites: list[str]
    goods: list[str]
    trajectory: str
    spend: float  # relative yearly revenue
    trend: list[float] = field(default_factory=list)  # relative volume per month

    def price(self) -> float:
        """A rough average freight per waybill, to turn spend into a number of waybills."""
        shares = [b - a for a, b in zip((0.0, *self.mix), (*self.mix, 1.0), strict=True)]
        kg = self.piece_kg * (1 + self.piece_mean)
        lists = [first + each * max(kg - 1, 0) for _, first, each, _ in PRODUCTS]
        return sum(s * p for s, p in zip(shares, lists, strict=True)) * self.discount


@dataclass
class WaybillPlan:
    months: list[datetime.date]  # first days
    codes: list[CodePlan]
    counts: list[list[int]]  # waybills per month (outer) and code (inner)
    day_picks: dict[tuple[int, bool], list[int]]  # (month, consumer) -> 1000 day offsets
    destinations: list[str]  # 1000 city codes, big cities more often
    busy_days: list[datetime.date]  # peak days, when more deliveries are late
    batches: list[tuple[str, list[int]]]  # (label, month indexes)
    bad_batch: str


def month_starts(as_of: datetime.date, count: int = MONTHS) -> list[datetime.date]:
    """The first days of the ``count`` months that end with ``as_of``'s month."""
    index = as_of.year * 12 + as_of.month - 1 - (count - 1)
    return [datetime.date((index + i) // 12, (index + i) % 12 + 1, 1) for i in range(count)]


def _month_days(start: datetime.date) -> int:
    following = datetime.date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return (following - start).days


def day_weight(day: datetime.date, consumer: bool) -> float:
    """Relative volume of a day: weekends, shopping festivals and public holidays."""
    k = 1.0 if consumer else 0.25  # how much a shopping festival moves this kind of shipper
    w = (
        1.0
        - (0.1 if consumer else 0.3) * (day.weekday() == 6)
        - (0.05 if consumer else 0.15) * (day.weekday() == 5)
    )
    m, d = day.month, day.day
    if m == 11:  # 11.11: pre-sales, the week after the day itself, the long tail
        w += k * (0.25 if d < 11 else 1.6 if d <= 13 else 1.1 if d <= 17 else 0.3)
    elif m == 12:  # 12.12, and business stock-up at the year end
        w += k * (0.8 if 12 <= d <= 15 else 0.1) + (0.0 if consumer else 0.1)
    elif m == 6:  # 618
        w += k * (0.6 if 18 <= d <= 20 else 0.15 if d < 18 else 0.0)
    elif m == 10 and d <= 7:  # National Day golden week
        w *= 0.85 if consumer else 0.5
    elif m == 5 and d <= 5:  # Labour Day
        w *= 0.9 if consumer else 0.75
    festival = SPRING_FESTIVAL.get(day.year + (1 if m >= 11 else 0))
    if festival:
        o = (day - festival).days
        floor = 0.3 if consumer else 0.15  # some carriers keep working (春节不打烊)
        if -30 <= o < -10:  # New Year goods rush (年货节)
            w *= 1.15 if consumer else 1.1
        elif -10 <= o < -4:
            w *= 1 - (1 - floor) * (o + 10) / 6
        elif -4 <= o <= 7:
            w *= floor
        elif 7 < o <= 18:
            w *= floor + (1 - floor) * (o - 7) / 11
    return max(w, 0.0)


def _quantiles(items: Sequence[Any], weights: Sequence[float], n: int = 1000) -> list[Any]:
    """``n`` items spread as ``weights`` say (no randomness): a lookup table for the SQL."""
    cumulative = list(accumulate(weights))
    total = cumulative[-1]
    return [
        items[min(bisect.bisect_right(cumulative, (i + 0.5) / n * total), len(items) - 1)]
        for i in range(n)
    ]


def city_table() -> tuple[list[str], list[float]]:
    """Cities (GB/T 2260) and how much freight goes to each: by province and big city."""
    codes: list[str] = []
    weights: list[float] = []
    for province in regions.provinces():
        usable = [
            c
            for c in regions.cities(province.code)
            if c.name_zh.endswith("市") and "（" not in c.name_zh and "直辖" not in c.name_zh
        ]
        raw = [CITY_WEIGHTS.get(c.code, 3.0 if i == 0 else 1.0) for i, c in enumerate(usable)]
        share = PROVINCE_WEIGHTS.get(province.code[:2], 0.1) / (sum(raw) or 1)
        codes += [c.code for c in usable]
        weights += [w * share for w in raw]
    return codes, weights


def _trend(rng: random.Random, trajectory: str, lost: bool, n: int) -> list[float]:
    def steady(g: float, t: float) -> float:
        return math.exp(g * t / 12)

    if trajectory == "growing":
        g = rng.uniform(0.2, 0.6)
        return [steady(g, t) for t in range(n)]
    if trajectory == "declining":
        g = rng.uniform(-0.9, -0.3)
        return [steady(g, t) for t in range(n)]
    if trajectory == "churned":
        end = rng.randint(n - 16, n - 4) if lost else rng.randint(6, n - 2)
        g = rng.gauss(0.0, 0.08)
        fade = {end - 3: 0.75, end - 2: 0.5, end - 1: 0.25}
        return [0.0 if t >= end else steady(g, t) * fade.get(t, 1.0) for t in range(n)]
    if trajectory == "new":
        start = rng.randint(3, n - 3)
        g = rng.uniform(0.0, 0.3)
        ramp = {start: 0.25, start + 1: 0.5, start + 2: 0.75}
        return [0.0 if t < start else steady(g, t - start) * ramp.get(t, 1.0) for t in range(n)]
    g = rng.gauss(0.04, 0.08)
    return [steady(g, t) for t in range(n)]


def _code_plan(
    rng: random.Random,
    *,
    code: str,
    linked: bool,
    tier: int | None,
    industry: str,
    consumer: bool,
    home: str,
    cities: tuple[list[str], list[float]],
    trajectory: str,
    spend: float,
) -> CodePlan:
    mix = _MIX.get(industry, _MIX_CONSUMER if consumer else _MIX_BUSINESS)
    mix = tuple(s * rng.uniform(0.6, 1.4) for s in mix)
    cumulative = [c / sum(mix) for c in accumulate(mix)][:-1]
    if consumer:
        piece_kg = rng.lognormvariate(0.0, 0.4)
        alt = rng.choice(_HUBS)
    else:
        piece_kg = _PIECE_KG.get(industry, 3.0) * rng.lognormvariate(0.0, 0.4)
        alt = rng.choice(_HUBS) if rng.random() < 0.3 else rng.choices(*cities)[0]
    low, high = _DISCOUNT[tier]
    discount = rng.uniform(low, high) * (0.55 if consumer else 1.0)
    loss_making = rng.random() < (0.15 if tier in (1, 2) else 0.04)
    goods = _GOODS.get(industry, _GOODS_CONSUMER if consumer else _GOODS_BUSINESS)
    return CodePlan(
        code=code,
        linked=linked,
        tier=tier,
        consumer=consumer,
        home=home,
        alt=alt,
        mix=tuple(cumulative),
        piece_kg=round(piece_kg, 3),
        piece_mean=2.0 if industry in ("auto_parts", "electromechanical") else 0.8,
        discount=discount,
        cost_ratio=rng.uniform(0.95, 1.12) if loss_making else rng.uniform(0.62, 0.88),
        cod_share=rng.uniform(0.2, 0.7) if consumer and rng.random() < 0.3 else 0.0,
        declared_share=_DECLARED.get(industry, 0.05),
        return_rate=rng.uniform(0.03, 0.08) if consumer else rng.uniform(0.002, 0.01),
        consumer_share=0.92 if consumer else 0.3 if industry == "government" else 0.08,
        lane_focus=rng.uniform(0.05, 0.15) if consumer else rng.uniform(0.4, 0.75),
        late_share=rng.uniform(0.02, 0.07),
        favourites=rng.choices(cities[0], cities[1], k=rng.randint(3, 6)),
        goods=list(rng.sample(goods, min(len(goods), rng.randint(1, 3)))),
        trajectory=trajectory,
        spend=spend,
    )


def _new_code(rng: random.Random, taken: set[str]) -> str:
    while True:
        code = "YJ" + "".join(rng.choice("0123456789") for _ in range(10))
        if code not in taken:
            taken.add(code)
            return code


def plan(
    accounts: Sequence[ArchiveAccount],
    *,
    seed: int,
    as_of: datetime.date,
    waybills: int,
    unlinked: int,
    last_day: datetime.date | None = None,
) -> WaybillPlan:
    """Who ships how much when: every code's habits and its waybills per month.

    ``accounts`` in a stable order; ``waybills`` the approximate total; ``last_day`` the
    last day drawn (``as_of`` unless that is in the future).
    """
    rng = random.Random(f"kam-demo-waybills-{seed}")  # noqa: S311 - seeded demo data
    months = month_starts(as_of)
    last_day = min(as_of, last_day or as_of)
    cities = city_table()
    taken = {c for a in accounts for c in a.codes}
    codes: list[CodePlan] = []
    for a in accounts:
        consumer = rng.random() < _CONSUMER_ODDS.get(a.industry, 0.05)
        if a.lost:
            trajectory = "churned"
        else:
            trajectory = rng.choices(_TRAJECTORIES, _TRAJECTORY_ODDS_ARCHIVE)[0]
        spend = (max(a.logistics_spend, 3e5) * _WALLET.get(a.tier, 0.12)) ** SPEND_POWER
        spend *= rng.lognormvariate(0.0, SPEND_SIGMA)
        shares = sorted((rng.uniform(0.3, 1.0) for _ in a.codes), reverse=True)
        shares[0] *= 2
        trend = _trend(rng, trajectory, a.lost, len(months))
        for i, (code, share) in enumerate(zip(a.codes, shares, strict=True)):
            home = a.city_code if i == 0 or rng.random() < 0.5 else rng.choices(*cities)[0]
            p = _code_plan(
                rng, code=code, linked=True, tier=a.tier, industry=a.industry, consumer=consumer,
                home=home or rng.choices(*cities)[0], cities=cities, trajectory=trajectory,
                spend=spend * share / sum(shares),
            )  # fmt: skip
            p.trend = trend
            codes.append(p)
    median = sorted(c.spend for c in codes)[len(codes) // 2] if codes else 1e6
    for _ in range(unlinked):
        consumer = rng.random() < 0.5
        gem = rng.random() < 0.015  # a big shipper the key-account department has missed
        if gem:
            spend = median * rng.lognormvariate(math.log(2.0), 0.6)
        else:
            spend = median * rng.lognormvariate(math.log(UNLINKED_MEDIAN), UNLINKED_SIGMA)
        trajectory = rng.choices(_TRAJECTORIES, _TRAJECTORY_ODDS_UNLINKED)[0]
        p = _code_plan(
            rng, code=_new_code(rng, taken), linked=False, tier=None,
            industry="ecommerce" if consumer else "other", consumer=consumer,
            home=rng.choices(*cities)[0], cities=cities, trajectory=trajectory, spend=spend,
        )  # fmt: skip
        p.trend = _trend(rng, trajectory, False, len(months))
        codes.append(p)

    day_picks: dict[tuple[int, bool], list[int]] = {}
    season: dict[tuple[int, bool], float] = {}
    for mi, start in enumerate(months):
        days = [start + datetime.timedelta(days=d) for d in range(_month_days(start))]
        for consumer in (False, True):
            weights = [day_weight(d, consumer) if d <= last_day else 0.0 for d in days]
            season[mi, consumer] = sum(weights)
            if sum(weights) > 0:
                day_picks[mi, consumer] = _quantiles(range(len(days)), weights)
            else:
                day_picks[mi, consumer] = [0] * 1000
    # Expected waybills: spend over price, times trend, season and a little monthly noise.
    rates = [c.spend / c.price() for c in codes]
    raw = [
        [
            rate * c.trend[mi] * season[mi, c.consumer] * rng.lognormvariate(0, 0.12)
            for rate, c in zip(rates, codes, strict=True)
        ]
        for mi in range(len(months))
    ]
    scale = waybills / (sum(map(sum, raw)) or 1)
    per_month = [[int(x * scale + rng.random()) for x in row] for row in raw]

    busy = [m.replace(day=d) for m in months if m.month == 11 for d in range(11, 19)]
    for year in sorted({m.year for m in months}):
        if festival := SPRING_FESTIVAL.get(year):
            busy += [festival + datetime.timedelta(days=o) for o in range(-7, 8)]
    batches: dict[str, list[int]] = {}
    for mi, start in enumerate(months):
        batches.setdefault(f"{start.year}Q{(start.month - 1) // 3 + 1}", []).append(mi)
    labels = list(batches)
    return WaybillPlan(
        months=months,
        codes=codes,
        counts=per_month,
        day_picks=day_picks,
        destinations=_quantiles(*cities),
        busy_days=busy,
        batches=list(batches.items()),
        bad_batch=labels[len(labels) // 2],
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
             ELSE least(60, 1 + CAST(floor(-ln(1 - uni(rid, 8)) * piece_mean) AS INTEGER)) END AS pieces,
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
        least(9999, greatest(0.5, ceil(pieces * piece_kg * exp(0.7 * gauss(rid, 10) - 0.245) * 2) / 2)) AS kg,
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
            + list_extract(getvariable('each_kg'), pi) * greatest(kg - 1, 0))
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
    list_extract(getvariable('statuses'), si) AS status,
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


_PLAN_NUMBERS = ("piece_kg", "piece_mean", "discount", "cost_ratio", "cod_share", "declared_share",
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
            "first_kg": [first for _, first, _, _ in PRODUCTS],
            "each_kg": [each for _, _, each, _ in PRODUCTS],
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


# --- the service ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WaybillResult:
    loaded: bool
    message: str
    counts: dict[str, int]
    seconds: float


def _no_progress(stage: str, done: int, total: int) -> None:
    pass


def default_waybills(companies: int) -> int:
    return companies * WAYBILLS_PER_COMPANY


def archive_accounts() -> list[ArchiveAccount]:
    """The archive's accounts that have billing codes, in a stable order (by first code)."""
    codes: dict[int, list[str]] = {}
    for account_id, code in BillingCode.objects.order_by("code").values_list("account_id", "code"):
        codes.setdefault(account_id, []).append(code)
    accounts = []
    for pk, tier, status, industry, city, spend in Account.objects.filter(
        pk__in=list(codes)
    ).values_list(
        "pk", "tier", "status", "industry__code", "city_code", "logistics_spend_estimate"
    ):
        accounts.append(
            ArchiveAccount(
                tier=tier,
                lost=status == "lost",
                industry=industry or "other",
                city_code=city if city and regions.get(city) else "",
                logistics_spend=float(spend or 0),
                codes=tuple(codes[pk]),
            )
        )
    return sorted(accounts, key=lambda a: a.codes[0])


def counts() -> dict[str, int]:
    """What the lake holds from the demo (and how many codes the facts know)."""
    demo = ImportBatch.objects.filter(
        source=ImportBatch.Source.DEMO, status=ImportBatch.Status.COMMITTED
    ).aggregate(
        batches=Count("pk"),
        read=Sum("rows_read"),
        accepted=Sum("accepted"),
        rejected=Sum("rejected"),
    )
    codes = set(AccountMonth.objects.values_list("billing_code", flat=True).distinct())
    linked = set(BillingCode.objects.filter(code__in=codes).values_list("code", flat=True))
    return {
        **{k: int(v or 0) for k, v in demo.items()},
        "codes": len(codes),
        "unlinked_codes": len(codes - linked),
    }


def _file_name(label: str) -> str:
    return f"demo-waybills-{label}.parquet"


def waybills_build(
    *,
    seed: int,
    as_of: datetime.date,
    waybills: int,
    unlinked: int,
    progress: Progress = _no_progress,
) -> WaybillResult:
    """Generate the demo waybills and import them, a batch per quarter (see the module).

    Quarters already committed as demo batches are skipped, so a second run loads nothing
    and an interrupted run is completed. Needs the archive's billing codes.
    """
    started = time.monotonic()
    months = month_starts(as_of)
    labels = {_file_name(f"{m.year}Q{(m.month - 1) // 3 + 1}") for m in months}
    done = set(
        ImportBatch.objects.filter(
            source=ImportBatch.Source.DEMO, status=ImportBatch.Status.COMMITTED
        ).values_list("file_name", flat=True)
    )
    if done and (labels <= done or not done <= labels):
        return WaybillResult(
            False,
            "Demo waybills are already loaded; nothing changed.",
            counts(),
            time.monotonic() - started,
        )
    accounts = archive_accounts()
    if not accounts:
        return WaybillResult(
            False,
            "The archive has no billing codes; no demo waybills were made.",
            counts(),
            time.monotonic() - started,
        )
    now = timezone.localtime(timezone.now(), datetime.timezone(datetime.timedelta(hours=8)))
    now_local = now.replace(tzinfo=None)
    progress("waybills: planning", 0, 1)
    p = plan(
        accounts,
        seed=seed,
        as_of=as_of,
        waybills=waybills,
        unlinked=unlinked,
        last_day=now_local.date(),
    )
    progress("waybills: planning", 1, 1)
    as_of_end = datetime.datetime.combine(as_of + datetime.timedelta(days=1), datetime.time())
    folder = Path(settings.FILE_UPLOAD_TEMP_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="demo-waybills-", dir=folder))
    writer = RowWriter(
        p,
        seed=seed,
        delivered_cap=min(as_of_end, now_local),
        promised_cap=now_local + datetime.timedelta(hours=23),
    )
    try:
        for index, (label, _) in enumerate(p.batches):
            name = _file_name(label)
            if name in done:
                continue
            stage = f"waybills {label}"
            progress(f"{stage}: generating", index, len(p.batches))
            path = work / name
            writer.write(index, path)
            batch = services.import_create(
                by=None, source=ImportBatch.Source.DEMO, file_name=name, path=path
            )
            services.import_run(
                batch=batch,
                path=path,
                on_progress=lambda b, stage=stage: progress(
                    f"{stage}: {b.get_stage_display()}", b.progress_done, 100
                ),
            )
            path.unlink(missing_ok=True)
    finally:
        writer.close()
        shutil.rmtree(work, ignore_errors=True)
    result = counts()
    return WaybillResult(
        True,
        "Demo waybills loaded.",
        result,
        time.monotonic() - started,
    )


def ledger_wipe(progress: Progress = _no_progress) -> None:
    """Delete every import, the facts and the lake's files (``kam demo --reset``)."""
    with lake.write_lock():  # no import writes meanwhile
        steps: list[Callable[[], object]] = [
            AccountMonthLane.objects.all().delete,
            AccountMonthProduct.objects.all().delete,
            AccountMonth.objects.all().delete,
            LakeFile.objects.all().delete,
            ImportBatch.objects.all().delete,
        ]
        with transaction.atomic():
            for i, step in enumerate(steps, start=1):
                step()
                progress("wiping the ledger", i, len(steps) + 1)
        for child in lake.root().iterdir():
            if child.name != ".write.lock":
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
        progress("wiping the ledger", len(steps) + 1, len(steps) + 1)
