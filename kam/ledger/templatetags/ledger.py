"""Small display helpers of the ledger's templates."""

from typing import Any

from django import template

from kam.core.templatetags.kam import num

register = template.Library()


register.filter("num", num)  # the project's one count format (kam.core.templatetags.kam)


@register.filter
def kg(value: Any) -> str:
    """A weight in kg with thousands separators and at most one decimal."""
    if value is None or value == "":
        return ""
    return f"{value:,.1f}"
