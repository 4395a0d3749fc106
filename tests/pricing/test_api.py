"""The pricing API: cards and an account's active card, quotes through their workflow
(draft, submission, the department's and the director's approval, sending, the answer,
the contract), the what-if; the archive's access rules (foreign ids 404, analysts read
but never write) and bad input refused by field with nothing written."""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal as D
from pathlib import Path
from typing import Any, get_args

import pytest
from django.utils import timezone

from kam.accounts.models import Account
from kam.core.models import User
from kam.ledger import services as ledger_services
from kam.ledger.models import ImportBatch
from kam.pricing import api, quotes, rating, services
from kam.pricing.models import (
    CardKind,
    CardStatus,
    PriceGuidance,
    Product,
    Quote,
    QuoteStatus,
    QuoteStep,
    RateCard,
    Strategy,
)
from tests.conftest import assert_error

pytestmark = pytest.mark.django_db

Api = Callable[..., Any]


@pytest.fixture
def list_card() -> RateCard:
    """The standard card, active since a month ago: express and standard in every zone."""
    services.fill_default_matrix()
    zones = services.ensure_zones()
    card = RateCard.objects.create(
        name="标准价 2026", kind=CardKind.LIST, fuel_base_percent=D("5"), remote_fee=D("8"),
        effective_from=timezone.localdate() - dt.timedelta(days=30),
    )  # fmt: skip
    services.set_first_additional_rules(card, [
        services.RuleRow(product, code, D("1"), D("20"), D("0.5"), D("4"))
        for product in ("express", "standard") for code in zones
    ])  # fmt: skip
    return services.activate_card(card)


@pytest.fixture
def guidance() -> PriceGuidance:
    """Tier 1 (account_a): 10 % needs nobody, beyond it the department, beyond 20 % a
    director too; the margin floor is out of reach."""
    return PriceGuidance.objects.create(
        tier=1, target_discount=D("5"), normal_discount=D("10"), floor_discount=D("20"),
        margin_floor=D("-100"),
    )  # fmt: skip


def _valid_until() -> str:
    return (timezone.localdate() + dt.timedelta(days=30)).isoformat()


def _quote_body(account: Account, percent: str = "15", change: dict[str, Any] | None = None
                ) -> dict[str, Any]:  # fmt: skip
    return {"account": account.pk, "strategy": "going_rate", "valid_until": _valid_until(),
            "discounts": [{"percent": percent, "product": "express"}], "terms": "月结 30 天",
            **(change or {})}  # fmt: skip


def _colleagues_quote(colleague: User, account_b: Account) -> Quote:
    return quotes.quote_create(
        by=colleague, account=account_b, strategy="cost_plus",
        discounts=[rating.Discount(D("8"))], valid_until=timezone.localdate() + dt.timedelta(days=10),
    )  # fmt: skip


def _account_card(account: Account, base: RateCard, percent: str) -> RateCard:
    card = RateCard.objects.create(
        name=f"{account} 折扣", kind=CardKind.DISCOUNT, account=account, base=base,
        effective_from=base.effective_from,
    )  # fmt: skip
    services.set_discounts(card, [rating.Discount(D(percent), "express", "zone2")])
    return services.activate_card(card)


# --- cards -----------------------------------------------------------------------------------


