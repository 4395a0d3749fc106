"""The ledger's pages: import history, upload, an import's result and reject report,
unlinked billing codes, facts downloads, and the shipments panel of the account and group
pages. Thin: parse with a form, call a selector or service, render."""

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from kam.accounts import services as account_services
from kam.accounts.forms import refuse_on_form
from kam.accounts.models import Account, CorporateGroup
from kam.accounts.selectors import account_list_for, account_search
from kam.core import access, panels, regions, rls
from kam.core.errors import ApplicationError
from kam.core.exports import csv_response, xlsx_response
from kam.core.views import forbidden

from . import exports, messages, selectors, services
from .api import resolve_codes
from .contract import COLUMNS
from .forms import (
    AccountSearchForm,
    FactsExportForm,
    ImportFilterForm,
    LinkForm,
    ProspectForm,
    UnlinkedFilterForm,
    UploadForm,
)
from .messages import PRODUCT_LABELS
from .models import AccountMonth, ImportBatch

PAGE_SIZE = 25
REJECT_PAGE_SIZE = 100
PANEL_MONTHS = 24
PANEL_SCRIPTS = ("vendor/echarts.min.js", "ledger/facts_chart.js")
CHOICES_SHOWN = 20

STATUS_BADGES = {
    ImportBatch.Status.QUEUED: "text-bg-secondary",
    ImportBatch.Status.RUNNING: "text-bg-primary",
    ImportBatch.Status.COMMITTED: "text-bg-success",
    ImportBatch.Status.FAILED: "text-bg-danger",
    ImportBatch.Status.INTERRUPTED: "text-bg-warning",
}
NOT_LEDGER = gettext_lazy(
    "Shipment data is for the key-account department, directors and analysts."
)
NOT_IMPORTER = gettext_lazy(
    "Only the key-account department and directors may import shipment data and link "
    "billing account codes."
)


def _problem(request: HttpRequest, message: Any, status: int = 400) -> HttpResponse:
    return render(request, "ledger/problem.html", {"message": message}, status=status)


def _sees_ledger(request: HttpRequest) -> bool:
    return access.is_active_user(request.user) and access.sees_ledger(request.user)


def _may_import(request: HttpRequest) -> bool:
    return access.is_active_user(request.user) and access.may_import(request.user)


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return _("%(s).1f s") % {"s": seconds}
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return _("%(m)d min %(s)d s") % {"m": minutes, "s": secs}
    hours, minutes = divmod(minutes, 60)
    return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}


def months_text(months: list[str]) -> str:
    if len(months) <= 4:
        return ", ".join(months)
    return _("%(first)s – %(last)s (%(n)s months)") % {
        "first": months[0],
        "last": months[-1],
        "n": len(months),
    }


def _status_context(batch: ImportBatch) -> None:
    batch.badge = STATUS_BADGES.get(batch.status, "text-bg-secondary")  # type: ignore[attr-defined]
    batch.duration_text = duration_text(batch.duration_seconds)  # type: ignore[attr-defined]


# --- import history ---------------------------------------------------------------------------


