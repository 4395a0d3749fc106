"""The archive's JSON API: accounts, corporate groups, contacts, ties and teams.

Every handler starts from a selector that knows the user, so another account's record
is answered 404. Updates carry the ``version`` the caller read; a stale one gets 409.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from kam.core import regions
from kam.core.api import ErrorOut, Id, InSchema, Page, PageQuery, Text
from kam.core.models import AccessLog, User

from . import selectors, services
from .models import (
    Account,
    AccountStatus,
    Attitude,
    BuyingRole,
    Category,
    Contact,
    ContactTie,
    CorporateGroup,
    CoverageModel,
    Industry,
    Influence,
    ProfitStatus,
    Stage,
    TeamMembership,
    TeamRole,
    TieKind,
)

router = Router(tags=["archive"])

CategoryName = Literal["economic", "group", "strategic", "important", "potential"]
StageName = Literal["exploratory", "basic", "cooperative", "interdependent", "integrated"]
StatusName = Literal["active", "prospect", "lost"]
ProfitName = Literal["profit", "breakeven", "loss", "unknown"]
CoverageName = Literal["resident", "representative", "industry", "territory", ""]
TeamRoleName = Literal[
    "owner", "co_owner", "industry_manager", "territory_manager", "service_rep", "executive_sponsor"
]
BuyingRoleName = Literal["economic_buyer", "user_buyer", "technical_buyer", "coach", "other"]
AttitudeName = Literal["champion", "supporter", "neutral", "opponent"]
InfluenceName = Literal["high", "medium", "low"]
TieKindName = Literal["colleague", "friend", "family", "former_colleague", "supplier"]
SortName = Literal[tuple(k for key in selectors.ACCOUNT_SORTS for k in (key, f"-{key}"))]  # type: ignore[valid-type]

# The Literal types above must say the same as the models' choices.
for _literal, _choices in (
    (CategoryName, Category), (StageName, Stage), (StatusName, AccountStatus),
    (ProfitName, ProfitStatus), (TeamRoleName, TeamRole), (BuyingRoleName, BuyingRole),
    (AttitudeName, Attitude), (InfluenceName, Influence), (TieKindName, TieKind),
):  # fmt: skip
    assert set(_literal.__args__) == set(_choices.values), _choices  # noqa: S101
assert set(CoverageName.__args__) - {""} == set(CoverageModel.values)  # noqa: S101

ERRORS: dict[int, Any] = {
    400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut,
}  # fmt: skip
Money = Decimal


#: Model field -> the request field that sets it, so that errors name what the client sent.
_REQUEST_FIELD = {
    "group": "group_id", "parent": "parent_id", "reports_to": "reports_to_id",
    "from_contact": "from_contact_id", "to_contact": "to_contact_id", "user": "username",
}  # fmt: skip


@contextmanager
def _request_field_names() -> Iterator[None]:
    """Rename the fields of a service's ValidationError to the request's field names."""
    try:
        yield
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise ValidationError(
            {_REQUEST_FIELD.get(f, f): errors for f, errors in exc.error_dict.items()}
        ) from exc


def _paginate(items: QuerySet[Any], page: int, page_size: int) -> tuple[dict[str, int], list[Any]]:
    count = items.count()
    start = (page - 1) * page_size
    return {"count": count, "page": page, "page_size": page_size}, list(
        items[start : start + page_size]
    )


# --- accounts -------------------------------------------------------------------------------


class AccountFields(InSchema):
    name_en: str | None = Field(None, max_length=200)
    credit_code: str | None = Field(None, max_length=30)
    legal_representative: str | None = Field(None, max_length=100)
    industry: str | None = Field(None, max_length=40, description="industry code, see /industries")
    employees: int | None = Field(None, ge=0, le=10_000_000)
    main_products: str | None = Field(None, max_length=500)
    annual_output_value: Money | None = Field(None, ge=0, max_digits=18, decimal_places=2)
    profit_status: ProfitName | None = None
    province_code: str | None = Field(None, max_length=6)
    city_code: str | None = Field(None, max_length=6)
    address: str | None = Field(None, max_length=300)
    group_id: Id | None = None
    categories: list[CategoryName] | None = None
    tier: int | None = Field(None, ge=1, le=5)
    stage: StageName | None = None
    coverage_model: CoverageName | None = None
    logistics_spend_estimate: Money | None = Field(None, ge=0, max_digits=18, decimal_places=2)
    inhouse_logistics_share: Money | None = Field(None, ge=0, le=100, decimal_places=2)
    status: StatusName | None = None
    notes: str | None = Field(None, max_length=4000)


class AccountIn(AccountFields):
    name: str = Field(..., min_length=1, max_length=200)


class AccountPatch(AccountFields):
    name: str | None = Field(None, min_length=1, max_length=200)
    version: int = Field(..., ge=1, description="the version you read; a stale one gets 409")


class AccountOut(Schema):
    id: int
    name: str
    name_en: str
    credit_code: str | None
    legal_representative: str
    industry: str | None
    industry_name: str | None
    employees: int | None
    main_products: str
    annual_output_value: Money | None
    profit_status: str
    province_code: str
    province_name: str
    city_code: str
    city_name: str
    address: str
    group_id: int | None
    group_name: str | None
    categories: list[str]
    tier: int | None
    stage: str
    coverage_model: str
    logistics_spend_estimate: Money | None
    inhouse_logistics_share: Money | None
    status: str
    notes: str
    billing_codes: list[str]
    owner: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    revenue_12m: Money | None = Field(
        None,
        description="Our revenue over the 12 months ending with the ledger's latest month "
        "(the list only; sort=-revenue_12m sorts by it)",
    )
    health_score: int | None = Field(
        None,
        description="The account's latest stored health score, 0-100 (the list only; "
        "sort=health_score sorts by it, accounts not scored yet last)",
    )


class AccountPage(Page):
    items: list[AccountOut]


class AccountQuery(InSchema):
    q: str = Field(
        "", max_length=100, description="name, English name, credit code, billing code or pinyin"
    )
    tier: list[int] = Field([], description="repeat for several")
    category: list[CategoryName] = []
    industry: str = Field("", max_length=40)
    province: str = Field("", max_length=6, description="GB/T 2260 province code")
    owner: Id | None = Field(None, description="user id of the account owner")
    stage: list[StageName] = []
    status: StatusName | None = None
    group: Id | None = None
    sort: SortName = "name"  # type: ignore[valid-type]
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(50, ge=1, le=500)


def _cents(value: Any) -> Decimal | None:
    """A sum as money (SQLite returns a sum's Decimal without its scale)."""
    return None if value is None else Decimal(value).quantize(Decimal("0.01"))


def account_out(a: Account) -> dict[str, Any]:
    owners = getattr(a, "owners", None)
    if owners is None:
        owners = [m for m in a.team.all() if m.role == TeamRole.OWNER]
    return {
        "id": a.pk, "name": a.name, "name_en": a.name_en, "credit_code": a.credit_code,
        "legal_representative": a.legal_representative,
        "industry": a.industry.code if a.industry else None,
        "industry_name": str(a.industry) if a.industry else None,
        "employees": a.employees, "main_products": a.main_products,
        "annual_output_value": a.annual_output_value, "profit_status": a.profit_status,
        "province_code": a.province_code, "province_name": a.province_label,
        "city_code": a.city_code, "city_name": a.city_label, "address": a.address,
        "group_id": a.group_id, "group_name": str(a.group) if a.group else None,
        "categories": a.categories, "tier": a.tier, "stage": a.stage,
        "coverage_model": a.coverage_model, "logistics_spend_estimate": a.logistics_spend_estimate,
        "inhouse_logistics_share": a.inhouse_logistics_share, "status": a.status,
        "notes": a.notes, "billing_codes": [b.code for b in a.billing_codes.all()],
        "owner": owners[0].user.get_username() if owners else None,
        "version": a.version, "created_at": a.created_at, "updated_at": a.updated_at,
        "revenue_12m": _cents(getattr(a, "revenue_12m", None)),
        "health_score": getattr(a, "health_score", None),
    }  # fmt: skip


def _account_data(request: HttpRequest, payload: AccountFields) -> dict[str, Any]:
    """Schema -> service arguments: resolve the industry code and the group id."""
    data = payload.dict(exclude_unset=True)
    data.pop("version", None)
    if "industry" in data:
        code = data.pop("industry")
        data["industry"] = None
        if code:
            data["industry"] = Industry.objects.filter(code=code).first()
            if data["industry"] is None:
                raise ValidationError({"industry": _("Unknown industry “%(c)s”.") % {"c": code}})
    if "group_id" in data:
        group_id = data.pop("group_id")
        data["group"] = None
        if group_id is not None:
            data["group"] = selectors.group_list_for(request.user).filter(pk=group_id).first()
            if data["group"] is None:
                raise ValidationError(
                    {"group_id": _("Unknown corporate group %(id)s.") % {"id": group_id}}
                )
    if data.get("categories") is None:
        data.pop("categories", None)
    return data


def _check_filters(filters: AccountQuery) -> None:
    errors: dict[str, str] = {}
    if any(t < 1 or t > 5 for t in filters.tier):
        errors["tier"] = _("Tiers are 1 to 5.")
    if filters.industry and not Industry.objects.filter(code=filters.industry).exists():
        errors["industry"] = _("Unknown industry “%(c)s”.") % {"c": filters.industry}
    if filters.province:
        region = regions.get(filters.province)
        if region is None or not region.is_province:
            errors["province"] = _("Unknown province code “%(c)s”.") % {"c": filters.province}
    if errors:
        raise ValidationError(errors)


@router.get("/accounts", response={200: AccountPage, **ERRORS}, summary="List accounts")
def list_accounts(request: HttpRequest, filters: Query[AccountQuery]) -> dict[str, Any]:
    _check_filters(filters)
    accounts = selectors.account_search(
        selectors.account_list_for(request.user), q=filters.q, tiers=filters.tier,
        categories=filters.category, industry=filters.industry, province=filters.province,
        owner=filters.owner, stages=filters.stage, status=filters.status or "",
        group=filters.group, sort=filters.sort,
    )  # fmt: skip
    accounts = selectors.with_list_relations(accounts).prefetch_related("billing_codes")
    count = accounts.count()
    start = (filters.page - 1) * filters.page_size
    items = selectors.account_rows(accounts, start, start + filters.page_size)
    page = {"count": count, "page": filters.page, "page_size": filters.page_size}
    return {**page, "items": [account_out(a) for a in items]}


@router.post("/accounts", response={201: AccountOut, **ERRORS}, summary="Create an account")
def create_account(request: HttpRequest, payload: AccountIn) -> tuple[int, dict[str, Any]]:
    with _request_field_names():
        account = services.account_create(by=request.user, data=_account_data(request, payload))
    return 201, account_out(selectors.account_get_for(request.user, account.pk))


@router.get(
    "/accounts/{account_id}", response={200: AccountOut, **ERRORS}, summary="Read an account"
)
def get_account(request: HttpRequest, account_id: Id) -> dict[str, Any]:
    return account_out(selectors.account_get_for(request.user, account_id))


@router.patch(
    "/accounts/{account_id}", response={200: AccountOut, **ERRORS}, summary="Update an account"
)
def update_account(request: HttpRequest, account_id: Id, payload: AccountPatch) -> dict[str, Any]:
    account = selectors.account_get_for(request.user, account_id)
    with _request_field_names():
        data = _account_data(request, payload)
        services.account_update(
            by=request.user, account=account, data=data, version=payload.version
        )
    return account_out(selectors.account_get_for(request.user, account_id))


@router.delete(
    "/accounts/{account_id}", response={204: None, **ERRORS}, summary="Delete an account"
)
def delete_account(request: HttpRequest, account_id: Id) -> tuple[int, None]:
    services.account_delete(
        by=request.user, account=selectors.account_get_for(request.user, account_id)
    )
    return 204, None


class BillingCodeIn(InSchema):
    code: str = Field(..., min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    note: str = Field("", max_length=200)


@router.post("/accounts/{account_id}/billing-codes", response={201: AccountOut, **ERRORS},
             summary="Add a billing account code")  # fmt: skip
def add_billing_code(
    request: HttpRequest, account_id: Id, payload: BillingCodeIn
) -> tuple[int, dict[str, Any]]:
    account = selectors.account_get_for(request.user, account_id)
    services.billing_code_add(
        by=request.user, account=account, code=payload.code, note=payload.note
    )
    return 201, account_out(selectors.account_get_for(request.user, account_id))


@router.delete("/accounts/{account_id}/billing-codes/{code}", response={204: None, **ERRORS},
               summary="Remove a billing account code")  # fmt: skip
def remove_billing_code(request: HttpRequest, account_id: Id, code: Text) -> tuple[int, None]:
    account = selectors.account_get_for(request.user, account_id)
    billing = get_object_or_404(account.billing_codes, code=code.upper())
    services.billing_code_remove(by=request.user, billing_code=billing)
    return 204, None


# --- team ---------------------------------------------------------------------------------


class MemberOut(Schema):
    id: int
    user_id: int
    username: str
    display_name: str
    role: str


class MemberIn(InSchema):
    username: str = Field(..., min_length=1, max_length=150)
    role: TeamRoleName


def member_out(m: TeamMembership) -> dict[str, Any]:
    return {"id": m.pk, "user_id": m.user_id, "username": m.user.get_username(),
            "display_name": str(m.user), "role": m.role}  # fmt: skip


@router.get(
    "/accounts/{account_id}/team",
    response={200: list[MemberOut], **ERRORS},
    summary="List the team",
)
def list_team(request: HttpRequest, account_id: Id) -> list[dict[str, Any]]:
    account = selectors.account_get_for(request.user, account_id)
    return [member_out(m) for m in account.team.all()]


@router.post(
    "/accounts/{account_id}/team", response={201: MemberOut, **ERRORS}, summary="Add a team member"
)
def add_team_member(
    request: HttpRequest, account_id: Id, payload: MemberIn
) -> tuple[int, dict[str, Any]]:
    account = selectors.account_get_for(request.user, account_id)
    user = User.objects.filter(username=payload.username).first()
    if user is None:
        raise ValidationError({"username": _("No user named “%(u)s”.") % {"u": payload.username}})
    with _request_field_names():
        membership = services.team_member_add(by=request.user, account=account, user=user,
                                              role=payload.role)  # fmt: skip
    return 201, member_out(membership)


@router.delete("/accounts/{account_id}/team/{member_id}", response={204: None, **ERRORS},
               summary="Remove a team member")  # fmt: skip
def remove_team_member(request: HttpRequest, account_id: Id, member_id: Id) -> tuple[int, None]:
    account = selectors.account_get_for(request.user, account_id)
    membership = get_object_or_404(account.team, pk=member_id)
    services.team_member_remove(by=request.user, membership=membership)
    return 204, None


# --- corporate groups ---------------------------------------------------------------------


class GroupIn(InSchema):
    name: str = Field(..., min_length=1, max_length=200)
    name_en: str = Field("", max_length=200)
    parent_id: Id | None = None
    notes: str = Field("", max_length=4000)


class GroupPatch(InSchema):
    name: str | None = Field(None, min_length=1, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    parent_id: Id | None = None
    notes: str | None = Field(None, max_length=4000)
    version: int = Field(..., ge=1)


class GroupOut(Schema):
    id: int
    name: str
    name_en: str
    parent_id: int | None
    notes: str
    account_count: int
    child_count: int
    version: int


class GroupPage(Page):
    items: list[GroupOut]


def _group_data(request: HttpRequest, payload: Schema) -> dict[str, Any]:
    data = payload.dict(exclude_unset=True)
    data.pop("version", None)
    if "parent_id" in data:
        parent_id = data.pop("parent_id")
        data["parent"] = None
        if parent_id is not None:
            data["parent"] = selectors.group_list_for(request.user).filter(pk=parent_id).first()
            if data["parent"] is None:
                raise ValidationError(
                    {"parent_id": _("Unknown corporate group %(id)s.") % {"id": parent_id}}
                )
    return data


@router.get("/groups", response={200: GroupPage, **ERRORS}, summary="List corporate groups")
def list_groups(
    request: HttpRequest,
    q: Text = Query("", max_length=100),  # noqa: B008 - ninja declares parameters by defaults
    page: int = Query(1, ge=1, le=100_000),
    page_size: int = Query(50, ge=1, le=500),
) -> dict[str, Any]:
    groups = selectors.group_list_for(request.user)
    if q:
        groups = groups.filter(Q(name__icontains=q) | Q(name_en__icontains=q))
    meta, items = _paginate(groups.order_by("name"), page, page_size)
    return {**meta, "items": items}


def _group(request: HttpRequest, group_id: int) -> CorporateGroup:
    return selectors.group_list_for(request.user).get(pk=group_id)


@router.post("/groups", response={201: GroupOut, **ERRORS}, summary="Create a corporate group")
def create_group(request: HttpRequest, payload: GroupIn) -> tuple[int, CorporateGroup]:
    with _request_field_names():
        group = services.group_create(by=request.user, data=_group_data(request, payload))
    return 201, _group(request, group.pk)


@router.get(
    "/groups/{group_id}", response={200: GroupOut, **ERRORS}, summary="Read a corporate group"
)
def get_group(request: HttpRequest, group_id: Id) -> CorporateGroup:
    return _group(request, group_id)


@router.patch(
    "/groups/{group_id}", response={200: GroupOut, **ERRORS}, summary="Update a corporate group"
)
def update_group(request: HttpRequest, group_id: Id, payload: GroupPatch) -> CorporateGroup:
    with _request_field_names():
        data = _group_data(request, payload)
        services.group_update(
            by=request.user, group=_group(request, group_id), data=data, version=payload.version
        )
    return _group(request, group_id)


@router.delete(
    "/groups/{group_id}", response={204: None, **ERRORS}, summary="Delete an empty corporate group"
)
def delete_group(request: HttpRequest, group_id: Id) -> tuple[int, None]:
    services.group_delete(by=request.user, group=_group(request, group_id))
    return 204, None


# --- contacts -----------------------------------------------------------------------------


class ContactFields(InSchema):
    title: str | None = Field(None, max_length=100)
    department: str | None = Field(None, max_length=100)
    reports_to_id: Id | None = None
    buying_role: BuyingRoleName | None = None
    attitude: AttitudeName | None = None
    influence: InfluenceName | None = None
    closeness: int | None = Field(None, ge=1, le=5)
    trust: int | None = Field(None, ge=1, le=5)
    favour: int | None = Field(None, ge=1, le=5)
    last_contacted: date | None = None
    phone_mobile: str | None = Field(None, max_length=30)
    phone_office: str | None = Field(None, max_length=30)
    email: str | None = Field(None, max_length=254)
    wechat: str | None = Field(None, max_length=60)
    birthday: date | None = None
    family: str | None = Field(None, max_length=2000)
    hobbies: str | None = Field(None, max_length=2000)
    habits: str | None = Field(None, max_length=2000)
    social_ties: str | None = Field(None, max_length=2000)
    work_duties: str | None = Field(None, max_length=2000)
    performance: str | None = Field(None, max_length=2000)
    goals: str | None = Field(None, max_length=2000)


class ContactIn(ContactFields):
    name: str = Field(..., min_length=1, max_length=100)


class ContactPatch(ContactFields):
    name: str | None = Field(None, min_length=1, max_length=100)
    version: int = Field(..., ge=1)


class ContactOut(Schema):
    id: int
    account_id: int
    name: str
    title: str
    department: str
    reports_to_id: int | None
    buying_role: str
    attitude: str
    influence: str
    closeness: int
    trust: int
    favour: int
    last_contacted: date | None
    erased: bool
    phone_mobile: str | None = None
    phone_office: str | None = None
    email: str | None = None
    wechat: str | None = None
    birthday: date | None = None
    family: str | None = None
    hobbies: str | None = None
    habits: str | None = None
    social_ties: str | None = None
    work_duties: str | None = None
    performance: str | None = None
    goals: str | None = None
    withheld: list[str] = Field(description="protected fields you may not see")
    version: int


class ContactPage(Page):
    items: list[ContactOut]


def _contacts_out(request: HttpRequest, contacts: list[Contact]) -> list[dict[str, Any]]:
    """Serialise contacts with the protected fields the user may see, and log the reveal."""
    user = request.user
    team_roles = dict(
        TeamMembership.objects.filter(
            user=user, account_id__in={c.account_id for c in contacts}
        ).values_list("account_id", "role")
    )
    protected = (*Contact.DETAIL_FIELDS, *Contact.PERSONAL_FIELDS)
    out: list[dict[str, Any]] = []
    revealed: dict[tuple[str, ...], list[Contact]] = {}
    for c in contacts:
        allowed = selectors.access_for_team_role(
            user, team_roles.get(c.account_id)
        ).protected_fields
        row = {
            "id": c.pk, "account_id": c.account_id, "name": c.name, "title": c.title,
            "department": c.department, "reports_to_id": c.reports_to_id,
            "buying_role": c.buying_role, "attitude": c.attitude, "influence": c.influence,
            "closeness": c.closeness, "trust": c.trust, "favour": c.favour,
            "last_contacted": c.last_contacted,
            "erased": c.erased_at is not None, "version": c.version,
            "withheld": [f for f in protected if f not in allowed],
        }  # fmt: skip
        for field in allowed:
            row[field] = getattr(c, field)
        shown = tuple(f for f in allowed if getattr(c, f))
        if shown:
            revealed.setdefault(shown, []).append(c)
        out.append(row)
    for fields, group in revealed.items():
        services.contacts_reveal(by=user, contacts=group, fields=fields,
                                 channel=AccessLog.Channel.API, path=request.path)  # fmt: skip
    return out


def _contact_data(request: HttpRequest, account_id: int, payload: Schema) -> dict[str, Any]:
    data = payload.dict(exclude_unset=True)
    data.pop("version", None)
    if "reports_to_id" in data:
        manager_id = data.pop("reports_to_id")
        data["reports_to"] = None
        if manager_id is not None:
            data["reports_to"] = (
                selectors.contact_list_for(request.user)
                .filter(pk=manager_id, account_id=account_id)
                .first()
            )
            if data["reports_to"] is None:
                raise ValidationError(
                    {"reports_to_id": _("The manager must be a contact at the same account.")}
                )
    return data


@router.get("/contacts", response={200: ContactPage, **ERRORS}, summary="List contacts")
def list_contacts(
    request: HttpRequest,
    account_id: Id | None = None,
    q: Text = Query("", max_length=100),  # noqa: B008 - ninja declares parameters by defaults
    page: int = Query(1, ge=1, le=100_000),
    page_size: int = Query(50, ge=1, le=500),
) -> dict[str, Any]:
    contacts = selectors.contact_list_for(request.user)
    if account_id is not None:
        contacts = contacts.filter(account_id=account_id)
    if q:
        contacts = contacts.filter(Q(name__icontains=q) | Q(title__icontains=q))
    meta, items = _paginate(contacts.order_by("account_id", "name", "id"), page, page_size)
    return {**meta, "items": _contacts_out(request, items)}


@router.post(
    "/accounts/{account_id}/contacts", response={201: ContactOut, **ERRORS}, summary="Add a contact"
)
def create_contact(
    request: HttpRequest, account_id: Id, payload: ContactIn
) -> tuple[int, dict[str, Any]]:
    account = selectors.account_get_for(request.user, account_id)
    with _request_field_names():
        data = _contact_data(request, account_id, payload)
        contact = services.contact_create(
            by=request.user, account=account, channel=AccessLog.Channel.API, data=data
        )
    return 201, _contacts_out(request, [selectors.contact_get_for(request.user, contact.pk)])[0]


@router.get(
    "/contacts/{contact_id}", response={200: ContactOut, **ERRORS}, summary="Read a contact"
)
def get_contact(request: HttpRequest, contact_id: Id) -> dict[str, Any]:
    return _contacts_out(request, [selectors.contact_get_for(request.user, contact_id)])[0]


@router.patch(
    "/contacts/{contact_id}", response={200: ContactOut, **ERRORS}, summary="Update a contact"
)
def update_contact(request: HttpRequest, contact_id: Id, payload: ContactPatch) -> dict[str, Any]:
    contact = selectors.contact_get_for(request.user, contact_id)
    with _request_field_names():
        data = _contact_data(request, contact.account_id, payload)
        services.contact_update(
            by=request.user, contact=contact, version=payload.version,
            channel=AccessLog.Channel.API, data=data,
        )  # fmt: skip
    return _contacts_out(request, [selectors.contact_get_for(request.user, contact_id)])[0]


@router.post("/contacts/{contact_id}/erase", response={200: ContactOut, **ERRORS},
             summary="Erase a contact's personal data (keeps the business record)")  # fmt: skip
def erase_contact(request: HttpRequest, contact_id: Id) -> dict[str, Any]:
    contact = selectors.contact_get_for(request.user, contact_id)
    services.contact_erase(by=request.user, contact=contact, channel=AccessLog.Channel.API)
    return _contacts_out(request, [selectors.contact_get_for(request.user, contact_id)])[0]


# --- ties ---------------------------------------------------------------------------------


class TieIn(InSchema):
    from_contact_id: Id
    to_contact_id: Id
    kind: TieKindName
    note: str = Field("", max_length=500)
    since: date | None = None


class TieOut(Schema):
    id: int
    from_contact_id: int
    to_contact_id: int
    kind: str
    note: str
    since: date | None


class StaffTieIn(InSchema):
    contact_id: Id
    username: str = Field(..., min_length=1, max_length=150)
    strength: int = Field(3, ge=1, le=5)
    note: str = Field("", max_length=500)
    since: date | None = None


class StaffTieOut(Schema):
    id: int
    contact_id: int
    user_id: int
    username: str
    strength: int
    note: str
    since: date | None

    @staticmethod
    def resolve_username(obj: Any) -> str:
        return obj.user.get_username()


class TiePage(Page):
    items: list[TieOut]


class TieQuery(PageQuery):
    contact_id: Id | None = None
    account_id: Id | None = None


@router.get("/ties", response={200: TiePage, **ERRORS}, summary="Ties between contacts")
def list_ties(request: HttpRequest, params: Query[TieQuery]) -> dict[str, Any]:
    # The items need only the ties' own columns (no contact, whose columns are decrypted).
    ties = selectors.contact_ties_for(request.user).select_related(None)
    if params.account_id is not None:
        # The account's contacts first (a handful), then their ties by the two indexed ends:
        # as an OR over the joined contacts' accounts, PostgreSQL read every tie (over 60 s
        # for a manager with 556,000 ties, bench/web).
        ids = list(
            selectors.contact_list_for(request.user)
            .filter(account_id=params.account_id)
            .values_list("pk", flat=True)
        )
        # The selector's rule (both ends' accounts visible) checked on those few ties: in
        # one statement with it, PostgreSQL drove from every contact of a manager's 2,700
        # accounts (90 ms, bench/web) instead of the account's ties.
        pairs = list(
            ContactTie.objects.filter(Q(from_contact_id__in=ids) | Q(to_contact_id__in=ids))
            .order_by()
            .values_list("pk", "from_contact__account_id", "to_contact__account_id")
        )
        ends = {account for _pk, a, b in pairs for account in (a, b)}
        seen = set(
            selectors.account_list_for(request.user)
            .filter(pk__in=ends or [0])
            .values_list("pk", flat=True)
        )
        keys = [pk for pk, a, b in pairs if a in seen and b in seen]
        # (No key is 0: with no tie the same statements run, and find nothing.)
        ties = ContactTie.objects.filter(pk__in=keys or [0])
    if params.contact_id is not None:
        ties = ties.filter(
            Q(from_contact_id=params.contact_id) | Q(to_contact_id=params.contact_id)
        )
    meta, items = _paginate(ties.order_by("id"), params.page, params.page_size)
    return {**meta, "items": items}


@router.post("/ties", response={201: TieOut, **ERRORS}, summary="Record a tie between two contacts")
def create_tie(request: HttpRequest, payload: TieIn) -> tuple[int, Any]:
    contacts = selectors.contact_list_for(request.user)
    with _request_field_names():
        tie = services.contact_tie_create(
            by=request.user, from_contact=contacts.get(pk=payload.from_contact_id),
            to_contact=contacts.get(pk=payload.to_contact_id), kind=payload.kind, note=payload.note,
            since=payload.since,
        )  # fmt: skip
    return 201, tie


@router.delete("/ties/{tie_id}", response={204: None, **ERRORS}, summary="Delete a tie")
def delete_tie(request: HttpRequest, tie_id: Id) -> tuple[int, None]:
    services.contact_tie_delete(
        by=request.user, tie=selectors.contact_ties_for(request.user).get(pk=tie_id)
    )
    return 204, None


@router.get(
    "/staff-ties", response={200: list[StaffTieOut], **ERRORS}, summary="Who on our side knows whom"
)
def list_staff_ties(request: HttpRequest, contact_id: Id | None = None) -> QuerySet[Any]:
    ties = selectors.staff_ties_for(request.user)
    if contact_id is not None:
        ties = ties.filter(contact_id=contact_id)
    return ties.order_by("id")[:2000]


@router.post(
    "/staff-ties",
    response={201: StaffTieOut, **ERRORS},
    summary="Record that one of us knows a contact",
)
def create_staff_tie(request: HttpRequest, payload: StaffTieIn) -> tuple[int, Any]:
    contact = selectors.contact_get_for(request.user, payload.contact_id)
    user = User.objects.filter(username=payload.username, is_active=True).first()
    if user is None:
        raise ValidationError({"username": _("No user named “%(u)s”.") % {"u": payload.username}})
    with _request_field_names():
        tie = services.staff_tie_create(by=request.user, contact=contact, user=user,
                                        strength=payload.strength, note=payload.note,
                                        since=payload.since)  # fmt: skip
    return 201, tie


@router.delete("/staff-ties/{tie_id}", response={204: None, **ERRORS}, summary="Delete a staff tie")
def delete_staff_tie(request: HttpRequest, tie_id: Id) -> tuple[int, None]:
    services.staff_tie_delete(
        by=request.user, tie=selectors.staff_ties_for(request.user).get(pk=tie_id)
    )
    return 204, None


class IndustryOut(Schema):
    code: str
    name_zh: str
    name_en: str


@router.get("/industries", response={200: list[IndustryOut], **ERRORS}, summary="Industries")
def list_industries(request: HttpRequest) -> QuerySet[Industry]:
    return Industry.objects.all()
