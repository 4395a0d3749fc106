"""Fixtures of the coverage tests: a visit planned for ``owner`` at ``account_a`` and the
report it files, built through the services."""

import datetime
from typing import Any

import pytest

from kam.accounts.models import Account, Contact
from kam.core.models import User
from kam.coverage import services
from kam.coverage.models import FollowUp, Visit, VisitReport

#: A Wednesday in July 2026 (no holiday near it); tests move the clock here.
TODAY = datetime.date(2026, 7, 15)


@pytest.fixture
def today(time_machine: Any) -> datetime.date:
    """The clock at 10:00 Beijing time on ``TODAY``."""
    time_machine.move_to(datetime.datetime(2026, 7, 15, 2, 0, tzinfo=datetime.UTC), tick=False)
    return TODAY


@pytest.fixture
def visit(account_a: Account, owner: User, today: datetime.date) -> Visit:
    return Visit.objects.create(account=account_a, person=owner, day=today, due=today,
                                city_code=account_a.city_code)  # fmt: skip


@pytest.fixture
def report(visit: Visit, owner: User, contact_a: Contact, today: datetime.date) -> VisitReport:
    return services.report_submit(
        by=owner, account=visit.account, visit=visit, visited_on=today,
        purpose="季度业务回顾", summary="客户计划扩大华南仓配。", contacts=[contact_a],
        findings=[{"kind": "need", "severity": 3, "text": "需要冷链方案"}],
        follow_ups=[{"title": "发送冷链报价", "owner": owner,
                     "due_date": today + datetime.timedelta(days=2)}],
    )  # fmt: skip


@pytest.fixture
def follow_up(report: VisitReport) -> FollowUp:
    return report.follow_ups.get()
