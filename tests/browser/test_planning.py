"""The account plan's path of issue 15 ("Done when"), in the browser, on data built as the
demo builds it (an account with waybills imported through the ledger's real import, a plan
and an opportunity): the account manager opens the plan from the account page and sees its
situation read from the data, adds an objective whose progress moves when new waybills are
imported, adds an action and makes it a tracked follow-up, drags an opportunity across the
pipeline board answering its stages' qualifiers, and submits the plan; the department signs
it off. One test, one build of the data."""

import datetime
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from django.utils import timezone
from playwright.sync_api import Page, expect

from kam.accounts.models import Account
from kam.core.models import Role, User
from kam.core.services import user_create
from kam.coverage.models import FollowUp
from kam.planning import services
from kam.planning.models import AccountPlan, Action, Opportunity, PlanStatus, Solution
from tests.ledger.conftest import good_row, import_file, write_waybills

from .support import BROWSER, PASSWORD, log_in

pytestmark = BROWSER


def waybills(day: datetime.date, numbers: range) -> list[dict[str, str]]:
    """Waybills of account A's billing code shipped on ``day`` (CNY 13.50 each)."""
    return [good_row(i, ship_time=f"{day:%Y-%m-%d} 10:00:00",
                     delivered_time=f"{day:%Y-%m-%d} 18:00:00",
                     promised_time=f"{day:%Y-%m-%d} 20:00:00") for i in numbers]  # fmt: skip


def drag(page: Page, card: str, column: str) -> None:
    """Drag a board card onto another stage's column with the mouse (SortableJS)."""
    source = page.locator(f"{card} .kam-board-grip").bounding_box()
    target = page.locator(f'.kam-board-cards[data-stage="{column}"]').bounding_box()
    assert source and target
    page.mouse.move(source["x"] + 4, source["y"] + 4)
    page.mouse.down()
    page.mouse.move(source["x"] + 30, source["y"] + 30, steps=5)
    page.mouse.move(target["x"] + target["width"] / 2, target["y"] + 20, steps=15)
    page.mouse.up()


