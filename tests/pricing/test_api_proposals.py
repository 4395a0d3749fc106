"""The pricing API's proposals (a strategy run on an account's last twelve months, reverse
pricing and seasons included) and seasons on a quote's card: the quote form's rules, the
archive's access rules (foreign and missing accounts 404 alike), bad input by field."""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal as D
from typing import Any

import pytest
from django.utils import timezone

from kam.accounts.models import Account
from kam.core.models import User
from kam.pricing.models import PeakSurcharge, PriceGuidance, Quote, RateCard
from tests.conftest import assert_error
from tests.ledger.conftest import good_row, import_file, write_waybills

from .support import standard_card, tier_one_guidance

pytestmark = pytest.mark.django_db

Api = Callable[..., Any]


@pytest.fixture
def standard(db: None) -> RateCard:
    card = standard_card(name="标准价 2026", start=dt.date(2024, 1, 1), first="20", step="5")
    tier_one_guidance()  # margin floor 10 %
    return card


@pytest.fixture
def waybills(tmp_path: Any, account_a: Account) -> None:
    """Twelve waybills of account A in 2026-01 (福州 → 上海, 1.25 kg: list 25.00, cost 8.00)."""
    batch = import_file(write_waybills(tmp_path / "w.csv", [good_row(i) for i in range(1, 13)]))
    assert batch.status == "committed", batch.message


LANE = {"product": "express", "zone": "zone1", "from_kg": "1", "to_kg": "3"}


def url(account: Account) -> str:
    return f"/pricing/accounts/{account.pk}/proposals"


def test_reverse_pricing_proposes_the_discount_each_target_needs(
    api_as: Api, owner: User, account_a: Account, standard: RateCard, waybills: None
) -> None:
    mine = api_as(owner)
    found = mine.post(url(account_a), {"strategy": "reverse",
                                       "targets": [{**LANE, "price_per_waybill": "18"}]})  # fmt: skip
    assert found.status_code == 200, found.content
    body = found.json()
    assert body["account"] == account_a.pk and body["strategy"] == "reverse"
    assert (body["period_start"], body["period_end"]) == ("2025-02-01", "2026-01-01")
    assert body["discounts"] == [{"percent": "28.0000", "product": "express", "zone": "zone1",
                                  "from_kg": "1", "to_kg": "3"}]  # fmt: skip
    assert body["peaks"] == [] and body["warnings"] == []
    texts = [w["text"] for w in body["workings"]]
    assert "Customer's target 18 a waybill x 12 waybills = 216.00." in texts
    assert all(w["lane"].startswith("Express") for w in body["workings"])
    # The proposal drafts a quote as it is.
    quote = mine.post("/pricing/quotes", {
        "account": account_a.pk, "strategy": "reverse", "discounts": body["discounts"],
        "valid_until": (timezone.localdate() + dt.timedelta(days=9)).isoformat(),
    })  # fmt: skip
    assert quote.status_code == 201, quote.content
    # Below the floor: priced at the floor, and said so.
    low = mine.post(url(account_a), {"strategy": "reverse",
                                     "targets": [{**LANE, "price_per_waybill": "5"}]}).json()  # fmt: skip
    assert low["discounts"][0]["percent"] == "64.4430"
    assert any("priced at the floor, 106.67" in w for w in low["warnings"])


def test_differential_pricing_proposes_its_seasons_as_peaks(
    session_client: Api, owner: User, account_a: Account, standard: RateCard, waybills: None
) -> None:
    body = session_client(owner).post(url(account_a), {"strategy": "differential", "seasons": [
        {"name": "双十一", "start": "2027-11-01", "end": "2027-11-15", "percent": "5"},
        {"name": "淡季", "start": "2027-07-01", "end": "2027-07-31", "percent": "-10"},
    ]}).json()  # fmt: skip
    assert body["peaks"] == [
        {"name": "淡季", "start": "2027-07-01", "end": "2027-07-31", "percent": "-10"},
        {"name": "双十一", "start": "2027-11-01", "end": "2027-11-15", "percent": "5"},
    ]
    assert "Season 淡季, 2027-07-01 to 2027-07-31: -10 % of the freight." in [
        w["text"] for w in body["workings"]
    ]
    plain = session_client(owner).post(url(account_a), {"strategy": "cost_plus", "markup": "20"})
    assert plain.status_code == 200 and plain.json()["peaks"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"strategy": "reverse", "targets": [{**LANE, "price_per_waybill": "-1"}]},
         "targets.0.price_per_waybill"),
        ({"strategy": "reverse", "targets": [{**LANE, "price_per_waybill": "abc"}]},
         "targets.0.price_per_waybill"),
        ({"strategy": "reverse", "targets": [{**LANE, "product": "rocket", "price_per_waybill": "1"}]},
         "targets.0.product"),
        ({"strategy": "reverse"}, "targets"),
        ({"strategy": "sealed_bid"}, "strategy"),
        ({"strategy": "cost_plus", "markup": "-5"}, "markup"),
        ({"strategy": "differential", "seasons": [
            {"name": "A", "start": "2027-11-01", "end": "2027-11-15", "percent": "5"},
            {"name": "B", "start": "2027-11-15", "end": "2027-11-20", "percent": "5"}]},
         "seasons.1"),
        ({"strategy": "differential", "seasons": [
            {"name": "A", "start": "2027-11-15", "end": "2027-11-01", "percent": "5"}]},
         "seasons.0"),
        ({"strategy": "differential", "seasons": [
            {"name": "A", "start": "2027-11-01", "end": "2027-11-15", "percent": "-100.5"}]},
         "seasons.0.percent"),
    ],
)  # fmt: skip
def test_bad_proposals_are_refused_by_field(
    session_client: Api, owner: User, account_a: Account, standard: RateCard,
    body: dict[str, Any], field: str,
) -> None:  # fmt: skip
    assert_error(session_client(owner).post(url(account_a), body), 422, field)


