"""The whitespace grid: each cell's state (in use from the ledger's facts with the evidence in
its title, open, won, lost, not offered with a link to add the opportunity), the filters,
the access rules (foreign accounts absent, a foreign or missing group 404), a fixed number
of queries whatever the page holds, and the XLSX export of the whole grid."""

import datetime
import io
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from kam.accounts.models import Account, BillingCode, TeamRole
from kam.core.models import User
from kam.ledger.models import AccountMonth
from kam.planning import services, whitespace
from kam.planning.models import Solution
from tests.factories import AccountFactory, BillingCodeFactory, TeamMembershipFactory
from tests.planning.conftest import LAST_MONTH, add_facts, months_back

pytestmark = pytest.mark.django_db

D = Decimal
CLOSE = datetime.date(2026, 12, 31)


def sol(code: str) -> Solution:
    return Solution.objects.get(code=code)


@pytest.fixture
def world(account_a: Account, account_b: Account, owner: User, colleague: User,
          today: datetime.date) -> dict[str, Any]:  # fmt: skip
    """account_a: 12 months of facts with COD and cold chain (no returns, no international);
    an open warehousing opportunity, a won packaging one, a lost returns one. account_b
    (another team's): an open cold-chain opportunity."""
    add_facts("YJ0591001", months_back(LAST_MONTH, 12))
    AccountMonth.objects.filter(billing_code="YJ0591001").update(
        cod_amount=D("2500.00"), cold_waybills=10
    )
    made = {}
    for code, stage in (("warehousing", None), ("packaging", "won"), ("returns", "lost")):
        opp = services.opportunity_create(
            by=owner, account=account_a, solution=sol(code), owner=owner,
            annual_revenue=D("100000"), probability=30, expected_close=CLOSE,
        )  # fmt: skip
        if stage == "won":
            opp.qualifiers = {"identified": {"need": True, "contact": True}}
            opp.save()
        if stage:
            opp = services.opportunity_move(by=owner, opportunity=opp, stage=stage,
                                            reason="客户决定")  # fmt: skip
        made[code] = opp
    made["b"] = services.opportunity_create(
        by=colleague, account=account_b, solution=sol("cold-chain"), owner=colleague,
        annual_revenue=D("100000"), probability=30, expected_close=CLOSE,
    )  # fmt: skip
    return made


def test_each_cell_says_its_state_and_evidence(world: dict[str, Any], account_a: Account,
                                                owner: User) -> None:  # fmt: skip
    solutions = list(Solution.objects.filter(active=True))
    grid = whitespace.cells(owner, [account_a.pk], solutions)[account_a.pk]
    by_code = {s.code: grid[s.pk] for s in solutions}
    assert by_code["cod"].state == "in_use"
    assert "¥30,000" in by_code["cod"].title  # 12 months × CNY 2,500 collected
    assert by_code["cold-chain"].state == "in_use"
    assert "120" in by_code["cold-chain"].title and "10.0 %" in by_code["cold-chain"].title
    assert by_code["warehousing"].state == "open"
    assert by_code["warehousing"].opportunity == world["warehousing"].pk
    assert by_code["packaging"].state == "won"
    assert by_code["returns"].state == "lost"  # no return waybills in the ledger
    assert by_code["international"].state == "not_offered"
    assert by_code["same-city"].state == "not_offered"
    assert "does not show" in by_code["same-city"].title
    # account_b's opportunity is not the owner's to see: their grid has no such row at all.
    assert world["b"].account_id not in whitespace.cells(owner, [account_a.pk], solutions)


def test_the_page_shows_cells_links_and_only_visible_accounts(
    client: Any, world: dict[str, Any], account_a: Account, account_b: Account, owner: User,
    analyst: User,
) -> None:  # fmt: skip
    client.force_login(owner)
    page = client.get("/planning/whitespace/")
    body = page.content.decode()
    assert page.status_code == 200
    assert account_a.name in body and account_b.name not in body
    assert 'data-state="in_use"' in body and "cash on delivery" not in body  # zh-Hans page
    assert "代收货款" in body
    international = sol("international")
    assert f"?account={account_a.pk}&amp;solution={international.pk}" in body
    assert f"/planning/opportunities/{world['warehousing'].pk}/" in body
    # The link opens the new opportunity with the solution chosen.
    new = client.get(f"/planning/opportunities/new/?account={account_a.pk}"
                     f"&solution={international.pk}")  # fmt: skip
    assert f'<option value="{international.pk}" selected>' in new.content.decode()
    # Analysts read the grid but get no link to add.
    client.force_login(analyst)
    body = client.get("/planning/whitespace/").content.decode()
    assert account_a.name in body and account_b.name in body
    assert "/planning/opportunities/new/" not in body


