"""/api/v1/waybills, /imports, /facts and /unlinked-codes: formats, counts, and who sees what.

Personas (tests/conftest.py): director and department import and see the whole ledger;
the analyst sees figures of every account and of unlinked codes but may not import; an
account manager (owner) sees the facts of his own accounts only; the colleague and the
outsider see nothing of account A.
"""

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kam.accounts.models import Account, AccountStatus, BillingCode
from kam.core.models import User
from kam.ledger.models import AccountMonth, ImportBatch, LakeFile
from tests.conftest import API, JsonClient, assert_error
from tests.factories import BillingCodeFactory, GroupFactory
from tests.ledger.conftest import good_row, good_rows, import_file, lake_rows, write_waybills

pytestmark = pytest.mark.django_db


def ndjson(rows: list[dict[str, str]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def push(client: JsonClient, body: bytes, content_type: str, query: str = "?wait=true") -> Any:
    """POST raw bytes to /waybills (JsonClient.post would encode the body as JSON)."""
    return client.client.post(
        API + "/waybills" + query,
        data=body,
        content_type=content_type,
        headers=client._headers(None),
    )


# --- pushing waybills ------------------------------------------------------------------------


def test_push_ndjson_and_wait_answers_200_with_the_counts(
    api_as: Callable, department: User
) -> None:
    rows = [*good_rows(3), good_row(4, freight="-5"), good_row(1)]
    response = push(api_as(department), ndjson(rows), "application/x-ndjson")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["source"], body["file_format"]) == ("committed", "api", "json")
    assert (
        body["read"],
        body["accepted"],
        body["rejected"],
        body["duplicates"],
        body["conflicts"],
    ) == (5, 3, 1, 1, 0)
    assert body["months"] == ["2026-01"]
    assert body["created_by"] == "department"
    assert body["error"] is None and body["percent"] == 100
    assert body["file_name"] == "api-batch.json"
    assert len(lake_rows()) == 3
    assert AccountMonth.objects.get().revenue == Decimal("40.50")


def test_push_a_json_array_with_english_keys(api_as: Callable, director: User) -> None:
    rows = [dict(good_row(i), freight=12.5, pieces=2) for i in (1, 2)]  # numbers as JSON numbers
    response = push(
        api_as(director), json.dumps(rows).encode(), "application/json", "?wait=true&name=tms-0105"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["read"], body["accepted"], body["file_name"]) == (2, 2, "tms-0105.json")
    assert [(r["pieces"], str(r["freight"])) for r in lake_rows()] == [(2, "12.50"), (2, "12.50")]


def test_push_without_wait_answers_202_and_the_batch_runs_after_the_commit(
    session_client: Callable, department: User, django_capture_on_commit_callbacks: Callable
) -> None:
    client = session_client(department)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = push(client, ndjson(good_rows(2)), "application/x-ndjson", "")
        assert response.status_code == 202, response.content
        assert response.json()["status"] == "queued"
        assert not LakeFile.objects.exists()  # nothing runs before the commit
    assert len(callbacks) == 1
    batch = ImportBatch.objects.get(pk=response.json()["id"])
    assert (batch.status, batch.accepted) == (ImportBatch.Status.COMMITTED, 2)
    assert not Path(batch.upload_path).exists()  # the uploaded body is removed afterwards
    followed = client.get(f"/imports/{batch.pk}").json()
    assert (followed["status"], followed["accepted"]) == ("committed", 2)


@pytest.mark.parametrize(
    "content_type", ["text/csv", "text/plain", "multipart/form-data; boundary=x"]
)
def test_push_with_another_content_type_is_400(
    session_client: Callable, department: User, content_type: str
) -> None:
    response = push(session_client(department), ndjson(good_rows(1)), content_type)
    assert_error(response, 400, "Content-Type")
    assert not ImportBatch.objects.exists()


def test_push_with_broken_json_fails_the_batch_with_the_line(
    session_client: Callable, department: User
) -> None:
    body = ndjson(good_rows(1)) + b'{"waybill_no": "SF2",\n' + ndjson([good_row(3)])
    response = push(session_client(department), body, "application/x-ndjson")
    assert response.status_code == 200
    out = response.json()
    assert out["status"] == "failed"
    assert out["error"].startswith("Invalid JSON at line 2")
    batch = ImportBatch.objects.get()
    assert batch.error_code == "json_invalid"
    assert not LakeFile.objects.exists() and not AccountMonth.objects.exists()


@pytest.mark.parametrize(
    ("body", "code"),
    [(b'{"a": 1}\n[1, 2]\n', "json_not_records"), (b"[1, 2, 3]", "json_not_records"), (b"[]", "no_rows"),
     (b"[{]", "json_invalid")],
)  # fmt: skip
def test_push_with_json_that_is_not_records_fails(
    session_client: Callable, department: User, body: bytes, code: str
) -> None:
    response = push(session_client(department), body, "application/json")
    assert response.json()["status"] == "failed"
    assert ImportBatch.objects.get().error_code == code


def test_push_with_missing_columns_names_them(session_client: Callable, department: User) -> None:
    rows = [{"waybill_no": "SF1", "billing_code": "YJ1"}]
    response = push(session_client(department), ndjson(rows), "application/x-ndjson")
    body = response.json()
    assert body["status"] == "failed"
    assert "Required columns are missing" in body["error"] and "(freight)" in body["error"]


@pytest.mark.parametrize("persona", ["owner", "analyst", "service_rep", "admin", "outsider"])
def test_only_the_department_and_directors_may_push(
    request: pytest.FixtureRequest, api_as: Callable, persona: str
) -> None:
    user = request.getfixturevalue(persona)
    response = push(api_as(user), ndjson(good_rows(1)), "application/x-ndjson")
    assert_error(response, 403)
    assert not ImportBatch.objects.exists()


def test_push_anonymously_is_401(anon: JsonClient) -> None:
    assert_error(push(anon, ndjson(good_rows(1)), "application/x-ndjson"), 401)
    assert not ImportBatch.objects.exists()


def test_push_without_the_csrf_token_is_refused(session_client: Callable, department: User) -> None:
    response = push(
        session_client(department, csrf=False), ndjson(good_rows(1)), "application/x-ndjson"
    )
    assert response.status_code == 403
    assert not ImportBatch.objects.exists()


def test_push_larger_than_the_limit_is_refused(
    session_client: Callable, department: User, settings: Any
) -> None:
    settings.IMPORT_MAX_BYTES = 100
    response = push(session_client(department), ndjson(good_rows(3)), "application/x-ndjson")
    assert_error(response, 400, "file")
    assert not ImportBatch.objects.exists()


# --- following imports -----------------------------------------------------------------------


@pytest.fixture
def two_batches(ledger_dir: Path, department: User) -> tuple[ImportBatch, ImportBatch]:
    good = import_file(
        write_waybills(
            ledger_dir / "jan.csv",
            [
                *good_rows(2),
                good_row(3, freight="=1+1"),
                good_row(4, pieces="0"),
                good_row(5, ship_time="2026-02-30"),
            ],
        )
    )
    bad = import_file(
        write_waybills(ledger_dir / "bad.csv", good_rows(1)).rename(ledger_dir / "bad.xlsx")
    )
    return good, bad


def test_list_imports_newest_first_with_status_filter(
    api_as: Callable, director: User, two_batches: tuple[ImportBatch, ImportBatch]
) -> None:
    good, bad = two_batches
    client = api_as(director)
    body = client.get("/imports").json()
    assert body["count"] == 2
    assert [i["id"] for i in body["items"]] == [bad.pk, good.pk]
    failed = body["items"][0]
    assert failed["status"] == "failed"
    assert failed["error"] == "The file is named .xlsx but holds csv. Rename it or export it again."
    assert [i["id"] for i in client.get("/imports", {"status": "committed"}).json()["items"]] == [
        good.pk
    ]
    assert_error(client.get("/imports", {"status": "bogus"}), 422, "status")


def test_imports_are_invisible_to_those_who_do_not_see_the_ledger(
    request: pytest.FixtureRequest,
    session_client: Callable,
    two_batches: tuple[ImportBatch, ImportBatch],
) -> None:
    good, _ = two_batches
    for persona in ("owner", "outsider", "service_rep", "admin"):
        client = session_client(request.getfixturevalue(persona))
        empty = {"count": 0, "page": 1, "page_size": 50, "items": []}
        assert client.get("/imports").json() == empty, persona
        assert_error(client.get(f"/imports/{good.pk}"), 404)
        assert_error(client.get(f"/imports/{good.pk}/rejects"), 404)


def test_the_analyst_reads_imports_and_rejects(
    token_client: Callable, analyst: User, two_batches: tuple[ImportBatch, ImportBatch]
) -> None:
    good, _ = two_batches
    client = token_client(analyst)
    assert client.get(f"/imports/{good.pk}").json()["rejected"] == 3


def test_imports_anonymously_is_401(anon: JsonClient) -> None:
    assert_error(anon.get("/imports"), 401)


def test_rejects_are_paginated_in_row_order_with_messages(
    session_client: Callable, director: User, two_batches: tuple[ImportBatch, ImportBatch]
) -> None:
    good, _ = two_batches
    client = session_client(director)
    first = client.get(f"/imports/{good.pk}/rejects", {"page_size": 2}).json()
    assert (first["count"], first["page"], first["page_size"]) == (3, 1, 2)
    assert [(i["row"], i["column"], i["value"], i["reason"]) for i in first["items"]] == [
        (4, "freight", "=1+1", "not_a_number"),
        (5, "pieces", "0", "below_one"),
    ]
    assert first["items"][1]["message"] == "Must be at least 1."
    second = client.get(f"/imports/{good.pk}/rejects", {"page_size": 2, "page": 2}).json()
    assert [(i["row"], i["reason"]) for i in second["items"]] == [(6, "bad_time")]
    assert (
        client.get(f"/imports/{good.pk}/rejects", {"page": 3, "page_size": 2}).json()["items"] == []
    )
    assert_error(client.get(f"/imports/{good.pk}/rejects", {"page_size": 501}), 422, "page_size")
    assert_error(client.get("/imports/999999/rejects"), 404)


# --- facts -----------------------------------------------------------------------------------


@pytest.fixture
def ledger(ledger_dir: Path, account_a: Account, account_b: Account) -> dict[str, Any]:
    """Account A (YJ0591001): 2 waybills in January, 1 in February, 3 in March 2026.
    Account B (GZ0201): 1 in January. Unlinked NEW-001: 2 in February."""
    BillingCodeFactory(account=account_b, code="GZ0201")
    group = GroupFactory(name="明达集团")
    child = GroupFactory(name="明达华东", parent=group)
    Account.objects.filter(pk=account_a.pk).update(group=child)
    rows = [
        *good_rows(2),
        good_row(3, ship_time="2026-02-10 09:00"),
        *good_rows(3, start=4, ship_time="2026-03-03 09:00", freight="1000.05"),
        good_row(7, billing_code="GZ0201"),
        *good_rows(2, start=8, billing_code="new-001", ship_time="2026-02-11 09:00", cost=""),
    ]
    import_file(write_waybills(ledger_dir / "ledger.csv", rows))
    return {"a": account_a, "b": account_b, "group": group, "child": child}


def months(response: Any) -> list[tuple[str, str]]:
    assert response.status_code == 200, response.content
    return [(i["billing_code"], i["month"]) for i in response.json()["items"]]


def test_facts_of_a_billing_code_with_money_as_decimal_strings(
    session_client: Callable, director: User, ledger: dict[str, Any]
) -> None:
    response = session_client(director).get("/facts", {"billing_code": "YJ0591001"})
    body = response.json()
    assert body["count"] == 3
    jan, feb, mar = body["items"]
    assert (jan["month"], jan["waybills"], jan["revenue"], jan["cost"], jan["margin"]) == (
        "2026-01", 2, "27.00", "16.00", "11.00",
    )  # fmt: skip
    assert (jan["weight_kg"], jan["cod_amount"]) == ("2.500", "200.00")
    assert (mar["revenue"], mar["waybills"]) == ("3003.15", 3)
    assert feb["revenue"] == "13.50"
    # The product mix, its money as decimal strings too (good rows are 特快, express).
    assert (jan["express_waybills"], jan["express_revenue"]) == (2, "27.00")
    assert (jan["cold_waybills"], jan["cold_revenue"]) == (0, "0.00")
    for item in body["items"]:
        for money in ("revenue", "cost", "margin", "cod_amount", "weight_kg"):
            assert isinstance(item[money], str)
    assert b'"revenue": 27' not in response.content and b'"revenue":27' not in response.content


FILTER_CASES = [
        ({"billing_code": "YJ0591001", "month_from": "2026-02"}, [("YJ0591001", "2026-02"), ("YJ0591001", "2026-03")]),
        ({"billing_code": "YJ0591001", "month_to": "2026-01"}, [("YJ0591001", "2026-01")]),
        ({"billing_code": "YJ0591001", "month_from": "2026-02", "month_to": "2026-02"}, [("YJ0591001", "2026-02")]),
        ({"billing_code": "yj0591001", "month_from": "2026-03"}, [("YJ0591001", "2026-03")]),
        ({"account_id": "A", "month_to": "2026-01"}, [("YJ0591001", "2026-01")]),
        ({"account_id": "B"}, [("GZ0201", "2026-01")]),
        ({"group_id": "group", "month_from": "2026-03"}, [("YJ0591001", "2026-03")]),
        ({"group_id": "child", "month_to": "2026-01"}, [("YJ0591001", "2026-01")]),
        ({"account_id": "A", "billing_code": "GZ0201"}, []),
        ({"billing_code": "NEW-001"}, [("NEW-001", "2026-02")]),
        ({"billing_code": "YJ0591001", "month_from": "2027-01"}, []),
]  # fmt: skip


def test_facts_filters(session_client: Callable, director: User, ledger: dict[str, Any]) -> None:
    ids = {
        "A": ledger["a"].pk,
        "B": ledger["b"].pk,
        "group": ledger["group"].pk,
        "child": ledger["child"].pk,
    }
    client = session_client(director)
    for params, expected in FILTER_CASES:
        query = {k: ids.get(v, v) if k.endswith("_id") else v for k, v in params.items()}
        assert months(client.get("/facts", query)) == expected, params


def test_facts_are_paginated(
    session_client: Callable, director: User, ledger: dict[str, Any]
) -> None:
    body = (
        session_client(director)
        .get("/facts", {"account_id": ledger["a"].pk, "page_size": 2, "page": 2})
        .json()
    )
    assert (body["count"], [i["month"] for i in body["items"]]) == (3, ["2026-03"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "billing_code"),
        ({"month_from": "2026-01"}, "billing_code"),
        ({"billing_code": "YJ0591001", "month_from": "2026-03", "month_to": "2026-01"}, "month_to"),
        ({"billing_code": "YJ0591001", "month_from": "2026-13"}, "month_from"),
        ({"billing_code": "YJ0591001", "month_to": "202601"}, "month_to"),
        ({"billing_code": "YJ0591001", "month_from": "0000-01"}, "month_from"),
        ({"billing_code": "YJ 0591001"}, "billing_code"),
        ({"billing_code": "YJ0591001", "page_size": 5001}, "page_size"),
    ],
)
def test_bad_facts_queries_are_422(
    session_client: Callable, director: User, params: dict, field: str
) -> None:
    assert_error(session_client(director).get("/facts", params), 422, field)


