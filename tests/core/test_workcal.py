"""The working calendar: the State Council's exceptions over the weekday rule."""

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam.core.calendar import calendar_seed, working_calendar
from kam.core.models import CalendarDay, Festival
from kam.core.workcal import WorkingCalendar

D = datetime.date

# A small schedule of our own: Spring Festival 2026 as published, plus a made-up year edge.
EXCEPTIONS = {
    D(2026, 2, 14): True,  # Saturday, make-up working day
    **{D(2026, 2, d): False for d in (16, 17, 18, 19, 20, 23)},
    D(2026, 2, 28): True,  # Saturday, make-up working day
    D(2026, 12, 31): False,
}
CAL = WorkingCalendar(exceptions=EXCEPTIONS, known_years=frozenset({2026}))


def _naive_count(start: datetime.date, end: datetime.date) -> int:
    n, day = 0, start
    while day < end:
        n += CAL.is_working(day)
        day += datetime.timedelta(days=1)
    return n


def test_holidays_and_make_up_days_override_the_weekday_rule() -> None:
    assert CAL.is_working(D(2026, 2, 14))  # a Saturday worked
    assert not CAL.is_working(D(2026, 2, 17))  # a Tuesday off
    assert CAL.is_working(D(2026, 2, 24))  # an ordinary Tuesday
    assert not CAL.is_working(D(2026, 2, 22))  # an ordinary Sunday


def test_next_previous_and_adding_working_days_skip_the_holiday() -> None:
    assert CAL.next_working_day(D(2026, 2, 15)) == D(2026, 2, 24)
    assert CAL.next_working_day(D(2026, 2, 13), include=False) == D(2026, 2, 14)
    assert CAL.previous_working_day(D(2026, 2, 22)) == D(2026, 2, 14)
    assert CAL.add_working_days(D(2026, 2, 13), 2) == D(2026, 2, 24)
    assert CAL.add_working_days(D(2026, 2, 24), -2) == D(2026, 2, 13)
    assert CAL.add_working_days(D(2026, 2, 24), 0) == D(2026, 2, 24)


def test_confirmed_only_for_published_years() -> None:
    assert CAL.is_confirmed(D(2026, 5, 1))
    assert not CAL.is_confirmed(D(2027, 5, 1))


@given(
    st.dates(D(1995, 1, 1), D(2035, 12, 31)),
    st.integers(min_value=0, max_value=4000),
)
def test_counting_matches_a_day_by_day_count_anywhere(start: datetime.date, days: int) -> None:
    end = start + datetime.timedelta(days=days)
    assert CAL.count_working_days(start, end) == _naive_count(start, end)
    assert CAL.count_working_days(end, start) == -_naive_count(start, end)
    assert (
        list(CAL.working_days(start, end))[:5]
        == [
            d
            for d in (start + datetime.timedelta(i) for i in range(min(days, 40)))
            if CAL.is_working(d)
        ][:5]
    )


@pytest.mark.django_db
def test_the_migration_seeded_the_published_years() -> None:
    calendar = working_calendar()
    # Spring Festival 2026: 15-23 February off, with 14 and 28 February worked.
    assert not calendar.is_working(D(2026, 2, 17))
    assert calendar.is_working(D(2026, 2, 14))
    assert calendar.is_working(D(2026, 2, 28))
    assert CalendarDay.objects.get(day=D(2026, 10, 1)).festival == Festival.NATIONAL_DAY
    assert calendar.is_confirmed(D(2026, 1, 1))
    assert not calendar.is_confirmed(D(2099, 1, 1))


@pytest.mark.django_db
def test_seeding_again_keeps_an_administrators_edits() -> None:
    # An administrator corrects one day and adds next year's first holiday.
    CalendarDay.objects.filter(day=D(2026, 10, 7)).update(working=True, source="admin")
    CalendarDay.objects.create(day=D(2027, 1, 1), working=False, festival=Festival.NEW_YEAR)
    assert calendar_seed() == 0  # the package's own rows were already there
    assert CalendarDay.objects.get(day=D(2026, 10, 7)).working
    calendar = working_calendar()
    assert not calendar.is_working(D(2027, 1, 1))
    assert calendar.is_confirmed(D(2027, 6, 1))
    # A package row that went missing comes back.
    CalendarDay.objects.filter(day=D(2026, 2, 17)).delete()
    assert calendar_seed() == 1
    assert not working_calendar().is_working(D(2026, 2, 17))
