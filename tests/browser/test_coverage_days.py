"""The visit plan and the calendar in a browser: a plan a manager can drive (with its
warning for a year whose holidays are not entered), the month calendar opening on today's
month and, on a phone, scrolled to today; missed visits marked. Set KAM_SCREENSHOT_DIR to
keep screenshots (zh-Hans and English, desktop and phone) for a person to look at."""

import datetime
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from kam.accounts.models import TeamRole
from kam.core.models import Role, User
from kam.core.services import user_create
from kam.coverage.models import Visit
from tests.factories import AccountFactory, TeamMembershipFactory

from .support import BROWSER, DESKTOP, PASSWORD, PHONE, Console, log_in

pytestmark = BROWSER

#: A Wednesday late in a month of a year whose holidays are not entered (the package knows
#: years up to its release), so that today is far down a phone's list of days.
DAY = datetime.date(2030, 6, 26)
CITIES = ["330100"] * 6 + ["330600"] * 3 + ["330400"] * 2 + ["210700"]  # 杭州, 绍兴, 嘉兴, 锦州


def _shot(page: Page, name: str, *, full_page: bool = True) -> None:
    folder = os.environ.get("KAM_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=full_page)


@pytest.fixture
def manager(db: None) -> User:
    user = user_create(username="hz", role=Role.MANAGER, password=PASSWORD,
                       display_name="客户经理周")  # fmt: skip
    user.base_city_code = "330100"
    user.save()
    for n, city in enumerate(CITIES):
        account = AccountFactory(name=f"浙江客户{n:02d}有限公司", city_code=city,
                                 province_code=city[:2] + "0000", tier=1 if n < 4 else 2)  # fmt: skip
        TeamMembershipFactory(account=account, user=user, role=TeamRole.OWNER)
    return user


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_plan_and_calendar_a_person_can_drive(
    new_page: Callable[..., Page],
    time_machine: Any,
    director: User,
    manager: User,
    locale: str,
    console: Console,
) -> None:
    # The director's home page (工作台, after logging in) draws its compliance bar with an
    # inline style that the CSP blocks; that page is not under test here (reported).
    console.allow(r"inline style violates.*\(http://localhost:\d+/\)$")
    time_machine.move_to(datetime.datetime.combine(DAY, datetime.time(2, 0), datetime.UTC))
    lang = "zh" if locale == "zh-CN" else "en"
    page = new_page(locale=locale, viewport=DESKTOP | {"width": 1366})
    log_in(page, director)
    page.goto("/coverage/plan/")
    page.fill("#id_start", (DAY - datetime.timedelta(days=16)).isoformat())
    page.fill("#id_weeks", "4")
    page.click("#plan-generate")
    expect(page.locator("#plan-warning-calendar_unconfirmed")).to_contain_text("2030")
    expect(page.locator("#plan-km")).to_contain_text("km")
    _shot(page, f"plan-{lang}-desktop")
    phone = new_page(locale=locale, viewport=PHONE)
    log_in(phone, director)
    phone.goto("/coverage/plan/")
    expect(phone.locator("#plan-warning-calendar_unconfirmed")).to_be_visible()
    _shot(phone, f"plan-{lang}-phone")

    # 锦州 is reached by a trip with a night there; no day mixes it with 杭州's area.
    assert Visit.objects.filter(city_code="210700").exists()
    for day in set(Visit.objects.values_list("day", flat=True)):
        cities = set(Visit.objects.filter(day=day).values_list("city_code", flat=True))
        assert "210700" not in cities or cities == {"210700"}

    # The manager's month: today's month, missed visits before today, today in view.
    mine = new_page(locale=locale, viewport=PHONE)
    log_in(mine, manager)
    mine.goto("/coverage/calendar/?view=month")
    expect(mine.locator(".kam-cal-today")).to_be_in_viewport()
    assert mine.evaluate("window.scrollY") > 300  # it scrolled: today is far down the list
    assert mine.locator(".kam-visit-missed").count() > 0
    expect(mine.locator("#calendar-warning")).to_be_visible()
    start = mine.locator(".kam-cal-day:not(.kam-cal-outside)").first.get_attribute("data-day")
    assert start == "2030-06-01"
    _shot(mine, f"calendar-{lang}-phone", full_page=False)  # what the phone shows first
    desk = new_page(locale=locale, viewport=DESKTOP | {"width": 1366})
    log_in(desk, manager)
    desk.goto("/coverage/calendar/")
    desk.click("button[name=view][value=month]")  # from the week view: the same month
    expect(desk.locator(".kam-cal-today")).to_be_visible()
    _shot(desk, f"calendar-{lang}-desktop")
