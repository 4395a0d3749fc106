"""The visit-planner benchmark: 200 managers, 20,000 accounts, 12 weeks, real geography.

Three planners of :mod:`kam.coverage.planner` (pure Python, no database) on the same
synthetic accounts, the same real working calendar (China's public holidays and make-up days
from the ``chinese-calendar`` package) and the same road model (city coordinates from the
``cpca`` package, great-circle km x road factor / speed, :mod:`kam.coverage.geo`):

- *first come*: accounts in order, each visit on the first free day (the oldest baseline);
- *without travel*: the planner the product used until the road model (value order,
  augmenting paths, same-city grouping, but cities are only codes);
- *with travel*: :func:`plan_visits` with a :class:`Travel`: days a person can drive.

Every manager has a base city (a real prefecture); 70 % of their accounts are in it, 25 %
in cities within 200 km of it (a territory), 5 % anywhere in China (the scatter the old
demo had: those are mostly too far for a day's trip and reported as such). For
each plan the bench prints the share of due visits placed, the km driven (every day's
shortest tour from the base through its cities and back, measured the same way for all
three), the days nobody can drive (cities more than the hop limit apart, or visits plus
road over the day's capacity), and the planner's time, best and median of ``--repeat``
interleaved runs. Ratios are against the planner without travel.

``python -m bench.coverage --small`` runs 20 managers and 2,000 accounts.
"""

import argparse
import datetime
import platform
import random
import statistics
import time
from collections.abc import Callable

import chinese_calendar

from kam.core import regions
from kam.core.workcal import WorkingCalendar, weekday_rule
from kam.coverage.geo import Travel, city_coordinates, haversine_km
from kam.coverage.planner import (
    AccountIn,
    Plan,
    base_cities,
    check_capacity,
    check_travel,
    plan_first_come,
    plan_visits,
    routes,
)

#: Share of accounts per tier and each tier's visit cadence in days (the default policy).
TIERS = [(1, 0.03, 7), (2, 0.07, 14), (3, 0.20, 30), (4, 0.30, 60), (5, 0.40, 91)]


def calendar() -> WorkingCalendar:
    exceptions: dict[datetime.date, bool] = {}
    for working, table in ((False, chinese_calendar.holidays), (True, chinese_calendar.workdays)):
        for day in table:
            if working != weekday_rule(day):
                exceptions[day] = working
    return WorkingCalendar(exceptions=exceptions,
                           known_years=frozenset(d.year for d in exceptions))  # fmt: skip


def _cities() -> dict[str, list[str]]:
    """Known prefecture codes by province (from the product's regions, with coordinates)."""
    import django  # noqa: PLC0415 - regions reads its data path from the settings
    from django.conf import settings  # noqa: PLC0415

    if not settings.configured:
        import os  # noqa: PLC0415

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kam.settings")
        django.setup()
    coords = city_coordinates()
    out: dict[str, list[str]] = {}
    for province in regions.provinces():
        known = [c.code for c in regions.cities(province.code) if c.code in coords]
        if known:
            out[province.code] = known
    return out


