from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from kam.core import access
from kam.core.forms import AccessLogFilterForm
from kam.core.selectors import access_log_for

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
    return render(
        request, "core/access_log.html", {"form": form, "page": page, "nav": "access_log"}
    )
