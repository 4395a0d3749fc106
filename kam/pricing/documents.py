"""The quote as a document (PDF and XLSX), the card workbook's export and import, and
tender pricing for the bid sheet page.

The quote's rate table is the list card after the quote's discounts: for each product and
zone, the first weight's price after the discount that applies at the first weight, and
the additional step's price after the discount that applies at the first weight plus one
step (weight breaks: each band's rate after the discount at the band's start). The PDF is
set in Adobe's CID font ``STSong-Light`` (as ``kam.planning.exports``): PDF readers carry
it, so Chinese renders without a font file. Both documents are in the active language.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import rating, services, sheets, strategies
from .models import (
    CardKind,
    CardStatus,
    DimDivisor,
    Product,
    Quote,
    RateCard,
    RateRule,
    RuleShape,
    WeightBand,
    Zone,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FONT = "STSong-Light"
#: Characters the CID font's GB encoding lacks, and what stands in for them.
_PDF_CHARS = str.maketrans({"·": "/", "–": "~", "¥": "￥"})
_EMPTY_MATRIX = rating.ZoneMatrix({})


def carrier_name() -> str:
    """The carrier the quote is from (``KAM_CARRIER_NAME`` in the settings, if set)."""
    return str(getattr(settings, "KAM_CARRIER_NAME", "") or _("Express carrier"))


def _num(value: Decimal | None, places: int = 2) -> str:
    if value is None:
        return "—"
    text = f"{value:,.{places}f}"
    return text.rstrip("0").rstrip(".") if places > 2 and "." in text else text


def _kg(value: Decimal | None) -> str:
    return "—" if value is None else f"{value.normalize():f}"


# --- the quote's rate table ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateCell:
    """One product and zone of the quote: list and discounted prices."""

    product: str
    zone: str
    first_kg: Decimal | None = None
    first_list: Decimal | None = None
    first_price: Decimal | None = None
    first_discount: Decimal | None = None
    step_kg: Decimal | None = None
    step_list: Decimal | None = None
    step_price: Decimal | None = None
    step_discount: Decimal | None = None
    # weight breaks: (from kg, to kg, per kg after the discount, discount), min. charge
    bands: tuple[tuple[Decimal, Decimal | None, Decimal, Decimal], ...] = ()
    min_charge: Decimal | None = None

    def text(self) -> str:
        if self.bands:
            lines = [
                f"{_kg(lo)}–{_kg(hi) if hi is not None else '+'} kg: ¥{_num(rate, 4)}/kg"
                for lo, hi, rate, _d in self.bands
            ]
            lines.append(_("min. %(amount)s") % {"amount": f"¥{_num(self.min_charge)}"})
            return "\n".join(lines)
        return (
            f"¥{_num(self.first_price)} / {_kg(self.first_kg)} kg\n"
            f"+¥{_num(self.step_price)} / {_kg(self.step_kg)} kg"
        )


def _after(price: Decimal, percent: Decimal) -> Decimal:
    return rating.money(price * (rating.HUNDRED - percent) / rating.HUNDRED)


def rate_cells(spec: rating.Card) -> dict[tuple[str, str], RateCell]:
    """Every rule of ``spec`` with its prices after ``spec``'s discounts."""
    cells: dict[tuple[str, str], RateCell] = {}
    for (product, zone), rule in spec.rules.items():
        if isinstance(rule, rating.FirstAdditional):
            first_d = spec.discount(product, zone, rule.first_kg)
            step_d = spec.discount(product, zone, rule.first_kg + rule.step_kg)
            cells[(product, zone)] = RateCell(
                product, zone, rule.first_kg, rule.first_price,
                _after(rule.first_price, first_d), first_d, rule.step_kg, rule.step_price,
                _after(rule.step_price, step_d), step_d,
            )  # fmt: skip
        elif isinstance(rule, rating.WeightBreaks):
            bands = []
            for band in rule.bands:
                d = spec.discount(product, zone, band.from_kg)
                per_kg = (band.per_kg * (rating.HUNDRED - d) / rating.HUNDRED).quantize(
                    Decimal("0.0001")
                )
                bands.append((band.from_kg, band.to_kg, per_kg, d))
            d0 = spec.discount(product, zone, Decimal("0"))
            cells[(product, zone)] = RateCell(
                product, zone, bands=tuple(bands), min_charge=_after(rule.min_charge, d0)
            )
    return cells


