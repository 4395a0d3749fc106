"""The coverage dashboard and the department's queue at scale: their number of queries
does not grow with the number of accounts, visits, reports and follow-ups (bench/web
measures their time on 100,000 accounts), and what they show stays right."""

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kam.accounts.models import Account, TeamRole
from kam.core.models import User
from kam.coverage import selectors
from kam.coverage.models import FollowUp, Visit, VisitReport
from tests.factories import AccountFactory, TeamMembershipFactory

pytestmark = pytest.mark.django_db

PERIOD = "?start=2026-07-01&end=2026-07-31"


def grow(n: int, owner: User, today: datetime.date, offset: int = 0) -> list[Account]:
    """``n`` accounts of tiers 1-3 owned by ``owner``, each with a visit done long ago,
    one done in the period with a report awaiting review and an open follow-up."""
    accounts = []
    for i in range(offset, offset + n):
        account = AccountFactory(tier=1 + i % 3, province_code=("350000", "440000")[i % 2],
                                 city_code=("350100", "440100")[i % 2])  # fmt: skip
        TeamMembershipFactory(account=account, user=owner, role=TeamRole.OWNER)
        Visit.objects.create(account=account, person=owner, day=today - datetime.timedelta(days=200 + i),
                             due=today, city_code=account.city_code, status=Visit.Status.DONE)  # fmt: skip
        if i % 2 == 0:  # every other account was visited in the period too
            visit = Visit.objects.create(account=account, person=owner, day=today - datetime.timedelta(days=3),
                                         due=today, city_code=account.city_code,
                                         status=Visit.Status.DONE)  # fmt: skip
            report = VisitReport.objects.create(visit=visit, purpose="回顾", summary="—",
                                                submitted_by=owner)  # fmt: skip
            FollowUp.objects.create(report=report, account=account, title=f"跟进{i}", owner=owner,
                                    due_date=today + datetime.timedelta(days=i - n))  # fmt: skip
        accounts.append(account)
    return accounts


def count_queries(user: User, url: str) -> tuple[int, str]:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    selectors.coverage_changed()  # measure the totals computed, not read from the cache
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


@pytest.mark.parametrize(("who", "url"), [
    ("department", "/coverage/dashboard/" + PERIOD), ("director", "/coverage/dashboard/" + PERIOD),
    ("department", "/coverage/queue/"),
])  # fmt: skip
def test_the_number_of_queries_does_not_grow_with_the_accounts(
    url: str, who: str, request: Any, owner: User, today: datetime.date
) -> None:
    user = request.getfixturevalue(who)
    grow(3, owner, today)
    count_queries(user, url)  # the first request fills per-process caches
    small, _html = count_queries(user, url)
    grow(40, owner, today, offset=3)
    large, html = count_queries(user, url)
    assert large == small, (small, large)
    assert "测试客户" in html  # the pages do list the accounts


def test_the_dashboard_figures_and_the_not_visited_order(
    department: User, owner: User, today: datetime.date
) -> None:
    accounts = grow(6, owner, today)
    data = selectors.measures(department, start=datetime.date(2026, 7, 1),
                              end=datetime.date(2026, 7, 31))  # fmt: skip
    # The default policy's cadences: every account is due at least once in 31 days, and
    # those without a visit in the period (and within their cadence) are not visited.
    assert data["done"] == 3 and data["due"] >= 6
    rows = data["not_visited"]
    assert {r["account_id"] for r in rows} >= {a.pk for a in accounts[1::2]}
    assert [(r["tier"], r["last"]) for r in rows] == sorted((r["tier"], r["last"]) for r in rows)
    assert all(r["cadence"] > 0 for r in rows)
    assert [r["key"] for r in data["by_person"]] == ["客户经理张"]
    # The page shows its rows' accounts (fetched for the page only).
    _n, html = count_queries(department, "/coverage/dashboard/" + PERIOD)
    first = Account.objects.get(pk=rows[0]["account_id"])
    assert first.name in html


def test_the_queue_counts_open_follow_ups_per_report(
    department: User, owner: User, today: datetime.date
) -> None:
    grow(4, owner, today)
    report = VisitReport.objects.order_by("id").first()
    assert report is not None
    FollowUp.objects.create(report=report, account=report.visit.account, title="另一项",
                            owner=owner, due_date=today)  # fmt: skip
    FollowUp.objects.create(report=report, account=report.visit.account, title="已完成",
                            owner=owner, due_date=today, status=FollowUp.Status.DONE)  # fmt: skip
    data = selectors.queue(department)
    counts = {r.pk: r.open_follow_ups for r in data["reports"]}
    assert counts[report.pk] == 2  # the done one is not open
    assert sorted(counts.values()) == [1, 2]
    assert data["overdue"] == 2  # the two first follow-ups are due before today
    assert selectors.queue(owner)["reports"].count() == 2  # a manager's: their accounts'


def test_a_short_period_counts_only_the_tiers_due_in_it(
    department: User, owner: User, today: datetime.date
) -> None:
    from kam.coverage.services import policy_current  # noqa: PLC0415

    grow(6, owner, today)
    cadence = {r.tier: r.cadence_days for r in policy_current().rules.filter(category="")}
    start, end = datetime.date(2026, 7, 1), datetime.date(2026, 7, 10)
    data = selectors.measures(department, start=start, end=end)
    due = sorted(t for t in (1, 2, 3) if cadence[t] <= 10)
    assert due and due != [1, 2, 3]  # the test's point: some tiers are not due in 10 days
    assert [r["key"] for r in data["by_tier"]] == due
    assert {r["tier"] for r in data["not_visited"]} <= set(due)