def test_a_refusal_is_a_sentence_in_the_callers_language(
    session_client: Api, owner: User, account_a: Account, standard: RateCard, waybills: None
) -> None:
    mine = session_client(owner)
    targets = {"strategy": "reverse", "targets": [{**LANE, "price_per_waybill": "18"}]}
    chinese = assert_error(mine.post(url(account_a), {"strategy": "reverse"},
                                     headers={"Accept-Language": "zh-hans"}), 422, "targets")  # fmt: skip
    assert chinese["errors"][0]["message"] == "请至少为一条线路填写客户的目标价。"
    PriceGuidance.objects.all().delete()
    no_floor = assert_error(mine.post(url(account_a), targets), 400)
    assert "no price guidance is set for tier 1" in no_floor["detail"]


def test_without_shipments_there_is_nothing_to_propose_from(
    session_client: Api, owner: User, account_a: Account, standard: RateCard
) -> None:
    body = assert_error(session_client(owner).post(url(account_a), {"strategy": "cost_plus"}), 400)
    assert "no shipments" in body["detail"]


def test_foreign_and_missing_accounts_are_404_alike_and_readers_403(
    session_client: Api, owner: User, colleague: User, analyst: User, account_a: Account,
    standard: RateCard, waybills: None,
) -> None:  # fmt: skip
    foreign = session_client(colleague).post(url(account_a), {"strategy": "cost_plus"})
    missing = session_client(colleague).post("/pricing/accounts/999999/proposals",
                                             {"strategy": "cost_plus"})  # fmt: skip
    assert_error(foreign, 404)
    assert foreign.json() == missing.json()
    assert_error(session_client(analyst).post(url(account_a), {"strategy": "cost_plus"}), 403)


# --- seasons on a quote ----------------------------------------------------------------------


def test_a_quotes_seasons_are_stored_shown_and_replaced(
    session_client: Api, owner: User, account_a: Account, standard: RateCard
) -> None:
    mine = session_client(owner)
    valid = (timezone.localdate() + dt.timedelta(days=9)).isoformat()
    made = mine.post("/pricing/quotes", {
        "account": account_a.pk, "strategy": "differential", "valid_until": valid,
        "discounts": [{"percent": "10"}],
        "seasons": [{"name": "淡季", "start": "2027-07-01", "end": "2027-07-31", "percent": "-10"}],
    })  # fmt: skip
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["seasons"] == [{"name": "淡季", "start": "2027-07-01", "end": "2027-07-31",
                                "percent": "-10.000"}]  # fmt: skip
    card = mine.get(f"/pricing/cards/{body['card']}").json()
    assert [p["name"] for p in card["surcharges"]["peaks"]] == ["淡季"]
    changed = mine.patch(f"/pricing/quotes/{body['id']}", {"seasons": []})
    assert changed.status_code == 200 and changed.json()["seasons"] == []
    assert not PeakSurcharge.objects.filter(card_id=body["card"]).exists()


@pytest.mark.parametrize(
    ("seasons", "field"),
    [
        ([{"name": "A", "start": "2027-07-01", "end": "2027-07-31", "percent": "5"},
          {"name": "B", "start": "2027-07-31", "end": "2027-08-05", "percent": "5"}], "seasons.1"),
        ([{"name": "A", "start": "2027-07-31", "end": "2027-07-01", "percent": "5"}], "seasons.0"),
        ([{"name": " ", "start": "2027-07-01", "end": "2027-07-31", "percent": "5"}], "seasons.0"),
        ([{"name": "A", "start": "2027-07-01", "end": "2027-07-31", "percent": "101"}],
         "seasons.0.percent"),
    ],
)  # fmt: skip
def test_bad_seasons_write_nothing(
    session_client: Api, owner: User, account_a: Account, standard: RateCard,
    seasons: list[dict[str, str]], field: str,
) -> None:  # fmt: skip
    mine = session_client(owner)
    valid = (timezone.localdate() + dt.timedelta(days=9)).isoformat()
    quote = {"account": account_a.pk, "strategy": "differential", "valid_until": valid,
             "discounts": [{"percent": "10"}]}  # fmt: skip
    assert_error(mine.post("/pricing/quotes", {**quote, "seasons": seasons}), 422, field)
    assert not Quote.objects.exists()
    made = mine.post("/pricing/quotes", quote).json()
    assert_error(mine.patch(f"/pricing/quotes/{made['id']}", {"seasons": seasons,
                                                              "terms": "x"}), 422, field)  # fmt: skip
    assert Quote.objects.get().terms == "" and not PeakSurcharge.objects.exists()
    assert D(Quote.objects.get().card.discounts.get().percent) == D("10")
