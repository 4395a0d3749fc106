"""The planning demo: plans with objectives, actions and items for the top accounts, in
several states; loading twice adds nothing; wiping removes it."""

import datetime

import pytest

from kam.accounts.models import TeamRole
from kam.core.models import User
from kam.planning import demo
from kam.planning.models import AccountPlan, Action, Objective, Opportunity, PlanItem
from tests.factories import AccountFactory, BillingCodeFactory, TeamMembershipFactory
from tests.planning.conftest import LAST_MONTH, add_facts, months_back

pytestmark = pytest.mark.django_db


def test_demo_loads_once_and_wipes(
    owner: User, department: User, director: User, today: datetime.date
) -> None:
    months = months_back(LAST_MONTH, 24)
    for i in range(4):
        account = AccountFactory(tier=1 + i % 2)
        TeamMembershipFactory(account=account, user=owner, role=TeamRole.OWNER)
        add_facts(BillingCodeFactory(account=account, code=f"YJD{i:04d}").code, months)
    line = demo.demo_load(seed=1, as_of=LAST_MONTH, progress=lambda *a: None)
    assert line.startswith("Planning: 4 account plans")
    assert AccountPlan.objects.count() == 4
    # Every plan has measurable objectives (from the facts), actions and an analysis.
    for plan in AccountPlan.objects.all():
        assert plan.objectives.exists() and plan.actions.count() == 4 and plan.items.count() == 8
    assert Objective.objects.filter(metric="revenue").count() == 4
    assert len(set(AccountPlan.objects.values_list("status", flat=True))) > 1
    assert Opportunity.objects.filter(account__plans__isnull=False).distinct().count() >= 4
    assert len(set(Opportunity.objects.values_list("stage", flat=True))) > 1
    assert demo.demo_load(seed=1, as_of=LAST_MONTH, progress=lambda *a: None).endswith("loaded.")
    assert AccountPlan.objects.count() == 4
    demo.demo_wipe(lambda *a: None)
    assert not AccountPlan.objects.exists() and not Action.objects.exists()
    assert not PlanItem.objects.exists() and not Opportunity.objects.exists()