def test_an_account_manager_reads_the_facts_of_his_own_account_only(
    api_as: Callable, owner: User, ledger: dict[str, Any]
) -> None:
    client = api_as(owner)
    assert len(months(client.get("/facts", {"account_id": ledger["a"].pk}))) == 3
    assert len(months(client.get("/facts", {"billing_code": "YJ0591001"}))) == 3
    assert_error(client.get("/facts", {"account_id": ledger["b"].pk}), 404)
    assert_error(client.get("/facts", {"billing_code": "GZ0201"}), 404)  # B's code
    assert_error(client.get("/facts", {"billing_code": "NEW-001"}), 404)  # unlinked: the ledger's
    # The group is visible, but only his own accounts' codes roll up.
    assert months(
        client.get("/facts", {"group_id": ledger["group"].pk, "month_to": "2026-01"})
    ) == [("YJ0591001", "2026-01")]


def test_others_get_404_for_account_a(
    request: pytest.FixtureRequest, session_client: Callable, ledger: dict[str, Any]
) -> None:
    for persona in ("colleague", "outsider", "admin"):
        client = session_client(request.getfixturevalue(persona))
        assert_error(client.get("/facts", {"account_id": ledger["a"].pk}), 404)
        assert_error(client.get("/facts", {"billing_code": "YJ0591001"}), 404)
        assert_error(client.get("/facts", {"billing_code": "NEW-001"}), 404)


