"""Plans a person can drive (base city, road, warnings) and missed visits, through the
database, the pages, the API and the commands."""

import datetime
import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import translation

from kam.accounts.models import Account, TeamRole
from kam.core.calendar import working_calendar
from kam.core.models import Notification, Role, User
from kam.coverage import selectors, services
from kam.coverage.models import Visit
from tests.factories import AccountFactory, TeamMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
D = datetime.date

JINHUA, JINZHOU, HANGZHOU, SHAOXING = "330700", "210700", "330100", "330600"


def _account(owner: User, city: str, name: str, tier: int = 1) -> Account:
    account = AccountFactory(name=name, city_code=city, province_code=city[:2] + "0000",
                             tier=tier)  # fmt: skip
    TeamMembershipFactory(account=account, user=owner, role=TeamRole.OWNER)
    return account


def _known_monday() -> D:
    """A Monday in the last year whose holidays are entered, away from holidays."""
    year = max(working_calendar().known_years)
    day = D(year, 6, 8)
    return day + datetime.timedelta(days=-day.weekday())


# --- plans a person can drive ----------------------------------------------------------------


def test_a_plan_starts_the_day_at_the_base_city_and_never_mixes_far_cities(
    department: User,
) -> None:
    manager = UserFactory(username="jinhua", role=Role.MANAGER, base_city_code=JINHUA)
    near = _account(manager, JINHUA, "金华客户")
    far = _account(manager, JINZHOU, "锦州客户")
    plan = services.plan_generate(by=department, start=_known_monday(), weeks=2)
    days = {v.account_id: v.day for v in Visit.objects.filter(plan=plan)}
    # 锦州 is 1,600 km away: a trip with a night there, never on a day with 金华.
    assert near.pk in days and far.pk in days and days[near.pk] != days[far.pk]
    assert plan.km > 2 * 1500


def test_without_a_base_city_the_day_starts_where_most_accounts_are(department: User) -> None:
    manager = UserFactory(username="hz", role=Role.MANAGER)  # no base city
    for n in range(3):
        _account(manager, HANGZHOU, f"杭州客户{n}", tier=2)
    _account(manager, SHAOXING, "绍兴客户", tier=2)
    plan = services.plan_generate(by=department, start=_known_monday(), weeks=2)
    assert plan.placed == plan.due == 4
    # Only the day that goes to 绍兴 drives: there and back from 杭州 (about 112 km).
    assert 100 < plan.km < 125


def test_a_plan_into_a_year_without_holidays_says_so_everywhere(
    department: User, owner: User, account_a: Account, api_as: Any
) -> None:
    year = max(working_calendar().known_years) + 1
    start = D(year, 1, 5)
    response = api_as(department).post("/coverage/plans", {"start": start.isoformat(), "weeks": 2})
    assert response.status_code == 201, response.content
    (warning,) = response.json()["warnings"]
    assert warning["code"] == "calendar_unconfirmed" and warning["years"] == [year]
    assert (
        "kam calendar seed" in warning["message"]
        and "/admin/core/calendarday/" in warning["message"]
    )
    assert api_as(department).get("/coverage/plans/latest").json()["warnings"] == [warning]


def test_the_plan_page_and_command_warn_of_a_year_without_holidays(
    department: User, account_a: Account, client: Client
) -> None:
    year = max(working_calendar().known_years) + 1
    client.force_login(department)
    response = client.post("/coverage/plan/", {"start": f"{year}-01-05", "weeks": 2},
                           follow=True, HTTP_ACCEPT_LANGUAGE="zh-hans")  # fmt: skip
    html = response.content.decode()
    assert 'id="plan-warning-calendar_unconfirmed"' in html and str(year) in html
    out, err = io.StringIO(), io.StringIO()
    call_command("plan", "visits", "--start", f"{year}-01-05", "--weeks", "2", stdout=out,
                 stderr=err)  # fmt: skip
    assert f"official holidays of {year} have not been entered" in err.getvalue()
    assert "kam calendar seed" in err.getvalue()
    call_command("plan", "visits", "--start", f"{year}-01-05", "--weeks", "2", "--json",
                 stdout=(out := io.StringIO()))  # fmt: skip
    assert json.loads(out.getvalue())["warnings"][0]["years"] == [year]


