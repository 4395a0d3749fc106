"""The quote's documents (PDF, XLSX), the card workbook's export and import, and the tender
page with its bid sheet."""

import base64
import datetime as dt
import io
import re
import zlib
from decimal import Decimal as D

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from kam.pricing import documents, quotes, rating, services, sheets, strategies
from kam.pricing.models import (
    CardKind,
    CardStatus,
    CostRate,
    RateCard,
    RateRule,
    RuleShape,
    WeightBand,
)
from tests.factories import AccountFactory

from . import support

pytestmark = pytest.mark.django_db

START = dt.date(2026, 1, 1)


@pytest.fixture
def zones():
    return support.zones()


@pytest.fixture
def list_card(zones) -> RateCard:
    card = RateCard.objects.create(
        name="标准价目表", kind=CardKind.LIST, effective_from=START, fuel_base_percent=D("5"),
        remote_fee=D("8"),
    )  # fmt: skip
    services.set_first_additional_rules(
        card,
        [services.RuleRow("express", code, D("1"), D("20"), D("0.5"), D("4")) for code in zones],
    )
    return services.activate_card(card)


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def quote(list_card, account_a, owner):
    return quotes.quote_create(
        by=owner, account=account_a, strategy="cost_plus",
        discounts=[rating.Discount(D("30")), rating.Discount(D("50"), "express", "zone3")],
        valid_until=timezone.localdate() + dt.timedelta(days=30), terms="月结，30天付款",
    )  # fmt: skip


