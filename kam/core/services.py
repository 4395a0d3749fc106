"""Writes of the core app: users, API tokens, the personal-data access log."""

import hashlib
import secrets
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.core.models import AccessLog, ApiToken, Role, User

TOKEN_PREFIX = "kam_"


def user_create(
    *,
    username: str,
    role: str,
    password: str | None = None,
    display_name: str = "",
    email: str = "",
) -> User:
    if role not in Role.values:
        raise ValidationError(
            {"role": _("Unknown role “%(role)s”; use one of: %(roles)s")
             % {"role": role, "roles": ", ".join(Role.values)}}
        )
    with transaction.atomic():
        user = User(username=username, role=role, display_name=display_name, email=email)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.is_staff = role == Role.ADMIN
        user.is_superuser = role == Role.ADMIN
        user.full_clean()
        user.save()
    return user


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token; the plain token is returned once and never stored."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, prefix=plain[:12], token_hash=_hash(plain))
    token.full_clean()
    token.save()
    return token, plain


def token_revoke(*, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def token_authenticate(plain: str) -> User | None:
    """The active user behind a bearer token, or ``None``."""
    if not plain.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=_hash(plain), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def access_log_record(
    *,
    user: User,
    action: str,
    channel: str,
    subject_type: str,
    subjects: Iterable[tuple[int, str, int | None]],
    fields: list[str],
    path: str = "",
) -> int:
    """Write one access-log row per subject ``(id, label, account_id)``; returns the count."""
    rows = [
        AccessLog(
            user=user,
            username=user.get_username(),
            action=action,
            channel=channel,
            subject_type=subject_type,
            subject_id=subject_id,
            subject_label=label[:200],
            account_id=account_id,
            fields=sorted(fields),
            path=path[:300],
        )
        for subject_id, label, account_id in subjects
    ]
    AccessLog.objects.bulk_create(rows)
    return len(rows)
