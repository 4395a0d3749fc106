"""The visit planner on its own: no database, a calendar of plain functions."""

import datetime
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam.core.workcal import WorkingCalendar
from kam.coverage.planner import (
    NO_CAPACITY,
    NO_CAPACITY_SET,
    NO_PERSON,
    NO_WORKING_DAY,
    AccountIn,
    check_capacity,
    due_dates,
    plan_first_come,
    plan_visits,
)

MONDAY = datetime.date(2026, 7, 6)
WEEKDAYS = WorkingCalendar()


def test_due_dates_follow_the_cadence_from_the_last_visit() -> None:
    account = AccountIn(1, 1, cadence_days=14, last_visit=MONDAY - datetime.timedelta(days=3))
    assert due_dates(account, MONDAY, MONDAY + datetime.timedelta(weeks=4)) == [
        MONDAY + datetime.timedelta(days=11),
        MONDAY + datetime.timedelta(days=25),
    ]


def test_a_cadence_of_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="cadence"):
        due_dates(AccountIn(1, 1, cadence_days=0), MONDAY, MONDAY + datetime.timedelta(days=7))


def test_weekly_accounts_get_one_visit_a_week_on_working_days() -> None:
    accounts = [AccountIn(i, 1, cadence_days=7) for i in range(3)]
    plan = plan_visits(accounts, {1: 2}, MONDAY, 4, WEEKDAYS.is_working)
    assert plan.due == 12 and len(plan.visits) == 12 and not plan.unserved
    assert all(v.day.weekday() < 5 for v in plan.visits)
    for account in range(3):
        days = sorted(v.day for v in plan.visits if v.account == account)
        weeks = {(d - MONDAY).days // 7 for d in days}
        assert weeks == {0, 1, 2, 3}
    assert check_capacity(plan, {1: 2})


def test_public_holidays_and_make_up_days_are_respected() -> None:
    # National Day 2026: 1-7 October off, Saturday 10 October a make-up working day.
    days_off = {datetime.date(2026, 10, d): False for d in range(1, 8)}
    calendar = WorkingCalendar(exceptions={**days_off, datetime.date(2026, 10, 10): True},
                               known_years=frozenset({2026}))  # fmt: skip
    accounts = [AccountIn(i, 1, cadence_days=7) for i in range(6)]
    plan = plan_visits(accounts, {1: 1}, datetime.date(2026, 9, 28), 2, calendar.is_working)
    used = {v.day for v in plan.visits}
    assert not used & set(days_off)
    assert datetime.date(2026, 10, 10) in used  # the make-up Saturday is a working day
    assert check_capacity(plan, {1: 1})


def test_a_window_without_working_days_is_reported_not_dropped() -> None:
    off = {MONDAY + datetime.timedelta(days=d): False for d in range(7)}
    calendar = WorkingCalendar(exceptions=off)
    plan = plan_visits([AccountIn(1, 1, cadence_days=7, value=5)], {1: 3}, MONDAY, 1,
                       calendar.is_working)  # fmt: skip
    assert not plan.visits
    assert [(u.account, u.reason) for u in plan.unserved] == [(1, NO_WORKING_DAY)]


def test_no_one_is_booked_beyond_capacity_and_the_lowest_value_goes_unserved() -> None:
    # One person, one visit a day, one week (5 slots), six weekly accounts.
    accounts = [AccountIn(i, 1, cadence_days=7, value=float(i * 100)) for i in range(6)]
    plan = plan_visits(accounts, {1: 1}, MONDAY, 1, WEEKDAYS.is_working)
    assert len(plan.visits) == 5 and check_capacity(plan, {1: 1})
    assert [(u.account, u.reason) for u in plan.unserved] == [(0, NO_CAPACITY)]


def test_unserved_are_listed_lowest_value_first() -> None:
    accounts = [AccountIn(i, 1, cadence_days=7, value=v) for i, v in enumerate([50, 10, 30, 90])]
    plan = plan_visits(accounts, {1: 1}, MONDAY, 1, lambda d: d.weekday() < 2)  # 2 slots
    assert [u.value for u in plan.unserved] == [10, 30]


def test_accounts_without_a_person_or_capacity_are_reported_with_the_reason() -> None:
    plan = plan_visits(
        [AccountIn(1, None, cadence_days=7), AccountIn(2, 9, cadence_days=7)],
        {9: 0}, MONDAY, 1, WEEKDAYS.is_working,
    )  # fmt: skip
    assert sorted((u.account, u.reason) for u in plan.unserved) == [
        (1, NO_PERSON), (2, NO_CAPACITY_SET)
    ]  # fmt: skip


def test_visits_to_the_same_city_are_grouped_on_one_day() -> None:
    accounts = [
        AccountIn(1, 1, cadence_days=7, city="350100", value=3),
        AccountIn(2, 1, cadence_days=7, city="440100", value=2),
        AccountIn(3, 1, cadence_days=7, city="350100", value=1),
    ]
    plan = plan_visits(accounts, {1: 2}, MONDAY, 1, WEEKDAYS.is_working)
    day = {v.account: v.day for v in plan.visits}
    assert day[1] == day[3] != day[2]


def test_accounts_with_open_alerts_or_complaints_come_earlier() -> None:
    # Twenty accounts compete for one visit a day; the urgent one has the least value and
    # was visited yesterday, yet it is planned in the first days.
    accounts = [AccountIn(i, 1, cadence_days=14, value=1000 - i) for i in range(20)]
    urgent = AccountIn(99, 1, cadence_days=14, value=0, priority=True,
                       last_visit=MONDAY - datetime.timedelta(days=1))  # fmt: skip
    plan = plan_visits([*accounts, urgent], {1: 1}, MONDAY, 2, WEEKDAYS.is_working)
    first = [v for v in plan.visits if v.account == 99]
    assert first and first[0].day <= MONDAY + datetime.timedelta(days=4)
    assert first[0].priority


def test_executive_visits_follow_the_rule() -> None:
    plan = plan_visits([AccountIn(1, 1, cadence_days=7, executive_every=2)], {1: 1}, MONDAY, 4,
                       WEEKDAYS.is_working)  # fmt: skip
    assert [v.executive for v in sorted(plan.visits, key=lambda v: v.day)] == [
        True, False, True, False
    ]  # fmt: skip


def test_moving_earlier_visits_places_more_than_first_come() -> None:
    # Short cadences and one visit a day: first come fills days that later visits needed;
    # the planner moves earlier visits within their windows and places more.
    rng = random.Random(46)
    accounts = [
        AccountIn(i, 1, cadence_days=rng.choice([3, 7, 14]), value=float(rng.randint(1, 100)),
                  last_visit=MONDAY - datetime.timedelta(days=rng.randint(0, 20)))
        for i in range(rng.randint(5, 15))
    ]  # fmt: skip
    first = plan_first_come(accounts, {1: 1}, MONDAY, 2, WEEKDAYS.is_working)
    best = plan_visits(accounts, {1: 1}, MONDAY, 2, WEEKDAYS.is_working)
    assert (best.due, len(best.visits), len(first.visits)) == (14, 10, 9)
    assert check_capacity(best, {1: 1}) and check_capacity(first, {1: 1})


@given(
    cadences=st.lists(st.sampled_from([1, 3, 7, 14, 30]), min_size=1, max_size=30),
    capacity=st.integers(1, 3),
    weeks=st.integers(1, 4),
)
def test_never_beyond_capacity_and_never_fewer_than_first_come(
    cadences: list[int], capacity: int, weeks: int
) -> None:
    accounts = [AccountIn(i, i % 2, cadence_days=c, value=float(i), city=str(i % 3))
                for i, c in enumerate(cadences)]  # fmt: skip
    caps = {0: capacity, 1: capacity}
    best = plan_visits(accounts, caps, MONDAY, weeks, WEEKDAYS.is_working)
    first = plan_first_come(accounts, caps, MONDAY, weeks, WEEKDAYS.is_working)
    assert check_capacity(best, caps)
    assert len(best.visits) >= len(first.visits)
    assert len(best.visits) + len(best.unserved) == best.due
    for visit in best.visits:
        assert WEEKDAYS.is_working(visit.day)
        assert visit.due <= visit.day  # never before the visit falls due
