"""The department's measures page: the share of tier 1–2 accounts with a current, reviewed
plan (a group's plan counts for its accounts; a plan past its review does not), this year's
objectives by status, the pipeline by stage; for the department, directors and analysts
only (managers and administrators 404)."""

import datetime
from decimal import Decimal
from typing import Any

import pytest

from kam.accounts.models import Account
from kam.core.models import User
from kam.planning import measures, services
from kam.planning.models import AccountPlan, Solution
from tests.factories import AccountFactory, GroupFactory
from tests.planning.conftest import LAST_MONTH, add_facts, months_back

pytestmark = pytest.mark.django_db

D = Decimal


def signed_off(plan: AccountPlan, owner: User, department: User) -> AccountPlan:
    services.objective_add(by=owner, plan=plan, metric="revenue", title="收入增长",
                           baseline=D("100000"), target=D("200000"),
                           target_date=datetime.date(2026, 12, 31))  # fmt: skip
    services.plan_submit(by=owner, plan=plan)
    services.plan_review(by=department, plan=plan, decision="approved")
    plan.refresh_from_db()
    return plan


def test_coverage_counts_current_reviewed_plans_by_tier(
    plan_a: AccountPlan, plan_b: AccountPlan, account_a: Account, account_b: Account,
    owner: User, colleague: User, department: User, director: User, today: datetime.date,
) -> None:  # fmt: skip
    signed_off(plan_a, owner, department)  # tier 1, reviewed; plan_b (tier 2) a draft
    AccountFactory(name="无计划一级客户", tier=1)
    rows = {c.tier: c for c in measures.plan_coverage(director, today)}
    assert (rows[1].accounts, rows[1].planned, rows[1].reviewed, rows[1].share) == (2, 1, 1, 50.0)
    assert (rows[2].accounts, rows[2].planned, rows[2].reviewed, rows[2].share) == (1, 1, 0, 0.0)
    # Past its next review, a signed-off plan is no longer current and reviewed.
    AccountPlan.objects.filter(pk=plan_a.pk).update(
        next_review_due=today - datetime.timedelta(days=1)
    )
    assert measures.plan_coverage(director, today)[0].reviewed == 0


def test_a_group_plan_covers_its_accounts(
    account_a: Account, owner: User, department: User, director: User, today: datetime.date,
) -> None:  # fmt: skip
    group = GroupFactory(name="明达集团")
    sister = AccountFactory(name="明达物流", tier=2, group=group)
    Account.objects.filter(pk=account_a.pk).update(group=group)
    plan = services.plan_create(by=department, group=group, year=2026, kind="expand",
                                owner=department)  # fmt: skip
    signed_off(plan, department, department)
    rows = {c.tier: c for c in measures.plan_coverage(director, today)}
    assert rows[1].reviewed == 1 and rows[2].reviewed == 1
    assert sister.pk


def test_objectives_and_pipeline_by_stage(
    plan_a: AccountPlan, account_a: Account, owner: User, director: User, today: datetime.date,
) -> None:  # fmt: skip
    add_facts("YJ0591001", months_back(LAST_MONTH, 24))  # CNY 120,000 a year, flat
    # Revenue 120,000 against a target 300,000 from 100,000, half a year gone: off track.
    services.objective_add(by=owner, plan=plan_a, metric="revenue", baseline=D("100000"),
                           target=D("300000"), target_date=datetime.date(2026, 12, 31))  # fmt: skip
    services.objective_add(by=owner, plan=plan_a, metric="waybills", baseline=D("100"),
                           target=D("1100"), target_date=datetime.date(2026, 12, 31))  # fmt: skip
    counts = measures.objective_counts(director, today)
    assert counts.plans == 1 and counts.total == 2
    assert counts.counts["on_track"] == 1  # 1,200 waybills: past the target
    assert counts.counts["off_track"] + counts.counts["at_risk"] == 1
    cold = Solution.objects.get(code="cold-chain")
    for revenue, probability in ((D("100000"), 20), (D("300000"), 50)):
        services.opportunity_create(by=owner, account=account_a, solution=cold, owner=owner,
                                    annual_revenue=revenue, probability=probability,
                                    expected_close=datetime.date(2026, 12, 1))  # fmt: skip
    lost = services.opportunity_create(by=owner, account=account_a, solution=cold, owner=owner,
                                       annual_revenue=D("50000"), probability=10,
                                       expected_close=datetime.date(2026, 12, 1))  # fmt: skip
    services.opportunity_move(by=owner, opportunity=lost, stage="lost", reason="价格")
    rows = {r["stage"]: r for r in measures.pipeline_by_stage(director, today)}
    assert rows["identified"]["count"] == 2
    assert rows["identified"]["revenue"] == D("400000")
    assert rows["identified"]["weighted"] == D("170000.00")
    assert rows["lost"]["count"] == 1 and rows["won"]["count"] == 0
    assert measures.open_totals(list(rows.values()))["count"] == 2


