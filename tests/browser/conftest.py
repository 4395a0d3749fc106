"""Fixtures of the browser tests: Debian's Chromium driven by Playwright against a live server.

One browser for the package, a fresh context (cookies, storage) per page a test asks for, and
every page watched for console errors and uncaught exceptions: a test fails at teardown
when one appeared that it did not expect. CSP violations are console errors in Chromium,
so a page that breaks the Content-Security-Policy fails its test too.

The people who log in are created through ``user_create`` with a known password (the
factories' users in ``tests/conftest.py`` keep their names and roles; these override
``director`` and ``owner`` so that the archive fixtures there build around them).

Every browser test module sets ``pytestmark = BROWSER`` (support.py): a transactional
database, since the live server answers from another thread, with the migrations' rows
(the industries) restored before each test.
"""

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from kam.core.models import Role, User
from kam.core.services import user_create
from tests import catalogues

from .support import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PASSWORD, Console

# --- session: translations and the browser ---------------------------------------------------


@pytest.fixture(scope="package", autouse=True)
def _compiled_translations() -> Iterator[None]:
    """Compile the .po files whose .mo is missing or older (see tests/catalogues.py)."""
    catalogues.compile_stale()
    catalogues.reset_caches()
    yield


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Chromium for this package's tests, closed after the last of them.

    Not session-wide: while Playwright's sync API is started, an event loop counts as
    running in this thread, and Django refuses ORM calls unless DJANGO_ALLOW_ASYNC_UNSAFE
    is set. That variable must not outlive these tests (`check --deploy` in a subprocess
    of a later test fails on it, async.E001), so both live exactly as long as the package.
    """
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Browser tests need Debian's Chromium at {CHROMIUM}: run `make browser-deps`.")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()


# --- per test: pages and their console ----------------------------------------------------------


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def new_page(browser: Browser, live_server: Any, console: Console) -> Iterator[Callable[..., Page]]:
    """``new_page(locale=..., viewport=...)``: a page in a fresh context on the live server.

    The default locale is a Chinese user's browser (Accept-Language: zh-CN).
    """
    contexts = []

    def make(*, locale: str = "zh-CN", viewport: dict[str, int] | None = None) -> Page:
        context = browser.new_context(
            base_url=live_server.url,
            locale=locale,
            viewport=viewport or DESKTOP,
            timezone_id="Asia/Shanghai",
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("console", console.on_console)
        page.on("pageerror", console.on_page_error)
        return page

    yield make
    for context in contexts:
        context.close()
    unexpected = console.unexpected()
    assert not unexpected, "Errors in the browser console:\n" + "\n".join(unexpected)


# --- people who log in --------------------------------------------------------------------------


@pytest.fixture
def director(db: None) -> User:
    return user_create(
        username="director", role=Role.DIRECTOR, password=PASSWORD, display_name="王总监"
    )


@pytest.fixture
def owner(db: None) -> User:
    """Account manager, owner of ``account_a`` (see tests/conftest.py), not on B's team."""
    return user_create(
        username="owner", role=Role.MANAGER, password=PASSWORD, display_name="客户经理张"
    )
