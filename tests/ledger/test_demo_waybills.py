"""``kam demo`` waybills: two years of shipments through the real import, shaped like a carrier's.

A small demo (120 companies, about 12,000 waybills) keeps each test to a few seconds; the
generator's rules do not depend on the size.
"""

import datetime
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum
from django.test import override_settings

from kam.accounts.models import BillingCode
from kam.ledger import demo, lake, selectors
from kam.ledger.models import AccountMonth, ImportBatch, LakeFile
from tests.conftest import TEST_FIELD_KEY

# A fixed reference date: without --as-of the demo ends with last month.
SMALL = ("--companies", "120", "--waybills", "12000", "--seed", "7", "--as-of", "2026-06-30")


def run_demo(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("demo", *SMALL, *args, "--json", stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: Any) -> Any:
    return tmp_path_factory.mktemp("demo")


@pytest.fixture(autouse=True)
def _lake_in_tmp(settings: Any, demo_folder: Any) -> None:
    """The module's tests share one lake: the demo is built once, for the whole module."""
    settings.LAKE_DIR = demo_folder / "lake"
    settings.FILE_UPLOAD_TEMP_DIR = str(demo_folder / "uploads")
    settings.DUCKDB_MEMORY_LIMIT = "1GB"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.SEGMENT_AFTER_IMPORT = False


@pytest.fixture(scope="module")
def _built(
    django_db_setup: Any, django_db_blocker: Any, demo_folder: Any
) -> Iterator[dict[str, Any]]:
    """The small demo, built once and rolled back at the end of the module."""
    quiet = {
        "LAKE_DIR": demo_folder / "lake",
        "FILE_UPLOAD_TEMP_DIR": str(demo_folder / "uploads"),
        "DUCKDB_MEMORY_LIMIT": "1GB",
        "SEGMENT_AFTER_IMPORT": False,
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        "FIELD_KEYS": [TEST_FIELD_KEY],
        "TASKS": {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}},
    }
    with django_db_blocker.unblock(), override_settings(**quiet), transaction.atomic():
        yield run_demo()
        transaction.set_rollback(True)


@pytest.fixture
def loaded(_built: dict[str, Any], db: None) -> dict[str, Any]:
    return _built


def facts_totals() -> list[tuple[Any, ...]]:
    return list(
        AccountMonth.objects.order_by("billing_code", "month").values_list(
            "billing_code", "month", "waybills", "revenue", "cost", "cod_amount", "lanes"
        )
    )


def revenue_by_month() -> dict[datetime.date, Decimal]:
    rows = AccountMonth.objects.values("month").annotate(revenue=Sum("revenue"))
    return {r["month"]: r["revenue"] for r in rows}


def demo_batches() -> Any:
    return ImportBatch.objects.filter(source=ImportBatch.Source.DEMO).order_by("pk")


def test_demo_imports_two_years_of_waybills_a_batch_per_quarter(loaded: dict[str, Any]) -> None:
    waybills = loaded["waybills"]
    batches = list(demo_batches())

    assert waybills["loaded"] is True
    assert waybills["batches"] == len(batches) == 8
    assert all(b.status == ImportBatch.Status.COMMITTED for b in batches)
    assert [b.file_name for b in batches][0] == "demo-waybills-2024Q3.parquet"
    assert 11_000 <= waybills["accepted"] <= 13_000
    facts = AccountMonth.objects.aggregate(waybills=Sum("waybills"))
    assert facts["waybills"] == waybills["accepted"] == sum(b.accepted for b in batches)
    months = sorted(revenue_by_month())
    assert (months[0], months[-1]) == (datetime.date(2024, 7, 1), datetime.date(2026, 6, 1))
    assert not list((lake.root()).glob("work/*/*.parquet"))  # nothing left behind


def test_one_batch_holds_a_small_reject_report(loaded: dict[str, Any]) -> None:
    rejected = [b for b in demo_batches() if b.rejected]

    assert len(rejected) == 1
    batch = rejected[0]
    assert batch.rejected == loaded["waybills"]["rejected"] == 20
    reasons = {r.reason for r in selectors.rejects(batch)}
    assert reasons == {"unknown_product", "negative"}


def test_running_demo_again_loads_no_waybills(loaded: dict[str, Any]) -> None:
    before = facts_totals()
    files = LakeFile.objects.count()

    again = run_demo()

    assert again["waybills"]["loaded"] is False
    assert again["waybills"]["accepted"] == loaded["waybills"]["accepted"]
    assert demo_batches().count() == 8
    assert LakeFile.objects.count() == files
    assert facts_totals() == before


def test_the_same_seed_gives_the_same_facts_after_a_reset(loaded: dict[str, Any]) -> None:
    before = facts_totals()

    again = run_demo("--reset")

    assert again["waybills"]["loaded"] is True
    assert demo_batches().count() == 8  # the old batches are gone
    assert facts_totals() == before


def test_revenue_is_concentrated_in_a_fifth_of_the_codes(loaded: dict[str, Any]) -> None:
    per_code = sorted(
        AccountMonth.objects.values("billing_code")
        .annotate(revenue=Sum("revenue"))
        .values_list("revenue", flat=True),
        reverse=True,
    )
    top = per_code[: len(per_code) // 5]

    assert sum(top) / sum(per_code) >= Decimal("0.70")


def test_revenue_peaks_in_november_and_dips_at_the_spring_festival(
    loaded: dict[str, Any],
) -> None:
    months = revenue_by_month()
    average = sum(months.values()) / len(months)

    assert months[datetime.date(2025, 11, 1)] > average
    assert months[datetime.date(2025, 11, 1)] > months[datetime.date(2025, 10, 1)]
    # Spring Festival 2026 fell on 17 February.
    assert months[datetime.date(2026, 2, 1)] < average
    assert months[datetime.date(2026, 2, 1)] < months[datetime.date(2026, 3, 1)]


def test_codes_outside_the_archive_and_accounts_that_come_and_go(
    loaded: dict[str, Any],
) -> None:
    archive = set(BillingCode.objects.values_list("code", flat=True))
    active: dict[str, set[int]] = defaultdict(set)
    for code, month in AccountMonth.objects.values_list("billing_code", "month"):
        active[code].add((month.year - 2024) * 12 + month.month - 7)  # 0 = 2024-07

    unlinked = set(active) - archive
    assert unlinked and loaded["waybills"]["unlinked_codes"] == len(unlinked)
    assert loaded["waybills"]["codes"] == len(active)
    gone = [c for c, months in active.items() if min(months) < 6 and max(months) < 21]
    new = [c for c, months in active.items() if min(months) >= 6 and max(months) == 23]
    assert gone, "some code stops shipping"
    assert new, "some code starts shipping"


def test_plan_follows_the_spring_festival_dates() -> None:
    before, during = datetime.date(2025, 1, 15), datetime.date(2025, 1, 30)

    assert demo.day_weight(during, True) < 0.5 * demo.day_weight(before, True)
    assert demo.day_weight(datetime.date(2025, 11, 11), True) > 2.0
    assert demo.month_starts(datetime.date(2026, 6, 30))[0] == datetime.date(2024, 7, 1)