def test_facts_of_an_unlinked_code_are_for_the_ledger_roles_only(
    request: pytest.FixtureRequest, session_client: Callable, ledger: dict[str, Any]
) -> None:
    for persona in ("director", "department", "analyst"):
        client = session_client(request.getfixturevalue(persona))
        response = client.get("/facts", {"billing_code": "NEW-001"})
        assert months(response) == [("NEW-001", "2026-02")], persona
        assert response.json()["items"][0]["revenue"] == "27.00"
    for persona in ("owner", "service_rep", "colleague", "admin"):
        client = session_client(request.getfixturevalue(persona))
        assert_error(client.get("/facts", {"billing_code": "NEW-001"}), 404)


def test_a_billing_code_nobody_has_shipped_with_gives_no_facts(
    session_client: Callable, director: User, ledger: dict[str, Any]
) -> None:
    assert months(session_client(director).get("/facts", {"billing_code": "NEVER-SEEN"})) == []


def test_facts_anonymously_is_401(anon: JsonClient, ledger: dict[str, Any]) -> None:
    assert_error(anon.get("/facts", {"billing_code": "YJ0591001"}), 401)


# --- unlinked codes --------------------------------------------------------------------------


def test_unlinked_codes_list_with_totals(
    token_client: Callable, department: User, ledger: dict[str, Any]
) -> None:
    body = token_client(department).get("/unlinked-codes").json()
    assert body["count"] == 1
    assert body["items"] == [
        {"billing_code": "NEW-001", "waybills": 2, "revenue": "27.00", "first_month": "2026-02",
         "last_month": "2026-02", "months": 1}
    ]  # fmt: skip


