"""Every write to the archive. Each action is atomic, validates with ``full_clean()``,
records field history under the acting user, and refuses what the user may not do."""

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model, ProtectedError
from django.utils.translation import gettext as _
from pypinyin import lazy_pinyin

from kam.core import access, creditcode, rls
from kam.core.errors import ApplicationError, ConflictError, PermissionDeniedError
from kam.core.models import AccessLog, User
from kam.core.services import access_log_record

from .models import (
    Account,
    BillingCode,
    Category,
    Contact,
    ContactTie,
    CorporateGroup,
    StaffTie,
    TeamMembership,
    TeamRole,
)
from .privacy import erasure as privacy_erasure
from .selectors import AccountAccess, account_access, account_list_for
from .signals import account_changed

ACCOUNT_FIELDS = (
    "name", "name_en", "credit_code", "legal_representative", "industry", "employees",
    "main_products", "annual_output_value", "profit_status", "province_code", "city_code",
    "address", "group", "tier", "stage", "coverage_model", "logistics_spend_estimate",
    "inhouse_logistics_share", "status", "notes",
)  # fmt: skip
GROUP_FIELDS = ("name", "name_en", "parent", "notes")
CONTACT_FIELDS = (
    "name", "title", "department", "reports_to", "buying_role", "attitude", "influence",
    "closeness", "trust", "favour", "last_contacted",
    *Contact.DETAIL_FIELDS, *Contact.PERSONAL_FIELDS,
)  # fmt: skip

log = logging.getLogger(__name__)


def _pinyin_key(*names: str) -> str:
    parts: list[str] = []
    for name in names:
        if not name:
            continue
        syllables = lazy_pinyin(name, errors="ignore")
        parts.append("".join(s[0] for s in syllables if s))
        parts.append("".join(syllables))
        parts.append(name.lower())
    return " ".join(parts).lower()[:600]


def _save(instance: Model, by: User | None) -> None:
    """Validate and save, naming the acting user in the field history."""
    instance.full_clean(validate_unique=False, validate_constraints=False)
    # A unique value (a credit code) may be held by an account the user cannot read; on
    # PostgreSQL the check looks past the row-level policies so that it is refused as
    # taken, with Django's message, which names the field, never the other record.
    with rls.bypass():
        instance.validate_unique()
        instance.validate_constraints()
    if by is not None:
        instance._history_user = by  # type: ignore[attr-defined]  # read by simple-history
    try:
        instance.save()
    except IntegrityError as exc:  # a race past full_clean(): say so, change nothing
        # The database's own text names tables and constraints: logged, not shown.
        log.warning("integrity error saving %s: %s", type(instance).__name__, exc)
        raise ConflictError(
            _(
                "Someone saved a record with the same unique values (such as a credit code or "
                "billing code) a moment ago. Nothing was changed; reload the page and try again."
            )
        ) from exc


def _apply(instance: Model, data: Mapping[str, Any], allowed: Iterable[str]) -> None:
    allowed = set(allowed)
    unknown = set(data) - allowed - {"categories"}
    if unknown:
        raise ValidationError({f: _("This field cannot be set here.") for f in sorted(unknown)})
    for field, value in data.items():
        if field in allowed:
            if value is None and field in _BLANK_TEXT_FIELDS:
                value = ""
            setattr(instance, field, value)


_BLANK_TEXT_FIELDS = {
    "name_en", "legal_representative", "main_products", "province_code", "city_code", "address",
    "coverage_model", "notes", "title", "department", *Contact.DETAIL_FIELDS,
    *(set(Contact.PERSONAL_FIELDS) - {"birthday"}),
}  # fmt: skip


def _normalize_credit_code(account: Account) -> None:
    # Before full_clean(): a code typed with spaces would otherwise fail max_length.
    if account.credit_code:
        account.credit_code = creditcode.normalize(account.credit_code)


