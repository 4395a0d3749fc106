"""The pricing team's spreadsheets: rate cards and tenders as XLSX. Plain data, no Django.

A card workbook has one sheet per product (named as the ledger spells products: 特快,
标快, 陆运, 冷运, 国际), zones as columns and weights as rows, in one of two layouts::

    计费方式 | 首重续重                     计费方式     | 重量段
    区域     | 同城 | 省内 | 一区 ...        区域         | 同城 | 省内 | 一区 ...
    首重重量(kg) | 1 | 1 | 1                0-30         | per-kg rate per zone
    首重(元)  | 8 | 10 | 12                 30-100       | ...
    续重重量(kg) | 1 | 0.5 | 0.5            100-         | ...
    续重(元)  | 2 | 3 | 4                   最低收费(元) | minimum charge per zone
    体积重除数 | 6000                       体积重除数   | 6000

(first weight 首重 and its price, each additional step 续重 and its price; or weight-break
bands ``from-to`` kg, the last open-ended ``from-``, with a minimum charge row; the
dimensional divisor row is optional). An optional sheet 折扣 lists discounts: product,
zone, from kg, to kg, percent (blank product / zone / to: any / any / open; a negative
percent is a premium, as in ``strategies``). The percent column holds percentage points:
30 or "30%" is 30 % off. (A cell formatted as a percentage in Excel stores 0.3, which reads
as 0.3 %: calamine does not give cell formats, so the reader cannot tell them apart.) Zones are written 同城 and 省内 for the same
city and province, other zones by their own names.

A tender workbook's first sheet has a heading row and one lane a row: reference (optional),
origin, destination, product, annual waybills, average weight per waybill (kg). Places are
GB/T 2260 codes or city names, resolved by the caller's function (the region tables need
Django); the bid sheet lists the lanes priced by ``strategies.sealed_bid``.

Reading is all or nothing: every problem found is returned as a :class:`Problem` (a code,
the sheet, the cell in A1 notation, and parameters) in a :class:`SheetError`, and nothing
is returned half-read. :func:`problem_text` gives an English sentence; the Django layer
translates the codes itself (as ``kam/ledger/messages.py`` does for imports), and the
English templates in :data:`MESSAGES` are the msgids to mark there.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from kam.ledger.contract import PRODUCTS, normalize_heading

from .rating import (
    HUNDRED,
    SAME_CITY,
    SAME_PROVINCE,
    Band,
    Discount,
    FirstAdditional,
    Rule,
    WeightBreaks,
    check_bands,
)
from .rating import (
    PRODUCTS as PRODUCT_CODES,
)
from .strategies import BidLane, TenderLane

SHEET_NAMES = {"express": "特快", "standard": "标快", "ground": "陆运", "cold": "冷运",
               "international": "国际"}  # fmt: skip
ZONE_NAMES = {SAME_CITY: "同城", SAME_PROVINCE: "省内"}
DISCOUNT_SHEET = "折扣"
FIRST_ADDITIONAL, BREAKS = "首重续重", "重量段"
KIND_LABEL, ZONE_LABEL = "计费方式", "区域"
FIRST_KG, FIRST_PRICE, STEP_KG, STEP_PRICE = "首重重量(kg)", "首重(元)", "续重重量(kg)", "续重(元)"
MIN_CHARGE, DIVISOR = "最低收费(元)", "体积重除数"
DISCOUNT_HEADINGS = ("产品", "区域", "起始重量(kg)", "截止重量(kg)", "折扣(%)")
TENDER_HEADINGS = ("序号", "始发地", "目的地", "产品", "年票量", "平均重量(kg)")
BID_SHEET = "投标报价"
BID_HEADINGS = (*TENDER_HEADINGS, "区域", "单票报价(元)", "年金额(元)", "备注")

_LABELS = {
    "kind": (KIND_LABEL, "pricing", "billing"),
    "zone": (ZONE_LABEL, "zone", "zones"),
    # Units in parentheses are ignored when labels are matched: "首重(元)" is "首重".
    "first_kg": (FIRST_KG, "first weight (kg)"),
    "first_price": (FIRST_PRICE, "first weight price"),
    "step_kg": (STEP_KG, "additional weight (kg)", "step (kg)"),
    "step_price": (STEP_PRICE, "additional weight price", "step price"),
    "min_charge": (MIN_CHARGE, "minimum charge"),
    "divisor": (DIVISOR, "抛比", "dimensional divisor", "divisor"),
}
_KINDS = {
    FIRST_ADDITIONAL: FIRST_ADDITIONAL, "首重/续重": FIRST_ADDITIONAL,
    "first and additional weight": FIRST_ADDITIONAL, "first/additional": FIRST_ADDITIONAL,
    BREAKS: BREAKS, "weight breaks": BREAKS, "weight bands": BREAKS,
}  # fmt: skip
_TENDER_COLUMNS = {
    "ref": ("序号", "线路编号", "线路", "编号", "ref", "lane"),
    "origin": ("始发地", "始发城市", "寄件城市", "origin"),
    "destination": ("目的地", "目的城市", "收件城市", "destination"),
    "product": ("产品", "产品类型", "product"),
    "annual_waybills": ("年票量", "年件量", "年单量", "annual waybills", "waybills"),
    "weight_kg": ("平均重量", "平均单票重量", "单票重量", "average weight", "weight"),
}
_DISCOUNT_COLUMNS = ("product", "zone", "from_kg", "to_kg", "percent")
_BAND = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:kg)?\s*(?:-|~|至|到)\s*(\d+(?:\.\d+)?)?\s*(?:kg)?$")
_BAND_OPEN = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:kg)?\s*(?:以上|\+|及以上)$")
_BAND_PROBLEMS = (  # rating.check_bands' sentences -> codes
    ("not 0", "band_not_from_zero"),
    ("open-ended but", "open_band_not_last"),
    ("at or below its start", "band_empty"),
    ("overlap", "bands_overlap"),
    ("a gap", "bands_gap"),
    ("must be open-ended", "last_band_closed"),
)
_TOO_LARGE = Decimal("1e12")  # no price, weight or volume comes near; a typo or an overflow
_MAX_FLOAT_PLACES = 9  # numbers with more decimals are written as text to stay exact

MESSAGES = {
    "unreadable": "The workbook could not be read: %(reason)s",
    "no_product_sheet": "The workbook has no sheet named after a product (特快, 标快, 陆运, 冷运, 国际).",
    "unknown_sheet": "The sheet %(sheet)s is not a product (特快, 标快, 陆运, 冷运, 国际) or 折扣.",
    "repeated_product": "Two sheets are for the product %(product)s.",
    "bad_label": "Expected %(expected)s here.",
    "unknown_kind": "Write 首重续重 or 重量段 here.",
    "missing_zone": "A zone column has no zone name.",
    "repeated_zone": "The zone %(zone)s has two columns.",
    "unknown_zone": "The zone %(zone)s is not one of the card's zones.",
    "missing_zone_column": "The zone %(zone)s has no column.",
    "no_zones": "The sheet has no zone columns.",
    "outside_layout": "A value outside the card's layout (below its last row or right of its last zone); remove it or give it a zone.",
    "repeated_discount": "The same discount (product, zone and weights) is given twice.",
    "repeated_ref": "The lane reference %(value)s is used twice.",
    "required": "This cell must have a value.",
    "not_a_number": "Not a number: %(value)s.",
    "negative": "Must not be negative.",
    "not_positive": "Must be above zero.",
    "too_many_decimals": "Too many decimal places (money has at most 2, weight at most 3).",
    "not_whole": "Must be a whole number.",
    "too_large": "The number is too large.",
    "divisor_not_positive": "The dimensional divisor must be a whole number above zero.",
    "discount_out_of_range": "A discount must be between -100 %% and 100 %% (a negative one is a premium); this one is %(value)s %%.",
    "bad_band": "Not a weight band: write from-to in kg (0-30), and from- for the last (100-).",
    "no_bands": "The sheet has no weight bands.",
    "band_not_from_zero": "The first weight band must start at 0 kg.",
    "open_band_not_last": "Only the last weight band may be open-ended.",
    "band_empty": "The band ends at or below its start.",
    "bands_overlap": "This band overlaps the one before it.",
    "bands_gap": "A gap between this band and the one before it.",
    "last_band_closed": "The last weight band must be open-ended (write from-).",
    "unknown_product": "Unknown product %(value)s (特快, 标快, 陆运, 冷运, 国际).",
    "no_rows": "The sheet has a heading row but no lanes.",
    "missing_column": "The column %(column)s is missing from the heading row.",
    "unknown_place": "Unknown place %(value)s: give a GB/T 2260 code or a city name.",
    "below_one": "Must be at least 1.",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong and where: ``cell`` is in A1 notation ("C4"); empty for the whole
    workbook or sheet."""

    code: str
    sheet: str = ""
    cell: str = ""
    params: Mapping[str, str] = field(default_factory=dict)