def test_a_plan_inside_known_years_has_no_warning(department: User, account_a: Account) -> None:
    plan = services.plan_generate(by=department, start=_known_monday(), weeks=2)
    assert selectors.plan_warnings(plan) == []


def test_cities_without_coordinates_are_named_in_the_warnings(department: User) -> None:
    manager = UserFactory(username="x", role=Role.MANAGER)
    _account(manager, "", "无城市客户")
    plan = services.plan_generate(by=department, start=_known_monday(), weeks=1)
    assert plan.placed == 1
    assert [w["code"] for w in selectors.plan_warnings(plan)] == ["unknown_cities"]


# --- missed visits ------------------------------------------------------------------------------


@pytest.fixture
def past_visits(account_a: Account, owner: User, today: D) -> list[Visit]:
    """Two planned visits before today without a report, and one today."""
    return [
        Visit.objects.create(account=account_a, person=owner, day=today - datetime.timedelta(days=d),
                             city_code="350100")
        for d in (8, 1, 0)
    ]  # fmt: skip


def test_a_planned_visit_in_the_past_reads_as_missed_before_the_job_runs(
    past_visits: list[Visit],
    owner: User,
    colleague: User,
    department: User,
    today: D,
    api_as: Any,
) -> None:
    assert [v.shown_status for v in past_visits] == ["missed", "missed", "planned"]
    rows = api_as(owner).get("/coverage/visits").json()["items"]
    assert [r["status"] for r in rows] == ["missed", "missed", "planned"]
    assert list(selectors.missed_visits_for(owner)) == past_visits[1::-1]  # newest first
    assert list(selectors.missed_visits_for(department)) == past_visits[1::-1]
    assert not selectors.missed_visits_for(colleague).exists()  # not their accounts


def test_the_job_marks_missed_visits_and_alerts_once_after_n_in_a_row(
    past_visits: list[Visit], owner: User, department: User, today: D, settings: Any
) -> None:
    settings.KAM_MISSED_VISITS_ALERT = 2
    counts = services.visits_mark_missed(today=today, email=False)
    assert counts == {"missed": 2, "alerted": 1}
    assert sorted(Visit.objects.values_list("status", flat=True)) == ["missed", "missed", "planned"]
    alerts = Notification.objects.filter(kind="coverage.visits_missed")
    assert {n.user_id for n in alerts} == {owner.pk, department.pk}
    assert "福建明达电子有限公司" in alerts.first().subject
    # Idempotent: a second run marks and alerts nothing more.
    assert services.visits_mark_missed(today=today, email=False) == {"missed": 0, "alerted": 0}
    assert alerts.count() == 2


def test_one_missed_visit_is_below_the_alert_and_a_report_ends_the_run(
    past_visits: list[Visit], owner: User, today: D, settings: Any
) -> None:
    settings.KAM_MISSED_VISITS_ALERT = 3
    assert services.visits_mark_missed(today=today, email=False)["alerted"] == 0
    # A late report on a missed visit makes it done.
    services.report_submit(by=owner, account=past_visits[1].account, visit=past_visits[1],
                           visited_on=today, purpose="补访", summary="补交走访记录")  # fmt: skip
    past_visits[1].refresh_from_db()
    assert past_visits[1].status == "done"


def test_a_missed_visit_can_be_moved_to_another_day_and_is_planned_again(
    past_visits: list[Visit], owner: User, today: D
) -> None:
    services.visits_mark_missed(today=today, email=False)
    moved = services.visit_move(
        by=owner, visit=past_visits[0], day=today + datetime.timedelta(days=1)
    )
    assert moved.status == "planned"


def test_missed_visits_count_in_the_coverage_measures(
    past_visits: list[Visit], department: User, today: D, api_as: Any
) -> None:
    data = selectors.measures(department, start=today - datetime.timedelta(days=30), end=today)
    assert data["missed"] == 2
    assert [r["missed"] for r in data["by_person"] if r["key"] == "客户经理张"] == [2]
    body = api_as(department).get("/coverage/measures").json()
    assert body["missed"] == 2