def _set_categories(account: Account, categories: Iterable[str]) -> None:
    chosen = set(categories)
    unknown = chosen - set(Category.values)
    if unknown:
        raise ValidationError(
            {"categories": _("Unknown category: %(c)s") % {"c": ", ".join(sorted(unknown))}}
        )
    for category, field in Account.CATEGORY_FIELDS.items():
        setattr(account, field, category.value in chosen)


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDeniedError(_("You may not make this change."))


def _check_version(current: int, expected: int | None) -> None:
    if expected is not None and current != expected:
        raise ConflictError(
            _(
                "Someone else changed this record after you opened it. Reload it and apply your "
                "change again."
            )
        )


# --- accounts ----------------------------------------------------------------------------


@transaction.atomic
def account_create(*, by: User, data: Mapping[str, Any]) -> Account:
    """Create an account (directors and the key-account department, who manage the
    archive; an account manager asks them, or the department links a billing code)."""
    _require(access.may_manage_archive(by))
    account = Account()
    _apply(account, data, ACCOUNT_FIELDS)
    _normalize_credit_code(account)
    _set_categories(account, data.get("categories", []))
    account.search_pinyin = _pinyin_key(account.name, account.name_en)
    _save(account, by)
    return account


@transaction.atomic
def account_update(
    *, by: User, account: Account, data: Mapping[str, Any], version: int | None
) -> Account:
    """Update fields of an account. ``version`` is what the caller read; a stale one is refused."""
    _require(account_access(by, account.pk).can_edit)
    locked = Account.objects.select_for_update().get(pk=account.pk)
    _check_version(locked.version, version)
    before = {f: getattr(locked, f) for f in data if f in ACCOUNT_FIELDS}
    _apply(locked, data, ACCOUNT_FIELDS)
    _normalize_credit_code(locked)
    if "categories" in data:
        _set_categories(locked, data["categories"])
    locked.search_pinyin = _pinyin_key(locked.name, locked.name_en)
    locked.version += 1
    _save(locked, by)
    changes = {
        f: (old, getattr(locked, f)) for f, old in before.items() if old != getattr(locked, f)
    }
    if changes:
        account_changed.send(sender=Account, account=locked, by=by, changes=changes)
    return locked


@transaction.atomic
def account_delete(*, by: User, account: Account) -> None:
    _require(account_access(by, account.pk).can_delete)
    account._history_user = by  # type: ignore[attr-defined]
    try:
        account.delete()
    except ProtectedError as exc:  # records of other apps that must outlive no account
        kinds = sorted({str(o._meta.verbose_name_plural) for o in exc.protected_objects})
        raise ConflictError(
            _(
                "This account cannot be deleted: it has %(records)s, which are kept. "
                "Mark the account as lost instead."
            )
            % {"records": ", ".join(kinds)}
        ) from exc


@transaction.atomic
def billing_code_add(*, by: User, account: Account, code: str, note: str = "") -> BillingCode:
    _require(account_access(by, account.pk).can_edit)
    code = code.strip().upper()
    # Codes are unique across the archive, so look across it: on PostgreSQL past the
    # row-level policies, which hide another team's code (the insert would then fail).
    # billing_code_taken names the account only if the user sees it.
    with rls.bypass():
        existing = BillingCode.objects.filter(code=code).select_related("account").first()
    if existing is not None:
        raise ValidationError(
            {"code": billing_code_taken(by=by, code=code, owner=existing.account)}
        )
    billing = BillingCode(account=account, code=code, note=note)
    _save(billing, by)
    return billing


def billing_code_taken(*, by: User, code: str, owner: Account) -> str:
    """The refusal of a code already linked to ``owner``. Codes are unique across the
    archive, so the refusal itself says the code is taken; it names the account only to
    a user who sees it."""
    if account_list_for(by).filter(pk=owner.pk).exists():
        return _("Billing account code %(code)s already belongs to %(account)s.") % {
            "code": code, "account": owner,
        }  # fmt: skip
    return _(
        "Billing account code %(code)s is already linked to another account. If it should be "
        "this account's, ask the key-account department."
    ) % {"code": code}


@transaction.atomic
def billing_code_remove(*, by: User, billing_code: BillingCode) -> None:
    _require(account_access(by, billing_code.account_id).can_edit)
    billing_code.delete()


