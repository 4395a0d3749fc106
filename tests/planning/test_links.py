"""Where an opportunity is started: the account page's planning panel and a visit report's
findings (coverage shows planning's panel through kam.core.panels, without importing it)."""

import datetime
from typing import Any

import pytest

from kam.accounts.models import Account
from kam.core.models import User
from kam.coverage import services as coverage
from kam.planning import services
from kam.planning.models import Solution

pytestmark = pytest.mark.django_db


def test_the_account_page_offers_a_new_opportunity_to_those_who_may_add_one(
    client: Any, account_a: Account, owner: User, analyst: User, today: datetime.date
) -> None:
    client.force_login(owner)
    body = client.get(f"/accounts/{account_a.pk}/").content.decode()
    assert 'id="account-opportunity-add"' in body
    assert f"/planning/opportunities/new/?account={account_a.pk}" in body
    client.force_login(analyst)
    body = client.get(f"/accounts/{account_a.pk}/").content.decode()
    assert 'id="account-opportunity-add"' not in body


def test_a_visit_reports_findings_become_opportunities(
    client: Any, account_a: Account, owner: User, analyst: User, department: User,
    today: datetime.date,
) -> None:  # fmt: skip
    report = coverage.report_submit(
        by=owner, account=account_a, visited_on=today, purpose="年度拜访", summary="冷链需求",
        findings=[{"kind": "opportunity", "severity": 2, "text": "客户需要冷链配送"},
                  {"kind": "need", "severity": 1, "text": "希望月结对账更快"}],
    )  # fmt: skip
    cold, other = report.findings.order_by("-severity", "id")
    url = f"/coverage/reports/{report.pk}/"
    client.force_login(owner)
    body = client.get(url).content.decode()
    assert 'id="report-opportunities"' in body
    link = f"/planning/opportunities/new/?account={account_a.pk}&amp;finding={cold.pk}"
    assert link in body
    page = client.get(link.replace("&amp;", "&"))
    assert page.status_code == 200 and "客户需要冷链配送" in page.content.decode()
    opp = services.opportunity_create(
        by=owner, account=account_a, solution=Solution.objects.get(code="cold-chain"),
        owner=owner, annual_revenue=1, probability=10, expected_close=datetime.date(2026, 12, 1),
        finding=cold,
    )  # fmt: skip
    body = client.get(url).content.decode()
    assert f"/planning/opportunities/{opp.pk}/" in body  # made already: opened, not made again
    assert f"finding={other.pk}" in body and f"finding={cold.pk}" not in body
    # Analysts read reports but add no opportunity: no panel.
    client.force_login(analyst)
    page = client.get(url)
    assert page.status_code == 200 and 'id="report-opportunities"' not in page.content.decode()


def test_the_group_page_links_to_its_whitespace(
    client: Any, account_a: Account, director: User, today: datetime.date
) -> None:
    from tests.factories import GroupFactory

    group = GroupFactory(name="明达集团")
    Account.objects.filter(pk=account_a.pk).update(group=group)
    client.force_login(director)
    body = client.get(f"/groups/{group.pk}/").content.decode()
    assert f'/planning/whitespace/?group={group.pk}"' in body
    grid = client.get(f"/planning/whitespace/?group={group.pk}").content.decode()
    assert account_a.name in grid