class SheetError(ValueError):
    """A workbook refused, with every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(problem_text(p) for p in problems[:5]))
        self.problems = tuple(problems)


class CardLayoutError(ValueError):
    """A card the workbook layout cannot hold (a product mixing first / additional weight
    and weight breaks, or zones with different weight bands)."""


@dataclass(frozen=True, slots=True)
class CardTables:
    """What a card workbook holds: rules per (product, zone), discounts and the
    dimensional divisors per product (the zone matrix and surcharges live elsewhere)."""

    rules: Mapping[tuple[str, str], Rule]
    discounts: tuple[Discount, ...] = ()
    dim_divisor: Mapping[str, int] = field(default_factory=dict)


class _Params(dict[str, str]):
    """A message's parameters; one that is missing shows as "?" rather than failing."""

    def __missing__(self, key: str) -> str:
        return "?"


def problem_text(problem: Problem) -> str:
    """The problem in English, with where it is."""
    template = MESSAGES.get(problem.code, problem.code)
    text = template % _Params({**problem.params, "sheet": problem.sheet})
    where = ", ".join(
        part
        for part in (
            f"sheet {problem.sheet}" if problem.sheet else "",
            f"cell {problem.cell}" if problem.cell else "",
        )
        if part
    )
    return f"{where}: {text}" if where else text


