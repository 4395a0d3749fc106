"""The access request (PIPL Art. 45): everything KAM holds about one person, as JSON and
XLSX, written to the access log as an export.

The records that name the person are found from the models (:mod:`.relations`): every row
of every table with a foreign key or many-to-many field to the contact, with the rows that
extend it one to one (a survey invitation's answer). An app built later is included
without a change here. Columns that hold secrets (token hashes and the like) are left out.
Free text elsewhere that merely mentions the name (a colleague's visit report at another
account) is not listed: erasure finds it, but it is not the person's record.
"""

import datetime
import json
from dataclasses import dataclass, field
from decimal import Decimal
from io import BytesIO
from typing import Any
from uuid import UUID

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from kam.core.exports import safe_cell
from kam.core.models import AccessLog, User
from kam.core.services import access_log_record

from ..models import Contact, ContactTie, StaffTie
from . import relations, selectors
from .consent import _require

FORMAT = "kam.contact-export/1"
#: Column names that hold secrets, never exported.
SECRET_WORDS = ("token", "hash", "password", "secret")
#: Columns of the contact left out (bookkeeping, not information about the person).
CONTACT_SKIP = ("version",)
#: Columns of access-log rows left out (they repeat who the rows are about).
ACCESS_LOG_SKIP = ("subject_type", "subject_id", "subject_label", "account_id", "user")


@dataclass
class Section:
    """One table of the export: a sheet in XLSX, a list (or an object) in JSON."""

    key: str
    title: str
    columns: list[tuple[str, str]] = field(default_factory=list)  # (key, label)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, row: list[tuple[str, str, Any]]) -> None:
        known = {k for k, _label in self.columns}
        for key, label, _value in row:
            if key not in known:
                self.columns.append((key, label))
                known.add(key)
        self.rows.append({key: value for key, _label, value in row})


def _plain(value: Any) -> Any:
    """A value as JSON has it: dates in ISO form, times in China time, decimals as text."""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value


def _cells(obj: models.Model, skip: tuple[str, ...] = ()) -> list[tuple[str, str, Any]]:
    """(key, label, value) for each column of a row: choices by their label, foreign keys
    as ``{"id", "label"}``, secrets and ``skip`` left out."""
    out: list[tuple[str, str, Any]] = []
    for f in obj._meta.concrete_fields:
        if f.name in skip or any(w in f.name for w in SECRET_WORDS):
            continue
        label = str(f.verbose_name)
        if f.is_relation:
            target_id = getattr(obj, f.attname)
            related = getattr(obj, f.name) if target_id is not None else None
            value: Any = {"id": target_id, "label": str(related)} if related else None
        elif f.choices:
            value = str(getattr(obj, f"get_{f.name}_display")())
        else:
            value = _plain(getattr(obj, f.attname))
        out.append((f.name, label, value))
    return out


def _with_extensions(obj: models.Model) -> list[tuple[str, str, Any]]:
    """A row's columns and, nested, the rows that extend it one to one."""
    row = _cells(obj)
    for rel in obj._meta.related_objects:
        if not rel.one_to_one:
            continue
        try:
            child = getattr(obj, rel.get_accessor_name())
        except rel.related_model.DoesNotExist:
            continue
        nested = {k: v for k, _label, v in _cells(child) if k != rel.field.name}
        row.append((rel.get_accessor_name(), str(rel.related_model._meta.verbose_name), nested))
    return row


