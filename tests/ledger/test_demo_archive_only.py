"""``kam demo --no-waybills``: the archive alone (apart from test_demo_waybills, whose
module-wide demo would already be there)."""

from kam.ledger.models import ImportBatch
from tests.ledger.test_demo_waybills import run_demo


def test_no_waybills_loads_the_archive_only(db: None) -> None:
    result = run_demo("--no-waybills")

    assert result["loaded"] is True
    assert result["waybills"] is None
    assert not ImportBatch.objects.exists()
