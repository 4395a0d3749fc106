"""The log of changes to how people log in: second factors, sessions ended, locks lifted."""

from typing import Any

from django.db.models import QuerySet

from kam.core import requestcontext
from kam.core.models import SecurityEvent, User


def security_event_record(
    *, by: User | None, user: User | None, kind: Any, detail: str = "", username: str = ""
) -> SecurityEvent:
    # ``kind``: a SecurityEvent.Kind (Any: without django-stubs mypy sees a choice as a tuple).
    """One row; the client address and user agent come from the current request, if any."""
    context = requestcontext.current()
    event = SecurityEvent(
        actor=by,
        actor_name=by.get_username() if by is not None else "",
        user=user,
        username=(user.get_username() if user is not None else username)[:150],
        kind=kind,
        detail=detail[:300],
        client_address=context.client_address if context else None,
        user_agent=context.user_agent if context else "",
    )
    event.save()
    return event


def security_events_of(user: User, *, limit: int = 20) -> QuerySet[SecurityEvent]:
    """The newest events about ``user`` (the caller decides who may see them)."""
    return SecurityEvent.objects.filter(user=user).select_related("actor")[:limit]
