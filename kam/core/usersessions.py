"""Who is signed in where: one :class:`UserSession` row per signed-in browser session.

A row is written when a user logs in and removed when they log out; ending a session
(by its user, or by an administrator) deletes it from Django's session store too, so the
browser that held it is logged out on its next request. "Last active" is written at most
once a minute per session (:data:`TOUCH_SECONDS`), remembered in the session itself so that
other requests cost no query. A session lasts ``SESSION_COOKIE_AGE`` from its login, however
active, as it did before sessions were listed.
"""

from datetime import datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from kam.core import clients
from kam.core.models import SecurityEvent, User, UserSession
from kam.core.security_events import security_event_record

TOUCH_SECONDS = 60
#: Session key: when this session last wrote its "last active" (a POSIX timestamp).
TOUCHED_KEY = "kam_touched"


def _store(session_key: str) -> SessionBase:
    engine = import_module(settings.SESSION_ENGINE)
    store: SessionBase = engine.SessionStore(session_key=session_key)
    return store


def session_record_login(*, request: HttpRequest, user: User) -> UserSession | None:
    """A login just happened in ``request`` (its session key is fresh): list the session.

    The session's expiry is pinned to login + ``SESSION_COOKIE_AGE`` so that writing
    "last active" into it does not prolong it."""
    session = request.session
    now = timezone.now()
    expires = now + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    session.set_expiry(expires)
    session[TOUCHED_KEY] = now.timestamp()
    if session.session_key is None:
        session.save()
    row: UserSession = UserSession.objects.update_or_create(
        session_key=session.session_key,
        defaults={
            "user": user,
            "client_address": clients.client_address(request),
            "user_agent": clients.user_agent(request),
            "created_at": now,
            "last_active_at": now,
            "expires_at": expires,
        },
    )[0]
    return row


def session_touch(request: HttpRequest) -> bool:
    """Write "last active" if this session has not for a minute; returns whether it did.

    A session from before sessions were listed gets its row now."""
    session = request.session
    if str(session.get(SESSION_KEY)) != str(request.user.pk):
        return False  # a bearer-token request beside someone's session cookie
    now = timezone.now()
    touched = session.get(TOUCHED_KEY)
    if isinstance(touched, int | float) and 0 <= now.timestamp() - touched < TOUCH_SECONDS:
        return False
    key = session.session_key
    if key is None:
        return False
    session[TOUCHED_KEY] = now.timestamp()
    updated = UserSession.objects.filter(session_key=key).update(
        last_active_at=now, client_address=clients.client_address(request)
    )
    if not updated:
        UserSession.objects.create(
            user=request.user,
            session_key=key,
            client_address=clients.client_address(request),
            user_agent=clients.user_agent(request),
            created_at=now,
            last_active_at=now,
            expires_at=session.get_expiry_date(),
        )
    return True


def session_rekeyed(*, request: HttpRequest, old_key: str | None) -> None:
    """The session got a new key (Django cycles it when the password changes): its row follows."""
    new_key = request.session.session_key
    if old_key and new_key and old_key != new_key:
        UserSession.objects.filter(session_key=old_key).update(session_key=new_key)


def session_forget(session_key: str | None) -> None:
    """The session was logged out: its row goes."""
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


def sessions_of(user: User, *, now: datetime | None = None) -> QuerySet[UserSession]:
    """The user's sessions that have not expired, most recently active first. Rows of
    expired sessions are removed on the way."""
    now = now or timezone.now()
    UserSession.objects.filter(user=user, expires_at__lte=now).delete()
    return UserSession.objects.filter(user=user, expires_at__gt=now).order_by(
        "-last_active_at", "-id"
    )


def session_end(*, row: UserSession, by: User) -> None:
    """End one session: gone from the session store (its browser is logged out on its next
    request) and from the list."""
    with transaction.atomic():
        _store(row.session_key).delete()
        row.delete()
        security_event_record(
            by=by, user=row.user, kind=SecurityEvent.Kind.SESSION_ENDED,
            detail=f"{row.client_address or ''} {row.user_agent[:120]}".strip(),
        )  # fmt: skip


def sessions_end_all(*, user: User, by: User, keep: str | None = None) -> int:
    """End every session of ``user`` except the one with key ``keep``; returns how many."""
    rows = list(UserSession.objects.filter(user=user).exclude(session_key=keep or ""))
    for row in rows:
        session_end(row=row, by=by)
    return len(rows)
