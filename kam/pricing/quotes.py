"""Quotes from draft to contract, and the approval chain the price guidance asks for.

draft → submitted → approved (or returned → draft again) → sent → accepted / rejected /
expired; an accepted quote becomes a contract: its card is the subject's active card from
the contract's first day. A quote within its tier's guidance is approved on submission;
beyond the normal discount (or below the margin floor) the department head approves;
beyond the floor discount a director approves after the department. A quote changed after
submission goes back to draft as a new revision and needs approval again.

Every action is atomic, checks who acts, and refuses bad input with a ``ValidationError``
naming the field or an ``ApplicationError``; history records who changed what.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_CEILING, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kam.accounts.models import Account, CorporateGroup
from kam.core.errors import ApplicationError, PermissionDeniedError
from kam.core.models import Role, User

from . import rating, selectors, services, strategies
from .models import (
    Approval,
    CardKind,
    CardStatus,
    Decision,
    PriceGuidance,
    Quote,
    QuoteNumber,
    QuoteStatus,
    QuoteStep,
    RateCard,
    Strategy,
)

EDITABLE = (QuoteStatus.DRAFT, QuoteStatus.RETURNED)
#: A quote changed in these states goes back to draft as a new revision.
REOPENED_BY_CHANGE = (QuoteStatus.SUBMITTED, QuoteStatus.APPROVED, QuoteStatus.SENT)


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDeniedError(_("You may not do this."))


def _by(obj: Any, by: User | None) -> None:
    obj._history_user = by


def _locked(quote: Quote) -> Quote:
    # Only the quote's row is locked: PostgreSQL cannot lock the nullable side of the
    # outer joins to its account or group.
    return (
        Quote.objects.select_for_update(of=("self",))
        .select_related("account", "group", "card")
        .get(pk=quote.pk)
    )


def _number(today: dt.date) -> str:
    """The next number of the year, from its locked counter (held to the transaction's end,
    so two quotes made at once get two numbers)."""
    QuoteNumber.objects.get_or_create(year=today.year)
    counter = QuoteNumber.objects.select_for_update().get(year=today.year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"Q{today:%Y}-{counter.last:05d}"


def list_card(day: dt.date) -> RateCard:
    card = (
        RateCard.objects.filter(
            kind=CardKind.LIST, status=CardStatus.ACTIVE, effective_from__lte=day
        )  # fmt: skip
        .exclude(effective_to__lt=day)
        .order_by("-effective_from")
        .first()
    )
    if card is None:
        raise ApplicationError(_("No standard (list) card is active today; activate one first."))
    return card


def _check_validity(valid_until: dt.date | None, today: dt.date) -> dt.date:
    if valid_until is None:
        raise ValidationError({"valid_until": _("Say until when the quote is valid.")})
    if valid_until < today:
        raise ValidationError({"valid_until": _("The quote cannot be valid until a past day.")})
    return valid_until


@transaction.atomic
def quote_create(
    *, by: User, account: Account | None = None, group: CorporateGroup | None = None,
    strategy: str, discounts: Iterable[rating.Discount], valid_until: dt.date | None,
    terms: str = "", workings: list[dict[str, Any]] | None = None,
    seasons: Iterable[strategies.Season] = (), today: dt.date | None = None,
) -> Quote:  # fmt: skip
    """A draft quote with its proposed card: discounts off today's list card, and its
    seasons (peak surcharges or off-season reductions in place of the list card's)."""
    today = today or timezone.localdate()
    if (account is None) == (group is None):
        raise ValidationError({"account": _("Choose an account or a corporate group.")})
    _require(selectors.may_quote(by, account) and (account is not None or by.role != Role.MANAGER))
    if strategy not in Strategy.values:
        raise ValidationError({"strategy": _("Choose a pricing strategy.")})
    valid_until = _check_validity(valid_until, today)
    base = list_card(today)
    number = _number(today)
    subject = account or group
    card = RateCard(
        name=f"{subject} · {number}", kind=CardKind.DISCOUNT, account=account, group=group,
        base=base, effective_from=today, status=CardStatus.DRAFT, created_by=by,
    )  # fmt: skip
    _by(card, by)
    card.save()
    services.set_discounts(card, discounts)
    services.set_seasons(card, seasons)
    quote = Quote(
        number=number, account=account, group=group, card=card, strategy=strategy,
        workings=workings or [], valid_until=valid_until, terms=(terms or "").strip()[:4000],
        owner=by,
    )  # fmt: skip
    _by(quote, by)
    quote.save()
    return quote


@transaction.atomic
def quote_update(
    *, by: User, quote: Quote, discounts: Iterable[rating.Discount] | None = None,
    valid_until: dt.date | None = None, terms: str | None = None, strategy: str | None = None,
    workings: list[dict[str, Any]] | None = None,
    seasons: Iterable[strategies.Season] | None = None, today: dt.date | None = None,
) -> Quote:  # fmt: skip
    """Change a quote before the customer's answer (``None``: leave as it is; no seasons
    is ``[]``). A change after submission makes it a new revision in draft: it needs
    approval again."""
    today = today or timezone.localdate()
    quote = _locked(quote)
    _require(selectors.may_edit_quote(by, quote))
    if quote.status not in (*EDITABLE, *REOPENED_BY_CHANGE):
        raise ApplicationError(_("A quote the customer has answered can no longer change."))
    if discounts is not None:
        services.set_discounts(quote.card, discounts)
    if seasons is not None:
        services.set_seasons(quote.card, seasons)
    if valid_until is not None:
        quote.valid_until = _check_validity(valid_until, today)
    if terms is not None:
        quote.terms = terms.strip()[:4000]
    if strategy is not None:
        if strategy not in Strategy.values:
            raise ValidationError({"strategy": _("Choose a pricing strategy.")})
        quote.strategy = strategy
    if workings is not None:
        quote.workings = workings
    if quote.status in REOPENED_BY_CHANGE:
        quote.revision += 1
        quote.status = QuoteStatus.DRAFT
        quote.awaiting = ""
        quote.approval = Approval.NONE
    _by(quote, by)
    quote.save()
    return quote


def tier_of(quote: Quote) -> int | None:
    """The account's tier; a group's best (lowest-numbered) tier among its accounts."""
    if quote.account_id:
        return quote.account.tier
    tiers = [t for t in quote.group.accounts.values_list("tier", flat=True) if t]
    return min(tiers) if tiers else None


def _pct(value: Decimal) -> str:
    """A percentage without trailing zeros and never in exponent form (40, 12.5)."""
    return format(value.normalize(), "f")


def approval_needed(
    tier: int | None, deepest: Decimal, margin: Decimal | None
) -> tuple[str, list[str]]:
    """The approval a proposal needs under its tier's guidance, and why (in words)."""
    guidance = PriceGuidance.objects.filter(tier=tier).first() if tier else None
    if guidance is None:
        return Approval.DEPARTMENT, [_("No price guidance is set for this tier.")]
    reasons: list[str] = []
    level = Approval.NONE
    if deepest > guidance.floor_discount:
        level = Approval.DIRECTOR
        reasons.append(
            _("A discount of %(d)s %% is beyond the floor of %(f)s %%.")
            % {"d": _pct(deepest), "f": _pct(guidance.floor_discount)}
        )
    elif deepest > guidance.normal_discount:
        level = Approval.DEPARTMENT
        reasons.append(
            _("A discount of %(d)s %% is beyond the normal %(n)s %%.")
            % {"d": _pct(deepest), "n": _pct(guidance.normal_discount)}
        )
    if margin is not None and margin < guidance.margin_floor:
        level = Approval.DIRECTOR
        reasons.append(
            _("The margin of %(m)s %% is below the floor of %(f)s %%.")
            % {"m": margin.quantize(Decimal("0.1")), "f": _pct(guidance.margin_floor)}
        )
    return level, reasons


def _step(quote: Quote, by: User, level: str, decision: str, comment: str = "") -> QuoteStep:
    return QuoteStep.objects.create(
        quote=quote, revision=quote.revision, level=level, decision=decision,
        comment=comment.strip()[:2000], by=by,
    )  # fmt: skip


@transaction.atomic
def quote_submit(*, by: User, quote: Quote, margin: Decimal | None = None) -> Quote:
    """Submit for approval. ``margin`` is the proposal's margin % on the subject's last
    twelve months (from the what-if), when known. Within guidance the quote is approved
    at once (the step says so)."""
    quote = _locked(quote)
    _require(selectors.may_edit_quote(by, quote))
    if quote.status not in EDITABLE:
        raise ApplicationError(_("Only a draft or returned quote can be submitted."))
    discounts = list(quote.card.discounts.values_list("percent", flat=True))
    if not discounts:
        raise ApplicationError(_("Give the quote at least one discount before submitting."))
    deepest = max(discounts)
    # An off-season reduction discounts further on its dates: the deepest discount is the
    # list's reduction there, 100 - (100 - d) * (100 + p) / 100 (rounded up to 0.001).
    reduction = min(quote.card.peaks.values_list("percent", flat=True), default=Decimal("0"))
    if reduction < 0:
        deepest = (100 - (100 - deepest) * (100 + reduction) / 100).quantize(
            Decimal("0.001"), rounding=ROUND_CEILING
        )
    level, reasons = approval_needed(tier_of(quote), deepest, margin)
    quote.deepest_discount, quote.margin_percent, quote.approval = deepest, margin, level
    quote.submitted_at = timezone.now()
    _step(quote, by, level, Decision.SUBMITTED, " ".join(reasons))
    if level == Approval.NONE:
        quote.status, quote.awaiting = QuoteStatus.APPROVED, ""
    else:
        quote.status, quote.awaiting = QuoteStatus.SUBMITTED, Approval.DEPARTMENT
        _notify_approvers(quote, Role.DEPARTMENT)
    _by(quote, by)
    quote.save()
    return quote


@transaction.atomic
def quote_decide(*, by: User, quote: Quote, decision: str, comment: str = "") -> Quote:
    """The department head (then, below the floor, a director) approves or returns a
    submitted quote. Returning needs a comment."""
    quote = _locked(quote)
    if quote.status != QuoteStatus.SUBMITTED:
        raise ApplicationError(_("Only a quote awaiting approval can be decided."))
    _require(selectors.may_approve(by, quote.awaiting))
    if decision not in (Decision.APPROVED, Decision.RETURNED):
        raise ValidationError({"decision": _("Approve the quote or return it.")})
    if decision == Decision.RETURNED and not comment.strip():
        raise ValidationError({"comment": _("Say what must change before the quote is returned.")})
    level = quote.awaiting
    _step(quote, by, level, decision, comment)
    if decision == Decision.RETURNED:
        quote.status, quote.awaiting = QuoteStatus.RETURNED, ""
    elif (
        level == Approval.DEPARTMENT
        and quote.approval == Approval.DIRECTOR
        and (by.role != Role.DIRECTOR)
    ):
        quote.awaiting = Approval.DIRECTOR
        _notify_approvers(quote, Role.DIRECTOR)
    else:
        quote.status, quote.awaiting = QuoteStatus.APPROVED, ""
    _by(quote, by)
    quote.save()
    if quote.status != QuoteStatus.SUBMITTED:
        _notify_owner(quote, decision, comment)
    return quote


@transaction.atomic
def quote_send(*, by: User, quote: Quote) -> Quote:
    quote = _locked(quote)
    _require(selectors.may_edit_quote(by, quote))
    if quote.status != QuoteStatus.APPROVED:
        raise ApplicationError(_("Only an approved quote can be sent to the customer."))
    quote.status = QuoteStatus.SENT
    _by(quote, by)
    quote.save()
    return quote


@transaction.atomic
def quote_answer(*, by: User, quote: Quote, accepted: bool, today: dt.date | None = None) -> Quote:
    """Record the customer's answer to a sent quote (a quote past its validity expires)."""
    today = today or timezone.localdate()
    quote = _locked(quote)
    _require(selectors.may_edit_quote(by, quote))
    if quote.status != QuoteStatus.SENT:
        raise ApplicationError(_("Only a quote sent to the customer can be answered."))
    if accepted and quote.valid_until < today:
        raise ApplicationError(
            _("The quote expired on %(day)s; send a new one.") % {"day": quote.valid_until}
        )
    quote.status = QuoteStatus.ACCEPTED if accepted else QuoteStatus.REJECTED
    _by(quote, by)
    quote.save()
    return quote


def expire_quotes(today: dt.date | None = None) -> int:
    """Sent quotes past their validity expire (the daily job; pages call it too)."""
    today = today or timezone.localdate()
    expired = 0
    with transaction.atomic():
        # One by one (a handful a day), so that each expiry is in the quote's history.
        due = Quote.objects.filter(status=QuoteStatus.SENT, valid_until__lt=today)
        for quote in due.select_for_update(of=("self",)).order_by("pk"):
            quote.status = QuoteStatus.EXPIRED
            _by(quote, None)
            quote._change_reason = "expired"  # type: ignore[attr-defined]
            quote.save(update_fields=["status", "updated_at"])
            expired += 1
    return expired


@transaction.atomic
def quote_contract(
    *, by: User, quote: Quote, contract_from: dt.date | None, contract_to: dt.date | None
) -> Quote:
    """An accepted quote becomes the contract: its card is active from ``contract_from``
    (to ``contract_to``, or open-ended). The subject's open-ended card that started
    earlier ends the day before; any other overlap is refused by name."""
    quote = _locked(quote)
    _require(selectors.may_edit_quote(by, quote))
    if quote.status != QuoteStatus.ACCEPTED:
        raise ApplicationError(_("Only an accepted quote becomes a contract."))
    if contract_from is None:
        raise ValidationError({"contract_from": _("Say from which day the contract applies.")})
    if contract_to is not None and contract_to < contract_from:
        raise ValidationError({"contract_to": _("The contract cannot end before it starts.")})
    card = quote.card
    card.effective_from, card.effective_to = contract_from, contract_to
    _by(card, by)
    card.save(update_fields=["effective_from", "effective_to", "updated_at"])
    subject = {"account": quote.account} if quote.account_id else {"group": quote.group}
    for earlier in RateCard.objects.select_for_update().filter(
        status=CardStatus.ACTIVE, effective_to__isnull=True,
        effective_from__lt=contract_from, **subject,
    ):  # fmt: skip
        earlier.effective_to = contract_from - dt.timedelta(days=1)
        _by(earlier, by)
        earlier.save(update_fields=["effective_to", "updated_at"])
    services.activate_card(card)
    quote.status, quote.contract_from, quote.contract_to = (
        QuoteStatus.CONTRACTED,
        contract_from,
        contract_to,
    )
    _by(quote, by)
    quote.save()
    return quote


def _notify_approvers(quote: Quote, role: str) -> None:
    from kam.core.notify import notify  # noqa: PLC0415

    people = list(User.objects.filter(role=role, is_active=True))
    url = reverse("pricing:quote", args=[quote.pk])
    transaction.on_commit(lambda: notify(
        people, kind="pricing.quote_submitted", url=url, email=False,
        subject=gettext_lazy("Quote to approve: %(quote)s") % {"quote": quote.number},
        body=gettext_lazy("%(owner)s asks for approval of %(quote)s for %(subject)s.")
        % {"owner": str(quote.owner), "quote": quote.number, "subject": str(quote.subject)},
    ))  # fmt: skip


def _notify_owner(quote: Quote, decision: str, comment: str) -> None:
    from kam.core.notify import notify  # noqa: PLC0415

    subject = (
        gettext_lazy("Quote approved: %(quote)s")
        if decision == Decision.APPROVED
        else gettext_lazy("Quote returned: %(quote)s")
    ) % {"quote": quote.number}
    url = reverse("pricing:quote", args=[quote.pk])
    transaction.on_commit(lambda: notify(
        [quote.owner], kind="pricing.quote_decided", url=url, email=False,
        subject=subject, body=comment or subject,
    ))  # fmt: skip
