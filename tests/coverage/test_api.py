"""The coverage API: status, body and database state, for the personas."""

import datetime
from collections.abc import Callable
from typing import Any

import pytest

from kam.accounts.models import Account, Contact
from kam.core.models import User
from kam.coverage import services
from kam.coverage.models import FollowUp, PolicyVersion, Visit, VisitReport
from tests.conftest import assert_error

pytestmark = pytest.mark.django_db


def _report(account: Account, **changes: Any) -> dict[str, Any]:
    body = {"account": account.pk, "visited_on": "2026-07-15", "purpose": "回访",
            "summary": "正常", "findings": [{"kind": "need", "severity": 2, "text": "要仓储"}],
            "follow_ups": []}  # fmt: skip
    body.update(changes)
    return body


def test_policy_read_and_publish(api_as: Callable, director: User, owner: User) -> None:
    body = api_as(owner).get("/coverage/policy").json()
    assert body["version"] == 1 and len(body["rules"]) == len(services.DEFAULT_RULES)
    rules = body["rules"]
    rules[0]["cadence_days"] = 0
    assert_error(api_as(director).post("/coverage/policy", {"rules": rules}), 422, "cadence_days")
    assert PolicyVersion.objects.count() == 1
    rules[0]["cadence_days"] = 6
    assert_error(api_as(owner).post("/coverage/policy", {"rules": rules}), 403)
    response = api_as(director).post("/coverage/policy", {"rules": rules, "note": "六天"})
    assert response.status_code == 201 and response.json()["version"] == 2


def test_plan_and_visits(api_as: Callable, director: User, owner: User, account_a: Account) -> None:
    response = api_as(director).post("/coverage/plans", {"start": "2026-07-06", "weeks": 4})
    assert response.status_code == 201, response.content
    assert response.json()["placed"] == 4
    assert_error(api_as(owner).post("/coverage/plans", {"start": "2026-07-06", "weeks": 4}), 403)
    assert_error(api_as(director).post("/coverage/plans", {"start": "2026-07-06", "weeks": 0}),
                 422, "weeks")  # fmt: skip
    assert api_as(owner).get("/coverage/plans/latest").json()["due"] == 4
    visits = api_as(owner).get("/coverage/visits", {"start": "2026-07-06"}).json()
    assert visits["count"] == 4 and {v["account"] for v in visits["items"]} == {account_a.pk}
    first = visits["items"][0]
    moved = api_as(owner).post(f"/coverage/visits/{first['id']}/move",
                               {"day": "2026-07-10", "version": first["version"]})  # fmt: skip
    assert moved.status_code == 200 and moved.json()["day"] == "2026-07-10"
    assert_error(api_as(owner).post(f"/coverage/visits/{first['id']}/move",
                                    {"day": "2026-07-10", "version": first["version"]}), 409)  # fmt: skip


def test_outsider_sees_no_visits(api_as: Callable, visit: Visit, outsider: User) -> None:
    assert api_as(outsider).get("/coverage/visits").json()["count"] == 0
    assert_error(
        api_as(outsider).post(f"/coverage/visits/{visit.pk}/move", {"day": "2026-07-16"}), 404
    )


def test_report_and_its_bad_inputs(
    api_as: Callable, visit: Visit, owner: User, contact_a: Contact, contact_b: Contact,
    today: datetime.date,
) -> None:  # fmt: skip
    account = visit.account
    client = api_as(owner)
    bad = [
        (_report(account, visited_on="2026-07-16"), "visited_on"),
        (_report(account, contacts=[contact_b.pk]), "contacts"),
        (_report(account, follow_ups=[{"title": "报价", "due_date": "2026-07-20"}]), "follow_ups"),
        (
            _report(
                account, follow_ups=[{"title": "报价", "owner": owner.pk, "due_date": "2026-07-14"}]
            ),
            "follow_ups",
        ),  # fmt: skip
    ]
    for body, field in bad:
        assert_error(client.post("/coverage/reports", body), 422, field)
    assert not VisitReport.objects.exists()
    response = client.post("/coverage/reports", _report(
        account, visit=visit.pk, contacts=[contact_a.pk],
        follow_ups=[{"title": "报价", "owner": owner.pk, "due_date": "2026-07-20"}]))  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "submitted" and body["follow_ups"][0]["status"] == "open"
    visit.refresh_from_db()
    assert visit.status == "done"


def test_follow_up_api(api_as: Callable, follow_up: FollowUp, owner: User, department: User,
                       colleague: User) -> None:  # fmt: skip
    body = api_as(department).get("/coverage/follow-ups", {"status": "open"}).json()
    assert [r["id"] for r in body["items"]] == [follow_up.pk]
    assert (body["count"], body["page"]) == (1, 1)
    assert api_as(colleague).get("/coverage/follow-ups").json()["items"] == []
    assert api_as(department).get("/coverage/follow-ups", {"page": 2}).json()["items"] == []
    assert_error(api_as(department).patch(f"/coverage/follow-ups/{follow_up.pk}",
                                          {"status": "cancelled"}), 422, "cancel_reason")  # fmt: skip
    assert_error(api_as(owner).patch(f"/coverage/follow-ups/{follow_up.pk}",
                                     {"owner": colleague.pk}), 403)  # fmt: skip
    done = api_as(department).patch(f"/coverage/follow-ups/{follow_up.pk}", {"status": "done"})
    assert done.status_code == 200 and done.json()["status"] == "done"


def test_measures(api_as: Callable, report: VisitReport, department: User, owner: User) -> None:
    body = api_as(department).get("/coverage/measures",
                                  {"start": "2026-07-01", "end": "2026-07-31"}).json()  # fmt: skip
    assert body["open_follow_ups"] == 1
    assert_error(api_as(owner).get("/coverage/measures"), 404)


def test_anonymous_gets_401(anon: Any) -> None:
    assert_error(anon.get("/coverage/visits"), 401)


def test_far_off_days_are_refused_not_overflowing(api_as: Callable, director: User) -> None:
    assert_error(api_as(director).post("/coverage/plans", {"start": "0001-01-01"}), 422, "start")
    assert_error(api_as(director).get("/coverage/measures", {"end": "0001-01-01"}), 422, "end")
