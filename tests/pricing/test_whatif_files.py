"""The what-if and the price realisation open only the lake files of the months in which
the account's billing codes shipped, not every month of the period."""

import datetime as dt

import pytest

from kam.ledger.models import LakeFile
from kam.pricing import whatif
from tests.ledger.conftest import good_row, import_file, write_waybills

pytestmark = pytest.mark.django_db(transaction=True)


def test_only_the_months_the_codes_shipped_in_are_read(tmp_path, account_a):
    rows = [good_row(1), good_row(2, ship_time="2026-03-05 10:00:00")]
    rows += [good_row(i, billing_code="OTHER01", ship_time="2026-02-05 10:00:00") for i in (3, 4)]
    batch = import_file(write_waybills(tmp_path / "w.csv", rows))
    assert batch.status == "committed", batch.message
    by_month = dict(LakeFile.objects.values_list("month", "path"))
    assert sorted(by_month) == ["2026-01", "2026-02", "2026-03"]
    period = whatif.Period(dt.date(2026, 1, 1), dt.date(2026, 3, 1))
    # February holds only another code's waybills: its file is not opened.
    assert sorted(whatif._files(period, ["YJ0591001"])) == sorted(
        [by_month["2026-01"], by_month["2026-03"]]
    )
    assert whatif._files(period, ["NOBODY"]) == []
    with whatif.codes_waybills(["YJ0591001"], period) as con:
        assert con is not None
        found = con.execute(f"SELECT count(*) FROM ({whatif.SOURCE})")  # noqa: S608 - our SQL
        assert found.fetchall() == [(2,)]
