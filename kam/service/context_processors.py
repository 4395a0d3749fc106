"""Template variables for the service app's navigation entries (``service/_nav.html``)."""

from django.http import HttpRequest

from kam.core import access


def nav(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if not access.is_active_user(user) or not access.sees_customer_data(user):  # type: ignore[arg-type]
        return {"service_nav": False}
    from .services import may_manage_service

    return {"service_nav": True, "service_manages": may_manage_service(user)}  # type: ignore[arg-type]