@dataclass(frozen=True, slots=True)
class QuoteDocument:
    """What the quote's documents show, in the active language."""

    title: str
    facts: list[tuple[str, str]]
    discount_heading: list[str]
    discounts: list[list[Any]]
    zones: list[tuple[str, str]]  # (code, name)
    products: list[tuple[str, str]]  # (code, name), only those with rates
    cells: dict[tuple[str, str], RateCell]
    surcharges: list[str]
    terms: str


def surcharge_sentences(card: RateCard) -> list[str]:
    """The card's surcharges in words (a discount card's are its list card's, but for its
    own seasons, which take the place of the list card's peak seasons)."""
    s = card.base if card.kind == CardKind.DISCOUNT and card.base else card
    out = []
    if s.fuel_base_percent is not None:
        out.append(
            _(
                "Fuel: %(base)s %% + %(factor)s %% per index point above %(reference)s, "
                "held between %(floor)s %% and %(cap)s %%."
            )
            % {
                "base": _kg(s.fuel_base_percent),
                "factor": _kg(s.fuel_factor),
                "reference": _kg(s.fuel_reference),
                "floor": _kg(s.fuel_floor_percent),
                "cap": _kg(s.fuel_cap_percent),
            }  # fmt: skip
        )
    else:
        out.append(_("No fuel surcharge."))
    out.append(
        _(
            "Remote areas %(fee)s a waybill; COD %(cod)s %% (at least %(cod_min)s); "
            "insurance %(ins)s %% (at least %(ins_min)s)."
        )
        % {
            "fee": f"¥{_num(s.remote_fee)}",
            "cod": _kg(s.cod_percent),
            "cod_min": f"¥{_num(s.cod_min)}",
            "ins": _kg(s.insurance_percent),
            "ins_min": f"¥{_num(s.insurance_min)}",
        }  # fmt: skip
    )
    for p in services.peaks_of(card):
        figures = {"name": p.name, "start": p.start, "end": p.end, "percent": _kg(abs(p.percent))}
        if p.percent >= 0:
            line = _("Peak season %(name)s, %(start)s to %(end)s: %(percent)s %% of the freight.")
        else:
            line = _("Off-season %(name)s, %(start)s to %(end)s: %(percent)s %% off the freight.")
        out.append(line % figures)
    return out


def quote_document(quote: Quote) -> QuoteDocument:
    card = quote.card
    spec = services.card_spec(card, _EMPTY_MATRIX)
    cells = rate_cells(spec)
    zones = [(z.code, str(z)) for z in Zone.objects.all() if any(k[1] == z.code for k in cells)]
    products = [(v, str(label)) for v, label in Product.choices if any(k[0] == v for k in cells)]
    zone_names = dict(zones)
    product_names = dict(Product.choices)
    subject = quote.account.name if quote.account else str(quote.group)
    facts = [
        (_("Carrier"), carrier_name()),
        (_("Customer"), subject),
        (_("Quote number"), quote.number),
        (_("Revision"), str(quote.revision)),
        (_("Valid until"), f"{quote.valid_until:%Y-%m-%d}"),
        (_("Date"), f"{timezone.localdate():%Y-%m-%d}"),
    ]
    discounts = [
        [
            str(product_names.get(d.product, _("All products")))
            if d.product
            else _("All products"),
            zone_names.get(d.zone, d.zone) if d.zone else _("All zones"),
            d.from_kg,
            d.to_kg,
            d.percent,
        ]
        for d in spec.discounts
    ]
    return QuoteDocument(
        title=_("Quotation %(number)s") % {"number": quote.number},
        facts=facts,
        discount_heading=[_("Product"), _("Zone"), _("From (kg)"), _("To (kg)"), _("Discount (%)")],
        discounts=discounts,
        zones=zones,
        products=products,
        cells=cells,
        surcharges=surcharge_sentences(card),
        terms=quote.terms,
    )


def _filename(quote: Quote, ext: str) -> str:
    return f"quote-{quote.number}-r{quote.revision}.{ext}"


