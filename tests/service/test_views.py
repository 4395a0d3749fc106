"""The service pages and API through the client (CSRF enforced): who sees and does what,
the queue's order and colours, bulk assignment, the dashboard and the account panel."""

import datetime
from typing import Any

import pytest
import time_machine
from django.test import Client

from kam.accounts.models import Account
from kam.core.models import User
from kam.service import services
from kam.service.models import Case, SlaPolicy
from tests.conftest import assert_error

from .conftest import MONDAY, at

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def test_the_queue_sorts_by_time_left_and_colours_violations(
    complaint, owner, account_a, service_rep, policy
) -> None:
    later = services.case_open(by=owner, account=account_a, kind="inquiry", channel="phone",
                               severity="medium", subject="稍后的查询", assignee=service_rep,
                               now=at(2, 10, 30))  # fmt: skip
    with time_machine.travel(at(2, 11, 30), tick=False):
        services.clocks_tick()
        page = _client(service_rep).get("/service/")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.index(f'data-case="{complaint.pk}"') < html.index(f'data-case="{later.pk}"')
    row = html[html.index(f'data-case="{complaint.pk}"') - 40 :]
    assert "table-danger" in row[:80]


def test_an_outsider_gets_404_and_an_analyst_reads_without_actions(
    complaint, outsider, analyst
) -> None:
    assert _client(outsider).get(f"/service/cases/{complaint.pk}/").status_code == 404
    page = _client(analyst).get(f"/service/cases/{complaint.pk}/")
    assert page.status_code == 200 and "action-acknowledge" not in page.content.decode()
    refused = _client(analyst).post(
        f"/service/cases/{complaint.pk}/action/", {"action": "acknowledge"}
    )
    assert refused.status_code == 400
    assert Case.objects.get().status == "new"


def test_resolving_without_a_note_on_the_page_shows_the_message(
    complaint, service_rep, cause
) -> None:
    page = _client(service_rep).post(f"/service/cases/{complaint.pk}/action/",
                                     {"action": "resolve", "note": "", "root_cause": cause.pk})  # fmt: skip
    assert page.status_code == 400
    assert "Write what was done" in page.content.decode() or "写明" in page.content.decode()
    assert Case.objects.get().status == "new"


def test_the_case_page_walks_the_workflow(complaint, service_rep, cause) -> None:
    client = _client(service_rep)
    for action in ("acknowledge", "wait", "resume"):
        assert (
            client.post(f"/service/cases/{complaint.pk}/action/", {"action": action}).status_code
            == 302
        )
    client.post(f"/service/cases/{complaint.pk}/action/",
                {"action": "resolve", "note": "已处理", "root_cause": cause.pk})  # fmt: skip
    client.post(f"/service/cases/{complaint.pk}/action/", {"action": "close"})
    assert Case.objects.get().status == "closed"
    timeline = client.get(f"/service/cases/{complaint.pk}/").content.decode()
    for kind in ("opened", "paused", "resumed", "status"):
        assert f'data-kind="{kind}"' in timeline


def test_opening_a_case_from_the_account(account_a, owner, contact_a, policy) -> None:
    client = _client(owner)
    form = client.get(f"/service/cases/new/?account={account_a.pk}")
    assert form.status_code == 200 and contact_a.name in form.content.decode()
    done = client.post("/service/cases/new/", {
        "account": account_a.pk, "kind": "complaint", "channel": "phone", "severity": "medium",
        "subject": "破损投诉", "waybills": "SF1234567890", "contacts": [contact_a.pk], "assignee": owner.pk,
    })  # fmt: skip
    case = Case.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/service/cases/{case.pk}/"
    assert list(case.contacts.all()) == [contact_a]


def test_bulk_assign_by_the_department(complaint, department, service_rep, owner) -> None:
    page = _client(department).post(
        "/service/assign/", {"case": [complaint.pk], "assignee": owner.pk}
    )
    assert page.status_code == 302
    assert Case.objects.get().assignee == owner
    refused = _client(service_rep).post(
        "/service/assign/", {"case": [complaint.pk], "assignee": service_rep.pk}
    )
    assert refused.status_code == 403


def test_the_dashboard_and_account_panel_show_measures(
    complaint, service_rep, cause, director, account_a
) -> None:
    services.case_transition(by=service_rep, case=complaint, action="resolve", note="ok", root_cause=cause,
                             now=at(2, 10))  # fmt: skip
    with time_machine.travel(at(3, 9), tick=False):
        page = _client(director).get("/service/dashboard/")
        assert page.status_code == 200 and 'id="attainment">100.0 %' in page.content.decode()
        account = _client(director).get(f"/accounts/{account_a.pk}/")
    assert 'id="service-panel"' in account.content.decode()
    assert 'id="panel-attainment">100.0 %' in account.content.decode()


