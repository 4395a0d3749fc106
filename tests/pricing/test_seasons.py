"""A proposal's seasons of another year moved into the months a what-if reprices
(the what-if itself: test_quote_form.py)."""

import datetime as dt
from decimal import Decimal as D

from kam.pricing import seasons
from kam.pricing.rating import Card, Peak, Surcharges, ZoneMatrix

FIRST, LAST = dt.date(2025, 10, 1), dt.date(2026, 9, 30)


def card(*peaks: Peak) -> Card:
    return Card(zones=ZoneMatrix({}), rules={}, surcharges=Surcharges(peaks=peaks))


def test_new_year_is_read_from_the_lunar_calendar():
    assert [seasons.spring_festival(y) for y in (2026, 2027, 2040)] == [
        dt.date(2026, 2, 17), dt.date(2027, 2, 6), dt.date(2040, 2, 12),
    ]  # fmt: skip


def test_seasons_inside_the_period_stay_and_a_card_without_others_is_unchanged():
    inside = card(Peak(dt.date(2025, 11, 1), dt.date(2025, 11, 15), D(10)))
    assert seasons.into_period(inside, FIRST, LAST) is inside


def test_next_years_11_11_lands_on_the_periods_11_11():
    moved = seasons.into_period(card(Peak(dt.date(2026, 11, 1), dt.date(2026, 11, 15), D(10))),
                                FIRST, LAST)  # fmt: skip
    assert moved.surcharges.peaks == (Peak(dt.date(2025, 11, 1), dt.date(2025, 11, 15), D(10)),)


def test_a_spring_festival_season_follows_the_lunar_new_year():
    """2027's New Year is 6 February; a season from ten days before to seven after moves to
    2026's New Year, 17 February, keeping its ten and seven days."""
    ny = dt.date(2027, 2, 6)
    peak = Peak(ny - dt.timedelta(days=10), ny + dt.timedelta(days=7), D(15))
    got = seasons.into_period(card(peak), FIRST, LAST).surcharges.peaks
    assert got == (Peak(dt.date(2026, 2, 7), dt.date(2026, 2, 24), D(15)),)


def test_a_moved_season_that_would_overlap_one_already_there_is_left_out():
    there = Peak(dt.date(2025, 11, 5), dt.date(2025, 11, 20), D(8))
    later = Peak(dt.date(2026, 11, 1), dt.date(2026, 11, 15), D(10))
    december = Peak(dt.date(2026, 12, 8), dt.date(2026, 12, 16), D(5))
    got = seasons.into_period(card(later, there, december), FIRST, LAST).surcharges.peaks
    assert got == (there, Peak(dt.date(2025, 12, 8), dt.date(2025, 12, 16), D(5)))


def test_29_february_becomes_the_28th_in_a_common_year():
    leap = Peak(dt.date(2028, 2, 29), dt.date(2028, 3, 3), D(5))
    got = seasons.into_period(card(leap), FIRST, LAST).surcharges.peaks
    assert got == (Peak(dt.date(2026, 2, 28), dt.date(2026, 3, 3), D(5)),)


def test_a_season_far_from_the_period_still_lands_in_it():
    old = Peak(dt.date(2019, 6, 1), dt.date(2019, 6, 18), D(3))
    got = seasons.into_period(card(old), FIRST, LAST).surcharges.peaks
    assert got == (Peak(dt.date(2026, 6, 1), dt.date(2026, 6, 18), D(3)),)
