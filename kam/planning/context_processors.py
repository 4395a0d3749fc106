"""Template variables for the planning app's navigation entry (``planning/_nav.html``)."""

from django.http import HttpRequest

from kam.core import access


def nav(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if not access.is_active_user(user):
        return {}
    from .selectors import may_review, sees_plans  # noqa: PLC0415

    return {"planning_visible": sees_plans(user), "planning_reviews": may_review(user)}
