"""Take screenshots of KAM pages with Debian's Chromium (for docs/ and for review).

Usage: .venv/bin/python tools/screenshots.py BASE_URL USERNAME PASSWORD OUTDIR PATH [PATH ...]
Each PATH is shot in Chinese (zh-hans) and English, as OUTDIR/<name>-<lang>.png, where
<name> is the path with "/" replaced by "_". Add "#tab-id" to a path to click that tab first.
Add "@SELECTOR" (a CSS selector, e.g. "/accounts/12/@#shipments") to end the full-page shot
at the bottom of that element instead of the bottom of the page.
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


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