def test_the_command_runs_the_job(past_visits: list[Visit], today: D) -> None:
    out = io.StringIO()
    call_command("coverage", "missed", "--json", stdout=out)
    assert json.loads(out.getvalue())["missed"] == 2


# --- the calendar -----------------------------------------------------------------------------


def test_the_month_opens_on_the_current_month_in_shanghai(
    owner: User, client: Client, time_machine: Any
) -> None:
    # 2026-11-30 20:00 UTC is Tuesday 1 December, 04:00 in Shanghai; its week starts on
    # Monday 30 November, in the previous month.
    time_machine.move_to(datetime.datetime(2026, 11, 30, 20, 0, tzinfo=datetime.UTC), tick=False)
    client.force_login(owner)
    week = client.get("/coverage/calendar/").content.decode()
    assert 'name="date" value="2026-12-01"' in week  # switching to the month keeps today
    month = client.get("/coverage/calendar/", {"view": "month", "date": "2026-12-01"})
    assert month.context["start"] == D(2026, 12, 1)
    assert client.get("/coverage/calendar/", {"view": "month"}).context["start"] == D(2026, 12, 1)


def test_the_calendar_warns_of_a_year_without_holidays(owner: User, client: Client) -> None:
    year = max(working_calendar().known_years) + 1
    client.force_login(owner)
    with translation.override("en"):
        html = client.get("/coverage/calendar/", {"view": "month", "date": f"{year}-03-01"},
                          HTTP_ACCEPT_LANGUAGE="en").content.decode()  # fmt: skip
    assert 'id="calendar-warning"' in html and f"{year}" in html
    known = max(working_calendar().known_years)
    html = client.get("/coverage/calendar/", {"view": "month", "date": f"{known}-03-01"}).content
    assert b'id="calendar-warning"' not in html


def test_the_calendar_shows_missed_visits_as_missed(
    past_visits: list[Visit], owner: User, client: Client
) -> None:
    client.force_login(owner)
    html = client.get("/coverage/calendar/", {"view": "month"}, HTTP_ACCEPT_LANGUAGE="en")
    assert html.content.decode().count("kam-visit-missed") == 2


# --- the department's queue -------------------------------------------------------------------


def test_the_queue_pages_every_report_with_a_count_and_sorts(
    department: User,
    owner: User,
    account_a: Account,
    client: Client,
    django_assert_max_num_queries: Any,
    today: D,
) -> None:
    for n in range(60):
        services.report_submit(by=owner, account=account_a, visited_on=today,
                               purpose=f"走访{n:02d}", summary="记录")  # fmt: skip
    client.force_login(department)
    with django_assert_max_num_queries(25):
        first = client.get("/coverage/queue/")
    html = first.content.decode()
    assert 'id="queue-report-count">60<' in html and "走访00" in html and "走访59" not in html
    last = client.get("/coverage/queue/", {"rpage": 3}).content.decode()
    assert "走访59" in last and "走访00" not in last  # the newest report is reachable
    newest = client.get("/coverage/queue/", {"rsort": "-submitted"}).content.decode()
    assert "走访59" in newest
    # An unknown sort falls back to the oldest first.
    assert "走访00" in client.get("/coverage/queue/", {"rsort": "nonsense"}).content.decode()


def test_the_dashboard_shows_the_missed_visits(
    past_visits: list[Visit], department: User, client: Client
) -> None:
    client.force_login(department)
    html = client.get("/coverage/dashboard/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "2 planned visits missed" in html


def test_every_policy_version_is_reachable(director: User, client: Client) -> None:
    for n in range(27):
        services.policy_publish(by=director, rules_in=services.DEFAULT_RULES, note=f"版本说明{n}")
    client.force_login(director)
    first = client.get("/coverage/policy/").content.decode()
    assert "版本说明26 ·" in first and "版本说明0 ·" not in first and ">27<" in first
    assert "版本说明0 ·" in client.get("/coverage/policy/", {"page": 2}).content.decode()