def quote_xlsx(quote: Quote) -> tuple[bytes, str]:
    """The quote as a workbook: the quote's facts and terms, its discounts, and the rate
    table after the discounts (one row per product and zone; weight breaks one per band)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    doc = quote_document(quote)
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101  # a new workbook always has its sheet
    sheet.title = _("Quote")[:31]
    sheet.append([doc.title])
    sheet["A1"].font = Font(bold=True, size=14)
    for label, value in doc.facts:
        sheet.append([label, value])
    sheet.append([])
    sheet.append([_("Surcharges")])
    for line in doc.surcharges:
        sheet.append([None, line])
    if doc.terms:
        sheet.append([])
        sheet.append([_("Terms"), doc.terms])
        sheet.cell(sheet.max_row, 2).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions["A"].width = 16
    sheet.column_dimensions["B"].width = 80

    sheet = book.create_sheet(_("Discounts")[:31])
    sheet.append(doc.discount_heading)
    for row in doc.discounts:
        sheet.append([row[0], row[1], float(row[2]), float(row[3]) if row[3] is not None
                      else None, float(row[4])])  # fmt: skip
    if not doc.discounts:
        sheet.append([_("No discounts: the list prices apply.")])

    sheet = book.create_sheet(_("Rates")[:31])
    sheet.append([
        _("Product"), _("Zone"), _("First weight (kg)"), _("First weight price"),
        _("Additional step (kg)"), _("Price per additional step"), _("List first weight price"),
        _("List additional step price"),
    ])  # fmt: skip
    names = dict(doc.zones)
    breaks: list[list[Any]] = []
    for product, product_name in doc.products:
        for zone, zone_name in doc.zones:
            cell = doc.cells.get((product, zone))
            if cell is None:
                continue
            if cell.bands:
                for lo, hi, rate, _d in cell.bands:
                    breaks.append([product_name, names[zone], float(lo),
                                   float(hi) if hi is not None else None, float(rate),
                                   float(cell.min_charge or 0)])  # fmt: skip
                continue
            sheet.append([
                product_name, zone_name, float(cell.first_kg or 0), float(cell.first_price or 0),
                float(cell.step_kg or 0), float(cell.step_price or 0),
                float(cell.first_list or 0), float(cell.step_list or 0),
            ])  # fmt: skip
    if breaks:
        sheet = book.create_sheet(_("Weight breaks")[:31])
        sheet.append([_("Product"), _("Zone"), _("From (kg)"), _("To (kg)"),
                      _("Per kg"), _("Minimum charge")])  # fmt: skip
        for row in breaks:
            sheet.append(row)
    for ws in book.worksheets[1:]:
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for letter in "ABCDEFGH":
            ws.column_dimensions[letter].width = 16
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), _filename(quote, "xlsx")


def _pdf_text(value: object) -> str:
    from xml.sax.saxutils import escape

    return escape(str(value).translate(_PDF_CHARS)).replace("\n", "<br/>")


def quote_pdf(quote: Quote) -> tuple[bytes, str]:
    """The quote as a PDF in the active language (A4 landscape)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    doc = quote_document(quote)
    styles = getSampleStyleSheet()
    body = styles["BodyText"].clone("kam-q-body", fontName=FONT, fontSize=8.5, leading=11,
                                    wordWrap="CJK")  # fmt: skip
    h1 = styles["Heading1"].clone("kam-q-h1", fontName=FONT, fontSize=15, leading=19)
    h2 = styles["Heading2"].clone("kam-q-h2", fontName=FONT, fontSize=11.5, leading=15)
    width = landscape(A4)[0] - 24 * mm
    grid = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9eef5")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]

    def para(value: object, bold: bool = False) -> Any:
        text = _pdf_text(value)
        return Paragraph(f"<b>{text}</b>" if bold else text, body)

    story: list[Any] = [Paragraph(_pdf_text(f"{carrier_name()} · {doc.title}"), h1)]
    facts = Table([[para(k, True), para(v)] for k, v in doc.facts],
                  colWidths=[width * 0.2, width * 0.8])  # fmt: skip
    facts.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [facts, Spacer(1, 3 * mm), Paragraph(_pdf_text(_("Discounts")), h2)]
    if doc.discounts:
        rows = [[para(h, True) for h in doc.discount_heading]] + [
            [para(r[0]), para(r[1]), para(_kg(r[2])), para(_kg(r[3]) if r[3] is not None else "—"),
             para(f"{_kg(r[4])} %")]
            for r in doc.discounts
        ]  # fmt: skip
        table = Table(rows, colWidths=[width / 5] * 5, repeatRows=1)
        table.setStyle(TableStyle(grid))
        story.append(table)
    else:
        story.append(para(_("No discounts: the list prices apply.")))
    story += [Spacer(1, 3 * mm), Paragraph(_pdf_text(_("Rates after the discounts")), h2)]
    story.append(para(_("First weight price / each additional step, in yuan.")))
    if doc.products:
        zone_names = [name for _c, name in doc.zones]
        rows = [[para(_("Product"), True)] + [para(z, True) for z in zone_names]]
        for product, product_name in doc.products:
            line = [para(product_name, True)]
            for zone, _name in doc.zones:
                cell = doc.cells.get((product, zone))
                line.append(para(cell.text() if cell else "—"))
            rows.append(line)
        n = len(zone_names)
        first = width * 0.16
        table = Table(rows, colWidths=[first] + [(width - first) / n] * n, repeatRows=1)
        table.setStyle(TableStyle(grid))
        story.append(table)
    else:
        story.append(para(_("This card has no rates yet.")))
    story += [Spacer(1, 3 * mm), Paragraph(_pdf_text(_("Surcharges")), h2)]
    story += [para(line) for line in doc.surcharges]
    if doc.terms:
        story += [Spacer(1, 3 * mm), Paragraph(_pdf_text(_("Terms")), h2), para(doc.terms)]
    out = io.BytesIO()
    pdf = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=12 * mm, title=doc.title,
                            author=carrier_name())  # fmt: skip
    pdf.build(story)
    return out.getvalue(), _filename(quote, "pdf")


