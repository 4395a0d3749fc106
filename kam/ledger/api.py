"""The ledger's JSON API: push waybills, follow imports, read monthly facts, link codes.

Money is a decimal string ("1234.50"), never a float.
"""

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from kam.accounts.models import Account
from kam.accounts.selectors import account_get_for, account_list_for, group_list_for
from kam.core.api import ErrorOut, Id, InSchema, Page, PageQuery, Text
from kam.core.errors import ApplicationError

from . import messages, selectors, services
from .contract import PRODUCTS
from .models import ImportBatch

router = Router(tags=["ledger"])

ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
                          413: ErrorOut, 415: ErrorOut, 422: ErrorOut}  # fmt: skip
# Year 0000 matches \d{4} but is no date (it was a 500 error, found by schemathesis).
Month = Field(None, pattern=r"^[1-9]\d{3}-(0[1-9]|1[0-2])$", description="YYYY-MM")
Decimal2 = str  # money travels as a decimal string
CENT = Decimal("0.01")


# --- imports ---------------------------------------------------------------------------------


class ImportOut(Schema):
    id: int
    source: str
    status: Literal["queued", "running", "committed", "failed", "interrupted"]
    stage: str
    file_name: str
    file_format: str
    encoding: str
    read: int
    accepted: int
    updated: int
    rejected: int
    duplicates: int
    conflicts: int
    months: list[str]
    warnings: list[str]
    error: str | None
    percent: int
    created_at: Any
    started_at: Any | None
    finished_at: Any | None
    duration_seconds: float | None
    created_by: str | None


def import_out(batch: ImportBatch) -> dict[str, Any]:
    return {
        "id": batch.pk,
        "source": batch.source,
        "status": batch.status,
        "stage": batch.stage,
        "file_name": batch.file_name,
        "file_format": batch.file_format,
        "encoding": batch.encoding,
        "read": batch.rows_read,
        "accepted": batch.accepted,
        "updated": batch.updated,
        "rejected": batch.rejected,
        "duplicates": batch.duplicates,
        "conflicts": batch.conflicts,
        "months": batch.months,
        "warnings": [messages.warning_text(w["code"], w.get("params", {})) for w in batch.warnings],
        "error": messages.failure_text(batch.error_code, batch.error_params)
        if batch.error_code
        else None,
        "percent": batch.percent,
        "created_at": batch.created_at,
        "started_at": batch.started_at,
        "finished_at": batch.finished_at,
        "duration_seconds": batch.duration_seconds,
        "created_by": batch.created_by.username if batch.created_by else None,
    }


class ImportPage(Page):
    items: list[ImportOut]


_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-ndjson": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
        },
        "description": "Waybills as NDJSON (one object per line) or a JSON array of objects, "
        "with the columns of the waybill contract (docs/ledger.md).",
    }
}


class PushQuery(Schema):
    wait: bool = False
    name: str = Field("api-batch.json", max_length=200, pattern=r"^[^/\\\x00]+$")


@router.post(
    "/waybills",
    response={200: ImportOut, 202: ImportOut, **ERRORS},
    summary="Push a batch of waybills",
    openapi_extra=_BODY_DOC,
)
def push_waybills(request: HttpRequest, params: Query[PushQuery]) -> tuple[int, dict[str, Any]]:
    """Import waybills sent in the body. The batch lands whole or not at all; rows already
    in the lake are counted as duplicates, waybills held in transit that come further
    (a later status, with the delivered time) as updated, other changes as conflicts. With
    ``wait=true``
    the answer comes when the import has finished (200); otherwise at once (202) and
    ``GET /imports/{id}`` follows it."""
    content_type = (request.content_type or "").lower()
    if content_type not in ("application/json", "application/x-ndjson", "application/jsonl"):
        raise ApplicationError(
            _("Send waybills as application/json or application/x-ndjson."), field="Content-Type"
        )
    suffix = ".json" if content_type == "application/json" else ".ndjson"
    name = params.name
    file_name = name if name.lower().endswith((".json", ".ndjson", ".jsonl")) else name + suffix
    batch = services.import_create(
        by=request.user,
        source=ImportBatch.Source.API,
        file_name=file_name,
        stream=request,
        fmt="json",
    )
    if params.wait:
        batch = services.import_run(batch=batch)
        return 200, import_out(batch)
    services.import_enqueue(batch)
    return 202, import_out(batch)


