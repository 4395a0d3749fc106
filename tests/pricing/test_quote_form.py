"""The quote form's reverse pricing (the customer's target price per lane, in two steps
without JavaScript) and seasons (differential pricing's surcharges and off-season
reductions, stored on the quote's card, shown, and used by the what-if)."""

import datetime as dt
import html
import re
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kam.accounts.models import Account
from kam.pricing import proposals, quotes, rating, services, strategies, whatif
from kam.pricing.models import PeakSurcharge, PriceGuidance, Quote
from tests.ledger.conftest import good_row, import_file, write_waybills

from .support import standard_card, tier_one_guidance

pytestmark = pytest.mark.django_db


@pytest.fixture
def standard(db):
    card = standard_card(name="标准价 2026", start=dt.date(2024, 1, 1), first="20", step="5")
    tier_one_guidance()
    return card


@pytest.fixture
def waybills(tmp_path, account_a):
    """Twelve waybills of account A, 2026-01-05 (福州 → 上海, 1.25 kg: list 25.00,
    freight 12.50 and surcharges 1.00, cost 8.00)."""
    batch = import_file(write_waybills(tmp_path / "w.csv", [good_row(i) for i in range(1, 13)]))
    assert batch.status == "committed", batch.message
    return batch


def login(client, user, language="en"):
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    return client


EMPTY = {"d-TOTAL_FORMS": "3", "d-INITIAL_FORMS": "0", "d-MIN_NUM_FORMS": "0",
         "d-MAX_NUM_FORMS": "60", "valid_until": "", "terms": ""}  # fmt: skip


def lane_rows(price):
    """The target rows of account A's one lane (express, zone 1, 1 to 3 kg)."""
    return {"t-TOTAL_FORMS": "1", "t-INITIAL_FORMS": "1", "t-0-product": "express",
            "t-0-zone": "zone1", "t-0-from_kg": "1", "t-0-to_kg": "3", "t-0-price": price}  # fmt: skip


def seasons(*rows):
    data = {"s-TOTAL_FORMS": str(len(rows)), "s-INITIAL_FORMS": "0"}
    for n, (keep, name, start, end, percent) in enumerate(rows):
        data |= {f"s-{n}-name": name, f"s-{n}-start": start, f"s-{n}-end": end,
                 f"s-{n}-percent": percent}  # fmt: skip
        if keep:
            data[f"s-{n}-keep"] = "on"
    return data


# --- reverse pricing ---------------------------------------------------------------------


def test_reverse_pricing_lists_the_lanes_then_proposes_from_the_target_prices(
    client, standard, owner, account_a, waybills
):
    login(client, owner)
    url = f"/pricing/quotes/new/?account={account_a.pk}"
    first = client.post(url, {**EMPTY, "propose": "1", "p-strategy": "reverse"}).content.decode()
    # Step one: a row per lane with its waybills, today's revenue and list price per waybill.
    assert 'id="quote-targets-ask"' in first and 'name="t-0-price"' in first
    assert 'id="quote-proposal"' not in first
    row = re.search(r"<tbody>(.*?)</tbody>", first.split('id="target-rows"')[1], re.S).group(1)
    assert "Express" in row and "1–3 kg" in row
    assert ">12<" in row and "¥12.50" in row and "¥25.00" in row  # freight, not surcharges
    assert 'name="t-0-price"' in row and "autofocus" in row
    # Step two: 18.00 a waybill on 12 waybills is 216.00 against a list of 300.00: 28 % off,
    # a margin of 55.56 % on cost 96.00 (above the 10 % floor).
    page = client.post(url, {**EMPTY, "propose": "1", "p-strategy": "reverse",
                             **lane_rows("18")}).content.decode()  # fmt: skip
    assert 'id="quote-proposal"' in page
    assert 'name="d-0-percent" value="28.0000"' in page
    assert 'name="d-0-product" value="express"' not in page  # a select, not a text box
    assert re.search(r'name="d-0-zone".*?<option value="zone1" selected>', page, re.S)
    assert 'name="d-0-from_kg" value="1"' in page and 'name="d-0-to_kg" value="3"' in page
    assert "Customer&#x27;s target 18 a waybill x 12 waybills = 216.00." in page
    assert 'name="t-0-price" value="18"' in page  # the targets stay for another try
    workings = html.unescape(re.search(r'name="workings" value="([^"]*)"', page).group(1))
    saved = client.post(url, {
        **EMPTY, "strategy": "reverse", "workings": workings, "d-0-percent": "28",
        "d-0-product": "express", "d-0-zone": "zone1", "d-0-from_kg": "1", "d-0-to_kg": "3",
        "valid_until": (timezone.localdate() + dt.timedelta(days=9)).isoformat(),
    })  # fmt: skip
    assert saved.status_code == 302
    quote = Quote.objects.get()
    assert quote.strategy == "reverse" and any("216.00" in w["text"] for w in quote.workings)
    assert list(quote.card.discounts.values_list("percent", "from_kg", "to_kg")) == [
        (D("28"), D("1"), D("3"))
    ]