# --- the card workbook ---------------------------------------------------------------------


def zone_codes() -> list[str]:
    return list(Zone.objects.values_list("code", flat=True))


def card_xlsx(card: RateCard) -> tuple[bytes, str]:
    """The card as the pricing team's workbook (``sheets.write_card``): a discount card
    gives its list card's rates and its own discounts. :class:`sheets.CardLayoutError` when
    a product's rates do not fit one sheet."""
    spec = services.card_spec(card, _EMPTY_MATRIX)
    tables = sheets.CardTables(spec.rules, spec.discounts, dict(spec.dim_divisor))
    return sheets.write_card(tables, zones=zone_codes()), f"card-{card.pk}.xlsx"


def read_card_for_import(data: bytes) -> sheets.CardTables:
    """The workbook's tables; :class:`sheets.SheetError` with every problem, including a
    zone that is not one of the system's zones (named by its cell). A product sheet need
    not have every zone: a card may leave a zone out."""
    problems: list[sheets.Problem] = []
    tables = None
    try:
        tables = sheets.read_card(data)
    except sheets.SheetError as exc:
        problems.extend(exc.problems)
    try:
        sheets.read_card(data, zones=zone_codes())
    except sheets.SheetError as exc:
        problems.extend(p for p in exc.problems if p.code == "unknown_zone" and p not in problems)
    if problems or tables is None:
        raise sheets.SheetError(problems)
    return tables


class ImportRefused(Exception):
    """The card cannot take an import (a sentence in the user's language)."""


def may_import(card: RateCard) -> str | None:
    """Why ``card`` cannot take an imported workbook, or None."""
    if card.kind not in (CardKind.LIST, CardKind.CUSTOM):
        return _("Only standard (list) and custom cards take a workbook of rates.")
    if card.status != CardStatus.DRAFT:
        return _("Only a draft card can be changed by an import; this card is %(status)s.") % {
            "status": card.get_status_display()
        }
    return None


