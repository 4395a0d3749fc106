"""Account health: each part's score from its facts, the weighted score with parts
without data left out, the bulk job (a fixed number of queries per batch, a snapshot per
account and day, the list's stored score), a drop raising one alert in the inbox, the
directors' weights refused when bad, the account page, list and API, and 404 for a
foreign account."""

import datetime
import io
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kam.accounts.models import Account
from kam.core.models import User
from kam.ledger.models import AccountRevenue
from kam.planning import health
from kam.planning.models import AccountHealth, AccountPlan, HealthSettings, HealthSnapshot
from kam.segmentation.messages import alert_text
from kam.segmentation.models import Alert
from tests.factories import AccountFactory, ContactFactory
from tests.planning.conftest import LAST_MONTH, add_facts, months_back

pytestmark = pytest.mark.django_db

WEIGHTS = {"plan": 15, "players": 15, "freshness": 15, "satisfaction": 15, "value": 20,
           "service": 10, "alerts": 10}  # fmt: skip


def client_for(user: User, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    return client


# --- the parts -------------------------------------------------------------------------------


def test_value_trend_maps_growth_to_0_100_and_no_revenue_to_no_data() -> None:
    assert health.value_part(Decimal(100), Decimal(100))[0] == 50
    assert health.value_part(Decimal(120), Decimal(100))[0] == 100
    assert health.value_part(Decimal(80), Decimal(100))[0] == 0
    assert health.value_part(Decimal(90), Decimal(100)) == (
        25, {"revenue": "90", "revenue_prev": "100", "growth": -10.0})  # fmt: skip
    assert health.value_part(None, None)[0] is None
    assert health.value_part(Decimal(5), Decimal(0))[0] == 100  # new business


def test_satisfaction_service_and_alerts_parts() -> None:
    assert health.satisfaction_part(None)[0] is None
    assert health.satisfaction_part(-100)[0] == 0 and health.satisfaction_part(40)[0] == 70
    assert health.service_part(0)[0] == 100 and health.service_part(5)[0] == 0
    assert health.alerts_part(1)[0] == 70 and health.alerts_part(4)[0] == 0


def test_a_part_without_data_is_left_out_and_the_others_count_for_it() -> None:
    parts = {"plan": 100, "players": 100, "freshness": 100, "satisfaction": None,
             "value": 0, "service": 100, "alerts": 100}  # fmt: skip
    # (15+15+15+10+10) * 100 / 85 (value 20 at 0, satisfaction left out)
    assert health.weighted(parts, WEIGHTS) == round(6500 / 85)
    assert health.weighted(dict.fromkeys(WEIGHTS), WEIGHTS) == 0


# --- the job ---------------------------------------------------------------------------------


def _revenue(account: Account, revenue: str, prev: str) -> None:
    add_facts(f"H{account.pk:06d}", months_back(LAST_MONTH, 1))  # the ledger's latest month
    AccountRevenue.objects.update_or_create(account=account, defaults={
        "as_of": LAST_MONTH, "revenue": Decimal(revenue), "revenue_prev": Decimal(prev)})  # fmt: skip


def test_the_job_stores_a_snapshot_per_account_and_its_parts_explain_the_score(
    plan_a: AccountPlan, account_a: Account, account_b: Account, today: datetime.date
) -> None:
    ContactFactory(account=account_a, buying_role="economic_buyer", last_contacted=today)
    _revenue(account_a, "110000", "100000")
    result = health.health_refresh(today=today)
    assert result.accounts == 2 and result.alerts == 0
    snap = HealthSnapshot.objects.get(account=account_a, day=today)
    parts = snap.parts
    assert parts["plan"]["score"] == 40 and parts["plan"]["facts"]["state"] == "draft"
    assert parts["players"]["score"] == 40  # a decision maker, no coach, no buyer
    assert parts["freshness"]["score"] == 100  # the one key contact, contacted today
    assert parts["satisfaction"]["score"] is None  # no survey: left out
    assert parts["value"]["score"] == 75 and parts["value"]["facts"]["growth"] == 10.0
    expected = round((15 * 40 + 15 * 40 + 15 * 100 + 20 * 75 + 10 * 100 + 10 * 100) / 85)
    assert snap.score == expected
    assert AccountHealth.objects.get(account=account_a).score == expected
    # Run again the same day: replaced, not doubled.
    health.health_refresh(today=today)
    assert HealthSnapshot.objects.filter(account=account_a).count() == 1


def test_the_job_reads_a_batch_in_the_same_queries_whatever_its_size(
    today: datetime.date, monkeypatch: pytest.MonkeyPatch
) -> None:
    def accounts(n: int) -> list[int]:
        out = []
        for _ in range(n):
            account = AccountFactory(tier=1)
            ContactFactory(account=account, buying_role="coach")
            out.append(account.pk)
        return out

    few, many = accounts(2), accounts(12)
    with CaptureQueriesContext(connection) as one:
        health.health_refresh(today=today, account_ids=few)
    with CaptureQueriesContext(connection) as more:
        health.health_refresh(today=today, account_ids=many)
    assert len(one) == len(more)
    # Batches of 5: three batches, each the same number of queries again.
    monkeypatch.setattr(health, "BATCH", 5)
    with CaptureQueriesContext(connection) as batched:
        result = health.health_refresh(today=today, account_ids=many)
    assert result.accounts == 12
    per_batch = len(one) - 1  # the settings and rules are read once
    assert len(batched) <= 3 * per_batch + 4


def test_a_drop_beyond_the_threshold_raises_one_alert_in_the_inbox(
    account_a: Account, director: User, today: datetime.date
) -> None:
    HealthSnapshot.objects.create(account=account_a, day=today - datetime.timedelta(days=1),
                                  score=95, parts={})  # fmt: skip
    result = health.health_refresh(today=today, account_ids=[account_a.pk])
    score = HealthSnapshot.objects.get(account=account_a, day=today).score
    assert 95 - score >= 15 and result.alerts == 1
    alert = Alert.objects.get(kind="health", account=account_a)
    assert alert.params["from"] == 95 and alert.params["to"] == score
    assert f"fell from 95 to {score}" in alert_text(alert)
    # While it is unresolved, a further fall raises no second alert.
    health.health_refresh(today=today + datetime.timedelta(days=1), account_ids=[account_a.pk])
    assert Alert.objects.filter(kind="health").count() == 1
    inbox = client_for(director).get("/segmentation/alerts/").content.decode()
    assert "fell from 95" in inbox


def test_a_drop_below_the_threshold_raises_nothing(account_a: Account, director: User,
                                                   today: datetime.date) -> None:  # fmt: skip
    health.settings_set(by=director, weights=WEIGHTS, drop_alert=100)
    HealthSnapshot.objects.create(account=account_a, day=today - datetime.timedelta(days=1),
                                  score=95, parts={})  # fmt: skip
    assert health.health_refresh(today=today).alerts == 0
    assert not Alert.objects.exists()


def test_the_command_prints_a_summary_and_stores_nothing_on_a_dry_run(
    account_a: Account, today: datetime.date
) -> None:
    out = io.StringIO()
    call_command("health", "--json", "--dry-run", stdout=out)
    assert json.loads(out.getvalue()) == {"day": "2026-07-15", "accounts": 1, "alerts": 0,
                                          "dry_run": True}  # fmt: skip
    assert not HealthSnapshot.objects.exists()
    call_command("health", "--date", "2026-07-01", stdout=io.StringIO())
    assert HealthSnapshot.objects.get().day == datetime.date(2026, 7, 1)


# --- the directors' weights ------------------------------------------------------------------


@pytest.mark.parametrize(("weights", "drop", "field"), [
    ({**WEIGHTS, "plan": -5, "value": 40}, 15, "w_plan"),
    ({**WEIGHTS, "plan": 50}, 15, "__all__"),
    ({**WEIGHTS, "plan": 0, "players": 0, "freshness": 0, "satisfaction": 0, "value": 0,
      "service": 0, "alerts": 0}, 15, "__all__"),
    (WEIGHTS, 0, "drop_alert"),
    (WEIGHTS, 101, "drop_alert"),
])  # fmt: skip
def test_bad_weights_and_thresholds_are_refused_and_nothing_is_stored(
    director: User, weights: dict[str, int], drop: int, field: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        health.settings_set(by=director, weights=weights, drop_alert=drop)
    assert field in exc.value.message_dict
    assert not HealthSettings.objects.exists()


def test_the_settings_page_refuses_a_bad_sum_in_chinese_and_directors_only_save(
    director: User, owner: User
) -> None:
    form = {f"w_{p}": str(w) for p, w in WEIGHTS.items()} | {"drop_alert": "20", "w_plan": "30"}
    page = client_for(director, "zh-hans").post("/planning/health-settings/", form)
    assert page.status_code == 200 and "权重之和必须为 100" in page.content.decode()
    assert not HealthSettings.objects.exists()
    form["w_plan"] = "15"
    assert client_for(owner).post("/planning/health-settings/", form).status_code == 403
    assert client_for(director).post("/planning/health-settings/", form).status_code == 302
    assert health.settings_get().drop_alert == 20
    html = client_for(owner).get("/planning/health-settings/").content.decode()
    assert 'id="health-weights"' in html and 'id="health-settings-form"' not in html


# --- pages, list and API ---------------------------------------------------------------------


def test_the_account_page_and_the_health_page_explain_each_part(
    account_a: Account, owner: User, today: datetime.date
) -> None:
    for days in (60, 30):
        HealthSnapshot.objects.create(account=account_a, day=today - datetime.timedelta(days=days),
                                      score=80, parts={})  # fmt: skip
    health.health_refresh(today=today)
    html = client_for(owner).get(f"/accounts/{account_a.pk}/").content.decode()
    assert 'id="account-health-panel"' in html and "No current account plan." in html
    assert "Write this year" in html and "planning/health.js" in html
    page = client_for(owner).get(f"/planning/accounts/{account_a.pk}/health/").content.decode()
    assert 'id="health-history"' in page and page.count("<tr><td>2026-0") == 3
    zh = client_for(owner, "zh-hans").get(f"/planning/accounts/{account_a.pk}/health/")
    assert "客户健康度" in zh.content.decode()


def test_the_account_list_shows_the_score_and_sorts_by_it_unscored_last(
    account_a: Account, director: User, today: datetime.date
) -> None:
    low, high, none = (
        AccountFactory(name="甲低分"),
        AccountFactory(name="乙高分"),
        AccountFactory(name="丙无分"),
    )
    for account, score in ((low, 20), (high, 90), (account_a, 50)):
        AccountHealth.objects.create(account=account, day=today, score=score)
    client = client_for(director)
    for sort, order in (("health_score", [low, account_a, high, none]),
                        ("-health_score", [high, account_a, low, none])):  # fmt: skip
        html = client.get(f"/accounts/?sort={sort}").content.decode()
        positions = [html.index(a.name) for a in order]
        assert positions == sorted(positions), sort
    assert f'href="/planning/accounts/{high.pk}/health/">90<' in html


def test_the_api_gives_health_with_parts_and_history_and_404_for_a_foreign_account(
    account_a: Account, account_b: Account, owner: User, api_as: Callable[..., Any],
    today: datetime.date,
) -> None:  # fmt: skip
    HealthSnapshot.objects.create(account=account_a, day=today - datetime.timedelta(days=30),
                                  score=70, parts={})  # fmt: skip
    health.health_refresh(today=today)
    body = api_as(owner).get(f"/planning/accounts/{account_a.pk}/health").json()
    assert body["day"] == "2026-07-15" and [h["score"] for h in body["history"]][0] == 70
    assert [p["part"] for p in body["parts"]] == list(WEIGHTS)
    assert body["parts"][0]["todo"]  # no plan: write one
    foreign = api_as(owner).get(f"/planning/accounts/{account_b.pk}/health")
    missing = api_as(owner).get("/planning/accounts/99999999/health")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


def test_an_account_never_scored_is_computed_on_its_page(account_a: Account, owner: User) -> None:
    html = client_for(owner).get(f"/planning/accounts/{account_a.pk}/health/").content.decode()
    assert "computed now (not stored yet)" in html and not HealthSnapshot.objects.exists()


def test_the_demo_writes_two_months_of_history_and_a_drop_alert(
    owner: User, department: User, director: User, today: datetime.date
) -> None:
    from kam.planning import demo
    from tests.factories import BillingCodeFactory, TeamMembershipFactory

    months = months_back(LAST_MONTH, 24)
    for i in range(4):
        account = AccountFactory(tier=1 + i % 2)
        TeamMembershipFactory(account=account, user=owner, role="owner")
        add_facts(BillingCodeFactory(account=account, code=f"YJH{i:04d}").code, months)
    line = demo.demo_load(seed=1, as_of=LAST_MONTH, progress=lambda *a: None)
    assert "Health: 4 accounts scored with 9 weeks of history" in line
    for account in Account.objects.all():
        days = list(HealthSnapshot.objects.filter(account=account).values_list("day", flat=True))
        assert (
            len(days) == 10
            and max(days) == today
            and min(days) <= today - datetime.timedelta(days=60)
        )
    assert Alert.objects.filter(kind="health").count() >= 1
    demo.demo_wipe(lambda *a: None)
    assert not HealthSnapshot.objects.exists() and not AccountHealth.objects.exists()


def test_the_account_api_list_carries_the_score_and_sorts_by_it(
    account_a: Account, director: User, api_as: Callable[..., Any], today: datetime.date
) -> None:
    other = AccountFactory(name="乙高分")
    AccountHealth.objects.create(account=account_a, day=today, score=30)
    AccountHealth.objects.create(account=other, day=today, score=90)
    AccountFactory(name="丙无分")
    items = api_as(director).get("/accounts", {"sort": "-health_score"}).json()["items"]
    assert [i["health_score"] for i in items] == [90, 30, None]
