"""The pages, through the client with CSRF enforced, for the personas."""

import datetime
from typing import Any

import pytest
from django.test import Client
from icalendar import Calendar

from kam.accounts.models import Account, Contact
from kam.core.models import User
from kam.coverage import services
from kam.coverage.models import FollowUp, Visit, VisitReport
from tests.conftest import CSRF_SECRET

pytestmark = pytest.mark.django_db


def client_for(user: User | None) -> Client:
    client = Client(enforce_csrf_checks=True, headers={"Accept-Language": "en"})
    if user is not None:
        client.force_login(user)
    client.cookies["csrftoken"] = CSRF_SECRET
    return client


def post(client: Client, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, {"csrfmiddlewaretoken": CSRF_SECRET, **data})


def _report_data(today: datetime.date, **changes: Any) -> dict[str, Any]:
    data = {
        "visited_on": today.isoformat(), "purpose": "季度回顾", "summary": "讨论了旺季运力",
        "finding-TOTAL_FORMS": "3", "finding-INITIAL_FORMS": "0",
        "finding-0-kind": "price", "finding-0-severity": "3", "finding-0-text": "竞争对手报价低5%",
        "follow-TOTAL_FORMS": "3", "follow-INITIAL_FORMS": "0",
    }  # fmt: skip
    data.update(changes)
    return data


def test_owner_files_a_report_from_the_planned_visit(
    visit: Visit, owner: User, contact_a: Contact, today: datetime.date
) -> None:
    client = client_for(owner)
    page = client.get(f"/coverage/reports/new/?visit={visit.pk}")
    assert page.status_code == 200 and contact_a.name in page.content.decode()
    response = post(client, f"/coverage/reports/new/?visit={visit.pk}", _report_data(
        today, contacts=[str(contact_a.pk)], **{"follow-0-title": "发报价",
        "follow-0-owner": str(owner.pk), "follow-0-due_date": "2026-07-20"}))  # fmt: skip
    report = VisitReport.objects.get()
    assert response.status_code == 302 and response.url == f"/coverage/reports/{report.pk}/"
    assert report.findings.get().kind == "price"
    assert report.follow_ups.get().owner == owner


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"visited_on": "2026-07-16"}, "A visit dated in the future"),
        ({"follow-0-title": "发报价", "follow-0-due_date": "2026-07-20"}, "has no owner"),
        ({"follow-0-title": "发报价", "follow-0-owner": "OWNER",
          "follow-0-due_date": "2026-07-14"}, "before the visit"),
    ],
)  # fmt: skip
def test_bad_reports_are_refused_with_the_message_on_the_page(
    visit: Visit, owner: User, today: datetime.date, changes: dict[str, str], message: str
) -> None:
    changes = {k: str(owner.pk) if v == "OWNER" else v for k, v in changes.items()}
    response = post(client_for(owner), f"/coverage/reports/new/?visit={visit.pk}",
                    _report_data(today, **changes))  # fmt: skip
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not VisitReport.objects.exists()
    visit.refresh_from_db()
    assert visit.status == Visit.Status.PLANNED


def test_attendees_of_another_account_are_refused_on_the_page(
    visit: Visit, owner: User, contact_b: Contact, today: datetime.date
) -> None:
    response = post(client_for(owner), f"/coverage/reports/new/?visit={visit.pk}",
                    _report_data(today, contacts=[str(contact_b.pk)]))  # fmt: skip
    assert response.status_code == 200
    assert "Attendees must be contacts of this account" in response.content.decode()
    assert not VisitReport.objects.exists()


def test_outsider_gets_404_for_visits_and_reports(visit: Visit, report: VisitReport,
                                                  outsider: User) -> None:  # fmt: skip
    client = client_for(outsider)
    assert client.get(f"/coverage/reports/new/?visit={visit.pk}").status_code == 404
    assert client.get(f"/coverage/reports/{report.pk}/").status_code == 404
    follow_up = report.follow_ups.get()
    assert client.get(f"/coverage/follow-ups/{follow_up.pk}/").status_code == 404
    assert (
        post(client, f"/coverage/visits/{visit.pk}/move/", {"day": "2026-07-16"}).status_code == 404
    )


def test_the_queue_is_the_departments(report: VisitReport, department: User, owner: User,
                                      analyst: User) -> None:  # fmt: skip
    page = client_for(department).get("/coverage/queue/")
    assert page.status_code == 200
    html = page.content.decode()
    assert report.visit.account.name in html and "发送冷链报价" in html
    assert client_for(owner).get("/coverage/queue/").status_code == 404
    assert client_for(analyst).get("/coverage/queue/").status_code == 404