def test_filters_narrow_the_accounts(
    client: Any, world: dict[str, Any], account_a: Account, account_b: Account,
    director: User, colleague: User,
) -> None:  # fmt: skip
    client.force_login(director)
    assert account_b.name in client.get("/planning/whitespace/?tier=2").content.decode()
    assert account_a.name not in client.get("/planning/whitespace/?tier=2").content.decode()
    body = client.get(f"/planning/whitespace/?owner={colleague.pk}").content.decode()
    assert account_b.name in body and account_a.name not in body
    body = client.get(f"/planning/whitespace/?industry={account_a.industry_id}").content.decode()
    assert account_a.name in body and account_b.name not in body
    body = client.get("/planning/whitespace/?mine=on").content.decode()
    assert 'id="whitespace-empty"' in body  # the director is on no team
    body = client.get("/planning/whitespace/?q=远航").content.decode()
    assert account_b.name in body and account_a.name not in body
    # Bad filter values are ignored, not a crash.
    assert client.get("/planning/whitespace/?tier=9&owner=x&page=zz").status_code == 200


def test_a_group_narrows_the_grid_and_a_missing_one_is_404(
    client: Any, world: dict[str, Any], account_a: Account, account_b: Account, owner: User,
) -> None:  # fmt: skip
    from tests.factories import GroupFactory as CorporateGroupFactory

    group = CorporateGroupFactory(name="明达集团")
    Account.objects.filter(pk__in=[account_a.pk, account_b.pk]).update(group=group)
    client.force_login(owner)
    body = client.get(f"/planning/whitespace/?group={group.pk}").content.decode()
    assert "明达集团" in body and account_a.name in body and account_b.name not in body
    assert client.get("/planning/whitespace/?group=999999").status_code == 404
    assert client.get("/planning/whitespace/whitespace.xlsx?group=999999").status_code == 404


def test_the_page_costs_the_same_queries_for_one_account_or_many(
    client: Any, world: dict[str, Any], director: User, owner: User,
) -> None:  # fmt: skip
    client.force_login(director)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/planning/whitespace/").status_code == 200
    for n in range(20):
        account = AccountFactory(name=f"测试客户{n:02d}", tier=2)
        TeamMembershipFactory(account=account, user=owner, role=TeamRole.OWNER)
        BillingCodeFactory(account=account, code=f"YJ07{n:05d}")
        add_facts(f"YJ07{n:05d}", months_back(LAST_MONTH, 2))
    assert BillingCode.objects.count() > 20
    with CaptureQueriesContext(connection) as many:
        body = client.get("/planning/whitespace/").content.decode()
    assert "测试客户19" in body
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_export_holds_every_matching_account(
    client: Any, world: dict[str, Any], account_a: Account, account_b: Account, owner: User,
    colleague: User,
) -> None:  # fmt: skip
    client.force_login(owner)
    response = client.get("/planning/whitespace/whitespace.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    grid = list(book.worksheets[0].iter_rows(values_only=True))
    names = [row[0] for row in grid[1:]]
    assert names == [account_a.name]  # not account_b: another team's
    header = list(grid[0])
    assert grid[1][header.index(sol("cod").name_zh)] == "在用"
    evidence = list(book.worksheets[1].iter_rows(values_only=True))
    assert any(row[1] == sol("cod").name_zh and "¥30,000" in row[3] for row in evidence[1:])
    client.force_login(colleague)
    book = load_workbook(io.BytesIO(client.get("/planning/whitespace/whitespace.xlsx").content))
    assert [r[0] for r in list(book.worksheets[0].iter_rows(values_only=True))[1:]] == [
        account_b.name
    ]


def test_people_who_see_no_customer_data_get_404(client: Any, admin: User) -> None:
    client.force_login(admin)
    assert client.get("/planning/whitespace/").status_code == 404
    assert client.get("/planning/whitespace/whitespace.xlsx").status_code == 404


def test_the_api_gives_the_same_grid_with_the_same_rules(
    session_client: Any, world: dict[str, Any], account_a: Account, account_b: Account,
    owner: User, admin: User,
) -> None:  # fmt: skip
    api = session_client(owner)
    response = api.get("/planning/whitespace")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 1 and [r["account"] for r in body["items"]] == [account_a.pk]
    cells = {c["solution_code"]: c for c in body["items"][0]["cells"]}
    assert cells["cod"]["state"] == "in_use" and "¥30,000" in cells["cod"]["evidence"]
    assert cells["warehousing"]["opportunity"] == world["warehousing"].pk
    assert api.get("/planning/whitespace?tier=2").json()["count"] == 0
    assert api.get("/planning/whitespace?group=999999").status_code == 404
    assert api.get("/planning/whitespace?tier=9").status_code == 422
    assert session_client(admin).get("/planning/whitespace").status_code == 404


def test_a_few_waybills_are_no_solution_in_use(
    world: dict[str, Any], account_a: Account, owner: User
) -> None:
    """Five international waybills in 1,200 (0.4 %) do not make international in use; 1 %
    does."""
    international = sol("international")
    AccountMonth.objects.filter(billing_code="YJ0591001", month=LAST_MONTH).update(
        international_waybills=5
    )
    cell = whitespace.cells(owner, [account_a.pk], [international])[account_a.pk][international.pk]
    assert cell.state == "not_offered"
    AccountMonth.objects.filter(billing_code="YJ0591001", month=LAST_MONTH).update(
        international_waybills=12
    )
    cell = whitespace.cells(owner, [account_a.pk], [international])[account_a.pk][international.pk]
    assert cell.state == "in_use" and "1.0 %" in cell.title
