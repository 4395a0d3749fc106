"""The archive's write services: history, optimistic concurrency, refusals that change nothing."""

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from kam.accounts import services
from kam.accounts.models import (
    Account,
    BillingCode,
    BuyingRole,
    Contact,
    ContactTie,
    CorporateGroup,
    StaffTie,
    TeamMembership,
    TeamRole,
)
from kam.core.errors import ApplicationError, ConflictError, PermissionDeniedError
from kam.core.models import AccessLog, User
from tests.factories import (
    AccountFactory,
    ContactFactory,
    ContactTieFactory,
    GroupFactory,
    IndustryFactory,
    StaffTieFactory,
    credit_code,
)

pytestmark = pytest.mark.django_db


def table_counts() -> dict[str, int]:
    """Rows in every archive table and its history, to show that a refusal changed nothing."""
    models: list[Any] = [Account, BillingCode, Contact, ContactTie, CorporateGroup, StaffTie,
                         TeamMembership, AccessLog]  # fmt: skip
    counts = {m.__name__: m.objects.count() for m in models}
    for m in (Account, Contact, CorporateGroup, TeamMembership):
        counts[f"{m.__name__}.history"] = m.history.count()
    return counts


def field_errors(exc: ValidationError) -> set[str]:
    return set(exc.message_dict)


# --- accounts -----------------------------------------------------------------------------


def test_account_create_records_history_naming_the_user(director: User) -> None:
    account = services.account_create(
        by=director,
        data={"name": "厦门海翔物流有限公司", "credit_code": credit_code(4242), "tier": 2,
              "industry": IndustryFactory(code="ecommerce"), "categories": ["strategic"]},
    )  # fmt: skip
    account.refresh_from_db()
    assert account.is_strategic and not account.is_economic
    assert account.search_pinyin.startswith("xmhxwlyxgs")
    created = account.history.get()
    assert created.history_type == "+"
    assert created.history_user == director
    # Directors manage the archive; they do not become the owner of what they create.
    assert not account.team.exists()


def test_the_department_creates_accounts_without_joining_their_team(department: User) -> None:
    account = services.account_create(by=department, data={"name": "新客户"})
    assert account.history.get().history_user == department
    assert not account.team.exists()


def test_a_credit_code_typed_with_spaces_is_stored_normalized(director: User) -> None:
    account = services.account_create(
        by=director, data={"name": "空格公司", "credit_code": "9135 0100 m000 100y 43"}
    )
    account.refresh_from_db()
    assert account.credit_code == "91350100M000100Y43"


# Only those who manage the archive create accounts (kam.core.access.may_manage_archive):
# an account manager edits the accounts of their teams but asks for a new one.
@pytest.mark.parametrize("role", ["owner", "outsider", "analyst", "service_rep", "admin"])
def test_roles_that_do_not_manage_the_archive_cannot_create_accounts(
    role: str, request: Any
) -> None:
    user = request.getfixturevalue(role)
    before = table_counts()
    with pytest.raises(PermissionDeniedError):
        services.account_create(by=user, data={"name": "不该存在"})
    assert table_counts() == before


def test_account_update_bumps_the_version_and_records_who_changed_what(
    account_a: Account, owner: User
) -> None:
    updated = services.account_update(
        by=owner, account=account_a, data={"tier": 2, "notes": "年框续签"}, version=1
    )
    assert updated.version == 2
    account_a.refresh_from_db()
    assert (account_a.tier, account_a.notes, account_a.version) == (2, "年框续签", 2)
    latest, previous = account_a.history.all()[:2]
    assert latest.history_type == "~"
    assert latest.history_user == owner
    changed = {c.field: (c.old, c.new) for c in latest.diff_against(previous).changes}
    assert changed == {"tier": (1, 2), "notes": ("", "年框续签")}


