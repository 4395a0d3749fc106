"""The planning pages: list, plan page, forms, submit and review, exports, the account
panel and the home sections; access (foreign plans 404, analysts read only); the list's
number of queries does not grow with the plans."""

import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kam.accounts.models import Account, TeamRole
from kam.core.models import User
from kam.coverage.models import FollowUp
from kam.planning import services
from kam.planning.models import AccountPlan, Objective, PlanStatus
from tests.factories import AccountFactory, BillingCodeFactory, TeamMembershipFactory
from tests.planning.conftest import LAST_MONTH, add_facts, months_back

pytestmark = pytest.mark.django_db


def client_for(user: User, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    return client


def with_objective(plan: AccountPlan, by: User) -> Objective:
    return services.objective_add(by=by, plan=plan, metric="revenue", baseline=Decimal("120000"),
                                  target=Decimal("150000"), target_date=datetime.date(2026, 12, 31))  # fmt: skip


def test_the_plan_page_shows_situation_objectives_and_actions_in_both_languages(
    plan_a: AccountPlan, owner: User, facts_a: None, today: datetime.date
) -> None:
    with_objective(plan_a, owner)
    services.action_add(by=owner, plan=plan_a, title="安排高层拜访", horizon=30, owner=owner,
                        due_date=today + datetime.timedelta(days=10), resources="总监半天")  # fmt: skip
    page = client_for(owner).get(f"/planning/plans/{plan_a.pk}/").content.decode()
    assert "Situation" in page and "¥120,000.00" in page
    assert "not yet estimated" in page  # no spend estimate: share of wallet
    assert "安排高层拜访" in page and "总监半天" in page
    assert 'id="objective-form"' in page and "planning/plan.css" in page  # the print stylesheet
    zh = client_for(owner, "zh-hans").get(f"/planning/plans/{plan_a.pk}/").content.decode()
    assert "现状" in zh and "目标" in zh


def test_a_foreign_plan_is_404_and_analysts_read_without_forms(
    plan_a: AccountPlan, plan_b: AccountPlan, owner: User, analyst: User, outsider: User
) -> None:
    for url in (f"/planning/plans/{plan_b.pk}/", f"/planning/plans/{plan_b.pk}/plan.xlsx",
                f"/planning/plans/{plan_b.pk}/plan.pdf", f"/planning/plans/{plan_b.pk}/edit/"):  # fmt: skip
        assert client_for(owner).get(url).status_code == 404
    assert client_for(outsider).get(f"/planning/plans/{plan_a.pk}/").status_code == 404
    response = client_for(owner).post(f"/planning/plans/{plan_b.pk}/objectives/",
                                      {"objective-metric": "revenue"})  # fmt: skip
    assert response.status_code == 404
    page = client_for(analyst).get(f"/planning/plans/{plan_a.pk}/").content.decode()
    assert "objective-form" not in page and "plan-submit" not in page
    listing = client_for(owner).get("/planning/plans/").content.decode()
    assert plan_b.account.name_en not in listing and plan_a.account.name_en in listing


def test_adding_a_bad_objective_on_the_page_says_why_and_stores_nothing(
    plan_a: AccountPlan, owner: User, today: datetime.date
) -> None:
    client = client_for(owner)
    response = client.post(f"/planning/plans/{plan_a.pk}/objectives/", {
        "objective-metric": "revenue", "objective-baseline": "", "objective-target": "5",
        "objective-target_date": "2026-12-31"}, follow=True)  # fmt: skip
    assert "Give the baseline" in response.content.decode()
    response = client.post(f"/planning/plans/{plan_a.pk}/actions/", {
        "action-title": "提前行动", "action-horizon": "30", "action-owner": owner.pk,
        "action-due_date": "2025-12-01"}, follow=True)  # fmt: skip
    assert "before the plan starts" in response.content.decode()
    assert not plan_a.objectives.exists() and not plan_a.actions.exists()


def test_create_submit_and_review_through_the_pages(
    account_a: Account, owner: User, department: User, today: datetime.date
) -> None:
    client = client_for(owner)
    assert "account-plan-create" in client.get(f"/accounts/{account_a.pk}/").content.decode()
    response = client.post(f"/planning/plans/new/?account={account_a.pk}", {
        "year": "2026", "kind": "expand", "owner": owner.pk, "ambition": "成为首选物流伙伴"})  # fmt: skip
    plan = AccountPlan.objects.get()
    assert response.status_code == 302 and response.url == f"/planning/plans/{plan.pk}/"
    client.post(f"/planning/plans/{plan.pk}/objectives/", {
        "objective-metric": "waybills", "objective-baseline": "1000", "objective-target": "1500",
        "objective-target_date": "2026-12-31"})  # fmt: skip
    client.post(f"/planning/plans/{plan.pk}/actions/", {
        "action-title": "发送冷链方案", "action-horizon": "30", "action-owner": owner.pk,
        "action-due_date": "2026-08-10"})  # fmt: skip
    action = plan.actions.get()
    client.post(f"/planning/actions/{action.pk}/follow-up/")
    assert FollowUp.objects.get().title == "发送冷链方案"
    client.post(f"/planning/plans/{plan.pk}/submit/")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED
    home = client_for(department).get("/").content.decode()
    assert "home-plans-reviews" in home and "Fujian Mingda" in home
    reviewer = client_for(department)
    response = reviewer.post(f"/planning/plans/{plan.pk}/review/",
                             {"review-decision": "returned", "review-comment": ""}, follow=True)  # fmt: skip
    assert "Say what must change" in response.content.decode()
    reviewer.post(f"/planning/plans/{plan.pk}/review/",
                  {"review-decision": "returned", "review-comment": "目标太保守"})  # fmt: skip
    plan.refresh_from_db()
    assert plan.status == PlanStatus.RETURNED
    panel = client.get(f"/accounts/{account_a.pk}/").content.decode()
    assert "account-plan-panel" in panel and "Returned" in panel
    assert "home-plans-attention" in client.get("/").content.decode()


def test_exports_render_chinese(plan_a: AccountPlan, owner: User, facts_a: None) -> None:
    with_objective(plan_a, owner)
    client = client_for(owner, "zh-hans")
    xlsx = client.get(f"/planning/plans/{plan_a.pk}/plan.xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxml")
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(xlsx.content))
    texts = {str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row}
    assert "成为客户的首选物流伙伴" in texts
    pdf = client.get(f"/planning/plans/{plan_a.pk}/plan.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert b"STSong-Light" in pdf.content  # the CJK font that renders the Chinese


def test_the_policy_page_is_for_directors_to_edit(director: User, owner: User) -> None:
    assert "policy-table" in client_for(owner).get("/planning/review-schedule/").content.decode()
    assert client_for(owner).post("/planning/review-schedule/", {"tier_1": "30"}).status_code == 403
    data = {f"tier_{t}": "60" for t in range(1, 6)}
    assert client_for(director).post("/planning/review-schedule/", data).status_code == 302
    data["tier_1"] = "3"
    page = client_for(director).post("/planning/review-schedule/", data).content.decode()
    assert "greater than or equal to 7" in page


def grow(n: int, owner: User, offset: int) -> None:
    """``n`` accounts of ``owner`` with facts and a plan with an objective and an action."""
    months = months_back(LAST_MONTH, 3)
    for i in range(offset, offset + n):
        account = AccountFactory(tier=1 + i % 3)
        TeamMembershipFactory(account=account, user=owner, role=TeamRole.OWNER)
        code = BillingCodeFactory(account=account, code=f"YJG{i:05d}").code
        add_facts(code, months)
        plan = services.plan_create(by=owner, account=account, year=2026, kind="expand",
                                    owner=owner)  # fmt: skip
        with_objective(plan, owner)
        services.action_add(by=owner, plan=plan, title=f"行动{i}", horizon=30, owner=owner,
                            due_date=datetime.date(2026, 8, 1))  # fmt: skip


def count(user: User, url: str) -> int:
    client = client_for(user)
    client.get(url)  # the session's first request settles its own queries
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", ["/planning/plans/", "/planning/plans/?rag=amber", "/"])
def test_the_number_of_queries_does_not_grow_with_the_plans(
    url: str, owner: User, today: datetime.date
) -> None:
    grow(1, owner, 0)
    few = count(owner, url)
    grow(3, owner, 1)
    assert count(owner, url) == few


def test_the_list_filters_sorts_and_pages(
    plan_a: AccountPlan, plan_b: AccountPlan, director: User, owner: User
) -> None:
    client = client_for(director)
    page = client.get("/planning/plans/?tier=2").content.decode()
    assert plan_b.account.name_en in page and plan_a.account.name_en not in page
    page = client.get(f"/planning/plans/?owner={owner.pk}&sort=-name").content.decode()
    assert plan_a.account.name_en in page and plan_b.account.name_en not in page
    page = client.get("/planning/plans/?q=Yuanhang").content.decode()
    assert plan_b.account.name_en in page and plan_a.account.name_en not in page
    page = client.get("/planning/plans/?status=approved").content.decode()
    assert "plan-empty" in page
    page = client.get("/planning/plans/?rag=red&review_due=on&page=x").content.decode()
    assert "plan-empty" in page


def test_group_plans_are_for_those_who_see_every_account(
    account_a: Account, owner: User, department: User, today: datetime.date
) -> None:
    from tests.factories import GroupFactory

    group = GroupFactory(name="明达集团")
    Account.objects.filter(pk=account_a.pk).update(group=group)
    assert client_for(owner).get(f"/planning/plans/new/?group={group.pk}").status_code == 403
    client = client_for(department)
    assert "account-plan-create" in client.get(f"/groups/{group.pk}/").content.decode()
    client.post(f"/planning/plans/new/?group={group.pk}", {"year": "2026", "kind": "expand",
                                                           "owner": department.pk})  # fmt: skip
    plan = AccountPlan.objects.get(group=group)
    assert "account-plan-panel" in client.get(f"/groups/{group.pk}/").content.decode()
    assert client_for(owner).get(f"/planning/plans/{plan.pk}/").status_code == 404


def test_editing_an_item_keeps_its_source_to_the_plans_account(
    plan_a: AccountPlan, plan_b: AccountPlan, owner: User, colleague: User, account_b: Account,
    today: datetime.date,
) -> None:  # fmt: skip
    from kam.coverage import services as coverage

    item = services.item_add(by=owner, plan=plan_a, kind="strength", text="时效稳定")
    report = coverage.report_submit(by=colleague, account=account_b, visited_on=today,
                                    purpose="乙方", summary="—",
                                    findings=[{"kind": "price", "severity": 2, "text": "乙方价格"}])  # fmt: skip
    client = client_for(owner)
    assert "时效稳定" in client.get(f"/planning/items/{item.pk}/").content.decode()
    page = client.post(f"/planning/items/{item.pk}/", {
        "kind": "threat", "text": "价格压力", "finding": report.findings.get().pk}).content.decode()  # fmt: skip
    assert "Select a valid choice" in page and "乙方价格" not in page
    item.refresh_from_db()
    assert (item.kind, item.text, item.finding_id) == ("strength", "时效稳定", None)
    client.post(f"/planning/items/{item.pk}/", {"kind": "threat", "text": "价格压力"})
    item.refresh_from_db()
    assert (item.kind, item.text) == ("threat", "价格压力")
    assert client_for(colleague).get(f"/planning/items/{item.pk}/").status_code == 404