def cell_ref(row: int, column: int) -> str:
    """A1 notation of a 0-based row and column."""
    letters = ""
    n = column + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return f"{letters}{row + 1}"


# --- reading ------------------------------------------------------------------------------


def _text(value: Any) -> str:
    """A cell as the person typed or saw it (a binary float shown with at most 9 decimals)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return repr(int(value))
        return repr(round(value, _MAX_FLOAT_PLACES))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return unicodedata.normalize("NFKC", str(value)).strip()


def _fold(label: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", label).lower())


class _Reader:
    """One sheet's cells (from A1) and the problems found in it."""

    def __init__(self, sheet: str, rows: list[list[Any]], problems: list[Problem]) -> None:
        self.sheet, self.rows, self.problems = sheet, rows, problems

    def value(self, row: int, column: int) -> Any:
        if row < len(self.rows) and column < len(self.rows[row]):
            return self.rows[row][column]
        return None

    def text(self, row: int, column: int) -> str:
        return _text(self.value(row, column))

    def problem(self, code: str, row: int | None, col: int = 0, /, **params: str) -> None:
        where = cell_ref(row, col) if row is not None else ""
        self.problems.append(Problem(code, self.sheet, where, params))

    def number(
        self, row: int, column: int, *, places: int, positive: bool = False, required: bool = True
    ) -> Decimal | None:
        """A number of at most ``places`` decimals, not negative (above zero if
        ``positive``); None (and a problem) when it is not."""
        raw = self.value(row, column)
        text = _text(raw)
        if not text:
            if required:
                self.problem("required", row, column)
            return None
        if isinstance(raw, bool | dt.date | dt.time):
            self.problem("not_a_number", row, column, value=text)
            return None
        try:
            number = Decimal(text.replace(",", ""))
        except InvalidOperation:
            self.problem("not_a_number", row, column, value=text)
            return None
        if not number.is_finite():
            self.problem("not_a_number", row, column, value=text)
            return None
        if number < 0:
            self.problem("negative", row, column)
            return None
        if number >= _TOO_LARGE:
            self.problem("too_large", row, column)
            return None
        if positive and number == 0:
            self.problem("not_positive", row, column)
            return None
        if -number.normalize().as_tuple().exponent > places:  # type: ignore[operator]  # finite
            self.problem("too_many_decimals", row, column)
            return None
        return number

    def label_row(self, row: int, key: str) -> bool:
        expected = _LABELS[key]
        if normalize_heading(self.text(row, 0)) in {normalize_heading(s) for s in expected}:
            return True
        self.problem("bad_label", row, 0, expected=expected[0])
        return False