def test_a_target_below_the_floor_is_priced_at_the_floor_and_says_so(
    client, standard, owner, account_a, waybills
):
    login(client, owner)
    page = client.post(f"/pricing/quotes/new/?account={account_a.pk}", {
        **EMPTY, "propose": "1", "p-strategy": "reverse", **lane_rows("5"),
    }).content.decode()  # fmt: skip
    # 60.00 is below the floor revenue 96.00 / 0.9 = 106.67: 64.443 % off, and a warning.
    assert "priced at the floor, 106.67" in page
    assert 'name="d-0-percent" value="64.4430"' in page


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("-3", "A target price cannot be negative."),
        ("abc", "Type the target price as a number of yuan, e.g. 12.50."),
        ("", "Give the customer&#x27;s target price for at least one lane."),
        ("1.23456", "Give the target price to at most four decimals."),
    ],
)
def test_bad_target_prices_are_refused_on_the_row(
    client, standard, owner, account_a, waybills, price, message
):
    login(client, owner)
    page = client.post(f"/pricing/quotes/new/?account={account_a.pk}", {
        **EMPTY, "propose": "1", "p-strategy": "reverse", **lane_rows(price),
    }).content.decode()  # fmt: skip
    assert message in page
    assert 'id="quote-proposal"' not in page and 'name="t-0-price"' in page
    assert not Quote.objects.exists()


def test_bad_target_prices_are_refused_in_chinese(client, standard, owner, account_a, waybills):
    login(client, owner, "zh-hans")
    url = f"/pricing/quotes/new/?account={account_a.pk}"
    page = client.post(url, {**EMPTY, "propose": "1", "p-strategy": "reverse",
                             **lane_rows("-3")}).content.decode()  # fmt: skip
    assert "目标价不能为负数。" in page
    none = client.post(url, {**EMPTY, "propose": "1", "p-strategy": "reverse",
                             **lane_rows("")}).content.decode()  # fmt: skip
    assert "请至少为一条线路填写客户的目标价。" in none


def test_reverse_pricing_without_a_margin_floor_says_so(
    client, standard, owner, account_a, waybills
):
    PriceGuidance.objects.all().delete()
    login(client, owner)
    page = client.post(f"/pricing/quotes/new/?account={account_a.pk}", {
        **EMPTY, "propose": "1", "p-strategy": "reverse",
    }).content.decode()  # fmt: skip
    assert 'id="quote-propose-error"' in page
    assert "no price guidance is set for tier 1" in page
    assert 'name="t-0-price"' not in page


def test_reverse_pricing_without_shipments_says_so(client, standard, owner, account_a):
    login(client, owner)
    page = client.post(f"/pricing/quotes/new/?account={account_a.pk}", {
        **EMPTY, "propose": "1", "p-strategy": "reverse",
    }).content.decode()  # fmt: skip
    assert "The account has no shipments in the ledger" in page


# --- seasons ------------------------------------------------------------------------------


def test_the_suggested_seasons_are_the_coming_ones_in_date_order():
    got = proposals.suggested_seasons(dt.date(2026, 12, 4))
    assert [(s.name, s.start, s.end, s.percent) for s in got] == [
        ("双十二 / 12.12", dt.date(2026, 12, 8), dt.date(2026, 12, 16), D(0)),
        ("春节 / Spring Festival", dt.date(2027, 1, 27), dt.date(2027, 2, 13), D(0)),
        ("双十一 / 11.11", dt.date(2027, 11, 1), dt.date(2027, 11, 15), D(0)),
    ]
    spring = proposals.suggested_seasons(dt.date(2026, 2, 20))
    assert [s.start for s in spring] == [dt.date(2026, 2, 7), dt.date(2026, 11, 1),
                                         dt.date(2026, 12, 8)]  # fmt: skip
    # Any year's New Year from the lunar calendar (2040: 12 February), no table to run out.
    late = proposals.suggested_seasons(dt.date(2039, 12, 20))
    assert [s.start for s in late if "春节" in s.name] == [dt.date(2040, 2, 2)]


def test_the_new_quote_form_offers_the_seasons_unticked(client, standard, owner, account_a):
    login(client, owner)
    page = client.get(f"/pricing/quotes/new/?account={account_a.pk}").content.decode()
    assert 'id="season-rows"' in page and "双十一 / 11.11" in page and "春节" in page
    assert not re.search(r'name="s-0-keep"[^>]*checked', page)
    assert re.search(r'name="s-3-keep"[^>]*checked', page)  # an empty row, ticked