class ImportQuery(PageQuery):
    status: Literal["queued", "running", "committed", "failed", "interrupted"] | None = None


@router.get("/imports", response={200: ImportPage, **ERRORS}, summary="List imports")
def list_imports(request: HttpRequest, params: Query[ImportQuery]) -> dict[str, Any]:
    page, page_size = params.page, params.page_size
    batches = selectors.import_list_for(request.user)
    if params.status:
        batches = batches.filter(status=params.status)
    count = batches.count()
    items = list(batches[(page - 1) * page_size : page * page_size])
    return {
        "count": count,
        "page": page,
        "page_size": page_size,
        "items": [import_out(b) for b in items],
    }


@router.get("/imports/{import_id}", response={200: ImportOut, **ERRORS}, summary="Read an import")
def get_import(request: HttpRequest, import_id: Id) -> dict[str, Any]:
    return import_out(selectors.import_get_for(request.user, import_id))


class RejectOut(Schema):
    row: int
    column: str
    value: str | None
    reason: str
    message: str


class RejectPage(Page):
    items: list[RejectOut]


@router.get(
    "/imports/{import_id}/rejects", response={200: RejectPage, **ERRORS}, summary="Rejected rows"
)
def list_rejects(request: HttpRequest, import_id: Id, params: Query[PageQuery]) -> dict[str, Any]:
    page, page_size = params.page, params.page_size
    batch = selectors.import_get_for(request.user, import_id)
    items = [
        {"row": r.row, "column": r.column, "value": r.value, "reason": r.reason,
         "message": messages.reason_text(r.reason, r.detail)}
        for r in selectors.rejects(batch, offset=(page - 1) * page_size, limit=page_size)
    ]  # fmt: skip
    return {
        "count": selectors.reject_count(batch),
        "page": page,
        "page_size": page_size,
        "items": items,
    }


# --- facts -----------------------------------------------------------------------------------


class FactOut(Schema):
    billing_code: str
    month: str
    waybills: int
    pieces: int
    weight_kg: Decimal2
    revenue: Decimal2
    cost: Decimal2
    margin: Decimal2
    costed_waybills: int
    cod_amount: Decimal2
    returns: int
    returned: int
    lost: int
    damaged: int
    promised: int
    on_time: int
    consumer_waybills: int
    lanes: int
    destination_cities: int
    active_days: int
    express_waybills: int
    express_revenue: Decimal2
    standard_waybills: int
    standard_revenue: Decimal2
    ground_waybills: int
    ground_revenue: Decimal2
    cold_waybills: int
    cold_revenue: Decimal2
    international_waybills: int
    international_revenue: Decimal2


class FactPage(Page):
    items: list[FactOut]


