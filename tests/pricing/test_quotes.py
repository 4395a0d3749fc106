"""Quotes from draft to contract: who may do what, the approval chain the tier's guidance
asks for, revisions, and the contract that becomes the account's active card."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from kam.core.errors import ApplicationError, PermissionDeniedError
from kam.core.models import Notification
from kam.pricing import quotes, rating, selectors, services
from kam.pricing.models import (
    Approval,
    CardKind,
    CardStatus,
    QuoteStatus,
    RateCard,
)

from .support import standard_card, tier_one_guidance

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = dt.date(2026, 6, 1)
LATER = TODAY + dt.timedelta(days=30)


@pytest.fixture
def standard(db):
    card = standard_card()
    tier_one_guidance()
    return card


def new_quote(owner, account, percent="25"):
    return quotes.quote_create(
        by=owner, account=account, strategy="cost_plus",
        discounts=[rating.Discount(D(percent))], valid_until=LATER, terms="90 天账期", today=TODAY,
    )  # fmt: skip


def test_within_guidance_a_quote_is_approved_on_submission(standard, owner, account_a):
    quote = new_quote(owner, account_a, "25")
    assert quote.number.startswith("Q2026-") and quote.card.kind == CardKind.DISCOUNT
    assert quote.card.base == standard and quote.card.status == CardStatus.DRAFT
    quote = quotes.quote_submit(by=owner, quote=quote, margin=D("15"))
    assert (quote.status, quote.approval, quote.deepest_discount) == (
        QuoteStatus.APPROVED, Approval.NONE, D("25"),
    )  # fmt: skip
    assert list(quote.steps.values_list("decision", flat=True)) == ["submitted"]


def test_below_the_floor_the_department_then_a_director_approve(
    standard, owner, account_a, department, director
):
    quote = quotes.quote_submit(by=owner, quote=new_quote(owner, account_a, "45"), margin=D("12"))
    assert (quote.status, quote.approval, quote.awaiting) == (
        QuoteStatus.SUBMITTED, Approval.DIRECTOR, Approval.DEPARTMENT,
    )  # fmt: skip
    assert "beyond the floor of 40 %" in quote.steps.get().comment
    assert list(selectors.awaiting_approval(department)) == [quote]
    assert list(selectors.awaiting_approval(director)) == []
    assert Notification.objects.filter(user=department, kind="pricing.quote_submitted").exists()
    with pytest.raises(PermissionDeniedError):
        quotes.quote_decide(by=owner, quote=quote, decision="approved")
    quote = quotes.quote_decide(by=department, quote=quote, decision="approved", comment="同意")
    assert (quote.status, quote.awaiting) == (QuoteStatus.SUBMITTED, Approval.DIRECTOR)
    with pytest.raises(PermissionDeniedError):
        quotes.quote_decide(by=department, quote=quote, decision="approved")
    assert list(selectors.awaiting_approval(director)) == [quote]
    quote = quotes.quote_decide(by=director, quote=quote, decision="approved")
    assert quote.status == QuoteStatus.APPROVED
    assert Notification.objects.filter(user=owner, kind="pricing.quote_decided").exists()


def test_a_margin_below_the_floor_needs_a_director_even_within_the_normal_discount(
    standard, owner, account_a
):
    quote = quotes.quote_submit(by=owner, quote=new_quote(owner, account_a, "10"), margin=D("4.5"))
    assert quote.approval == Approval.DIRECTOR
    assert "The margin of 4.5 % is below the floor of 10 %" in quote.steps.get().comment


def test_returning_needs_a_comment_and_a_change_needs_approval_again(
    standard, owner, account_a, department
):
    quote = quotes.quote_submit(by=owner, quote=new_quote(owner, account_a, "35"))
    assert quote.approval == Approval.DEPARTMENT
    with pytest.raises(ValidationError, match="Say what must change"):
        quotes.quote_decide(by=department, quote=quote, decision="returned", comment="  ")
    quote = quotes.quote_decide(by=department, quote=quote, decision="returned", comment="折扣过深")
    assert quote.status == QuoteStatus.RETURNED
    quote = quotes.quote_submit(
        by=owner, quote=quotes.quote_update(by=owner, quote=quote, discounts=[rating.Discount(D(28))]),
    )  # fmt: skip
    assert quote.status == QuoteStatus.APPROVED  # within guidance now
    # Changed after approval: a new revision in draft.
    quote = quotes.quote_update(by=owner, quote=quote, terms="60 天账期", today=TODAY)
    assert (quote.status, quote.revision, quote.terms) == (QuoteStatus.DRAFT, 2, "60 天账期")


def test_send_answer_and_contract_make_the_active_card(standard, owner, account_a):
    earlier = RateCard.objects.create(
        name="old", kind=CardKind.DISCOUNT, account=account_a, base=standard,
        effective_from=dt.date(2025, 1, 1),
    )  # fmt: skip
    services.activate_card(earlier)
    quote = quotes.quote_submit(by=owner, quote=new_quote(owner, account_a, "20"))
    with pytest.raises(ApplicationError, match="Only an accepted quote"):
        quotes.quote_contract(by=owner, quote=quote, contract_from=TODAY, contract_to=None)
    quote = quotes.quote_send(by=owner, quote=quote)
    quote = quotes.quote_answer(by=owner, quote=quote, accepted=True, today=TODAY)
    with pytest.raises(ValidationError, match="cannot end before it starts"):
        quotes.quote_contract(
            by=owner, quote=quote, contract_from=TODAY, contract_to=TODAY - dt.timedelta(days=1)
        )
    quote = quotes.quote_contract(by=owner, quote=quote, contract_from=TODAY, contract_to=None)
    assert quote.status == QuoteStatus.CONTRACTED
    earlier.refresh_from_db()
    assert earlier.effective_to == TODAY - dt.timedelta(days=1)
    assert services.active_card(account_a, TODAY) == quote.card
    assert services.active_card(account_a, TODAY - dt.timedelta(days=1)) == earlier
    with pytest.raises(ApplicationError, match="can no longer change"):
        quotes.quote_update(by=owner, quote=quote, terms="x")


def test_a_sent_quote_past_its_validity_expires_and_cannot_be_accepted(standard, owner, account_a):
    quote = quotes.quote_send(
        by=owner, quote=quotes.quote_submit(by=owner, quote=new_quote(owner, account_a))
    )
    with pytest.raises(ApplicationError, match="expired"):
        quotes.quote_answer(
            by=owner, quote=quote, accepted=True, today=LATER + dt.timedelta(days=1)
        )
    assert quotes.expire_quotes(today=LATER + dt.timedelta(days=1)) == 1
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.EXPIRED


def test_who_may_quote(standard, owner, colleague, analyst, account_a, account_b):
    with pytest.raises(PermissionDeniedError):
        new_quote(colleague, account_a)
    with pytest.raises(PermissionDeniedError):
        new_quote(analyst, account_a)
    quote = new_quote(owner, account_a)
    assert list(selectors.quote_list_for(colleague)) == []
    assert list(selectors.quote_list_for(analyst)) == [quote]
    assert not selectors.may_edit_quote(analyst, quote)
    with pytest.raises(PermissionDeniedError):
        quotes.quote_submit(by=colleague, quote=quote)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"valid_until": None}, "valid_until"),
        ({"valid_until": TODAY - dt.timedelta(days=1)}, "valid_until"),
        ({"strategy": "guesswork"}, "strategy"),
    ],
)
def test_bad_quotes_are_refused_and_nothing_is_stored(standard, owner, account_a, kwargs, field):
    args = {"by": owner, "account": account_a, "strategy": "cost_plus", "valid_until": LATER,
            "discounts": [rating.Discount(D(10))], "today": TODAY, **kwargs}  # fmt: skip
    cards = RateCard.objects.count()
    with pytest.raises(ValidationError) as caught:
        quotes.quote_create(**args)
    assert field in caught.value.message_dict
    assert RateCard.objects.count() == cards
    with pytest.raises(ValidationError, match="Row 1: a discount must be between"):
        quotes.quote_create(**{**args, "strategy": "cost_plus", "valid_until": LATER,
                               "discounts": [rating.Discount(D(120))]})  # fmt: skip
    assert RateCard.objects.count() == cards


def test_no_quote_without_an_active_list_card(owner, account_a):
    with pytest.raises(ApplicationError, match="No standard"):
        new_quote(owner, account_a)
