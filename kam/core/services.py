"""Writes of the core app: users, API tokens, the personal-data access log."""

import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import InvalidToken
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection, transaction
from django.db.models import Field, Model
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.core import crypto, requestcontext
from kam.core.errors import ApplicationError
from kam.core.fields import EncryptedDateField, EncryptedTextField
from kam.core.models import AccessLog, ApiToken, Role, User

#: The access log's user name for what the system did by itself (scheduled jobs).
SYSTEM_USERNAME = "system"
TOKEN_PREFIX = "kam_"  # noqa: S105 - a public marker that tells tokens apart, not a secret


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
            {
                "role": _("Unknown role “%(role)s”; use one of: %(roles)s")
                % {"role": role, "roles": ", ".join(Role.values)}
            }
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
    user: User | None,
    action: str,
    channel: str,
    subject_type: str,
    subjects: Iterable[tuple[int, str, int | None]],
    fields: list[str],
    path: str = "",
) -> int:
    """Write one access-log row per subject ``(id, label, account_id)``; returns the count.

    ``user=None`` is the system (a scheduled job such as the retention rule). The client
    address and user agent come from the request being answered (:mod:`kam.core.requestcontext`),
    and so does the path unless given; outside a request they stay empty."""
    context = requestcontext.current()
    if not path and context is not None:
        path = context.path
    rows = [
        AccessLog(
            user=user,
            username=user.get_username() if user is not None else SYSTEM_USERNAME,
            action=action,
            channel=channel,
            subject_type=subject_type,
            subject_id=subject_id,
            subject_label=label[:200],
            account_id=account_id,
            fields=sorted(fields),
            path=path[:300],
            client_address=context.client_address if context else None,
            user_agent=context.user_agent if context else "",
        )
        for subject_id, label, account_id in subjects
    ]
    AccessLog.objects.bulk_create(rows)
    return len(rows)


# --- encryption keys ----------------------------------------------------------------------


@dataclass(frozen=True)
class RotationResult:
    """What :func:`encrypted_values_rotate` did: values per ``table.column``."""

    values: dict[str, int]
    dry_run: bool

    @property
    def total(self) -> int:
        return sum(self.values.values())


def encrypted_columns() -> list[tuple[type[Model], list[Field]]]:
    """Every model with encrypted fields, found generically (apps that come later included)."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = [
            f
            for f in model._meta.concrete_fields
            if isinstance(f, EncryptedTextField | EncryptedDateField)
        ]
        if fields:
            found.append((model, fields))
    return found


def encrypted_values_rotate(
    *,
    dry_run: bool = False,
    batch_size: int = 500,
    progress: Callable[[str, int, int], None] | None = None,
) -> RotationResult:
    """Re-encrypt every stored encrypted value under the first key of ``FIELD_KEYS``.

    The stored tokens are read and written with plain SQL: going through the model
    fields would decrypt on read and encrypt again on write, and ``save()`` would touch
    ``updated_at`` and history. Each batch is its own transaction, so an interrupted
    run can simply be started again (re-rotating a token is harmless). ``dry_run``
    decrypts every value (proving the keys can read it) and writes nothing.

    Raises :class:`ApplicationError` naming the row when no key can decrypt a value.
    """
    counts: dict[str, int] = {}
    quote = connection.ops.quote_name
    for model, fields in encrypted_columns():
        table = model._meta.db_table
        pk = model._meta.pk.column
        columns = [f.column for f in fields]
        for column in columns:
            counts[f"{table}.{column}"] = 0
        total = model._base_manager.count()
        # S608: identifiers come from model metadata, quoted; values are parameters.
        names = ", ".join(quote(c) for c in columns)
        select = f"SELECT {quote(pk)}, {names} FROM {quote(table)}"  # noqa: S608
        order = f"ORDER BY {quote(pk)} LIMIT {batch_size:d}"
        assignments = ", ".join(f"{quote(c)} = %s" for c in columns)
        update = f"UPDATE {quote(table)} SET {assignments} WHERE {quote(pk)} = %s"  # noqa: S608
        last: Any = None
        done = 0
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                if last is None:
                    cursor.execute(f"{select} {order}")
                else:
                    cursor.execute(f"{select} WHERE {quote(pk)} > %s {order}", [last])
                rows = cursor.fetchall()
                if not rows:
                    break
                changes = []
                for row in rows:
                    new_values = []
                    for column, token in zip(columns, row[1:], strict=True):
                        if not token:
                            new_values.append(token)
                            continue
                        try:
                            if dry_run:
                                crypto.decrypt(token)
                                new_values.append(token)
                            else:
                                new_values.append(crypto.rotate(token))
                        except (InvalidToken, ImproperlyConfigured):
                            raise ApplicationError(
                                f"{table}.{column} of row {row[0]} cannot be decrypted with any "
                                "key in KAM_FIELD_KEY; add the key it was written with and run "
                                "again (batches already done stay rotated)."
                            ) from None
                        counts[f"{table}.{column}"] += 1
                    changes.append([*new_values, row[0]])
                if not dry_run:
                    cursor.executemany(update, changes)
            last = rows[-1][0]
            done += len(rows)
            if progress is not None:
                progress(table, done, total)
    return RotationResult(values=counts, dry_run=dry_run)
