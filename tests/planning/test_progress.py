"""The pure mathematics of progress and RAG (no database)."""

import datetime
from decimal import Decimal

from kam.planning import progress as p

START = datetime.date(2026, 1, 1)
END = datetime.date(2026, 12, 31)


def at(
    day: datetime.date, current: str | None, baseline: str = "100", target: str = "200"
) -> p.Progress:
    return p.progress(baseline=Decimal(baseline), target=Decimal(target),
                      current=None if current is None else Decimal(current), start=START,
                      target_date=END, today=day)  # fmt: skip


def test_the_expectation_is_linear_between_the_plan_start_and_the_target_date() -> None:
    assert p.expected_share(START, END, START) == 0
    assert p.expected_share(START, END, END) == 1
    assert p.expected_share(START, END, datetime.date(2027, 3, 1)) == 1
    assert abs(p.expected_share(START, END, datetime.date(2026, 7, 2)) - 0.5) < 0.01


def test_on_track_at_risk_and_off_track_against_the_expectation() -> None:
    mid = datetime.date(2026, 7, 2)  # half the time gone
    assert at(mid, "150").status == "on_track"
    assert at(mid, "140").status == "at_risk"  # 40 % of the way, 50 % expected
    assert at(mid, "120").status == "off_track"
    assert at(mid, "90").status == "off_track"  # moving away from the target
    assert at(mid, "150").share == 0.5


def test_a_falling_target_counts_progress_downwards() -> None:
    mid = datetime.date(2026, 7, 2)
    r = at(mid, "80", baseline="100", target="60")
    assert r.share == 0.5 and r.status == "on_track"


def test_no_data_is_its_own_status() -> None:
    assert at(START, None).status == "no_data"
    assert at(START, None).share is None


def test_rag_from_objectives_actions_and_review() -> None:
    assert p.rag(objectives=["on_track"], overdue_actions=0, review_overdue_days=0).rag == "green"
    assert p.rag(objectives=["at_risk"], overdue_actions=0, review_overdue_days=0).rag == "amber"
    assert p.rag(objectives=[], overdue_actions=0, review_overdue_days=0).reasons == (
        "no_objectives",
    )
    assert p.rag(objectives=["on_track"], overdue_actions=1, review_overdue_days=0).rag == "amber"
    assert p.rag(objectives=["on_track"], overdue_actions=3, review_overdue_days=0).rag == "red"
    assert p.rag(objectives=["on_track"], overdue_actions=0, review_overdue_days=5).rag == "amber"
    red = p.rag(objectives=["off_track", "at_risk"], overdue_actions=0, review_overdue_days=40)
    assert red.rag == "red"
    assert set(red.reasons) == {"objective_off_track", "review_overdue", "objective_at_risk"}