def build(contact: Contact, *, by: User) -> list[Section]:
    """The export's sections (no access check, no log: see :func:`contact_export`)."""
    person = Section("contact", _("Person"))
    person.add(_cells(contact, skip=CONTACT_SKIP))

    basis = Section("lawful_basis", _("Lawful basis"))
    for record in selectors.consent_records_for(contact):
        basis.add(_cells(record, skip=("version", "contact")))
    basis_history = Section("lawful_basis_history", _("Lawful basis history"))
    for old in selectors.consent_history(contact):
        basis_history.add(
            [
                ("history_date", _("time"), _plain(old.history_date)),
                ("history_type", _("change"), old.get_history_type_display()),
                ("history_user", _("by"), str(old.history_user or "system")),
                *_cells(
                    old,
                    skip=(
                        "contact",
                        "history_id",
                        "history_date",
                        "history_type",
                        "history_user",
                        "history_change_reason",
                    ),
                ),  # fmt: skip
            ]
        )

    ties = Section("ties", _("Ties"))
    for tie in ContactTie.objects.filter(from_contact=contact).select_related(
        "to_contact__account"
    ):
        ties.add(_tie(_("knows"), tie.to_contact, tie.get_kind_display(), tie.note, tie.since))
    for tie in ContactTie.objects.filter(to_contact=contact).select_related(
        "from_contact__account"
    ):
        ties.add(_tie(_("known by"), tie.from_contact, tie.get_kind_display(), tie.note, tie.since))
    for s in StaffTie.objects.filter(contact=contact).select_related("user"):
        ties.add(
            [
                ("direction", _("relation"), _("our staff")),
                ("person", _("person"), str(s.user)),
                ("account", _("account"), ""),
                ("kind", _("kind"), f"{s.strength}/5"),
                ("note", _("note"), s.note),
                ("since", _("since"), _plain(s.since)),
            ]
        )

    records: list[Section] = []
    for relation in relations.contact_relations():
        if relation.model in selectors.OWN_SECTIONS:
            continue
        rows = list(relation.rows([contact.pk]).order_by("pk"))
        if not rows:
            continue
        section = Section(f"records:{relation.key}", relation.label)
        for row in rows:
            section.add(_with_extensions(row))
        records.append(section)

    corrections = Section("corrections", _("Corrections at the person's request"))
    for c in selectors.corrections(contact):
        corrections.add(
            [
                ("at", _("time"), _plain(c.at)),
                ("by", _("by"), c.by),
                ("reason", _("reason"), c.reason),
            ]
        )

    log = Section("access_log", _("Access log"))
    for entry in selectors.access_log_about(contact):
        log.add(_cells(entry, skip=ACCESS_LOG_SKIP))

    about = Section("export", _("This export"))
    about.add(
        [
            ("format", _("format"), FORMAT),
            ("exported_at", _("time"), _plain(timezone.now())),
            ("exported_by", _("by"), by.get_username()),
        ]
    )
    return [about, person, basis, basis_history, ties, *records, corrections, log]


def _tie(
    direction: str, other: Contact, kind: str, note: str, since: Any
) -> list[tuple[str, str, Any]]:
    return [
        ("direction", _("relation"), direction),
        ("person", _("person"), other.name),
        ("account", _("account"), str(other.account)),
        ("kind", _("kind"), kind),
        ("note", _("note"), note),
        ("since", _("since"), _plain(since)),
    ]


def as_json(sections: list[Section]) -> dict[str, Any]:
    """The sections as one JSON document: single-row sections as objects, the records that
    name the person under ``records`` by table."""
    doc: dict[str, Any] = {}
    records: dict[str, Any] = {}
    for s in sections:
        if s.key.startswith("records:"):
            records[s.key.removeprefix("records:")] = {"title": s.title, "rows": s.rows}
        elif s.key in ("export", "contact"):
            doc[s.key] = s.rows[0]
        else:
            doc[s.key] = s.rows
    doc["records"] = records
    return doc


def _cell_value(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"id", "label"}:
        return value["label"]
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def as_xlsx(sections: list[Section]) -> bytes:
    """One sheet per section; the person's own sheet lists field and value."""
    workbook = Workbook(write_only=True)
    used: set[str] = set()
    for s in sections:
        name = s.title[:28].replace("/", "-")
        while name in used:
            name = f"{name[:26]}{len(used)}"
        used.add(name)
        sheet = workbook.create_sheet(name)
        if s.key in ("export", "contact"):
            sheet.append([_("Field"), _("Value")])
            for key, label in s.columns:
                sheet.append(_text_cells(sheet, [label, _cell_value(s.rows[0].get(key))]))
            continue
        sheet.append([label for _key, label in s.columns] or [_("Nothing recorded")])
        for row in s.rows:
            sheet.append(_text_cells(sheet, [_cell_value(row.get(k)) for k, _label in s.columns]))
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text_cells(sheet: Any, values: list[Any]) -> list[WriteOnlyCell]:
    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=safe_cell(value))
        if isinstance(value, str):
            cell.data_type = "s"  # never a formula, whatever the text
        cells.append(cell)
    return cells


def contact_export(
    *, by: User, contact: Contact, channel: str = AccessLog.Channel.WEB, path: str = ""
) -> list[Section]:
    """The access-request export of ``contact`` for ``by``; logged as an export of every
    protected field that holds a value (and of the name)."""
    _require(by, contact)
    sections = build(contact, by=by)
    exported = [
        f for f in (*Contact.DETAIL_FIELDS, *Contact.PERSONAL_FIELDS) if getattr(contact, f)
    ]
    access_log_record(
        user=by, action=AccessLog.Action.EXPORT, channel=channel, subject_type="contact",
        subjects=[(contact.pk, contact.name, contact.account_id)], fields=["name", *exported],
        path=path,
    )  # fmt: skip
    return sections


def filename(contact: Contact, extension: str) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return f"kam-contact-{contact.pk}-{stamp}.{extension}"