def _product_of(name: str) -> str | None:
    folded = _fold(name)
    for code, spellings in PRODUCTS.items():
        if folded in {_fold(s) for s in (code, *spellings)}:
            return code
    return None


def _zone_of(name: str) -> str:
    for code, label in ZONE_NAMES.items():
        if name in (code, label):
            return code
    return name


def _open_workbook(source: bytes | Path) -> list[tuple[str, list[list[Any]]]]:
    from python_calamine import CalamineWorkbook

    try:
        if isinstance(source, bytes):
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(source))
        else:
            workbook = CalamineWorkbook.from_path(str(source))
        return [
            (name, workbook.get_sheet_by_name(name).to_python(skip_empty_area=False))
            for name in workbook.sheet_names
        ]
    except Exception as exc:  # calamine raises its own error types for a damaged workbook
        raise SheetError([Problem("unreadable", params={"reason": str(exc)[:300]})]) from exc


def _zones_row(reader: _Reader, zones: Iterable[str] | None) -> list[tuple[int, str]]:
    """The zone columns of row 2: (column, zone code)."""
    row = reader.rows[1] if len(reader.rows) > 1 else []
    last = max((i for i, v in enumerate(row) if _text(v)), default=0)
    found: list[tuple[int, str]] = []
    for column in range(1, last + 1):
        name = reader.text(1, column)
        if not name:
            reader.problem("missing_zone", 1, column)
            continue
        zone = _zone_of(name)
        if zone in {z for _, z in found}:
            reader.problem("repeated_zone", 1, column, zone=name)
            continue
        if zones is not None and zone not in set(zones):
            reader.problem("unknown_zone", 1, column, zone=name)
        found.append((column, zone))
    if not found and last == 0:
        reader.problem("no_zones", 1, 1)
    if zones is not None:
        have = {z for _, z in found}
        for offset, zone in enumerate(z for z in zones if z not in have):
            reader.problem(
                "missing_zone_column", 1, last + 1 + offset, zone=ZONE_NAMES.get(zone, zone)
            )
    return found


def _band_of(reader: _Reader, row: int) -> tuple[Decimal, Decimal | None] | None:
    text = _fold(reader.text(row, 0))
    match = _BAND.match(text) or _BAND_OPEN.match(text)
    if match is None:
        reader.problem("bad_band", row, 0)
        return None
    upper = match.group(2) if match.re is _BAND else None
    return Decimal(match.group(1)), Decimal(upper) if upper else None


def _divisor(reader: _Reader, row: int, product: str, out: dict[str, int]) -> int:
    """The optional divisor row; returns the row after what was read."""
    labels = {normalize_heading(s) for s in _LABELS["divisor"]}
    if normalize_heading(reader.text(row, 0)) not in labels:
        return row
    text = reader.text(row, 1)
    if not text:
        return row + 1  # the row without a value: no divisor for the product
    try:
        number = Decimal(text)
    except InvalidOperation:
        reader.problem("not_a_number", row, 1, value=text)
        return row + 1
    if not number.is_finite() or number != number.to_integral_value() or number <= 0:
        reader.problem("divisor_not_positive", row, 1)
        return row + 1
    out[product] = int(number)
    return row + 1


