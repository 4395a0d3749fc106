"""Lawful-basis records (PIPL Art. 13): who may keep a person's data, and why.

Those who see the contact's personal information may record, change and delete them
(directors, and the editors on the account's team); every change is in the record's
history under the acting user.
"""

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kam.core.errors import ApplicationError, PermissionDeniedError
from kam.core.models import User

from ..models import ConsentRecord, Contact
from ..selectors import account_access
from ..services import _apply, _check_version, _save

CONSENT_FIELDS = ("basis", "purpose", "obtained_on", "evidence", "withdrawn_on")


def _clean(data: Mapping[str, Any]) -> dict[str, Any]:
    """Empty text is ``""``, not ``None`` (what JSON clients send for "no evidence")."""
    return {k: ("" if v is None and k in ("purpose", "evidence") else v) for k, v in data.items()}


def may_manage_privacy(user: User, contact: Contact) -> bool:
    """Who answers a person's requests about their data: whoever sees their personal
    information and may edit the account (directors; editors on the team)."""
    rights = account_access(user, contact.account_id)
    return rights.sees_personal and rights.can_edit


def _require(user: User, contact: Contact) -> None:
    if not may_manage_privacy(user, contact):
        raise PermissionDeniedError(_("You may not manage this person's personal information."))


def _not_erased(contact: Contact) -> None:
    if contact.erased_at is not None:
        raise ApplicationError(_("This contact was erased; its lawful basis cannot be changed."))


@transaction.atomic
def consent_record_create(*, by: User, contact: Contact, data: Mapping[str, Any]) -> ConsentRecord:
    _require(by, contact)
    _not_erased(contact)
    record = ConsentRecord(contact=contact, recorded_by=by)
    _apply(record, _clean(data), CONSENT_FIELDS)
    _save(record, by)
    return record


@transaction.atomic
def consent_record_update(
    *, by: User, record: ConsentRecord, data: Mapping[str, Any], version: int | None
) -> ConsentRecord:
    """Change a record; ``version`` is what the caller read (a stale one is refused)."""
    _require(by, record.contact)
    _not_erased(record.contact)
    locked = ConsentRecord.objects.select_for_update().get(pk=record.pk)
    _check_version(locked.version, version)
    _apply(locked, _clean(data), CONSENT_FIELDS)
    locked.version += 1
    _save(locked, by)
    return locked


@transaction.atomic
def consent_record_delete(*, by: User, record: ConsentRecord) -> None:
    """Delete a record entered by mistake (a basis that ended is withdrawn instead); the
    history keeps it."""
    _require(by, record.contact)
    _not_erased(record.contact)
    record._history_user = by  # type: ignore[attr-defined]  # read by simple-history
    record.delete()
