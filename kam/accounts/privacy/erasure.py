"""Erasure: a person's personal information goes, and their name with it, everywhere.

What stays is the business record (the contact's role and title at the account, the
visit reports, cases and survey answers they took part in) under a pseudonym, "Erased
contact #id", in the product's language. Where the name was:

1. the contact row and its history rows (renamed; the personal fields were never in
   the history tables);
2. the access log's rows about them (``subject_label``; the rows keep ``subject_id``);
3. free text anywhere that quotes the name: every plain text and JSON column of every
   table (visit report summaries, findings, case descriptions and events, survey
   comments, notifications, history tables, tables of apps built later), and the
   encrypted free text of other contacts (their social ties, family...). Tables whose
   rows belong to an account are searched in the person's account and the accounts of
   its corporate group: elsewhere the same name is most likely a namesake. Tables that
   belong to no account (notifications, logs) are searched whole. The rules for what
   counts as an occurrence are in :mod:`.names`.

Ties to other people and to our staff are deleted. Lawful-basis records stay (they show
that the processing was lawful); their text loses the name like all free text.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Cast
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kam.core import rls
from kam.core.errors import ApplicationError, PermissionDeniedError
from kam.core.models import AccessLog, User
from kam.core.services import access_log_record

from ..models import Account, Contact, CorporateGroup
from ..selectors import account_access
from . import names, relations


def pseudonym(contact_id: int) -> str:
    """The name an erased contact keeps, in the product's language (the same for everyone
    who reads it later, whoever erased it)."""
    with translation.override(settings.LANGUAGE_CODE):
        return _("Erased contact #%(id)d") % {"id": contact_id}


@dataclass(frozen=True)
class ScrubResult:
    """Rows whose text lost the name, per ``table.column``."""

    columns: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.columns.values())


def _never_scrubbed() -> set[tuple[type[models.Model], str]]:
    """Columns that hold other people's names as their value: a namesake keeps theirs.
    The erased person's own rows in them are renamed by id instead."""
    return {
        (Contact, "name"),
        (Contact.history.model, "name"),  # type: ignore[attr-defined]
        (AccessLog, "subject_label"),
    }


def scope_accounts(account: Account) -> set[int]:
    """The person's account and the other accounts of its corporate group."""
    if account.group_id is None:
        return {account.pk}
    return {account.pk, *Account.objects.filter(group_id=account.group_id).values_list(
        "pk", flat=True)}  # fmt: skip


def _kept_names(name: str, contact_id: int) -> list[str]:
    """Longer names that contain this one (other people, companies, groups, our staff)."""
    found: list[str] = []
    found += (
        Contact.objects.filter(name__icontains=name, erased_at__isnull=True)
        .exclude(pk=contact_id)
        .values_list("name", flat=True)
    )
    for field in ("name", "name_en"):
        found += Account.objects.filter(**{f"{field}__icontains": name}).values_list(
            field, flat=True
        )
        found += CorporateGroup.objects.filter(**{f"{field}__icontains": name}).values_list(
            field, flat=True
        )
    found += User.objects.filter(display_name__icontains=name).values_list(
        "display_name", flat=True
    )
    return found


def _in_scope(
    model: type[models.Model], accounts: set[int], contacts: set[int]
) -> models.QuerySet[Any]:
    rows = model._base_manager.all()
    path = relations.account_path(model)
    if path is None:
        return rows
    if model is Contact and contacts:
        return rows.filter(Q(account_id__in=accounts) | Q(pk__in=contacts))
    return rows.filter(**{f"{path}__in": accounts})


def _fit(field: models.Field, value: str) -> str:
    limit = field.max_length if isinstance(field, models.CharField) else None
    return value[:limit] if limit else value