def _nothing_else(reader: _Reader, end_row: int, last_column: int) -> None:
    """A value past the layout (below its rows or right of the last zone) would be
    ignored; it is refused instead, so that nothing is read half."""
    for row, values in enumerate(reader.rows):
        for column, value in enumerate(values):
            if _text(value) and (row >= end_row or column > max(last_column, 1)):
                reader.problem("outside_layout", row, column)
                return


def _read_first_additional(
    reader: _Reader, product: str, zones: list[tuple[int, str]]
) -> dict[tuple[str, str], Rule]:
    rules: dict[tuple[str, str], Rule] = {}
    keys = ("first_kg", "first_price", "step_kg", "step_price")
    labelled = [reader.label_row(2 + i, key) for i, key in enumerate(keys)]
    if not all(labelled):
        return rules
    for column, zone in zones:
        first_kg = reader.number(2, column, places=3, positive=True)
        first_price = reader.number(3, column, places=2)
        step_kg = reader.number(4, column, places=3, positive=True)
        step_price = reader.number(5, column, places=2)
        if None not in (first_kg, first_price, step_kg, step_price):
            rules[(product, zone)] = FirstAdditional(
                first_kg,  # type: ignore[arg-type]  # checked just above
                first_price,  # type: ignore[arg-type]
                step_kg,  # type: ignore[arg-type]
                step_price,  # type: ignore[arg-type]
            )
    return rules


def _read_breaks(
    reader: _Reader, product: str, zones: list[tuple[int, str]]
) -> tuple[dict[tuple[str, str], Rule], int]:
    """The band rows, the minimum charge row; returns the rules and the row after them."""
    min_labels = {normalize_heading(s) for s in _LABELS["min_charge"]}
    row = 2
    band_rows: list[tuple[int, tuple[Decimal, Decimal | None]]] = []
    while row < len(reader.rows) and normalize_heading(reader.text(row, 0)) not in min_labels:
        if any(_text(v) for v in reader.rows[row]):
            band = _band_of(reader, row)
            if band is not None:
                band_rows.append((row, band))
        row += 1
    if row >= len(reader.rows):
        reader.problem("bad_label", row, 0, expected=MIN_CHARGE)
        return {}, row
    if not band_rows:
        reader.problem("no_bands", 2, 0)
        return {}, row + 1
    for message in check_bands([b for _, b in band_rows]):
        found = re.findall(r"bands? \(?(\d+)\)?(?: and (\d+))?", message)
        numbers = [int(n) for n in found[0] if n] if found else [1]
        code = next(c for text, c in _BAND_PROBLEMS if text in message)
        culprit = numbers[-1] if code in ("bands_overlap", "bands_gap") else numbers[0]
        reader.problem(code, band_rows[culprit - 1][0], 0)
    rules: dict[tuple[str, str], Rule] = {}
    for column, zone in zones:
        rates = [reader.number(r, column, places=2) for r, _ in band_rows]
        minimum = reader.number(row, column, places=2)
        if minimum is not None and all(r is not None for r in rates):
            bands = tuple(
                Band(lo, hi, rate)  # type: ignore[arg-type]  # checked just above
                for (_, (lo, hi)), rate in zip(band_rows, rates, strict=True)
            )
            rules[(product, zone)] = WeightBreaks(bands, minimum)
    return rules, row + 1