def test_differential_pricing_proposes_the_kept_seasons_and_the_quote_stores_them(
    client, standard, owner, account_a, waybills
):
    login(client, owner)
    url = f"/pricing/quotes/new/?account={account_a.pk}"
    rows = seasons(
        (True, "双十一 / 11.11", "2027-11-01", "2027-11-15", "5"),
        (False, "双十二 / 12.12", "2027-12-08", "2027-12-16", ""),  # a suggestion not kept
        (True, "淡季 / off-season", "2027-07-01", "2027-07-31", "-10"),
    )
    page = client.post(url, {**EMPTY, **rows, "propose": "1",
                             "p-strategy": "differential"}).content.decode()  # fmt: skip
    assert 'id="quote-proposal"' in page
    assert "Season 淡季 / off-season, 2027-07-01 to 2027-07-31: -10 % of the freight." in page
    assert "Season 双十一 / 11.11, 2027-11-01 to 2027-11-15: 5 % of the freight." in page
    assert "双十二" not in "".join(re.findall(r"<li>.*?</li>", page))
    assert 'name="s-2-percent" value="-10"' in page  # the rows stay as typed
    workings = html.unescape(re.search(r'name="workings" value="([^"]*)"', page).group(1))
    valid = (timezone.localdate() + dt.timedelta(days=9)).isoformat()
    saved = client.post(url, {**EMPTY, **rows, "strategy": "differential", "workings": workings,
                              "valid_until": valid, "d-0-percent": "13"})  # fmt: skip
    assert saved.status_code == 302
    quote = Quote.objects.get()
    assert list(quote.card.peaks.values_list("name", "start", "end", "percent")) == [
        ("淡季 / off-season", dt.date(2027, 7, 1), dt.date(2027, 7, 31), D("-10")),
        ("双十一 / 11.11", dt.date(2027, 11, 1), dt.date(2027, 11, 15), D("5")),
    ]
    detail = client.get(saved["Location"]).content.decode()
    section = detail.split('id="quote-seasons"')[1].split("</div>")[0]
    assert "淡季 / off-season" in section and "-10 %" in section and "+5 %" in section
    assert "off-season reduction" in section
    # Changing the quote shows its seasons ticked; a change without season rows keeps them.
    edit = client.get(f"/pricing/quotes/{quote.pk}/edit/").content.decode()
    assert re.search(r'name="s-0-keep"[^>]*checked', edit) and 'value="淡季 / off-season"' in edit
    kept = client.post(f"/pricing/quotes/{quote.pk}/edit/", {
        **EMPTY, "strategy": "differential", "valid_until": valid, "d-0-percent": "12",
    })  # fmt: skip
    assert kept.status_code == 302 and quote.card.peaks.count() == 2
    dropped = client.post(f"/pricing/quotes/{quote.pk}/edit/", {
        **EMPTY, **seasons((False, "淡季", "2027-07-01", "2027-07-31", "-10")),
        "strategy": "differential", "valid_until": valid, "d-0-percent": "12",
    })  # fmt: skip
    assert dropped.status_code == 302 and not quote.card.peaks.exists()


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (((True, "A", "2027-11-01", "2027-11-15", "5"), (True, "B", "2027-11-10", "2027-11-20", "3")),
         "This season overlaps “A” (2027-11-01 to 2027-11-15)."),
        (((True, "A", "2027-11-15", "2027-11-01", "5"),), "The season ends before it starts."),
        (((True, "A", "2027-11-01", "2027-11-15", "-101"),),
         "A reduction cannot take off more than the freight (-100 %)."),
        (((True, "A", "2027-11-01", "2027-11-15", "lots"),),
         "Type the percentage as a number, e.g. 5 or -10."),
        (((True, "", "2027-11-01", "2027-11-15", "5"),), "Name the season."),
        (((True, "A", "2027-11-01", "2027-11-15", ""),),
         "Give the season&#x27;s percentage (negative for a reduction)."),
    ],
)  # fmt: skip
def test_bad_season_rows_store_nothing(client, standard, owner, account_a, rows, message):
    login(client, owner)
    valid = (timezone.localdate() + dt.timedelta(days=9)).isoformat()
    page = client.post(f"/pricing/quotes/new/?account={account_a.pk}", {
        **EMPTY, **seasons(*rows), "strategy": "cost_plus", "valid_until": valid,
        "d-0-percent": "10",
    })  # fmt: skip
    assert page.status_code == 200
    text = page.content.decode()
    assert message in text and "Correct the season rows: nothing was saved." in text
    assert not Quote.objects.exists() and not PeakSurcharge.objects.exists()


