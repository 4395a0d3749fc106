"""A director logs in with a password and a TOTP code; a department member sets up the
authenticator at the first login and gets recovery codes; the security page ends a session."""

import re
from base64 import b32decode
from collections.abc import Callable

from django.utils import translation
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from kam.core.models import Role, User
from kam.core.services import user_create

from .support import BROWSER, PASSWORD, PHONE, authenticator, log_in, totp_code

pytestmark = BROWSER

HOME = re.compile(r"^https?://[^/]+/$")


def test_a_director_logs_in_with_password_and_a_code_from_the_authenticator(
    new_page: Callable[..., Page], director: User
) -> None:
    device = authenticator(director)
    page = new_page()
    page.goto("/accounts/")
    page.fill("#id_username", director.username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-button")
    expect(page).to_have_url(re.compile(r"/login/code/\?next=%2Faccounts%2F$"))
    expect(page.locator("#nav-user")).to_have_count(0)  # no way around the code

    page.goto("/notifications/")  # every other page sends back to the code
    expect(page).to_have_url(re.compile(r"/login/code/"))

    with translation.override("zh-hans"):
        title = translation.gettext("Enter your code")
    expect(page.locator("h1")).to_contain_text(title)
    page.fill("#id_code", "000000" if totp_code(device) != "000000" else "111111")
    page.click("#code-button")
    expect(page.locator("#id_code.is-invalid")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login/code/"))

    page.wait_for_timeout(1100)  # after a wrong code the device waits a second
    page.fill("#id_code", totp_code(device))
    page.click("#code-button")
    expect(page).to_have_url(re.compile(r"/notifications/$"))
    expect(page.locator("#nav-user")).to_be_visible()


def test_a_department_member_sets_up_the_authenticator_at_the_first_login(
    new_page: Callable[..., Page], db: None
) -> None:
    user = user_create(username="dept", role=Role.DEPARTMENT, password=PASSWORD, display_name="李")
    page = new_page(locale="en-US", viewport=PHONE)
    page.goto("/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-button")
    expect(page).to_have_url(re.compile(r"/login/enrol/"))
    expect(page.locator("#enrol-qr")).to_be_visible()
    # What a person without a camera does: type the key into the app.
    secret = page.locator("#enrol-secret").inner_text().replace(" ", "")
    key = b32decode(secret + "=" * (-len(secret) % 8))
    page.fill("#id_code", f"{totp(key):06d}")
    page.click("#enrol-button")
    expect(page).to_have_url(re.compile(r"/login/recovery-codes/"))
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.click("#codes-saved")
    expect(page).to_have_url(HOME)
    assert TOTPDevice.objects.get(user=user).confirmed


def test_the_security_page_ends_another_session(
    new_page: Callable[..., Page], director: User
) -> None:
    laptop, phone = new_page(locale="en-US"), new_page(locale="en-US", viewport=PHONE)
    log_in(laptop, director)
    log_in(phone, director)
    laptop.goto("/me/security/")
    rows = laptop.locator("#sessions tbody tr")
    expect(rows).to_have_count(2)
    laptop.locator("#sessions tbody tr:not(.table-primary) button").click()
    expect(laptop.locator(".alert-success")).to_contain_text("The session is ended")
    expect(rows).to_have_count(1)
    phone.goto("/notifications/")
    expect(phone).to_have_url(re.compile(r"/login/"))
