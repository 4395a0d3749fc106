"""A service rep's day in the browser, desktop and phone, Chinese and English: the queue
holds the cases assigned to them by rule, "New case" from the queue picks an account by
typing (HTMX), the case lands in their own queue, and a clock that runs into a year
without holidays says so on the case page. SLA labels keep their words whole on a phone.

Set KAM_SCREENSHOTS=/some/dir to keep a screenshot of each page looked at."""

import os
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from kam.accounts.models import Account
from kam.core.calendar import working_calendar
from kam.core.models import Role, User
from kam.core.services import user_create
from kam.service.models import Action, Case, SlaPolicy

from .support import BROWSER, DESKTOP, PASSWORD, PHONE, log_in

pytestmark = BROWSER


@pytest.fixture
def service_rep(db: None) -> User:
    return user_create(
        username="service", role=Role.SERVICE, password=PASSWORD, display_name="客服刘"
    )


def _shot(page: Page, name: str) -> None:
    folder = os.environ.get("KAM_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def _policy() -> SlaPolicy:
    # A month of business hours: opened in December, the clock runs into January.
    return SlaPolicy.objects.create(
        name="1级 · 中", tier=1, severity="medium", clock="business", response_minutes=120,
        resolution_minutes=27 * 9 * 60, warning_shares=[50, 80],
        warning_actions=[Action.NOTIFY_ASSIGNEE], violation_actions=[Action.NOTIFY_ASSIGNEE],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("locale", "viewport", "label"),
    [("zh-CN", DESKTOP, "zh-desktop"), ("en-US", PHONE, "en-phone"),
     ("zh-CN", PHONE, "zh-phone"), ("en-US", DESKTOP, "en-desktop")],
)  # fmt: skip
def test_a_service_rep_opens_a_case_from_the_queue(
    new_page: Callable[..., Page], service_rep: User, account_a: Account, owner: User,
    locale: str, viewport: dict[str, int], label: str,
) -> None:  # fmt: skip
    _policy()
    page = new_page(locale=locale, viewport=viewport)
    log_in(page, service_rep)
    page.goto("/service/")
    expect(page.locator("#queue-empty")).to_be_visible()
    _shot(page, f"queue-empty-{label}")
    page.click("#case-new")
    page.fill("#pick-q", "明达")  # typing filters through HTMX, no submit needed
    expect(page.locator("#pick-list a")).to_have_count(1)
    _shot(page, f"new-case-pick-{label}")
    page.locator("#pick-list a").first.focus()
    page.keyboard.press("Enter")  # the keyboard picks it
    expect(page.locator("#case-form")).to_be_visible()
    _shot(page, f"new-case-form-{label}")
    page.fill("#id_subject", "跨年的投诉")
    page.click("#case-save")
    case = Case.objects.get()
    assert case.assignee == service_rep  # by rule: the account's service rep
    expect(page.locator("#case-assignee")).to_contain_text("客服刘")
    unknown = [y for y in range(case.opened_at.year, case.resolution_due.year + 1)
               if y not in working_calendar().known_years]  # fmt: skip
    if unknown:
        expect(page.locator("#calendar-unconfirmed")).to_contain_text(str(unknown[0]))
    # Labels keep whole words: each is one line high on any screen.
    for box in page.locator(".kam-clock-label").all():
        height = box.evaluate("e => e.getBoundingClientRect().height")
        line = box.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
        assert height < 1.5 * line, (height, line)
    _shot(page, f"case-{label}")
    page.goto("/service/")
    expect(page.locator(f'tr[data-case="{case.pk}"]')).to_be_visible()
    _shot(page, f"queue-{label}")
