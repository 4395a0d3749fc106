from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet

from kam.core import access
from kam.core.models import AccessLog, User


def access_log_for(
    user: User,
    *,
    username: str = "",
    whose: str = "",
    action: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AccessLog]:
    """The access log, for directors only; dates are calendar days in China time."""
    if not access.is_active_user(user) or not access.may_read_access_log(user):
        return AccessLog.objects.none()
    rows = AccessLog.objects.all()
    if username:
        rows = rows.filter(username__icontains=username)
    if whose:
        rows = rows.filter(subject_label__icontains=whose)
    if action:
        rows = rows.filter(action=action)
    tz = ZoneInfo(settings.TIME_ZONE)
    if date_from:
        rows = rows.filter(at__gte=datetime.combine(date_from, time.min, tzinfo=tz))
    if date_to:
        rows = rows.filter(
            at__lt=datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz)
        )
    return rows.order_by("-at", "-id")
