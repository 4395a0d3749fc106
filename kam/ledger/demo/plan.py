"""The demo's plan: every billing code's business, month by month, in plain Python
(see :mod:`kam.ledger.demo`).

Money is at a carrier's real scale. Each archive account's revenue over the last twelve
months is its logistics spend estimate times our share of its wallet
(:func:`kam.accounts.demo_data.share_of_wallet`), so the archive's figures and the waybills
agree; a waybill's freight follows the product's list price for its weight and the
account's discount. Heavy B2B freight (陆运, pallets of a few hundred kilograms, now and
then a full load) earns hundreds of yuan a waybill, a consumer parcel a few yuan: the
number of waybills follows from the money, not the other way round.
"""

import bisect
import datetime
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import numpy as np
from scipy.special import ndtr

from kam.accounts.demo_data import CITY_WEIGHTS, PROVINCE_WEIGHTS
from kam.core import regions

Progress = Callable[[str, int, int], None]

#: Billing codes outside the archive, per archive company.
UNLINKED_PER_COMPANY = 0.5
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

# Products as the carriers' exports spell them, with list prices in CNY: (label, first kg,
# each further kg up to 30 kg, each kg beyond 30 kg, days promised). Beyond 30 kg the
# ground product is priced as less-than-truckload freight (零担, about 1 yuan a kg).
PRODUCTS = (
    ("特快", 23.0, 12.0, 6.0, 1),
    ("标快", 12.0, 5.0, 2.5, 2),
    ("陆运", 9.0, 2.2, 1.1, 3),
    ("冷运", 28.0, 9.0, 3.5, 2),
    ("国际", 95.0, 38.0, 20.0, 0),  # no promised time
)
HEAVY_FROM_KG = 30.0
# Share of express, standard, ground, cold chain, international by kind of code.
_MIX = {
    "freight": (0.0, 0.05, 0.95, 0.0, 0.0),  # B2B pallets by road, a few urgent ones
    "parcel": (0.30, 0.40, 0.27, 0.01, 0.02),  # B2B cartons and documents
    "consumer": (0.08, 0.58, 0.32, 0.01, 0.01),  # parcels to consumers
    "cold": (0.10, 0.10, 0.15, 0.64, 0.01),  # fresh food and medicines
    "documents": (0.70, 0.25, 0.05, 0.0, 0.0),  # public bodies
}
_MIX_INDUSTRY = {
    "trade_forwarding": (0.25, 0.20, 0.35, 0.0, 0.20),
}
# How likely an industry's accounts also ship to consumers (e-commerce style).
_CONSUMER_ODDS = {"ecommerce": 0.95, "fresh_food": 0.6, "apparel": 0.5, "it_electronics": 0.25,
                  "pharma": 0.1, "government": 0.0}  # fmt: skip
# Weight of a carton (kg) by industry, for parcels; freight ships pallets of such cartons.
_PIECE_KG = {"government": 0.3, "it_electronics": 2.0, "pharma": 3.0, "apparel": 2.5,
             "auto_parts": 12.0, "electromechanical": 10.0, "fresh_food": 4.0}  # fmt: skip
# Freight: mean pieces (pallets, ~25 kg units) a waybill by tier: big shippers ship more at once.
_FREIGHT_PIECES = {1: 34.0, 2: 24.0, 3: 14.0, 4: 8.0, 5: 5.0, None: 30.0}
_FULL_LOAD = 0.03  # share of freight waybills that are a full load
FULL_LOAD_PIECES = 4  # a full load: this many times the pieces
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
# Contract price level (share of the list price) by tier; None: a code outside the archive.
_DISCOUNT = {1: (0.55, 0.75), 2: (0.62, 0.82), 3: (0.72, 0.9), 4: (0.82, 1.0), 5: (0.88, 1.05),
             None: (0.9, 1.1)}  # fmt: skip