def test_cards_list_and_read_with_their_rates_and_surcharges(
    api_as: Api, owner: User, department: User, account_a: Account, account_b: Account,
    list_card: RateCard,
) -> None:  # fmt: skip
    b_card = _account_card(account_b, list_card, "12")
    mine = api_as(owner)
    listing = mine.get("/pricing/cards")
    assert listing.status_code == 200, listing.content
    assert [c["id"] for c in listing.json()["items"]] == [list_card.pk]  # not account_b's
    one = mine.get(f"/pricing/cards/{list_card.pk}").json()
    assert one["kind"] == "list" and one["status"] == "active"
    assert len(one["rules"]) == 2 * len(services.ensure_zones())
    rule = next(r for r in one["rules"] if r["product"] == "express" and r["zone"] == "zone1")
    assert (rule["first_kg"], rule["first_price"], rule["step_kg"], rule["step_price"]) == (
        "1.000", "20.00", "0.500", "4.00")  # fmt: skip
    assert one["surcharges"]["fuel_base_percent"] == "5.000"
    assert one["surcharges"]["remote_fee"] == "8.00"
    assert mine.get(f"/pricing/cards/{b_card.pk}").status_code == 404
    everyone = api_as(department).get("/pricing/cards", {"kind": "discount"}).json()
    assert everyone["count"] == 1 and everyone["items"][0]["account"] == account_b.pk
    detail = api_as(department).get(f"/pricing/cards/{b_card.pk}").json()
    assert detail["base"] == list_card.pk
    assert detail["discounts"] == [{"percent": "12.0000", "product": "express", "zone": "zone2",
                                    "from_kg": "0.000", "to_kg": None}]  # fmt: skip
    assert api_as(department).get("/pricing/cards", {"account": account_a.pk}).json()["count"] == 0
    paged = api_as(department).get("/pricing/cards", {"page": 2, "page_size": 1}).json()
    assert paged["count"] == 2 and len(paged["items"]) == 1


def test_the_active_card_of_an_account_is_its_own_else_the_list_and_foreign_ones_404(
    session_client: Api, owner: User, colleague: User, service_rep: User, account_a: Account,
    account_b: Account, list_card: RateCard,
) -> None:  # fmt: skip
    b_card = _account_card(account_b, list_card, "12")
    mine = session_client(owner)
    assert mine.get(f"/pricing/accounts/{account_a.pk}/active-card").json()["id"] == list_card.pk
    assert mine.get(f"/pricing/accounts/{account_b.pk}/active-card").status_code == 404
    theirs = session_client(colleague).get(f"/pricing/accounts/{account_b.pk}/active-card")
    assert (
        theirs.json()["id"] == b_card.pk and theirs.json()["discounts"][0]["percent"] == "12.0000"
    )
    # The service rep sees account_a but not pricing.
    rep = session_client(service_rep)
    assert rep.get(f"/pricing/accounts/{account_a.pk}/active-card").status_code == 404
    assert rep.get("/pricing/cards").json()["count"] == 0


def test_no_active_card_is_404(session_client: Api, owner: User, account_a: Account) -> None:
    assert_error(session_client(owner).get(f"/pricing/accounts/{account_a.pk}/active-card"), 404)


# --- the quote workflow ----------------------------------------------------------------------


def test_a_quote_from_draft_through_the_departments_approval_to_the_contract(
    api_as: Api, owner: User, department: User, account_a: Account, list_card: RateCard,
    guidance: PriceGuidance,
) -> None:  # fmt: skip
    mine = api_as(owner)
    created = mine.post("/pricing/quotes", _quote_body(account_a, "15"))
    assert created.status_code == 201, created.content
    quote = created.json()
    assert quote["status"] == "draft" and quote["owner"] == owner.pk and quote["revision"] == 1
    assert quote["account"] == account_a.pk and quote["terms"] == "月结 30 天"
    assert quote["discounts"] == [{"percent": "15.0000", "product": "express", "zone": None,
                                   "from_kg": "0.000", "to_kg": None}]  # fmt: skip
    url = f"/pricing/quotes/{quote['id']}"
    submitted = mine.post(f"{url}/submit").json()
    assert submitted["status"] == "submitted" and submitted["awaiting"] == "department"
    assert submitted["deepest_discount"] == "15.000" and submitted["approval"] == "department"
    assert_error(mine.post(f"{url}/decide", {"decision": "approved"}), 403)  # not the owner's
    approved = api_as(department).post(f"{url}/decide", {"decision": "approved", "comment": "可以"})
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    assert [(s["decision"], s["by"]) for s in approved.json()["steps"]] == [
        ("submitted", owner.pk), ("approved", department.pk)]  # fmt: skip
    assert mine.post(f"{url}/send").json()["status"] == "sent"
    assert mine.post(f"{url}/answer", {"accepted": True}).json()["status"] == "accepted"
    start = timezone.localdate().isoformat()
    contracted = mine.post(f"{url}/contract", {"contract_from": start})
    assert contracted.status_code == 200, contracted.content
    assert (
        contracted.json()["status"] == "contracted" and contracted.json()["contract_from"] == start
    )
    active = mine.get(f"/pricing/accounts/{account_a.pk}/active-card").json()
    assert active["id"] == quote["card"] and active["status"] == "active"
    listed = mine.get("/pricing/quotes", {"status": "contracted"}).json()
    assert [q["id"] for q in listed["items"]] == [quote["id"]]
    assert mine.get("/pricing/quotes", {"status": "draft"}).json()["count"] == 0


