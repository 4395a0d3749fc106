"""Fixtures of the planning tests: a clock in July 2026, twelve months of facts for
``account_a`` (the ledger's latest month June 2026), and a plan of ``account_a`` owned by
``owner``, built through the services. Cheap: a few rows each."""

import datetime
from decimal import Decimal
from typing import Any

import pytest

from kam.accounts.models import Account
from kam.core.models import User
from kam.ledger.models import AccountMonth, ImportBatch, LakeFile
from kam.planning import services
from kam.planning.models import AccountPlan

#: A Wednesday in July 2026; the ledger's latest month is June 2026.
TODAY = datetime.date(2026, 7, 15)
LAST_MONTH = datetime.date(2026, 6, 1)


@pytest.fixture
def today(time_machine: Any) -> datetime.date:
    time_machine.move_to(datetime.datetime(2026, 7, 15, 2, 0, tzinfo=datetime.UTC), tick=False)
    return TODAY


def months_back(last: datetime.date, n: int) -> list[datetime.date]:
    index = last.year * 12 + last.month - 1
    return [datetime.date((index - k) // 12, (index - k) % 12 + 1, 1) for k in range(n)][::-1]


def add_facts(code: str, months: list[datetime.date], *, revenue: str = "10000.00",
              waybills: int = 100) -> None:  # fmt: skip
    """One fact row per month (and a lake file naming the month, so that the ledger's
    latest month is the last of them)."""
    batch = ImportBatch.objects.first() or ImportBatch.objects.create(
        source=ImportBatch.Source.CLI, file_name="tests.csv"
    )
    for m in months:
        value = Decimal(revenue)
        AccountMonth.objects.update_or_create(
            billing_code=code, month=m,
            defaults=dict(
                waybills=waybills, pieces=waybills, weight_kg=Decimal("250.000"), revenue=value,
                cost=value * Decimal("0.7"), margin=value * Decimal("0.3"),
                costed_waybills=waybills, cod_amount=Decimal(0), returns=0, lost=0, damaged=0,
                promised=waybills, on_time=waybills - 5, lanes=3, destination_cities=3,
                active_days=20, express_waybills=waybills,
            ),
        )  # fmt: skip
        LakeFile.objects.get_or_create(
            path=f"tests/{m:%Y-%m}.parquet",
            defaults={"batch": batch, "month": f"{m:%Y-%m}", "rows": 1},
        )


@pytest.fixture
def facts_a(account_a: Account) -> None:
    """24 months of CNY 10,000 a month for account_a's billing code (YJ0591001)."""
    add_facts("YJ0591001", months_back(LAST_MONTH, 24))


@pytest.fixture
def plan_a(account_a: Account, owner: User, today: datetime.date) -> AccountPlan:
    return services.plan_create(by=owner, account=account_a, year=2026, kind="expand",
                                owner=owner, ambition="成为客户的首选物流伙伴")  # fmt: skip


@pytest.fixture
def plan_b(account_b: Account, colleague: User, today: datetime.date) -> AccountPlan:
    return services.plan_create(by=colleague, account=account_b, year=2026, kind="retain",
                                owner=colleague, ambition="远航乙方保持份额")  # fmt: skip
