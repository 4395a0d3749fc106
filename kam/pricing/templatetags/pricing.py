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
