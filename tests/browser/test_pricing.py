"""Issue 16's path ("Done when"), in the browser, on data built as the demo builds it
(waybills through the ledger's real import, a standard card, guidance): the account
manager builds a quote from the account page with a strategy, sees the what-if on the
account's own waybills, submits it below the floor; the department and then the director
approve; the manager sends it, records the customer's acceptance and makes it the
contract, whose card is the account's active card with its realisation on the account
page. One test, one build of the data; then the quote page on a phone in English."""

import datetime
from collections.abc import Callable
from pathlib import Path

from django.utils import timezone
from playwright.sync_api import Page, expect

from kam.accounts.models import Account
from kam.core.models import Role, User
from kam.core.services import user_create
from kam.pricing import services
from kam.pricing.models import Quote, QuoteStatus, RateCard
from tests.ledger.conftest import good_row, import_file, write_waybills
from tests.pricing.support import standard_card, tier_one_guidance

from .support import BROWSER, PASSWORD, PHONE, log_in

pytestmark = BROWSER


def _standard_card() -> RateCard:
    card = standard_card(name="标准价目表 2026", start=datetime.date(2024, 1, 1),
                         products=("express", "standard"))  # fmt: skip
    tier_one_guidance()
    return card


def test_a_quote_from_strategy_to_contract(
    new_page: Callable[..., Page], account_a: Account, owner: User, director: User,
    tmp_path: Path,
) -> None:  # fmt: skip
    department = user_create(username="dept", role=Role.DEPARTMENT, password=PASSWORD,
                             display_name="大客户部李")  # fmt: skip
    today = timezone.localdate()
    shipped = today.replace(day=1) - datetime.timedelta(days=20)
    rows = [good_row(i, ship_time=f"{shipped:%Y-%m-%d} 10:00:00") for i in range(1, 25)]
    assert import_file(write_waybills(tmp_path / "w.csv", rows)).status == "committed"
    _standard_card()

    page = new_page()
    log_in(page, owner)
    page.goto(f"/accounts/{account_a.pk}/")
    page.click("#account-quote-new")
    # Target profit at 5 %: 24 waybills at cost 8.00 listed at 25.00: 192.00 / 0.95 =
    # 202.11 against 600.00 of list, 66.31 % off: beyond the floor (40 %).
    page.select_option("#id_p-strategy", "target_profit")
    page.fill("#id_p-target_margin", "5")
    page.click("#quote-propose-run")
    expect(page.locator("#quote-proposal")).to_be_visible()
    expect(page.locator("#id_d-0-percent")).to_have_value("66.3150")
    page.fill("#id_terms", "月结 30 天")
    page.click("#quote-save")
    expect(page.locator("h1")).to_contain_text("Q")
    quote = Quote.objects.get()
    # The what-if on the account's own 24 waybills: 13.50 each today (324.00).
    expect(page.locator("#whatif-totals")).to_contain_text("¥324.00")
    expect(page.locator("[data-whatif-chart] canvas")).to_have_count(1)
    page.fill("#whatif-volume", "50")
    page.click("#whatif-form button")
    expect(page.locator("#whatif-totals")).to_contain_text("50")
    page.click("#quote-submit")
    expect(page.locator("#quote-approval")).to_contain_text("66.315")
    quote.refresh_from_db()
    assert (quote.status, quote.awaiting) == (QuoteStatus.SUBMITTED, "department")

    dept_page = new_page()
    log_in(dept_page, department)
    dept_page.goto("/pricing/?awaiting=on")
    dept_page.click(f"text={quote.number}")
    dept_page.fill("#id_comment", "同意，季度复核毛利")
    dept_page.click("#quote-decide button[value=approved]")
    expect(dept_page.locator("#quote-steps")).to_contain_text("同意，季度复核毛利")

    boss = new_page()
    log_in(boss, director)
    boss.goto(f"/pricing/quotes/{quote.pk}/")
    boss.click("#quote-decide button[value=approved]")
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED

    page.goto(f"/pricing/quotes/{quote.pk}/")
    page.click("#quote-send")
    page.click("#quote-accept")
    page.fill("#id_contract_from", today.replace(day=1).isoformat())
    page.click("#quote-contract button")
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.CONTRACTED
    assert services.active_card(account_a, today) == quote.card
    page.goto(f"/accounts/{account_a.pk}/")
    expect(page.locator("#account-pricing-panel")).to_contain_text(quote.card.name)
    expect(page.locator("#account-pricing-panel")).to_contain_text("66.315 %")

    phone = new_page(locale="en-US", viewport=PHONE)
    log_in(phone, owner)
    phone.goto(f"/pricing/quotes/{quote.pk}/")
    expect(phone.locator("h1")).to_contain_text("Quote")
    expect(phone.locator("#whatif-totals")).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the quote page scrolls sideways on a phone ({width}px)"