def _pdf_strings(data: bytes) -> str:
    """The text shown by the PDF's content streams: each stream un-ASCII85-ed and inflated
    (ReportLab's default filters), each literal string unescaped and read as the CID
    font's UCS-2 (UniGB-UCS2-H, big endian)."""
    shown = []
    for head, body in re.findall(rb"<<(.*?)>>\s*stream\r?\n(.*?)endstream", data, re.S):
        if b"ASCII85Decode" in head:
            body = base64.a85decode(body.strip().removesuffix(b"~>"))
        if b"FlateDecode" in head:
            body = zlib.decompress(body)
        for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", body, re.S):
            raw = re.sub(
                rb"\\([0-7]{1,3}|.)",
                lambda m: bytes([int(m.group(1), 8)]) if m.group(1)[:1].isdigit()
                else {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(m.group(1), m.group(1)),
                literal,
                flags=re.S,
            )  # fmt: skip
            shown.append(raw.decode("utf-16-be", errors="replace"))
    return "".join(shown)


# --- the quote -------------------------------------------------------------------------


def test_the_quote_pdf_is_set_in_the_cid_font_and_holds_the_account_name(quote, owner):
    response = login(owner).get(reverse("pricing:quote_pdf", args=[quote.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert quote.number in response["Content-Disposition"]
    data = response.content
    assert data.startswith(b"%PDF")
    assert b"STSong-Light" in data  # the CID font, not embedded: no font file shipped
    assert b"/FontFile" not in data
    text = _pdf_strings(data)
    assert quote.account.name in text  # 测试客户…有限公司, in the CID font's glyphs
    assert quote.number in text
    # The rate table after the discounts: zone 1 is 30 % off 20 + 4; zone 3 50 % off.
    assert "￥14.00 / 1 kg" in text and "+￥2.80 / 0.5 kg" in text
    assert "￥10.00 / 1 kg" in text
    assert "月结，30天付款" in text


def test_the_quote_xlsx_holds_the_discounts_and_the_rates_after_them(quote, owner):
    response = login(owner).get(
        reverse("pricing:quote_xlsx", args=[quote.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Quote", "Discounts", "Rates"]
    facts = {r[0]: r[1] for r in book["Quote"].iter_rows(values_only=True) if r and r[0]}
    assert facts["Customer"] == quote.account.name
    assert facts["Quote number"] == quote.number
    assert "月结" in facts["Terms"]
    assert any("Fuel: 5 %" in (r[1] or "") for r in book["Quote"].iter_rows(values_only=True))
    discounts = list(book["Discounts"].iter_rows(values_only=True))
    assert discounts[0] == ("Product", "Zone", "From (kg)", "To (kg)", "Discount (%)")
    assert sorted(r[4] for r in discounts[1:]) == [30, 50]
    rates = {(r[0], r[1]): r for r in list(book["Rates"].iter_rows(values_only=True))[1:]}
    zone1 = rates[("Express (特快)", "Zone 1 (same region)")]
    assert zone1[2:] == (1, 14, 0.5, 2.8, 20, 4)  # 30 % off 20 and 4
    zone3 = rates[("Express (特快)", "Zone 3 (far)")]
    assert (zone3[3], zone3[5]) == (10, 2)  # the zone's own 50 % wins


def test_the_quote_documents_follow_the_users_language(quote, owner):
    client = login(owner)
    url = reverse("pricing:quote_xlsx", args=[quote.pk])
    chinese = load_workbook(io.BytesIO(client.get(url).content))  # zh-hans by default
    english = load_workbook(io.BytesIO(client.get(url, HTTP_ACCEPT_LANGUAGE="en").content))
    zones_zh = {r[1] for r in list(chinese.worksheets[2].iter_rows(values_only=True))[1:]}
    zones_en = {r[1] for r in list(english.worksheets[2].iter_rows(values_only=True))[1:]}
    assert "一区（同大区）" in zones_zh and "Zone 1 (same region)" not in zones_zh
    assert "Zone 1 (same region)" in zones_en
    assert quote.number in chinese.worksheets[0]["A1"].value


def test_a_foreign_quote_gives_404(quote, colleague, outsider):
    for user in (colleague, outsider):
        client = login(user)
        for name in ("pricing:quote_pdf", "pricing:quote_xlsx"):
            assert client.get(reverse(name, args=[quote.pk])).status_code == 404
    assert login(colleague).get(reverse("pricing:quote_pdf", args=[999999])).status_code == 404


def test_the_quote_page_hook_links_its_documents(quote):
    page = render_to_string("pricing/_quote_documents.html", {"quote": quote})
    assert reverse("pricing:quote_pdf", args=[quote.pk]) in page
    assert reverse("pricing:quote_xlsx", args=[quote.pk]) in page


# --- the card's workbook ---------------------------------------------------------------


def _draft(zones, kind=CardKind.CUSTOM, **kw) -> RateCard:
    account = kw.pop("account", None) or AccountFactory()
    card = RateCard.objects.create(
        name="定制价", kind=kind, account=account, effective_from=START, **kw
    )
    services.set_first_additional_rules(
        card, [services.RuleRow("express", code, D("1"), D("9"), D("1"), D("1")) for code in zones]
    )
    return card


def test_a_card_exports_as_the_workbook_sheets_reads_back(list_card, department):
    response = login(department).get(reverse("pricing:card_xlsx", args=[list_card.pk]))
    assert response.status_code == 200
    tables = sheets.read_card(response.content)
    assert tables.rules[("express", "zone2")] == rating.FirstAdditional(
        D("1"), D("20"), D("0.5"), D("4")
    )
    assert len(tables.rules) == 6


def test_a_workbook_replaces_a_draft_cards_rates(zones, list_card, department):
    card = _draft(zones)
    rules = {
        ("express", z): rating.FirstAdditional(D("1"), D("12"), D("0.5"), D("3")) for z in zones
    }
    rules[("ground", "zone1")] = rating.WeightBreaks(
        (rating.Band(D("0"), D("30"), D("2")), rating.Band(D("30"), None, D("1.5"))), D("25")
    )
    data = sheets.write_card(
        sheets.CardTables(rules, (rating.Discount(D("10"), "express"),), {"express": 6000}),
        zones=list(zones),
    )
    client = login(department)
    url = reverse("pricing:card_import", args=[card.pk])
    assert "card-import-form" in client.get(url).content.decode()
    response = client.post(url, {"file": io.BytesIO(data)}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("pricing:card", args=[card.pk])
    spec = services.card_spec(card)
    assert spec.rules == rules
    assert spec.discounts == (rating.Discount(D("10"), "express"),)
    assert spec.dim_divisor == {"express": 6000}
    assert RateRule.objects.filter(card=card, shape=RuleShape.WEIGHT_BREAKS).count() == 1


def test_a_bad_workbook_lists_every_problem_by_sheet_and_cell_and_stores_nothing(zones, department):
    card = _draft(zones)
    before = services.card_spec(card).rules
    book = Workbook()
    sheet = book.active
    sheet.title = "特快"
    sheet.append(["计费方式", "首重续重"])
    sheet.append(["区域", "同城", "火星"])
    sheet.append(["首重重量(kg)", 1, 1])
    sheet.append(["首重(元)", "abc", 10])
    sheet.append(["续重重量(kg)", 1, -1])
    sheet.append(["续重(元)", 2, 2])
    out = io.BytesIO()
    book.save(out)
    response = login(department).post(
        reverse("pricing:card_import", args=[card.pk]),
        {"file": io.BytesIO(out.getvalue())},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    problems = {(p["sheet"], p["cell"]): p["text"] for p in response.context["problems"]}
    assert problems[("特快", "B4")] == "Not a number: abc."
    assert problems[("特快", "C5")] == "Must not be negative."
    assert "火星" in problems[("特快", "C2")]
    assert services.card_spec(card).rules == before


def test_an_unknown_zone_in_an_otherwise_good_workbook_is_named_by_its_cell(zones, department):
    card = _draft(zones)
    rules = {("express", "mars"): rating.FirstAdditional(D("1"), D("12"), D("0.5"), D("3"))}
    data = sheets.write_card(sheets.CardTables(rules))
    response = login(department).post(
        reverse("pricing:card_import", args=[card.pk]), {"file": io.BytesIO(data)}
    )
    assert [(p["sheet"], p["cell"]) for p in response.context["problems"]] == [("特快", "B2")]
    assert "mars" in response.context["problems"][0]["text"]


def test_a_file_that_is_no_workbook_is_one_problem(zones, department):
    card = _draft(zones)
    response = login(department).post(
        reverse("pricing:card_import", args=[card.pk]),
        {"file": io.BytesIO(b"not a workbook")},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    texts = [p["text"] for p in response.context["problems"]]
    assert len(texts) == 1 and texts[0].startswith("The workbook could not be read")
    assert services.card_spec(card).rules[("express", "zone1")].first_price == D("9")


def test_active_and_discount_cards_are_not_changed_by_import(zones, list_card, department):
    discount = RateCard.objects.create(
        name="折扣", kind=CardKind.DISCOUNT, account=AccountFactory(), base=list_card,
        effective_from=START,
    )  # fmt: skip
    data = sheets.write_card(
        sheets.CardTables(
            {("express", "zone1"): rating.FirstAdditional(D("1"), D("1"), D("1"), D("1"))}
        )
    )
    client = login(department)
    for card in (list_card, discount):
        response = client.post(
            reverse("pricing:card_import", args=[card.pk]), {"file": io.BytesIO(data)},
            follow=True, HTTP_ACCEPT_LANGUAGE="en",
        )  # fmt: skip
        text = " ".join(str(m) for m in response.context["messages"])
        assert "draft" in text or "custom" in text
    assert services.card_spec(list_card).rules[("express", "zone1")].first_price == D("20")
    assert list_card.status == CardStatus.ACTIVE


def test_only_the_department_and_directors_import(zones, owner, analyst, account_a):
    card = _draft(zones, account=account_a)
    for user in (owner, analyst):
        response = login(user).post(reverse("pricing:card_import", args=[card.pk]), {})
        assert response.status_code == 403


def test_a_foreign_card_gives_404(zones, colleague, account_a):
    card = _draft(zones, account=account_a)
    client = login(colleague)
    assert client.get(reverse("pricing:card_xlsx", args=[card.pk])).status_code == 404
    assert client.get(reverse("pricing:card_import", args=[card.pk])).status_code == 404


# --- tenders ---------------------------------------------------------------------------


def _tender(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "招标"
    sheet.append(list(sheets.TENDER_HEADINGS))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def costs(zones):
    for zone in zones.values():
        CostRate.objects.create(product="express", zone=zone, per_waybill=D("5"), per_kg=D("1"))


def test_a_tender_is_priced_on_the_page_and_its_bid_sheet_downloads(
    list_card, costs, account_a, owner
):
    data = _tender([
        ["L1", "深圳", "广州", "特快", 1200, 2],
        ["L2", "440300", "上海", "特快", 600, 1],
    ])  # fmt: skip
    client = login(owner)
    response = client.post(
        reverse("pricing:tender"),
        {"account": account_a.pk, "target": "20", "floor": "5", "file": io.BytesIO(data)},
    )
    assert response.status_code == 200
    result = response.context["result"]
    rows = {r["ref"]: r for r in result["rows"]}
    # cost 5 + 2 kg x 1 = 7 a waybill; a 20 % margin: 7 x 100 / 80 = 8.75
    assert rows["L1"]["price"] == D("8.75") and rows["L1"]["cost"] == D("7.00")
    assert rows["L2"]["price"] == D("7.50")
    assert result["total"] == D("8.75") * 1200 + D("7.50") * 600
    bid = client.get(reverse("pricing:tender_bid"))
    assert bid.status_code == 200
    sheet = load_workbook(io.BytesIO(bid.content))[sheets.BID_SHEET]
    lines = list(sheet.iter_rows(values_only=True))
    assert lines[0] == sheets.BID_HEADINGS
    assert [(r[0], r[7]) for r in lines[1:3]] == [("L1", 8.75), ("L2", 7.5)]
    assert lines[-1][0] == "合计" and lines[-1][8] == float(result["total"])


def test_unknown_places_in_a_tender_are_refused_naming_the_cell(list_card, costs, account_a, owner):
    data = _tender([["L1", "深圳", "亚特兰蒂斯", "特快", 100, 1], ["L2", "", "广州", "特快", 1, 1]])
    response = login(owner).post(
        reverse("pricing:tender"),
        {"account": account_a.pk, "target": "20", "floor": "5", "file": io.BytesIO(data)},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    problems = {(p["sheet"], p["cell"]): p["text"] for p in response.context["problems"]}
    assert "亚特兰蒂斯" in problems[("招标", "C2")]
    assert problems[("招标", "B3")] == "This cell must have a value."
    assert response.context["result"] is None


def test_tender_parameters_are_checked(list_card, costs, account_a, owner):
    data = _tender([["L1", "深圳", "广州", "特快", 100, 1]])
    response = login(owner).post(
        reverse("pricing:tender"),
        {"account": account_a.pk, "target": "abc", "floor": "120", "file": io.BytesIO(data)},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    errors = response.context["errors"]
    assert any("target margin" in e for e in errors) and any("floor" in e for e in errors)
    assert response.context["result"] is None


def test_a_lane_without_a_cost_rate_is_flagged_not_priced(list_card, zones, account_a, owner):
    CostRate.objects.create(product="express", zone=zones["same_province"], per_waybill=D("5"),
                            per_kg=D("1"))  # fmt: skip
    data = _tender([["L1", "深圳", "广州", "特快", 100, 1], ["L2", "深圳", "上海", "特快", 1, 1]])
    client = login(owner)
    response = client.post(
        reverse("pricing:tender"),
        {"account": account_a.pk, "target": "20", "floor": "5", "file": io.BytesIO(data)},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    result = response.context["result"]
    assert [r["ref"] for r in result["rows"]] == ["L1"] and result["unpriced"] == 1
    assert result["warnings"] == [("L2", "No cost rate in zone zone2: not priced.")]
    bid = client.get(reverse("pricing:tender_bid")).content
    lines = list(load_workbook(io.BytesIO(bid)).active.iter_rows(values_only=True))
    assert [r[0] for r in lines] == ["序号", "L1", "L2", "合计"]
    assert lines[2][9] == "未报价"


def test_a_manager_prices_tenders_only_for_their_accounts(
    list_card, costs, account_a, account_b, owner, analyst
):
    data = _tender([["L1", "深圳", "广州", "特快", 100, 1]])
    response = login(owner).post(
        reverse("pricing:tender"),
        {"account": account_b.pk, "target": "20", "floor": "5", "file": io.BytesIO(data)},
    )
    assert response.status_code == 404
    response = login(owner).post(
        reverse("pricing:tender"),
        {"account": "", "target": "20", "floor": "5", "file": io.BytesIO(data)},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.context["errors"] == ["Choose the account the tender is from."]
    assert login(analyst).get(reverse("pricing:tender")).status_code == 403
    assert login(owner).get(reverse("pricing:tender_bid")).status_code == 302


def test_sealed_bid_is_fed_the_list_cards_rules(list_card, costs):
    lanes = [strategies.TenderLane("1", "440300", "440100", "express", 10, D("1"))]
    proposal = documents.price_tender(
        lanes, list_card, target_margin_percent=D("20"), floor_percent=D("5")
    )
    assert proposal.lanes[0].list_price == D("20")


def test_the_tender_page_offers_the_users_accounts(account_a, account_b, owner, list_card):
    response = login(owner).get(reverse("pricing:tender"), {"account": account_a.pk})
    assert response.status_code == 200
    assert [a.pk for a in response.context["accounts"]] == [account_a.pk]
    assert response.context["values"]["account"] == account_a
    assert f'value="{account_b.pk}"' not in response.content.decode()


def test_the_card_page_offers_export_and_import_by_role(zones, department, owner, account_a):
    card = _draft(zones, account=account_a)
    page = login(department).get(reverse("pricing:card", args=[card.pk])).content.decode()
    assert reverse("pricing:card_xlsx", args=[card.pk]) in page
    assert reverse("pricing:card_import", args=[card.pk]) in page
    page = login(owner).get(reverse("pricing:card", args=[card.pk])).content.decode()
    assert reverse("pricing:card_xlsx", args=[card.pk]) in page
    assert reverse("pricing:card_import", args=[card.pk]) not in page
    card.status = CardStatus.ACTIVE
    card.save()
    page = login(department).get(reverse("pricing:card", args=[card.pk])).content.decode()
    assert reverse("pricing:card_import", args=[card.pk]) not in page


def test_weight_breaks_are_discounted_band_by_band_in_the_quote_xlsx(quote, owner, zones):
    rule = RateRule.objects.create(
        card=quote.card.base, product="ground", zone=zones["zone1"],
        shape=RuleShape.WEIGHT_BREAKS, min_charge=D("30"),
    )  # fmt: skip
    WeightBand.objects.create(rule=rule, from_kg=D(0), to_kg=D(30), per_kg=D("2"))
    WeightBand.objects.create(rule=rule, from_kg=D(30), to_kg=None, per_kg=D("1.5"))
    services.set_discounts(
        quote.card, [rating.Discount(D("30")), rating.Discount(D("40"), "ground", None, D("30"))]
    )
    response = login(owner).get(
        reverse("pricing:quote_xlsx", args=[quote.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    rows = list(load_workbook(io.BytesIO(response.content))["Weight breaks"].iter_rows(
        values_only=True
    ))  # fmt: skip
    assert rows[1:] == [
        ("Ground (陆运)", "Zone 1 (same region)", 0, 30, 1.4, 21),  # 30 % off
        ("Ground (陆运)", "Zone 1 (same region)", 30, None, 0.9, 21),  # 40 % from 30 kg
    ]


def test_a_card_without_rates_is_not_exported_and_says_why(zones, department):
    card = RateCard.objects.create(
        name="空", kind=CardKind.CUSTOM, account=AccountFactory(), effective_from=START
    )
    response = login(department).get(
        reverse("pricing:card_xlsx", args=[card.pk]), follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.redirect_chain[-1][0] == reverse("pricing:card", args=[card.pk])
    assert "no rates" in " ".join(str(m) for m in response.context["messages"])
