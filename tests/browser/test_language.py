"""Simplified Chinese by default; the header's switch turns the pages to English and back."""

import re
from collections.abc import Callable

from django.utils import translation
from playwright.sync_api import Page, expect

from kam.core.models import User

from .support import BROWSER, log_in

pytestmark = BROWSER


def test_pages_are_chinese_by_default_and_the_switch_shows_english(
    new_page: Callable[..., Page], director: User
) -> None:
    with translation.override("zh-hans"):
        accounts_zh = translation.gettext("Accounts")
        log_in_zh = translation.gettext("Log in")
    # The catalog is compiled and loaded: otherwise the "Chinese" page would be English.
    assert accounts_zh != "Accounts"

    # A browser that asks for no language KAM speaks gets the default, Simplified Chinese.
    page = new_page(locale="fr-FR")
    page.goto("/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("#login-button")).to_have_text(log_in_zh)
    log_in(page, director)
    nav_accounts = page.locator('#nav a.nav-link[href="/accounts/"]')
    expect(nav_accounts).to_have_text(accounts_zh)

    page.locator('button[name="language"][value="en"]').click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(nav_accounts).to_have_text("Accounts")
    expect(page).to_have_url(re.compile(r"/$"))  # back where the user was

    # The choice sticks across pages.
    nav_accounts.click()
    expect(page.locator("h1")).to_have_text("Key-account archive")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.locator('button[name="language"][value="zh-hans"]').click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(nav_accounts).to_have_text(accounts_zh)
    expect(page).to_have_url(re.compile(r"/accounts/$"))
