from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag(takes_context=True)
def query_with(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters replaced (for sort and page links)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    return params.urlencode()


@register.simple_tag
def tier_badge(tier: int | None) -> str:
    if not tier:
        return format_html('<span class="kam-tier kam-tier-none">{}</span>', _("none"))
    return format_html('<span class="kam-tier kam-tier-{}">T{}</span>', tier, tier)


@register.filter
def money(value: Any) -> str:
    """CNY with thousands separators and two decimals, from a number or a decimal string;
    empty for None. A negative amount carries a minus sign (U+2212) before the currency
    sign: −¥872.07, not ¥-872.07."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = Decimal(value)
        except InvalidOperation:
            return value
    text = f"{value:,.2f}"
    if text.startswith("-"):
        # "-0.00" (a tiny negative rounded away) is no loss: no sign.
        return f"¥{text[1:]}" if text == "-0.00" else f"\u2212¥{text[1:]}"
    return f"¥{text}"


@register.filter
def num(value: Any) -> str:
    """A count with thousands separators in every language (1,234,567); empty for None."""
    if value is None or value == "":
        return ""
    return f"{int(value):,}"


@register.simple_tag(takes_context=True)
def sort_header(
    context: dict[str, Any], key: str, label: str, descending_first: bool = False
) -> str:
    """A column heading that sorts by ``key``; a second click reverses the order."""
    current = context.get("sort", "")
    icon = ""
    if current == key:
        next_sort, icon = f"-{key}", "bi-caret-up-fill"
    elif current == f"-{key}":
        next_sort, icon = key, "bi-caret-down-fill"
    else:
        next_sort = f"-{key}" if descending_first else key
    query = query_with(context, sort=next_sort, page=None)
    target = context.get("hx_target", "")
    return format_html(
        '<a href="?{}" hx-get="?{}" hx-target="{}" hx-push-url="true">{} {}</a>',
        query,
        query,
        target,
        label,
        format_html('<i class="bi {}"></i>', icon) if icon else "",
    )
