"""The personal-information page of a contact, its exports and lawful-basis forms, and the
directors' retention report. Thin: a selector finds the contact (404 when the user cannot
see it), :func:`.consent.may_manage_privacy` says whether they may act on it (403 with a
sentence otherwise)."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kam.core import access
from kam.core.errors import ApplicationError
from kam.core.exports import XLSX_TYPE
from kam.core.models import AccessLog
from kam.core.views import FIELD_LABELS, forbidden

from .. import selectors as archive
from ..forms import refuse_on_form
from ..models import ConsentRecord, Contact
from . import consent, export
from . import selectors as privacy
from .forms import ConsentForm

RECENT_ACCESS = 10


def _contact(request: HttpRequest, pk: int) -> Contact:
    try:
        return archive.contact_get_for(request.user, pk)
    except Contact.DoesNotExist:
        raise Http404 from None


def _refused(request: HttpRequest) -> HttpResponse:
    return forbidden(
        request,
        _("Only directors and the editors on this account's team manage a person's personal "
          "information."),
    )  # fmt: skip


def _record(contact: Contact, record_id: int) -> ConsentRecord:
    record = contact.consent_records.filter(pk=record_id).first()
    if record is None:
        raise Http404
    return record


@login_required
@require_GET
def contact_privacy(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    if not consent.may_manage_privacy(request.user, contact):
        return _refused(request)
    active = privacy.active_bases(contact)
    recent = list(privacy.access_log_about(contact)[:RECENT_ACCESS])
    for row in recent:
        row.field_labels = [str(FIELD_LABELS.get(f, f)) for f in row.fields]  # type: ignore[attr-defined]
    return render(request, "accounts/privacy/contact_privacy.html", {
        "contact": contact, "account": contact.account, "nav": "accounts",
        "held": privacy.holdings(contact), "records": privacy.consent_records_for(contact),
        "history": privacy.consent_history(contact), "active": active,
        "flagged": privacy.holds_personal_information(contact) and not active,
        "corrections": privacy.corrections(contact),
        "recent_access": recent,
        "form": ConsentForm() if contact.erased_at is None else None,
    })  # fmt: skip


@login_required
@require_GET
def contact_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    contact = _contact(request, pk)
    if not consent.may_manage_privacy(request.user, contact):
        return _refused(request)
    sections = export.contact_export(
        by=request.user, contact=contact, channel=AccessLog.Channel.WEB, path=request.path
    )
    if fmt == "xlsx":
        response = HttpResponse(export.as_xlsx(sections), content_type=XLSX_TYPE)
    else:
        body = json.dumps(export.as_json(sections), ensure_ascii=False, indent=2)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export.filename(contact, fmt)}"'
    return response


def _back(contact: Contact) -> HttpResponse:
    return redirect(reverse("contact_privacy", args=[contact.pk]) + "#basis")


@login_required
def consent_create(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    if not consent.may_manage_privacy(request.user, contact):
        return _refused(request)
    form = ConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            consent.consent_record_create(by=request.user, contact=contact,
                                          data=form.service_data())  # fmt: skip
        except (ValidationError, ApplicationError) as exc:
            refuse_on_form(form, exc)
        else:
            messages.success(request, _("Lawful basis recorded."))
            return _back(contact)
    return render(request, "accounts/privacy/consent_form.html", {
        "form": form, "contact": contact, "account": contact.account, "nav": "accounts",
    })  # fmt: skip


@login_required
def consent_edit(request: HttpRequest, pk: int, record_id: int) -> HttpResponse:
    contact = _contact(request, pk)
    record = _record(contact, record_id)
    if not consent.may_manage_privacy(request.user, contact):
        return _refused(request)
    form = ConsentForm(request.POST or None, instance=record)
    if request.method == "POST" and form.is_valid():
        try:
            consent.consent_record_update(by=request.user, record=record,
                                          data=form.service_data(),
                                          version=form.cleaned_data.get("version"))  # fmt: skip
        except (ValidationError, ApplicationError) as exc:
            refuse_on_form(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return _back(contact)
    return render(request, "accounts/privacy/consent_form.html", {
        "form": form, "contact": contact, "account": contact.account, "record": record,
        "nav": "accounts",
    })  # fmt: skip


@login_required
def consent_delete(request: HttpRequest, pk: int, record_id: int) -> HttpResponse:
    contact = _contact(request, pk)
    record = _record(contact, record_id)
    if not consent.may_manage_privacy(request.user, contact):
        return _refused(request)
    if request.method == "POST":
        try:
            consent.consent_record_delete(by=request.user, record=record)
        except ApplicationError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Lawful basis record deleted; its history is kept."))
        return _back(contact)
    return render(request, "core/confirm.html", {
        "title": _("Delete lawful basis record"), "subject": record,
        "message": _("Delete a record only when it was entered by mistake. When the person "
                     "withdraws consent or a basis ends, enter the date instead. The history "
                     "keeps the deleted record."),
        "cancel": reverse("contact_privacy", args=[contact.pk]), "danger": _("Delete"),
    })  # fmt: skip


# --- the retention report (directors) ---------------------------------------------------------


def _directors_only(request: HttpRequest) -> None:
    if not access.sees_personal_data_of_any_account(request.user):
        raise Http404


@login_required
@require_GET
def retention_list(request: HttpRequest) -> HttpResponse:
    _directors_only(request)
    page = Paginator(privacy.retention_runs(), 30).get_page(request.GET.get("page"))
    return render(request, "accounts/privacy/retention_list.html", {
        "page": page, "nav": "retention", "years": privacy.retention_years(),
    })  # fmt: skip


@login_required
@require_GET
def retention_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _directors_only(request)
    run = privacy.retention_runs().filter(pk=pk).first()
    if run is None:
        raise Http404
    contacts = {
        c.pk: c for c in archive.contact_list_for(request.user).filter(pk__in=run.contact_ids)
    }
    rows = [(pk, contacts.get(pk)) for pk in run.contact_ids]
    return render(request, "accounts/privacy/retention_detail.html", {
        "run": run, "rows": rows, "nav": "retention",
    })  # fmt: skip
