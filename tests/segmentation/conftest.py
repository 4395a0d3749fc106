"""Monthly facts for the segmentation tests, written straight into the ledger's table.

``facts(code, revenues)`` stores one AccountMonth per month, the last one being ``LAST``
(2026-06); a revenue of ``None`` is a month without a row (a gap).
"""

import datetime
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from kam.accounts.models import Account
from kam.core.models import User
from kam.ledger.models import AccountMonth
from kam.segmentation import services
from kam.segmentation.models import Run
from tests.factories import AccountFactory, BillingCodeFactory

LAST = datetime.date(2026, 6, 1)


def month(offset: int) -> datetime.date:
    """The month ``offset`` months before LAST."""
    index = LAST.year * 12 + LAST.month - 1 - offset
    return datetime.date(index // 12, index % 12 + 1, 1)


def store(code: str, revenues: Sequence[float | None], *, active_days: int = 5) -> None:
    rows = []
    n = len(revenues)
    for i, revenue in enumerate(revenues):
        if revenue is None:
            continue
        value = Decimal(str(revenue)).quantize(Decimal("0.01"))
        waybills = max(1, int(abs(revenue) // 10))
        rows.append(AccountMonth(
            billing_code=code, month=month(n - 1 - i), waybills=waybills, pieces=waybills,
            weight_kg=Decimal("1.000"), revenue=value, cost=value * Decimal("0.7"),
            margin=value * Decimal("0.3"), costed_waybills=waybills, cod_amount=Decimal(0),
            returns=0, lost=0, damaged=0, on_time=0, lanes=1, destination_cities=1,
            active_days=active_days,
        ))  # fmt: skip
    AccountMonth.objects.bulk_create(rows)


@pytest.fixture
def facts(db: None) -> Callable[..., None]:
    return store


@pytest.fixture
def english() -> Iterator[None]:
    """Messages in English for assertions on their words."""
    with translation.override("en"):
        yield


@pytest.fixture
def portfolio(account_a: Account, account_b: Account, department: User) -> dict[str, Any]:
    """account_a declines sharply; account_b grows; ten ordinary accounts; awkward ones; and
    billing codes outside the archive, one of them small but growing fast."""
    store("YJ0591001", [20000.0] * 21 + [4000.0] * 3)
    BillingCodeFactory(account=account_b, code="YJ0202001")
    store("YJ0202001", [3000.0 + 300 * i for i in range(24)])
    for i in range(10):
        code = f"YJ77000{i:02d}"
        BillingCodeFactory(account=AccountFactory(tier=3), code=code)
        store(code, [800.0 + 150 * i] * 24)
    odd = {
        "one_month": [None] * 23 + [900.0],
        "no_revenue": [0.0] * 24,
        "refunds": [None] * 12 + [100.0, -400.0] + [None] * 10,
        "gaps": [500.0, None] * 12,
    }
    accounts = {}
    for name, revenues in odd.items():
        accounts[name] = AccountFactory(tier=2, name=f"{name}有限公司")
        BillingCodeFactory(account=accounts[name], code=f"YJODD{name.upper()}"[:20])
        store(f"YJODD{name.upper()}"[:20], revenues)
    for i in range(20):
        store(f"YJU{i:05d}", [200.0 + 40 * i] * 24)
    store("YJFASTGROW", [200.0] * 12 + [200.0 * 1.2**k for k in range(1, 13)])
    return {"odd": accounts}


@pytest.fixture
def run(portfolio: dict[str, Any], settings: Any) -> Run:
    settings.LANGUAGE_CODE = "en"
    new = services.run_create(trigger=Run.Trigger.MANUAL)
    return services.run_execute(run=new)
