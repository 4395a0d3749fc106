from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from kam.core import access
from kam.core.auth_views import device_label
from kam.core.errors import ApplicationError
from kam.core.forms import AccessLogFilterForm
from kam.core.models import Notification
from kam.core.selectors import access_log_for


def forbidden(request: HttpRequest, message: Any) -> HttpResponse:
    """The page that says, in a sentence, why this user may not do this (403)."""
    return render(request, "core/forbidden.html", {"message": message}, status=403)


def form_errors(form: Any, exc: Exception) -> None:
    """A service's refusal next to the form's fields: each field's ValidationError message
    by its field (else at the top); an ApplicationError's sentence at the top."""
    if isinstance(exc, ApplicationError):
        form.add_error(None, str(exc.message))
    elif isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    elif isinstance(exc, ValidationError):
        for error in exc.messages:
            form.add_error(None, error)


def form_messages(request: HttpRequest, form: Any) -> None:
    """An invalid form's errors as page messages, each after its field's label."""
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


def refusal_messages(request: HttpRequest, exc: Exception) -> None:
    """A service's refusal as page messages: each ValidationError message, or the
    ApplicationError's sentence."""
    if isinstance(exc, ValidationError):
        for errors in exc.message_dict.values() if hasattr(exc, "error_dict") else [exc.messages]:
            for error in errors:
                messages.error(request, error)
    elif isinstance(exc, ApplicationError):
        messages.error(request, str(exc.message))


#: Field names in the access log, translated for display (the accounts app registers them).
FIELD_LABELS: dict[str, str] = {}


@login_required
def access_log(request: HttpRequest) -> HttpResponse:
    if not access.may_read_access_log(request.user):
        raise Http404
    form = AccessLogFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    rows = access_log_for(
        request.user,
        username=filters.get("user", ""),
        whose=filters.get("whose", ""),
        action=filters.get("action", ""),
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    for row in page.object_list:
        row.field_labels = [str(FIELD_LABELS.get(f, f)) for f in row.fields]
        row.device = device_label(row.user_agent) if row.user_agent else ""
    return render(
        request, "core/access_log.html", {"form": form, "page": page, "nav": "access_log"}
    )


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    """The user's own notifications, unread first, newest first."""
    unread_only = request.GET.get("show") == "unread"
    rows = Notification.objects.filter(user=request.user)
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    rows = rows.order_by(F("read_at").asc(nulls_first=True), "-created_at", "-id")
    page = Paginator(rows, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "core/notifications.html",
        {"page": page, "unread_only": unread_only, "nav": "notifications"},
    )


@login_required
@require_POST
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one notification read and go to what it is about."""
    row = get_object_or_404(Notification, pk=pk, user=request.user)
    if row.read_at is None:
        row.read_at = timezone.now()
        row.save(update_fields=["read_at"])
    if row.url and url_has_allowed_host_and_scheme(row.url, allowed_hosts=None):
        return redirect(row.url)  # only paths inside KAM: no host, no scheme
    return redirect("notifications")


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    Notification.objects.filter(user=request.user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    return redirect("notifications")
