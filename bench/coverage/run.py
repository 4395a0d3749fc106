"""The visit-planner benchmark: 200 managers, 20,000 accounts, 12 weeks.

The planner (:mod:`kam.coverage.planner`, pure Python, no database) against the first-come
baseline in the same run, on the same synthetic accounts and the real working calendar
(China's public holidays and make-up days from the ``chinese-calendar`` package, the
source the product's calendar is seeded from). Prints the time of each and the share of
due visits placed, checks that no one is booked beyond capacity and that every visit is
on a working day inside its window, and compares with the issue's target (under 30 s).

``python -m bench.coverage --small`` runs 20 managers and 2,000 accounts.
"""

import argparse
import datetime
import platform
import random
import time
from collections import defaultdict

import chinese_calendar

from kam.core.workcal import WorkingCalendar, weekday_rule
from kam.coverage.planner import AccountIn, Plan, check_capacity, plan_first_come, plan_visits

TARGET_SECONDS = 30.0
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


def accounts(managers: int, n: int, start: datetime.date, seed: int) -> list[AccountIn]:
    """Accounts spread over managers (each covers a handful of cities), Pareto values."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data
    cities = [f"{c:06d}" for c in range(110100, 110100 + managers * 3)]
    out = []
    for i in range(n):
        tier, cadence = _tier(rng)
        person = rng.randrange(managers)
        city = cities[person * 3 + min(2, int(rng.expovariate(1.2)))]
        last = start - datetime.timedelta(days=rng.randint(0, cadence * 2))
        out.append(AccountIn(
            id=i, person=person, cadence_days=cadence, value=round(rng.paretovariate(1.16) * 1e5, 2),
            city=city, priority=rng.random() < 0.02, last_visit=last,
            executive_every=4 if tier == 1 else 0,
        ))  # fmt: skip
    return out


def _tier(rng: random.Random) -> tuple[int, int]:
    x = rng.random()
    for tier, share, cadence in TIERS:
        if x < share:
            return tier, cadence
        x -= share
    return TIERS[-1][0], TIERS[-1][2]


def check(plan: Plan, capacity: dict[int, int], cal: WorkingCalendar,
          cadence: dict[int, int]) -> bool:  # fmt: skip
    within = all(
        cal.is_working(v.day)
        and v.due <= v.day < v.due + datetime.timedelta(days=cadence[v.account])
        for v in plan.visits
    )
    return within and check_capacity(plan, capacity)


def groups(plan: Plan) -> float:
    """Visits per (person, day, city): how well same-city visits share a day."""
    cells: dict[tuple[int, datetime.date, str], int] = defaultdict(int)
    for v in plan.visits:
        cells[v.person, v.day, v.city] += 1
    return len(plan.visits) / len(cells) if cells else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--managers", type=int, default=200)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--start", default="2026-09-21", help="first day (spans National Day)")
    parser.add_argument("--small", action="store_true", help="20 managers, 2,000 accounts")
    args = parser.parse_args()
    if args.small:
        args.managers, args.accounts = 20, 2_000
    start = datetime.date.fromisoformat(args.start)
    cal = calendar()
    data = accounts(args.managers, args.accounts, start, args.seed)
    rng = random.Random(args.seed + 1)  # noqa: S311 - synthetic data
    capacity = {p: rng.choice([2, 3, 3, 4]) for p in range(args.managers)}
    cadence = {a.id: a.cadence_days for a in data}
    working = len(list(cal.working_days(start, start + datetime.timedelta(weeks=args.weeks))))
    print(f"# Visit planner: {args.managers} managers, {args.accounts:,} accounts, "
          f"{args.weeks} weeks from {start} ({working} working days)")  # fmt: skip
    print(f"python {platform.python_version()} on {platform.machine()}; capacity "
          f"{sum(capacity.values()) * working:,} visits\n")  # fmt: skip
    rows = []
    for name, fn in (("first come (baseline)", plan_first_come), ("planner", plan_visits)):
        started = time.perf_counter()
        plan = fn(data, capacity, start, args.weeks, cal.is_working)
        seconds = time.perf_counter() - started
        rows.append((name, seconds, plan))
    print("| method | seconds | due visits | placed | share placed | visits per city-day | "
          "capacity kept, windows kept |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for name, seconds, plan in rows:
        print(f"| {name} | {seconds:.2f} | {plan.due:,} | {len(plan.visits):,} | "
              f"{plan.placed_share:.1%} | {groups(plan):.2f} | "
              f"{'yes' if check(plan, capacity, cal, cadence) else 'NO'} |")  # fmt: skip
    base, best = rows[0][2], rows[1][2]
    seconds = rows[1][1]
    print(f"\nplaced, planner / first come: {len(best.visits) / max(1, len(base.visits)):.3f} "
          f"(+{len(best.visits) - len(base.visits):,} visits for the same capacity)")  # fmt: skip
    lowest = sorted(u.value for u in best.unserved)[:1]
    print(f"unserved by the planner: {len(best.unserved):,}, lowest value first "
          f"(first: {lowest[0] if lowest else '-'}); median value of placed vs unserved: "
          f"{_median([v.account for v in best.visits], data):,.0f} vs "
          f"{_median([u.account for u in best.unserved], data):,.0f}")  # fmt: skip
    verdict = (
        "PASS" if seconds < TARGET_SECONDS and len(best.visits) >= len(base.visits) else "MISS"
    )
    print(f"target: planner under {TARGET_SECONDS:.0f} s and placing at least as many: "
          f"{seconds:.2f} s -> {verdict}")  # fmt: skip


def _median(ids: list[int], data: list[AccountIn]) -> float:
    values = sorted(data[i].value for i in ids)
    return values[len(values) // 2] if values else 0.0


if __name__ == "__main__":
    main()
