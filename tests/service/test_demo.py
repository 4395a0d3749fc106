"""The service demo data: cases in every state, some over their SLA, an answered
campaign; loading twice adds nothing; wiping removes it."""

import datetime

import pytest

from kam.core.models import Role
from kam.service import demo
from kam.service.models import Campaign, Case, CaseEvent, Response, SlaPolicy
from tests.factories import AccountFactory, ContactFactory, TeamMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_demo_loads_once_and_wipes(owner, department) -> None:
    department.username = "dept1"
    department.save()
    reps = [UserFactory(role=Role.SERVICE) for _ in range(2)]
    for i in range(12):
        account = AccountFactory(tier=1 + i % 3)
        TeamMembershipFactory(account=account, user=owner, role="owner")
        ContactFactory(account=account)
    line = demo.demo_load(seed=1, as_of=datetime.date(2026, 6, 30), progress=lambda *a: None)
    assert line.startswith("service:")
    statuses = set(Case.objects.values_list("status", flat=True))
    assert {"new", "acknowledged", "closed"} <= statuses
    assert SlaPolicy.objects.count() == len(demo.POLICIES)
    assert Campaign.objects.count() == 2 and Response.objects.exists()
    # Cases typed by the owner went to the service team by rule, both reps taking turns
    # (survey follow-ups go to the owner; an SLA policy may re-assign a violated case
    # later): a service rep's queue is not empty.
    first = CaseEvent.objects.filter(kind="assigned", data__rule__isnull=False)
    assert first.count() == Case.objects.exclude(channel="survey").count()
    assert {e.data["to_user"] for e in first} == {r.pk for r in reps}
    assert Case.objects.filter(assignee__in=reps, status__in=["new", "acknowledged"]).exists()
    count = Case.objects.count()
    demo.demo_load(seed=1, as_of=datetime.date(2026, 6, 30), progress=lambda *a: None)
    assert Case.objects.count() == count
    demo.demo_wipe(None)
    assert not Case.objects.exists() and not SlaPolicy.objects.exists()
