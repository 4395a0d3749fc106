"""Where cities are and how long the road between them takes, without Django.

Coordinates come from the ``cpca`` package, whose ``resources/adcodes.csv`` lists every
GB/T 2260 code (twelve digits) with the longitude and latitude of its seat. The file is read
in place, through the package's installed-files record, so ``cpca`` itself (and the pandas
it imports) is never imported.

Travel time is estimated, not routed: the great-circle (haversine) distance times a road
circuity factor, at an average speed. A circuity factor of about 1.3 is what studies of
road against straight-line distance find for most countries' road networks (Ballou,
Rahardja and Sakai, "Selected country circuity factors for road travel distance
estimation", Transportation Research Part A 36(9), 2002, pp. 843-848); 70 km/h is an
average over expressway, national road and city streets, door to door (expressways between cities, streets within them). Both are
parameters of :class:`Travel` (and settings of the product), so a region served by
high-speed rail may be given a higher speed.
"""

from __future__ import annotations

import csv
import functools
import importlib.metadata
import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

#: Mean Earth radius (IUGG), kilometres.
EARTH_RADIUS_KM = 6371.0088
#: Road distance over great-circle distance (Ballou et al. 2002: 1.2-1.4 for most countries).
ROAD_FACTOR = 1.3
#: Average door-to-door speed by road, km/h.
SPEED_KMH = 70.0
#: Cities visited on one day are at most this many minutes of road from each other.
HOP_MINUTES = 90.0
#: A working day's minutes, shared between visits and the road.
WORKDAY_MINUTES = 480.0
#: Beyond this many road km, a leg goes by high-speed rail or air when that is faster:
#: door to door, rail at RAIL_KMH after RAIL_OVERHEAD minutes (to and from the stations),
#: air at AIR_KMH after AIR_OVERHEAD minutes (airports, check-in), great-circle km.
LONG_KM = 300.0
RAIL_KMH, RAIL_OVERHEAD = 250.0, 90.0
AIR_KMH, AIR_OVERHEAD = 700.0, 180.0

LatLon = tuple[float, float]

#: Prefectures renamed (and recoded) after the package's data: new code -> the code it lists.
_RECODED = {"540600": "542400"}  # 那曲地区 became 那曲市 in 2017


