"""A director works through the archive in the browser: search, open, edit, add a contact
and a tie; and a bad credit code is refused next to its field with nothing saved."""

import re
from collections.abc import Callable

from django.utils import translation
from playwright.sync_api import Page, expect

from kam.accounts.models import Account, Contact, ContactTie, TieKind
from kam.core.models import User

from .support import BROWSER, log_in

pytestmark = BROWSER


def zh(message: str) -> str:
    """What a Chinese-speaking user reads for ``message`` (the source text if untranslated)."""
    with translation.override("zh-hans"):
        return translation.gettext(message)


def test_director_searches_edits_and_adds_a_contact_with_a_tie(
    new_page: Callable[..., Page],
    director: User,
    account_a: Account,
    account_b: Account,
    contact_a: Contact,
) -> None:
    page = new_page()
    log_in(page, director)

    # Search: the table is swapped in place by HTMX (the page is not reloaded).
    page.goto("/accounts/")
    rows = page.locator("#account-table tbody tr")
    expect(rows).to_have_count(2)
    page.evaluate("window.kamNotReloaded = true")
    page.fill("#id_q", "明达")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(account_a.name)
    expect(page.locator("#account-table")).not_to_contain_text(account_b.name)
    expect(page).to_have_url(re.compile(r"/accounts/\?.*q=%E6%98%8E%E8%BE%BE"))
    assert page.evaluate("window.kamNotReloaded") is True
    page.fill("#id_q", "gzyh")  # pinyin initials of 广州远航
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(account_b.name)
    page.fill("#id_q", "明达")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(account_a.name)

    rows.first.get_by_role("link", name=account_a.name).click()
    expect(page).to_have_url(re.compile(rf"/accounts/{account_a.pk}/$"))
    expect(page.locator("h1")).to_contain_text(account_a.name)

    # Edit: English name and tier.
    page.click("#edit-account")
    form = page.locator("#account-form")
    expect(form).to_be_visible()
    form.locator("#id_name_en").fill("Mingda Electronics Group")
    form.locator("#id_tier").select_option("2")
    form.locator("#save").click()
    expect(page).to_have_url(re.compile(rf"/accounts/{account_a.pk}/$"))
    expect(page.locator(".alert-success")).to_contain_text(zh("Changes saved."))
    expect(page.locator("h1 + .kam-muted")).to_have_text("Mingda Electronics Group")
    expect(page.locator("h1 .kam-tier")).to_have_text("T2")
    account_a.refresh_from_db()
    assert (account_a.name_en, account_a.tier) == ("Mingda Electronics Group", 2)

    page.click("#tab-history")
    history = page.locator("#pane-history")
    expect(history).to_be_visible()
    change = history.locator("tbody tr").first
    expect(change).to_contain_text(str(director))
    expect(change.locator(".kam-diff-old").first).to_have_text(
        "Fujian Mingda Electronics Co., Ltd."
    )
    expect(change.locator(".kam-diff-new").first).to_have_text("Mingda Electronics Group")
    expect(change).to_contain_text(zh("Tier 2"))

    # A new contact, with a phone number.
    page.click("#add-contact")
    form = page.locator("#contact-form")
    expect(form).to_be_visible()
    form.locator("#id_name").fill("陈晓梅")
    form.locator("#id_title").fill("采购总监")
    form.locator("#id_phone_mobile").fill("13600001111")
    form.locator("#save").click()
    expect(page).to_have_url(re.compile(r"/contacts/\d+/$"))
    new_contact = Contact.objects.get(account=account_a, name="陈晓梅")
    assert page.url.endswith(f"/contacts/{new_contact.pk}/")
    expect(page.locator("h1")).to_have_text("陈晓梅")
    expect(page.locator('#protected [data-field="phone_mobile"]')).to_have_text("13600001111")
    assert new_contact.phone_mobile == "13600001111"

    # A tie from the new contact to another contact of the same account.
    tie_form = page.locator("#tie-form")
    tie_form.locator('select[name="to_contact"]').select_option(str(contact_a.pk))
    tie_form.locator('select[name="kind"]').select_option(TieKind.FORMER_COLLEAGUE)
    tie_form.locator('input[name="note"]').fill("曾在明达供应链部共事五年")
    tie_form.locator('button[type="submit"]').click()
    expect(page).to_have_url(re.compile(rf"/contacts/{new_contact.pk}/#ties$"))
    tie = page.locator("#ties li").filter(has=page.locator(f'a[href="/contacts/{contact_a.pk}/"]'))
    expect(tie).to_have_count(1)
    expect(tie).to_contain_text(contact_a.name)
    expect(tie).to_contain_text(zh("Former colleague"))
    expect(tie).to_contain_text("曾在明达供应链部共事五年")
    assert ContactTie.objects.filter(
        from_contact=new_contact, to_contact=contact_a, kind=TieKind.FORMER_COLLEAGUE
    ).exists()


def test_invalid_credit_code_is_refused_next_to_the_field_and_nothing_is_saved(
    new_page: Callable[..., Page], director: User, account_a: Account
) -> None:
    before = Account.objects.values().get(pk=account_a.pk)
    history_rows = account_a.history.count()
    page = new_page()
    log_in(page, director)

    page.goto(f"/accounts/{account_a.pk}/edit/")
    form = page.locator("#account-form")
    form.locator("#id_name_en").fill("Should Not Be Saved Ltd.")
    # 91350100M000100Y43 is valid; the 18th (check) character is wrong here.
    form.locator("#id_credit_code").fill("91350100M000100Y44")
    form.locator("#save").click()

    expect(page.locator("#form-errors")).to_be_visible()
    field = page.locator("#id_credit_code")
    expect(field).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(field).to_have_value("91350100M000100Y44")  # the user's input is kept to correct
    feedback = field.locator("xpath=following-sibling::div[contains(@class, 'invalid-feedback')]")
    expect(feedback).to_have_text(
        zh("The check character (the 18th) does not match; check for typos.")
    )
    expect(feedback).to_be_visible()
    # Only that field is marked.
    expect(form.locator(".is-invalid")).to_have_count(1)
    assert re.search(rf"/accounts/{account_a.pk}/edit/$", page.url)

    assert Account.objects.values().get(pk=account_a.pk) == before
    assert account_a.history.count() == history_rows