def test_unlinked_codes_search_and_sort(
    session_client: Callable, director: User, ledger: dict[str, Any], ledger_dir: Path
) -> None:
    rows = [good_row(50 + i, billing_code=f"ZZ-{i}", freight=f"{i}00.00") for i in range(1, 4)]
    import_file(write_waybills(ledger_dir / "more.csv", rows))
    client = session_client(director)
    by_revenue = [i["billing_code"] for i in client.get("/unlinked-codes").json()["items"]]
    assert by_revenue == ["ZZ-3", "ZZ-2", "ZZ-1", "NEW-001"]
    by_code = [
        i["billing_code"] for i in client.get("/unlinked-codes", {"sort": "code"}).json()["items"]
    ]
    assert by_code == ["NEW-001", "ZZ-1", "ZZ-2", "ZZ-3"]
    assert client.get("/unlinked-codes", {"q": "zz-2"}).json()["count"] == 1
    assert_error(client.get("/unlinked-codes", {"sort": "bogus"}), 422, "sort")


def test_unlinked_codes_are_an_empty_list_for_others(
    request: pytest.FixtureRequest, session_client: Callable, ledger: dict[str, Any]
) -> None:
    for persona in ("owner", "service_rep", "colleague", "admin"):
        body = session_client(request.getfixturevalue(persona)).get("/unlinked-codes").json()
        assert (body["count"], body["items"]) == (0, []), persona


