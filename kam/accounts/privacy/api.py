"""The personal-information operations of the JSON API: the access-request export and the
lawful-basis records of a contact, under ``/api/v1/contacts/{contact_id}/``.

A contact the caller cannot see is answered 404, exactly like a missing one; a contact
they see but whose personal information they may not manage, 403.
"""

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from kam.core.api import ErrorOut, Id, InSchema
from kam.core.errors import PermissionDeniedError
from kam.core.models import AccessLog

from .. import selectors as archive
from ..models import ConsentRecord, Contact, LawfulBasis
from . import consent, export

router = Router(tags=["personal information"])

ERRORS: dict[int, Any] = {
    400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut,
}  # fmt: skip
BasisName = Literal[
    "consent", "contract", "hr", "legal_duty", "public_health", "news", "made_public", "other_law"
]
assert set(BasisName.__args__) == set(LawfulBasis.values)  # noqa: S101 - kept in step


def _contact(request: HttpRequest, contact_id: int) -> Contact:
    contact = archive.contact_get_for(request.user, contact_id)  # DoesNotExist: 404
    if not consent.may_manage_privacy(request.user, contact):
        raise PermissionDeniedError(
            _("Only directors and the editors on this account's team manage a person's "
              "personal information.")
        )  # fmt: skip
    return contact


def _record(contact: Contact, record_id: int) -> ConsentRecord:
    return contact.consent_records.select_related("recorded_by").get(pk=record_id)


class ConsentOut(Schema):
    id: int
    contact_id: int
    basis: str
    basis_label: str
    purpose: str
    obtained_on: date
    withdrawn_on: date | None
    evidence: str
    in_force: bool = Field(description="obtained and not withdrawn today (China time)")
    recorded_by: str | None
    created_at: datetime
    version: int


def _out(record: ConsentRecord) -> dict[str, Any]:
    return {
        "id": record.pk, "contact_id": record.contact_id, "basis": record.basis,
        "basis_label": str(record.get_basis_display()), "purpose": record.purpose,
        "obtained_on": record.obtained_on, "withdrawn_on": record.withdrawn_on,
        "evidence": record.evidence, "in_force": record.is_active(timezone.localdate()),
        "recorded_by": record.recorded_by.get_username() if record.recorded_by else None,
        "created_at": record.created_at, "version": record.version,
    }  # fmt: skip


class ConsentIn(InSchema):
    basis: BasisName
    purpose: str = Field(..., min_length=1, max_length=300)
    obtained_on: date
    evidence: str | None = Field(None, max_length=1000)
    withdrawn_on: date | None = None


class ConsentPatch(InSchema):
    basis: BasisName | None = None
    purpose: str | None = Field(None, min_length=1, max_length=300)
    obtained_on: date | None = None
    evidence: str | None = Field(None, max_length=1000)
    withdrawn_on: date | None = None
    version: int = Field(..., ge=1, description="the version you read; a stale one gets 409")


@router.get(
    "/contacts/{contact_id}/export", response={200: dict[str, Any], **ERRORS},
    summary="Everything held about a contact (the access request), as JSON",
)  # fmt: skip
def export_contact(request: HttpRequest, contact_id: Id) -> dict[str, Any]:
    contact = _contact(request, contact_id)
    sections = export.contact_export(
        by=request.user, contact=contact, channel=AccessLog.Channel.API, path=request.path
    )
    return export.as_json(sections)


@router.get(
    "/contacts/{contact_id}/consents", response={200: list[ConsentOut], **ERRORS},
    summary="A contact's lawful-basis records",
)  # fmt: skip
def list_consents(request: HttpRequest, contact_id: Id) -> list[dict[str, Any]]:
    contact = _contact(request, contact_id)
    return [_out(r) for r in contact.consent_records.select_related("recorded_by")]


@router.post(
    "/contacts/{contact_id}/consents", response={201: ConsentOut, **ERRORS},
    summary="Record a lawful basis for a contact's personal information",
)  # fmt: skip
def create_consent(
    request: HttpRequest, contact_id: Id, payload: ConsentIn
) -> tuple[int, dict[str, Any]]:
    contact = _contact(request, contact_id)
    record = consent.consent_record_create(by=request.user, contact=contact, data=payload.dict())
    return 201, _out(_record(contact, record.pk))


@router.patch(
    "/contacts/{contact_id}/consents/{consent_id}", response={200: ConsentOut, **ERRORS},
    summary="Change a lawful-basis record (e.g. the day consent was withdrawn)",
)  # fmt: skip
def update_consent(
    request: HttpRequest, contact_id: Id, consent_id: Id, payload: ConsentPatch
) -> dict[str, Any]:
    contact = _contact(request, contact_id)
    record = _record(contact, consent_id)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    consent.consent_record_update(by=request.user, record=record, data=data, version=version)
    return _out(_record(contact, consent_id))


@router.delete(
    "/contacts/{contact_id}/consents/{consent_id}", response={204: None, **ERRORS},
    summary="Delete a lawful-basis record entered by mistake (its history is kept)",
)  # fmt: skip
def delete_consent(request: HttpRequest, contact_id: Id, consent_id: Id) -> tuple[int, None]:
    contact = _contact(request, contact_id)
    consent.consent_record_delete(by=request.user, record=_record(contact, consent_id))
    return 204, None