def _read_discounts(reader: _Reader, zones: Iterable[str] | None) -> list[Discount]:
    discounts: list[Discount] = []
    seen: set[tuple[str | None, str | None, Decimal, Decimal | None]] = set()
    before = len(reader.problems)
    for column, heading in enumerate(DISCOUNT_HEADINGS):
        if normalize_heading(reader.text(0, column)) != normalize_heading(heading):
            reader.problem("bad_label", 0, column, expected=heading)
    if len(reader.problems) > before:
        return discounts
    for row in range(1, len(reader.rows)):
        if not any(_text(v) for v in reader.rows[row]):
            continue
        product_text, zone_text = reader.text(row, 0), reader.text(row, 1)
        product = _product_of(product_text) if product_text else None
        if product_text and product is None:
            reader.problem("unknown_product", row, 0, value=product_text)
        zone = _zone_of(zone_text) if zone_text else None
        if zone is not None and zones is not None and zone not in set(zones):
            reader.problem("unknown_zone", row, 1, zone=zone_text)
        from_kg = reader.number(row, 2, places=3, required=False) or Decimal(0)
        to_kg = reader.number(row, 3, places=3, required=False, positive=True)
        if to_kg is not None and to_kg <= from_kg:
            reader.problem("band_empty", row, 3)
        key = (product or product_text or None, zone, from_kg, to_kg)  # an unknown product as typed
        if key in seen:
            reader.problem("repeated_discount", row, 0)
        seen.add(key)
        percent = _percent(reader, row, 4)
        if percent is not None:
            discounts.append(Discount(percent, product, zone, from_kg, to_kg))
    return discounts


def _percent(reader: _Reader, row: int, column: int) -> Decimal | None:
    text = reader.text(row, column)
    if not text:
        reader.problem("required", row, column)
        return None
    try:
        percent = Decimal(text.rstrip("%").strip())
    except InvalidOperation:
        reader.problem("not_a_number", row, column, value=text)
        return None
    if not percent.is_finite() or isinstance(reader.value(row, column), bool):
        reader.problem("not_a_number", row, column, value=text)
        return None
    if not -HUNDRED <= percent <= HUNDRED:
        reader.problem("discount_out_of_range", row, column, value=text)
        return None
    return percent


def read_card(source: bytes | Path, *, zones: Sequence[str] | None = None) -> CardTables:
    """A card workbook's rules, discounts and divisors; :class:`SheetError` with every
    problem when anything is wrong. ``zones``, when given, are the zones every product
    sheet must have a column for (and the only ones it may have)."""
    problems: list[Problem] = []
    rules: dict[tuple[str, str], Rule] = {}
    discounts: list[Discount] = []
    divisors: dict[str, int] = {}
    products: set[str] = set()
    for name, rows in _open_workbook(source):
        reader = _Reader(name, rows, problems)
        if _fold(name) in {_fold(DISCOUNT_SHEET), "discounts"}:
            discounts.extend(_read_discounts(reader, zones))
            continue
        product = _product_of(name)
        if product is None:
            reader.problem("unknown_sheet", None)
            continue
        if product in products:
            reader.problem("repeated_product", None, product=name)
            continue
        products.add(product)
        if not reader.label_row(0, "kind"):
            continue
        kind = _KINDS.get(_fold(reader.text(0, 1)))
        if kind is None:
            reader.problem("unknown_kind", 0, 1)
            continue
        if not reader.label_row(1, "zone"):
            continue
        columns = _zones_row(reader, zones)
        if kind == FIRST_ADDITIONAL:
            rules.update(_read_first_additional(reader, product, columns))
            next_row = 6
        else:
            read, next_row = _read_breaks(reader, product, columns)
            rules.update(read)
        next_row = _divisor(reader, next_row, product, divisors)
        _nothing_else(reader, next_row, max((c for c, _ in columns), default=0))
    if not products and not problems:
        problems.append(Problem("no_product_sheet"))
    if problems:
        raise SheetError(problems)
    return CardTables(rules, tuple(discounts), divisors)