def test_the_department_reviews_reassigns_and_closes(
    report: VisitReport, follow_up: FollowUp, department: User, colleague: User,
    account_b: Account,
) -> None:  # fmt: skip
    client = client_for(department)
    assert post(client, f"/coverage/reports/{report.pk}/review/", {}).status_code == 302
    report.refresh_from_db()
    assert report.status == VisitReport.Status.REVIEWED
    url = f"/coverage/follow-ups/{follow_up.pk}/"
    response = post(client, url, {"status": "cancelled", "owner": str(follow_up.owner_id),
                                  "due_date": "2026-07-17", "cancel_reason": ""})  # fmt: skip
    assert response.status_code == 200 and "Say why" in response.content.decode()
    response = post(client, url, {"status": "done", "owner": str(colleague.pk),
                                  "due_date": "2026-07-17"})  # fmt: skip
    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.status == "done" and follow_up.owner == colleague


def test_the_owner_may_not_cancel(follow_up: FollowUp, owner: User) -> None:
    response = post(client_for(owner), f"/coverage/follow-ups/{follow_up.pk}/",
                    {"status": "cancelled", "cancel_reason": "x"})  # fmt: skip
    assert response.status_code == 200  # "cancelled" is not among the owner's choices
    follow_up.refresh_from_db()
    assert follow_up.status == "open"


def test_director_generates_a_plan_on_the_page(director: User, account_a: Account,
                                               owner: User) -> None:  # fmt: skip
    client = client_for(director)
    assert client.get("/coverage/plan/").status_code == 200
    response = post(client, "/coverage/plan/", {"start": "2026-07-06", "weeks": "4"})
    assert response.status_code == 302
    assert Visit.objects.filter(account=account_a).count() == 4
    page = client.get("/coverage/plan/").content.decode()
    assert 'id="plan-placed">4<' in page


def test_a_manager_cannot_generate_a_plan(owner: User) -> None:
    response = post(client_for(owner), "/coverage/plan/", {"start": "2026-07-06", "weeks": "4"})
    assert response.status_code == 403
    assert not Visit.objects.exists()


def test_a_plan_of_zero_weeks_is_refused_on_the_page(director: User) -> None:
    response = post(client_for(director), "/coverage/plan/", {"start": "2026-07-06", "weeks": "0"})
    assert response.status_code == 200 and not Visit.objects.exists()


def test_calendar_week_and_month_and_moving(visit: Visit, owner: User, department: User) -> None:
    client = client_for(owner)
    week = client.get("/coverage/calendar/?date=2026-07-15")
    assert week.status_code == 200 and visit.account.name in week.content.decode()
    month = client.get(f"/coverage/calendar/?view=month&date=2026-07-01&person={owner.pk}")
    assert month.status_code == 200 and visit.account.name in month.content.decode()
    response = client.post(f"/coverage/visits/{visit.pk}/move/",
                           {"day": "2026-07-17", "version": "1"},
                           headers={"X-CSRFToken": CSRF_SECRET, "Accept": "application/json"})  # fmt: skip
    assert response.status_code == 200 and response.json()["day"] == "2026-07-17"
    response = client.post(f"/coverage/visits/{visit.pk}/move/", {"day": "2026-07-18"},
                           headers={"X-CSRFToken": CSRF_SECRET, "Accept": "application/json"})  # fmt: skip
    assert response.status_code == 400 and "not a working day" in response.json()["detail"]
    dept = client_for(department).get("/coverage/calendar/?person=all&date=2026-07-15")
    assert visit.account.name in dept.content.decode()
    # A manager cannot open a colleague's calendar.
    assert client.get(f"/coverage/calendar/?person={department.pk}").status_code == 404


