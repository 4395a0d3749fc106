"""The ledger's pages through the test client with CSRF enforced, for each persona: import
history, upload and result, reject downloads, unlinked codes (link, prospect), facts
downloads, and the shipments panel of the account and group pages."""

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from kam.accounts.models import Account, AccountStatus, BillingCode
from kam.ledger import services
from kam.ledger.models import AccountMonth, ImportBatch
from tests.conftest import CSRF_SECRET
from tests.factories import AccountFactory, GroupFactory, UserFactory

HEADINGS = ["运单号", "月结账号", "寄件时间", "始发地", "目的地", "产品", "件数", "计费重量",
            "运费", "成本", "代收货款", "状态", "签收时间", "承诺送达时间"]  # fmt: skip
UNKNOWN = "ZZ0001"


def page_client(user, *, lang="en"):
    client = Client(enforce_csrf_checks=True, headers={"Accept-Language": lang})
    if user is not None:
        client.force_login(user)
    client.cookies["csrftoken"] = CSRF_SECRET
    return client


def post(client, path, data=None, **extra):
    return client.post(path, {**(data or {}), "csrfmiddlewaretoken": CSRF_SECRET}, **extra)


def waybill(i, *, code="YJ0591001", month="2026-01", freight="12.50", product="特快"):
    return [f"SF{i:010d}", code, f"{month}-05 10:00:00", "福州", "上海", product, "1", "1.250",
            freight, "8.00", "100.00", "已签收", f"{month}-06 15:00:00", f"{month}-07 18:00:00"]  # fmt: skip


def csv_bytes(rows, headings=HEADINGS):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headings)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def import_rows(folder: Path, rows, name="waybills.csv", headings=HEADINGS) -> ImportBatch:
    """Import rows now, as `kam import waybills` does."""
    path = folder / name
    path.write_bytes(csv_bytes(rows, headings))
    batch = services.import_create(
        by=None, source=ImportBatch.Source.CLI, file_name=name, path=path
    )
    services.import_run(batch=batch, path=path)
    batch.refresh_from_db()
    return batch


@pytest.fixture
def mixed_import(tmp_path, account_a):
    """3 good waybills of account A, 1 of an unknown code, 1 row whose freight is '=1+2'."""
    rows = [waybill(1), waybill(2), waybill(3, month="2025-12"), waybill(4, code=UNKNOWN),
            waybill(5, freight="=1+2")]  # fmt: skip
    batch = import_rows(tmp_path, rows)
    assert (batch.status, batch.accepted, batch.rejected) == ("committed", 4, 1)
    return batch


# --- who sees which page ----------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["director", "department", "analyst"])
def test_ledger_roles_see_the_import_history_and_unlinked_codes(request, persona, mixed_import):
    client = page_client(request.getfixturevalue(persona))
    body = client.get("/ledger/imports/").content.decode()
    assert "waybills.csv" in body
    response = client.get("/ledger/unlinked/")
    assert response.status_code == 200
    assert UNKNOWN in response.content.decode()
    assert client.get(f"/ledger/imports/{mixed_import.pk}/").status_code == 200


