"""Template filters of the coverage pages."""

from typing import Any

from django import template
from django.utils.translation import gettext as _

from kam.core import regions

register = template.Library()


@register.filter
def region(code: str) -> str:
    return regions.label(code)


@register.filter
def percent(value: Any) -> str:
    return "—" if value is None else f"{value} %"


@register.simple_tag
def severity_class(severity: int) -> str:
    return {1: "text-bg-secondary", 2: "text-bg-info", 3: "text-bg-warning",
            4: "text-bg-danger"}.get(severity, "text-bg-light")  # fmt: skip


@register.simple_tag
def follow_up_class(status: str, overdue: bool) -> str:
    if status in ("done",):
        return "text-bg-success"
    if status == "cancelled":
        return "text-bg-secondary"
    return "text-bg-danger" if overdue else "text-bg-primary"


@register.filter
def yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")
