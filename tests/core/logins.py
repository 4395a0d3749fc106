"""What the login tests share: a browser-like client with CSRF enforced, and logging in
through the real pages from a chosen address."""

import re
from typing import Any

from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import CSRF_SECRET
from tests.factories import TEST_PASSWORD


def browser(address: str = "198.51.100.7", *, lang: str = "en", agent: str = "") -> Client:
    """A client from ``address`` that sends the CSRF cookie and form field like a browser."""
    client = Client(
        enforce_csrf_checks=True,
        REMOTE_ADDR=address,
        headers={"Accept-Language": lang, "User-Agent": agent or "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36"},
    )  # fmt: skip
    client.cookies["csrftoken"] = CSRF_SECRET
    return client


def post(client: Client, path: str, data: dict[str, Any] | None = None, **extra: Any) -> Any:
    """A form post with the CSRF token of the client's cookie (a login rotates it)."""
    token = client.cookies["csrftoken"].value
    return client.post(path, {"csrfmiddlewaretoken": token, **(data or {})}, **extra)


def password(client: Client, username: str, secret: str = TEST_PASSWORD) -> Any:
    """Submit the login form (no redirects followed)."""
    return post(client, "/login/", {"username": username, "password": secret})


def code_now(device: TOTPDevice) -> str:
    """The six digits the user's authenticator shows now."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def text(response: Any) -> str:
    """The page's visible text, roughly: tags removed, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))
