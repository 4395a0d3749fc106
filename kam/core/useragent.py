"""A person-readable name for a browser from its User-Agent header ("Chrome, Windows").

Enough to tell one's own sessions apart, not a device database: the browsers and systems
KAM's users have (including WeChat's and the Chinese desktop browsers), in the order that
matters because each also claims to be the ones after it (Edge says Chrome says Safari).
"""

import re
from dataclasses import dataclass

_BROWSERS: tuple[tuple[str, str], ...] = (
    (r"MicroMessenger/", "WeChat"),
    (r"wxwork/", "WeCom"),
    (r"DingTalk/", "DingTalk"),
    (r"Edg(e|A|iOS)?/", "Edge"),
    (r"OPR/|Opera", "Opera"),
    (r"QQBrowser/", "QQ Browser"),
    (r"UCBrowser/", "UC Browser"),
    (r"360SE|360EE|QihooBrowser", "360 Browser"),
    (r"HeadlessChrome/", "Headless Chrome"),
    (r"Chromium/", "Chromium"),
    (r"CriOS/|Chrome/", "Chrome"),
    (r"FxiOS/|Firefox/", "Firefox"),
    (r"Version/[\d.]+.*Safari/", "Safari"),
    (r"curl/", "curl"),
    (r"python-requests|python-httpx|Python-urllib", "Python"),
)

_SYSTEMS: tuple[tuple[str, str], ...] = (
    (r"HarmonyOS|OpenHarmony", "HarmonyOS"),
    (r"iPhone", "iPhone"),
    (r"iPad", "iPad"),
    (r"Android", "Android"),
    (r"Windows", "Windows"),
    (r"Mac OS X|Macintosh", "macOS"),
    (r"CrOS", "ChromeOS"),
    (r"Linux|X11", "Linux"),
)


@dataclass(frozen=True)
class Device:
    """What a User-Agent says; an empty string where it says nothing recognisable."""

    browser: str
    system: str
    mobile: bool


def _first(rules: tuple[tuple[str, str], ...], text: str) -> str:
    for pattern, name in rules:
        if re.search(pattern, text):
            return name
    return ""


def parse(user_agent: str) -> Device:
    return Device(
        browser=_first(_BROWSERS, user_agent),
        system=_first(_SYSTEMS, user_agent),
        mobile=bool(re.search(r"Mobile|iPhone|Android", user_agent)) and "iPad" not in user_agent,
    )