_CONSUMER_PRICE = 0.8  # consumer parcels are priced below business ones
#: A side code's revenue at most (CNY a year), by what it ships: a big account's money is
#: in its freight; its online shop or its cartons earn less.
SIDE_CAP = {"consumer": 30_000.0, "parcel": 120_000.0}
# Warehouses of shippers who also ship from a hub.
_HUBS = ("440300", "440100", "330100", "310100", "320500", "420100", "510100", "110100",
         "120100", "500100")  # fmt: skip
_REMOTE_PROVINCES = ["54", "65", "63", "15", "64", "62", "46"]
# Codes outside the archive: most are small (CNY a year: median, log-spread, cap); a few
# are big shippers the key-account department has not signed yet (the candidates).
UNLINKED_REVENUE = (5_000.0, 1.0, 250_000.0)
UNLINKED_GEMS = 0.04
#: (median, log-spread, lowest, highest) CNY a year of a big one, and of a fast grower.
UNLINKED_GEM_REVENUE = (7_000_000.0, 0.25, 5_500_000.0, 12_000_000.0)
UNLINKED_GROWER_REVENUE = (240_000.0, 0.35, 120_000.0, 450_000.0)
_TRAJECTORIES = ("steady", "growing", "declining", "churned", "new")
_TRAJECTORY_ODDS_KEY = (65, 18, 17, 0, 0)  # tiers 1-3: established accounts
_TRAJECTORY_ODDS_SMALL = (62, 14, 14, 0, 10)  # an account that left is lost, not active
_TRAJECTORY_ODDS_UNLINKED = (55, 0, 20, 15, 10)  # small ones never grow fast


# --- the plan (pure Python) ----------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveAccount:
    """What the plan needs of an archive account."""

    tier: int | None
    lost: bool
    industry: str
    city_code: str
    revenue: float  # CNY over the last twelve months (before a lost account left: a year)
    codes: tuple[str, ...]
    potential: bool = False
    strategic: bool = False


@dataclass
class CodePlan:
    code: str
    linked: bool
    tier: int | None
    kind: str  # freight, parcel, consumer, cold or documents
    consumer: bool
    home: str  # GB/T 2260 city code the code ships from
    alt: str  # a second origin (a branch or a hub warehouse)
    mix: tuple[float, ...]  # cumulative shares of the products
    piece_kg: float
    piece_mean: float
    kg_sigma: float  # log-spread of a waybill's weight around pieces * piece_kg
    full_load: float
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
    revenue: float  # CNY a year (see ``plan``)
    trend: list[float] = field(default_factory=list)  # relative volume per month
    distance: float = 1.0  # the expected distance factor of its lanes (see ``_lane_factor``)

    def price(self) -> float:
        """The expected revenue of one waybill (freight and surcharges) as the rows are
        drawn (:mod:`kam.ledger.demo.rows`): the pieces' distribution, the weight's
        log-normal spread and each product's price by weight, in closed form."""
        shares = np.diff(np.asarray((0.0, *self.mix, 1.0)))
        if self.consumer:
            pieces, odds = np.array([1.0, 2.0, 3.0]), np.array([0.88, 0.06, 0.06])
        else:  # 1 + floor(Exp * mean), at most 200; a full load is eight times that
            k = np.arange(1, 201, dtype=np.float64)
            q = math.exp(-1 / self.piece_mean) if self.piece_mean > 0 else 0.0
            odds = (1 - q) * q ** (k - 1)
            odds[-1] += q**200
            pieces = np.concatenate([k, FULL_LOAD_PIECES * k])
            odds = np.concatenate([odds * (1 - self.full_load), odds * self.full_load])
        # kg = pieces * piece_kg * exp(s Z - s^2 / 2): E[max(kg - K, 0)] as for a call option.
        sigma = self.kg_sigma
        mu = np.log(pieces * self.piece_kg) - sigma**2 / 2

        def above(strike: float) -> float:
            d1 = (mu - math.log(strike) + sigma**2) / sigma
            values = np.exp(mu + sigma**2 / 2) * ndtr(d1) - strike * ndtr(d1 - sigma)
            return float(np.dot(odds, values))

        beyond_1, beyond_heavy = above(1.0), above(HEAVY_FROM_KG)
        listed = np.array([
            first + each * (beyond_1 - beyond_heavy) + heavy * beyond_heavy
            for _, first, each, heavy, _ in PRODUCTS
        ])  # fmt: skip
        distance = np.array([self.distance] * 4 + [1.0])  # international: one price
        freight = float(np.dot(shares, listed * distance)) * self.discount
        surcharges = self.declared_share * 25.25 + 0.06 * 8.5 + shares[3] * 5.0
        return freight + surcharges


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


