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

:func:`plan_first_come` is the baseline of the benchmark: accounts in the order they
come, each visit on the first day with room, nothing ever moved.
"""

from __future__ import annotations

import datetime
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

#: Why a due visit was not planned.
NO_PERSON = "no_person"  # nobody covers the account
NO_CAPACITY = "no_capacity"  # the person's days in the window are full
NO_WORKING_DAY = "no_working_day"  # the window holds no working day (holidays)
NO_CAPACITY_SET = "no_capacity_set"  # the person has no visits per day

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


@dataclass
class Plan:
    visits: list[Visit] = field(default_factory=list)
    unserved: list[Unserved] = field(default_factory=list)  # lowest value first
    due: int = 0

    @property
    def placed_share(self) -> float:
        return len(self.visits) / self.due if self.due else 1.0


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
) -> Plan:
    """Plan ``weeks`` weeks from ``start``. ``capacity`` maps a person to visits per day."""
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
    unserved.sort(key=lambda u: (u.value, u.account, u.due))
    return Plan(visits=visits, unserved=unserved, due=due)


def check_capacity(plan: Plan, capacity: dict[int, int]) -> bool:
    """No person has more visits on a day than their capacity."""
    load: dict[tuple[int, datetime.date], int] = defaultdict(int)
    for visit in plan.visits:
        load[visit.person, visit.day] += 1
    return all(n <= capacity.get(person, 0) for (person, _), n in load.items())
