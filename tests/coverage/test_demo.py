"""The coverage demo: a policy, assignments, past visits with reports and follow-ups (some
overdue and escalated), a 12-week plan; idempotent; wiped by demo_wipe."""

import datetime

import pytest

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
