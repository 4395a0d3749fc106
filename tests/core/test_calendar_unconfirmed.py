"""``unconfirmed_years``: which years of a span have no official holidays entered, and the
sentence that tells an administrator how to enter them (the way it names must exist)."""

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from kam.core.calendar import (
    unconfirmed_years,
    unconfirmed_years_message,
    unconfirmed_years_short,
    working_calendar,
)
from kam.core.models import CalendarDay, Festival, User
from kam.core.workcal import WorkingCalendar

D = datetime.date
pytestmark = pytest.mark.django_db


def _last_known_year() -> int:
    return max(working_calendar().known_years)


def test_a_span_inside_known_years_has_none() -> None:
    year = _last_known_year()
    assert unconfirmed_years(D(year, 1, 1), D(year, 12, 31)) == []


def test_a_span_into_the_unknown_names_each_missing_year_in_order() -> None:
    year = _last_known_year()
    assert unconfirmed_years(D(year, 6, 1), D(year + 2, 1, 2)) == [year + 1, year + 2]


def test_the_end_counts_and_a_reversed_span_is_the_same_span() -> None:
    year = _last_known_year()
    assert unconfirmed_years(D(year, 12, 31), D(year + 1, 1, 1)) == [year + 1]
    assert unconfirmed_years(D(year + 1, 1, 1), D(year, 12, 31)) == [year + 1]


def test_datetimes_count_by_their_date() -> None:
    year = _last_known_year()
    start = datetime.datetime(year, 12, 31, 23, 0, tzinfo=datetime.UTC)
    assert unconfirmed_years(start, start + datetime.timedelta(hours=2)) == [year + 1]


def test_an_administrators_row_makes_the_year_known() -> None:
    year = _last_known_year() + 1
    assert unconfirmed_years(D(year, 1, 1), D(year, 1, 1)) == [year]
    CalendarDay.objects.create(day=D(year, 1, 1), working=False, festival=Festival.NEW_YEAR)
    assert unconfirmed_years(D(year, 1, 1), D(year, 1, 1)) == []


def test_a_given_calendar_is_used_without_a_query(django_assert_num_queries: Any) -> None:
    calendar = WorkingCalendar(known_years=frozenset({2030}))
    with django_assert_num_queries(0):
        assert unconfirmed_years(D(2029, 5, 1), D(2031, 5, 1), calendar) == [2029, 2031]


def test_the_message_names_the_years_and_the_way_in_both_languages() -> None:
    assert unconfirmed_years_message([]) == "" and unconfirmed_years_short([]) == ""
    with translation.override("en"):
        text = unconfirmed_years_message([2028, 2027])
        assert "2027, 2028" in text and "kam calendar seed" in text
        assert "/admin/core/calendarday/" in text
        assert unconfirmed_years_short([2027]) == "Holidays not entered: 2027"
    with translation.override("zh-hans"):
        text = unconfirmed_years_message([2027])
        assert "2027 年的法定节假日尚未录入" in text and "kam calendar seed" in text
        assert "/admin/core/calendarday/" in text


def test_the_named_admin_page_exists_and_adds_a_day(admin: User) -> None:
    client = Client()
    client.force_login(admin)
    assert client.get("/admin/core/calendarday/").status_code == 200
    year = _last_known_year() + 1
    page = client.post(
        "/admin/core/calendarday/add/",
        {"day": f"{year}-10-01", "working": "", "festival": Festival.NATIONAL_DAY.value},
    )
    assert page.status_code == 302, page.content.decode()[:2000]
    assert unconfirmed_years(D(year, 1, 1), D(year, 12, 31)) == []