class FactQuery(Schema):
    billing_code: str | None = Field(None, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    account_id: Id | None = None
    group_id: Id | None = None
    month_from: str | None = Month
    month_to: str | None = Month
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(500, ge=1, le=5000)


def _month(value: str | None) -> date | None:
    if not value:
        return None
    year, month = value.split("-")
    return date(int(year), int(month), 1)


def fact_out(fact: Any) -> dict[str, Any]:
    out = {f: getattr(fact, f) for f in FactOut.model_fields}
    out["month"] = fact.month.strftime("%Y-%m")
    money = ["weight_kg", "revenue", "cost", "margin", "cod_amount"]
    for name in money + [f"{product}_revenue" for product in PRODUCTS]:
        out[name] = str(out[name])
    return out


def resolve_codes(
    user: Any, billing_code: str | None, account_id: int | None, group_id: int | None
) -> list[str]:
    """The billing codes a facts request names, checked against what the user may see."""
    if not (billing_code or account_id or group_id):
        raise ValidationError(
            {"billing_code": _("Give a billing_code, an account_id or a group_id.")}
        )
    codes: set[str] | None = None
    if account_id:
        account = account_get_for(user, account_id)
        codes = set(selectors.codes_of_accounts(Account.objects.filter(pk=account.pk)))
    if group_id:
        group = group_list_for(user).get(pk=group_id)
        accounts = account_list_for(user).filter(group_id__in=selectors.group_tree_ids(group))
        group_codes = set(selectors.codes_of_accounts(accounts))
        codes = group_codes if codes is None else codes & group_codes
    if billing_code:
        code = billing_code.strip().upper()
        if not selectors.visible_code(user, code):
            raise Http404(code)  # like any record the user may not see
        codes = {code} if codes is None else codes & {code}
    return sorted(codes or [])


@router.get("/facts", response={200: FactPage, **ERRORS}, summary="Monthly facts")
def list_facts(request: HttpRequest, filters: Query[FactQuery]) -> dict[str, Any]:
    """Per billing account code and month. ``account_id`` and ``group_id`` roll up the
    account's (or the group tree's) codes; each row stays one code's month."""
    start, end = _month(filters.month_from), _month(filters.month_to)
    if start and end and start > end:
        raise ValidationError({"month_to": _("month_to is before month_from.")})
    codes = resolve_codes(request.user, filters.billing_code, filters.account_id, filters.group_id)
    facts = selectors.facts_for_codes(codes, start, end)
    count = facts.count()
    items = facts[(filters.page - 1) * filters.page_size : filters.page * filters.page_size]
    return {"count": count, "page": filters.page, "page_size": filters.page_size,
            "items": [fact_out(f) for f in items]}  # fmt: skip


# --- unlinked billing codes --------------------------------------------------------------------


class UnlinkedOut(Schema):
    billing_code: str
    waybills: int
    revenue: Decimal2
    first_month: str
    last_month: str
    months: int


class UnlinkedPage(Page):
    items: list[UnlinkedOut]


def unlinked_out(row: dict[str, Any]) -> dict[str, Any]:
    # A sum computed by SQLite comes back unquantized (Decimal("27")): show it as "27.00".
    revenue = Decimal(row["revenue"]).quantize(CENT)
    return {**row, "revenue": str(revenue), "first_month": row["first_month"].strftime("%Y-%m"),
            "last_month": row["last_month"].strftime("%Y-%m")}  # fmt: skip


class UnlinkedQuery(PageQuery):
    q: str = Field("", max_length=40, pattern=r"^[^\x00]*$")
    sort: Literal[tuple(selectors.UNLINKED_SORTS)] = "-revenue"  # type: ignore[valid-type]


@router.get(
    "/unlinked-codes", response={200: UnlinkedPage, **ERRORS}, summary="Unlinked billing codes"
)
def list_unlinked(request: HttpRequest, params: Query[UnlinkedQuery]) -> dict[str, Any]:
    page, page_size = params.page, params.page_size
    rows = selectors.unlinked_codes(request.user, q=params.q, sort=params.sort)
    count = rows.count()
    items = rows[(page - 1) * page_size : page * page_size]
    return {
        "count": count,
        "page": page,
        "page_size": page_size,
        "items": [unlinked_out(r) for r in items],
    }


class LinkIn(InSchema):
    account_id: Id
    note: str = Field("", max_length=200)


class LinkedOut(Schema):
    billing_code: str
    account_id: int


@router.post("/unlinked-codes/{code}/link", response={201: LinkedOut, **ERRORS},
             summary="Link a billing code to an account")  # fmt: skip
def link_code(request: HttpRequest, code: Text, payload: LinkIn) -> tuple[int, dict[str, Any]]:
    row = selectors.unlinked_code_get(request.user, code.strip().upper())
    account = account_get_for(request.user, payload.account_id)
    services.billing_code_link(
        by=request.user, code=row["billing_code"], account=account, note=payload.note
    )
    return 201, {"billing_code": row["billing_code"], "account_id": account.pk}


class ProspectIn(InSchema):
    name: str = Field(..., min_length=1, max_length=200)
    name_en: str = Field("", max_length=200)
    province_code: str = Field("", max_length=6)
    city_code: str = Field("", max_length=6)


@router.post("/unlinked-codes/{code}/prospect", response={201: LinkedOut, **ERRORS},
             summary="Create a prospect account from a billing code")  # fmt: skip
def prospect_from_code(
    request: HttpRequest, code: Text, payload: ProspectIn
) -> tuple[int, dict[str, Any]]:
    row = selectors.unlinked_code_get(request.user, code.strip().upper())
    account = services.prospect_from_code(
        by=request.user, code=row["billing_code"], data=payload.dict()
    )
    return 201, {"billing_code": row["billing_code"], "account_id": account.pk}
