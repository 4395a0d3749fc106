"""A plan as an XLSX workbook (openpyxl) and as a PDF (ReportLab).

The PDF's text is set in Adobe's CID font ``STSong-Light`` (Simplified Chinese), which PDF
readers carry: Chinese renders without shipping or embedding a font file, and Latin text
too. Both exports show what the plan page shows, in the user's language."""

import io
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from .models import AccountPlan

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filename(plan: AccountPlan, ext: str) -> str:
    return f"account-plan-{plan.pk}-{plan.year}.{ext}"


def _num(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return str(value)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %"


def _status_labels() -> dict[str, str]:
    return {"on_track": _("On track"), "at_risk": _("At risk"), "off_track": _("Off track"),
            "no_data": _("No data")}  # fmt: skip


def _rag_labels() -> dict[str, str]:
    return {"red": _("Red"), "amber": _("Amber"), "green": _("Green")}


def _sections(ctx: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """The plan as titled tables (heading row, rows of text) for both exports."""
    plan: AccountPlan = ctx["plan"]
    row = ctx["row"]
    s = ctx["situation"]
    f = s.figures
    labels = _status_labels()
    head = [
        [_("Subject"), str(plan.subject)],
        [_("Year"), str(plan.year)],
        [_("Type"), str(plan.get_kind_display())],
        [_("Owner"), str(plan.owner)],
        [_("Plan team"), ", ".join(str(u) for u in ctx["team"]) or "—"],
        [_("Period"), f"{plan.start:%Y-%m-%d} – {plan.end:%Y-%m-%d}"],
        [_("Status"), str(plan.get_status_display())],
        [_("RAG"), _rag_labels()[row.rag.rag]],
        [_("Next review due"), f"{plan.next_review_due:%Y-%m-%d}"],
        [_("Where the account should go"), plan.ambition or "—"],
    ]
    situation = [
        [_("Revenue (CNY, 12 months)"), _num(f.values.get("revenue")), _pct(_growth(f, "revenue"))],
        [_("Volume (waybills, 12 months)"), _num(f.values.get("waybills")), _pct(_growth(f, "waybills"))],
        [_("Margin (CNY, 12 months)"), _num(f.values.get("margin")), _pct(_growth(f, "margin"))],
        [_("Tier"), _num(s.tier), ""],
        [_("Value score"), _num(getattr(s.valuation, "score", None)), ""],
        [_("Lifetime value"), _num(getattr(s.valuation, "clv", None)), ""],
        [_("Forecast (CNY, next 12 months)"), _num(s.forecast_12m), ""],
        [_("Share of wallet"), _pct(s.share_of_wallet) if s.share_of_wallet is not None
         else _("not yet estimated"), ""],
        [_("Relationship stage"), s.stage or _("not yet estimated"), ""],
        [_("Coverage compliance (90 days)"),
         _pct(s.compliance["rate"]) if s.compliance and s.compliance["rate"] is not None else "—", ""],
        [_("Open cases"), str(s.open_cases), ""],
        [_("SLA breaches (12 months)"), str(s.sla_breaches), ""],
        [_("Latest NPS"), _num(s.nps["nps"]) if s.nps else "—", ""],
        [_("Open alerts"), str(s.alert_count), ""],
    ]  # fmt: skip
    items = [[str(label), i.text] for _k, label, rows in ctx["swot"] + ctx["gpn"] for i in rows]
    objectives = [
        [str(v.objective), str(v.objective.get_metric_display()), v.baseline_text,
         v.target_text, f"{v.objective.target_date:%Y-%m-%d}",
         v.current_text, _pct(v.percent), labels[v.progress.status]]
        for v in row.objectives
    ]  # fmt: skip
    actions = [
        [a.title, str(a.get_horizon_display()), str(a.owner), f"{a.due_date:%Y-%m-%d}",
         a.resources, a.tracked_status_label]
        for a in ctx["actions"]
    ]  # fmt: skip
    reviews = [
        [f"{r.at:%Y-%m-%d}", str(r.by), str(r.get_decision_display()), r.comment]
        for r in ctx["reviews"]
    ]  # fmt: skip
    return [
        (_("Account plan"), [_("Field"), _("Value")], head),
        (_("Situation"), [_("Figure"), _("Value"), _("Growth")], situation),
        (_("Analysis (SWOT and GPN)"), [_("Kind"), _("Text")], items),
        (_("Objectives"), [_("Objective"), _("Metric"), _("Baseline"), _("Target"),
                           _("Target date"), _("Now"), _("Progress"), _("Status")], objectives),
        (pgettext("plan", "Actions"), [pgettext("plan", "Action"), _("Horizon"), _("Owner"), _("Due date"),
                        _("Resources asked for"), _("Status")], actions),
        (_("Reviews"), [_("Date"), _("Reviewed by"), _("Decision"), _("Comments")], reviews),
    ]  # fmt: skip


def _growth(f: Any, metric: str) -> float | None:
    g = f.growth(metric)
    return None if g is None else 100 * g


def xlsx_response(ctx: dict[str, Any]) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for title, heading, rows in _sections(ctx):
        ws = wb.create_sheet(title=title[:31].replace("/", " "))
        ws.append(heading)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for r in rows:
            ws.append(r)
        for column in ws.columns:
            width = max(len(str(c.value or "")) for c in column)
            ws.column_dimensions[column[0].column_letter].width = min(60, max(10, width * 1.6))
    out = io.BytesIO()
    wb.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{_filename(ctx["plan"], "xlsx")}"'
    return response


FONT = "STSong-Light"
#: Characters the CID font's GB encoding lacks, and what stands in for them.
_PDF_CHARS = str.maketrans({"·": "/", "–": "~", "¥": "￥"})


def _pdf_text(value: object) -> str:
    from xml.sax.saxutils import escape

    return escape(str(value).translate(_PDF_CHARS)).replace("\n", "<br/>")


def pdf_bytes(ctx: dict[str, Any]) -> bytes:

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    styles = getSampleStyleSheet()
    body = styles["BodyText"].clone("kam-body", fontName=FONT, fontSize=8.5, leading=11,
                                    wordWrap="CJK")  # fmt: skip
    h1 = styles["Heading1"].clone("kam-h1", fontName=FONT, fontSize=15, leading=19)
    h2 = styles["Heading2"].clone("kam-h2", fontName=FONT, fontSize=11.5, leading=15)
    plan: AccountPlan = ctx["plan"]
    story: list[Any] = [
        Paragraph(_pdf_text(f"{_('Account plan')} {plan.year}: {plan.subject}"), h1),
    ]
    width = landscape(A4)[0] - 24 * mm
    for title, heading, rows in _sections(ctx):
        story.append(Paragraph(_pdf_text(title), h2))
        if not rows:
            story.append(Paragraph(_pdf_text(_("None yet.")), body))
            continue
        data = [[Paragraph(f"<b>{_pdf_text(h)}</b>", body) for h in heading]] + [
            [Paragraph(_pdf_text(c), body) for c in r] for r in rows
        ]
        n = len(heading)
        widths = [width * 0.3, width * 0.7] if n == 2 else [width / n] * n
        table = Table(data, colWidths=widths, repeatRows=1)
        table.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9eef5")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))  # fmt: skip
        story += [table, Spacer(1, 4 * mm)]
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=12 * mm,
                            title=f"{_('Account plan')} {plan.year}", author="KAM")  # fmt: skip
    doc.build(story)
    return out.getvalue()


def pdf_response(ctx: dict[str, Any]) -> HttpResponse:
    response = HttpResponse(pdf_bytes(ctx), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_filename(ctx["plan"], "pdf")}"'
    return response