# --- corporate groups --------------------------------------------------------------------


@transaction.atomic
def group_create(*, by: User, data: Mapping[str, Any]) -> CorporateGroup:
    _require(access.may_manage_archive(by))
    group = CorporateGroup()
    _apply(group, data, GROUP_FIELDS)
    _save(group, by)
    return group


@transaction.atomic
def group_update(
    *, by: User, group: CorporateGroup, data: Mapping[str, Any], version: int | None
) -> CorporateGroup:
    _require(access.may_manage_archive(by))
    locked = CorporateGroup.objects.select_for_update().get(pk=group.pk)
    _check_version(locked.version, version)
    _apply(locked, data, GROUP_FIELDS)
    locked.version += 1
    _save(locked, by)
    return locked


@transaction.atomic
def group_delete(*, by: User, group: CorporateGroup) -> None:
    _require(access.may_manage_archive(by))
    if group.accounts.exists() or group.children.exists():
        raise ApplicationError(
            _("Only an empty group can be deleted: move its accounts and subgroups first.")
        )
    group._history_user = by  # type: ignore[attr-defined]
    group.delete()


# --- teams -------------------------------------------------------------------------------


@transaction.atomic
def team_member_add(*, by: User | None, account: Account, user: User, role: str) -> TeamMembership:
    """Put a user on an account's team. ``by=None`` is the system (CLI, demo)."""
    if by is not None:
        _require(account_access(by, account.pk).can_manage_team)
    if role not in TeamRole.values:
        raise ValidationError({"role": _("Unknown team role “%(r)s”.") % {"r": role}})
    if not user.is_active or not access.sees_customer_data(user):
        raise ValidationError({"user": _("%(u)s cannot be on an account team.") % {"u": user}})
    if TeamMembership.objects.filter(account=account, user=user).exists():
        raise ValidationError({"user": _("%(u)s is already on this team.") % {"u": user}})
    if (
        role == TeamRole.OWNER
        and TeamMembership.objects.filter(account=account, role=role).exists()
    ):
        raise ValidationError({"role": _("This account already has an owner.")})
    membership = TeamMembership(account=account, user=user, role=role)
    _save(membership, by)
    return membership


@transaction.atomic
def team_member_remove(*, by: User | None, membership: TeamMembership) -> None:
    if by is not None:
        _require(account_access(by, membership.account_id).can_manage_team)
    membership._history_user = by  # type: ignore[attr-defined]
    # Past the row-level policies (PostgreSQL): whoever takes themselves off the team no
    # longer sees the account once the row is gone, and its history row is written after.
    with rls.bypass():
        membership.delete()


# --- contacts ----------------------------------------------------------------------------


def _check_protected(rights: AccountAccess, data: Mapping[str, Any]) -> None:
    hidden = (set(Contact.DETAIL_FIELDS) | set(Contact.PERSONAL_FIELDS)) - set(
        rights.protected_fields
    )
    blocked = sorted(f for f in data if f in hidden)
    if blocked:
        raise PermissionDeniedError(
            _("You may not change these protected fields: %(f)s") % {"f": ", ".join(blocked)}
        )


def _log_personal_edit(by: User, contact: Contact, data: Mapping[str, Any], channel: str) -> None:
    changed = [f for f in data if f in Contact.DETAIL_FIELDS or f in Contact.PERSONAL_FIELDS]
    if changed:
        access_log_record(
            user=by, action=AccessLog.Action.EDIT, channel=channel, subject_type="contact",
            subjects=[(contact.pk, contact.name, contact.account_id)], fields=changed,
        )  # fmt: skip


@transaction.atomic
def contact_create(
    *, by: User, account: Account, data: Mapping[str, Any], channel: str = "web"
) -> Contact:
    rights = account_access(by, account.pk)
    _require(rights.can_edit and rights.sees_contacts)
    _check_protected(rights, data)
    contact = Contact(account=account)
    _apply(contact, data, CONTACT_FIELDS)
    _save(contact, by)
    _log_personal_edit(by, contact, data, channel)
    return contact


