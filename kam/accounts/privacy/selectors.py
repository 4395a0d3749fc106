"""Reads for the personal-information page and the API: what is held about a person, on
which lawful basis, and who looked at it. The caller has already found the contact through
:func:`kam.accounts.selectors.contact_get_for` (404 otherwise) and checked
:func:`.consent.may_manage_privacy`."""

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from kam.core.models import AccessLog

from ..models import ConsentRecord, Contact, ContactTie, RetentionRun, StaffTie
from ..services import CORRECTION_MARK
from . import relations

#: Relations that the page and the export show in sections of their own.
OWN_SECTIONS = (ConsentRecord, ContactTie, StaffTie)


def holds_personal_information(contact: Contact) -> bool:
    """Contact details or personal information are on file (beyond name and title)."""
    return any(getattr(contact, f) for f in (*Contact.DETAIL_FIELDS, *Contact.PERSONAL_FIELDS))


def active_bases(contact: Contact, on: datetime.date | None = None) -> list[ConsentRecord]:
    """The lawful bases in force on ``on`` (default: today in China)."""
    on = on or timezone.localdate()
    return list(
        contact.consent_records.filter(obtained_on__lte=on)
        .filter(Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gt=on))
        .order_by("-obtained_on", "-id")
    )


def consent_records_for(contact: Contact) -> QuerySet[ConsentRecord]:
    return contact.consent_records.select_related("recorded_by").order_by("-obtained_on", "-id")


def consent_history(contact: Contact) -> list[object]:
    """Every version of the contact's lawful-basis records, deleted ones included, newest
    first."""
    return list(
        ConsentRecord.history.filter(contact_id=contact.pk)  # type: ignore[attr-defined]
        .select_related("history_user")
        .order_by("-history_date", "-history_id")
    )


@dataclass(frozen=True)
class Correction:
    at: datetime.datetime
    by: str
    reason: str


def corrections(contact: Contact) -> list[Correction]:
    """Changes made at the person's request (marked in the contact's history)."""
    rows = (
        contact.history.filter(history_change_reason__startswith=CORRECTION_MARK)  # type: ignore[attr-defined]
        .select_related("history_user")
        .order_by("-history_date")
    )
    return [
        Correction(
            r.history_date,
            str(r.history_user or "system"),
            r.history_change_reason[len(CORRECTION_MARK) :].strip(),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class HeldRecords:
    """Rows of one table that name the person, e.g. 12 visit reports as attendee."""

    table: str
    title: str
    relation: str
    count: int


@dataclass
class Holdings:
    """What KAM holds about one person (no values, only what and how much)."""

    details: list[str] = field(default_factory=list)  # labels of contact details on file
    personal: list[str] = field(default_factory=list)  # labels of personal information on file
    contact_ties: int = 0
    staff_ties: int = 0
    records: list[HeldRecords] = field(default_factory=list)
    access_log: int = 0


def holdings(contact: Contact) -> Holdings:
    def labels(names: tuple[str, ...]) -> list[str]:
        return [str(Contact._meta.get_field(n).verbose_name) for n in names if getattr(contact, n)]

    held = Holdings(
        details=labels(Contact.DETAIL_FIELDS),
        personal=labels(Contact.PERSONAL_FIELDS),
        contact_ties=ContactTie.objects.filter(
            Q(from_contact=contact) | Q(to_contact=contact)
        ).count(),
        staff_ties=StaffTie.objects.filter(contact=contact).count(),
        access_log=access_log_about(contact).count(),
    )
    for relation in relations.contact_relations():
        if relation.model in OWN_SECTIONS:
            continue
        count = relation.rows([contact.pk]).count()
        if count:
            held.records.append(
                HeldRecords(relation.key, relation.label, relation.field_label, count)
            )
    return held


def access_log_about(contact: Contact) -> QuerySet[AccessLog]:
    return AccessLog.objects.filter(subject_type="contact", subject_id=contact.pk).order_by(
        "-at", "-id"
    )


def retention_years() -> int:
    return int(settings.PERSONAL_DATA_RETENTION_YEARS)


def retention_runs() -> QuerySet[RetentionRun]:
    """For directors (the view checks)."""
    return RetentionRun.objects.select_related("by").order_by("-at", "-id")
