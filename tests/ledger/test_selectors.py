"""The account page's reads: sums come back as exact cents on every database."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from kam.ledger import selectors
from tests.ledger.conftest import good_row, import_file, write_waybills

pytestmark = pytest.mark.django_db

# Amounts whose binary-float sum is not a whole number of cents (0.1 + 0.2 and friends).
FREIGHTS = ["0.10", "0.20", "1234567.01", "0.07", "99999.99", "0.03"]


def test_monthly_totals_lanes_and_products_are_exact_cents(ledger_dir: Path) -> None:
    rows = [
        good_row(i, freight=f, surcharges="0", ship_time="2026-01-05 10:00:00", destination="上海")
        for i, f in enumerate(FREIGHTS, start=1)
    ]
    batch = import_file(write_waybills(ledger_dir / "cents.csv", rows))
    assert batch.accepted == len(FREIGHTS)
    expected = sum((Decimal(f) for f in FREIGHTS), Decimal("0.00"))
    month = date(2026, 1, 1)
    codes = [rows[0]["billing_code"]]

    january = selectors.monthly_totals(codes, month, month)[0]
    assert january["revenue"] == expected
    assert january["revenue"].as_tuple().exponent == -2
    products = selectors.product_mix(codes, month, month)
    assert [p["revenue"] for p in products] == [expected]
    assert products[0]["revenue"].as_tuple().exponent == -2
    lanes = selectors.top_lanes(codes, month, month)
    assert [lane["revenue"] for lane in lanes] == [expected]


def test_months_without_waybills_are_zero_rows_in_order(ledger_dir: Path) -> None:
    import_file(
        write_waybills(ledger_dir / "one.csv", [good_row(1, ship_time="2026-03-02 09:00:00")])
    )
    code = good_row(1)["billing_code"]
    months = selectors.monthly_totals([code], date(2026, 1, 1), date(2026, 4, 1))
    assert [m["month"] for m in months] == [date(2026, m, 1) for m in (1, 2, 3, 4)]
    assert [m["waybills"] for m in months] == [0, 0, 1, 0]
    assert months[0]["revenue"] == Decimal("0.00")


def test_the_panels_one_read_equals_the_three_reads(ledger_dir: Path) -> None:
    """The shipments panel reads its facts once: the same latest month, monthly rows and
    product mix as latest_fact_month, monthly_totals and product_mix, exact to the cent."""
    times = ["2025-11-03 10:00:00", "2026-01-05 10:00:00", "2026-01-20 10:00:00",
             "2026-03-02 09:00:00", "2026-03-09 09:00:00", "2026-03-10 09:00:00"]  # fmt: skip
    rows = [
        good_row(i, freight=f, surcharges="0", ship_time=t)
        for i, (f, t) in enumerate(zip(FREIGHTS, times, strict=True), start=1)
    ]
    import_file(write_waybills(ledger_dir / "months.csv", rows))
    codes = sorted({r["billing_code"] for r in rows})
    summary = selectors.shipments_summary(codes, 3)
    assert summary is not None
    latest = selectors.latest_fact_month(codes)
    assert (summary.latest, summary.start, summary.end) == (latest, date(2026, 1, 1), latest)
    expected = selectors.monthly_totals(codes, summary.start, summary.end)
    assert [{k: m[k] for k in e} for m, e in zip(summary.months, expected, strict=True)] == expected
    assert summary.products == selectors.product_mix(codes, summary.start, summary.end)
    assert sum(m["waybills"] for m in summary.months) == 5  # November is outside the window
    assert selectors.shipments_summary([], 3) is None
    assert selectors.shipments_summary(["NO-SUCH-CODE"], 3) is None