def test_the_department_links_an_unlinked_code_to_an_account(
    api_as: Callable, department: User, owner: User, ledger: dict[str, Any]
) -> None:
    client = api_as(department)
    response = client.post(
        "/unlinked-codes/new-001/link", {"account_id": ledger["b"].pk, "note": "合并"}
    )
    assert response.status_code == 201, response.content
    assert response.json() == {"billing_code": "NEW-001", "account_id": ledger["b"].pk}
    assert BillingCode.objects.get(code="NEW-001").account_id == ledger["b"].pk
    assert client.get("/unlinked-codes").json()["count"] == 0
    # Its facts now follow the account.
    assert months(client.get("/facts", {"account_id": ledger["b"].pk})) == [
        ("GZ0201", "2026-01"),
        ("NEW-001", "2026-02"),
    ]
    assert_error(
        client.post("/unlinked-codes/NEW-001/link", {"account_id": ledger["a"].pk}), 404
    )  # no longer unlinked


def test_linking_is_refused_to_others(
    request: pytest.FixtureRequest, session_client: Callable, ledger: dict[str, Any]
) -> None:
    for persona, status in (("analyst", 403), ("owner", 404), ("admin", 404), ("colleague", 404)):
        client = session_client(request.getfixturevalue(persona))
        link = {"account_id": ledger["a"].pk}
        assert_error(client.post("/unlinked-codes/NEW-001/link", link), status)
    assert not BillingCode.objects.filter(code="NEW-001").exists()


