"""What the browser tests share besides fixtures: the browser's set-up, the test marks,
logging in, and the console watch."""

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import ConsoleMessage, Page, expect

from kam.core import twofactor
from kam.core.models import User

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "Browser-test-password-1"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

BROWSER = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@dataclass
class Console:
    """Console errors and uncaught exceptions of every page of one test."""

    messages: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """Expect errors matching ``pattern`` (a regular expression) in this test."""
        self.allowed.append(re.compile(pattern))

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.messages.append(f"console: {message.text} ({message.location.get('url', '')})")

    def on_page_error(self, error: Any) -> None:
        self.messages.append(f"pageerror: {error}")

    def unexpected(self) -> list[str]:
        return [m for m in self.messages if not any(a.search(m) for a in self.allowed)]


def authenticator(user: User) -> TOTPDevice:
    """The user's authenticator app, set up (confirmed) if they have none, and ready to
    accept the code of this moment (a code is accepted once: a test that logs the same
    person in twice within 30 seconds would otherwise be refused)."""
    device = twofactor.authenticator(user) or TOTPDevice.objects.create(
        user=user, name=twofactor.TOTP_NAME, confirmed=True
    )
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0)
    device.refresh_from_db()
    return device


def totp_code(device: TOTPDevice) -> str:
    """The six digits the user's phone shows now, computed from the device's key."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def log_in(page: Page, user: User, password: str = PASSWORD) -> None:
    """Through the real login form, and the code page for roles that must give a second
    factor (their authenticator set up first if needed); lands on the home page."""
    device = authenticator(user) if twofactor.asks_second_factor(user) else None
    page.goto("/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.click("#login-button")  # not button[type=submit]: the language switch is one too
    if device is not None:
        expect(page).to_have_url(re.compile(r"/login/code/"))
        page.fill("#id_code", totp_code(device))
        page.click("#code-button")
    expect(page).to_have_url(re.compile(r"^https?://[^/]+/$"))
