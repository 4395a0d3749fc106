"""Segmentation in the browser: the portfolio page draws its Pareto chart, the department
accepts a tier proposal, and the account owner works the alerts inbox."""

from collections.abc import Callable

from playwright.sync_api import Page, expect

from kam.accounts.models import Account
from kam.core.models import Role, User
from kam.core.services import user_create
from kam.segmentation import services
from kam.segmentation.models import Alert, Run, TierProposal
from tests.factories import AccountFactory, BillingCodeFactory
from tests.segmentation.conftest import store

from .support import BROWSER, PASSWORD, log_in
from .test_account_page import CANVAS_PAINTED

pytestmark = BROWSER


def _segmented(account_a: Account) -> Run:
    store("YJ0591001", [20000.0] * 21 + [4000.0] * 3)  # declines: an alert for its owner
    for i in range(8):
        code = f"YJ88000{i:02d}"
        BillingCodeFactory(account=AccountFactory(tier=5), code=code)
        store(code, [500.0 + 400 * i] * 24)
    return services.run_execute(run=services.run_create(trigger=Run.Trigger.MANUAL))


def test_portfolio_chart_and_accepting_a_proposal(
    new_page: Callable[..., Page], account_a: Account
) -> None:
    department = user_create(username="department", role=Role.DEPARTMENT, password=PASSWORD)
    run = _segmented(account_a)
    page = new_page(locale="en-US")
    log_in(page, department)
    page.goto("/segmentation/")
    expect(page.locator("#top20")).to_have_text(f"{run.stats['accounts']['top20_share']} %")
    page.wait_for_function(CANVAS_PAINTED, arg="#pareto-chart")
    bars = page.evaluate(
        """() => echarts.getInstanceByDom(document.getElementById("pareto-chart"))
                   .getOption().series.map((s) => s.type)"""
    )
    assert bars == ["bar", "line"]

    proposal = TierProposal.objects.filter(run=run).order_by("valuation__rank").first()
    page.goto("/segmentation/proposals/")
    row = page.locator(f"#proposal-{proposal.pk}")
    expect(row).to_contain_text("because")
    row.locator("[data-accept]").click()
    expect(page.locator(".alert-success")).to_contain_text(f"is now tier {proposal.proposed_tier}")
    expect(page.locator(f"#proposal-{proposal.pk}")).to_have_count(0)
    assert Account.objects.get(pk=proposal.account_id).tier == proposal.proposed_tier


def test_owner_acknowledges_and_resolves_an_alert(
    new_page: Callable[..., Page], account_a: Account, owner: User
) -> None:
    _segmented(account_a)
    alert = Alert.objects.get(kind=Alert.Kind.DECLINE, account=account_a)
    page = new_page(locale="zh-CN")
    log_in(page, owner)
    page.goto("/segmentation/alerts/")
    item = page.locator(f"#alert-{alert.pk}")
    expect(item).to_contain_text("同比下降")
    item.locator("input[name=note]").fill("已联系客户")
    item.locator("button[value=acknowledge]").click()
    expect(page.locator(".alert-success")).to_be_visible()
    page.goto("/segmentation/alerts/?status=acknowledged")
    item = page.locator(f"#alert-{alert.pk}")
    expect(item).to_contain_text("已联系客户")
    item.locator("input[name=note]").fill("货量已恢复")
    item.locator("button[value=resolve]").click()
    expect(page.locator(f"#alert-{alert.pk}")).to_have_count(0)
    alert.refresh_from_db()
    assert alert.status == Alert.Status.RESOLVED and alert.resolved_by == owner
