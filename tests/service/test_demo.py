"""The service demo data: cases in every state, some over their SLA, an answered
campaign; loading twice adds nothing; wiping removes it."""

import datetime

import pytest

from kam.service import demo
from kam.service.models import Campaign, Case, Response, SlaPolicy
from tests.factories import AccountFactory, ContactFactory, TeamMembershipFactory

pytestmark = pytest.mark.django_db


def test_demo_loads_once_and_wipes(owner, department) -> None:
    department.username = "dept1"
    department.save()
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
    count = Case.objects.count()
    demo.demo_load(seed=1, as_of=datetime.date(2026, 6, 30), progress=lambda *a: None)
    assert Case.objects.count() == count
    demo.demo_wipe(None)
    assert not Case.objects.exists() and not SlaPolicy.objects.exists()
