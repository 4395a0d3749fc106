"""The coverage demo: a policy, assignments, past visits with reports and follow-ups (some
overdue and escalated), a 12-week plan; idempotent; wiped by demo_wipe."""

import datetime

import pytest
import time_machine

from kam.accounts.models import TeamRole
from kam.core.models import Role
from kam.coverage import demo
from kam.coverage.models import Assignment, FollowUp, PolicyVersion, Visit, VisitPlan, VisitReport
from tests.factories import AccountFactory, ContactFactory, TeamMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_demo_load_and_wipe() -> None:
    UserFactory(username="dept1", role=Role.DEPARTMENT)
    managers = [UserFactory(username=f"manager{i}", role=Role.MANAGER) for i in range(1, 13)]
    for i in range(60):
        account = AccountFactory(tier=1 + i % 3)
        TeamMembershipFactory(account=account, user=managers[i % 12], role=TeamRole.OWNER)
        ContactFactory(account=account)
    as_of = datetime.date(2026, 6, 30)
    line = demo.demo_load(seed=42, as_of=as_of, progress=lambda *a: None)
    assert line.startswith("Coverage: policy v1")
    assert PolicyVersion.objects.count() == 1 and Assignment.objects.exists()
    assert VisitReport.objects.count() == 40  # every tier 1-2 account owned by a manager
    assert Visit.objects.filter(status="done", report__isnull=True, day__lte=as_of).exists()
    plan = VisitPlan.objects.get()
    assert plan.start == as_of + datetime.timedelta(days=1) and plan.placed > 0
    overdue = FollowUp.objects.filter(status__in=["open", "in_progress"], due_date__lt=as_of)
    assert overdue.exists() and overdue.filter(escalation__gte=1).count() == overdue.count()
    assert demo.demo_load(seed=42, as_of=as_of, progress=lambda *a: None).endswith("loaded.")
    demo.demo_wipe(lambda *a: None)
    assert not Visit.objects.exists() and not PolicyVersion.objects.exists()


def test_demo_opened_after_the_data_end_has_the_days_between_reported() -> None:
    """The plan starts the day after the data's end; opened a few days later, the visits
    planned for the days in between were made and reported (nine in ten), not all missed;
    today's and later visits are still planned."""
    UserFactory(username="dept1", role=Role.DEPARTMENT)
    managers = [UserFactory(username=f"manager{i}", role=Role.MANAGER) for i in range(1, 7)]
    for i in range(60):
        account = AccountFactory(tier=1 + i % 3)
        TeamMembershipFactory(account=account, user=managers[i % 6], role=TeamRole.OWNER)
    as_of = datetime.date(2026, 6, 30)
    today = datetime.date(2026, 7, 8)
    with time_machine.travel(datetime.datetime(2026, 7, 8, 10, tzinfo=datetime.UTC), tick=False):
        line = demo.demo_load(seed=42, as_of=as_of, progress=lambda *a: None)
    between = Visit.objects.filter(day__gt=as_of, day__lt=today)
    assert between.count() >= 10, line
    reported = between.filter(report__isnull=False).count()
    assert 0.75 * between.count() <= reported < between.count()
    assert f"{reported} planned visits since the data's end reported" in line
    assert not Visit.objects.filter(day__gte=today, report__isnull=False).exists()
    assert not Visit.objects.filter(day__gte=today).exclude(status="planned").exists()


def test_demo_opened_long_after_the_data_end_reports_nothing_new() -> None:
    managers = [UserFactory(username=f"manager{i}", role=Role.MANAGER) for i in range(1, 4)]
    for i in range(12):
        account = AccountFactory(tier=1)
        TeamMembershipFactory(account=account, user=managers[i % 3], role=TeamRole.OWNER)
    as_of = datetime.date(2026, 6, 30)
    with time_machine.travel(datetime.datetime(2026, 9, 1, 10, tzinfo=datetime.UTC), tick=False):
        line = demo.demo_load(seed=42, as_of=as_of, progress=lambda *a: None)
    assert "; 0 planned visits since the data's end reported" in line
    assert not Visit.objects.filter(day__gt=as_of, report__isnull=False).exists()
