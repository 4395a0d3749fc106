"""Template variables for the segmentation app's navigation entries (``segmentation/_nav.html``)."""

from django.http import HttpRequest

from kam.core import access


def nav(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if not access.is_active_user(user):
        return {}
    return {
        "seg_portfolio": access.sees_ledger(user),  # type: ignore[arg-type]
        "seg_alerts": access.sees_customer_data(user),  # type: ignore[arg-type]
        # Managers: the portfolio of their own accounts.
        "seg_own_portfolio": user.role == "manager",  # type: ignore[union-attr]
    }