@transaction.atomic
def contact_update(
    *, by: User, contact: Contact, data: Mapping[str, Any], version: int | None,
    channel: str = "web", requested_by_person: bool = False, reason: str = "",
) -> Contact:  # fmt: skip
    """Change a contact. ``requested_by_person``: a correction the person asked for (PIPL
    Art. 46); it is marked in the contact's history with ``reason``."""
    rights = account_access(by, contact.account_id)
    _require(rights.can_edit and rights.sees_contacts)
    _check_protected(rights, data)
    locked = Contact.objects.select_for_update().get(pk=contact.pk)
    if locked.erased_at is not None:
        raise ApplicationError(_("This contact was erased; it cannot be edited."))
    _check_version(locked.version, version)
    _apply(locked, data, CONTACT_FIELDS)
    locked.version += 1
    if requested_by_person:
        locked._change_reason = correction_reason(reason)  # type: ignore[attr-defined]
    _save(locked, by)
    _log_personal_edit(by, locked, data, channel)
    return locked


#: How a correction at the person's request is marked in the contact's history.
CORRECTION_MARK = "request:"


def correction_reason(reason: str) -> str:
    """The history's change reason (100 characters at most) for a correction the person
    asked for."""
    return f"{CORRECTION_MARK} {' '.join(reason.split())}".strip()[:100]


def contact_erase(
    *, by: User | None, contact: Contact, channel: str = "web", path: str = ""
) -> Contact:
    """Wipe a person's personal information and name everywhere; keep the business record
    (role, title) under a pseudonym. See :mod:`kam.accounts.privacy.erasure`."""
    return privacy_erasure.contact_erase(by=by, contact=contact, channel=channel, path=path)


def contacts_reveal(
    *, by: User, contacts: list[Contact], fields: Iterable[str], channel: str, path: str = "",
    action: str = AccessLog.Action.VIEW,
) -> None:  # fmt: skip
    """Log that ``by`` is shown these protected fields of these contacts (one row each)."""
    shown = [f for f in fields if f in Contact.DETAIL_FIELDS or f in Contact.PERSONAL_FIELDS]
    live = [c for c in contacts if c.erased_at is None]
    if shown and live:
        access_log_record(
            user=by, action=action, channel=channel, subject_type="contact",
            subjects=[(c.pk, c.name, c.account_id) for c in live], fields=shown, path=path,
        )  # fmt: skip


# --- ties ---------------------------------------------------------------------------------


@transaction.atomic
def contact_tie_create(
    *, by: User, from_contact: Contact, to_contact: Contact, kind: str, note: str = "",
    since: Any = None,
) -> ContactTie:  # fmt: skip
    _require(account_access(by, from_contact.account_id).can_edit)
    if ContactTie.objects.filter(
        from_contact=from_contact, to_contact=to_contact, kind=kind
    ).exists():
        raise ValidationError({"to_contact": _("This tie is already recorded.")})
    tie = ContactTie(from_contact=from_contact, to_contact=to_contact, kind=kind, note=note,
                     since=since)  # fmt: skip
    _save(tie, by)
    return tie


@transaction.atomic
def contact_tie_delete(*, by: User, tie: ContactTie) -> None:
    _require(account_access(by, tie.from_contact.account_id).can_edit)
    tie.delete()


@transaction.atomic
def staff_tie_create(
    *, by: User, contact: Contact, user: User, strength: int, note: str = "", since: Any = None
) -> StaffTie:
    _require(account_access(by, contact.account_id).can_edit)
    if StaffTie.objects.filter(contact=contact, user=user).exists():
        raise ValidationError({"user": _("This tie is already recorded.")})
    tie = StaffTie(contact=contact, user=user, strength=strength, note=note, since=since)
    _save(tie, by)
    return tie


@transaction.atomic
def staff_tie_delete(*, by: User, tie: StaffTie) -> None:
    _require(account_access(by, tie.contact.account_id).can_edit)
    tie.delete()