def _trend(rng: random.Random, trajectory: str, lost: bool, n: int,
           growth: tuple[float, float] = (0.2, 0.6)) -> list[float]:  # fmt: skip
    def steady(g: float, t: float) -> float:
        return math.exp(g * t / 12)

    if trajectory == "growing":
        g = rng.uniform(*growth)
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
    if trajectory == "recent":  # started in the last five months: too new to judge
        start = rng.randint(n - 5, n - 2)
        ramp = {start: 0.4, start + 1: 0.8}
        return [0.0 if t < start else ramp.get(t, 1.0) for t in range(n)]
    g = rng.gauss(0.04, 0.08) if growth[0] else rng.gauss(0.0, 0.05)  # (0, 0): flat
    return [steady(g, t) for t in range(n)]


def _code_plan(
    rng: random.Random,
    *,
    code: str,
    linked: bool,
    tier: int | None,
    industry: str,
    kind: str,
    home: str,
    cities: tuple[list[str], list[float]],
    trajectory: str,
    revenue: float,
) -> CodePlan:
    consumer = kind == "consumer"
    mix = _MIX_INDUSTRY.get(industry, _MIX[kind]) if kind == "parcel" else _MIX[kind]
    mix = tuple(share * rng.uniform(0.6, 1.4) for share in mix)
    cumulative = [c / sum(mix) for c in accumulate(mix)][:-1]
    if consumer:
        piece_kg = rng.lognormvariate(0.0, 0.4)
        alt = rng.choice(_HUBS)
    else:
        piece_kg = _PIECE_KG.get(industry, 3.0) * rng.lognormvariate(0.0, 0.4)
        alt = rng.choice(_HUBS) if rng.random() < 0.3 else rng.choices(*cities)[0]
    piece_mean = 2.0 if industry in ("auto_parts", "electromechanical") else 0.8
    if kind == "freight":  # pallets of about 25 kg units
        piece_kg = rng.uniform(20.0, 32.0)
        piece_mean = _FREIGHT_PIECES.get(tier, 8.0) * rng.uniform(0.7, 1.3)
    elif kind == "cold":  # insulated boxes; big shippers send whole pallets of them
        piece_kg = rng.uniform(6.0, 12.0)
        piece_mean = 0.5 * _FREIGHT_PIECES.get(tier, 8.0) * rng.uniform(0.7, 1.3)
    low, high = _DISCOUNT[tier]
    discount = rng.uniform(low, high) * (_CONSUMER_PRICE if consumer else 1.0)
    loss_making = rng.random() < (0.15 if tier in (1, 2) else 0.04)
    goods = _GOODS.get(industry, _GOODS_CONSUMER if consumer else _GOODS_BUSINESS)
    return CodePlan(
        code=code,
        linked=linked,
        tier=tier,
        kind=kind,
        consumer=consumer,
        home=home,
        alt=alt,
        mix=tuple(cumulative),
        piece_kg=round(piece_kg, 3),
        piece_mean=piece_mean,
        kg_sigma=0.35 if kind == "freight" else 0.7,  # pallets vary less than parcels
        full_load=_FULL_LOAD if kind == "freight" else 0.0,
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
        revenue=revenue,
    )