def test_a_stale_version_is_refused_and_nothing_is_overwritten(
    account_a: Account, owner: User, director: User
) -> None:
    services.account_update(by=director, account=account_a, data={"tier": 2}, version=1)
    before = table_counts()
    with pytest.raises(ConflictError):
        services.account_update(
            by=owner, account=account_a, data={"tier": 5, "notes": "覆盖"}, version=1
        )
    account_a.refresh_from_db()
    assert (account_a.tier, account_a.notes, account_a.version) == (2, "", 2)
    assert table_counts() == before


def test_account_delete_by_a_director_records_who_deleted(
    account_a: Account, director: User
) -> None:
    pk = account_a.pk
    services.account_delete(by=director, account=account_a)
    assert not Account.objects.filter(pk=pk).exists()
    deleted = Account.history.filter(id=pk).first()
    assert deleted.history_type == "-"
    assert deleted.history_user == director


def test_an_account_manager_cannot_delete_even_their_own_account(
    account_a: Account, owner: User
) -> None:
    before = table_counts()
    with pytest.raises(PermissionDeniedError):
        services.account_delete(by=owner, account=account_a)
    assert table_counts() == before


def test_an_account_manager_cannot_update_an_account_outside_their_teams(
    account_a: Account, outsider: User
) -> None:
    with pytest.raises(PermissionDeniedError):
        services.account_update(by=outsider, account=account_a, data={"tier": 5}, version=1)
    account_a.refresh_from_db()
    assert account_a.tier == 1


INVALID_ACCOUNT_DATA = [
    pytest.param({"credit_code": "91350100M000100Y44"}, "credit_code", id="wrong-check-char"),
    pytest.param({"credit_code": "9135010"}, "credit_code", id="short-code"),
    pytest.param({"credit_code": "91350100O000100Y43"}, "credit_code", id="letter-O"),
    pytest.param({"province_code": "990000"}, "province_code", id="unknown-province"),
    pytest.param({"province_code": "350100"}, "province_code", id="city-as-province"),
    pytest.param({"city_code": "999900"}, "city_code", id="unknown-city"),
    pytest.param(
        {"province_code": "350000", "city_code": "440300"}, "city_code", id="city-not-in-province"
    ),  # fmt: skip
    pytest.param({"notes": "备" * 4001}, "notes", id="notes-4001-chars"),
    pytest.param({"name": "名" * 201}, "name", id="name-too-long"),
    pytest.param({"categories": ["vip"]}, "categories", id="unknown-category"),
    pytest.param({"inhouse_logistics_share": 101}, "inhouse_logistics_share", id="share-over-100"),
    pytest.param({"version": 7}, "version", id="field-not-settable"),
]


@pytest.mark.parametrize(("data", "field"), INVALID_ACCOUNT_DATA)
def test_account_create_refuses_bad_input_naming_the_field(
    director: User, account_a: Account, data: dict, field: str
) -> None:
    before = table_counts()
    with pytest.raises(ValidationError) as caught:
        services.account_create(by=director, data={"name": "坏数据公司", **data})
    assert field in field_errors(caught.value)
    assert table_counts() == before


@pytest.mark.parametrize(("data", "field"), INVALID_ACCOUNT_DATA)
def test_account_update_refuses_bad_input_and_keeps_the_stored_values(
    director: User, account_a: Account, data: dict, field: str
) -> None:
    stored = Account.objects.values().get(pk=account_a.pk)
    before = table_counts()
    with pytest.raises(ValidationError) as caught:
        services.account_update(by=director, account=account_a, data=data, version=1)
    assert field in field_errors(caught.value)
    assert Account.objects.values().get(pk=account_a.pk) == stored
    assert table_counts() == before


def test_notes_of_exactly_4000_characters_are_accepted(director: User) -> None:
    account = services.account_create(by=director, data={"name": "长备注", "notes": "备" * 4000})
    account.refresh_from_db()
    assert len(account.notes) == 4000


