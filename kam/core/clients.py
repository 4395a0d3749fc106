"""Who is on the other end of a request: the client's address and browser.

One function decides the client address for everything that records or counts it (the
login lockout through ``AXES_CLIENT_IP_CALLABLE``, the access log, the sessions list).

Only a header that a trusted reverse proxy sets is believed, and only the entry that
proxy wrote: each proxy appends the address it received the connection from, so with
``KAM_TRUSTED_PROXY_COUNT`` = N proxies in front of KAM the client is the N-th entry from
the right. Entries further left came from the client itself and can say anything. Without
``KAM_TRUSTED_PROXY_HEADER`` the header is ignored and ``REMOTE_ADDR`` is the address.
"""

import ipaddress
import re

from django.conf import settings
from django.http import HttpRequest

#: How much of a user agent is kept (the access log and the sessions list).
USER_AGENT_MAX = 300

_FORWARDED_FOR = re.compile(r'for="?([^";,]+)"?', re.IGNORECASE)


def _clean_address(value: str) -> str | None:
    """A valid IP address in its normal form, or ``None``: ports and brackets removed."""
    value = value.strip().strip('"')
    if not value:
        return None
    if value.startswith("["):  # [2001:db8::1]:443
        value = value[1 : value.find("]")] if "]" in value else value[1:]
    elif value.count(":") == 1:  # 203.0.113.7:51234
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def _header_entries(header: str, raw: str) -> list[str]:
    if header.lower() == "forwarded":  # RFC 7239: Forwarded: for=192.0.2.60;proto=https, for=…
        return _FORWARDED_FOR.findall(raw)
    return [part for part in raw.split(",")]


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address as the trusted proxies saw it, or ``None`` if unknown.

    A header entry that is not an IP address (``unknown``, garbage) makes the function fall
    back to ``REMOTE_ADDR`` rather than guess.
    """
    remote = _clean_address(request.META.get("REMOTE_ADDR", "") or "")
    header = settings.KAM_TRUSTED_PROXY_HEADER
    if not header:
        return remote
    raw = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
    entries = [e.strip() for e in _header_entries(header, raw) if e.strip()] if raw else []
    if not entries:
        return remote
    count = settings.KAM_TRUSTED_PROXY_COUNT
    # Fewer entries than proxies: the outermost proxy saw the client and wrote the first entry.
    chosen = entries[max(len(entries) - count, 0)]
    return _clean_address(chosen) or remote


def user_agent(request: HttpRequest) -> str:
    """The browser's User-Agent header, cut to :data:`USER_AGENT_MAX` characters."""
    return (request.META.get("HTTP_USER_AGENT", "") or "").replace("\x00", "")[:USER_AGENT_MAX]
