"""docs/ledger.md documents the waybill contract: every column, heading and spelling."""

from pathlib import Path

import pytest

from kam.ledger.contract import COLUMNS, CONSIGNEE_TYPES, PRODUCTS, STATUSES

DOC = (Path(__file__).resolve().parents[2] / "docs" / "ledger.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("column", COLUMNS, ids=lambda c: c.name)
def test_every_contract_column_is_in_the_table_with_its_headings(column):
    row = next((line for line in DOC.splitlines() if line.startswith(f"| `{column.name}` |")), None)
    assert row is not None, f"{column.name} missing from the contract table"
    assert f"| {column.label_zh} |" in row
    assert ("| yes |" in row) == column.required
    for alias in (column.label_en, *column.aliases):
        assert alias in row, alias


@pytest.mark.parametrize(
    ("value", "spellings"),
    [*PRODUCTS.items(), *STATUSES.items(), *CONSIGNEE_TYPES.items()],
)
def test_every_accepted_value_is_documented(value, spellings):
    assert f"`{value}`" in DOC
    for spelling in spellings:
        if spelling != value:
            assert spelling.lower() in DOC.lower(), spelling