def scrub_name(
    *, name: str, replacement: str, contact_id: int, accounts: set[int],
    contacts: Iterable[int] = (),
) -> ScrubResult:  # fmt: skip
    """Replace ``name`` by ``replacement`` in free text (see the module's docstring).

    ``accounts``: the accounts whose rows are searched; ``contacts``: other contacts whose
    encrypted text is searched too (people tied to the person, wherever they work);
    ``contact_id``: the person, whose own name column is renamed by the caller. Rows are
    updated in place, without ``save()``: no history row, no ``updated_at``, no signal.
    """
    pattern = names.name_pattern(name, _kept_names(name, contact_id))
    if pattern is None:
        return ScrubResult({})
    probe = " ".join(name.split()).split(" ")[0]  # the SQL filter; the pattern decides
    escaped = names.json_escaped(probe)
    skip = _never_scrubbed()
    contacts = set(contacts)
    counts: dict[str, int] = {}
    for model in relations.searchable_models():
        plain = [f for f in relations.text_columns(model) if (model, f.name) not in skip]
        secret = relations.encrypted_text_columns(model)
        rows = _in_scope(model, accounts, contacts)
        if plain:
            match = Q()
            aliases: dict[str, Any] = {}
            for f in plain:
                if isinstance(f, models.JSONField):
                    alias = f"_text_{f.name}"
                    aliases[alias] = Cast(f.name, models.TextField())
                    match |= Q(**{f"{alias}__icontains": probe})
                    match |= Q(**{f"{alias}__icontains": escaped})
                else:
                    match |= Q(**{f"{f.name}__icontains": probe})
            hits = rows.alias(**aliases).filter(match).only("pk", *(f.name for f in plain))
            for row in hits.iterator(chunk_size=500):
                _rewrite(model, row, plain, pattern, replacement, counts)
        if secret:
            # Encrypted text cannot be searched in SQL: decrypt what is in scope.
            if model is Contact:
                rows = rows.filter(erased_at__isnull=True).exclude(pk=contact_id)
            elif relations.account_path(model) is None:
                continue  # no scope to keep this bounded; no such table exists today
            for row in rows.only("pk", *(f.name for f in secret)).iterator(chunk_size=500):
                _rewrite(model, row, secret, pattern, replacement, counts)
    return ScrubResult(counts)


def _rewrite(
    model: type[models.Model], row: models.Model, fields: list[models.Field],
    pattern: Any, replacement: str, counts: dict[str, int],
) -> None:  # fmt: skip
    changes: dict[str, Any] = {}
    for f in fields:
        value = getattr(row, f.attname)
        if isinstance(f, models.JSONField):
            new = names.replace_in_json(value, pattern, replacement)
        elif isinstance(value, str) and value:
            new = _fit(f, names.replace_name(value, pattern, replacement))
        else:
            continue
        if new != value:
            changes[f.attname] = new
            key = f"{model._meta.db_table}.{f.column}"
            counts[key] = counts.get(key, 0) + 1
    if changes:
        model._base_manager.filter(pk=row.pk).update(**changes)


@transaction.atomic
def contact_erase(
    *, by: User | None, contact: Contact, channel: str = AccessLog.Channel.WEB, path: str = ""
) -> Contact:
    """Erase a person's personal information and name; keep the business record.

    ``by=None`` is the system (the retention rule), which needs no rights. The erasure is
    written to the access log under the pseudonym.
    """
    if by is not None:
        rights = account_access(by, contact.account_id)
        if not (rights.can_edit and rights.sees_personal):
            raise PermissionDeniedError(_("You may not make this change."))
    locked = Contact.objects.select_for_update().select_related("account").get(pk=contact.pk)
    if locked.erased_at is not None:
        raise ApplicationError(_("This contact has already been erased."))
    old_name = locked.name
    label = pseudonym(locked.pk)
    for field in (*Contact.DETAIL_FIELDS, *Contact.PERSONAL_FIELDS):
        setattr(locked, field, None if field == "birthday" else "")
    locked.name = label
    locked.last_contacted = None
    locked.erased_at = timezone.now()
    locked.version += 1
    locked.full_clean()
    locked._history_user = by  # type: ignore[attr-defined]  # read by simple-history
    locked.save()
    # The processing ends today: bases in force end with it (the records stay as proof).
    today = timezone.localdate()
    in_force = Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gt=today)
    for record in locked.consent_records.filter(in_force, obtained_on__lte=today):
        record.withdrawn_on = today
        record.version += 1
        record._history_user = by  # type: ignore[attr-defined]
        record._change_reason = "erased"  # type: ignore[attr-defined]
        record.save()
    # Row-level security (PostgreSQL) would hide the rows of accounts the eraser cannot
    # read: a tie from someone at another account, the group's other accounts. Erasure
    # owes the person all of them; it writes only the pseudonym and shows nothing back.
    with rls.bypass():
        tied = {
            *locked.ties_out.values_list("to_contact_id", flat=True),
            *locked.ties_in.values_list("from_contact_id", flat=True),
        }
        locked.ties_out.all().delete()
        locked.ties_in.all().delete()
        locked.staff_ties.all().delete()
        locked.history.update(name=label)  # type: ignore[attr-defined]
        AccessLog.objects.filter(subject_type="contact", subject_id=locked.pk).update(
            subject_label=label
        )
        scrub_name(
            name=old_name, replacement=label, contact_id=locked.pk,
            accounts=scope_accounts(locked.account), contacts=tied,
        )  # fmt: skip
    access_log_record(
        user=by, action=AccessLog.Action.ERASE, channel=channel, subject_type="contact",
        subjects=[(locked.pk, label, locked.account_id)], path=path,
        fields=["name", *Contact.DETAIL_FIELDS, *Contact.PERSONAL_FIELDS],
    )  # fmt: skip
    return locked
