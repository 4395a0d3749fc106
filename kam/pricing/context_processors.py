"""Template variables for the pricing app's navigation entry (``pricing/_nav.html``)."""

from django.http import HttpRequest

from kam.core import access


def nav(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if not access.is_active_user(user):
        return {}
    from .selectors import may_approve, sees_pricing  # noqa: PLC0415

    return {
        "pricing_visible": sees_pricing(user),
        "pricing_approves": may_approve(user, "department"),
    }
