"""What the ledger's downloads contain: reject reports and monthly facts as table rows.

The pages and the CLI turn these rows into CSV or XLSX with :mod:`kam.core.exports`,
which neutralises anything a spreadsheet would execute.
"""

from collections.abc import Iterable, Iterator
from typing import Any

from django.utils.translation import gettext as _

from . import messages, selectors
from .facts import ACCOUNT_MONTH_COLUMNS
from .messages import PRODUCT_LABELS
from .models import AccountMonth, ImportBatch


def reject_header() -> list[str]:
    return [_("Row"), _("Column"), _("Column name"), _("Value"), _("Reason code"), _("Problem")]


def reject_rows(batch: ImportBatch) -> Iterator[list[Any]]:
    for r in selectors.rejects(batch):
        yield [r.row, messages.column_label(r.column) if r.column else "", r.column, r.value or "",
               r.reason, messages.reason_text(r.reason, r.detail)]  # fmt: skip


FACT_COLUMNS = tuple(ACCOUNT_MONTH_COLUMNS)


def fact_header() -> list[str]:
    extra = {
        "costed_waybills": _("Waybills with cost"),
        "promised": _("Waybills with a promised time"),
        "consumer_waybills": _("Waybills to consumers"),
    }
    for product, label in PRODUCT_LABELS.items():  # "特快: 票数", "特快: 收入（元）"
        for what in ("waybills", "revenue"):
            extra[f"{product}_{what}"] = (
                f"{label}: {AccountMonth._meta.get_field(what).verbose_name}"
            )
    return [str(extra.get(c) or AccountMonth._meta.get_field(c).verbose_name) for c in FACT_COLUMNS]


def fact_rows(facts: Iterable[AccountMonth]) -> Iterator[list[Any]]:
    for f in facts:
        yield [f.month.strftime("%Y-%m") if c == "month" else getattr(f, c) for c in FACT_COLUMNS]
