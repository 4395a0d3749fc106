"""Model fields whose values are encrypted in the database (see :mod:`kam.core.crypto`).

Encrypted values cannot be searched or sorted by the database; the empty value is
stored as ``""`` so that "not given" stays visible without a key.
"""

import datetime
from typing import Any

from django.core.validators import MaxLengthValidator
from django.db import models

from kam.core import crypto


class BoundedTextField(models.TextField):
    """A TextField whose ``max_length`` is enforced by ``full_clean()``, not only by forms."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.max_length is not None:
            self.validators.append(MaxLengthValidator(self.max_length))


class EncryptedTextField(BoundedTextField):
    """Text stored as a Fernet token. ``max_length`` is checked on the plain text."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if not value:
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if not value:
            return value
        return crypto.encrypt(value)

    def get_internal_type(self) -> str:
        return "TextField"


class EncryptedDateField(models.TextField):
    """A date stored as an encrypted ISO string; the Python value is ``datetime.date``."""

    def from_db_value(
        self, value: str | None, expression: Any, connection: Any
    ) -> datetime.date | None:
        if not value:
            return None
        return datetime.date.fromisoformat(crypto.decrypt(value))

    def to_python(self, value: Any) -> datetime.date | None:
        if value in (None, ""):
            return None
        if isinstance(value, datetime.date):
            return value
        return datetime.date.fromisoformat(str(value))

    def get_prep_value(self, value: Any) -> str:
        value = self.to_python(value)
        if value is None:
            return ""
        return crypto.encrypt(value.isoformat())

    def formfield(self, **kwargs: Any) -> Any:
        from django import forms

        return super(models.TextField, self).formfield(**{"form_class": forms.DateField, **kwargs})
