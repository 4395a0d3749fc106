"""What the browser tests share besides fixtures: the browser's set-up, the test marks,
logging in, and the console watch."""

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

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


def log_in(page: Page, user: User, password: str = PASSWORD) -> None:
    """Through the real login form; lands on the home page."""
    page.goto("/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.click("#login-button")  # not button[type=submit]: the language switch is one too
    expect(page).to_have_url(re.compile(r"^https?://[^/]+/$"))