def read_tender(
    source: bytes | Path, *, resolve_place: Callable[[str], str | None]
) -> list[TenderLane]:
    """A tender's lanes from its first sheet; :class:`SheetError` with every problem.
    ``resolve_place`` turns a cell's text (a code or a city name) into a GB/T 2260 city
    code, or None when it knows no such place."""
    sheets = _open_workbook(source)
    name, rows = sheets[0] if sheets else ("", [])
    problems: list[Problem] = []
    reader = _Reader(name, rows, problems)
    index: dict[str, int] = {}
    headings = rows[0] if rows else []
    spellings = {normalize_heading(s): key for key, names in _TENDER_COLUMNS.items() for s in names}
    for column, heading in enumerate(headings):
        key = spellings.get(normalize_heading(_text(heading)))
        if key is not None and key not in index:
            index[key] = column
    for offset, key in enumerate(k for k in _TENDER_COLUMNS if k != "ref" and k not in index):
        reader.problem("missing_column", 0, len(headings) + offset, column=_TENDER_COLUMNS[key][0])
    if problems:
        raise SheetError(problems)
    lanes: list[TenderLane] = []
    refs: set[str] = set()
    for row in range(1, len(rows)):
        if not any(_text(v) for v in rows[row]):
            continue
        places = []
        for key in ("origin", "destination"):
            text = reader.text(row, index[key])
            code = resolve_place(text) if text else None
            if not text:
                reader.problem("required", row, index[key])
            elif code is None:
                reader.problem("unknown_place", row, index[key], value=text)
            places.append(code)
        product_text = reader.text(row, index["product"])
        product = _product_of(product_text)
        if product is None:
            reader.problem(
                "unknown_product" if product_text else "required",
                row,
                index["product"],
                value=product_text,
            )
        waybills = reader.number(row, index["annual_waybills"], places=3)
        if waybills is not None and waybills != waybills.to_integral_value():
            reader.problem("not_whole", row, index["annual_waybills"])
            waybills = None
        elif waybills is not None and waybills < 1:
            reader.problem("below_one", row, index["annual_waybills"])
        weight = reader.number(row, index["weight_kg"], places=3, positive=True)
        ref = (reader.text(row, index["ref"]) if "ref" in index else "") or str(row + 1)
        if ref in refs:
            reader.problem("repeated_ref", row, index["ref"], value=ref)
        refs.add(ref)
        origin, destination = places
        if origin and destination and product and waybills and weight:
            lanes.append(TenderLane(ref, origin, destination, product, int(waybills), weight))
    if not lanes and not problems:
        problems.append(Problem("no_rows", name, "A2"))  # where the first lane belongs
    if problems:
        raise SheetError(problems)
    return lanes


# --- writing ------------------------------------------------------------------------------


def _cell_value(number: Decimal) -> float | str:
    """A number as a spreadsheet number when a binary float holds it exactly as written
    (at most nine decimals), else as text (a discount with more decimals): the reader takes
    both, so the workbook reads back to the same Decimal."""
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent <= _MAX_FLOAT_PLACES:
        as_float = float(number)
        if Decimal(repr(round(as_float, _MAX_FLOAT_PLACES))) == number:
            return as_float
    return str(number)


def _ordered_zones(rules: Mapping[tuple[str, str], Rule], zones: Sequence[str] | None) -> list[str]:
    present = {z for _, z in rules}
    if zones is not None:
        return [z for z in zones if z in present]
    fixed = [z for z in (SAME_CITY, SAME_PROVINCE) if z in present]
    return fixed + sorted(present - set(fixed))


