"""The client address (trusted proxy header only), the device name from a user agent, the
request context, and the access log's new columns."""

from typing import Any

import pytest
from django.test import RequestFactory

from kam.core import requestcontext, useragent
from kam.core.clients import client_address, user_agent
from kam.core.models import AccessLog, User
from kam.core.services import access_log_record
from tests.core.test_settings import _kam

PROXY = "10.0.0.2"  # REMOTE_ADDR: the reverse proxy itself


def _request(remote: str = PROXY, **headers: str) -> Any:
    meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **meta)


# --- the client address ------------------------------------------------------------------------


def test_without_a_configured_header_forwarded_headers_are_ignored(settings: Any) -> None:
    settings.KAM_TRUSTED_PROXY_HEADER = ""
    request = _request("198.51.100.7", x_forwarded_for="1.2.3.4")
    assert client_address(request) == "198.51.100.7"


@pytest.mark.parametrize(
    ("count", "header", "expected"),
    [
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the leftmost is the client's own claim
        (1, "6.6.6.6,203.0.113.9", "203.0.113.9"),
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.1", "203.0.113.9"),  # CDN then nginx
        (2, "203.0.113.9", "203.0.113.9"),  # fewer entries than proxies: the outermost wrote it
        (1, "203.0.113.9:51234", "203.0.113.9"),
        (1, "[2001:db8::7]:443", "2001:db8::7"),
        (1, "2001:DB8:0::7", "2001:db8::7"),
        (1, "::ffff:203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, unknown", PROXY),  # not an address: no guessing, the proxy's address
        (1, "", PROXY),
    ],
)
def test_the_address_the_trusted_proxies_saw(
    settings: Any, count: int, header: str, expected: str
) -> None:
    settings.KAM_TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.KAM_TRUSTED_PROXY_COUNT = count
    assert client_address(_request(x_forwarded_for=header)) == expected


def test_other_headers_and_rfc_7239_forwarded(settings: Any) -> None:
    settings.KAM_TRUSTED_PROXY_COUNT = 1
    settings.KAM_TRUSTED_PROXY_HEADER = "X-Real-IP"
    assert (
        client_address(_request(x_real_ip="203.0.113.9", x_forwarded_for="6.6.6.6"))
        == "203.0.113.9"
    )
    settings.KAM_TRUSTED_PROXY_HEADER = "Forwarded"
    forwarded = 'for=6.6.6.6;proto=https, for="[2001:db8::7]:4711";proto=https'
    assert client_address(_request(forwarded=forwarded)) == "2001:db8::7"


def test_a_spoofed_header_cannot_dodge_the_lockout(settings: Any, owner: User) -> None:
    """Behind one proxy, a client that sends its own X-Forwarded-For is still counted at the
    address the proxy appended."""
    from kam.core import lockout
    from tests.core.logins import browser, password

    settings.KAM_TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    for i in range(5):
        client = browser(PROXY)
        client.defaults["HTTP_X_FORWARDED_FOR"] = f"192.0.2.{i}, 203.0.113.9"
        password(client, owner.username, "wrong")
    assert lockout.lockout_for(owner.username, "203.0.113.9") is not None


def test_the_user_agent_is_cut_to_300_characters() -> None:
    assert len(user_agent(_request(user_agent="x" * 1000))) == 300
    assert user_agent(_request()) == ""


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ({"KAM_TRUSTED_PROXY_HEADER": "X Forwarded: For"}, "is not a header name"),
        ({"KAM_TRUSTED_PROXY_COUNT": "0"}, "KAM_TRUSTED_PROXY_COUNT=0 must be 1 or more"),
        ({"KAM_LOGIN_ADDRESS_FAILURE_LIMIT": "none"}, "is not an integer"),
        ({"KAM_TWO_FACTOR_ROLES": "director,boss"}, "unknown roles: boss"),
    ],
)
def test_bad_login_settings_stop_start_up_naming_the_variable(
    tmp_path: Any, value: dict[str, str], error: str
) -> None:
    result = _kam("check", extra_env=value, tmp_path=tmp_path)
    assert result.returncode != 0 and error in result.stderr


# --- the device name ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agent", "browser", "system", "mobile"),
    [
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36 Edg/140.0.0.0", "Edge", "Windows", False),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15", "Safari", "macOS", False),
        ("Mozilla/5.0 (Linux; Android 14; 23127PN0CC) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36 MicroMessenger/8.0.47", "WeChat", "Android", True),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox", "Linux", False),
        ("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0 Mobile/15E148 Safari/604.1", "Chrome", "iPad", False),
        ("curl/8.5.0", "curl", "", False),
        ("", "", "", False),
    ],
)  # fmt: skip
def test_the_device_name_from_a_user_agent(
    agent: str, browser: str, system: str, mobile: bool
) -> None:
    assert useragent.parse(agent) == useragent.Device(browser=browser, system=system, mobile=mobile)


# --- the request context and the access log --------------------------------------------------------


def _log(user: User, **kwargs: Any) -> AccessLog:
    access_log_record(user=user, action="view", channel="web", subject_type="contact",
                      subjects=[(1, "林志强", None)], fields=["phone_mobile"], **kwargs)  # fmt: skip
    return AccessLog.objects.latest("id")


def test_the_access_log_takes_address_and_browser_from_the_request(director: User) -> None:
    context = requestcontext.RequestContext(
        "203.0.113.9", "Mozilla/5.0 Firefox/128.0", "/contacts/1/"
    )
    with requestcontext.using(context):
        row = _log(director)
    assert (row.client_address, row.user_agent, row.path) == (
        "203.0.113.9",
        "Mozilla/5.0 Firefox/128.0",
        "/contacts/1/",
    )
    assert requestcontext.current() is None  # reset after the block


def test_the_access_log_outside_a_request_leaves_them_empty(director: User) -> None:
    row = _log(director, path="kam export")
    assert (row.client_address, row.user_agent, row.path) == (None, "", "kam export")


def test_a_contact_page_view_records_the_address_and_browser_and_the_page_shows_them(
    director: User, contact_a: Any, settings: Any
) -> None:
    from tests.core.logins import browser

    settings.KAM_TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    client = browser(PROXY, agent="Mozilla/5.0 (Windows NT 10.0) Chrome/140.0 Safari/537.36")
    client.defaults["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"
    client.force_login(director)
    assert client.get(f"/contacts/{contact_a.pk}/").status_code == 200
    row = AccessLog.objects.latest("id")
    assert row.client_address == "203.0.113.9" and "Chrome/140.0" in row.user_agent
    page = client.get("/access-log/").content.decode()
    assert "203.0.113.9" in page and "Chrome on Windows" in page
