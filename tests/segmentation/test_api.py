"""The API under /api/v1/segmentation/: scoped by the access selector, one error shape."""

from collections.abc import Callable

from kam.accounts.models import Account
from kam.core.models import User
from kam.segmentation.models import Alert, Run, TierProposal
from tests.conftest import assert_error


def test_valuations_are_scoped_to_what_the_user_sees(
    run: Run, api_as: Callable, owner: User, department: User, account_a: Account
) -> None:
    body = api_as(owner).get("/segmentation/valuations").json()
    assert [i["account_id"] for i in body["items"]] == [account_a.pk]
    item = body["items"][0]
    assert item["revenue"] == "192000.00" and isinstance(item["reasons"][0], str)
    assert body["count"] == 1
    everyone = api_as(department).get("/segmentation/valuations", {"page_size": 500}).json()
    assert everyone["count"] == Account.objects.count()
    assert_error(api_as(owner).get("/segmentation/valuations", {"level": "code"}), 403)
    codes = api_as(department).get(
        "/segmentation/valuations", {"level": "code", "candidates": True}
    )
    assert "YJFASTGROW" in {i["code"] for i in codes.json()["items"]}


def test_account_value_outsider_gets_404(run: Run, api_as: Callable, outsider: User,
                                         owner: User, account_a: Account) -> None:  # fmt: skip
    assert_error(api_as(outsider).get(f"/segmentation/accounts/{account_a.pk}"), 404)
    body = api_as(owner).get(f"/segmentation/accounts/{account_a.pk}").json()
    assert body["valuation"]["account_id"] == account_a.pk


def test_accept_override_and_alert_actions(run: Run, api_as: Callable, department: User,
                                           owner: User, account_a: Account) -> None:  # fmt: skip
    ids = list(TierProposal.objects.filter(run=run).values_list("pk", flat=True)[:2])
    assert_error(api_as(owner).post("/segmentation/proposals/accept", {"proposals": ids}), 403)
    assert api_as(department).post("/segmentation/proposals/accept", {"proposals": ids}).json() == {
        "accepted": 2
    }
    assert_error(api_as(department).post("/segmentation/proposals/accept", {"proposals": ids}), 404)
    bad = api_as(department).post(
        f"/segmentation/accounts/{account_a.pk}/tier", {"tier": 9, "reason": "x"}
    )
    assert_error(bad, 422, "tier")
    ok = api_as(department).post(
        f"/segmentation/accounts/{account_a.pk}/tier", {"tier": 2, "reason": "复核"}
    )
    assert ok.status_code == 200 and ok.json()["to_tier"] == 2
    alert = Alert.objects.get(kind="decline", account=account_a)
    listed = api_as(owner).get("/segmentation/alerts", {"status": "open"}).json()
    assert alert.pk in {a["id"] for a in listed["items"]}
    assert_error(
        api_as(owner).post(f"/segmentation/alerts/{alert.pk}", {"action": "resolve"}), 422, "note"
    )
    done = api_as(owner).post(
        f"/segmentation/alerts/{alert.pk}", {"action": "resolve", "note": "ok"}
    )
    assert done.json()["status"] == "resolved"


def test_rules_api_refuses_contradictions(db: None, api_as: Callable, director: User,
                                          department: User) -> None:  # fmt: skip
    assert api_as(department).get("/segmentation/rules").json()["version"] == 1
    assert_error(api_as(department).post("/segmentation/rules", {"economic_threshold": 1}), 403)
    bad = api_as(director).post("/segmentation/rules", {"tier_cutoffs": [80, 80, 40, 20]})
    assert_error(bad, 422, "tier_cutoffs")
    bad = api_as(director).post("/segmentation/rules", {"weights": {k: 0 for k in (
        "revenue", "margin", "growth", "frequency", "credit", "strategic", "headroom")}})  # fmt: skip
    assert_error(bad, 422, "weights")
    assert_error(
        api_as(director).post("/segmentation/rules", {"silence_days": -2}), 422, "silence_days"
    )
    ok = api_as(director).post(
        "/segmentation/rules", {"economic_threshold": 3000000, "note": "试行"}
    )
    assert ok.status_code == 201 and ok.json()["version"] == 2


def test_runs_api(run: Run, api_as: Callable, department: User, analyst: User) -> None:
    listed = api_as(analyst).get("/segmentation/runs").json()
    assert listed["items"][0]["id"] == run.pk
    assert_error(api_as(analyst).post("/segmentation/runs"), 403)
    other = Run.objects.create(rule_set=run.rule_set, trigger="manual", status="done")
    body = api_as(department).get(f"/segmentation/runs/{run.pk}/compare/{other.pk}").json()
    assert body["moved"] == 0 and len(body["matrix"]) == 5