def test_a_duplicate_credit_code_is_refused_naming_the_field(
    director: User, account_a: Account, account_b: Account
) -> None:
    before = table_counts()
    with pytest.raises(ValidationError) as caught:
        data = {"name": "冒名公司", "credit_code": account_a.credit_code}
        services.account_create(by=director, data=data)
    assert field_errors(caught.value) == {"credit_code"}
    with pytest.raises(ValidationError) as caught:
        services.account_update(by=director, account=account_b,
                                data={"credit_code": account_a.credit_code}, version=1)  # fmt: skip
    assert field_errors(caught.value) == {"credit_code"}
    assert table_counts() == before
    account_b.refresh_from_db()
    assert account_b.credit_code != account_a.credit_code


def test_a_billing_code_belongs_to_one_account_only(
    director: User, account_a: Account, account_b: Account
) -> None:
    before = table_counts()
    with pytest.raises(ValidationError) as caught:
        services.billing_code_add(by=director, account=account_b, code="yj0591001")
    assert field_errors(caught.value) == {"code"}
    assert table_counts() == before


# --- corporate groups ---------------------------------------------------------------------


def test_a_group_cannot_be_nested_directly_in_itself(director: User) -> None:
    group = GroupFactory()
    before = table_counts()
    with pytest.raises(ValidationError) as caught:
        services.group_update(by=director, group=group, data={"parent": group}, version=1)
    assert field_errors(caught.value) == {"parent"}
    group.refresh_from_db()
    assert (group.parent_id, group.version) == (None, 1)
    assert table_counts() == before


def test_a_group_cannot_be_nested_in_its_own_descendant(director: User) -> None:
    top = GroupFactory(name="顶层集团")
    middle = GroupFactory(name="中间集团", parent=top)
    bottom = GroupFactory(name="底层集团", parent=middle)
    before = table_counts()
    with pytest.raises(ValidationError) as caught:
        services.group_update(by=director, group=top, data={"parent": bottom}, version=1)
    assert field_errors(caught.value) == {"parent"}
    top.refresh_from_db()
    assert top.parent_id is None
    assert table_counts() == before


def test_only_an_empty_group_can_be_deleted(director: User) -> None:
    parent = GroupFactory()
    child = GroupFactory(parent=parent)
    AccountFactory(group=child)
    with pytest.raises(ApplicationError):
        services.group_delete(by=director, group=parent)
    with pytest.raises(ApplicationError):
        services.group_delete(by=director, group=child)
    assert CorporateGroup.objects.count() == 2


def test_account_managers_cannot_create_groups(owner: User) -> None:
    with pytest.raises(PermissionDeniedError):
        services.group_create(by=owner, data={"name": "经理的集团"})
    assert not CorporateGroup.objects.exists()


# --- teams --------------------------------------------------------------------------------


def test_a_system_administrator_cannot_join_an_account_team(
    account_a: Account, director: User, admin: User
) -> None:
    with pytest.raises(ValidationError) as caught:
        services.team_member_add(by=director, account=account_a, user=admin, role="co_owner")
    assert field_errors(caught.value) == {"user"}
    assert not account_a.team.filter(user=admin).exists()


def test_an_account_has_one_owner(account_a: Account, director: User, outsider: User) -> None:
    with pytest.raises(ValidationError) as caught:
        services.team_member_add(by=director, account=account_a, user=outsider, role="owner")
    assert field_errors(caught.value) == {"role"}
    assert account_a.team.count() == 2


def test_the_owner_manages_the_team_and_history_names_them(
    account_a: Account, owner: User, outsider: User
) -> None:
    membership = services.team_member_add(
        by=owner, account=account_a, user=outsider, role=TeamRole.CO_OWNER
    )
    pk = membership.pk
    assert membership.history.get().history_user == owner
    services.team_member_remove(by=owner, membership=membership)
    assert not account_a.team.filter(user=outsider).exists()
    removed = TeamMembership.history.get(id=pk, history_type="-")
    assert removed.history_user == owner


def test_a_service_rep_cannot_change_the_team(
    account_a: Account, service_rep: User, outsider: User
) -> None:
    with pytest.raises(PermissionDeniedError):
        services.team_member_add(by=service_rep, account=account_a, user=outsider, role="co_owner")
    assert account_a.team.count() == 2