@pytest.mark.parametrize("persona", ["owner", "service_rep", "outsider", "admin"])
def test_other_roles_are_refused_the_ledger_pages(request, persona, mixed_import):
    client = page_client(request.getfixturevalue(persona))
    for path in ("/ledger/imports/", "/ledger/unlinked/", "/ledger/imports/new/"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "waybills.csv" not in response.content.decode()
    for path in (
        f"/ledger/imports/{mixed_import.pk}/", f"/ledger/imports/{mixed_import.pk}/rejects.csv",
        f"/ledger/imports/{mixed_import.pk}/rejects.xlsx", f"/ledger/unlinked/{UNKNOWN}/link/",
        f"/ledger/unlinked/{UNKNOWN}/prospect/",
    ):  # fmt: skip
        assert client.get(path).status_code == 404, path


def test_anonymous_visitors_are_sent_to_the_login_page(db):
    response = page_client(None).get("/ledger/imports/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_only_importers_get_the_upload_page_and_the_code_actions(analyst, department, mixed_import):
    client = page_client(analyst)
    assert client.get("/ledger/imports/new/").status_code == 403
    assert client.get(f"/ledger/unlinked/{UNKNOWN}/link/").status_code == 403
    assert client.get(f"/ledger/unlinked/{UNKNOWN}/prospect/").status_code == 403
    assert "Link to account" not in client.get("/ledger/unlinked/").content.decode()
    assert "New import" not in client.get("/ledger/imports/").content.decode()

    client = page_client(department)
    assert client.get("/ledger/imports/new/").status_code == 200
    body = client.get("/ledger/unlinked/").content.decode()
    assert f"/ledger/unlinked/{UNKNOWN}/link/" in body
    assert f"/ledger/unlinked/{UNKNOWN}/prospect/" in body


def test_the_navbar_offers_shipments_to_ledger_roles_only(department, owner):
    assert "/ledger/unlinked/" in page_client(department).get("/").content.decode()
    assert "/ledger/" not in page_client(owner).get("/").content.decode()


# --- import history ---------------------------------------------------------------------------


def test_the_history_lists_counts_status_and_filters_by_status(director, tmp_path, mixed_import):
    failed = import_rows(tmp_path, [waybill(9)], name="bad.csv", headings=HEADINGS[:3])
    assert failed.status == "failed"
    client = page_client(director)
    body = client.get("/ledger/imports/").content.decode()
    assert "waybills.csv" in body and "bad.csv" in body
    assert "Done" in body and "Failed" in body
    body = client.get("/ledger/imports/?status=failed").content.decode()
    assert "bad.csv" in body and "waybills.csv" not in body
    fragment = client.get(
        "/ledger/imports/?status=committed",
        headers={"HX-Request": "true", "HX-Target": "import-table"},
    ).content.decode()
    assert "waybills.csv" in fragment and "<html" not in fragment


def test_the_empty_history_invites_an_importer_to_import(department, analyst):
    body = page_client(department).get("/ledger/imports/").content.decode()
    assert 'id="no-imports"' in body and "/ledger/imports/new/" in body
    body = page_client(analyst).get("/ledger/imports/").content.decode()
    assert 'id="no-imports"' in body and "/ledger/imports/new/" not in body


def test_the_history_takes_the_same_number_of_queries_for_few_and_many_imports(
    director, department, django_assert_max_num_queries
):
    def add(n):
        for i in range(n):
            ImportBatch.objects.create(
                source="web", file_name=f"f{i}.csv", created_by=UserFactory(), status="committed"
            )

    client = page_client(director)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/ledger/imports/").status_code == 200
        return len(queries)

    add(2)
    few = count()
    add(20)
    assert count() == few
    with django_assert_max_num_queries(6):  # session, user, count, page
        client.get("/ledger/imports/")


# --- upload and result ------------------------------------------------------------------------


def _upload(client, content, name="upload.csv", **extra_data):
    data = {"file": SimpleUploadedFile(name, content, "text/csv"), "encoding": "", "format": "",
            **extra_data}  # fmt: skip
    return post(client, "/ledger/imports/new/", data)


def test_an_upload_is_imported_and_its_result_page_shows_the_counts(
    department, account_a, django_capture_on_commit_callbacks
):
    client = page_client(department)
    content = csv_bytes([waybill(1), waybill(2), waybill(3, freight="abc")])
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, content)
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/ledger/imports/{batch.pk}/"
    assert (batch.source, batch.created_by, batch.file_name) == ("web", department, "upload.csv")
    assert (batch.status, batch.rows_read, batch.accepted, batch.rejected) == ("committed", 3, 2, 1)

    body = client.get(response["Location"]).content.decode()
    assert 'id="count-read">3<' in body
    assert 'id="count-accepted">2<' in body
    assert 'id="count-rejected">1<' in body
    assert "2026-01" in body
    assert "Not a number." in body and "abc" in body
    assert f"/ledger/imports/{batch.pk}/rejects.csv" in body
    assert f"/ledger/imports/{batch.pk}/rejects.xlsx" in body
    assert "hx-trigger" not in body
    assert AccountMonth.objects.get(billing_code="YJ0591001").waybills == 2


def test_an_upload_by_script_answers_with_the_result_page_address(
    department, django_capture_on_commit_callbacks
):
    xhr = {"headers": {"X-Requested-With": "XMLHttpRequest"}}
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            page_client(department), "/ledger/imports/new/",
            {"file": SimpleUploadedFile("x.csv", csv_bytes([waybill(1)])), "encoding": "gb18030"},
            **xhr,
        )  # fmt: skip
    assert response.status_code == 200
    batch = ImportBatch.objects.get()
    assert response.json() == {"location": f"/ledger/imports/{batch.pk}/"}
    assert batch.encoding_requested == "gb18030"