def accounts(
    managers: int, n: int, start: datetime.date, seed: int
) -> tuple[list[AccountIn], dict[int, str]]:
    """Accounts spread over managers around their base cities, Pareto values."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data
    by_province = _cities()
    provinces = sorted(by_province)
    everywhere = [c for cs in by_province.values() for c in cs]
    coords = city_coordinates()
    bases: dict[int, str] = {}
    for person in range(managers):
        province = provinces[person % len(provinces)]
        bases[person] = rng.choice(by_province[province])
    near = {
        base: [c for c in everywhere if haversine_km(coords[base], coords[c]) <= 200]
        for base in set(bases.values())
    }
    out = []
    for i in range(n):
        tier, cadence = _tier(rng)
        person = rng.randrange(managers)
        base = bases[person]
        x = rng.random()
        if x < 0.70:
            city = base
        elif x < 0.95:
            city = rng.choice(near[base])
        else:
            city = rng.choice(everywhere)
        last = start - datetime.timedelta(days=rng.randint(0, cadence * 2))
        out.append(AccountIn(
            id=i, person=person, cadence_days=cadence, value=round(rng.paretovariate(1.16) * 1e5, 2),
            city=city, priority=rng.random() < 0.02, last_visit=last,
            executive_every=4 if tier == 1 else 0,
        ))  # fmt: skip
    return out, bases


def _tier(rng: random.Random) -> tuple[int, int]:
    x = rng.random()
    for tier, share, cadence in TIERS:
        if x < share:
            return tier, cadence
        x -= share
    return TIERS[-1][0], TIERS[-1][2]


def windows_kept(plan: Plan, cal: WorkingCalendar, cadence: dict[int, int]) -> bool:
    return all(
        cal.is_working(v.day)
        and v.due <= v.day < v.due + datetime.timedelta(days=cadence[v.account])
        for v in plan.visits
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--managers", type=int, default=200)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs of each planner")
    parser.add_argument("--start", default="2026-09-21", help="first day (spans National Day)")
    parser.add_argument("--small", action="store_true", help="20 managers, 2,000 accounts")
    args = parser.parse_args()
    if args.small:
        args.managers, args.accounts = 20, 2_000
    start = datetime.date.fromisoformat(args.start)
    cal = calendar()
    data, bases = accounts(args.managers, args.accounts, start, args.seed)
    travel = Travel(city_coordinates(), base=bases)
    rng = random.Random(args.seed + 1)  # noqa: S311 - synthetic data
    capacity = {p: rng.choice([3, 3, 4, 5]) for p in range(args.managers)}
    cadence = {a.id: a.cadence_days for a in data}
    working = len(list(cal.working_days(start, start + datetime.timedelta(weeks=args.weeks))))
    print(f"# Visit planner: {args.managers} managers, {args.accounts:,} accounts, "
          f"{args.weeks} weeks from {start} ({working} working days)")  # fmt: skip
    print(f"python {platform.python_version()} on {platform.machine()}; capacity "
          f"{sum(capacity.values()) * working:,} visits; road: great-circle x "
          f"{travel.road_factor} at {travel.speed_kmh:.0f} km/h, cities of a day within "
          f"{travel.hop_minutes:.0f} min, {travel.workday_minutes:.0f} min a day; "
          f"{args.repeat} interleaved runs\n")  # fmt: skip
    planners: list[tuple[str, Callable[[], Plan]]] = [
        ("first come", lambda: plan_first_come(data, capacity, start, args.weeks, cal.is_working)),
        ("without travel (old)",
         lambda: plan_visits(data, capacity, start, args.weeks, cal.is_working)),
        ("with travel (new)",
         lambda: plan_visits(data, capacity, start, args.weeks, cal.is_working, travel)),
    ]  # fmt: skip
    times: dict[str, list[float]] = {name: [] for name, _fn in planners}
    plans: dict[str, Plan] = {}
    for _round in range(args.repeat):
        for name, fn in planners:
            started = time.perf_counter()
            plans[name] = fn()
            times[name].append(time.perf_counter() - started)
    all_bases = base_cities(data, travel)
    rows = []
    for name, _fn in planners:
        plan = plans[name]
        days = routes(plan.visits, travel, all_bases)
        km = sum(r.km for r in days)
        bad_days = {p.split(":")[0] for p in check_travel(plan, capacity, travel, all_bases)}
        bad = len(bad_days)
        drivable = sum(f"{v.person} {v.day}" not in bad_days for v in plan.visits)
        kept = windows_kept(plan, cal, cadence) and check_capacity(plan, capacity)
        rows.append((name, plan, km, len(days), bad, kept, drivable))
    ref = rows[1]
    print("| planner | best s | median s | due | placed | share placed | ratio placed "
          "| on drivable days | share of due | km driven | km per visit | ratio km/visit | days | days nobody can drive "
          "| visits per city-day | windows, capacity kept |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
          "| ---: "
          "| ---: | --- |")  # fmt: skip
    ref_kpv = ref[2] / max(1, len(ref[1].visits))
    for name, plan, km, n_days, bad, kept, drivable in rows:
        kpv = km / max(1, len(plan.visits))
        cells = {(v.person, v.day, v.city) for v in plan.visits}
        print(f"| {name} | {min(times[name]):.2f} | {statistics.median(times[name]):.2f} | "
              f"{plan.due:,} | {len(plan.visits):,} | {plan.placed_share:.1%} | "
              f"{len(plan.visits) / max(1, len(ref[1].visits)):.3f} | {drivable:,} | "
              f"{drivable / max(1, plan.due):.1%} | {km:,.0f} | {kpv:.1f} | "
              f"{kpv / ref_kpv:.3f} | {n_days:,} | {bad:,} ({bad / max(1, n_days):.1%}) | "
              f"{len(plan.visits) / max(1, len(cells)):.2f} | {'yes' if kept else 'NO'} |")  # fmt: skip
    new = plans["with travel (new)"]
    reasons: dict[str, int] = {}
    for u in new.unserved:
        reasons[u.reason] = reasons.get(u.reason, 0) + 1
    print(f"\nunserved by the planner with travel, by reason: "
          f"{', '.join(f'{k} {v:,}' for k, v in sorted(reasons.items())) or 'none'}; "
          f"cities without coordinates: {len(new.unknown_cities)}")  # fmt: skip


if __name__ == "__main__":
    main()
