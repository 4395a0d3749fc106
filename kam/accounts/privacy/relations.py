"""Which tables hold what about a contact, found from the models (apps built later need no
entry here).

- :func:`contact_relations`: every foreign key and many-to-many field that points at
  :class:`~kam.accounts.models.Contact` (visit reports' attendees, cases' contacts, survey
  invitations, ties...), history tables left out.
- :func:`account_path`: the lookup from a model to the account its rows belong to
  (``account``, ``case__account``, ``report__visit__account``), or ``None`` for tables
  that belong to no account (notifications, the access log).
- :func:`text_columns`: the columns where free text can hold a name.
"""

from collections import deque
from dataclasses import dataclass
from functools import cache

from django.apps import apps
from django.conf import settings
from django.db import models
from simple_history.models import HistoricalChanges

from kam.core.fields import EncryptedDateField, EncryptedTextField

from ..models import Contact

#: How far :func:`account_path` follows foreign keys (a finding: report → visit → account).
MAX_PATH_DEPTH = 4


def is_history(model: type[models.Model]) -> bool:
    """A simple-history table (``HistoricalContact``...)."""
    return issubclass(model, HistoricalChanges)


def _data_models() -> list[type[models.Model]]:
    return [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.managed and not m._meta.proxy and not m._meta.swapped
    ]


@dataclass(frozen=True)
class ContactRelation:
    """A field of ``model`` that names a contact (``many``: a many-to-many field)."""

    model: type[models.Model]
    field: str
    many: bool

    @property
    def key(self) -> str:
        return f"{self.model._meta.label_lower}.{self.field}"

    @property
    def label(self) -> str:
        return str(self.model._meta.verbose_name_plural)

    @property
    def field_label(self) -> str:
        return str(self.model._meta.get_field(self.field).verbose_name)

    def rows(self, contact_ids: list[int]) -> models.QuerySet[models.Model]:
        """Rows of ``model`` that name any of these contacts."""
        return self.model._base_manager.filter(**{f"{self.field}__in": contact_ids})


@cache
def contact_relations() -> tuple[ContactRelation, ...]:
    """Every field outside the history tables that points at a contact, except a contact's
    own manager (``Contact.reports_to``)."""
    found = []
    for model in _data_models():
        if is_history(model) or model is Contact or model._meta.auto_created:
            continue
        for field in model._meta.get_fields():
            if getattr(field, "related_model", None) is not Contact or field.auto_created:
                continue
            if field.many_to_many:
                found.append(ContactRelation(model, field.name, True))
            elif field.concrete and (field.many_to_one or field.one_to_one):
                found.append(ContactRelation(model, field.name, False))
    return tuple(sorted(found, key=lambda r: r.key))


def _original(model: type[models.Model]) -> type[models.Model]:
    return getattr(model, "instance_type", model) if is_history(model) else model


@cache
def account_path(model: type[models.Model]) -> str | None:
    """The shortest chain of foreign keys from ``model`` to the account its rows belong to,
    as a lookup (``"pk"`` for the account table and its history), or ``None``.

    Keys to users are not followed: a user is on many accounts' teams."""
    account_model = apps.get_model("accounts", "Account")
    if _original(model) is account_model:
        return "pk" if model is account_model else "id"
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    queue: deque[tuple[type[models.Model], str, int]] = deque([(model, "", 0)])
    seen = {model}
    while queue:
        current, prefix, depth = queue.popleft()
        if depth >= MAX_PATH_DEPTH:
            continue
        for field in current._meta.concrete_fields:
            target = field.related_model if field.is_relation else None
            if target is None or target is user_model:
                continue
            lookup = f"{prefix}{field.name}"
            if target is account_model:
                return lookup
            if target not in seen:
                seen.add(target)
                queue.append((target, f"{lookup}__", depth + 1))
    return None


def text_columns(model: type[models.Model]) -> list[models.Field]:
    """Plain text and JSON columns: where a name can be written in free text. Columns with
    choices hold codes; encrypted columns are searched after decryption
    (:func:`encrypted_text_columns`)."""
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField | models.JSONField)
        and not isinstance(f, EncryptedTextField | EncryptedDateField)
        and not f.choices
        and not f.primary_key
    ]


def encrypted_text_columns(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]


def searchable_models() -> list[type[models.Model]]:
    """Every table with text a name could be in, the auth user table aside (our staff)."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    return [
        m
        for m in _data_models()
        if m is not user_model and (text_columns(m) or encrypted_text_columns(m))
    ]