def test_within_guidance_a_quote_is_approved_on_submission_and_a_rejection_is_recorded(
    session_client: Api, owner: User, account_a: Account, list_card: RateCard,
    guidance: PriceGuidance,
) -> None:  # fmt: skip
    mine = session_client(owner)
    quote = mine.post("/pricing/quotes", _quote_body(account_a, "8")).json()
    url = f"/pricing/quotes/{quote['id']}"
    submitted = mine.post(f"{url}/submit").json()
    assert submitted["status"] == "approved" and submitted["approval"] == "none"
    mine.post(f"{url}/send")
    assert mine.post(f"{url}/answer", {"accepted": False}).json()["status"] == "rejected"
    # A quote the customer answered can no longer change.
    assert_error(mine.patch(url, {"terms": "再议"}), 400)
    assert Quote.objects.get().terms == "月结 30 天"


def test_beyond_the_floor_the_department_then_a_director_approves(
    session_client: Api, owner: User, department: User, director: User, account_a: Account,
    list_card: RateCard, guidance: PriceGuidance,
) -> None:  # fmt: skip
    quote = session_client(owner).post("/pricing/quotes", _quote_body(account_a, "25")).json()
    url = f"/pricing/quotes/{quote['id']}"
    assert session_client(owner).post(f"{url}/submit").json()["approval"] == "director"
    head = session_client(department).post(f"{url}/decide", {"decision": "approved"}).json()
    assert head["status"] == "submitted" and head["awaiting"] == "director"
    # The department has decided its level; the director's is not the department's.
    assert_error(session_client(department).post(f"{url}/decide", {"decision": "approved"}), 403)
    final = session_client(director).post(f"{url}/decide", {"decision": "approved"}).json()
    assert final["status"] == "approved" and len(final["steps"]) == 3


def test_returning_needs_a_comment_and_a_change_after_submission_is_a_new_revision(
    session_client: Api, owner: User, department: User, account_a: Account,
    list_card: RateCard, guidance: PriceGuidance,
) -> None:  # fmt: skip
    mine = session_client(owner)
    quote = mine.post("/pricing/quotes", _quote_body(account_a, "15")).json()
    url = f"/pricing/quotes/{quote['id']}"
    mine.post(f"{url}/submit")
    head = session_client(department)
    assert_error(head.post(f"{url}/decide", {"decision": "returned"}), 422, "comment")
    assert Quote.objects.get().status == QuoteStatus.SUBMITTED and QuoteStep.objects.count() == 1
    returned = head.post(f"{url}/decide", {"decision": "returned", "comment": "折扣太深"}).json()
    assert returned["status"] == "returned" and returned["steps"][-1]["comment"] == "折扣太深"
    changed = mine.patch(url, {"discounts": [{"percent": "9.5"}], "strategy": "cost_plus"})
    assert changed.status_code == 200, changed.content
    assert changed.json()["discounts"][0]["percent"] == "9.5000"
    assert changed.json()["strategy"] == "cost_plus" and changed.json()["revision"] == 1
    approved = mine.post(f"{url}/submit").json()
    assert approved["status"] == "approved"
    again = mine.patch(
        url, {"valid_until": (timezone.localdate() + dt.timedelta(days=60)).isoformat()}
    )
    assert again.json()["status"] == "draft" and again.json()["revision"] == 2