def test_linking_refusals(
    session_client: Callable, department: User, ledger: dict[str, Any]
) -> None:
    client = session_client(department)
    assert_error(
        client.post("/unlinked-codes/YJ0591001/link", {"account_id": ledger["b"].pk}), 404
    )  # linked already
    assert_error(client.post("/unlinked-codes/NOPE/link", {"account_id": ledger["a"].pk}), 404)
    assert_error(client.post("/unlinked-codes/NEW-001/link", {"account_id": 999999}), 404)
    assert_error(client.post("/unlinked-codes/NEW-001/link", {}), 422, "account_id")
    assert not BillingCode.objects.filter(code="NEW-001").exists()


def test_the_department_creates_a_prospect_from_an_unlinked_code(
    token_client: Callable, department: User, ledger: dict[str, Any]
) -> None:
    client = token_client(department)
    response = client.post(
        "/unlinked-codes/NEW-001/prospect",
        {"name": "厦门新客户贸易有限公司", "province_code": "350000"},
    )
    assert response.status_code == 201, response.content
    account = Account.objects.get(pk=response.json()["account_id"])
    assert (account.name, account.status) == ("厦门新客户贸易有限公司", AccountStatus.PROSPECT)
    assert list(account.billing_codes.values_list("code", flat=True)) == ["NEW-001"]
    assert months(client.get("/facts", {"account_id": account.pk})) == [("NEW-001", "2026-02")]


def test_prospect_refusals(
    session_client: Callable, department: User, analyst: User, ledger: dict[str, Any]
) -> None:
    count = Account.objects.count()
    assert_error(
        session_client(analyst).post("/unlinked-codes/NEW-001/prospect", {"name": "X公司"}), 403
    )
    client = session_client(department)
    assert_error(client.post("/unlinked-codes/NEW-001/prospect", {"name": ""}), 422, "name")
    assert_error(client.post("/unlinked-codes/YJ0591001/prospect", {"name": "X公司"}), 404)
    assert Account.objects.count() == count
    assert not BillingCode.objects.filter(code="NEW-001").exists()


def test_the_facts_dates_are_first_days_of_months(ledger: dict[str, Any]) -> None:
    assert set(AccountMonth.objects.values_list("month", flat=True)) == {
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 3, 1),
    }


def test_push_with_a_nul_in_a_heading_fails_the_batch_cleanly(
    api_as: Callable, director: User
) -> None:
    """A heading with a NUL character (JSON allows "\\u0000") is reported among the found
    headings; PostgreSQL refuses NUL in JSON, so it is stored as U+FFFD, not as a 500."""
    body = b'[{"\\u0000a": 1, "\\ud83d\\udd08b": 2}]'
    response = push(api_as(director), body, "application/json")
    assert response.status_code == 200, response.content
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.error_code) == (ImportBatch.Status.FAILED, "missing_columns")
    assert set(batch.error_params["found"]) == {"\ufffda", "\U0001f508b"}