# --- contacts -----------------------------------------------------------------------------


def test_contact_create_logs_the_personal_fields_written(account_a: Account, owner: User) -> None:
    contact = services.contact_create(
        by=owner, account=account_a, data={"name": "周敏", "hobbies": "马拉松", "title": "采购经理"}
    )
    contact.refresh_from_db()
    assert contact.hobbies == "马拉松"
    log = AccessLog.objects.get()
    assert (log.action, log.user, log.subject_id, log.fields) == (
        AccessLog.Action.EDIT, owner, contact.pk, ["hobbies"],
    )  # fmt: skip


def test_a_service_rep_cannot_write_personal_information(
    account_a: Account, service_rep: User, contact_a: Contact
) -> None:
    with pytest.raises(PermissionDeniedError):
        services.contact_update(
            by=service_rep, contact=contact_a, data={"hobbies": "篮球"}, version=1
        )
    contact_a.refresh_from_db()
    assert contact_a.hobbies == "围棋与茶道"


def test_a_contact_cannot_report_to_itself(owner: User, contact_a: Contact) -> None:
    before = table_counts()
    with pytest.raises(ValidationError) as caught:
        services.contact_update(by=owner, contact=contact_a, data={"reports_to": contact_a},
                                version=1)  # fmt: skip
    assert field_errors(caught.value) == {"reports_to"}
    contact_a.refresh_from_db()
    assert (contact_a.reports_to_id, contact_a.version) == (None, 1)
    assert table_counts() == before


def test_a_reporting_cycle_is_refused(owner: User, account_a: Account) -> None:
    a = ContactFactory(account=account_a, name="甲")
    b = ContactFactory(account=account_a, name="乙", reports_to=a)
    c = ContactFactory(account=account_a, name="丙", reports_to=b)
    before = table_counts()
    with pytest.raises(ValidationError) as caught:
        services.contact_update(by=owner, contact=a, data={"reports_to": c}, version=1)
    assert field_errors(caught.value) == {"reports_to"}
    a.refresh_from_db()
    assert a.reports_to_id is None
    assert table_counts() == before


def test_the_manager_must_work_at_the_same_account(
    owner: User, director: User, contact_a: Contact, contact_b: Contact
) -> None:
    before = table_counts()
    with pytest.raises(ValidationError) as caught:
        services.contact_update(by=director, contact=contact_a, data={"reports_to": contact_b},
                                version=1)  # fmt: skip
    assert field_errors(caught.value) == {"reports_to"}
    with pytest.raises(ValidationError):
        services.contact_create(by=owner, account=contact_a.account,
                                data={"name": "新人", "reports_to": contact_b})  # fmt: skip
    contact_a.refresh_from_db()
    assert contact_a.reports_to_id is None
    assert table_counts() == before


def test_a_contact_cannot_be_tied_to_themself(owner: User, contact_a: Contact) -> None:
    before = table_counts()
    with pytest.raises(ValidationError) as caught:
        services.contact_tie_create(by=owner, from_contact=contact_a, to_contact=contact_a,
                                    kind="friend")  # fmt: skip
    assert field_errors(caught.value) == {"to_contact"}
    assert table_counts() == before


def test_a_stale_contact_update_is_refused(owner: User, director: User, contact_a: Contact) -> None:
    services.contact_update(by=director, contact=contact_a, data={"title": "总裁"}, version=1)
    with pytest.raises(ConflictError):
        services.contact_update(by=owner, contact=contact_a, data={"title": "经理"}, version=1)
    contact_a.refresh_from_db()
    assert (contact_a.title, contact_a.version) == ("总裁", 2)


# --- erasure ------------------------------------------------------------------------------


