"""Import problems in the user's language: reject reasons, file failures and warnings.

The engine stores codes with parameters; these functions turn them into sentences when a
page, an export or the API shows them, so each reader gets their own language.
"""

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from .contract import BY_NAME, CONSIGNEE_TYPES, PRODUCTS, STATUSES


def column_label(name: str) -> str:
    column = BY_NAME.get(name)
    if column is None:
        return name
    from django.utils.translation import get_language

    return column.label_en if (get_language() or "").startswith("en") else column.label_zh


def _spellings(choices: dict[Any, tuple[str, ...]]) -> str:
    """The accepted values as a reader of this language writes them."""
    from django.utils.translation import get_language

    if (get_language() or "").startswith("en"):
        return ", ".join(str(value) for value in choices)
    return "、".join(s for values in choices.values() for s in values[:2])


def reason_text(reason: str, detail: str = "") -> str:
    """One reject reason as a sentence."""
    texts = {
        "required": _("This column must have a value."),
        "not_a_number": _("Not a number."),
        "not_whole": _("Must be a whole number."),
        "negative": _("Must not be negative."),
        "too_many_decimals": _("Too many decimal places (money has at most 2, weight at most 3)."),
        "too_large": _("The number is too large."),
        "below_one": _("Must be at least 1."),
        "bad_time": _("Not a date and time, or an impossible one. Write it as %(example)s.")
        % {"example": "2026-01-31 14:05:00"},
        "time_out_of_range": _("The date is before 2000 or in the future."),
        "before_ship": _("Earlier than the ship time."),
        "bad_code": _(
            "Only letters, digits, '-' and '_' are allowed, starting with a letter or digit."
        ),
        "too_long": _("Too long."),
        "unknown_region": _("Unknown place: give a GB/T 2260 code or a province or city name."),
        "unknown_product": _("Unknown product. Accepted: %(values)s.")
        % {"values": _spellings(PRODUCTS)},
        "unknown_status": _("Unknown status. Accepted: %(values)s.")
        % {"values": _spellings(STATUSES)},
        "unknown_consignee": _("Unknown consignee type. Accepted: %(values)s.")
        % {"values": _spellings(CONSIGNEE_TYPES)},
        "unknown_flag": _("Write yes or no (是/否, Y/N, 1/0)."),
        "bad_record": _("The row has %(found)s fields where the header has %(expected)s.")
        % dict(zip(("found", "expected"), (detail.split("/") + ["?", "?"])[:2], strict=True)),
        "repeated_in_file": _(
            "This waybill number appears earlier in the file (row %(row)s) with different values; the first row was kept."
        )
        % {"row": detail},
        "conflict": _(
            "This waybill is already stored with different values (%(columns)s); the stored version was kept."
        )
        % {"columns": ", ".join(column_label(c) for c in detail.split(",") if c)},
    }
    return texts.get(reason, reason)


def failure_text(code: str, params: dict[str, Any] | None = None) -> str:
    """Why a whole file could not be imported."""
    p = params or {}
    texts = {
        "empty": _("The file is empty."),
        "no_rows": _("The file has a header but no data rows."),
        "no_header": _("The first row must hold the column headings."),
        "unreadable": _("The file could not be read: %(reason)s") % {"reason": p.get("reason", "")},
        "unsupported_content": _(
            "This is not a file KAM can import (it looks like %(kind)s). Use CSV, XLSX or Parquet."
        )
        % {
            "kind": {"xls": _("an old .xls workbook; save it as .xlsx"), "pdf": "PDF"}.get(
                p.get("kind", ""), _("binary data")
            )
        },
        "unknown_format": _("Unknown format %(format)s.") % {"format": p.get("format", "")},
        "format_mismatch": _("You chose %(expected)s, but the file holds %(actual)s.")
        % {"expected": p.get("expected", ""), "actual": p.get("actual", "")},
        "extension_mismatch": _(
            "The file is named %(extension)s but holds %(actual)s. Rename it or export it again."
        )
        % {"extension": p.get("extension", ""), "actual": p.get("actual", "")},
        "unknown_extension": _(
            "Files ending in %(extension)s cannot be imported. Use .csv, .xlsx or .parquet."
        )
        % {"extension": p.get("extension", "")},
        "encoding_unknown": _(
            "The text encoding could not be recognised. Choose it (UTF-8 or GBK/GB18030) and import again."
        ),
        "unknown_encoding": _("Unknown encoding %(encoding)s.")
        % {"encoding": p.get("encoding", "")},
        "encoding_wrong": _(
            "The file is not valid %(encoding)s (near byte %(offset)s). Choose another encoding and import again."
        )
        % {"encoding": p.get("encoding", ""), "offset": p.get("offset", "?")},
        "csv_unreadable": _("The CSV file could not be read: %(reason)s")
        % {"reason": p.get("reason", "")},
        "xlsx_unreadable": _("The workbook could not be read: %(reason)s")
        % {"reason": p.get("reason", "")},
        "parquet_unreadable": _("The Parquet file could not be read: %(reason)s")
        % {"reason": p.get("reason", "")},
        "json_invalid": _("Invalid JSON at line %(row)s: %(reason)s")
        % {"row": p.get("row", "?"), "reason": p.get("reason", "")},
        "json_not_records": _("JSON must be an array of objects, or one object per line."),
        "missing_columns": _("Required columns are missing: %(columns)s.")
        % {"columns": ", ".join(f"{column_label(c)} ({c})" for c in p.get("columns", []))},
        "repeated_columns": _("Two headings name the same column: %(columns)s.")
        % {"columns": ", ".join(column_label(c) for c in p.get("columns", []))},
        "too_large": _("The file is larger than the limit of %(limit)s bytes.")
        % {"limit": p.get("limit", "")},
        "internal": _(
            "The import failed because of an internal error; nothing was stored. The administrator can find the details in the log."
        ),
    }
    return texts.get(code, code)


def warning_text(code: str, params: dict[str, Any]) -> str:
    if code == "unknown_columns":
        return _(
            "These columns are not part of the waybill contract and were ignored: %(columns)s."
        ) % {"columns": ", ".join(params.get("columns", []))}
    return code


# The products' names (the contract's closed list), for pages and downloads.
PRODUCT_LABELS = {
    "express": pgettext_lazy("product", "Express"),
    "standard": pgettext_lazy("product", "Standard"),
    "ground": pgettext_lazy("product", "Ground"),
    "cold": pgettext_lazy("product", "Cold chain"),
    "international": pgettext_lazy("product", "International"),
}
