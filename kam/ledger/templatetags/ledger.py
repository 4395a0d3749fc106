"""Small display helpers of the ledger's templates."""

from typing import Any

from django import template

register = template.Library()


@register.filter
def num(value: Any) -> str:
    """A count with thousands separators in every language (1,234,567); empty for None."""
    if value is None or value == "":
        return ""
    return f"{int(value):,}"


@register.filter
def kg(value: Any) -> str:
    """A weight in kg with thousands separators and at most one decimal."""
    if value is None or value == "":
        return ""
    return f"{value:,.1f}"
