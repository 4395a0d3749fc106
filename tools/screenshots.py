"""Take screenshots of KAM pages with Debian's Chromium (for docs/ and for review).

Usage: .venv/bin/python tools/screenshots.py BASE_URL USERNAME PASSWORD OUTDIR PATH [PATH ...]
Each PATH is shot in Chinese (zh-hans) and English, as OUTDIR/<name>-<lang>.png, where
<name> is the path with "/" replaced by "_". Add "#tab-id" to a path to click that tab first.
A user who logs in with a second factor: set TOTP_SECRET to their authenticator key (base32,
as the enrolment page shows it) and the code page is answered.
Add "@SELECTOR" (a CSS selector, e.g. "/accounts/12/@#shipments") to end the full-page shot
at the bottom of that element instead of the bottom of the page.
"""

import base64
import hashlib
import hmac
import os
import struct
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


def totp_now(secret: str) -> str:
    """RFC 6238 (SHA-1, 30 s, six digits), as an authenticator app computes it."""
    key = base64.b32decode(
        secret.replace(" ", "").upper() + "=" * (-len(secret.replace(" ", "")) % 8)
    )
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def main() -> None:
    base, username, password, outdir, *paths = sys.argv[1:]
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for lang in ("zh-hans", "en"):
            context = browser.new_context(viewport={"width": 1400, "height": 900}, locale=lang)
            page = context.new_page()
            page.goto(f"{base}/login/")
            page.fill("#id_username", username)
            page.fill("#id_password", password)
            with page.expect_navigation():
                page.click("#login-button")
            if "/login/code/" in page.url:
                if not os.environ.get("TOTP_SECRET"):
                    raise SystemExit(f"{username} logs in with a code: set TOTP_SECRET")
                for _ in range(
                    2
                ):  # a code is accepted once: the second language waits for the next
                    page.fill("#id_code", totp_now(os.environ["TOTP_SECRET"]))
                    with page.expect_navigation():
                        page.click("#code-button")
                    if "/login/code/" not in page.url:
                        break
                    time.sleep(31 - time.time() % 30)
            for path in paths:
                path, _, until = path.partition("@")
                url, _, tab = path.partition("#")
                page.goto(f"{base}{url}")
                if tab:
                    page.click(f"#{tab}")
                    page.wait_for_timeout(1200)
                name = (url.strip("/").replace("/", "_").replace("?", "_") or "home") + (
                    f"_{tab}" if tab else ""
                )
                clip = None
                if until:
                    page.wait_for_timeout(1200)  # let charts finish their entry animation
                    box = page.locator(until).first.bounding_box()
                    if box is None:
                        raise SystemExit(f"{path}: nothing matches {until!r}")
                    width = page.evaluate("document.documentElement.scrollWidth")
                    clip = {"x": 0, "y": 0, "width": width, "height": box["y"] + box["height"] + 16}
                page.screenshot(path=str(out / f"{name}-{lang}.png"), full_page=True, clip=clip)
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
