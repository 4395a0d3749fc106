"""The issue's "done when" path in a browser: a director generates a plan, an account
manager files the visit report on a phone, its follow-up lands in the department's queue,
goes overdue with a moved clock, escalates, and is closed. And a visit moves by dragging."""

import datetime
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import Page, expect

from kam.accounts.models import Account, Contact
from kam.core.models import Notification, Role, User
from kam.core.services import user_create
from kam.coverage.models import FollowUp, Visit, VisitReport

from .support import BROWSER, PASSWORD, PHONE, log_in

pytestmark = BROWSER

#: A Wednesday in the future (so that cookies set by the moved server clock stay valid).
DAY = datetime.date(2030, 6, 12)

OVERFLOWING = """() => [...document.querySelectorAll("body *")]
  .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
  .filter((el) => !el.closest(".table-responsive"))
  .slice(0, 8)
  .map((el) => `${el.tagName.toLowerCase()}#${el.id}.${[...el.classList].join(".")}`)"""


def _clock(time_machine: Any, day: datetime.date) -> None:
    """10:00 Beijing time on ``day``, ticking."""
    time_machine.move_to(datetime.datetime.combine(day, datetime.time(2, 0), datetime.UTC))


@pytest.fixture
def dept(db: None) -> User:
    return user_create(username="dept", role=Role.DEPARTMENT, password=PASSWORD,
                       display_name="大客户部李静", email="dept@carrier.example")  # fmt: skip


def test_plan_report_on_a_phone_queue_overdue_escalate_close(
    new_page: Callable[..., Page], time_machine: Any, director: User, owner: User, dept: User,
    account_a: Account, contact_a: Contact,
) -> None:  # fmt: skip
    _clock(time_machine, DAY)
    boss = user_create(username="boss", role=Role.MANAGER, password=PASSWORD,
                       email="boss@carrier.example")  # fmt: skip
    owner.manager = boss
    owner.email = "owner@carrier.example"
    owner.save()

    # 1. The director generates a four-week plan: account A (tier 1) weekly.
    page = new_page()
    log_in(page, director)
    page.goto("/coverage/plan/")
    page.fill("#id_start", DAY.isoformat())
    page.fill("#id_weeks", "4")
    page.click("#plan-generate")
    expect(page.locator("#plan-placed")).to_have_text("4")
    visit = Visit.objects.filter(account=account_a).order_by("day").first()
    assert visit is not None and visit.day == DAY and visit.person == owner

    # 2. The account manager files the report from a phone-sized window.
    phone = new_page(viewport=PHONE)
    log_in(phone, owner)
    phone.goto(f"/coverage/calendar/?date={DAY.isoformat()}")
    card = phone.locator(f'.kam-visit[data-visit="{visit.pk}"]')
    card.locator("summary").click()
    card.locator(".kam-report-link").click()
    expect(phone).to_have_url(re.compile(rf"/coverage/reports/new/\?visit={visit.pk}$"))
    assert phone.evaluate(OVERFLOWING) == []
    phone.fill("#id_purpose", "季度业务回顾")
    phone.fill("#id_summary", "客户计划扩大华南仓配，需要冷链方案。")
    phone.check(f"#contact-{contact_a.pk}")
    phone.select_option("#id_finding-0-kind", "need")
    phone.select_option("#id_finding-0-severity", "3")
    phone.fill("#id_finding-0-text", "需要冷链仓配一体化方案")
    phone.fill("#id_follow-0-title", "发送冷链方案与报价")
    phone.select_option("#id_follow-0-owner", str(owner.pk))
    phone.fill("#id_follow-0-due_date", (DAY + datetime.timedelta(days=2)).isoformat())
    phone.click("#report-submit")
    expect(phone).to_have_url(re.compile(r"/coverage/reports/\d+/$"))
    report = VisitReport.objects.get()
    assert list(report.contacts.all()) == [contact_a]
    follow_up = FollowUp.objects.get()

    # 3. It lands in the department's queue; the department reviews the report.
    desk = new_page()
    log_in(desk, dept)
    desk.goto("/coverage/queue/")
    expect(desk.locator("#queue-follow-ups")).to_contain_text("发送冷链方案与报价")
    desk.locator("#queue-reports a", has_text=account_a.name).click()
    desk.click("#review-button")
    expect(desk).to_have_url(re.compile(r"/coverage/queue/$"))
    expect(desk.locator("#queue-reports .kam-empty")).to_be_visible()

    # 4. A week and a half later it is overdue; the scheduler's run escalates it.
    _clock(time_machine, DAY + datetime.timedelta(days=12))
    call_command("coverage", "escalate")
    call_command("coverage", "escalate")  # a second run changes nothing
    follow_up.refresh_from_db()
    assert follow_up.escalation == 2
    told = set(Notification.objects.values_list("user__username", flat=True))
    assert told == {"owner", "boss", "dept"}
    assert {m.to[0] for m in mail.outbox} == {"owner@carrier.example", "boss@carrier.example",
                                              "dept@carrier.example"}  # fmt: skip
    desk = new_page()  # the sessions of twelve days ago have expired
    log_in(desk, dept)
    desk.goto("/coverage/queue/?overdue=1")
    row = desk.locator("#follow-up-table tbody tr", has_text="发送冷链方案与报价")
    expect(row).to_have_class(re.compile("table-danger"))
    row.locator("a").click()
    expect(desk.locator("#follow-up-escalation")).not_to_have_text("—")

    # 5. The department closes it.
    desk.select_option("#id_status", "done")
    desk.click("#follow-up-save")
    expect(desk.locator("#follow-up-status")).to_have_text("已完成")
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.DONE and follow_up.closed_by == dept


def test_a_visit_moves_by_drag_and_drop(
    new_page: Callable[..., Page], time_machine: Any, owner: User, account_a: Account
) -> None:
    _clock(time_machine, DAY)
    visit = Visit.objects.create(account=account_a, person=owner, day=DAY,
                                 city_code=account_a.city_code)  # fmt: skip
    page = new_page(locale="en-US")
    log_in(page, owner)
    page.goto(f"/coverage/calendar/?date={DAY.isoformat()}")
    friday = (DAY + datetime.timedelta(days=2)).isoformat()
    page.drag_and_drop(f'.kam-visit[data-visit="{visit.pk}"]', f'.kam-cal-day[data-day="{friday}"]')
    expect(page.locator(f'.kam-cal-day[data-day="{friday}"] .kam-visit')).to_have_count(1)
    visit.refresh_from_db()
    assert visit.day.isoformat() == friday and visit.version == 2