def write_card(card: CardTables, *, zones: Sequence[str] | None = None) -> bytes:
    """The card as a workbook in the layout above (products in the ledger's order, zones in
    ``zones``' order or same city, same province, then by name). :class:`CardLayoutError`
    when a product's rules do not fit one sheet."""
    from openpyxl import Workbook

    book = Workbook()
    assert book.active is not None  # noqa: S101  # a new workbook always has its sheet
    book.remove(book.active)
    for product in PRODUCT_CODES:
        own = {z: r for (p, z), r in card.rules.items() if p == product}
        if not own:
            continue
        order = _ordered_zones({(product, z): r for z, r in own.items()}, zones)
        sheet = book.create_sheet(SHEET_NAMES[product])
        rules = [own[z] for z in order]
        sheet.append([KIND_LABEL])
        sheet.append([ZONE_LABEL, *(ZONE_NAMES.get(z, z) for z in order)])
        if all(isinstance(r, FirstAdditional) for r in rules):
            sheet["B1"] = FIRST_ADDITIONAL
            fa = [r for r in rules if isinstance(r, FirstAdditional)]
            sheet.append([FIRST_KG, *(_cell_value(r.first_kg) for r in fa)])
            sheet.append([FIRST_PRICE, *(_cell_value(r.first_price) for r in fa)])
            sheet.append([STEP_KG, *(_cell_value(r.step_kg) for r in fa)])
            sheet.append([STEP_PRICE, *(_cell_value(r.step_price) for r in fa)])
        elif all(isinstance(r, WeightBreaks) for r in rules):
            sheet["B1"] = BREAKS
            wb = [r for r in rules if isinstance(r, WeightBreaks)]
            edges = {tuple((b.from_kg, b.to_kg) for b in r.bands) for r in wb}
            if len(edges) != 1:
                raise CardLayoutError(f"{product}: zones with different weight bands")
            for i, band in enumerate(wb[0].bands):
                label = f"{band.from_kg}-{band.to_kg if band.to_kg is not None else ''}"
                sheet.append([label, *(_cell_value(r.bands[i].per_kg) for r in wb)])
            sheet.append([MIN_CHARGE, *(_cell_value(r.min_charge) for r in wb)])
        else:
            raise CardLayoutError(f"{product}: first / additional weight and weight breaks mixed")
        if product in card.dim_divisor:
            sheet.append([DIVISOR, card.dim_divisor[product]])
        sheet.column_dimensions["A"].width = 16
    if card.discounts:
        sheet = book.create_sheet(DISCOUNT_SHEET)
        sheet.append(list(DISCOUNT_HEADINGS))
        for d in card.discounts:
            sheet.append(
                [
                    SHEET_NAMES[d.product] if d.product else None,
                    ZONE_NAMES.get(d.zone, d.zone) if d.zone else None,
                    _cell_value(d.from_kg),
                    _cell_value(d.to_kg) if d.to_kg is not None else None,
                    _cell_value(d.percent),
                ]
            )
    if not book.sheetnames:
        raise CardLayoutError("the card has no rules")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write_tender(lanes: Sequence[TenderLane], place_name: Callable[[str], str] = str) -> bytes:
    """A tender workbook (what a customer sends; used by the demo and the tests)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101  # a new workbook always has its sheet
    sheet.append(list(TENDER_HEADINGS))
    for lane in lanes:
        sheet.append(
            [
                lane.ref,
                place_name(lane.origin),
                place_name(lane.destination),
                SHEET_NAMES.get(lane.product, lane.product),
                lane.annual_waybills,
                _cell_value(lane.weight_kg),
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write_bid(
    priced: Sequence[BidLane],
    unpriced: Sequence[TenderLane] = (),
    place_name: Callable[[str], str] = str,
) -> bytes:
    """The bid sheet: the tender's lanes with the price per waybill and the year's amount
    (no cost or margin: it goes to the customer), then the lanes not priced, marked 未报价
    (not quoted), and a total row."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101  # a new workbook always has its sheet
    sheet.title = BID_SHEET
    sheet.append(list(BID_HEADINGS))
    rows: list[tuple[TenderLane, BidLane | None]] = [(b.lane, b) for b in priced]
    rows += [(lane, None) for lane in unpriced]
    for lane, bid in rows:
        sheet.append(
            [
                lane.ref,
                place_name(lane.origin),
                place_name(lane.destination),
                SHEET_NAMES.get(lane.product, lane.product),
                lane.annual_waybills,
                _cell_value(lane.weight_kg),
                ZONE_NAMES.get(bid.zone, bid.zone) if bid else None,
                _cell_value(bid.price) if bid else None,
                _cell_value(bid.annual_revenue) if bid else None,
                None if bid else "未报价",
            ]
        )
    total = sum((b.annual_revenue for b in priced), Decimal(0))
    sheet.append(["合计", None, None, None, None, None, None, None, _cell_value(total), None])
    for column, width in zip("ABCDEFGHIJ", (8, 12, 12, 8, 10, 12, 10, 14, 16, 10), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
