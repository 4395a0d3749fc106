"""An SLA clock that runs into a year whose official holidays have not been entered is
never silent: the case's SLA panel and the API's case say so, and administrators get one
notice (per year, not per case) telling them how to enter the year."""

import datetime
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client

from kam.accounts.models import Account
from kam.core.calendar import working_calendar
from kam.core.models import CalendarDay, Festival, Notification, User
from kam.service import services
from kam.service.models import Case, SlaPolicy

from .conftest import CST

pytestmark = pytest.mark.django_db


def _last_known() -> int:
    return max(working_calendar().known_years)


def _client(user: Any, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    return client


def _late_december_case(account: Account, by: User) -> Case:
    """Opened at 17:00 on the last day of the last known year: 8 business hours reach
    into the next, unknown year."""
    year = _last_known()
    return services.case_open(
        by=by, account=account, kind="complaint", channel="phone", severity="medium",
        subject="跨年投诉", now=datetime.datetime(year, 12, 31, 17, 0, tzinfo=CST),
    )  # fmt: skip


def test_the_sla_panel_says_which_year_is_missing_and_how_to_enter_it(
    account_a, owner, admin, policy
) -> None:
    case = _late_december_case(account_a, owner)
    unknown = _last_known() + 1
    html = _client(owner).get(f"/service/cases/{case.pk}/").content.decode()
    assert 'id="calendar-unconfirmed"' in html and f'data-years="{unknown}"' in html
    assert f"The official holidays of {unknown} have not been entered" in html
    assert "/admin/core/calendarday/" in html and "kam calendar seed" in html
    zh = _client(owner, "zh-hans").get(f"/service/cases/{case.pk}/").content.decode()
    assert f"{unknown} 年的法定节假日尚未录入" in zh


def test_the_api_case_carries_the_unknown_years(api_as, account_a, owner, policy) -> None:
    case = _late_december_case(account_a, owner)
    body = api_as(owner).get(f"/service/cases/{case.pk}").json()
    assert body["calendar_unconfirmed_years"] == [_last_known() + 1]
    assert "kam calendar seed" in body["calendar_notice"]
    listed = api_as(owner).get("/service/cases").json()["items"][0]
    assert listed["calendar_unconfirmed_years"] == [_last_known() + 1]


def test_a_case_inside_known_years_has_no_notice(complaint, owner, api_as, admin) -> None:
    html = _client(owner).get(f"/service/cases/{complaint.pk}/").content.decode()
    assert 'id="calendar-unconfirmed"' not in html
    body = api_as(owner).get(f"/service/cases/{complaint.pk}").json()
    assert body["calendar_unconfirmed_years"] == [] and body["calendar_notice"] == ""
    assert not Notification.objects.filter(kind__startswith="calendar.").exists()


def test_calendar_hours_know_no_holidays_so_no_notice(account_a, owner, policy) -> None:
    SlaPolicy.objects.filter(pk=policy.pk).update(clock="calendar")
    case = _late_december_case(account_a, owner)
    assert case.clock == "calendar"
    html = _client(owner).get(f"/service/cases/{case.pk}/").content.decode()
    assert 'id="calendar-unconfirmed"' not in html


def test_administrators_are_told_once_per_year_not_per_case(
    account_a, owner, admin, policy, department
) -> None:
    _late_december_case(account_a, owner)
    _late_december_case(account_a, owner)
    unknown = _last_known() + 1
    notes = Notification.objects.filter(kind=f"calendar.unconfirmed.{unknown}")
    assert [n.user for n in notes] == [admin]  # administrators only, once
    note = notes.get()
    assert note.url == "/admin/core/calendarday/" and str(unknown) in note.subject
    assert "kam calendar seed" in note.body
    assert account_a.name not in note.body + note.subject  # administrators see no customers
    # The clock tick finds the year too, but the notice is still unread: nothing new.
    with time_machine.travel(datetime.datetime(unknown, 1, 2, 10, tzinfo=CST), tick=False):
        assert services.clocks_tick()["calendar_notices"] == 0
    # Read and a week old: the tick reminds them.
    notes.update(read_at=note.created_at, created_at=note.created_at - datetime.timedelta(days=8))
    with time_machine.travel(datetime.datetime(unknown, 1, 2, 10, tzinfo=CST), tick=False):
        assert services.clocks_tick()["calendar_notices"] == 1


def test_entering_the_year_ends_the_notice(account_a, owner, policy) -> None:
    case = _late_december_case(account_a, owner)
    unknown = _last_known() + 1
    CalendarDay.objects.create(day=datetime.date(unknown, 1, 1), working=False,
                               festival=Festival.NEW_YEAR)  # fmt: skip
    html = _client(owner).get(f"/service/cases/{case.pk}/").content.decode()
    assert 'id="calendar-unconfirmed"' not in html


def test_the_daily_calendar_check_notifies_administrators(admin, capsys) -> None:
    year = _last_known()
    with time_machine.travel(datetime.datetime(year, 12, 1, 8, tzinfo=CST), tick=False):
        call_command("calendar", "check", "--days", "10")
        assert "every year to 10 days ahead is entered" in capsys.readouterr().out
        call_command("calendar", "check", "--days", "60")
        out = capsys.readouterr().out
        assert f"{year + 1}" in out and "Administrators notified: 1." in out
        call_command("calendar", "check", "--days", "60")
        assert "Administrators notified: 0." in capsys.readouterr().out
    assert (
        Notification.objects.filter(user=admin, kind=f"calendar.unconfirmed.{year + 1}").count()
        == 1
    )


@pytest.mark.parametrize("days", ["-1", "4000"])
def test_the_calendar_check_refuses_a_bad_horizon(days: str) -> None:
    with pytest.raises(CommandError, match="--days"):
        call_command("calendar", "check", "--days", days)
