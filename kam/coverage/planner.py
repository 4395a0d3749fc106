"""The visit planner: due visits onto people's working days, without Django.

Every account asks for a visit every ``cadence_days`` calendar days. Over the horizon
each due visit becomes a *task* with a window of working days: from the day it falls due
(or the horizon's start, when the account is already overdue) until the day before the
next one falls due. Each task belongs to the person who covers the account, and each
person takes at most ``capacity`` visits per working day.

Choosing which tasks to place is a maximum-weight independent set of a transversal
matroid (tasks matched to day slots), so the greedy algorithm is optimal: take tasks from
the most to the least important (open alerts or complaints first, then value) and keep
each one that can still be matched, moving earlier tasks between days of their windows
along an augmenting path when its own days are full (Edmonds, "Matroids and the greedy
algorithm", 1971; Kuhn's augmenting paths). Every maximal set of a matroid has the same
size, so the plan also places as many visits as the capacity allows, and what cannot be
placed is the least valuable. A pass afterwards swaps visits between days to put visits to
the same city on the same day for the same person.

That planner knows cities only by their codes: it put 锦州, 金华, 烟台 and 邵阳 on one
person's day. Given a :class:`~kam.coverage.geo.Travel` (city coordinates, each person's
base city, a road model), :func:`plan_visits` plans days a person can drive instead:

- every day starts and ends in the person's base city; its road time (the shortest tour
  from the base through the day's cities and back) takes visits off the day's capacity,
  one visit per ``workday_minutes / capacity`` minutes of road or part of it;
- the cities of one day are at most ``hop_minutes`` of road from each other;
- a city beyond a day trip is visited on a *trip*: consecutive working days, out from the
  base on the first (the journey takes that day's capacity), nights in the region, back on
  the last; trips take the days the day trips left free, two days or one longer; legs past
  ``LONG_KM`` go by high-speed rail or air when faster (:meth:`Travel.leg_minutes`);
- only a city whose journey alone fills the day of arrival is reported as unserved
  (``too_far``) rather than planned on a day nobody can make;
- a city without coordinates gets days of its own and no road time (listed in
  :attr:`Plan.unknown_cities`).

The value order stays (urgent first, then value); each visit goes to the day of its window
that adds the least road (a day already in its city adds none), and when no day can take
it, visits already placed move within their windows to make room (Kuhn's augmenting
paths, each move checked against the road and the capacity, at most
:data:`AUGMENT_DEPTH` deep and :data:`AUGMENT_BUDGET` moves tried). With travel the
problem is no longer a matroid, so this is a heuristic: ``bench/coverage`` compares it with
the planner without travel on the same accounts (visits placed, km driven).

Without a ``Travel`` :func:`plan_visits` is the planner without geography (kept as the
benchmark's reference), and :func:`plan_first_come` the older baseline: accounts in the
order they come, each visit on the first day with room, nothing ever moved.
"""

from __future__ import annotations

import datetime
import itertools
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from math import ceil

from .geo import Travel

#: Why a due visit was not planned.
NO_PERSON = "no_person"  # nobody covers the account
NO_CAPACITY = "no_capacity"  # the person's days in the window are full
NO_WORKING_DAY = "no_working_day"  # the window holds no working day (holidays)
NO_CAPACITY_SET = "no_capacity_set"  # the person has no visits per day
TOO_FAR = "too_far"  # the journey from the person's base fills the day of arrival

#: How many visits, at most, move one after another to make room for one more, and how
#: many moves one search may try (it is a heuristic: the search is bounded, not exhaustive).
AUGMENT_DEPTH = 3
AUGMENT_BUDGET = 400

#: Working days within which a visit to an account with open alerts or complaints is
#: planned first (it "comes earlier").
PRIORITY_DAYS = 5


@dataclass(frozen=True)
class AccountIn:
    """An account to cover. ``last_visit`` is the last visit done (or ``None``)."""

    id: int
    person: int | None
    cadence_days: int
    value: float = 0.0
    city: str = ""
    priority: bool = False
    last_visit: datetime.date | None = None
    executive_every: int = 0  # every n-th visit at executive level (0: none)