def haversine_km(a: LatLon, b: LatLon) -> float:
    """Great-circle distance in km between two (latitude, longitude) points in degrees."""
    lat1, lon1 = map(math.radians, a)
    lat2, lon2 = map(math.radians, b)
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@functools.cache
def city_coordinates() -> dict[str, LatLon]:
    """Six-digit city (and municipality) code -> (latitude, longitude), from ``cpca``.

    Province codes (``..0000``) are left out on purpose: a province's point is its capital,
    and an account known only by its province is not in its capital. A city code the
    package does not list under its code is found under its old code (a prefecture renamed
    after the package's data, e.g. 那曲市 540600, once 那曲地区 542400) or gets the mean of
    its districts' points; else it stays unknown."""
    files = importlib.metadata.files("cpca") or []
    found = [f for f in files if f.name == "adcodes.csv"]
    if not found:
        raise RuntimeError("the cpca package is installed without resources/adcodes.csv")
    out: dict[str, LatLon] = {}
    districts: dict[str, list[LatLon]] = {}
    with open(str(found[0].locate()), encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code = row["adcode"][:6]
            try:
                point = (float(row["latitude"]), float(row["longitude"]))
            except ValueError:
                continue
            if code.endswith("0000"):
                continue
            if code.endswith("00"):
                out[code] = point
            else:
                districts.setdefault(code[:4] + "00", []).append(point)
    for new, old in _RECODED.items():
        if new not in out and old in out:
            out[new] = out[old]
    for city, points in districts.items():
        if city not in out:
            out[city] = (
                sum(p[0] for p in points) / len(points),
                sum(p[1] for p in points) / len(points),
            )
    return out


@dataclass(frozen=True)
class Travel:
    """The road model the planner counts with.

    ``coords`` maps a city code to (latitude, longitude); a city without coordinates is
    *unknown*: its visits get days of their own (no other city), and no road time is counted
    for them. ``base`` maps a person to their base city, where every day starts and ends."""

    coords: Mapping[str, LatLon]
    base: Mapping[int, str] = field(default_factory=dict)
    road_factor: float = ROAD_FACTOR
    speed_kmh: float = SPEED_KMH
    hop_minutes: float = HOP_MINUTES
    workday_minutes: float = WORKDAY_MINUTES

    def __post_init__(self) -> None:
        if self.road_factor < 1 or self.speed_kmh <= 0 or self.workday_minutes <= 0:
            raise ValueError("road_factor >= 1, speed_kmh > 0 and workday_minutes > 0")
        if self.hop_minutes < 0:
            raise ValueError("hop_minutes must not be negative")

    def known(self, city: str) -> bool:
        return city in self.coords

    def road_km(self, a: str, b: str) -> float:
        """Road km between two known cities (0 within a city)."""
        if a == b:
            return 0.0
        return haversine_km(self.coords[a], self.coords[b]) * self.road_factor

    def minutes(self, km: float) -> float:
        """Minutes by road for ``km`` road km."""
        return km / self.speed_kmh * 60.0

    def leg_minutes(self, a: str, b: str) -> float:
        """Door-to-door minutes between two known cities: by road, or past ``LONG_KM`` by
        high-speed rail or air when faster."""
        road = self.road_km(a, b)
        by_road = self.minutes(road)
        if road <= LONG_KM:
            return by_road
        gc = road / self.road_factor
        return min(by_road, RAIL_OVERHEAD + gc / RAIL_KMH * 60.0,
                   AIR_OVERHEAD + gc / AIR_KMH * 60.0)  # fmt: skip

    def path(
        self, start: str | None, cities: Iterable[str], end: str | None
    ) -> tuple[float, float]:
        """(km, minutes) of the quickest way from ``start`` through ``cities`` to ``end``
        (either may be ``None``: the path then starts or ends at a city of the day);
        cities without coordinates are left out. A day trip is ``path(base, cities, base)``."""
        if start is not None and start not in self.coords:
            start = None
        if end is not None and end not in self.coords:
            end = None
        stops = tuple(sorted({c for c in cities if c in self.coords} - {start, end}))
        return _path(self, start, stops, end)

    def tour_km(self, base: str | None, cities: Iterable[str]) -> float:
        """The shortest road from ``base`` through ``cities`` and back (an open path through
        them when the base is unknown); cities without coordinates are left out."""
        stops = sorted({c for c in cities if c in self.coords and c != base})
        if base is not None and base not in self.coords:
            base = None
        return _tour_km(self, base, tuple(stops))


def _path(
    travel: Travel, start: str | None, stops: tuple[str, ...], end: str | None
) -> tuple[float, float]:
    def cost(order: tuple[str, ...]) -> tuple[float, float]:
        points = [p for p in (start, *order, end) if p is not None]
        km = minutes = 0.0
        for a, b in itertools.pairwise(points):
            km += travel.road_km(a, b)
            minutes += travel.leg_minutes(a, b)
        return km, minutes

    if len(stops) > 6:  # a day never holds that many cities in practice: keep their order
        return cost(stops)
    best = (0.0, 0.0)
    for n, order in enumerate(itertools.permutations(stops)):
        found = cost(order)
        if n == 0 or found[1] < best[1]:
            best = found
    return best


def _tour_km(travel: Travel, base: str | None, stops: tuple[str, ...]) -> float:
    if not stops:
        return 0.0
    if len(stops) > 6:  # nearest neighbour; a day never holds that many cities in practice
        order: list[str] = []
        rest = list(stops)
        here = base if base is not None else rest.pop(0)
        if base is None:
            order.append(here)
        while rest:
            nxt = min(rest, key=lambda c: travel.road_km(here, c))
            rest.remove(nxt)
            order.append(nxt)
            here = nxt
        return _path_km(travel, base, order)
    return min(_path_km(travel, base, list(p)) for p in itertools.permutations(stops))


def _path_km(travel: Travel, base: str | None, order: list[str]) -> float:
    points = [base, *order, base] if base is not None else order
    return sum(travel.road_km(a, b) for a, b in itertools.pairwise(points))
