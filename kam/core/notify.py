"""Tell people something: an in-app notification per user, and the same by e-mail.

Apps call :func:`notify` for escalations, SLA warnings, alerts and the like. The texts are
rendered in the product's language (``settings.LANGUAGE_CODE``, Simplified Chinese) when
lazy, because users have no language of their own yet. E-mail goes through Django's
e-mail backend (the console in the demo); a failing mail server never loses the in-app
notification, and is logged.
"""

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import translation
from django.utils.functional import Promise

from kam.core.models import Notification, User

log = logging.getLogger(__name__)

SUBJECT_MAX = Notification._meta.get_field("subject").max_length or 200


def notify(
    recipients: Iterable[User | None],
    *,
    subject: str | Promise,
    body: str | Promise = "",
    url: str = "",
    kind: str = "",
    email: bool = True,
) -> list[Notification]:
    """Notify each active recipient once (``None`` and duplicates are skipped).

    ``url`` is a path inside KAM (``/coverage/follow-ups/3/``); the e-mail prefixes it with
    ``KAM_BASE_URL`` when set. Returns the notifications written. Runs after the current
    transaction commits, so a rolled-back action notifies nobody."""
    users = {u.pk: u for u in recipients if u is not None and u.is_active}
    if not users:
        return []
    with translation.override(settings.LANGUAGE_CODE):
        subject_text = str(subject)[:SUBJECT_MAX]
        body_text = str(body)
    rows = Notification.objects.bulk_create(
        Notification(user=u, kind=kind, subject=subject_text, body=body_text, url=url)
        for u in users.values()
    )
    if email:
        addressed = [u.email for u in users.values() if u.email]
        if addressed:
            transaction.on_commit(lambda: _send(addressed, subject_text, body_text, url))
    return rows


def _send(addresses: list[str], subject: str, body: str, url: str) -> None:
    link = f"{settings.KAM_BASE_URL.rstrip('/')}{url}" if url and settings.KAM_BASE_URL else url
    text = f"{body}\n\n{link}".strip() if link else body
    messages = [
        EmailMessage(subject=f"[KAM] {subject}", body=text, to=[address]) for address in addresses
    ]
    try:
        get_connection().send_messages(messages)
    except Exception:  # noqa: BLE001 - a mail outage must not break the action that notified
        log.exception("notification e-mail to %d recipients failed", len(addresses))