def test_a_group_quote_is_the_departments(
    session_client: Api, owner: User, department: User, account_a: Account, list_card: RateCard
) -> None:
    from tests.factories import GroupFactory

    group = GroupFactory(name="明达集团")
    account_a.group = group
    account_a.save()
    body = {**_quote_body(account_a), "account": None, "group": group.pk}
    assert_error(session_client(owner).post("/pricing/quotes", body), 403)
    made = session_client(department).post("/pricing/quotes", body)
    assert made.status_code == 201, made.content
    assert made.json()["group"] == group.pk and made.json()["account"] is None
    # A manager does not see group quotes (a group's price is the department's).
    assert session_client(owner).get(f"/pricing/quotes/{made.json()['id']}").status_code == 404


# --- access ----------------------------------------------------------------------------------


def test_a_managers_foreign_quote_and_card_are_404(
    api_as: Api, owner: User, colleague: User, account_a: Account, account_b: Account,
    list_card: RateCard,
) -> None:  # fmt: skip
    theirs = _colleagues_quote(colleague, account_b)
    mine = api_as(owner)
    url = f"/pricing/quotes/{theirs.pk}"
    assert_error(mine.get(url), 404)
    assert_error(mine.get(f"/pricing/cards/{theirs.card_id}"), 404)
    assert_error(mine.patch(url, {"terms": "x"}), 404)
    for action, body in [("submit", None), ("decide", {"decision": "approved"}), ("send", None),
                         ("answer", {"accepted": True}),
                         ("contract", {"contract_from": "2027-01-01"})]:  # fmt: skip
        assert_error(mine.post(f"{url}/{action}", body), 404)
    assert_error(mine.get(f"{url}/what-if"), 404)
    assert_error(mine.post("/pricing/quotes", _quote_body(account_b)), 404)
    assert mine.get("/pricing/quotes").json()["count"] == 0
    assert mine.get("/pricing/quotes", {"account": account_b.pk}).json()["count"] == 0
    theirs.refresh_from_db()
    assert theirs.status == QuoteStatus.DRAFT and theirs.terms == ""
    assert Quote.objects.count() == 1
    assert api_as(colleague).get(url).json()["number"] == theirs.number


def test_an_analyst_reads_every_quote_but_cannot_write(
    session_client: Api, analyst: User, owner: User, colleague: User, account_a: Account,
    account_b: Account, list_card: RateCard,
) -> None:  # fmt: skip
    theirs = _colleagues_quote(colleague, account_b)
    session_client(owner).post("/pricing/quotes", _quote_body(account_a))
    reader = session_client(analyst)
    assert reader.get("/pricing/quotes").json()["count"] == 2
    assert reader.get(f"/pricing/quotes/{theirs.pk}").status_code == 200
    assert reader.get(f"/pricing/cards/{theirs.card_id}").status_code == 200
    url = f"/pricing/quotes/{theirs.pk}"
    assert_error(reader.post("/pricing/quotes", _quote_body(account_b)), 403)
    assert_error(reader.patch(url, {"terms": "x"}), 403)
    assert_error(reader.post(f"{url}/submit"), 403)
    assert_error(reader.post(f"{url}/decide", {"decision": "approved"}), 403)
    assert_error(reader.post(f"{url}/send"), 403)
    assert_error(reader.post(f"{url}/answer", {"accepted": True}), 403)
    assert_error(reader.post(f"{url}/contract", {"contract_from": "2027-01-01"}), 403)
    assert Quote.objects.count() == 2 and not QuoteStep.objects.exists()
    theirs.refresh_from_db()
    assert theirs.status == QuoteStatus.DRAFT and theirs.terms == ""


