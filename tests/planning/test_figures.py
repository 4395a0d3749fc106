"""The situation and objectives' progress are read from the ledger's facts at view time:
when new facts arrive, progress moves; nothing is retyped."""

import datetime
from decimal import Decimal

import pytest

from kam.accounts.models import Account
from kam.core.models import User
from kam.planning import selectors, services
from kam.planning.models import AccountPlan
from tests.planning.conftest import LAST_MONTH, add_facts, months_back

pytestmark = pytest.mark.django_db


def test_an_objectives_progress_moves_when_new_facts_arrive(
    plan_a: AccountPlan, owner: User, facts_a: None, today: datetime.date
) -> None:
    # 12 x CNY 10,000 over the trailing months: the baseline. Target: +60,000 by year end.
    services.objective_add(by=owner, plan=plan_a, metric="revenue", baseline=Decimal("120000"),
                           target=Decimal("180000"), target_date=datetime.date(2026, 12, 31))  # fmt: skip
    before = selectors.plan_rows([plan_a], owner, today=today)[0].objectives[0].progress
    assert before.current == Decimal("120000.00") and before.share == 0
    assert before.status == "off_track"  # half the year gone, nothing gained
    # July's waybills are imported: CNY 50,000 in the month; the trailing 12 months end
    # with July now (July 2025 drops out): two thirds of the way, more than the time gone.
    add_facts("YJ0591001", [datetime.date(2026, 7, 1)], revenue="50000.00")
    after = selectors.plan_rows([plan_a], owner, today=today)[0].objectives[0].progress
    assert after.current == Decimal("160000.00")
    assert round(after.share, 3) == 0.667
    assert after.status == "on_track"


def test_the_situation_is_filled_from_the_data(
    plan_a: AccountPlan, owner: User, facts_a: None, account_a: Account, today: datetime.date
) -> None:
    account_a.logistics_spend_estimate = Decimal("600000")
    account_a.save()
    plan_a.refresh_from_db()
    s = selectors.situation(owner, plan_a, today=today)
    assert s.period == (datetime.date(2025, 7, 1), LAST_MONTH)
    assert s.figures.values["revenue"] == Decimal("120000.00")
    assert s.figures.values["waybills"] == 1200
    assert s.figures.values["margin"] == Decimal("36000.00")
    assert s.figures.values["on_time"] == Decimal("95.0")
    assert s.figures.values["products"] == 1
    assert s.growth["revenue"] == 0.0
    assert s.share_of_wallet == 20.0
    assert s.tier == 1 and s.stage
    assert s.open_cases == 0 and s.nps is None


def test_without_an_estimate_share_of_wallet_is_not_estimated(
    plan_a: AccountPlan, owner: User, today: datetime.date
) -> None:
    s = selectors.situation(owner, plan_a, today=today)
    assert s.share_of_wallet is None
    assert s.period is None and s.figures.values.get("revenue") is None


def test_a_group_plan_adds_up_the_accounts_the_user_sees(
    account_a: Account, account_b: Account, owner: User, director: User, today: datetime.date
) -> None:
    from tests.factories import GroupFactory

    group = GroupFactory(name="明达集团")
    Account.objects.filter(pk__in=[account_a.pk, account_b.pk]).update(group=group)
    from tests.factories import BillingCodeFactory

    BillingCodeFactory(account=account_b, code="YJ0202002")
    add_facts("YJ0591001", months_back(LAST_MONTH, 12))
    add_facts("YJ0202002", months_back(LAST_MONTH, 12), revenue="5000.00")
    plan = services.plan_create(by=director, group=group, year=2026, kind="expand", owner=director)
    assert selectors.figures_for([plan], selectors.accounts_of([plan], director))[plan.pk].values[
        "revenue"
    ] == Decimal("180000.00")
    # Group plans are for those who see every account; figures for someone who sees
    # account_a only would be of account_a alone.
    assert not selectors.plan_list_for(owner).filter(pk=plan.pk).exists()
    mine = selectors.figures_for([plan], selectors.accounts_of([plan], owner))[plan.pk]
    assert mine.values["revenue"] == Decimal("120000.00")
