"""SLA clock arithmetic: how much of a target has run between instants, and when it is due.

A clock counts either *calendar* minutes (every minute of every day) or *business*
minutes: the minutes inside a daily window (e.g. 09:00-18:00 China Standard Time) of the
working days of :class:`kam.core.workcal.WorkingCalendar` (weekends, China's public
holidays and make-up working days). A case's clock runs in *segments*: from opening to the
first pause, from each resume to the next pause, and so on; the last segment may be open.

Instants are whole minutes since the Unix epoch (UTC), ``int`` or ``numpy.int64``. The
work is O(1) per instant (a prefix sum of working days over the calendar's span) and
O(log n) to find a due time (binary search over that prefix), vectorised with numpy over
arrays of instants; :func:`naive_elapsed` and :func:`naive_due` walk minute by minute and
are the baseline the tests and the benchmark compare with.

No Django here: the service layer converts datetimes and policies to these numbers.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

MINUTES_PER_DAY = 1440
CST_OFFSET = 480  # China Standard Time, UTC+8, no daylight saving since 1991
EPOCH = datetime.date(1970, 1, 1)
_UTC_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)

IntArray = npt.NDArray[np.int64]
#: A running segment ``[start, end)``; ``end`` ``None`` means the clock still runs.
Segment = tuple[int, int | None]


def to_minute(moment: datetime.datetime) -> int:
    """Whole minutes since the epoch (seconds are dropped) of an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return int((moment - _UTC_EPOCH).total_seconds() // 60)


def from_minute(minute: int) -> datetime.datetime:
    return _UTC_EPOCH + datetime.timedelta(minutes=int(minute))


@dataclass(frozen=True)
class Clock:
    """One way of counting minutes.

    ``calendar_hours`` counts every minute. Otherwise only minutes inside ``[start, end)``
    (minutes after local midnight, local = UTC + ``utc_offset``) of working days count,
    working days being ``is_working`` over ``[first, last]``; instants outside that span
    raise ``ValueError``.
    """

    is_working: Callable[[datetime.date], bool] | None = None
    start: int = 9 * 60
    end: int = 18 * 60
    calendar_hours: bool = False
    first: datetime.date = datetime.date(2000, 1, 1)
    last: datetime.date = datetime.date(2060, 12, 31)
    utc_offset: int = CST_OFFSET
    _first_day: int = field(init=False, repr=False, compare=False)
    _cum: IntArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            raise ValueError("business hours must satisfy 0 <= start < end <= 1440")
        if self.is_working is None and not self.calendar_hours:
            raise ValueError("a business-hours clock needs a working calendar")
        first_day = (self.first - EPOCH).days
        days = (self.last - self.first).days + 1
        if self.calendar_hours or self.is_working is None:
            flags = np.ones(days, dtype=np.int64)
        else:
            is_working = self.is_working
            flags = np.fromiter(
                (is_working(self.first + datetime.timedelta(days=i)) for i in range(days)),
                dtype=np.int64,
                count=days,
            )
        # _cum[i] = working days among the span's first i days (so _cum[0] == 0).
        cum = np.zeros(days + 1, dtype=np.int64)
        np.cumsum(flags, out=cum[1:])
        object.__setattr__(self, "_first_day", first_day)
        object.__setattr__(self, "_cum", cum)

    @property
    def length(self) -> int:
        """Counted minutes in one working day."""
        return MINUTES_PER_DAY if self.calendar_hours else self.end - self.start

    # --- positions: counted minutes from the span's start up to an instant ----------------

    def position(self, minute: npt.ArrayLike) -> IntArray:
        """Counted minutes in ``[span start, minute)``, element-wise."""
        t = np.asarray(minute, dtype=np.int64)
        if self.calendar_hours:
            return t - np.int64((self._first_day * MINUTES_PER_DAY) - self.utc_offset)
        local = t + self.utc_offset
        day = local // MINUTES_PER_DAY - self._first_day
        if np.any(day < 0) or np.any(day >= len(self._cum) - 1):
            raise ValueError("instant outside the calendar's span")
        tod = local % MINUTES_PER_DAY
        working = self._cum[day + 1] - self._cum[day]
        inside = np.clip(tod - self.start, 0, self.end - self.start)
        return np.asarray(self._cum[day] * self.length + working * inside, dtype=np.int64)

    def instant(self, position: npt.ArrayLike) -> IntArray:
        """The earliest instant whose :meth:`position` is ``position`` (inverse, element-wise).

        A position that falls on a day's end is that working day's closing minute (18:00),
        not the next day's opening."""
        v = np.asarray(position, dtype=np.int64)
        if self.calendar_hours:
            return v + np.int64(self._first_day * MINUTES_PER_DAY - self.utc_offset)
        if np.any(v < 0):
            raise ValueError("position before the calendar's span")
        length = self.length
        # The working day holding the v-th counted minute; a position on a day boundary
        # (v % length == 0, v > 0) belongs to the end of the previous working day.
        full, rest = np.divmod(v, length)
        on_boundary = (rest == 0) & (v > 0)
        ordinal = np.where(on_boundary, full, full + 1)  # 1-based working-day number
        day = np.searchsorted(self._cum, ordinal, side="left") - 1
        if np.any(day >= len(self._cum) - 1):
            raise ValueError("due after the calendar's span")
        offset = np.where(on_boundary, self.end, self.start + rest)
        local = (day + self._first_day) * MINUTES_PER_DAY + offset
        return np.asarray(local - self.utc_offset, dtype=np.int64)

    def between(self, start: int, end: int) -> int:
        """Counted minutes in ``[start, end)`` (0 when ``end <= start``)."""
        if end <= start:
            return 0
        return int(self.position(end) - self.position(start))

    def minute_counts(self, minute: int) -> bool:
        """Whether the minute starting at ``minute`` counts (the naive baseline's test)."""
        if self.calendar_hours or self.is_working is None:
            return True
        local = minute + self.utc_offset
        day = EPOCH + datetime.timedelta(days=local // MINUTES_PER_DAY)
        tod = local % MINUTES_PER_DAY
        return self.is_working(day) and self.start <= tod < self.end


# --- one case: its running segments ------------------------------------------------------------


def elapsed(clock: Clock, segments: Sequence[Segment], at: int) -> int:
    """Counted minutes the clock ran up to ``at`` over its segments."""
    total = 0
    for start, end in segments:
        stop = at if end is None else min(end, at)
        total += clock.between(start, stop)
    return total


def due(clock: Clock, segments: Sequence[Segment], target: int) -> int | None:
    """The instant the clock reaches ``target`` counted minutes, if it does: within a closed
    segment, or projected on the open last one. ``None`` when it stopped (paused or
    finished) before reaching the target."""
    used = 0
    for start, end in segments:
        if target <= used:
            return start
        base = int(clock.position(start))
        if end is None:
            return int(clock.instant(base + target - used))
        run = int(clock.position(end)) - base
        if used + run >= target:
            return int(clock.instant(base + target - used))
        used += run
    return None


# --- many cases at once ---------------------------------------------------------------------


def elapsed_many(
    clock: Clock,
    case: IntArray,
    start: IntArray,
    end: IntArray,
    at: IntArray,
    cases: int,
) -> IntArray:
    """:func:`elapsed` for many cases: segment ``i`` of case ``case[i]`` runs
    ``[start[i], end[i])`` (``end`` -1 for open), each case observed at ``at[case]``."""
    seen = at[case]
    stop = np.where(end < 0, seen, np.minimum(end, seen))
    stop = np.maximum(stop, start)
    run = clock.position(stop) - clock.position(start)
    return np.bincount(case, weights=run, minlength=cases).astype(np.int64)


def due_many(
    clock: Clock,
    case: IntArray,
    start: IntArray,
    end: IntArray,
    target: IntArray,
    cases: int,
) -> IntArray:
    """:func:`due` for many cases (segments sorted by case, then time); -1 where the clock
    stopped before the target."""
    p_start = clock.position(start)
    open_ = end < 0
    p_end = np.where(
        open_, np.iinfo(np.int64).max // 4, clock.position(np.where(open_, start, end))
    )
    run = p_end - p_start
    # Counted minutes used before each segment within its case.
    cum = np.cumsum(run)
    case_first = np.searchsorted(case, np.arange(cases), side="left")
    offset = np.concatenate(([0], cum))[case_first]
    before = np.concatenate(([0], cum[:-1])) - offset[case]
    need = target[case] - before  # what is still needed at the start of this segment
    hit = (need <= run) & (need >= 0)
    # The first segment of each case where the target is hit.
    idx = np.where(hit, np.arange(len(case)), len(case))
    first_hit = np.full(cases, len(case), dtype=np.int64)
    np.minimum.at(first_hit, case, idx)
    out = np.full(cases, -1, dtype=np.int64)
    found = first_hit < len(case)
    seg = first_hit[found]
    reached = clock.instant(p_start[seg] + need[seg])
    out[found] = np.where(need[seg] <= 0, start[seg], reached)
    return out


# --- the naive baseline ----------------------------------------------------------------------


def naive_elapsed(clock: Clock, segments: Sequence[Segment], at: int) -> int:
    """Minute by minute: the reference :func:`elapsed` is tested against."""
    total = 0
    for start, end in segments:
        stop = at if end is None else min(end, at)
        for minute in range(start, stop):
            total += clock.minute_counts(minute)
    return total


def naive_due(
    clock: Clock, segments: Sequence[Segment], target: int, *, horizon: int = 10**7
) -> int | None:
    """Minute by minute: the reference :func:`due` is tested against."""
    used = 0
    if target <= 0:
        for start, _end in segments:
            return start
        return None
    for start, end in segments:
        stop = start + horizon if end is None else end
        for minute in range(start, stop):
            if clock.minute_counts(minute):
                used += 1
                if used == target:
                    return minute + 1
    return None