def test_the_services_refuse_bad_seasons_and_store_nothing(standard, owner, account_a):
    valid = timezone.localdate() + dt.timedelta(days=9)
    bad = [strategies.Season("A", dt.date(2027, 1, 1), dt.date(2027, 1, 31), D("5")),
           strategies.Season("B", dt.date(2027, 1, 31), dt.date(2027, 2, 5), D("-5"))]  # fmt: skip
    with pytest.raises(ValidationError, match="Season 2 overlaps"):
        quotes.quote_create(by=owner, account=account_a, strategy="differential",
                            discounts=[rating.Discount(D(5))], valid_until=valid, seasons=bad)  # fmt: skip
    assert not Quote.objects.exists() and not PeakSurcharge.objects.exists()
    quote = quotes.quote_create(by=owner, account=account_a, strategy="differential",
                                discounts=[rating.Discount(D(5))], valid_until=valid,
                                seasons=bad[:1])  # fmt: skip
    with pytest.raises(ValidationError, match="Season 1: the percentage"):
        quotes.quote_update(by=owner, quote=quote, discounts=[rating.Discount(D(50))],
                            seasons=[bad[0].__class__("X", bad[0].start, bad[0].end, D("-100.5"))])  # fmt: skip
    quote.refresh_from_db()
    assert list(quote.card.discounts.values_list("percent", flat=True)) == [D(5)]
    assert list(quote.card.peaks.values_list("name", flat=True)) == ["A"]


def test_the_quotes_seasons_take_the_place_of_the_list_cards_in_the_what_if_and_documents(
    client, standard, owner, account_a, waybills
):
    """40 % off 25.00 is 15.00 a waybill; the list card's 8 % January peak adds 1.20
    (12 × 16.20 = 194.40) until the quote has seasons of its own: its -20 % January season
    takes 3.00 off instead (12 × 12.00 = 144.00)."""
    PeakSurcharge.objects.create(card=standard, name="list peak", start=dt.date(2026, 1, 1),
                                 end=dt.date(2026, 1, 31), percent=D("8"))  # fmt: skip
    quote = quotes.quote_create(
        by=owner, account=account_a, strategy="differential", discounts=[rating.Discount(D(40))],
        valid_until=timezone.localdate() + dt.timedelta(days=5),
    )  # fmt: skip
    assert services.card_spec(quote.card).surcharges.peaks == (
        rating.Peak(dt.date(2026, 1, 1), dt.date(2026, 1, 31), D("8")),
    )
    login(client, owner)
    assert "¥194.40" in client.get(f"/pricing/quotes/{quote.pk}/what-if/").content.decode()
    quotes.quote_update(by=owner, quote=quote, seasons=[
        strategies.Season("淡季", dt.date(2026, 1, 1), dt.date(2026, 1, 31), D("-20")),
    ])  # fmt: skip
    assert services.card_spec(quote.card).surcharges.peaks == (
        rating.Peak(dt.date(2026, 1, 1), dt.date(2026, 1, 31), D("-20")),
    )
    assert "¥144.00" in client.get(f"/pricing/quotes/{quote.pk}/what-if/").content.decode()
    from kam.pricing import documents

    sentences = documents.surcharge_sentences(quote.card)
    assert "Off-season 淡季, 2026-01-01 to 2026-01-31: 20 % off the freight." in sentences
    assert not any("list peak" in s for s in sentences)
    card_page = client.get(f"/pricing/cards/{quote.card.pk}/").content.decode()
    assert "淡季 2026-01-01–01-31 -20 %" in card_page
    # Submitting: the reduction deepens the discount the guidance checks, 100 - 60 × 0.8 = 52.
    quote = quotes.quote_submit(by=owner, quote=quote)
    assert quote.deepest_discount == D("52")


def test_the_quotes_what_if_applies_next_years_season_on_the_periods_dates(
    client, standard, owner, account_a, waybills
):
    """As in the form tests: 40 % off 25.00 is 15.00 a waybill for 12 January waybills; a
    -20 % season in January of next year takes 3.00 off each, as if it were this January
    (12 × 12.00 = 144.00); the realisation of a card keeps its seasons on their own dates."""
    quote = quotes.quote_create(
        by=owner, account=account_a, strategy="differential", discounts=[rating.Discount(D(40))],
        valid_until=timezone.localdate() + dt.timedelta(days=5),
    )  # fmt: skip
    quotes.quote_update(by=owner, quote=quote, seasons=[
        strategies.Season("淡季", dt.date(2027, 1, 1), dt.date(2027, 1, 31), D("-20")),
    ])  # fmt: skip
    login(client, owner)
    page = client.get(f"/pricing/quotes/{quote.pk}/what-if/").content.decode()
    assert "¥144.00" in page and "¥180.00" not in page
    own_dates = whatif.card_what_if(quote.card, Account.objects.filter(pk=account_a.pk),
                                    seasons_into_period=False)  # fmt: skip
    assert own_dates is not None
    assert own_dates[0].totals["proposed_revenue"] == D("180.00")
