"""Progress of an objective and a plan's red / amber / green status: plain functions, no
Django (dates and numbers in, a dataclass out).

An objective runs in a straight line from its baseline (at the plan's start) to its target
(on its target date). Progress is the share of that way the metric has come; the
*expected* share is the share of the time gone. On track: progress at or beyond what is
expected; at risk: behind, but by no more than :data:`AT_RISK_MARGIN` of the way; off
track: further behind (or moving away from the target).
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Status = Literal["on_track", "at_risk", "off_track", "no_data"]
Rag = Literal["green", "amber", "red"]

#: How far behind the expected share an objective may be and still be "at risk" only.
AT_RISK_MARGIN = 0.15


@dataclass(frozen=True)
class Progress:
    current: Decimal | None  # the metric now; None when the data has no value
    share: float | None  # 0 at the baseline, 1 at the target (may pass either end)
    expected: float  # the share of the time between plan start and target date gone
    status: Status


def expected_share(start: datetime.date, target_date: datetime.date, today: datetime.date) -> float:
    """The linear expectation: 0 at ``start``, 1 on ``target_date``, clamped to [0, 1]."""
    days = (target_date - start).days
    if days <= 0:
        return 1.0
    return min(1.0, max(0.0, (today - start).days / days))


def progress(
    *,
    baseline: Decimal,
    target: Decimal,
    current: Decimal | None,
    start: datetime.date,
    target_date: datetime.date,
    today: datetime.date,
) -> Progress:
    """Where an objective stands on ``today``. A target below the baseline (fewer
    complaints, lower cost) counts progress downwards."""
    expected = expected_share(start, target_date, today)
    if current is None or target == baseline:
        return Progress(current, None, expected, "no_data")
    share = float((current - baseline) / (target - baseline))
    if share >= expected or share >= 1.0:
        status: Status = "on_track"
    elif share >= expected - AT_RISK_MARGIN:
        status = "at_risk"
    else:
        status = "off_track"
    return Progress(current, share, expected, status)


@dataclass(frozen=True)
class RagResult:
    rag: Rag
    reasons: tuple[str, ...]  # codes: see :func:`rag`


def rag(
    *,
    objectives: list[Status],
    overdue_actions: int,
    review_overdue_days: int,
) -> RagResult:
    """A plan's status from its objectives, overdue actions and overdue review.

    Red: an objective off track, or the review more than 30 days overdue, or three or more
    actions overdue. Amber: an objective at risk or without data, no objective at all, an
    action overdue, or the review overdue. Green otherwise. The reasons are codes
    (``objective_off_track``, ``review_overdue``...) the caller words."""
    red: list[str] = []
    amber: list[str] = []
    if "off_track" in objectives:
        red.append("objective_off_track")
    if review_overdue_days > 30:
        red.append("review_overdue")
    elif review_overdue_days > 0:
        amber.append("review_overdue")
    if overdue_actions >= 3:
        red.append("actions_overdue")
    elif overdue_actions > 0:
        amber.append("actions_overdue")
    if "at_risk" in objectives:
        amber.append("objective_at_risk")
    if "no_data" in objectives:
        amber.append("objective_no_data")
    if not objectives:
        amber.append("no_objectives")
    if red:
        return RagResult("red", tuple(red + amber))
    if amber:
        return RagResult("amber", tuple(amber))
    return RagResult("green", ())
