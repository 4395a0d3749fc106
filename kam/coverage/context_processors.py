"""Template variables for the coverage app's navigation entries (``coverage/_nav.html``)."""

from django.http import HttpRequest

from kam.core import access


def nav(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if not access.is_active_user(user):
        return {}
    from .services import may_plan, may_review  # noqa: PLC0415

    return {
        "coverage_visible": access.sees_customer_data(user),
        "coverage_plans": may_plan(user),
        "coverage_reviews": may_review(user),
    }
