"""Money is exact: the facts reconcile to the cent with the accepted rows, on random data.

Hypothesis draws waybills (codes, Beijing months, money with two decimals written the ways
people write it, optional cost and COD, times with or without a UTC offset); each example
imports them into an empty lake and compares every fact with sums computed here with
``Decimal``. A second property imports the same rows in two halves: the facts are those
of one import, and months the second half does not touch are not rebuilt.
"""

import shutil
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from kam.ledger.contract import PRODUCTS
from kam.ledger.models import AccountMonth, FactFile, ImportBatch, LakeFile
from tests.ledger.conftest import good_row, import_file, lane_facts, write_waybills

pytestmark = pytest.mark.django_db

CODES = ("YJ0591001", "K-001", "K-002", "BIG_CODE_3")
PLACES = ("福州", "上海", "440300")
CENT = Decimal("0.01")
FULL_WIDTH = str.maketrans("0123456789.,", "０１２３４５６７８９．，")


def spell(cents: int, style: int) -> str:
    """An amount of money as a carrier's export or a person might write it."""
    plain = f"{Decimal(cents) * CENT:.2f}"
    grouped = f"{Decimal(cents) * CENT:,.2f}"
    return [
        plain,
        grouped,
        f"¥{plain}",
        f"{grouped}元",
        plain.rstrip("0").rstrip(".") if "." in plain else plain,
        grouped.translate(FULL_WIDTH),
    ][style]


@dataclass(frozen=True)
class Waybill:
    code: str
    beijing: datetime  # the ship time on Beijing's clock
    with_offset: bool  # written as UTC with 'Z' rather than Beijing wall time
    freight: int  # cents
    surcharges: int | None
    cost: int | None
    cod: int | None
    weight: int  # grams
    lane: tuple[str, str]
    styles: tuple[int, int, int, int]

    @property
    def month(self) -> str:
        return self.beijing.strftime("%Y-%m")

    @property
    def revenue(self) -> Decimal:
        return (self.freight + (self.surcharges or 0)) * CENT

    def row(self, i: int) -> dict[str, str]:
        if self.with_offset:
            ship = (self.beijing - timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M:%SZ")
        else:
            ship = self.beijing.strftime("%Y-%m-%d %H:%M:%S")
        optional = [
            None if v is None else spell(v, s)
            for v, s in zip((self.surcharges, self.cost, self.cod), self.styles[1:], strict=True)
        ]
        return good_row(
            i,
            billing_code=self.code,
            ship_time=ship,
            freight=spell(self.freight, self.styles[0]),
            surcharges=optional[0] or "",
            cost=optional[1] or "",
            cod_amount=optional[2] or "",
            weight_kg=f"{Decimal(self.weight) / 1000:.3f}",
            origin=self.lane[0],
            destination=self.lane[1],
        )


def beijing_time(month: int, day: int, hour: int, minute: int) -> datetime:
    """Month 0 is 2024-01; the time is Beijing's wall clock (naive on purpose)."""
    return datetime(2024 + month // 12, month % 12 + 1, day, hour, minute)  # noqa: DTZ001


money = st.integers(min_value=0, max_value=100_000_000)  # up to 1,000,000.00 per waybill
optional_money = st.one_of(st.none(), money)
waybills = st.builds(
    Waybill,
    code=st.sampled_from(CODES),
    # Months from 2024-01 to 2026-10; the first and last hours of a month are drawn often.
    beijing=st.builds(
        beijing_time,
        st.integers(0, 33),
        st.sampled_from([1, 1, 2, 15, 28]),
        st.sampled_from([0, 0, 7, 8, 12, 23, 23]),
        st.integers(0, 59),
    ),
    with_offset=st.booleans(),
    freight=money,
    surcharges=optional_money,
    cost=optional_money,
    cod=optional_money,
    weight=st.integers(0, 10_000_000),
    lane=st.tuples(st.sampled_from(PLACES), st.sampled_from(PLACES)),
    styles=st.tuples(*[st.integers(0, 5)] * 4),
)


def reset_ledger() -> None:
    """Each Hypothesis example starts from an empty lake and no facts."""
    FactFile.objects.all().delete()
    AccountMonth.objects.all().delete()
    LakeFile.objects.all().delete()
    ImportBatch.objects.all().delete()
    shutil.rmtree(settings.LAKE_DIR, ignore_errors=True)


def write(folder: Path, name: str, items: list[Waybill], start: int = 1) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return write_waybills(folder / name, [w.row(start + i) for i, w in enumerate(items)])


def expected_facts(items: list[Waybill]) -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {
            "waybills": 0,
            "revenue": Decimal("0.00"),
            "cost": Decimal("0.00"),
            "margin": Decimal("0.00"),
            "cod_amount": Decimal("0.00"),
            "weight_kg": Decimal("0.000"),
            "costed_waybills": 0,
            "lanes": set(),
            "destination_cities": set(),
            "active_days": set(),
        }  # fmt: skip
    )
    for w in items:
        fact = out[(w.code, w.month)]
        fact["waybills"] += 1
        fact["lanes"].add(w.lane)
        fact["destination_cities"].add(w.lane[1])
        fact["active_days"].add(w.beijing.date())
        fact["revenue"] += w.revenue
        fact["weight_kg"] += Decimal(w.weight) / 1000
        if w.cost is not None:
            fact["cost"] += w.cost * CENT
            fact["margin"] += w.revenue - w.cost * CENT
            fact["costed_waybills"] += 1
        if w.cod is not None:
            fact["cod_amount"] += w.cod * CENT
    for fact in out.values():  # distinct counts (the facts count them with a day bit mask)
        for key in ("lanes", "destination_cities", "active_days"):
            fact[key] = len(fact[key])
    return dict(out)


def stored_facts() -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (f.billing_code, f.month.strftime("%Y-%m")): {
            "waybills": f.waybills,
            "revenue": f.revenue,
            "cost": f.cost,
            "margin": f.margin,
            "cod_amount": f.cod_amount,
            "weight_kg": f.weight_kg,
            "costed_waybills": f.costed_waybills,
            "lanes": f.lanes,
            "destination_cities": f.destination_cities,
            "active_days": f.active_days,
        }  # fmt: skip
        for f in AccountMonth.objects.all()
    }


