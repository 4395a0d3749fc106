from django.conf import settings
from django.http import HttpRequest

from kam.core import access, twofactor
from kam.core.models import Notification


def kam(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    active = access.is_active_user(user)
    return {
        "product_name": settings.KAM_PRODUCT_NAME,
        "can_read_access_log": active and access.may_read_access_log(user),
        "sees_customer_data": active and access.sees_customer_data(user),
        "may_manage_archive": active and access.may_manage_archive(user),
        "sees_ledger": active and access.sees_ledger(user),
        "may_import": active and access.may_import(user),
        "may_unlock_logins": active and access.may_unlock_logins(user),
        "may_manage_logins": active and access.may_manage_logins(user),
        # Logged in with the password, the second factor still owed: no navigation yet.
        "owes_second_factor": active and twofactor.needs_verification(request),
        "unread_notifications": (
            Notification.objects.filter(user=user, read_at__isnull=True).count() if active else 0
        ),
    }
