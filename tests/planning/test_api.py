"""The planning API: list and read plans with computed progress, create and change with
validation (one error shape, nothing stored), foreign ids 404, paged lists."""

import datetime
from collections.abc import Callable
from typing import Any

import pytest

from kam.accounts.models import Account
from kam.core.models import User
from kam.planning.models import AccountPlan, Action, Objective
from tests.conftest import assert_error

pytestmark = pytest.mark.django_db


def test_plans_list_and_read_with_progress_from_data(
    session_client: Callable[..., Any], plan_a: AccountPlan, plan_b: AccountPlan, owner: User,
    facts_a: None,
) -> None:  # fmt: skip
    api = session_client(owner)
    created = api.post(f"/planning/plans/{plan_a.pk}/objectives", {
        "metric": "revenue", "baseline": "100000", "target": "140000",
        "target_date": "2026-12-31", "title": "收入增长"})  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["current"] == "120000.00" and body["progress"] == 0.5
    listing = api.get("/planning/plans").json()
    assert listing["count"] == 1 and [p["id"] for p in listing["items"]] == [plan_a.pk]
    one = api.get(f"/planning/plans/{plan_a.pk}").json()
    assert one["objectives"][0]["status"] in ("on_track", "at_risk", "off_track")
    assert one["rag"] in ("red", "amber", "green") and one["account"] == plan_a.account_id
    assert api.get(f"/planning/plans/{plan_b.pk}").status_code == 404
    assert api.get(f"/planning/plans/{plan_b.pk}/objectives").status_code == 404
    assert api.get("/planning/plans?rag=green&page=1").status_code == 200


def test_bad_objectives_and_actions_are_refused_with_nothing_stored(
    session_client: Callable[..., Any], plan_a: AccountPlan, owner: User, today: datetime.date
) -> None:
    api = session_client(owner)
    url = f"/planning/plans/{plan_a.pk}/objectives"
    assert_error(api.post(url, {"metric": "revenue", "target": "5", "target_date": "2026-12-31"}),
                 422, "baseline")  # fmt: skip
    assert_error(api.post(url, {"metric": "revenue", "baseline": "5", "target": "5",
                                "target_date": "2026-12-31"}), 422, "target")  # fmt: skip
    assert_error(api.post(url, {"metric": "revenue", "baseline": "5", "target": "6",
                                "target_date": "2026-01-31"}), 422, "target_date")  # fmt: skip
    assert_error(api.post(url, {"metric": "height", "baseline": "5", "target": "6"}), 422, "metric")
    actions = f"/planning/plans/{plan_a.pk}/actions"
    assert_error(api.post(actions, {"title": "提前", "horizon": 30, "due_date": "2025-12-01"}),
                 422, "due_date")  # fmt: skip
    assert not Objective.objects.exists() and not Action.objects.exists()


def test_create_plans_and_actions_through_the_api(
    session_client: Callable[..., Any], account_a: Account, account_b: Account, owner: User,
    department: User, today: datetime.date,
) -> None:  # fmt: skip
    api = session_client(owner)
    response = api.post("/planning/plans", {"account": account_a.pk, "year": 2026,
                                            "kind": "retain", "team_members": [department.pk]})  # fmt: skip
    assert response.status_code == 201, response.content
    plan = response.json()
    assert plan["owner"] == owner.pk and plan["team_members"] == [department.pk]
    assert plan["rag"] == "amber" and plan["rag_reasons"] == ["no_objectives"]
    assert api.post("/planning/plans", {"account": account_b.pk, "year": 2026,
                                        "kind": "retain"}).status_code == 404  # fmt: skip
    assert_error(api.post("/planning/plans", {"account": account_a.pk, "year": 2026,
                                              "kind": "retain"}), 422, "year")  # fmt: skip
    action = api.post(f"/planning/plans/{plan['id']}/actions",
                      {"title": "拜访采购总监", "horizon": 30, "due_date": "2026-08-01"})  # fmt: skip
    assert action.status_code == 201, action.content
    tracked = api.post(f"/planning/actions/{action.json()['id']}/follow-up")
    assert tracked.status_code == 200 and tracked.json()["follow_up"]
    page = api.get(f"/planning/plans/{plan['id']}/actions").json()
    assert page["count"] == 1 and page["items"][0]["status"] == "open"
    patched = api.patch(f"/planning/plans/{plan['id']}", {"kind": "expand"})
    assert patched.status_code == 200 and patched.json()["kind"] == "expand"
    assert AccountPlan.objects.count() == 1


def test_submit_and_review_through_the_api(
    session_client: Callable[..., Any], plan_a: AccountPlan, owner: User, department: User
) -> None:
    api = session_client(owner)
    assert_error(api.post(f"/planning/plans/{plan_a.pk}/submit"), 400)
    api.post(f"/planning/plans/{plan_a.pk}/objectives", {
        "metric": "nps", "baseline": "10", "target": "30", "target_date": "2026-12-31"})  # fmt: skip
    assert api.post(f"/planning/plans/{plan_a.pk}/submit").json()["status"] == "submitted"
    assert_error(api.post(f"/planning/plans/{plan_a.pk}/review", {"decision": "approved"}), 403)
    reviewer = session_client(department)
    assert_error(reviewer.post(f"/planning/plans/{plan_a.pk}/review", {"decision": "returned"}),
                 422, "comment")  # fmt: skip
    done = reviewer.post(f"/planning/plans/{plan_a.pk}/review", {"decision": "approved"})
    assert done.status_code == 200 and done.json()["status"] == "approved"