@login_required
@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    if not _sees_ledger(request):
        return forbidden(request, NOT_LEDGER)
    form = ImportFilterForm(request.GET)
    status = form.cleaned_data.get("status") if form.is_valid() else ""
    batches = selectors.import_list_for(request.user)
    if status:
        batches = batches.filter(status=status)
    page = Paginator(batches, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    for batch in rows:
        _status_context(batch)
    context = {
        "form": form, "page": page, "rows": rows, "status": status, "nav": "ledger",
        "hx_target": "#import-table", "can_import": _may_import(request),
        "live": any(not b.is_finished for b in rows),
    }  # fmt: skip
    if request.htmx and request.htmx.target == "import-table":
        return render(request, "ledger/_import_table.html", context)
    return render(request, "ledger/import_list.html", context)


# --- upload -------------------------------------------------------------------------------------


def _contract_rows() -> list[dict[str, Any]]:
    return [
        {"name": c.name, "zh": c.label_zh, "en": c.label_en, "required": c.required,
         "aliases": "、".join(c.aliases)}
        for c in COLUMNS
    ]  # fmt: skip


def _upload_context(form: UploadForm) -> dict[str, Any]:
    columns = _contract_rows()
    return {
        "form": form, "columns": columns, "required": [c for c in columns if c["required"]],
        "max_bytes": settings.IMPORT_MAX_BYTES, "nav": "ledger",
    }  # fmt: skip


@login_required
def import_new(request: HttpRequest) -> HttpResponse:
    """The upload form. With JavaScript the file goes up by XMLHttpRequest (to show a
    progress bar) and the answer is JSON or the form fragment; without, a plain POST."""
    if not _may_import(request):
        return forbidden(request, NOT_IMPORTER)
    xhr = request.headers.get("X-Requested-With") == "XMLHttpRequest"
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                batch = services.import_create(
                    by=request.user, source=ImportBatch.Source.WEB, file_name=upload.name,
                    stream=upload, fmt=form.cleaned_data["format"],
                    encoding=form.cleaned_data["encoding"],
                )  # fmt: skip
            except ApplicationError as exc:
                field = exc.field if exc.field in form.fields else None
                form.add_error(field, str(exc.message))
            else:
                services.import_enqueue(batch)
                url = reverse("ledger:import_detail", args=[batch.pk])
                if xhr:
                    return JsonResponse({"location": url})
                return redirect(url)
        if xhr:
            return render(request, "ledger/_upload_form.html", _upload_context(form), status=400)
    return render(request, "ledger/import_new.html", _upload_context(form))


# --- one import: progress, result, rejects ----------------------------------------------------


def _batch(request: HttpRequest, pk: int) -> ImportBatch:
    try:
        return selectors.import_get_for(request.user, pk)
    except ImportBatch.DoesNotExist:
        raise Http404 from None


class _RejectReport:
    """The reject report as a sequence a Paginator can page through (read from the lake)."""

    def __init__(self, batch: ImportBatch) -> None:
        self.batch = batch

    def count(self) -> int:
        return selectors.reject_count(self.batch)

    def __getitem__(self, window: slice) -> list[dict[str, Any]]:
        start = window.start or 0
        rows = selectors.rejects(self.batch, offset=start, limit=window.stop - start)
        return [
            {"row": r.row, "column": messages.column_label(r.column) if r.column else "",
             "name": r.column, "value": r.value, "problem": messages.reason_text(r.reason, r.detail)}
            for r in rows
        ]  # fmt: skip


def _result_context(request: HttpRequest, batch: ImportBatch) -> dict[str, Any]:
    _status_context(batch)
    context: dict[str, Any] = {"batch": batch, "nav": "ledger"}
    if not batch.is_finished:
        return context
    context["warnings"] = [
        messages.warning_text(w.get("code", ""), w.get("params", {})) for w in batch.warnings
    ]
    if batch.error_code:
        context["failure"] = messages.failure_text(batch.error_code, batch.error_params)
        # What the file's first row held, so the user sees which heading to rename.
        context["found_headings"] = batch.error_params.get("found") or []
    context["months_text"] = months_text(batch.months)
    if batch.status == ImportBatch.Status.COMMITTED:
        rejects: Page = Paginator(_RejectReport(batch), REJECT_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        context["rejects"] = rejects
    return context


@login_required
@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The result page; while the import runs, HTMX polls it for the status fragment."""
    batch = _batch(request, pk)
    context = _result_context(request, batch)
    if request.htmx:
        return render(request, "ledger/_import_status.html", context)
    return render(request, "ledger/import_detail.html", context)


def _stamp() -> str:
    return datetime.now(ZoneInfo(settings.TIME_ZONE)).strftime("%Y%m%d-%H%M")


@login_required
@require_GET
def rejects_csv(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    return csv_response(
        f"kam-import-{batch.pk}-rejects.csv", exports.reject_header(), exports.reject_rows(batch)
    )


@login_required
@require_GET
def rejects_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    return xlsx_response(
        f"kam-import-{batch.pk}-rejects.xlsx",
        _("Rejected rows"),
        exports.reject_header(),
        exports.reject_rows(batch),
    )


# --- unlinked billing codes ---------------------------------------------------------------------


@login_required
@require_GET
def unlinked_list(request: HttpRequest) -> HttpResponse:
    if not _sees_ledger(request):
        return forbidden(request, NOT_LEDGER)
    form = UnlinkedFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    sort = data.get("sort") or "-revenue"
    rows = selectors.unlinked_codes(request.user, q=data.get("q") or "", sort=sort)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form, "page": page, "q": data.get("q") or "", "sort": sort, "nav": "ledger",
        "hx_target": "#unlinked-table", "can_link": _may_import(request),
    }  # fmt: skip
    if request.htmx and request.htmx.target == "unlinked-table":
        return render(request, "ledger/_unlinked_table.html", context)
    return render(request, "ledger/unlinked_list.html", context)


def _code_action(
    request: HttpRequest, code: str
) -> tuple[str, dict[str, Any] | None, Account | None]:
    """The code a link / prospect page acts on: (code, its totals, None) while unlinked,
    (code, None, account) once linked. 404 for an unknown code or a user who does not see
    unlinked codes; 403 (raised by the caller) for one who sees them but may not act."""
    code = code.strip().upper()
    try:
        return code, selectors.unlinked_code_get(request.user, code), None
    except AccountMonth.DoesNotExist:
        pass
    account = selectors.code_account(code) if _sees_ledger(request) else None
    if account is None:
        raise Http404
    return code, None, account


def _already_linked(request: HttpRequest, code: str, account: Account, title: str) -> HttpResponse:
    visible = account_list_for(request.user).filter(pk=account.pk).exists()
    return render(request, "ledger/code_linked.html", {
        "code": code, "account": account if visible else None, "title": title, "nav": "ledger",
        # The archive's refusal: it names the account only to a user who sees it.
        "message": account_services.billing_code_taken(by=request.user, code=code, owner=account),
    }, status=409)  # fmt: skip


def _account_choices(request: HttpRequest, q: str) -> list[Account]:
    if not q:
        return []
    accounts = account_search(account_list_for(request.user), q=q, sort="name")
    return list(accounts.select_related("industry")[:CHOICES_SHOWN])


@login_required
def code_link(request: HttpRequest, code: str) -> HttpResponse:
    code, row, linked = _code_action(request, code)
    if not _may_import(request):
        return forbidden(request, NOT_IMPORTER)
    if linked is not None:
        return _already_linked(request, code, linked, _("Link to an account"))
    search = AccountSearchForm(request.GET)
    q = search.cleaned_data.get("q", "") if search.is_valid() else ""
    form = LinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        account = account_list_for(request.user).filter(pk=form.cleaned_data["account"]).first()
        if account is None:
            form.add_error("account", _("Choose one of the accounts listed."))
        else:
            try:
                services.billing_code_link(
                    by=request.user, code=code, account=account, note=form.cleaned_data["note"]
                )
            except (ValidationError, ApplicationError) as exc:
                refuse_on_form(form, exc)
            else:
                flash.success(
                    request,
                    _("Billing account code %(code)s is now linked to %(account)s.")
                    % {"code": code, "account": account},
                )
                return redirect("ledger:unlinked")
    choices = _account_choices(request, q)
    chosen = str(form.data.get("account", "")) if form.is_bound else ""
    if chosen.isdigit() and all(a.pk != int(chosen) for a in choices):
        # Keep the account chosen before a refusal in view.
        choices = [*account_list_for(request.user).filter(pk=int(chosen)), *choices]
    context = {
        "code": code, "row": row, "form": form, "search": search, "q": q, "choices": choices,
        "chosen": chosen, "nav": "ledger",
    }  # fmt: skip
    if request.htmx and request.htmx.target == "account-choices":
        return render(request, "ledger/_account_choices.html", context)
    return render(request, "ledger/code_link.html", context)


@login_required
def code_prospect(request: HttpRequest, code: str) -> HttpResponse:
    code, row, linked = _code_action(request, code)
    if not _may_import(request):
        return forbidden(request, NOT_IMPORTER)
    if linked is not None:
        return _already_linked(request, code, linked, _("Create a prospect account"))
    form = ProspectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = services.prospect_from_code(
                by=request.user, code=code, data=form.service_data()
            )
        except (ValidationError, ApplicationError) as exc:
            refuse_on_form(form, exc)
        else:
            flash.success(
                request,
                _("Prospect account “%(name)s” created with billing account code %(code)s.")
                % {"name": account, "code": code},
            )
            return redirect("account_detail", pk=account.pk)
    return render(request, "ledger/code_prospect.html", {
        "code": code, "row": row, "form": form, "nav": "ledger",
    })  # fmt: skip


# --- facts downloads ------------------------------------------------------------------------------


def _facts(request: HttpRequest) -> tuple[str, Any] | HttpResponse:
    form = FactsExportForm(request.GET)
    if not form.is_valid():
        problems = [e for errors in form.errors.values() for e in errors]
        return _problem(request, " ".join(problems))
    data = form.cleaned_data
    try:
        codes = resolve_codes(request.user, data["code"] or None, data["account"], data["group"])
    except (Account.DoesNotExist, CorporateGroup.DoesNotExist):
        raise Http404 from None
    except ValidationError as exc:
        return _problem(request, " ".join(exc.messages))
    scope = (
        f"account-{data['account']}" if data["account"]
        else f"group-{data['group']}" if data["group"]
        else data["code"].upper()
    )  # fmt: skip
    facts = selectors.facts_for_codes(codes, data["start"], data["end"])
    return f"kam-facts-{scope}-{_stamp()}", facts.iterator(chunk_size=2000)


@login_required
@require_GET
def facts_csv(request: HttpRequest) -> HttpResponse:
    found = _facts(request)
    if isinstance(found, HttpResponse):
        return found
    name, facts = found
    return csv_response(f"{name}.csv", exports.fact_header(), exports.fact_rows(facts))


@login_required
@require_GET
def facts_xlsx(request: HttpRequest) -> HttpResponse:
    found = _facts(request)
    if isinstance(found, HttpResponse):
        return found
    name, facts = found
    return xlsx_response(
        f"{name}.xlsx", _("Monthly facts"), exports.fact_header(), exports.fact_rows(facts)
    )


# --- the shipments panel of the account and group pages ---------------------------------------


def _money_text(value: Decimal) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


def shipments_panel(
    request: HttpRequest, *, codes: list[str], scope: dict[str, int], key: str, has_codes: bool
) -> panels.Content:
    """The 'Shipments' card: 24 months of volume, revenue and margin, top lanes, product mix."""
    context: dict[str, Any] = {
        "key": key, "json_id": f"shipments-data-{key}", "has_codes": has_codes, "codes": codes,
    }  # fmt: skip
    # Both callers name the codes of accounts the user sees (account_get_for,
    # account_list_for), so the facts are read without the row-level policy: under it
    # PostgreSQL built the set of all the manager's billing codes to check an account's 24
    # rows (bench/web: 37 -> 3 ms).
    with rls.bypass():
        summary = selectors.shipments_summary(codes, PANEL_MONTHS)
    if summary is None:
        context["can_import"] = _may_import(request)
        return panels.Content(
            panels.render_template(request, "ledger/_shipments_panel.html", context)
        )
    start, end, months, products = summary.start, summary.end, summary.months, summary.products
    lanes = selectors.top_lanes(codes, start, end, limit=8)
    totals = selectors.period_totals(months)
    for lane in lanes:
        lane["origin_label"] = regions.label(lane["origin"])
        lane["destination_label"] = regions.label(lane["destination"])
    for product in products:
        product["label"] = PRODUCT_LABELS.get(product["product"], product["product"])
        product["share"] = selectors.rate(product["revenue"], totals["revenue"])
    period = {"month_from": f"{start:%Y-%m}", "month_to": f"{end:%Y-%m}"}
    query = urlencode({**scope, **period})
    context.update({
        "months": list(reversed(months)), "totals": totals, "lanes": lanes, "products": products,
        "start": start, "end": end,
        "csv_url": f"{reverse('ledger:facts_csv')}?{query}",
        "xlsx_url": f"{reverse('ledger:facts_xlsx')}?{query}",
        "chart": {
            "months": [f"{m['month']:%Y-%m}" for m in months],
            "waybills": [m["waybills"] for m in months],
            "revenue": [_money_text(m["revenue"]) for m in months],
            "margin": [_money_text(m["margin"]) if m["costed_waybills"] else None for m in months],
            "labels": {"waybills": _("Waybills"), "revenue": _("Revenue (CNY)"),
                       "margin": _("Margin (CNY)"), "count": _("Waybills"), "money": _("CNY")},
        },
    })  # fmt: skip
    return panels.Content(
        panels.render_template(request, "ledger/_shipments_panel.html", context), PANEL_SCRIPTS
    )


def account_shipments_panel(request: HttpRequest, account: Account) -> panels.Content | None:
    if not access.is_active_user(request.user) or not access.sees_customer_data(request.user):
        return None
    codes = [b.code for b in account.billing_codes.all()]  # prefetched by account_get_for
    return shipments_panel(
        request, codes=codes, scope={"account": account.pk}, key=f"account-{account.pk}",
        has_codes=bool(codes),
    )  # fmt: skip


def group_shipments_panel(request: HttpRequest, group: CorporateGroup) -> panels.Content | None:
    """The group tree's accounts that the user sees, rolled up."""
    if not access.is_active_user(request.user) or not access.sees_customer_data(request.user):
        return None
    accounts = account_list_for(request.user).filter(group_id__in=selectors.group_tree_ids(group))
    codes = selectors.codes_of_accounts(accounts)
    return shipments_panel(
        request, codes=codes, scope={"group": group.pk}, key=f"group-{group.pk}",
        has_codes=bool(codes),
    )  # fmt: skip
