"""The SLA clock against the minute-by-minute baseline: holidays, make-up working days,
midnight, business-hour edges and pauses (property-based), plus a few worked examples."""

import datetime

import chinese_calendar
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from kam.core.workcal import WorkingCalendar, weekday_rule
from kam.service import clock as c

CST = datetime.timezone(datetime.timedelta(hours=8))


def _calendar() -> WorkingCalendar:
    exceptions: dict[datetime.date, bool] = {}
    for working, table in ((False, chinese_calendar.holidays), (True, chinese_calendar.workdays)):
        for day in table:
            if working != weekday_rule(day):
                exceptions[day] = working
    return WorkingCalendar(exceptions=exceptions, known_years=frozenset(range(2004, 2027)))


CAL = _calendar()
BUSINESS = c.Clock(CAL.is_working, start=9 * 60, end=18 * 60, first=datetime.date(2020, 1, 1),
                   last=datetime.date(2030, 12, 31))  # fmt: skip
NIGHT_SHIFT = c.Clock(CAL.is_working, start=0, end=1440, first=datetime.date(2020, 1, 1),
                      last=datetime.date(2030, 12, 31))  # fmt: skip
CALENDAR = c.Clock(calendar_hours=True)


def m(*args: int) -> int:
    return c.to_minute(datetime.datetime(*args, tzinfo=CST))  # type: ignore[misc]


# Around the 2025 Spring Festival (holiday 28 Jan - 4 Feb, make-up Sunday 26 Jan and
# Saturday 8 Feb) and the 2025 National Day (1-8 Oct, make-up Sunday 28 Sep, Saturday 11 Oct).
WINDOWS = [m(2025, 1, 20), m(2025, 9, 24), m(2026, 2, 10), m(2024, 12, 28)]


@st.composite
def segments(draw: st.DrawFn) -> tuple[list[c.Segment], int]:
    base = draw(st.sampled_from(WINDOWS)) + draw(st.integers(0, 8 * 1440))
    cuts = sorted(draw(st.lists(st.integers(0, 6 * 1440), min_size=1, max_size=6, unique=True)))
    points = [base + x for x in cuts]
    open_last = draw(st.booleans()) or len(points) % 2 == 1
    segs: list[c.Segment] = [(points[i], points[i + 1]) for i in range(0, len(points) - 1, 2)]
    if open_last:
        segs.append((points[-1] + 1, None))
    at = base + draw(st.integers(0, 8 * 1440))
    return segs, at


CLOCKS = st.sampled_from([BUSINESS, NIGHT_SHIFT, CALENDAR])


@given(segments(), CLOCKS)
def test_elapsed_matches_the_minute_by_minute_count(case: tuple, clock: c.Clock) -> None:
    segs, at = case
    assert c.elapsed(clock, segs, at) == c.naive_elapsed(clock, segs, at)


@given(segments(), CLOCKS, st.integers(0, 3 * 9 * 60))
def test_due_matches_the_minute_by_minute_walk(case: tuple, clock: c.Clock, target: int) -> None:
    segs, _ = case
    assert c.due(clock, segs, target) == c.naive_due(clock, segs, target)


@given(st.lists(segments(), min_size=1, max_size=8), st.integers(1, 2000))
def test_vectorised_functions_agree_with_the_single_case_ones(cases: list, target: int) -> None:
    case_ids, starts, ends, ats = [], [], [], []
    for i, (segs, at) in enumerate(cases):
        ats.append(at)
        for start, end in segs:
            case_ids.append(i)
            starts.append(start)
            ends.append(-1 if end is None else end)
    arr = {k: np.array(v, dtype=np.int64) for k, v in
           {"case": case_ids, "start": starts, "end": ends, "at": ats}.items()}  # fmt: skip
    got = c.elapsed_many(BUSINESS, arr["case"], arr["start"], arr["end"], arr["at"], len(cases))
    assert got.tolist() == [c.elapsed(BUSINESS, s, a) for s, a in cases]
    targets = np.full(len(cases), target, dtype=np.int64)
    dues = c.due_many(BUSINESS, arr["case"], arr["start"], arr["end"], targets, len(cases))
    expected = [c.due(BUSINESS, s, target) for s, _ in cases]
    assert dues.tolist() == [-1 if d is None else d for d in expected]


def test_a_friday_evening_complaint_is_due_after_the_weekend() -> None:
    # Opened Friday 2025-03-07 17:00; 4 business hours: 1 h on Friday, 3 h on Monday.
    assert c.due(BUSINESS, [(m(2025, 3, 7, 17), None)], 4 * 60) == m(2025, 3, 10, 12)


def test_the_spring_festival_stops_the_clock_and_the_make_up_sunday_runs_it() -> None:
    # Opened Friday 24 Jan 2025 at 17:00: Saturday off, Sunday 26 Jan a make-up working
    # day, Monday 27 Jan working, then the holiday until 4 Feb.
    opened = m(2025, 1, 24, 17)
    assert c.due(BUSINESS, [(opened, None)], 60 + 9 * 60) == m(2025, 1, 26, 18)
    assert c.due(BUSINESS, [(opened, None)], 60 + 18 * 60 + 1) == m(2025, 2, 5, 9, 1)


def test_a_pause_waiting_for_the_customer_is_not_counted() -> None:
    segs: list[c.Segment] = [(m(2025, 3, 3, 9), m(2025, 3, 3, 11)), (m(2025, 3, 4, 9), None)]
    assert c.elapsed(BUSINESS, segs, m(2025, 3, 4, 10)) == 3 * 60
    assert c.due(BUSINESS, segs, 4 * 60) == m(2025, 3, 4, 11)
    # Paused for good before the target: never due.
    assert c.due(BUSINESS, segs[:1], 4 * 60) is None


def test_a_target_met_exactly_at_closing_time_is_due_at_closing_time() -> None:
    assert c.due(BUSINESS, [(m(2025, 3, 3, 9), None)], 9 * 60) == m(2025, 3, 3, 18)


def test_calendar_hours_count_nights_and_holidays() -> None:
    opened = m(2025, 10, 1, 23, 30)
    assert c.due(CALENDAR, [(opened, None)], 60) == m(2025, 10, 2, 0, 30)