def test_the_policy_form_refuses_a_warning_after_the_violation(department) -> None:
    page = _client(department).post("/service/policies/new/", {
        "name": "x", "severity": "high", "clock": "business", "day_start": "09:00", "day_end": "18:00",
        "response_hours": "1", "resolution_hours": "4", "warning_text": "50, 100", "active": "on",
    })  # fmt: skip
    assert (
        page.status_code == 200
        and "before the violation" in page.content.decode()
        or "违约" in page.content.decode()
    )
    assert not SlaPolicy.objects.exists()
    ok = _client(department).post("/service/policies/new/", {
        "name": "x", "severity": "high", "clock": "business", "day_start": "09:00", "day_end": "18:00",
        "response_hours": "1", "resolution_hours": "4", "warning_text": "80, 50", "active": "on",
    })  # fmt: skip
    assert ok.status_code == 302 and SlaPolicy.objects.get().warning_shares == [50, 80]


def test_the_api_opens_and_moves_a_case(api_as, owner, account_a, policy, cause, outsider) -> None:
    api = api_as(owner)
    with time_machine.travel(MONDAY, tick=False):
        created = api.post("/service/cases", {"account_id": account_a.pk, "type": "complaint", "channel": "phone",
                                              "severity": "medium", "subject": "API 投诉"})  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["response"]["target"] == 120 and body["status"] == "new"
    cid = body["id"]
    assert_error(api.post(f"/service/cases/{cid}/transitions", {"action": "resolve", "root_cause": "delay"}),
                 422, "resolution_note")  # fmt: skip
    assert_error(api.post(f"/service/cases/{cid}/transitions", {"action": "close"}), 400, "action")
    moved = api.post(
        f"/service/cases/{cid}/transitions", {"action": "acknowledge", "version": body["version"]}
    )
    assert moved.status_code == 200 and moved.json()["status"] == "acknowledged"
    assert_error(
        api.post(f"/service/cases/{cid}/transitions", {"action": "wait", "version": 1}), 409
    )
    listed = api.get("/service/cases", {"status": "open"})
    assert [c["id"] for c in listed.json()["items"]] == [cid]
    assert api_as(outsider).get(f"/service/cases/{cid}").status_code == 404
    assert api.get("/service/measures", {"days": 3650}).json()["cases"] == 1


def test_the_api_refuses_claims_without_amount(api_as, owner, account_a, policy) -> None:
    out = api_as(owner).post("/service/cases", {"account_id": account_a.pk, "type": "claim", "channel": "phone",
                                                "severity": "medium", "subject": "理赔"})  # fmt: skip
    assert_error(out, 422, "claim_amount")
    assert not Case.objects.exists()


def test_the_queue_does_not_query_per_case(account_a, owner, service_rep, policy, department,
                                          django_assert_max_num_queries) -> None:  # fmt: skip
    for i in range(3):
        case = services.case_open(by=owner, account=account_a, kind="inquiry", channel="phone",
                                  severity="medium", subject=f"查询 {i}", now=MONDAY)  # fmt: skip
        services.case_transition(by=owner, case=case, action="wait", now=at(2, 10))
    client = _client(department)
    client.get("/service/?scope=all")
    with django_assert_max_num_queries(16) as few:
        client.get("/service/?scope=all")
    for i in range(3, 10):
        services.case_open(by=owner, account=account_a, kind="inquiry", channel="phone",
                           severity="medium", subject=f"查询 {i}", now=MONDAY)  # fmt: skip
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/service/?scope=all").status_code == 200


def test_policies_are_listed_by_tier_then_severity_from_critical(department) -> None:
    for severity in ("low", "critical", "medium", "high"):
        SlaPolicy.objects.create(
            name=f"any · {severity}", tier=None, severity=severity, clock="business",
            response_minutes=60, resolution_minutes=240,
        )  # fmt: skip
    body = _client(department).get("/service/policies/").content.decode()
    order = [body.index(f"any · {s}") for s in ("critical", "high", "medium", "low")]
    assert order == sorted(order)


def test_the_account_page_takes_the_same_queries_however_many_open_cases(
    account_a: Account, owner: User, service_rep: User, policy: Any,
    django_assert_max_num_queries: Any,
) -> None:  # fmt: skip
    """The service panel's SLA clocks read each open case's pauses: one query for all of
    them, not two a case (the panel shows up to ten)."""

    def open_case(paused: bool) -> None:
        case = services.case_open(
            by=owner, account=account_a, kind="complaint", channel="phone", severity="medium",
            subject="延误", assignee=service_rep, now=MONDAY,
        )  # fmt: skip
        if paused:
            case.pauses.create(started_at=MONDAY, ended_at=MONDAY + datetime.timedelta(hours=1))

    client = Client()
    client.force_login(owner)
    url = f"/accounts/{account_a.pk}/"

    def queries(limit: int) -> int:
        client.get(url)
        with django_assert_max_num_queries(limit) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    open_case(paused=True)
    before = queries(90)
    for i in range(6):
        open_case(paused=i % 2 == 0)
    assert queries(before) <= before