def _distance(origin: str, destination: str) -> float:
    """The price factor of a lane, as the rows' SQL has it."""
    if origin == destination:
        return 0.75
    if origin[:2] == destination[:2]:
        return 0.85
    if origin[:2] in _REMOTE_PROVINCES or destination[:2] in _REMOTE_PROVINCES:
        return 1.5
    return 1.0


def _lane_factor(c: CodePlan, destinations: list[str], cache: dict[str, float]) -> float:
    """The expected distance factor of a code's waybills: from home (or its second origin)
    to a favourite city, home, or anywhere, as the rows' SQL draws them."""

    def anywhere(origin: str) -> float:
        if origin not in cache:
            cache[origin] = sum(_distance(origin, d) for d in destinations) / len(destinations)
        return cache[origin]

    def from_(origin: str) -> float:
        favourites = sum(_distance(origin, f) for f in c.favourites) / len(c.favourites)
        rest = max(0.0, 1 - c.lane_focus - 0.06)
        return (c.lane_focus * favourites + 0.06 * _distance(origin, c.home)
                + rest * anywhere(origin))  # fmt: skip

    return 0.85 * from_(c.home) + 0.15 * from_(c.alt)


def _new_code(rng: random.Random, taken: set[str]) -> str:
    while True:
        code = "YJ" + "".join(rng.choice("0123456789") for _ in range(10))
        if code not in taken:
            taken.add(code)
            return code


def _kinds(rng: random.Random, a: ArchiveAccount) -> list[str]:
    """What each of an account's codes ships: the first its main business."""
    tier = a.tier or 5
    ships_to_consumers = rng.random() < _CONSUMER_ODDS.get(a.industry, 0.05)
    if a.industry == "government":
        return ["documents"] * len(a.codes)
    if a.industry in ("fresh_food", "pharma") and rng.random() < 0.6:
        main = "cold"
    elif tier <= 3 or rng.random() < 0.6:  # pallets to customers, or stock to warehouses
        main = "freight"
    else:
        main = "consumer" if a.industry == "ecommerce" else "parcel"
    others = []
    for i in range(len(a.codes) - 1):  # a branch's freight, cartons, or the online shop
        if ships_to_consumers and main != "consumer" and i == 0:
            others.append("consumer")
        else:
            others.append("freight" if tier <= 3 and rng.random() < 0.5 else "parcel")
    return [main, *others]


def _trajectory(rng: random.Random, a: ArchiveAccount) -> tuple[str, tuple[float, float]]:
    if a.lost:
        return "churned", (0.2, 0.6)
    if a.potential:  # the archive says it will grow: it does, by a third or more a year
        return "growing", (0.35, 0.7)
    if a.strategic and rng.random() < 0.5:
        return "growing", (0.15, 0.4)
    odds = _TRAJECTORY_ODDS_KEY if (a.tier or 5) <= 3 else _TRAJECTORY_ODDS_SMALL
    return rng.choices(_TRAJECTORIES, odds)[0], (0.2, 0.6)


