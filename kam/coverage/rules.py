"""Which policy rule covers an account (pure: rows in, a row out)."""

from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar


class RuleLike(Protocol):
    tier: int
    category: str
    cadence_days: int


R = TypeVar("R", bound=RuleLike)


def rule_for(rules: Iterable[R], tier: int | None, categories: Sequence[str]) -> R | None:
    """The most demanding rule for an account of ``tier`` holding ``categories``: among the
    tier's rules for all categories ("") and for any of the account's categories, the
    one with the shortest cadence. Accounts without a tier are not covered."""
    if tier is None:
        return None
    matching = [r for r in rules if r.tier == tier and (not r.category or r.category in categories)]
    if not matching:
        return None
    return min(matching, key=lambda r: (r.cadence_days, r.category == ""))