def test_an_upload_without_a_file_is_refused_on_the_form(department):
    client = page_client(department)
    response = post(client, "/ledger/imports/new/", {"encoding": "", "format": ""})
    assert response.status_code == 200
    assert "Choose a file to import." in response.content.decode()
    response = post(
        client,
        "/ledger/imports/new/",
        {"format": "pdf"},
        headers={"X-Requested-With": "XMLHttpRequest"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose a file to import." in body and 'id="upload-form"' in body and "<html" not in body
    assert not ImportBatch.objects.exists()


def test_a_refusal_of_the_service_is_shown_on_the_form(department, settings):
    settings.IMPORT_MAX_BYTES = 10
    response = _upload(page_client(department), csv_bytes([waybill(1)]))
    assert response.status_code == 200
    assert "larger than the limit" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_the_upload_page_shows_the_waybill_contract(department):
    body = page_client(department).get("/ledger/imports/new/").content.decode()
    for text in ("运单号", "Waybill number", "月结卡号", "代收货款", "See the waybill contract"):
        assert text in body
    assert 'accept=".csv,.txt,.tsv,.xlsx,.parquet,.json,.ndjson' in body
    assert "GBK / GB18030 (Chinese Excel)" in body


def test_a_failed_import_says_why_and_that_nothing_was_stored(
    department, django_capture_on_commit_callbacks
):
    client = page_client(department)
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, csv_bytes([["SF1", "YJ1"]], headings=["运单号", "月结账号"]))
    body = client.get(response["Location"]).content.decode()
    assert 'id="import-failed"' in body
    assert "nothing was stored" in body
    assert "Required columns are missing" in body and "Ship time" in body
    assert 'id="found-headings"' in body and "<code" in body and "月结账号" in body
    assert not AccountMonth.objects.exists()


def test_the_result_page_polls_while_the_import_runs_and_stops_when_it_is_done(
    department, tmp_path
):
    path = tmp_path / "w.csv"
    path.write_bytes(csv_bytes([waybill(1)]))
    batch = services.import_create(by=department, source="web", file_name="w.csv", path=path)
    client = page_client(department)
    htmx = {"HX-Request": "true", "HX-Target": "import-status"}
    body = client.get(f"/ledger/imports/{batch.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in body and "<progress" in body
    fragment = client.get(f"/ledger/imports/{batch.pk}/", headers=htmx).content.decode()
    assert 'hx-trigger="every 1s"' in fragment and "<html" not in fragment

    services.import_run(batch=batch, path=path)
    fragment = client.get(f"/ledger/imports/{batch.pk}/", headers=htmx).content.decode()
    assert "hx-trigger" not in fragment
    assert 'id="count-accepted">1<' in fragment


def test_the_reject_report_is_paged(director, tmp_path):
    rows = [waybill(i, freight="x") for i in range(1, 106)]
    batch = import_rows(tmp_path, rows)
    client = page_client(director)
    body = client.get(f"/ledger/imports/{batch.pk}/").content.decode()
    assert body.count("Not a number.") == 100
    body = client.get(f"/ledger/imports/{batch.pk}/?page=2").content.decode()
    assert body.count("Not a number.") == 5


# --- reject downloads ---------------------------------------------------------------------------


def test_the_reject_csv_holds_the_rows_with_formulas_neutralised(analyst, mixed_import):
    response = page_client(analyst).get(f"/ledger/imports/{mixed_import.pk}/rejects.csv")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('rejects.csv"')
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "Row"
    [reject] = rows[1:]
    assert reject[0] == "6"  # the header is row 1
    assert reject[2] == "freight"
    assert reject[3] == "'=1+2"


def test_the_reject_xlsx_keeps_a_formula_as_text(director, mixed_import):
    response = page_client(director).get(f"/ledger/imports/{mixed_import.pk}/rejects.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    header, reject = list(sheet.iter_rows())
    value = reject[3]
    assert value.value == "'=1+2"
    assert value.data_type == "s"
    assert not any(c.data_type == "f" for c in reject)


# --- unlinked codes -----------------------------------------------------------------------------


def test_unlinked_codes_can_be_searched_and_sorted(analyst, tmp_path, account_a):
    import_rows(tmp_path, [waybill(1, code="AA1"), waybill(2, code="BB2"), waybill(3, code="BB2"),
                           waybill(4)])  # fmt: skip
    client = page_client(analyst)
    body = client.get("/ledger/unlinked/").content.decode()
    assert "AA1" in body and "BB2" in body and "YJ0591001" not in body
    assert body.index("BB2") < body.index("AA1")  # by revenue, biggest first
    body = client.get("/ledger/unlinked/?sort=code").content.decode()
    assert body.index("AA1") < body.index("BB2")
    fragment = client.get(
        "/ledger/unlinked/?q=aa", headers={"HX-Request": "true", "HX-Target": "unlinked-table"}
    ).content.decode()
    assert "AA1" in fragment and "BB2" not in fragment and "<html" not in fragment
    body = client.get("/ledger/unlinked/?q=nothing").content.decode()
    assert "No unlinked code matches this search." in body


def test_the_empty_unlinked_list_says_every_code_is_linked(analyst):
    assert 'id="no-unlinked"' in page_client(analyst).get("/ledger/unlinked/").content.decode()


def test_the_department_links_a_code_to_an_account(department, mixed_import, account_b):
    client = page_client(department)
    fragment = client.get(
        f"/ledger/unlinked/{UNKNOWN}/link/?q=远航",
        headers={"HX-Request": "true", "HX-Target": "account-choices"},
    ).content.decode()
    assert account_b.name in fragment and "<html" not in fragment
    assert f'value="{account_b.pk}"' in fragment

    response = post(client, f"/ledger/unlinked/{UNKNOWN}/link/", {"account": account_b.pk})
    assert response.status_code == 302
    assert response["Location"] == "/ledger/unlinked/"
    assert BillingCode.objects.get(code=UNKNOWN).account == account_b
    body = client.get("/ledger/unlinked/").content.decode()
    assert "is now linked to" in body
    assert 'id="no-unlinked"' in body

    response = client.get(f"/ledger/unlinked/{UNKNOWN}/link/")
    assert response.status_code == 409
    assert "already belongs to" in response.content.decode()


def test_linking_needs_a_chosen_account(department, mixed_import):
    response = post(page_client(department), f"/ledger/unlinked/{UNKNOWN}/link/", {"account": ""})
    assert response.status_code == 200
    assert "Choose the account this code belongs to." in response.content.decode()
    assert not BillingCode.objects.filter(code=UNKNOWN).exists()


def test_a_code_linked_meanwhile_is_not_linked_twice(
    department, mixed_import, account_a, account_b
):
    client = page_client(department)
    assert client.get(f"/ledger/unlinked/{UNKNOWN}/link/").status_code == 200
    services.billing_code_link(by=department, code=UNKNOWN, account=account_a)
    response = post(client, f"/ledger/unlinked/{UNKNOWN}/link/", {"account": account_b.pk})
    assert response.status_code == 409
    assert f"{UNKNOWN} already belongs to {account_a.name_en}" in response.content.decode()
    assert BillingCode.objects.get(code=UNKNOWN).account == account_a


def test_link_refusals(department, analyst, mixed_import, account_b):
    response = post(
        page_client(analyst), f"/ledger/unlinked/{UNKNOWN}/link/", {"account": account_b.pk}
    )
    assert response.status_code == 403
    response = post(
        page_client(department), "/ledger/unlinked/NOPE9/link/", {"account": account_b.pk}
    )
    assert response.status_code == 404
    assert not BillingCode.objects.filter(code__in=[UNKNOWN, "NOPE9"]).exists()


def test_the_department_creates_a_prospect_from_a_code(department, mixed_import):
    client = page_client(department)
    body = client.get(f"/ledger/unlinked/{UNKNOWN}/prospect/").content.decode()
    assert UNKNOWN in body and 'id="prospect-form"' in body
    response = post(client, f"/ledger/unlinked/{UNKNOWN}/prospect/", {
        "name": "厦门新客户贸易有限公司", "name_en": "Xiamen New Trading", "province_code": "350000",
        "city_code": "350200",
    })  # fmt: skip
    account = Account.objects.get(name="厦门新客户贸易有限公司")
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/{account.pk}/"
    assert account.status == AccountStatus.PROSPECT
    assert (account.province_code, account.city_code) == ("350000", "350200")
    assert BillingCode.objects.get(code=UNKNOWN).account == account
    body = client.get(response["Location"]).content.decode()
    assert "Prospect account" in body and 'id="shipments-chart-account-' in body


def test_a_prospect_with_a_city_outside_its_province_is_refused(department, mixed_import):
    response = post(page_client(department), f"/ledger/unlinked/{UNKNOWN}/prospect/", {
        "name": "错城市公司", "province_code": "350000", "city_code": "440100",
    })  # fmt: skip
    assert response.status_code == 200
    assert 'id="form-errors"' in response.content.decode()
    assert not Account.objects.filter(name="错城市公司").exists()
    assert not BillingCode.objects.filter(code=UNKNOWN).exists()


def test_prospect_refusals(department, analyst, mixed_import):
    data = {"name": "某公司"}
    assert (
        post(page_client(analyst), f"/ledger/unlinked/{UNKNOWN}/prospect/", data).status_code == 403
    )
    assert (
        post(page_client(department), "/ledger/unlinked/NOPE9/prospect/", data).status_code == 404
    )
    response = post(page_client(department), f"/ledger/unlinked/{UNKNOWN}/prospect/", {"name": ""})
    assert response.status_code == 200
    assert not Account.objects.filter(status=AccountStatus.PROSPECT).exists()


# --- facts downloads ----------------------------------------------------------------------------


def test_facts_download_for_an_account_as_csv_and_xlsx(owner, account_a, mixed_import):
    client = page_client(owner)
    response = client.get(f"/ledger/facts.csv?account={account_a.pk}&month_from=2026-01")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 2
    assert rows[1][:3] == ["YJ0591001", "2026-01", "2"]
    assert rows[1][5] == "25.00"
    response = client.get(f"/ledger/facts.xlsx?account={account_a.pk}")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [r[1] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["2025-12", "2026-01"]


def test_facts_download_follows_the_access_rules(
    outsider, analyst, owner, admin, account_a, mixed_import
):
    for user in (outsider, admin):
        client = page_client(user)
        assert client.get(f"/ledger/facts.csv?account={account_a.pk}").status_code == 404
        assert client.get("/ledger/facts.csv?code=YJ0591001").status_code == 404
    group = GroupFactory()
    assert page_client(outsider).get(f"/ledger/facts.csv?group={group.pk}").status_code == 200
    # unlinked codes: the ledger's roles only
    assert page_client(analyst).get(f"/ledger/facts.csv?code={UNKNOWN}").status_code == 200
    assert page_client(owner).get(f"/ledger/facts.csv?code={UNKNOWN}").status_code == 404


def test_a_facts_download_without_a_subject_or_with_a_bad_month_is_explained(director):
    client = page_client(director)
    response = client.get("/ledger/facts.csv")
    assert response.status_code == 400
    assert "an account, a group or a billing code" in response.content.decode()
    response = client.get("/ledger/facts.xlsx?code=YJ1&month_from=2026-13")
    assert response.status_code == 400
    assert "YYYY-MM" in response.content.decode()


# --- the shipments panel ------------------------------------------------------------------------


def _panel_data(body, key):
    marker = f'<script id="shipments-data-{key}" type="application/json">'
    start = body.index(marker) + len(marker)
    return json.loads(body[start : body.index("</script>", start)])


def test_the_account_page_shows_shipments_with_chart_data(owner, account_a, mixed_import):
    body = page_client(owner).get(f"/accounts/{account_a.pk}/").content.decode()
    assert 'id="shipments"' in body
    data = _panel_data(body, f"account-{account_a.pk}")
    assert len(data["months"]) == 24
    assert data["months"][-1] == "2026-01"  # ends at the latest month with facts
    assert data["waybills"][-2:] == [1, 2]
    assert data["revenue"][-1] == "25.00"
    assert data["margin"][-1] == "9.00"
    assert data["margin"][0] is None  # no costed waybills that month
    assert "ledger/facts_chart.js" in body
    assert body.count("vendor/echarts.min.js") == 1
    assert "Express" in body  # the product mix, labelled
    assert "Fuzhou" in body and "Shanghai" in body  # the top lane, named
    assert (
        f"/ledger/facts.csv?account={account_a.pk}&amp;month_from=2024-02&amp;month_to=2026-01"
        in body
    )


def test_the_account_page_explains_an_empty_panel(director, account_a, account_b):
    body = page_client(director).get(f"/accounts/{account_b.pk}/").content.decode()
    assert 'id="shipments-empty"' in body
    assert "No billing account code is linked here yet" in body
    assert "ledger/facts_chart.js" not in body
    body = page_client(director).get(f"/accounts/{account_a.pk}/").content.decode()
    assert "No waybills have been imported for these billing account codes yet." in body


def test_the_group_page_rolls_up_its_tree(director, tmp_path, account_a):
    parent = GroupFactory(name="明达集团")
    child = GroupFactory(name="明达华南", parent=parent)
    other = AccountFactory(group=child)
    BillingCode.objects.create(account=other, code="CH1")
    account_a.group = parent
    account_a.save()
    import_rows(tmp_path, [waybill(1), waybill(2, code="CH1"), waybill(3, code="CH1")])
    body = page_client(director).get(f"/groups/{parent.pk}/").content.decode()
    data = _panel_data(body, f"group-{parent.pk}")
    assert data["waybills"][-1] == 3
    assert "ledger/facts_chart.js" in body and "vendor/echarts.min.js" in body


def test_the_account_page_with_the_panel_keeps_few_queries(owner, account_a, mixed_import):
    with CaptureQueriesContext(connection) as queries:
        assert page_client(owner).get(f"/accounts/{account_a.pk}/").status_code == 200
    ledger = [q["sql"] for q in queries if "ledger_" in q["sql"]]
    # The shipments panel reads the facts once and the lane files' list once...
    assert sum('FROM "ledger_accountmonth"' in q for q in ledger) == 1, ledger
    assert sum('FROM "ledger_factfile"' in q for q in ledger) == 1, ledger
    # ...and the planning panels (health's value trend, the wallet's share) read the stored
    # figures: a fixed number of reads of the ledger in all.
    assert len(ledger) <= 7, ledger