@pytest.fixture
def erased(owner: User, contact_a: Contact, account_a: Account) -> tuple[Contact, str]:
    """contact_a with ties both ways and a staff tie, erased by the owner (in English)."""
    other = ContactFactory(account=account_a, name="郑凯")
    ContactTieFactory(from_contact=contact_a, to_contact=other, kind="friend")
    ContactTieFactory(from_contact=other, to_contact=contact_a, kind="colleague")
    StaffTieFactory(contact=contact_a, user=owner)
    contact_a.buying_role = BuyingRole.ECONOMIC_BUYER
    contact_a.last_contacted = datetime.date(2026, 1, 5)
    contact_a.save()
    old_name = contact_a.name
    with translation.override("en"):
        services.contact_erase(by=owner, contact=contact_a)
    contact_a.refresh_from_db()
    return contact_a, old_name


def test_erasure_wipes_personal_fields_and_name_but_keeps_the_business_record(
    erased: tuple[Contact, str],
) -> None:
    contact, old_name = erased
    # The pseudonym is in the product's language, whoever erased (here in English).
    with translation.override("zh-hans"):
        assert contact.name == translation.gettext("Erased contact #%(id)d") % {"id": contact.pk}
    assert contact.name.endswith(f"#{contact.pk}") and old_name not in contact.name
    for field in (*Contact.DETAIL_FIELDS, *Contact.PERSONAL_FIELDS):
        assert getattr(contact, field) in ("", None), field
    assert contact.last_contacted is None
    assert contact.erased_at is not None
    assert (contact.title, contact.buying_role) == ("供应链副总裁", BuyingRole.ECONOMIC_BUYER)


def test_erasure_removes_ties_and_staff_ties(erased: tuple[Contact, str]) -> None:
    contact, _ = erased
    assert not ContactTie.objects.filter(from_contact=contact).exists()
    assert not ContactTie.objects.filter(to_contact=contact).exists()
    assert not StaffTie.objects.filter(contact=contact).exists()


def test_erasure_is_written_to_the_access_log(erased: tuple[Contact, str], owner: User) -> None:
    contact, _ = erased
    log = AccessLog.objects.get(action=AccessLog.Action.ERASE)
    assert (log.user, log.subject_type, log.subject_id, log.account_id) == (
        owner, "contact", contact.pk, contact.account_id,
    )  # fmt: skip
    assert {"name", "phone_mobile", "hobbies", "birthday"} <= set(log.fields)


def test_erasure_leaves_no_name_in_the_history(erased: tuple[Contact, str]) -> None:
    contact, old_name = erased
    names = set(Contact.history.filter(id=contact.pk).values_list("name", flat=True))
    assert names == {contact.name}
    assert old_name not in names


def test_an_erased_contact_cannot_be_edited_or_erased_again(
    erased: tuple[Contact, str], owner: User
) -> None:
    contact, _ = erased
    with pytest.raises(ApplicationError):
        services.contact_update(by=owner, contact=contact, data={"title": "x"}, version=None)
    with pytest.raises(ApplicationError):
        services.contact_erase(by=owner, contact=contact)
    assert AccessLog.objects.filter(action=AccessLog.Action.ERASE).count() == 1


def test_a_service_rep_cannot_erase_a_contact(service_rep: User, contact_a: Contact) -> None:
    with pytest.raises(PermissionDeniedError):
        services.contact_erase(by=service_rep, contact=contact_a)
    contact_a.refresh_from_db()
    assert contact_a.erased_at is None
    assert contact_a.hobbies == "围棋与茶道"


def test_a_save_race_is_a_conflict_without_the_databases_words(
    director: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """full_clean() passed, then the database refused (another writer won the race)."""
    from django.db import IntegrityError

    group = GroupFactory(name="甲集团")

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise IntegrityError("UNIQUE constraint failed: accounts_corporategroup.name")

    monkeypatch.setattr(CorporateGroup, "save", refuse)
    with translation.override("en"), pytest.raises(ConflictError) as caught:
        services.group_update(by=director, group=group, data={"name": "乙集团"}, version=1)
    assert "Nothing was changed" in str(caught.value)
    assert "UNIQUE" not in str(caught.value) and "accounts_" not in str(caught.value)
