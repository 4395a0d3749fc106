"""The key-account department uploads a waybill file in the browser: the file goes up by
XMLHttpRequest (with a progress bar), the result page shows the counts and the reject
report, and the account page then draws its shipments chart."""

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, Request, expect

from kam.accounts.models import Account
from kam.core.models import Role
from kam.core.services import user_create
from kam.ledger.models import ImportBatch

from .support import BROWSER, PASSWORD, log_in
from .test_account_page import CANVAS_PAINTED

pytestmark = BROWSER

CSV = (
    "运单号,月结账号,寄件时间,始发地,目的地,产品,件数,计费重量,运费,成本,状态\n"
    "SF0000000001,YJ0591001,2026-01-05 10:00:00,福州,上海,特快,1,1.25,12.50,8.00,已签收\n"
    "SF0000000002,YJ0591001,2026-02-05 10:00:00,福州,广州,标快,2,3.5,30.00,20.00,已签收\n"
    "SF0000000003,YJ0591001,2026-02-06 10:00:00,福州,广州,标快,1,1,=1+2,1.00,已签收\n"
)


def test_department_uploads_waybills_and_the_account_page_charts_them(
    new_page: Callable[..., Page], account_a: Account, tmp_path: Path
) -> None:
    department = user_create(username="department", role=Role.DEPARTMENT, password=PASSWORD)
    upload = tmp_path / "运单.csv"
    upload.write_text(CSV, encoding="utf-8")
    page = new_page()
    posts: list[Request] = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
    log_in(page, department)

    page.click("#nav-ledger")
    page.click("a[href='/ledger/imports/new/']")
    expect(page.locator("#upload-form")).to_be_visible()
    page.set_input_files("#id_file", str(upload))
    page.click("#upload-button")

    expect(page).to_have_url(re.compile(r"/ledger/imports/\d+/$"))
    batch = ImportBatch.objects.get()
    assert page.url.endswith(f"/ledger/imports/{batch.pk}/")
    upload_post = next(r for r in posts if r.url.endswith("/ledger/imports/new/"))
    assert upload_post.headers.get("x-requested-with") == "XMLHttpRequest"  # the progress path
    expect(page.locator("#count-read")).to_have_text("3")
    expect(page.locator("#count-accepted")).to_have_text("2")
    expect(page.locator("#count-rejected")).to_have_text("1")
    rejects = page.locator("#reject-table tbody tr")
    expect(rejects).to_have_count(1)
    expect(rejects.first).to_contain_text("=1+2")
    expect(page.locator("#rejects-csv")).to_have_attribute(
        "href", f"/ledger/imports/{batch.pk}/rejects.csv"
    )
    expect(page.locator("#rejects-xlsx")).to_be_visible()

    page.goto(f"/accounts/{account_a.pk}/")
    chart = f"#shipments-chart-account-{account_a.pk}"
    expect(page.locator(f"{chart} canvas")).to_be_visible()
    page.wait_for_function(CANVAS_PAINTED, arg=chart)
    months = page.evaluate(
        f"""() => echarts.getInstanceByDom(document.querySelector("{chart}"))
                   .getOption().xAxis[0].data.slice(-2)"""
    )
    assert months == ["2026-01", "2026-02"]
