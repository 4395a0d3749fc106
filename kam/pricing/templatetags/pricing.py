from typing import Any

from django import template

register = template.Library()


@register.filter
def lookup(mapping: dict[str, Any], key: str) -> Any:
    """``mapping[key]``, or the key itself when it is not there."""
    return mapping.get(key, key) if isinstance(mapping, dict) else key


@register.filter
def region(code: str) -> str:
    """A GB/T 2260 code's name in the active language."""
    from kam.core import regions

    return regions.label(code)


@register.filter
def pct(value: object) -> str:
    """A percentage as entered: 22.5, 40, -5 (no trailing zeros, never 4E+1)."""
    from decimal import Decimal, InvalidOperation

    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0") else text
