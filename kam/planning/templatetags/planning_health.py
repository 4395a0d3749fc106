"""The plan page's stakeholder maps and coverage warnings, as an inclusion tag (the plan
page's view stays as it is; the tag reads through the user's access rules)."""

from typing import Any

from django import template

from ..health_views import plan_stakeholders
from ..stakeholders import AccountPeople

register = template.Library()


@register.inclusion_tag("planning/_plan_stakeholders.html", takes_context=True)
def plan_stakeholder_maps(context: Any, plan: Any) -> dict[str, Any]:
    request = context["request"]
    return {"blocks": plan_stakeholders(request.user, plan), "columns": AccountPeople.columns(),
            "request": request}  # fmt: skip


ATTITUDE_CLASS = {"champion": "success", "supporter": "primary", "neutral": "secondary",
                  "opponent": "danger"}  # fmt: skip


@register.filter
def attitude_class(attitude: str) -> str:
    return ATTITUDE_CLASS.get(attitude, "secondary")


@register.filter
def health_class(score: int | None) -> str:
    """Bootstrap colour of a score: 70 and over good, under 40 poor."""
    if score is None:
        return "secondary"
    return "success" if score >= 70 else "warning" if score >= 40 else "danger"
