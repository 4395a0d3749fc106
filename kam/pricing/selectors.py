"""Who sees and does what in pricing, and the querysets every page starts from.

Pricing follows the archive's rule: a manager sees the cards and quotes of the accounts
on their teams (and group cards and quotes of groups one of those accounts belongs to);
the department, directors and analysts see all; analysts only read. The standard list
card, the zone matrix, cost rates and guidance are visible to everyone who sees pricing.
Foreign rows are simply not in the querysets: pages answer 404.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from kam.accounts.models import Account
from kam.accounts.selectors import account_list_for, account_scope_q, account_visible
from kam.core import access
from kam.core.models import Role, User

from .models import Approval, CardKind, Quote, QuoteStatus, RateCard

PRICING_ROLES = (Role.DIRECTOR, Role.DEPARTMENT, Role.MANAGER, Role.ANALYST)


def sees_pricing(user: User) -> bool:
    return access.is_active_user(user) and user.role in PRICING_ROLES


def may_quote(user: User, account: Account | None = None) -> bool:
    """The department and directors quote any account or group; a manager the accounts on
    their teams (not groups: a group's price is the department's)."""
    if not access.is_active_user(user) or user.role not in (
        Role.DIRECTOR, Role.DEPARTMENT, Role.MANAGER
    ):  # fmt: skip
        return False
    if user.role != Role.MANAGER:
        return True
    return account is not None and account_visible(user, account)


def may_edit_quote(user: User, quote: Quote) -> bool:
    if quote.account_id is None:
        return may_quote(user) and user.role != Role.MANAGER
    return quote.owner_id == user.pk or may_quote(user, quote.account)


def may_approve(user: User, level: str) -> bool:
    """The department head approves at the department's level; directors at both."""
    if not access.is_active_user(user):
        return False
    if user.role == Role.DIRECTOR:
        return True
    return user.role == Role.DEPARTMENT and level == Approval.DEPARTMENT


def may_edit_guidance(user: User) -> bool:
    return access.is_active_user(user) and user.role == Role.DIRECTOR


def may_edit_cards(user: User) -> bool:
    """The standard card, competitor rates and the fuel index: the department and
    directors (zones and cost rates too; administrators have the admin site)."""
    return access.is_active_user(user) and user.role in (Role.DIRECTOR, Role.DEPARTMENT)


def _group_scope(user: User) -> Q:
    return Q(group__accounts__in=account_list_for(user).values("pk"))


def card_list_for(user: User) -> QuerySet[RateCard]:
    """List cards for everyone who sees pricing; account and group cards in scope."""
    if not sees_pricing(user):
        return RateCard.objects.none()
    cards = RateCard.objects.select_related("account", "group", "base")
    if access.sees_all_accounts(user):
        return cards
    visible = (
        Q(kind=CardKind.LIST)
        | Q(account__isnull=False) & account_scope_q(user)
        | Q(group__isnull=False) & _group_scope(user)
    )
    return cards.filter(visible).distinct()


def card_get_for(user: User, pk: int) -> RateCard:
    return card_list_for(user).get(pk=pk)


def quote_list_for(user: User) -> QuerySet[Quote]:
    if not sees_pricing(user):
        return Quote.objects.none()
    quotes = Quote.objects.select_related("account", "group", "owner", "card")
    if access.sees_all_accounts(user):
        return quotes
    return quotes.filter(Q(account__isnull=False) & account_scope_q(user))


def quote_get_for(user: User, pk: int) -> Quote:
    return quote_list_for(user).get(pk=pk)


def awaiting_approval(user: User) -> QuerySet[Quote]:
    """Submitted quotes waiting for ``user``'s decision: the department's at its level,
    a director's once the department approved (or at either level, when the director
    acts first)."""
    quotes = quote_list_for(user).filter(status=QuoteStatus.SUBMITTED)
    if user.role == Role.DIRECTOR:
        return quotes.filter(awaiting=Approval.DIRECTOR)
    if user.role == Role.DEPARTMENT:
        return quotes.filter(awaiting=Approval.DEPARTMENT)
    return quotes.none()
