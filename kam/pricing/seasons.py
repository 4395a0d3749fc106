"""Seasons in time: Chinese New Year's day of any year, and a card's seasons moved into
the months a what-if reprices.

A quote is made for the coming year, so its seasons (11.11, 12.12, the Spring Festival)
carry next year's dates, while the what-if reprices the account's last twelve months.
Applied on their own dates they would change nothing there (and a quote's seasons take the
place of the list card's, so the proposed side would lose its peaks). :func:`into_period`
therefore applies each season that lies wholly outside the period on the same dates of the
period's year; a season around Chinese New Year follows the lunar calendar instead (the
same number of days before and after that year's New Year's day). A season that would then
overlap one already in the period is left out rather than counted twice.

Pure: no Django.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from lunardate import LunarDate

from .rating import Card, Peak


def spring_festival(year: int) -> dt.date:
    """Chinese New Year's day (正月初一) of ``year``, from the lunar calendar."""
    day: dt.date = LunarDate(year, 1, 1).to_solar_date()
    return day


def _same_day(day: dt.date, year: int) -> dt.date:
    """``day`` in ``year`` (29 February becomes the 28th in a common year)."""
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


def _festival_in(peak: Peak) -> dt.date | None:
    """The Chinese New Year's day the season spans, if any."""
    for year in range(peak.start.year, peak.end.year + 1):
        day = spring_festival(year)
        if peak.start <= day <= peak.end:
            return day
    return None


def _moved(peak: Peak, year_shift: int) -> Peak:
    festival = _festival_in(peak)
    if festival is not None:
        target = spring_festival(festival.year + year_shift)
        offset = target - festival
        return Peak(peak.start + offset, peak.end + offset, peak.percent)
    return Peak(
        _same_day(peak.start, peak.start.year + year_shift),
        _same_day(peak.end, peak.end.year + year_shift),
        peak.percent,
    )


def _overlap(a: Peak, first: dt.date, last: dt.date) -> int:
    return max(0, (min(a.end, last) - max(a.start, first)).days + 1)


def into_period(card: Card, first: dt.date, last: dt.date) -> Card:
    """``card`` with each season wholly outside ``first`` .. ``last`` moved by whole years
    (Chinese New Year's seasons by lunar years) to where it covers most of the period; one
    that would overlap a season already there is left out. Seasons inside stay as they are."""
    peaks = card.surcharges.peaks
    kept = [p for p in peaks if _overlap(p, first, last)]
    if len(kept) == len(peaks):
        return card
    for peak in peaks:
        if _overlap(peak, first, last):
            continue
        distance = first.year - peak.start.year
        tries = [_moved(peak, shift) for shift in range(distance - 1, distance + 2)]
        best = max(tries, key=lambda p: _overlap(p, first, last))
        if _overlap(best, first, last) and not any(
            best.start <= k.end and k.start <= best.end for k in kept
        ):
            kept.append(best)
    kept.sort(key=lambda p: (p.start, p.end))
    return replace(card, surcharges=replace(card.surcharges, peaks=tuple(kept)))


__all__ = ["into_period", "spring_festival"]
