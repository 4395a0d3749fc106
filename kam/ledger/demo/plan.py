"""The demo's plan: every billing code's business, month by month, in plain Python
(see :mod:`kam.ledger.demo`)."""

import bisect
import datetime
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from kam.accounts.demo_data import CITY_WEIGHTS, PROVINCE_WEIGHTS
from kam.core import regions

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