@dataclass(frozen=True)
class Visit:
    account: int
    person: int
    day: datetime.date
    due: datetime.date
    city: str
    executive: bool = False
    priority: bool = False


@dataclass(frozen=True)
class Unserved:
    account: int
    person: int | None
    due: datetime.date
    reason: str
    value: float


@dataclass(frozen=True)
class Route:
    """One person's day: the cities visited, the km and minutes of its travel, where it
    starts and ends (the base city on a day trip; a trip's city on nights away)."""

    person: int
    day: datetime.date
    cities: tuple[str, ...]
    visits: int
    km: float
    minutes: float
    start: str = ""
    end: str = ""


@dataclass
class Plan:
    visits: list[Visit] = field(default_factory=list)
    unserved: list[Unserved] = field(default_factory=list)  # lowest value first
    due: int = 0
    routes: list[Route] = field(default_factory=list)  # with a Travel only
    unknown_cities: list[str] = field(default_factory=list)  # cities without coordinates

    @property
    def placed_share(self) -> float:
        return len(self.visits) / self.due if self.due else 1.0

    @property
    def km(self) -> float:
        return sum(r.km for r in self.routes)


@dataclass
class _Task:
    index: int
    account: AccountIn
    due: datetime.date
    window: list[int]  # indexes into the horizon's working days
    executive: bool
    day: int = -1


