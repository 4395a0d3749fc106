"""An import that updates waybills held in transit: the result page and the import list
show how many were updated, in both languages, on a desktop and on a phone."""

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from kam.accounts.models import Account
from kam.core.models import Role
from kam.core.services import user_create
from kam.ledger.models import ImportBatch
from tests.ledger.conftest import good_row, import_file, write_waybills

from .support import BROWSER, PASSWORD, PHONE, log_in

pytestmark = BROWSER

# Screenshots go to KAM_SCREENSHOTS when set (to look at them), else to the test's folder.
WIDE = {"width": 1366, "height": 900}


@pytest.mark.parametrize(
    ("locale", "viewport", "updated", "accepted"),
    [
        ("zh-CN", WIDE, "更新", "通过"),
        ("zh-CN", PHONE, "更新", "通过"),
        ("en-US", WIDE, "Updated", "Accepted"),
        ("en-US", PHONE, "Updated", "Accepted"),
    ],
    ids=["zh-desktop", "zh-phone", "en-desktop", "en-phone"],
)
def test_the_result_page_counts_the_updated_waybills(
    new_page: Callable[..., Page],
    account_a: Account,
    tmp_path: Path,
    locale: str,
    viewport: dict[str, int],
    updated: str,
    accepted: str,
) -> None:
    moving = [good_row(i, status="运输中", delivered_time="") for i in (1, 2, 3)]
    import_file(write_waybills(tmp_path / "day1.csv", moving))
    batch = import_file(
        write_waybills(tmp_path / "day2.csv", [good_row(1), good_row(2), good_row(9)])
    )
    assert (batch.accepted, batch.updated) == (1, 2)
    department = user_create(username="department", role=Role.DEPARTMENT, password=PASSWORD)
    page = new_page(locale=locale, viewport=viewport)
    log_in(page, department)
    shots = Path(os.environ.get("KAM_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    name = f"{locale}-{viewport['width']}"

    page.goto(f"/ledger/imports/{batch.pk}/")
    expect(page.locator("#count-updated")).to_have_text("2")
    expect(page.locator("#count-accepted")).to_have_text("1")
    expect(page.locator("#import-counts")).to_contain_text(updated)
    expect(page.locator("#import-counts")).to_contain_text(accepted)
    expect(page.locator("#import-done")).to_contain_text(
        "已更新 2 条在途运单"
        if locale.startswith("zh")
        else "2 waybills in transit brought up to date"
    )
    page.screenshot(path=str(shots / f"import-updated-{name}.png"), full_page=True)

    page.goto("/ledger/imports/")
    row = page.locator("#imports tbody tr").first
    expect(row).to_contain_text("2")
    expect(row).to_contain_text("更新 2" if locale.startswith("zh") else "2 updated")
    page.screenshot(path=str(shots / f"imports-{name}.png"), full_page=True)
    assert ImportBatch.objects.count() == 2
