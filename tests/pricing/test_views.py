"""The pricing pages: quotes made and decided through the forms, the what-if on the
account's own waybills, the card and guidance pages, the account page's panel, and
foreign ids (404) and roles (403)."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import timezone

from kam.pricing import quotes, rating, services
from kam.pricing.models import CardKind, CostRate, PriceGuidance, Quote, QuoteStatus, RateCard
from tests.ledger.conftest import good_row, import_file, write_waybills

from .support import standard_card, tier_one_guidance

pytestmark = pytest.mark.django_db

# The same list as the demo: first 1 kg, then each kg.
FIRST, STEP = "20", "5"


@pytest.fixture
def standard(db):
    card = standard_card(name="标准价 2026", start=dt.date(2024, 1, 1), first=FIRST, step=STEP)
    tier_one_guidance()
    return card


@pytest.fixture
def waybills(tmp_path, account_a):
    """Twelve waybills of account A (福州 → 上海, 1.25 kg: list 20 + 5 = 25, charged 13.50,
    cost 8.00), imported through the real import."""
    rows = [good_row(i) for i in range(1, 13)]
    batch = import_file(write_waybills(tmp_path / "w.csv", rows))
    assert batch.status == "committed", batch.message
    return rows


def login(client, user):
    client.force_login(user)  # with the second factor for the roles that need one
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_a_manager_makes_a_quote_through_the_form(client, standard, owner, account_a):
    login(client, owner)
    page = client.get(f"/pricing/quotes/new/?account={account_a.pk}")
    assert page.status_code == 200 and "d-TOTAL_FORMS" in page.content.decode()
    valid = (timezone.localdate() + dt.timedelta(days=20)).isoformat()
    form = {
        "strategy": "target_profit", "valid_until": valid, "terms": "月结",
        "d-TOTAL_FORMS": "3", "d-INITIAL_FORMS": "0", "d-MIN_NUM_FORMS": "0",
        "d-MAX_NUM_FORMS": "60",
        "d-0-percent": "22.5", "d-0-product": "express", "d-0-zone": "zone2",
        "d-1-percent": "10",
    }  # fmt: skip
    done = client.post(f"/pricing/quotes/new/?account={account_a.pk}", form)
    quote = Quote.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/pricing/quotes/{quote.pk}/"
    assert sorted(quote.card.discounts.values_list("percent", "product", "zone__code")) == [
        (D("10"), "", None), (D("22.5"), "express", "zone2"),
    ]  # fmt: skip
    detail = client.get(done["Location"]).content.decode()
    assert quote.number in detail and "22.5 %" in detail and "quote-submit" in detail


def test_bad_rows_come_back_next_to_their_fields_and_nothing_is_stored(
    client, standard, owner, account_a
):
    login(client, owner)
    valid = (timezone.localdate() + dt.timedelta(days=20)).isoformat()
    form = {
        "strategy": "cost_plus", "valid_until": valid, "d-TOTAL_FORMS": "2",
        "d-INITIAL_FORMS": "0", "d-MIN_NUM_FORMS": "0", "d-MAX_NUM_FORMS": "60",
        "d-0-percent": "120", "d-1-percent": "5", "d-1-from_kg": "10", "d-1-to_kg": "3",
    }  # fmt: skip
    page = client.post(f"/pricing/quotes/new/?account={account_a.pk}", form)
    text = page.content.decode()
    assert page.status_code == 200
    assert "Ensure this value is less than or equal to 100." in text
    assert "The band must end above where it starts." in text
    past = {**form, "d-0-percent": "12", "d-1-to_kg": "30", "valid_until": "2001-01-01"}
    text = client.post(f"/pricing/quotes/new/?account={account_a.pk}", past).content.decode()
    assert "The quote cannot be valid until a past day." in text
    assert not Quote.objects.exists()
    assert RateCard.objects.filter(kind=CardKind.DISCOUNT).count() == 0


def test_foreign_and_missing_ids_are_404_and_roles_are_refused(
    client, standard, owner, colleague, analyst, service_rep, account_a, account_b
):
    quote = quotes.quote_create(
        by=owner, account=account_a, strategy="cost_plus", discounts=[rating.Discount(D(10))],
        valid_until=timezone.localdate() + dt.timedelta(days=5),
    )  # fmt: skip
    login(client, colleague)
    for url in (f"/pricing/quotes/{quote.pk}/", f"/pricing/quotes/{quote.pk}/what-if/",
                f"/pricing/quotes/{quote.pk}/edit/", f"/pricing/cards/{quote.card_id}/",
                f"/pricing/quotes/new/?account={account_a.pk}", "/pricing/quotes/999999/"):  # fmt: skip
        assert client.get(url).status_code == 404, url
    assert (
        client.post(f"/pricing/quotes/{quote.pk}/action/", {"action": "submit"}).status_code == 404
    )
    assert quote.number not in client.get("/pricing/").content.decode()
    login(client, analyst)
    assert client.get(f"/pricing/quotes/{quote.pk}/").status_code == 200
    assert client.get(f"/pricing/quotes/new/?account={account_a.pk}").status_code == 403
    client.post(f"/pricing/quotes/{quote.pk}/action/", {"action": "submit"})
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT
    login(client, service_rep)
    assert client.get("/pricing/").status_code == 404
    assert client.get(f"/pricing/quotes/{quote.pk}/").status_code == 404


def test_submit_and_approve_from_the_pages(
    client, standard, owner, department, director, account_a
):
    quote = quotes.quote_create(
        by=owner, account=account_a, strategy="cost_plus", discounts=[rating.Discount(D(45))],
        valid_until=timezone.localdate() + dt.timedelta(days=5),
    )  # fmt: skip
    login(client, owner)
    client.post(f"/pricing/quotes/{quote.pk}/action/", {"action": "submit"})
    quote.refresh_from_db()
    assert (quote.status, quote.awaiting) == (QuoteStatus.SUBMITTED, "department")
    login(client, department)
    assert quote.number in client.get("/pricing/?awaiting=on").content.decode()
    page = client.get(f"/pricing/quotes/{quote.pk}/").content.decode()
    assert 'id="quote-decide"' in page
    client.post(f"/pricing/quotes/{quote.pk}/decide/", {"decision": "returned", "comment": ""})
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SUBMITTED  # a return without a comment is refused
    client.post(f"/pricing/quotes/{quote.pk}/decide/", {"decision": "approved", "comment": "可"})
    login(client, director)
    client.post(f"/pricing/quotes/{quote.pk}/decide/", {"decision": "approved"})
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED
    assert [s.by for s in quote.steps.all()] == [owner, department, director]


def test_the_what_if_reprices_the_accounts_own_waybills(
    client, standard, owner, account_a, waybills
):
    zone = services.zone_matrix().zone("350100", "310100")
    CostRate.objects.create(product="express", zone_id=services.ensure_zones()[zone].pk,
                            per_waybill=D(1), per_kg=D(1))  # fmt: skip
    quote = quotes.quote_create(
        by=owner, account=account_a, strategy="cost_plus", discounts=[rating.Discount(D(40))],
        valid_until=timezone.localdate() + dt.timedelta(days=5),
    )  # fmt: skip
    login(client, owner)
    page = client.get(f"/pricing/quotes/{quote.pk}/what-if/").content.decode()
    # 12 waybills charged 13.50 today; 25.00 at list less 40 % = 15.00 each.
    assert "¥162.00" in page and "¥180.00" in page and "¥18.00" in page
    scaled = client.get(f"/pricing/quotes/{quote.pk}/what-if/?volume=50").content.decode()
    assert "¥270.00" in scaled
    bad = client.get(f"/pricing/quotes/{quote.pk}/what-if/?volume=lots").content.decode()
    assert "The volume change must be a number" in bad
    # The same figures as a workbook: every breakdown a row of one sheet.
    from io import BytesIO

    from openpyxl import load_workbook

    book = client.get(f"/pricing/quotes/{quote.pk}/what-if.xlsx?volume=50")
    assert book["Content-Disposition"].endswith(f'what-if-{quote.number}.xlsx"')
    rows = list(load_workbook(BytesIO(book.content)).active.iter_rows(values_only=True))
    assert rows[0][:6] == (
        "Breakdown",
        "Key",
        "Waybills",
        "Weight (kg)",
        "Revenue today",
        "Proposed",
    )
    total = rows[1]
    assert (total[0], total[2], total[4], total[5]) == ("Total", 12, 162, 270)
    assert {r[0] for r in rows[1:]} == {"Total", "By month", "By product", "By zone", "Top lanes"}
    assert any(r[1] == "Fuzhou → Shanghai" for r in rows)
    assert client.get(f"/pricing/quotes/{quote.pk}/what-if.xlsx?volume=-500").status_code == 302
    # Submitted: the margin the guidance checks is the what-if's (cost 8.00 from the ledger).
    client.post(f"/pricing/quotes/{quote.pk}/action/", {"action": "submit"})
    quote.refresh_from_db()
    assert quote.margin_percent == D("46.67")


def test_the_what_if_says_so_when_there_is_nothing_to_reprice(client, standard, owner, account_a):
    quote = quotes.quote_create(
        by=owner, account=account_a, strategy="cost_plus", discounts=[rating.Discount(D(5))],
        valid_until=timezone.localdate() + dt.timedelta(days=5),
    )  # fmt: skip
    login(client, owner)
    page = client.get(f"/pricing/quotes/{quote.pk}/what-if/").content.decode()
    assert 'id="whatif-empty"' in page


def test_cards_guidance_and_the_account_panel(
    client, standard, owner, colleague, director, account_a, account_b
):
    mine = RateCard.objects.create(
        name="明达专属折扣", kind=CardKind.DISCOUNT, account=account_a, base=standard,
        effective_from=dt.date(2026, 1, 1),
    )  # fmt: skip
    services.set_discounts(mine, [rating.Discount(D("33"))])
    services.activate_card(mine)
    login(client, owner)
    cards = client.get("/pricing/cards/").content.decode()
    assert "明达专属折扣" in cards and "标准价 2026" in cards
    table = client.get(f"/pricing/cards/{standard.pk}/").content.decode()
    assert "¥20.00" in table and "+¥5.00" in table
    panel = client.get(f"/accounts/{account_a.pk}/").content.decode()
    assert 'id="account-pricing-panel"' in panel and "明达专属折扣" in panel and "33 %" in panel
    login(client, colleague)
    assert "明达专属折扣" not in client.get("/pricing/cards/").content.decode()
    assert client.get("/pricing/guidance/").status_code == 200
    refused = client.post("/pricing/guidance/", {"tier": "1", "t1-target_discount": "1"})
    assert refused.status_code == 403
    login(client, director)
    bad = {"tier": "2", "t2-target_discount": "30", "t2-normal_discount": "20",
           "t2-floor_discount": "40", "t2-margin_floor": "8"}  # fmt: skip
    text = client.post("/pricing/guidance/", bad).content.decode()
    assert "The discounts must rise from target to normal to floor." in text
    assert not PriceGuidance.objects.filter(tier=2).exists()
    good = {**bad, "t2-target_discount": "10"}
    assert client.post("/pricing/guidance/", good).status_code == 302
    assert PriceGuidance.objects.get(tier=2).normal_discount == D("20")


def test_a_strategy_proposes_the_discounts_from_the_accounts_own_waybills(
    client, standard, owner, account_a, waybills
):
    """Target profit at 20 % on 12 waybills costing 8.00 (ledger) listed at 25.00: revenue
    96.00 / 0.8 = 120.00 against list 300.00, so 60 % off; the rows and the workings are
    filled in, and saved with the quote."""
    login(client, owner)
    url = f"/pricing/quotes/new/?account={account_a.pk}"
    empty = {"d-TOTAL_FORMS": "3", "d-INITIAL_FORMS": "0", "d-MIN_NUM_FORMS": "0",
             "d-MAX_NUM_FORMS": "60", "valid_until": "", "terms": "月结"}  # fmt: skip
    page = client.post(url, {**empty, "propose": "1", "p-strategy": "target_profit",
                             "p-target_margin": "20"}).content.decode()  # fmt: skip
    assert 'id="quote-proposal"' in page
    assert 'name="d-0-percent" value="60.0000"' in page
    assert "Revenue for a 20 % margin on cost 96.00" in page
    refused = client.post(url, {**empty, "propose": "1", "p-strategy": "sealed_bid"})
    assert "Select a valid choice" in refused.content.decode()
    lost = client.post(url, {**empty, "propose": "1", "p-strategy": "cost_plus",
                             "p-markup": "-5"}).content.decode()  # fmt: skip
    assert "Ensure this value is greater than or equal to 0." in lost
    import re

    workings = re.search(r'name="workings" value="([^"]*)"', page).group(1)
    import html

    saved = client.post(url, {
        **empty, "strategy": "target_profit", "workings": html.unescape(workings),
        "valid_until": (timezone.localdate() + dt.timedelta(days=9)).isoformat(),
        "d-0-percent": "60",
    })  # fmt: skip
    assert saved.status_code == 302
    quote = Quote.objects.get()
    assert any("20 % margin" in w["text"] for w in quote.workings)
    assert "Revenue for a 20 % margin" in client.get(saved["Location"]).content.decode()


def test_no_shipments_no_proposal(client, standard, owner, account_a):
    login(client, owner)
    page = client.post(f"/pricing/quotes/new/?account={account_a.pk}", {
        "propose": "1", "p-strategy": "cost_plus", "d-TOTAL_FORMS": "0", "d-INITIAL_FORMS": "0",
    }).content.decode()  # fmt: skip
    assert "The account has no shipments in the ledger" in page


def test_the_account_page_shows_freight_realisation_and_flags_leakage(
    client, standard, owner, colleague, account_a, waybills
):
    """Card: 40 % off the list's 25.00 = 15.00 a waybill; the ledger shows 12.50 charged:
    83.3 % realised, 30.00 of leakage over the twelve waybills."""
    card = RateCard.objects.create(
        name="明达协议价", kind=CardKind.DISCOUNT, account=account_a, base=standard,
        effective_from=dt.date(2025, 1, 1),
    )  # fmt: skip
    services.set_discounts(card, [rating.Discount(D("40"))])
    services.activate_card(card)
    login(client, owner)
    panel = client.get(f"/accounts/{account_a.pk}/").content.decode()
    assert f"/pricing/accounts/{account_a.pk}/realisation/" in panel
    part = client.get(f"/pricing/accounts/{account_a.pk}/realisation/").content.decode()
    assert "83.3 %" in part and "¥150.00" in part and "¥180.00" in part
    assert 'id="realisation-leak"' in part and "¥30.00" in part
    # A card that starts after the ledger's last month has nothing to realise yet.
    RateCard.objects.filter(pk=card.pk).update(effective_from=timezone.localdate())
    assert timezone.localdate() > dt.date(2026, 1, 31)
    part = client.get(f"/pricing/accounts/{account_a.pk}/realisation/").content.decode()
    assert "no realisation yet" in part
    login(client, colleague)
    assert client.get(f"/pricing/accounts/{account_a.pk}/realisation/").status_code == 404