def horizon_days(
    start: datetime.date, weeks: int, is_working: Callable[[datetime.date], bool]
) -> list[datetime.date]:
    """The working days of ``[start, start + weeks)``."""
    days = []
    day = start
    end = start + datetime.timedelta(weeks=weeks)
    while day < end:
        if is_working(day):
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def due_dates(account: AccountIn, start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """The days in ``[start, end)`` on which the account's visits fall due."""
    if account.cadence_days < 1:
        raise ValueError("cadence_days must be at least 1")
    step = datetime.timedelta(days=account.cadence_days)
    # An account with open alerts or complaints is due now, whatever its last visit.
    if account.last_visit is None or account.priority:
        first = start
    else:
        first = max(start, account.last_visit + step)
    out = []
    day = first
    while day < end:
        out.append(day)
        day += step
    return out


def _tasks(
    accounts: Iterable[AccountIn],
    start: datetime.date,
    end: datetime.date,
    days: Sequence[datetime.date],
) -> tuple[list[_Task], list[Unserved]]:
    tasks: list[_Task] = []
    unserved: list[Unserved] = []
    for account in accounts:
        step = datetime.timedelta(days=account.cadence_days)
        for n, due in enumerate(due_dates(account, start, end)):
            if account.person is None:
                unserved.append(Unserved(account.id, None, due, NO_PERSON, account.value))
                continue
            # From the day it falls due to the day before the next visit falls due.
            lo = bisect_left(days, due)
            hi = bisect_left(days, due + step)
            window = list(range(lo, hi))
            if account.priority and n == 0:
                window = window[:PRIORITY_DAYS]
            if not window:
                unserved.append(Unserved(account.id, account.person, due, NO_WORKING_DAY,
                                         account.value))  # fmt: skip
                continue
            executive = account.executive_every > 0 and n % account.executive_every == 0
            tasks.append(_Task(len(tasks), account, due, window, executive))
    return tasks, unserved


class _Person:
    """One person's days: which tasks sit on each, and the augmenting-path search."""

    def __init__(self, capacity: int, n_days: int) -> None:
        self.capacity = capacity
        self.on_day: list[list[_Task]] = [[] for _ in range(n_days)]
        self.cities: list[dict[str, int]] = [defaultdict(int) for _ in range(n_days)]

    def _put(self, task: _Task, day: int) -> None:
        task.day = day
        self.on_day[day].append(task)
        self.cities[day][task.account.city] += 1

    def _take(self, task: _Task) -> None:
        self.on_day[task.day].remove(task)
        self.cities[task.day][task.account.city] -= 1
        task.day = -1

    def place(self, task: _Task) -> bool:
        """Place ``task``; earlier tasks may move within their windows to make room."""
        city = task.account.city
        free = [d for d in task.window if len(self.on_day[d]) < self.capacity]
        if free:
            # A day that already visits the same city, else the earliest.
            same = [d for d in free if self.cities[d].get(city)]
            self._put(task, same[0] if same else free[0])
            return True
        path = self._augment(task, set())
        if path is None:
            return False
        for moved, day in path:
            if moved.day >= 0:
                self._take(moved)
            self._put(moved, day)
        return True

    def _augment(self, task: _Task, seen: set[int]) -> list[tuple[_Task, int]] | None:
        """Moves that free a slot for ``task``: depth-first over full days (each day at
        most once per search), as in Kuhn's algorithm. The first move is the deepest."""
        for day in task.window:
            if day in seen:
                continue
            seen.add(day)
            if len(self.on_day[day]) < self.capacity:
                return [(task, day)]
            for other in self.on_day[day]:
                rest = self._augment(other, seen)
                if rest is not None:
                    return [*rest, (task, day)]
        return None

    def group_cities(self) -> None:
        """Swap or move visits within their windows so that one day visits fewer cities."""
        for day_tasks in list(self.on_day):
            for task in list(day_tasks):
                if self.cities[task.day][task.account.city] > 1:
                    continue  # already shares its day with the same city
                self._regroup(task)

    def _regroup(self, task: _Task) -> None:
        city = task.account.city
        here = task.day
        for day in task.window:
            if day == here or not self.cities[day].get(city):
                continue
            if len(self.on_day[day]) < self.capacity:
                self._take(task)
                self._put(task, day)
                return
            for other in self.on_day[day]:
                if other.account.city == city or here not in other.window:
                    continue
                if self.cities[day][other.account.city] > 1:
                    continue  # it is grouped where it is
                self._take(task)
                self._take(other)
                self._put(task, day)
                self._put(other, here)
                return


def _order_key(task: _Task) -> tuple[bool, float, int]:
    return (not task.account.priority, -task.account.value, task.index)


def plan_visits(
    accounts: Iterable[AccountIn],
    capacity: dict[int, int],
    start: datetime.date,
    weeks: int,
    is_working: Callable[[datetime.date], bool],
    travel: Travel | None = None,
) -> Plan:
    """Plan ``weeks`` weeks from ``start``. ``capacity`` maps a person to visits per day.
    With ``travel``, days are routes a person can drive (see the module's docstring)."""
    if travel is not None:
        return _plan_travel(accounts, capacity, start, weeks, is_working, travel)
    return _plan(accounts, capacity, start, weeks, is_working, greedy=True)


def plan_first_come(
    accounts: Iterable[AccountIn],
    capacity: dict[int, int],
    start: datetime.date,
    weeks: int,
    is_working: Callable[[datetime.date], bool],
) -> Plan:
    """The baseline: accounts in order, each visit on the first free day, nothing moved."""
    return _plan(accounts, capacity, start, weeks, is_working, greedy=False)


def _plan(
    accounts: Iterable[AccountIn],
    capacity: dict[int, int],
    start: datetime.date,
    weeks: int,
    is_working: Callable[[datetime.date], bool],
    *,
    greedy: bool,
) -> Plan:
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    days = horizon_days(start, weeks, is_working)
    end = start + datetime.timedelta(weeks=weeks)
    tasks, unserved = _tasks(accounts, start, end, days)
    due = len(tasks) + len(unserved)
    people: dict[int, _Person] = {}
    order = sorted(tasks, key=_order_key) if greedy else tasks
    for task in order:
        person_id = task.account.person
        assert person_id is not None  # noqa: S101 - tasks without a person were set aside
        cap = capacity.get(person_id, 0)
        if cap < 1:
            unserved.append(Unserved(task.account.id, person_id, task.due, NO_CAPACITY_SET,
                                     task.account.value))  # fmt: skip
            continue
        person = people.get(person_id)
        if person is None:
            person = people[person_id] = _Person(cap, len(days))
        if greedy:
            placed = person.place(task)
        else:
            free = [d for d in task.window if len(person.on_day[d]) < cap]
            placed = bool(free)
            if placed:
                person._put(task, free[0])
        if not placed:
            unserved.append(Unserved(task.account.id, person_id, task.due, NO_CAPACITY,
                                     task.account.value))  # fmt: skip
    if greedy:
        for person in people.values():
            person.group_cities()
    visits = _placed_visits(tasks, days)
    unserved.sort(key=lambda u: (u.value, u.account, u.due))
    return Plan(visits=visits, unserved=unserved, due=due)


def _placed_visits(tasks: list[_Task], days: list[datetime.date]) -> list[Visit]:
    """The plan's visits: every placed task, by person, day, city and account."""
    visits = [
        Visit(
            t.account.id,
            t.account.person,
            days[t.day],
            t.due,
            t.account.city,
            t.executive,
            t.account.priority,
        )  # fmt: skip
        for t in tasks
        if t.day >= 0 and t.account.person is not None
    ]
    visits.sort(key=lambda v: (v.person, v.day, v.city, v.account))
    return visits


def check_capacity(plan: Plan, capacity: dict[int, int]) -> bool:
    """No person has more visits on a day than their capacity."""
    load: dict[tuple[int, datetime.date], int] = defaultdict(int)
    for visit in plan.visits:
        load[visit.person, visit.day] += 1
    return all(n <= capacity.get(person, 0) for (person, _), n in load.items())


# --- days a person can drive ------------------------------------------------------------------


class _Roads:
    """One person's road arithmetic, with the paths of the days it has met cached."""

    def __init__(self, travel: Travel, base: str | None, capacity: int) -> None:
        self.travel = travel
        self.base = base if base is not None and travel.known(base) else None
        self.capacity = capacity
        self.per_visit = travel.workday_minutes / capacity
        self._paths: dict[tuple[str | None, frozenset[str], str | None], tuple[float, float]] = {}
        self._hops: dict[tuple[str, str], bool] = {}

    def path(
        self, start: str | None, cities: frozenset[str], end: str | None
    ) -> tuple[float, float]:
        key = (start, cities, end)
        found = self._paths.get(key)
        if found is None:
            found = self._paths[key] = self.travel.path(start, cities, end)
        return found

    def lost(self, start: str | None, cities: frozenset[str], end: str | None) -> int:
        """Visits the day's travel takes off its capacity."""
        return lost_visits(self.path(start, cities, end)[1], self.per_visit)

    def near(self, a: str, b: str) -> bool:
        if a == b:
            return True
        key = (a, b) if a < b else (b, a)
        ok = self._hops.get(key)
        if ok is None:
            known = self.travel.known(a) and self.travel.known(b)
            ok = known and (
                self.travel.minutes(self.travel.road_km(a, b)) <= self.travel.hop_minutes
            )
            self._hops[key] = ok
        return ok

    def day_trip(self, city: str) -> bool:
        """A day from the base to ``city`` and back leaves room for a visit."""
        return self.lost(self.base, frozenset([city]), self.base) < self.capacity

    def trip(self, city: str) -> bool:
        """Travelling from the base to ``city`` (or back) leaves room for a visit that day:
        a trip of several days with nights there can reach it."""
        if self.base is None or not self.travel.known(city):
            return False
        return self.lost(self.base, frozenset([city]), city) < self.capacity


def lost_visits(minutes: float, per_visit: float) -> int:
    """Visits ``minutes`` of travel take off a day: one per ``per_visit`` minutes or part."""
    return ceil(minutes / per_visit - 1e-9)


class _Block:
    """Consecutive working days away: out from the base on the first, nights in ``anchor``,
    back on the last."""

    __slots__ = ("anchor", "first", "last")

    def __init__(self, anchor: str, first: int, last: int) -> None:
        self.anchor, self.first, self.last = anchor, first, last


class _RouteDay:
    __slots__ = ("block", "cities", "tasks")

    def __init__(self) -> None:
        self.tasks: list[_Task] = []
        self.cities: dict[str, int] = defaultdict(int)
        self.block: _Block | None = None


class _Driver:
    """One person's days under the road model."""

    def __init__(self, roads: _Roads, n_days: int) -> None:
        self.roads = roads
        self.days = [_RouteDay() for _ in range(n_days)]
        self.blocks: list[_Block] = []
        self._budget = AUGMENT_BUDGET

    def ends(self, day: int, block: _Block | None = None) -> tuple[str | None, str | None]:
        """Where ``day`` starts and ends (as part of ``block`` when given)."""
        block = block or self.days[day].block
        base = self.roads.base
        if block is None:
            return base, base
        return (base if day == block.first else block.anchor,
                base if day == block.last else block.anchor)  # fmt: skip

    def cost(
        self, day: int, task: _Task, without: _Task | None = None, block: _Block | None = None
    ) -> float | None:
        """The minutes of travel ``task`` adds to ``day`` (after taking ``without`` off it,
        as part of ``block`` when given), or ``None`` when the day cannot take it."""
        d = self.days[day]
        roads = self.roads
        if without is None and len(d.tasks) >= roads.capacity:
            return None
        city = task.account.city
        block = block or d.block
        if block is not None and not roads.near(city, block.anchor):
            return None
        cities = dict(d.cities)
        n = len(d.tasks)
        if without is not None:
            cities[without.account.city] -= 1
            n -= 1
        present = {c for c, k in cities.items() if k > 0}
        if n + 1 > roads.capacity:
            return None
        if city not in present:
            for other in present:
                if not roads.near(city, other):
                    return None
        start, end = self.ends(day, block)
        after = frozenset(present | {city})
        if n + 1 + roads.lost(start, after, end) > roads.capacity:
            return None
        return roads.path(start, after, end)[1] - roads.path(start, frozenset(present), end)[1]

    def fits_as_is(self, day: int, block: _Block) -> bool:
        """``day``'s visits still fit when it becomes part of ``block``."""
        d = self.days[day]
        start, end = self.ends(day, block)
        cities = frozenset(c for c, k in d.cities.items() if k > 0)
        return len(d.tasks) + self.roads.lost(start, cities, end) <= self.roads.capacity

    def put(self, task: _Task, day: int) -> None:
        task.day = day
        self.days[day].tasks.append(task)
        self.days[day].cities[task.account.city] += 1

    def take(self, task: _Task) -> None:
        d = self.days[task.day]
        d.tasks.remove(task)
        d.cities[task.account.city] -= 1
        task.day = -1

    def place(self, task: _Task) -> bool:
        """A day trip: the day of the window adding the least travel, else make room."""
        best: tuple[float, int] | None = None
        for day in task.window:
            if self.days[day].block is not None:
                continue
            extra = self.cost(day, task)
            if extra is not None and (best is None or extra < best[0] - 1e-9):
                best = (extra, day)
        if best is not None:
            self.put(task, best[1])
            return True
        self._budget = AUGMENT_BUDGET
        path = self._augment(task, set(), AUGMENT_DEPTH)
        if path is None:
            return False
        for moved, day in path:
            if moved.day >= 0:
                self.take(moved)
            self.put(moved, day)
        return True

    def _augment(self, task: _Task, seen: set[int], depth: int) -> list[tuple[_Task, int]] | None:
        """Moves that make room for ``task``, deepest first (Kuhn's search, each move
        checked against the road and the capacity; each day changes once per search)."""
        for day in task.window:
            if (
                day not in seen
                and self.days[day].block is None
                and self.cost(day, task) is not None
            ):
                return [(task, day)]
        if depth == 0:
            return None
        for day in task.window:
            if day in seen or self.days[day].block is not None:
                continue
            seen.add(day)
            for other in list(self.days[day].tasks):
                if other.account.priority and not task.account.priority:
                    continue
                self._budget -= 1
                if self._budget < 0:
                    return None
                if self.cost(day, task, without=other) is None:
                    continue
                rest = self._augment(other, seen, depth - 1)
                if rest is not None:
                    return [*rest, (task, day)]
        return None

    def _free(self, day: int) -> bool:
        return (
            0 <= day < len(self.days) and not self.days[day].tasks and self.days[day].block is None
        )

    def place_away(self, task: _Task) -> bool:
        """A visit beyond a day trip: on a day of a trip to its region (nights there), by
        making a trip one day longer, or on a new two-day trip over free days."""
        window = set(task.window)
        best: tuple[float, int] | None = None
        for block in self.blocks:
            for day in range(block.first, block.last + 1):
                if day in window:
                    extra = self.cost(day, task)
                    if extra is not None and (best is None or extra < best[0] - 1e-9):
                        best = (extra, day)
        if best is not None:
            self.put(task, best[1])
            return True
        for block in self.blocks:  # one more night: the trip's new last day takes the visit
            new = block.last + 1
            if (
                new in window
                and self._free(new)
                and self.roads.near(task.account.city, block.anchor)
            ):
                longer = _Block(block.anchor, block.first, new)
                if (
                    self.fits_as_is(block.last, longer)
                    and self.cost(new, task, block=longer) is not None
                ):
                    self._adopt(block, longer)
                    self.put(task, new)
                    return True
        for first in sorted(window):
            for a, b in ((first, first + 1), (first - 1, first)):
                if not (self._free(a) and self._free(b)):
                    continue
                block = _Block(task.account.city, a, b)
                if self.cost(first, task, block=block) is not None:
                    self._adopt(None, block)
                    self.put(task, first)
                    return True
        return False

    def _adopt(self, old: _Block | None, new: _Block) -> None:
        if old is not None:
            self.blocks.remove(old)
        self.blocks.append(new)
        for day in range(new.first, new.last + 1):
            self.days[day].block = new

    def routes(self, person: int, days: Sequence[datetime.date]) -> list[Route]:
        out = []
        for index, d in enumerate(self.days):
            if not d.tasks and d.block is None:
                continue
            start, end = self.ends(index)
            cities = frozenset(c for c, k in d.cities.items() if k > 0)
            km, minutes = self.roads.path(start, cities, end)
            out.append(Route(person, days[index], tuple(sorted(cities)), len(d.tasks), km,
                             minutes, start or "", end or ""))  # fmt: skip
        return out


def _plan_travel(
    accounts: Iterable[AccountIn],
    capacity: dict[int, int],
    start: datetime.date,
    weeks: int,
    is_working: Callable[[datetime.date], bool],
    travel: Travel,
) -> Plan:
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    accounts = list(accounts)
    days = horizon_days(start, weeks, is_working)
    end = start + datetime.timedelta(weeks=weeks)
    tasks, unserved = _tasks(accounts, start, end, days)
    due = len(tasks) + len(unserved)
    bases = base_cities(accounts, travel)
    drivers: dict[int, _Driver] = {}
    away: list[_Task] = []
    # Day trips first, then trips with nights away on the days left free.
    for task in sorted(tasks, key=_order_key):
        person_id = task.account.person
        assert person_id is not None  # noqa: S101 - tasks without a person were set aside
        cap = capacity.get(person_id, 0)
        reason = None
        if cap < 1:
            reason = NO_CAPACITY_SET
        else:
            driver = drivers.get(person_id)
            if driver is None:
                roads = _Roads(travel, bases.get(person_id), cap)
                driver = drivers[person_id] = _Driver(roads, len(days))
            city = task.account.city
            if not travel.known(city) or driver.roads.day_trip(city):
                if not driver.place(task):
                    reason = NO_CAPACITY
            elif driver.roads.trip(city):
                away.append(task)
            else:
                reason = TOO_FAR
        if reason is not None:
            unserved.append(Unserved(task.account.id, person_id, task.due, reason,
                                     task.account.value))  # fmt: skip
    for task in away:  # already in value order
        person_id = task.account.person
        assert person_id is not None  # noqa: S101
        if not drivers[person_id].place_away(task):
            unserved.append(Unserved(task.account.id, person_id, task.due, NO_CAPACITY,
                                     task.account.value))  # fmt: skip
    visits = _placed_visits(tasks, days)
    unserved.sort(key=lambda u: (u.value, u.account, u.due))
    unknown = sorted(
        {a.city for a in accounts if a.person is not None and not travel.known(a.city)}
    )
    plan_routes = [r for p, d in sorted(drivers.items()) for r in d.routes(p, days)]
    return Plan(visits=visits, unserved=unserved, due=due, routes=plan_routes,
                unknown_cities=unknown)  # fmt: skip


def base_cities(accounts: Iterable[AccountIn], travel: Travel) -> dict[int, str]:
    """Each person's base city: the one ``travel`` names, else the known city most of their
    accounts are in (ties: the smallest code)."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for a in accounts:
        if a.person is not None and travel.known(a.city):
            counts[a.person][a.city] += 1
    out = {p: min(c, key=lambda city: (-c[city], city)) for p, c in counts.items()}
    out.update({p: city for p, city in travel.base.items() if travel.known(city)})
    return out


def routes(visits: Iterable[Visit], travel: Travel, bases: dict[int, str]) -> list[Route]:
    """Every person's day as a day trip from their base (how the benchmark measures plans
    made without travel)."""
    cells: dict[tuple[int, datetime.date], list[str]] = defaultdict(list)
    for v in visits:
        cells[v.person, v.day].append(v.city)
    out = []
    for (person, day), cities in sorted(cells.items()):
        base = bases.get(person)
        km, minutes = travel.path(base, cities, base)
        out.append(Route(person, day, tuple(sorted(set(cities))), len(cities), km, minutes,
                         base or "", base or ""))  # fmt: skip
    return out


def check_travel(plan: Plan, capacity: dict[int, int], travel: Travel,
                 bases: dict[int, str]) -> list[str]:  # fmt: skip
    """What is wrong with a plan's days under ``travel`` (its own routes, or day trips from
    the bases for a plan made without travel): a day mixing cities more than
    ``hop_minutes`` apart, a route that does not match the day's visits, or one whose
    visits and travel do not fit its capacity. Empty when every day can be made."""
    problems = []
    own = plan.routes or routes(plan.visits, travel, bases)
    visited: dict[tuple[int, datetime.date], list[str]] = defaultdict(list)
    for v in plan.visits:
        visited[v.person, v.day].append(v.city)
    for route in own:
        cap = capacity.get(route.person, 0)
        cities = route.cities
        where = f"{route.person} {route.day}"
        if sorted(set(visited.get((route.person, route.day), []))) != list(cities):
            problems.append(f"{where}: the route is not the day's visits")
        for i, a in enumerate(cities):
            for b in cities[i + 1 :]:
                if not (travel.known(a) and travel.known(b)):
                    problems.append(f"{where}: {a} with unknown {b}")
                elif travel.minutes(travel.road_km(a, b)) > travel.hop_minutes + 1e-6:
                    problems.append(f"{where}: {a}-{b} too far apart")
        _km, minutes = travel.path(route.start or None, cities, route.end or None)
        lost = lost_visits(minutes, travel.workday_minutes / cap) if cap else 0
        if route.visits + lost > cap:
            problems.append(f"{where}: {route.visits} visits and {minutes:.0f} min of "
                            f"travel over capacity {cap}")  # fmt: skip
    # A night away is followed by a day that starts where it ended.
    for earlier, later in itertools.pairwise(sorted(own, key=lambda r: (r.person, r.day))):
        base = bases.get(earlier.person, "")
        if earlier.person == later.person and earlier.end != base and later.start != earlier.end:
            problems.append(f"{later.person} {later.day}: starts away from the night before")
    return problems