def test_without_a_login_the_api_answers_401(anon: Any, list_card: RateCard) -> None:
    assert_error(anon.get("/pricing/quotes"), 401)
    assert_error(anon.get(f"/pricing/cards/{list_card.pk}"), 401)


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"strategy": "cheapest"}, "strategy"),
        ({"discounts": []}, "discounts"),
        ({"discounts": [{"percent": "150"}]}, "discounts.0.percent"),
        ({"discounts": [{"percent": "-101"}]}, "discounts.0.percent"),
        ({"discounts": [{"percent": "5", "zone": "mars"}]}, "discounts.0.zone"),
        ({"discounts": [{"percent": "5", "product": "rocket"}]}, "discounts.0.product"),
        (
            {"discounts": [{"percent": "5"}, {"percent": "5", "from_kg": "3", "to_kg": "2"}]},
            "discounts.1.to_kg",
        ),  # fmt: skip
        ({"valid_until": "2001-01-01"}, "valid_until"),
        ({"valid_until": "someday"}, "valid_until"),
        ({"account": None}, "account"),
        ({"group": 1}, "account"),
        ({"terms": "x" * 4001}, "terms"),
    ],
)
def test_bad_quotes_are_refused_by_field_with_nothing_written(
    session_client: Api, owner: User, account_a: Account, list_card: RateCard,
    change: dict[str, Any], field: str,
) -> None:  # fmt: skip
    cards = RateCard.objects.count()
    assert_error(session_client(owner).post("/pricing/quotes", _quote_body(account_a, change=change)),
                 422, field)  # fmt: skip
    assert not Quote.objects.exists() and RateCard.objects.count() == cards


def test_bad_workflow_input_is_refused_and_nothing_changes(
    session_client: Api, owner: User, account_a: Account, list_card: RateCard
) -> None:
    mine = session_client(owner)
    quote = mine.post("/pricing/quotes", _quote_body(account_a)).json()
    url = f"/pricing/quotes/{quote['id']}"
    assert_error(mine.post(f"{url}/send"), 400)  # a draft is not approved
    assert_error(mine.post(f"{url}/answer", {"accepted": "maybe"}), 422, "accepted")
    assert_error(mine.post(f"{url}/contract", {"contract_from": "2027-02-01",
                                                 "contract_to": "2027-01-01"}), 400)  # not accepted  # fmt: skip
    assert_error(mine.post(f"{url}/decide", {"decision": "maybe"}), 422, "decision")
    assert_error(mine.patch(url, {"discounts": [{"percent": "5", "zone": "mars"}]}), 422,
                 "discounts.0.zone")  # fmt: skip
    assert_error(mine.patch(url, {"valid_until": "2001-01-01"}), 422, "valid_until")
    assert_error(mine.patch(url, {}), 422, "body")
    stored = Quote.objects.get()
    assert stored.status == QuoteStatus.DRAFT and stored.valid_until.isoformat() == _valid_until()
    assert list(stored.card.discounts.values_list("percent", flat=True)) == [D("15")]
    assert_error(mine.get(f"{url}/what-if", {"volume_change": "600"}), 422, "volume_change")
    assert_error(mine.get(f"{url}/what-if", {"volume_change": "abc"}), 422, "volume_change")
    assert_error(mine.get("/pricing/quotes", {"status": "lost"}), 422, "status")
    assert_error(mine.get("/pricing/cards", {"kind": "secret"}), 422, "kind")


def test_an_empty_change_does_not_reopen_a_submitted_quote(
    session_client: Api, owner: User, account_a: Account, list_card: RateCard
) -> None:
    mine = session_client(owner)
    quote = mine.post("/pricing/quotes", _quote_body(account_a)).json()
    url = f"/pricing/quotes/{quote['id']}"
    assert mine.post(f"{url}/submit").json()["status"] == "submitted"  # no guidance: department
    assert_error(mine.patch(url, {"terms": None}), 422, "body")
    stored = Quote.objects.get()
    assert stored.status == QuoteStatus.SUBMITTED and stored.revision == 1


