"""The service app in the browser, the issue's "Done when": a complaint is opened,
acknowledged, paused, escalated by a moved clock, resolved and closed; a survey campaign
is sent and answered through the public link (no login, on a phone, in English), and its
low score opens a case for the account owner."""

import datetime
import re
from collections.abc import Callable

import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from kam.accounts.models import Account, Contact
from kam.core.models import Notification, Role, User
from kam.core.services import user_create
from kam.service.models import Action, Case, CaseEvent, Response, RootCause, SlaPolicy

from .support import BROWSER, PASSWORD, PHONE, Console, log_in

pytestmark = BROWSER


def _policy() -> SlaPolicy:
    RootCause.objects.create(code="delay", name_zh="运输延误", name_en="Transit delay")
    return SlaPolicy.objects.create(
        name="1级 · 中", tier=1, severity="medium", clock="business", response_minutes=120,
        resolution_minutes=480, warning_shares=[50, 80], warning_actions=[Action.NOTIFY_ASSIGNEE],
        violation_actions=[Action.NOTIFY_ASSIGNEE, Action.NOTIFY_OWNER, Action.NOTIFY_DEPARTMENT],
    )  # fmt: skip


def test_a_complaint_from_opening_to_closing(
    new_page: Callable[..., Page],
    owner: User,
    account_a: Account,
    contact_a: Contact,
    console: Console,
) -> None:
    console.allow(r"status of 400 .*/service/cases/\d+/action/")  # resolving without a note
    _policy()
    page = new_page()
    log_in(page, owner)
    page.goto(f"/accounts/{account_a.pk}/")
    page.click("#account-case-new")
    page.select_option("#id_kind", "complaint")
    page.select_option("#id_severity", "medium")
    page.fill("#id_subject", "整批货物延误两天")
    page.fill("#id_waybills", "SF1234567890")
    page.check(f"input[name=contacts][value='{contact_a.pk}']")
    page.click("#case-save")
    expect(page).to_have_url(re.compile(r"/service/cases/\d+/$"))
    case = Case.objects.get()
    assert case.policy is not None and case.resolution_target == 480
    expect(page.locator("#clock-response")).to_be_visible()

    page.click("#action-acknowledge")
    expect(page.locator("#case-status")).to_have_text("已受理")
    page.click("#action-wait")
    expect(page.locator("#case-status")).to_have_text("等待客户")
    expect(page.locator("#timeline li[data-kind=paused]")).to_have_count(1)
    page.click("#action-resume")
    expect(page.locator("#timeline li[data-kind=resumed]")).to_have_count(1)

    # The scheduler's tick, ten days later: the resolution clock is long past its target.
    with time_machine.travel(timezone.now() + datetime.timedelta(days=10)):
        call_command("service", "tick")
    page.reload()
    expect(page.locator("#sla-state")).to_be_visible()
    expect(page.locator("#timeline li[data-kind=violation]")).to_have_count(1)
    expect(page.locator("#timeline li[data-kind=warning]")).to_have_count(2)
    assert CaseEvent.objects.filter(case=case, kind="violation", clock="resolution").exists()
    assert Notification.objects.filter(user=owner, kind="service.sla").exists()

    # Resolving without a note is refused with a message; with one it works.
    page.select_option("#id_root_cause", label="运输延误")
    page.click("#action-resolve")
    expect(page.locator("#resolve-form .invalid-feedback")).to_be_visible()
    assert Case.objects.get().status == "in_progress"
    page.select_option("#id_root_cause", label="运输延误")
    page.fill("#id_note", "已与网点核实，补发并致歉。")
    page.click("#action-resolve")
    expect(page.locator("#case-status")).to_have_text("已解决")
    expect(page.locator("#resolution-note")).to_contain_text("补发")
    page.click("#action-close")
    expect(page.locator("#case-status")).to_have_text("已关闭")
    assert Case.objects.get().status == "closed"


def test_a_campaign_is_sent_and_answered_through_the_public_link(
    new_page: Callable[..., Page],
    owner: User,
    account_a: Account,
    contact_a: Contact,
    console: Console,
) -> None:
    console.allow(r"status of (400|410) .*/service/s/")  # an empty answer; the used link
    _policy()
    department = user_create(username="department", role=Role.DEPARTMENT, password=PASSWORD)
    page = new_page()
    log_in(page, department)
    page.goto("/service/surveys/")
    page.click("#campaign-new")
    page.fill("#id_name", "2026 年度征询函")
    page.check("input[name=tiers][value='1']")
    page.click("#campaign-save")
    expect(page).to_have_url(re.compile(r"/service/surveys/\d+/$"))
    page.click("#campaign-send")
    expect(page.locator("#count-invited")).to_have_text("1")
    assert mail.outbox[-1].to == [contact_a.email]
    link = re.search(r"(/service/s/[\w-]+/)", mail.outbox[-1].body).group(1)  # type: ignore[union-attr]

    # The contact, on a phone, not logged in, switches to English and answers.
    phone = new_page(viewport=PHONE)
    phone.goto(link)
    expect(phone.locator("#survey-form")).to_be_visible()
    phone.click("#survey-lang-en")
    expect(phone.locator("#survey-submit")).to_have_text("Submit")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1
    phone.click("#survey-submit")  # nothing chosen: a clear message, nothing stored
    expect(phone.locator("#survey-errors")).to_be_visible()
    assert not Response.objects.exists()
    for key, score in {"function": 4, "quality": 1, "level": 3, "price": 3, "overall": 2}.items():
        phone.click(f"label[for=r-{key}-{score}]")
    phone.click("label[for=nps-3]")
    phone.fill("#comment", "Deliveries were late twice this month.")
    phone.click("#survey-submit")
    expect(phone.locator("#survey-thanks")).to_be_visible()
    phone.goto(link)  # once only
    expect(phone.locator("#survey-closed")).to_have_attribute("data-state", "used")
    expect(phone.locator("#survey-closed")).to_contain_text("already")

    response = Response.objects.get()
    assert response.nps == 3 and response.ratings["quality"] == 1
    follow_up = Case.objects.get()
    assert follow_up.assignee == owner and follow_up.channel == "survey"

    # The low score is in the owner's queue.
    mine = new_page()
    log_in(mine, owner)
    mine.goto("/service/?scope=mine")
    expect(mine.locator(f"#queue-table tr[data-case='{follow_up.pk}']")).to_contain_text("NPS 3/10")
    page.reload()
    expect(page.locator("#count-answered")).to_have_text("1")
    expect(page.locator("#campaign-nps")).to_have_text("-100.0")