@transaction.atomic
def store_card_tables(card: RateCard, tables: sheets.CardTables) -> int:
    """Replace ``card``'s rates, dimensional divisors and discounts with ``tables`` (all or
    nothing). The card is locked and checked to be a draft list or custom card inside the
    transaction. Returns how many rates were stored."""
    card = RateCard.objects.select_for_update().get(pk=card.pk)
    if (reason := may_import(card)) is not None:
        raise ImportRefused(reason)
    zones = {z.code: z for z in Zone.objects.all()}
    card.rules.all().delete()
    card.divisors.all().delete()
    first_additional = [
        services.RuleRow(p, z, r.first_kg, r.first_price, r.step_kg, r.step_price)
        for (p, z), r in tables.rules.items()
        if isinstance(r, rating.FirstAdditional)
    ]
    count = services.set_first_additional_rules(card, first_additional)
    for (product, zone), rule in tables.rules.items():
        if not isinstance(rule, rating.WeightBreaks):
            continue
        stored = RateRule.objects.create(
            card=card, product=product, zone=zones[zone], shape=RuleShape.WEIGHT_BREAKS,
            min_charge=rule.min_charge,
        )  # fmt: skip
        WeightBand.objects.bulk_create(
            WeightBand(rule=stored, from_kg=b.from_kg, to_kg=b.to_kg, per_kg=b.per_kg)
            for b in rule.bands
        )
        count += 1
    DimDivisor.objects.bulk_create(
        DimDivisor(card=card, product=p, divisor=d) for p, d in tables.dim_divisor.items()
    )
    services.set_discounts(card, tables.discounts)
    card.save(update_fields=["updated_at"])
    return count


# --- tenders -------------------------------------------------------------------------------


def place_resolver() -> Callable[[str], str | None]:
    """A tender cell's text (a GB/T 2260 code, a province or city name in Chinese or
    English) -> its code, or None."""
    from kam.ledger.lake import fold, region_aliases

    table = dict(region_aliases())

    def resolve(text: str) -> str | None:
        return table.get(fold(text))

    return resolve


def list_card_today(day: dt.date | None = None) -> RateCard | None:
    """The standard list card in force on ``day`` (today)."""
    day = day or timezone.localdate()
    return (
        RateCard.objects.filter(
            kind=CardKind.LIST, status=CardStatus.ACTIVE, effective_from__lte=day
        )  # fmt: skip
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .order_by("-effective_from")
        .first()
    )


def price_tender(
    lanes: Sequence[strategies.TenderLane],
    list_card: RateCard,
    *,
    target_margin_percent: Decimal,
    floor_percent: Decimal,
) -> strategies.Proposal:
    """``strategies.sealed_bid`` with the list card's rules, the zone matrix and the cost
    rates; :class:`strategies.StrategyError` for parameters it cannot work with."""
    spec = services.card_spec(list_card)
    return strategies.sealed_bid(
        lanes, zones=spec.zones, list_rules=spec.rules, cost_rates=services.cost_rates(),
        target_margin_percent=target_margin_percent, floor_percent=floor_percent,
    )  # fmt: skip


def bid_to_session(proposal: strategies.Proposal, lanes: Sequence[strategies.TenderLane],
                   ) -> dict[str, Any]:  # fmt: skip
    """The priced and unpriced lanes as plain strings (kept in the session for the bid
    sheet's download)."""
    priced_refs = {b.lane.ref for b in proposal.lanes}

    def lane(t: strategies.TenderLane) -> list[str]:
        return [t.ref, t.origin, t.destination, t.product, str(t.annual_waybills),
                str(t.weight_kg)]  # fmt: skip

    return {
        "priced": [
            [
                *lane(b.lane),
                b.zone,
                str(b.cost),
                str(b.list_price),
                str(b.price),
                str(b.discount_percent),
                str(b.margin_percent),
                str(b.annual_revenue),
                "1" if b.at_floor else "",
            ]
            for b in proposal.lanes
        ],  # fmt: skip
        "unpriced": [lane(t) for t in lanes if t.ref not in priced_refs],
    }


def bid_from_session(
    data: Mapping[str, Any],
) -> tuple[list[strategies.BidLane], list[strategies.TenderLane]]:
    def lane(row: Sequence[str]) -> strategies.TenderLane:
        return strategies.TenderLane(row[0], row[1], row[2], row[3], int(row[4]), Decimal(row[5]))

    priced = [
        strategies.BidLane(
            lane(r),
            r[6],
            Decimal(r[7]),
            Decimal(r[8]),
            Decimal(r[9]),
            Decimal(r[10]),
            Decimal(r[11]),
            Decimal(r[12]),
            bool(r[13]),
        )  # fmt: skip
        for r in data.get("priced", [])
    ]
    return priced, [lane(r) for r in data.get("unpriced", [])]


def bid_xlsx(data: Mapping[str, Any]) -> bytes:
    from kam.core import regions

    priced, unpriced = bid_from_session(data)
    return sheets.write_bid(priced, unpriced, place_name=regions.label)