def test_the_apis_choices_are_the_models() -> None:
    assert set(get_args(api.StrategyName)) == set(Strategy.values)
    assert set(get_args(api.ProductName)) == set(Product.values)
    status = api.PricingQuoteQuery.model_fields["status"].annotation
    assert set(get_args(get_args(status)[0])) == set(QuoteStatus.values)


def test_contract_dates_are_checked_by_field(
    session_client: Api, owner: User, department: User, account_a: Account,
    list_card: RateCard, guidance: PriceGuidance,
) -> None:  # fmt: skip
    mine = session_client(owner)
    quote = mine.post("/pricing/quotes", _quote_body(account_a, "5")).json()
    url = f"/pricing/quotes/{quote['id']}"
    mine.post(f"{url}/submit")
    mine.post(f"{url}/send")
    mine.post(f"{url}/answer", {"accepted": True})
    assert_error(mine.post(f"{url}/contract", {"contract_from": "2027-02-01",
                                                 "contract_to": "2027-01-01"}), 422, "contract_to")  # fmt: skip
    assert_error(mine.post(f"{url}/contract", {}), 422, "contract_from")
    assert Quote.objects.get().status == QuoteStatus.ACCEPTED
    assert RateCard.objects.get(pk=quote["card"]).status == CardStatus.DRAFT


def test_without_an_active_list_card_no_quote_is_drafted(
    session_client: Api, owner: User, account_a: Account
) -> None:
    body = assert_error(session_client(owner).post("/pricing/quotes", _quote_body(account_a)), 400)
    assert "list" in body["detail"]
    assert not Quote.objects.exists() and not RateCard.objects.exists()


# --- what-if ---------------------------------------------------------------------------------


def _import(folder: Path, rows: str) -> None:
    path = folder / "w.csv"
    path.write_text("运单号,月结账号,寄件时间,始发地,目的地,产品,件数,计费重量,运费,状态\n" + rows,
                    encoding="utf-8")  # fmt: skip
    batch = ledger_services.import_create(
        by=None, source=ImportBatch.Source.CLI, file_name="w.csv", path=path
    )
    ledger_services.import_run(batch=batch, path=path)


def test_the_what_if_reprices_the_accounts_waybills_with_a_volume_change(
    session_client: Api, owner: User, account_a: Account, list_card: RateCard, tmp_path: Path
) -> None:
    mine = session_client(owner)
    quote = mine.post("/pricing/quotes", _quote_body(account_a, "10")).json()
    url = f"/pricing/quotes/{quote['id']}/what-if"
    nothing = mine.get(url).json()
    assert nothing["available"] is False and nothing["totals"] is None
    _import(tmp_path, "SF0000000001,YJ0591001,2026-01-05 10:00:00,福州,上海,特快,1,1.25,30.00,已签收\n"
                      "SF0000000002,YJ0591001,2026-02-05 10:00:00,福州,福州,特快,1,2,25.00,已签收\n"
                      "SF0000000003,OTHER-1,2026-02-06 10:00:00,福州,上海,特快,1,2,25.00,已签收\n")  # fmt: skip
    found = mine.get(url, {"volume_change": "10"})
    assert found.status_code == 200, found.content
    body = found.json()
    assert body["available"] is True and body["volume_change"] == "10"
    totals = body["totals"]
    assert totals["waybills"] == 2 and totals["current_revenue"] == "55.00"
    # Unchanged volume: the proposal is the list price less 10 %; 10 % more waybills of the
    # same mix scale the proposed side.
    plain = mine.get(url).json()["totals"]
    assert D(plain["freight"]) > 0 and D(totals["freight"]) == (
        D(plain["freight"]) * D("1.1")
    ).quantize(D("0.01"))
    assert D(totals["revenue_difference"]) == D(totals["proposed_revenue"]) - D("55.00")
    assert [m["month"] for m in body["by_month"]] == ["2026-01", "2026-02"]
    assert [p["product"] for p in body["by_product"]] == ["express"]
    assert body["period_end"] == "2026-02-01"