def sum_of(model: type, field: str) -> Decimal:
    return sum((getattr(o, field) for o in model.objects.all()), Decimal("0.00"))


@hypothesis_settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(waybills, min_size=1, max_size=40))
def test_facts_reconcile_to_the_cent_with_the_accepted_rows(
    tmp_path: Path, items: list[Waybill]
) -> None:
    reset_ledger()
    batch = import_file(write(tmp_path / "in", "random.csv", items))
    assert batch.status == ImportBatch.Status.COMMITTED, (batch.error_code, batch.error_params)
    assert (batch.accepted, batch.rejected) == (len(items), 0)

    expected = expected_facts(items)
    assert stored_facts() == expected  # per billing code and month, every money column exact
    assert sum_of(AccountMonth, "revenue") == sum((w.revenue for w in items), Decimal("0.00"))
    assert sum_of(AccountMonth, "cost") == sum(
        (w.cost * CENT for w in items if w.cost is not None), Decimal("0.00")
    )
    assert sum_of(AccountMonth, "cod_amount") == sum(
        (w.cod * CENT for w in items if w.cod is not None), Decimal("0.00")
    )
    assert sum(f.waybills for f in AccountMonth.objects.all()) == len(items)
    # The product mix splits the same revenue. Lanes keep those used at least twice in a
    # code's month (at most 9 places here, so the top-10 cut never bites): exactly their revenue.
    products = sum((sum_of(AccountMonth, f"{p}_revenue") for p in PRODUCTS), Decimal("0.00"))
    assert products == sum_of(AccountMonth, "revenue")
    assert sum(
        sum(getattr(f, f"{p}_waybills") for p in PRODUCTS) for f in AccountMonth.objects.all()
    ) == len(items)
    lane_groups: dict[tuple[str, str, str, str], list[Decimal]] = {}
    for w in items:
        lane_groups.setdefault((w.code, w.month, *w.lane), []).append(w.revenue)
    repeated = [sum(r, Decimal("0.00")) for r in lane_groups.values() if len(r) >= 2]
    lanes = lane_facts()
    assert sum((lane["revenue"] for lane in lanes), Decimal("0.00")) == sum(
        repeated, Decimal("0.00")
    )
    assert len(lanes) == len(repeated)
    assert sorted(batch.months) == sorted({w.month for w in items})


@hypothesis_settings(max_examples=5, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(waybills, min_size=2, max_size=30), cut=st.floats(0.1, 0.9))
def test_two_halves_give_the_facts_of_one_import_and_rebuild_only_touched_months(
    tmp_path: Path, items: list[Waybill], cut: float
) -> None:
    reset_ledger()
    import_file(write(tmp_path / "whole", "all.csv", items))
    whole = stored_facts()

    reset_ledger()
    k = max(1, int(len(items) * cut))
    import_file(write(tmp_path / "halves", "first.csv", items[:k]))
    ids_before = {
        (f.billing_code, f.month.strftime("%Y-%m")): f.pk for f in AccountMonth.objects.all()
    }
    second = import_file(write(tmp_path / "halves", "second.csv", items[k:], start=k + 1))
    assert second.accepted == len(items) - k
    assert sorted(second.months) == sorted({w.month for w in items[k:]})

    assert stored_facts() == whole
    ids_after = {
        (f.billing_code, f.month.strftime("%Y-%m")): f.pk for f in AccountMonth.objects.all()
    }
    for key, pk in ids_before.items():
        if key[1] not in second.months:
            assert ids_after[key] == pk, key  # an untouched month keeps its rows
        else:
            assert ids_after[key] != pk, key  # a touched month is rebuilt


def test_big_amounts_and_many_rows_reconcile_exactly(tmp_path: Path) -> None:
    """Amounts with many digits and sums over thousands of rows, where a float would drift."""
    import random

    rng = random.Random(20260105)
    items = [
        Waybill(
            code=CODES[i % 4],
            beijing=datetime(2026, 1 + i % 10, 1 + i % 28, i % 24, 0),  # noqa: DTZ001 - Beijing wall time
            with_offset=bool(i % 2),
            freight=rng.randrange(0, 10**12),  # up to 10,000,000,000.00
            surcharges=rng.choice([None, rng.randrange(0, 10**4)]),
            cost=rng.choice([None, rng.randrange(0, 10**10)]),
            cod=None,
            weight=rng.randrange(0, 10**8),
            lane=("福州", "上海"),
            styles=(i % 6, 0, 1, 0),
        )
        for i in range(3000)
    ]
    batch = import_file(write(tmp_path / "in", "big.csv", items))
    assert batch.accepted == 3000
    assert stored_facts() == expected_facts(items)
    total = sum((w.revenue for w in items), Decimal("0.00"))
    assert sum_of(AccountMonth, "revenue") == total
    assert total != Decimal(sum(float(w.revenue) for w in items)).quantize(
        CENT
    )  # floats would not do