def test_the_page_is_for_the_department_directors_and_analysts(
    client: Any, plan_a: AccountPlan, owner: User, department: User, director: User,
    analyst: User, admin: User, colleague: User, today: datetime.date,
) -> None:  # fmt: skip
    signed_off(plan_a, owner, department)
    for user in (department, director, analyst):
        client.force_login(user)
        page = client.get("/planning/measures/")
        assert page.status_code == 200
        body = page.content.decode()
        assert 'id="measures-share-1"' in body and "100.0 %" in body
        assert 'id="measures-stages"' in body and "关系阶段" in body
    for user in (owner, colleague, admin):
        client.force_login(user)
        assert client.get("/planning/measures/").status_code == 404


def test_a_manager_counts_only_what_they_see(
    plan_a: AccountPlan, plan_b: AccountPlan, owner: User, colleague: User, department: User,
    today: datetime.date,
) -> None:  # fmt: skip
    # The selectors take the user's gate: a manager's figures are their accounts' only.
    rows = {c.tier: c for c in measures.plan_coverage(owner, today)}
    assert rows[1].accounts == 1 and rows[2].accounts == 0
    assert measures.objective_counts(owner, today).plans == 1


def test_the_api_gives_the_measures_to_the_same_people(
    session_client: Any, plan_a: AccountPlan, owner: User, department: User, analyst: User,
    today: datetime.date,
) -> None:  # fmt: skip
    signed_off(plan_a, owner, department)
    body = session_client(analyst).get("/planning/measures").json()
    assert body["plan_coverage"][0] == {"tier": 1, "accounts": 1, "planned": 1, "reviewed": 1,
                                        "share": 100.0}  # fmt: skip
    assert sum(body["objectives"].values()) == 1
    assert [r["stage"] for r in body["pipeline"]][:2] == ["identified", "qualified"]
    assert session_client(owner).get("/planning/measures").status_code == 404


def test_the_page_costs_the_same_queries_for_one_plan_or_many(
    client: Any, plan_a: AccountPlan, owner: User, director: User, today: datetime.date
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kam.accounts.models import TeamRole
    from tests.factories import TeamMembershipFactory

    services.objective_add(by=owner, plan=plan_a, metric="revenue", baseline=D("1"),
                           target=D("2"), target_date=datetime.date(2026, 12, 31))  # fmt: skip
    client.force_login(director)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/planning/measures/").status_code == 200
    for n in range(6):
        account = AccountFactory(name=f"计划客户{n}", tier=1 + n % 2)
        TeamMembershipFactory(account=account, user=owner, role=TeamRole.OWNER)
        plan = services.plan_create(by=owner, account=account, year=2026, kind="expand",
                                    owner=owner)  # fmt: skip
        services.objective_add(by=owner, plan=plan, metric="waybills", baseline=D("1"),
                               target=D("2"), target_date=datetime.date(2026, 12, 31))  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        page = client.get("/planning/measures/")
    assert 'id="measures-objectives-no_data"' in page.content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_stage_section_counts_accounts_by_stage_and_this_quarters_moves(
    client: Any, plan_a: AccountPlan, department: User, today: datetime.date
) -> None:
    from kam.planning import stages

    account = plan_a.account
    up = stages.STAGES[stages.index(account.stage) + 1]
    stages.stage_set(by=department, account=account, stage=up, reason="合作加深")
    client.force_login(department)
    body = client.get("/planning/measures/").content.decode()
    row = body.split(f'id="measures-stage-dist-{up}"', 1)[1].split("</tr>", 1)[0]
    assert f">{Account.objects.filter(stage=up).count()}<" in row
    moves = body.split('id="measures-stage-moves"', 1)[1].split("</p>", 1)[0]
    assert "上升 1 个" in moves and "下降 0 个" in moves
