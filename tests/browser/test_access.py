"""An account manager sees the accounts of their teams, and another team's account is not
there for them: not by URL, not by the API, not in the search."""

import re
from collections.abc import Callable

from django.utils import translation
from playwright.sync_api import Page, expect

from kam.accounts.models import Account, Contact
from kam.core.models import User

from .support import BROWSER, Console, log_in

pytestmark = BROWSER


def test_manager_reaches_own_account_but_not_another_teams(
    new_page: Callable[..., Page],
    console: Console,
    owner: User,
    account_a: Account,
    account_b: Account,
    contact_b: Contact,
) -> None:
    # Chromium reports the 404 answers below as failed resource loads; nothing else may fail.
    console.allow(r"status of 404")
    page = new_page()
    log_in(page, owner)

    # Home (工作台) says nothing of B; the account list lists A, and nothing of B.
    expect(page.locator("main")).not_to_contain_text(account_b.name)
    page.goto("/accounts/")
    mine = page.locator("main table")
    expect(mine.get_by_role("link", name=account_a.name)).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(account_b.name)

    mine.get_by_role("link", name=account_a.name).click()
    expect(page).to_have_url(re.compile(rf"/accounts/{account_a.pk}/$"))
    expect(page.locator("h1")).to_contain_text(account_a.name)

    # By URL: B's pages, and its contact's, are "not found", and say nothing of B.
    with translation.override("zh-hans"):
        not_found = translation.gettext("Not found")
    for path in (
        f"/accounts/{account_b.pk}/",
        f"/accounts/{account_b.pk}/edit/",
        f"/accounts/{account_b.pk}/contacts/new/",
        f"/contacts/{contact_b.pk}/",
    ):
        response = page.goto(path)
        assert response is not None and response.status == 404, path
        expect(page.locator("main h1")).to_have_text(not_found)
        content = page.content()
        assert account_b.name not in content, path
        assert contact_b.name not in content, path

    # By the API, through the browser's own session: A is readable, B is 404.
    response = page.request.get(f"/api/v1/accounts/{account_a.pk}")
    assert response.status == 200
    assert response.json()["name"] == account_a.name
    response = page.request.get(f"/api/v1/accounts/{account_b.pk}")
    assert response.status == 404
    assert account_b.name not in response.text()
    response = page.request.get(f"/api/v1/contacts/{contact_b.pk}")
    assert response.status == 404
    listed = page.request.get("/api/v1/accounts")
    assert listed.status == 200
    assert [a["name"] for a in listed.json()["items"]] == [account_a.name]

    # In the list and its search.
    page.goto("/accounts/")
    rows = page.locator("#account-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(account_a.name)
    page.fill("#id_q", "远航")
    expect(page.locator("#account-table .kam-empty")).to_be_visible()
    expect(rows).to_have_count(0)
    expect(page.locator("#account-table")).not_to_contain_text(account_b.name)
    page.fill("#id_q", "有限公司")  # in both names: still only A
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(account_a.name)