def plan(
    accounts: Sequence[ArchiveAccount],
    *,
    seed: int,
    as_of: datetime.date,
    waybills: int | None = None,
    unlinked: int,
    last_day: datetime.date | None = None,
) -> WaybillPlan:
    """Who ships how much when: every code's habits and its waybills per month.

    ``accounts`` in a stable order. Each account's revenue is spread over its codes (the
    first the largest) and over the months along its trajectory, so that the last twelve
    months earn the account's revenue (a lost account: the twelve months before it left;
    a new one: a year at its full pace). ``waybills`` scales the volume (and the money) to
    about that many waybills; by default the volume follows from the money and the prices.
    ``last_day`` is the last day drawn (``as_of`` unless that is in the future).
    """
    rng = random.Random(f"kam-demo-waybills-{seed}")  # noqa: S311 - seeded demo data
    months = month_starts(as_of)
    last_day = min(as_of, last_day or as_of)
    cities = city_table()
    taken = {c for a in accounts for c in a.codes}
    codes: list[CodePlan] = []
    for a in accounts:
        trajectory, growth = _trajectory(rng, a)
        kinds = _kinds(rng, a)
        shares = sorted((rng.uniform(0.3, 1.0) for _ in a.codes), reverse=True)
        shares[0] *= 6 if (a.tier or 5) <= 3 else 2
        total = sum(shares)
        revenues = [a.revenue * share / total for share in shares]
        for i, kind in enumerate(kinds):  # a side code's surplus goes to the main code
            cap = SIDE_CAP.get(kind)
            if i > 0 and cap is not None and revenues[i] > cap:
                revenues[0] += revenues[i] - cap
                revenues[i] = cap
        trend = _trend(rng, trajectory, a.lost, len(months), growth)
        for i, (code, kind) in enumerate(zip(a.codes, kinds, strict=True)):
            home = a.city_code if i == 0 or rng.random() < 0.5 else rng.choices(*cities)[0]
            p = _code_plan(
                rng, code=code, linked=True, tier=a.tier, industry=a.industry, kind=kind,
                home=home or rng.choices(*cities)[0], cities=cities, trajectory=trajectory,
                revenue=revenues[i],
            )  # fmt: skip
            p.trend = trend
            codes.append(p)
    for _ in range(unlinked):
        if rng.random() < UNLINKED_GEMS:  # shippers the key-account department has missed:
            big = rng.random() < 0.35  # as big as an economic key account, or growing fast
            median, sigma, low, high = UNLINKED_GEM_REVENUE if big else UNLINKED_GROWER_REVENUE
            revenue = min(high, max(low, median * rng.lognormvariate(0.0, sigma)))
            kind, industry = "freight", "other"
            trajectory = rng.choice(["growing", "steady"]) if big else "growing"
            growth = (0.1, 0.4) if big else (0.4, 0.8)
        else:
            median, sigma, cap = UNLINKED_REVENUE
            revenue = min(cap, median * rng.lognormvariate(0.0, sigma))
            consumer = rng.random() < 0.4
            kind, industry = ("consumer", "ecommerce") if consumer else ("parcel", "other")
            trajectory = rng.choices(_TRAJECTORIES, _TRAJECTORY_ODDS_UNLINKED)[0]
            trajectory = "recent" if trajectory == "new" else trajectory
            growth = (0.0, 0.0)  # steady means flat
        p = _code_plan(
            rng, code=_new_code(rng, taken), linked=False, tier=None, industry=industry,
            kind=kind, home=rng.choices(*cities)[0], cities=cities, trajectory=trajectory,
            revenue=revenue,
        )  # fmt: skip
        p.trend = _trend(rng, trajectory, False, len(months), growth)
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
    # Expected revenue a month: the code's revenue along its trend and the season, so that
    # twelve months (the last, or its best for codes that came or went) earn it; waybills:
    # that over the expected revenue of a waybill, with a little monthly noise.
    n = len(months)
    destinations = _quantiles(*cities)
    lanes: dict[str, float] = {}
    raw = []
    for c in codes:
        c.distance = _lane_factor(c, destinations, lanes)
        weights = [c.trend[mi] * season[mi, c.consumer] for mi in range(n)]
        if c.trajectory == "churned":  # the year before it left
            window = max(sum(weights[i : i + 12]) for i in range(n - 11))
        elif c.trajectory in ("new", "recent"):  # a year at the pace it has shipped at
            window = 12 * sum(weights) / (sum(w > 0 for w in weights) or 1)
        else:
            window = sum(weights[-12:])
        per_waybill = c.revenue / c.price() / (window or 1)
        raw.append([w * per_waybill for w in weights])
    scale = 1.0
    if waybills is not None:
        scale = waybills / (sum(map(sum, raw)) or 1)
    per_month = [
        [int(row[mi] * scale * rng.lognormvariate(-0.0032, 0.08) + rng.random()) for row in raw]
        for mi in range(n)
    ]

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
        destinations=destinations,
        busy_days=busy,
        batches=list(batches.items()),
        bad_batch=labels[len(labels) // 2],
    )
