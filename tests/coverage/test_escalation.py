"""Overdue follow-ups escalate: a reminder to the owner, then their manager and the
department, in the product and by e-mail. The clock is moved with time-machine."""

import datetime
from io import StringIO
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command

from kam.core.models import Notification, User
from kam.coverage import services
from kam.coverage.models import FollowUp
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=False)


def _at(time_machine: Any, day: datetime.date) -> None:
    """10:00 Beijing time on ``day``."""
    time_machine.move_to(datetime.datetime.combine(day, datetime.time(2, 0), datetime.UTC),
                         tick=False)  # fmt: skip


def _escalate(django_capture_on_commit_callbacks: Any) -> str:
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("coverage", "escalate", stdout=out)
    return out.getvalue()


def test_reminder_then_escalation_then_nothing_more(
    follow_up: FollowUp, owner: User, department: User, time_machine: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    boss = UserFactory(username="boss", role="manager")
    owner.manager = boss
    owner.save()
    due = follow_up.due_date  # Friday 2026-07-17

    _at(time_machine, due)  # due today: not overdue yet
    assert "Reminded 0" in _escalate(django_capture_on_commit_callbacks)
    assert not Notification.objects.exists() and not mail.outbox

    _at(time_machine, due + datetime.timedelta(days=3))  # Monday: one working day late
    assert "Reminded 1 owners; escalated 0" in _escalate(django_capture_on_commit_callbacks)
    assert list(Notification.objects.values_list("user__username", flat=True)) == ["owner"]
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert "发送冷链报价" in mail.outbox[0].subject
    follow_up.refresh_from_db()
    assert follow_up.escalation == 1

    _at(time_machine, due + datetime.timedelta(days=4))  # a reminder goes out once
    _escalate(django_capture_on_commit_callbacks)
    assert Notification.objects.count() == 1

    _at(time_machine, due + datetime.timedelta(days=6))  # Thursday: three working days late
    assert "escalated 1" in _escalate(django_capture_on_commit_callbacks)
    told = set(Notification.objects.filter(kind="coverage.follow_up_escalated")
               .values_list("user__username", flat=True))  # fmt: skip
    assert told == {"boss", "department"}
    assert sorted(m.to[0] for m in mail.outbox[1:]) == sorted([boss.email, department.email])
    assert Notification.objects.get(user=boss).url == f"/coverage/follow-ups/{follow_up.pk}/"

    _at(time_machine, due + datetime.timedelta(days=20))
    _escalate(django_capture_on_commit_callbacks)
    assert Notification.objects.count() == 3  # nothing repeats


def test_closed_follow_ups_do_not_escalate(
    follow_up: FollowUp, department: User, time_machine: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    services.follow_up_update(by=department, follow_up=follow_up, status="done")
    _at(time_machine, follow_up.due_date + datetime.timedelta(days=30))
    assert "Reminded 0 owners; escalated 0" in _escalate(django_capture_on_commit_callbacks)


def test_a_new_due_date_starts_the_reminders_afresh(
    follow_up: FollowUp, department: User, time_machine: Any,
) -> None:  # fmt: skip
    _at(time_machine, follow_up.due_date + datetime.timedelta(days=3))
    services.escalate_overdue()
    follow_up.refresh_from_db()
    assert follow_up.escalation == 1
    services.follow_up_update(by=department, follow_up=follow_up,
                              due_date=follow_up.due_date + datetime.timedelta(days=10))  # fmt: skip
    follow_up.refresh_from_db()
    assert follow_up.escalation == 0
