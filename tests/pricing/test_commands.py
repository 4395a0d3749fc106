"""``kam pricing expire``: the daily job that expires sent quotes past their validity."""

import datetime as dt
import json
import re
from decimal import Decimal as D
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command

from kam.pricing import quotes, rating
from kam.pricing.models import QuoteStatus

from .support import standard_card, tier_one_guidance

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 1)


@pytest.fixture
def standard(db):
    card = standard_card()
    tier_one_guidance()
    return card


def sent_quote(owner, account, valid_until):
    quote = quotes.quote_create(
        by=owner, account=account, strategy="cost_plus", discounts=[rating.Discount(D("25"))],
        valid_until=valid_until, terms="", today=TODAY,
    )  # fmt: skip
    return quotes.quote_send(by=owner, quote=quotes.quote_submit(by=owner, quote=quote))


def run(*args: str) -> str:
    out = StringIO()
    call_command("pricing", "expire", *args, stdout=out)
    return out.getvalue()


def test_expire_expires_a_sent_quote_past_its_validity_and_keeps_a_valid_one(
    standard, owner, account_a
):
    past = sent_quote(owner, account_a, TODAY + dt.timedelta(days=9))
    valid = sent_quote(owner, account_a, TODAY + dt.timedelta(days=10))
    day = TODAY + dt.timedelta(days=10)
    assert json.loads(run("--date", day.isoformat(), "--json")) == {
        "day": "2026-06-11", "expired": 1,
    }  # fmt: skip
    past.refresh_from_db()
    valid.refresh_from_db()
    assert (past.status, valid.status) == (QuoteStatus.EXPIRED, QuoteStatus.SENT)
    # The expiry is in the quote's history, by no one, with its reason.
    latest = past.history.order_by("-history_date", "-history_id").first()
    assert (latest.status, latest.history_user, latest.history_change_reason) == (
        QuoteStatus.EXPIRED, None, "expired",
    )  # fmt: skip
    # The job may run again (a retry, two schedulers): nothing more to do.
    assert json.loads(run("--date", day.isoformat(), "--json"))["expired"] == 0
    past.refresh_from_db()
    assert past.status == QuoteStatus.EXPIRED


def test_expire_leaves_drafts_and_approved_quotes_alone(standard, owner, account_a):
    draft = quotes.quote_create(
        by=owner, account=account_a, strategy="cost_plus", discounts=[rating.Discount(D("25"))],
        valid_until=TODAY, terms="", today=TODAY,
    )  # fmt: skip
    assert run("--date", "2027-01-01") == "Expired 0 sent quotes valid until before 2027-01-01.\n"
    draft.refresh_from_db()
    assert draft.status == QuoteStatus.DRAFT


def test_expire_defaults_to_today_in_shanghai(standard, owner, account_a):
    quote = sent_quote(owner, account_a, TODAY)
    # 16:30 UTC on 1 June is 00:30 on 2 June in Shanghai: the quote is past its validity.
    with time_machine.travel(dt.datetime(2026, 6, 1, 16, 30, tzinfo=dt.UTC), tick=False):
        assert json.loads(run("--json")) == {"day": "2026-06-02", "expired": 1}
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.EXPIRED


def test_expire_refuses_a_bad_date() -> None:
    with pytest.raises(CommandError, match="a date like"):
        run("--date", "tomorrow")


def test_the_scheduler_block_of_the_operations_guide_runs_it() -> None:
    guide = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
    cron = re.search(r"```cron\n(.*?)```", guide.read_text(encoding="utf-8"), re.DOTALL)
    assert cron is not None
    assert ".venv/bin/kam pricing expire --json" in cron.group(1)
