"""The pricing spreadsheets' problems and the sealed bid's warnings in the user's language.

``sheets`` and ``strategies`` return codes with parameters (and English templates for the
logs); these functions turn them into sentences when a page shows them, as
``kam/ledger/messages.py`` does for imports.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext as _

from .sheets import Problem
from .strategies import ERROR_TEXTS, FLAG_TEXTS, STEP_TEXTS, Flag, Step, StrategyError

_PRODUCTS = "特快, 标快, 陆运, 冷运, 国际"


class _Params(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def _sheet_texts() -> dict[str, str]:
    return {
        "unreadable": _("The workbook could not be read: %(reason)s"),
        "no_product_sheet": _("The workbook has no sheet named after a product (%(products)s)."),
        "unknown_sheet": _("The sheet %(sheet)s is not a product (%(products)s) or 折扣."),
        "repeated_product": _("Two sheets are for the product %(product)s."),
        "bad_label": _("Expected %(expected)s here."),
        "unknown_kind": _("Write 首重续重 or 重量段 here."),
        "missing_zone": _("A zone column has no zone name."),
        "repeated_zone": _("The zone %(zone)s has two columns."),
        "unknown_zone": _("The zone %(zone)s is not one of the card's zones."),
        "missing_zone_column": _("The zone %(zone)s has no column."),
        "no_zones": _("The sheet has no zone columns."),
        "outside_layout": _(
            "A value outside the card's layout (below its last row or right of its last "
            "zone); remove it or give it a zone."
        ),
        "repeated_discount": _("The same discount (product, zone and weights) is given twice."),
        "repeated_ref": _("The lane reference %(value)s is used twice."),
        "required": _("This cell must have a value."),
        "not_a_number": _("Not a number: %(value)s."),
        "negative": _("Must not be negative."),
        "not_positive": _("Must be above zero."),
        "too_many_decimals": _("Too many decimal places (money has at most 2, weight at most 3)."),
        "not_whole": _("Must be a whole number."),
        "too_large": _("The number is too large."),
        "divisor_not_positive": _("The dimensional divisor must be a whole number above zero."),
        "discount_out_of_range": _(
            "A discount must be between -100 %% and 100 %% (a negative one is a premium); "
            "this one is %(value)s %%."
        ),
        "bad_band": _(
            "Not a weight band: write from-to in kg (0-30), and from- for the last (100-)."
        ),
        "no_bands": _("The sheet has no weight bands."),
        "band_not_from_zero": _("The first weight band must start at 0 kg."),
        "open_band_not_last": _("Only the last weight band may be open-ended."),
        "band_empty": _("The band ends at or below its start."),
        "bands_overlap": _("This band overlaps the one before it."),
        "bands_gap": _("A gap between this band and the one before it."),
        "last_band_closed": _("The last weight band must be open-ended (write from-)."),
        "unknown_product": _("Unknown product %(value)s (%(products)s)."),
        "no_rows": _("The sheet has a heading row but no lanes."),
        "missing_column": _("The column %(column)s is missing from the heading row."),
        "unknown_place": _("Unknown place %(value)s: give a GB/T 2260 code or a city name."),
        "below_one": _("Must be at least 1."),
    }


def problem_where(problem: Problem) -> str:
    """Where the problem is: "sheet 特快, cell C4"."""
    if problem.sheet and problem.cell:
        return _("sheet %(sheet)s, cell %(cell)s") % {"sheet": problem.sheet, "cell": problem.cell}
    if problem.sheet:
        return _("sheet %(sheet)s") % {"sheet": problem.sheet}
    if problem.cell:
        return _("cell %(cell)s") % {"cell": problem.cell}
    return ""


def problem_text(problem: Problem) -> str:
    """The problem as a sentence, without where it is."""
    template = _sheet_texts().get(problem.code, problem.code)
    return template % _Params({**problem.params, "sheet": problem.sheet, "products": _PRODUCTS})


def problem_line(problem: Problem) -> str:
    where = problem_where(problem)
    text = problem_text(problem)
    return f"{where}: {text}" if where else text


def _fill(template: str, params: Mapping[str, object]) -> str:
    return template % _Params({k: str(v) for k, v in params.items()})


def strategy_text(template: str, params: Mapping[str, object]) -> str:
    """One of ``strategies``' English templates (marked for the catalogue there) in the
    user's language, its figures filled in."""
    return _fill(_(template), params)


def step_text(step: Step) -> str:
    """A working step of a strategy as a sentence."""
    return strategy_text(STEP_TEXTS.get(step.label, step.label),
                         {**step.figures, "result": step.result})  # fmt: skip


def flag_text(flag: Flag) -> str:
    """A strategy's warning as a sentence."""
    return strategy_text(FLAG_TEXTS.get(flag.code, flag.code), flag.params)


def error_text(error: StrategyError) -> str:
    """A strategy's refusal as a sentence."""
    return strategy_text(ERROR_TEXTS.get(error.code, error.code), error.params)
