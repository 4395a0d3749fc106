"""The working calendar: which days are working days in mainland China.

One calendar for the whole product: the visit planner books visits on working days, and
SLA clocks count business hours on them. A day is a working day by the weekday rule
(Monday to Friday) unless the State Council's schedule says otherwise: public holidays
(法定节假日, with the days off around them) are days off, and make-up working days (调休上班)
are working days even on a weekend. Those exceptions live in the database
(:class:`kam.core.models.CalendarDay`, seeded from the ``chinese-calendar`` package and
edited by administrators when the next year's schedule is published); this module is the
pure arithmetic over them, without Django.

Counting is O(1) after construction: the calendar keeps a prefix sum of working days over
its span, so ``count_working_days`` over years costs two lookups.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

_ONE_DAY = datetime.timedelta(days=1)


def weekday_rule(day: datetime.date) -> bool:
    """Working by default: Monday to Friday."""
    return day.weekday() < 5


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days with the published exceptions.

    ``exceptions`` maps a date to ``True`` (working, e.g. a make-up Saturday) or ``False``
    (a day off, e.g. a Spring Festival weekday). ``known_years`` are the years whose
    schedule has been published; days outside them follow the weekday rule, and
    :meth:`is_confirmed` says so.
    """

    exceptions: Mapping[datetime.date, bool] = field(default_factory=dict)
    known_years: frozenset[int] = frozenset()
    _first: datetime.date = field(init=False, repr=False, compare=False)
    _prefix: list[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        years = set(self.known_years) | {d.year for d in self.exceptions}
        # The prefix sum spans the known years padded by a year on each side; beyond that
        # the weekday rule is counted arithmetically.
        first = datetime.date(min(years, default=2000) - 1, 1, 1)
        last = datetime.date(max(years, default=2000) + 1, 12, 31)
        prefix = [0]
        day = first
        while day <= last:
            is_working = self.exceptions.get(day, weekday_rule(day))
            prefix.append(prefix[-1] + is_working)
            day += _ONE_DAY
        object.__setattr__(self, "_first", first)
        object.__setattr__(self, "_prefix", prefix)

    # --- single days ------------------------------------------------------------------------

    def is_working(self, day: datetime.date) -> bool:
        return self.exceptions.get(day, weekday_rule(day))

    def is_confirmed(self, day: datetime.date) -> bool:
        """Whether ``day``'s year has a published schedule (else only weekends are off)."""
        return day.year in self.known_years

    def next_working_day(self, day: datetime.date, *, include: bool = True) -> datetime.date:
        """The first working day on or after ``day`` (after it when ``include`` is false)."""
        if not include:
            day += _ONE_DAY
        while not self.is_working(day):
            day += _ONE_DAY
        return day

    def previous_working_day(self, day: datetime.date, *, include: bool = True) -> datetime.date:
        if not include:
            day -= _ONE_DAY
        while not self.is_working(day):
            day -= _ONE_DAY
        return day

    # --- ranges -----------------------------------------------------------------------------

    def count_working_days(self, start: datetime.date, end: datetime.date) -> int:
        """Working days in the half-open range ``[start, end)``; negative if ``end < start``."""
        if end < start:
            return -self.count_working_days(end, start)
        return self._count_before(end) - self._count_before(start)

    def working_days(self, start: datetime.date, end: datetime.date) -> Iterator[datetime.date]:
        """The working days in ``[start, end)``, in order."""
        day = start
        while day < end:
            if self.is_working(day):
                yield day
            day += _ONE_DAY

    def add_working_days(self, day: datetime.date, n: int) -> datetime.date:
        """The ``n``-th working day after ``day`` (``n`` may be negative; 0 gives ``day``)."""
        step = _ONE_DAY if n >= 0 else -_ONE_DAY
        remaining = abs(n)
        while remaining:
            day += step
            if self.is_working(day):
                remaining -= 1
        return day

    def _count_before(self, day: datetime.date) -> int:
        """Working days before ``day``, counted from the span's first day (may be negative)."""
        offset = (day - self._first).days
        if 0 <= offset < len(self._prefix):
            return self._prefix[offset]
        if offset < 0:
            return -_weekdays_between(day, self._first)
        last = self._first + datetime.timedelta(days=len(self._prefix) - 1)
        return self._prefix[-1] + _weekdays_between(last, day)


def _weekdays_between(start: datetime.date, end: datetime.date) -> int:
    """Monday-to-Friday days in ``[start, end)``, ``start <= end``."""
    days = (end - start).days
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    weekday = start.weekday()
    for i in range(rest):
        if (weekday + i) % 7 < 5:
            count += 1
    return count
