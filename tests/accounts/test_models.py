"""Invariants of the archive's models: clean() rules and database constraints."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from kam.accounts.models import (
    Account,
    Category,
    Contact,
    ContactTie,
    CorporateGroup,
    TeamMembership,
    TeamRole,
)
from tests.factories import (
    AccountFactory,
    ContactFactory,
    GroupFactory,
    TeamMembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_clean_upper_cases_a_typed_credit_code() -> None:
    account = Account(name="某公司", credit_code="91350100m000100y43")
    account.full_clean()
    assert account.credit_code == "91350100M000100Y43"


def test_clean_stores_a_blank_credit_code_as_null_so_unknown_codes_do_not_collide() -> None:
    AccountFactory(credit_code=None)
    account = Account(name="另一家公司", credit_code="")
    account.full_clean()
    account.save()
    assert Account.objects.filter(credit_code__isnull=True).count() == 2


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91350100M000100Y4", "18 characters"),
        ("91350100I000100Y43", "except I, O, Z, S, V"),
        ("91350100M000100Y44", "check character"),
    ],
)
def test_clean_names_the_credit_code_and_the_reason(code: str, message: str) -> None:
    with translation.override("en"):  # the messages are lazy: read them in English too
        with pytest.raises(ValidationError) as caught:
            Account(name="某公司", credit_code=code).full_clean()
        assert list(caught.value.message_dict) == ["credit_code"]
        assert message in caught.value.message_dict["credit_code"][0]


def test_clean_fills_the_province_from_the_city() -> None:
    account = Account(name="某公司", city_code="440300")
    account.full_clean()
    assert account.province_code == "440000"


def test_categories_lists_every_flag_that_holds() -> None:
    account = AccountFactory.build(is_economic=True, is_group=True, is_potential=False)
    assert account.categories == [Category.ECONOMIC, Category.GROUP]


def test_the_database_refuses_a_tier_outside_one_to_five() -> None:
    account = AccountFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(tier=6)


def test_the_database_refuses_a_second_owner() -> None:
    account = AccountFactory()
    TeamMembershipFactory(account=account, role=TeamRole.OWNER)
    with pytest.raises(IntegrityError), transaction.atomic():
        TeamMembership.objects.create(account=account, user=UserFactory(), role=TeamRole.OWNER)
    assert account.team.count() == 1


def test_the_database_refuses_a_tie_from_a_contact_to_itself() -> None:
    contact = ContactFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactTie.objects.create(from_contact=contact, to_contact=contact, kind="friend")


def test_the_database_refuses_scores_outside_one_to_five() -> None:
    contact = ContactFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.filter(pk=contact.pk).update(trust=9)


def test_a_group_cannot_have_itself_as_parent() -> None:
    group = GroupFactory()
    group.parent = group
    with pytest.raises(ValidationError) as caught:
        group.full_clean()
    assert "parent" in caught.value.message_dict


def test_contact_history_has_no_column_for_protected_fields() -> None:
    history_columns = {f.name for f in Contact.history.model._meta.get_fields()}
    protected = set(Contact.DETAIL_FIELDS) | set(Contact.PERSONAL_FIELDS)
    assert "name" in history_columns
    assert history_columns.isdisjoint(protected)


def test_account_and_group_keep_field_history() -> None:
    account = AccountFactory()
    group = GroupFactory()
    assert account.history.count() == 1
    assert CorporateGroup.history.filter(id=group.pk).count() == 1