def test_a_manager_plans_an_account_and_the_department_signs_it_off(
    new_page: Callable[..., Page], account_a: Account, owner: User, tmp_path: Path
) -> None:
    today = timezone.localdate()
    last_month = today.replace(day=1) - datetime.timedelta(days=10)
    import_file(write_waybills(tmp_path / "first.csv", waybills(last_month, range(1, 4))))
    plan = services.plan_create(by=owner, account=account_a, year=today.year, kind="expand",
                                owner=owner, ambition="成为客户的首选物流伙伴")  # fmt: skip
    opp = services.opportunity_create(
        by=owner, account=account_a, solution=Solution.objects.get(code="cold-chain"),
        owner=owner, annual_revenue=Decimal("500000"), probability=20,
        expected_close=today + datetime.timedelta(days=60),
    )  # fmt: skip
    department = user_create(username="dept", role=Role.DEPARTMENT, password=PASSWORD,
                             display_name="大客户部李")  # fmt: skip

    page = new_page()
    log_in(page, owner)
    # The account page's planning panel leads to the plan; its situation comes from the data.
    page.goto(f"/accounts/{account_a.pk}/")
    expect(page.locator("#account-opportunity-add")).to_be_visible()
    page.locator(f'#account-plan-panel a[href="/planning/plans/{plan.pk}/"]').click()
    expect(page.locator("#plan-title")).to_contain_text(account_a.name)
    expect(page.locator("#situation-revenue")).to_have_text("¥40.50")  # 3 waybills × 13.50

    # An objective on volume: 3 waybills now, 9 once six more are imported.
    form = page.locator("#objective-form")
    form.locator('select[name="objective-metric"]').select_option("waybills")
    form.locator('input[name="objective-title"]').fill("票量翻番")
    form.locator('input[name="objective-baseline"]').fill("1")
    form.locator('input[name="objective-target"]').fill("100")
    form.locator('input[name="objective-target_date"]').fill(f"{today.year}-12-31")
    form.locator('button[type="submit"]').click()
    row = page.locator("#plan-objectives tbody tr", has_text="票量翻番")
    expect(row.locator(".objective-current")).to_have_text("3")
    import_file(write_waybills(tmp_path / "second.csv", waybills(today, range(4, 10))))
    page.reload()
    expect(row.locator(".objective-current")).to_have_text("9")
    expect(row.locator(".objective-percent")).to_have_text("8.1 %")

    # An action, then tracked as a coverage follow-up.
    page.locator("#plan-actions details summary").click()
    actions = page.locator("#action-form")
    actions.locator('input[name="action-title"]').fill("拜访物流总监，介绍冷链方案")
    due = min(today + datetime.timedelta(days=10), plan.end)
    actions.locator('input[name="action-due_date"]').fill(f"{due:%Y-%m-%d}")
    actions.locator('button[type="submit"]').click()
    action_row = page.locator("#plan-actions tbody tr", has_text="拜访物流总监")
    action_row.locator(".action-track").click()
    expect(action_row.locator(".action-follow-up")).to_be_visible()
    follow_up = Action.objects.get(plan=plan).follow_up
    assert follow_up is not None and FollowUp.objects.filter(pk=follow_up.pk).exists()

    # The opportunity dragged across the board: each move asks for the qualifiers of the
    # stage it leaves, and the server moves it only when they are all answered yes.
    page.goto("/planning/opportunities/board/")
    card = f"#card-{opp.pk}"
    drag(page, card, "qualified")
    dialog = page.locator("#board-move-modal")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#board-move-reason-row")).to_be_hidden()
    dialog.locator('input[name="q:identified:need"]').check()  # one of two: refused
    page.locator("#board-move-submit").click()
    expect(page.locator(f'section[data-stage="identified"] {card}')).to_be_visible()
    expect(page.locator(".kam-messages, .alert-danger").first).to_be_visible()
    drag(page, card, "qualified")
    expect(dialog).to_be_visible()
    # A refusal stores nothing, not even the answer given: both are answered this time.
    expect(dialog.locator('input[name="q:identified:need"]')).not_to_be_checked()
    dialog.locator('input[name="q:identified:need"]').check()
    dialog.locator('input[name="q:identified:contact"]').check()
    page.locator("#board-move-submit").click()
    expect(page.locator(f'section[data-stage="qualified"] {card}')).to_be_visible()
    # Skipping a stage asks for a reason too.
    drag(page, card, "negotiation")
    expect(dialog.locator("#board-move-reason")).to_be_visible()
    for key in ("budget", "decider", "timing"):
        dialog.locator(f'input[name="q:qualified:{key}"]').check()
    dialog.locator("#board-move-reason").fill("客户直接进入议价")
    page.locator("#board-move-submit").click()
    expect(page.locator(f'section[data-stage="negotiation"] {card}')).to_be_visible()
    # Dropped back, the card moves without a question; a cancelled dialog puts it back.
    drag(page, card, "proposal")
    expect(page.locator(f'section[data-stage="proposal"] {card}')).to_be_visible()
    drag(page, card, "negotiation")
    expect(dialog).to_be_visible()
    dialog.locator('button[data-bs-dismiss="modal"]').first.click()
    expect(page.locator(f'section[data-stage="proposal"] {card}')).to_be_visible()
    opp.refresh_from_db()
    assert opp.stage == "proposal" and opp.answered_yes("identified")

    # Submitted for review.
    page.goto(f"/planning/plans/{plan.pk}/")
    page.locator("#plan-submit").click()
    expect(page.locator("#plan-status")).to_have_text("待评审")

    # The department signs it off.
    reviewer = new_page()
    log_in(reviewer, department)
    reviewer.goto(f"/planning/plans/{plan.pk}/")
    reviewer.locator('#plan-review select[name="review-decision"]').select_option("approved")
    reviewer.locator("#plan-review-save").click()
    expect(reviewer.locator("#plan-status")).to_have_text("已批准")
    expect(reviewer.locator("#plan-reviews")).to_contain_text(re.compile("批准"))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED
    assert AccountPlan.objects.get(pk=plan.pk).reviews.count() == 1
    assert Opportunity.objects.get(pk=opp.pk).stage == "proposal"