def test_ical_feed_without_a_session(visit: Visit, owner: User) -> None:
    _feed, token = services.feed_token_renew(user=owner)
    response = Client().get(f"/coverage/ical/{token}.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    events = list(cal.walk("VEVENT"))
    assert [str(e["summary"]) for e in events] == [visit.account.name]
    assert events[0].decoded("dtstart") == visit.day
    assert Client().get("/coverage/ical/wrong-token.ics").status_code == 404


def test_renewing_the_link_kills_the_old_one(owner: User) -> None:
    _feed, old = services.feed_token_renew(user=owner)
    post(client_for(owner), "/coverage/calendar/renew-link/", {})
    assert Client().get(f"/coverage/ical/{old}.ics").status_code == 404


def test_team_page_assigns_and_sets_capacity(department: User, owner: User) -> None:
    client = client_for(department)
    assert client.get("/coverage/team/").status_code == 200
    response = post(client, "/coverage/team/", {"action": "capacity", "user": str(owner.pk),
                                                "visits_per_day": "0"})  # fmt: skip
    assert response.status_code == 200 and "at least one visit" in response.content.decode()
    response = post(client, "/coverage/team/", {"action": "capacity", "user": str(owner.pk),
                                                "visits_per_day": "4"})  # fmt: skip
    assert response.status_code == 302
    response = post(client, "/coverage/team/", {"action": "assign", "user": str(owner.pk),
                                                "kind": "territory", "province_code": "440000"})  # fmt: skip
    assert response.status_code == 302
    page = client.get("/coverage/team/").content.decode()
    assert "Guangdong" in page


def test_policy_page_publishes_a_version_and_refuses_zero(director: User, owner: User) -> None:
    client = client_for(director)
    page = client.get("/coverage/policy/?edit=1")
    assert page.status_code == 200
    current = services.policy_current()
    rules = list(current.rules.all())
    data: dict[str, str] = {"rule-TOTAL_FORMS": str(len(rules)), "rule-INITIAL_FORMS": str(len(rules)),
                            "note": "测试"}  # fmt: skip
    for i, r in enumerate(rules):
        for f in ("tier", "category", "coverage_model", "cadence_days", "executive_every",
                  "survey_months"):  # fmt: skip
            data[f"rule-{i}-{f}"] = str(getattr(r, f))
    # The blank extra row as the browser sends it (select defaults, no cadence) is no rule.
    n = len(rules)
    data["rule-TOTAL_FORMS"] = str(n + 1)
    data.update({f"rule-{n}-tier": "1", f"rule-{n}-category": "", f"rule-{n}-cadence_days": "",
                 f"rule-{n}-coverage_model": "resident", f"rule-{n}-executive_every": "0",
                 f"rule-{n}-survey_months": "12"})  # fmt: skip
    data["rule-0-cadence_days"] = "0"
    response = post(client, "/coverage/policy/", data)
    assert response.status_code == 200 and "at least one day" in response.content.decode()
    assert services.policy_current() == current
    data["rule-0-cadence_days"] = "5"
    assert post(client, "/coverage/policy/", data).status_code == 302
    assert services.policy_current().rules.get(tier=1, category="").cadence_days == 5
    assert post(client_for(owner), "/coverage/policy/", data).status_code == 403


def test_dashboard_measures(report: VisitReport, follow_up: FollowUp, department: User,
                            owner: User, time_machine: Any) -> None:  # fmt: skip
    services.follow_up_update(by=department, follow_up=follow_up, status="done")
    page = client_for(department).get("/coverage/dashboard/?start=2026-07-01&end=2026-07-31")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="coverage-chart-data"' in html and 'id="m-median">0<' in html
    assert client_for(owner).get("/coverage/dashboard/").status_code == 404


def test_the_account_page_shows_visits_and_follow_ups(report: VisitReport, owner: User,
                                                      colleague: User) -> None:  # fmt: skip
    account = report.visit.account
    html = client_for(owner).get(f"/accounts/{account.pk}/").content.decode()
    assert 'id="visit-timeline"' in html and "季度业务回顾" in html and "发送冷链报价" in html


def test_my_follow_ups(follow_up: FollowUp, owner: User, colleague: User) -> None:
    assert "发送冷链报价" in client_for(owner).get("/coverage/follow-ups/").content.decode()
    assert "发送冷链报价" not in client_for(colleague).get("/coverage/follow-ups/").content.decode()


def test_list_pages_query_counts_do_not_grow(report: VisitReport, department: User,
                                             django_assert_max_num_queries: Any) -> None:  # fmt: skip
    client = client_for(department)
    with django_assert_max_num_queries(20):
        client.get("/coverage/queue/")


def test_far_off_days_on_pages_do_not_crash(director: User) -> None:
    client = client_for(director)
    assert client.get("/coverage/dashboard/?end=0001-01-01").status_code == 200
    assert client.get("/coverage/calendar/?date=0001-01-01&view=month").status_code == 200
    assert client.get("/coverage/calendar/?date=9999-12-31").status_code == 200
    assert client.get("/coverage/team/?start=9999-12-31").status_code == 200
    response = post(client, "/coverage/plan/", {"start": "0001-01-01", "weeks": "1"})
    assert response.status_code == 200 and "between 2000 and 2100" in response.content.decode()
