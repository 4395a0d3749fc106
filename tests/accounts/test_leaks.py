"""Issue 13: the archive's refusals never name an account the user may not see, and the
archive is managed (accounts created, groups created and deleted) only by the roles
``kam.core.access.may_manage_archive`` names."""

from collections.abc import Callable

import pytest

from kam.accounts.models import Account, BillingCode, CorporateGroup
from kam.core.models import User
from tests.accounts.test_views import page_client, post
from tests.conftest import assert_error
from tests.factories import BillingCodeFactory, GroupFactory

pytestmark = pytest.mark.django_db

TAKEN = "YJ0200001"


@pytest.fixture
def code_of_b(account_b: Account) -> BillingCode:
    return BillingCodeFactory(account=account_b, code=TAKEN)


def _names(account: Account) -> tuple[str, str]:
    return account.name, account.name_en


# --- billing codes ------------------------------------------------------------------------


def test_a_code_of_an_account_the_manager_cannot_see_is_refused_without_its_name(
    api_as: Callable, owner: User, account_a: Account, account_b: Account, code_of_b: BillingCode
) -> None:
    response = api_as(owner).post(f"/accounts/{account_a.pk}/billing-codes", {"code": TAKEN})
    message = assert_error(response, 422, "code")["errors"][0]["message"]
    assert TAKEN in message and "already linked to another account" in message
    assert not any(name in response.content.decode() for name in _names(account_b))
    assert not account_a.billing_codes.filter(code=TAKEN).exists()


def test_a_code_of_a_visible_account_is_refused_with_its_name(
    api_as: Callable, director: User, account_a: Account, account_b: Account,
    code_of_b: BillingCode,
) -> None:  # fmt: skip
    response = api_as(director).post(f"/accounts/{account_a.pk}/billing-codes", {"code": TAKEN})
    message = assert_error(response, 422, "code")["errors"][0]["message"]
    assert message == f"Billing account code {TAKEN} already belongs to {account_b.name_en}."


def test_the_page_refuses_a_foreign_code_without_its_accounts_name(
    owner: User, account_a: Account, account_b: Account, code_of_b: BillingCode
) -> None:
    client = page_client(owner)
    response = post(client, f"/accounts/{account_a.pk}/billing-codes/", {"code": TAKEN})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert f"{TAKEN} is already linked to another account" in page
    assert not any(name in page for name in _names(account_b))
    assert not account_a.billing_codes.filter(code=TAKEN).exists()


# --- managing the archive -------------------------------------------------------------------


def test_a_manager_cannot_create_an_account_through_the_api(
    api_as: Callable, owner: User, department: User
) -> None:
    before = Account.objects.count()
    assert_error(api_as(owner).post("/accounts", {"name": "经理自建客户"}), 403)
    assert Account.objects.count() == before
    response = api_as(department).post("/accounts", {"name": "部门新建客户"})
    assert response.status_code == 201
    assert Account.objects.count() == before + 1


def test_a_manager_gets_no_new_account_page_nor_its_button(owner: User, department: User) -> None:
    client = page_client(owner)
    assert client.get("/accounts/new/").status_code == 404
    assert post(client, "/accounts/new/", {"name": "经理自建客户"}).status_code == 404
    assert not Account.objects.filter(name="经理自建客户").exists()
    assert 'href="/accounts/new/"' not in client.get("/accounts/").content.decode()
    department_client = page_client(department)
    assert 'href="/accounts/new/"' in department_client.get("/accounts/").content.decode()
    assert department_client.get("/accounts/new/").status_code == 200


def test_a_manager_cannot_create_or_delete_groups(
    api_as: Callable, owner: User, director: User
) -> None:
    group = GroupFactory(name="华联集团")
    assert_error(api_as(owner).post("/groups", {"name": "经理自建集团"}), 403)
    assert_error(api_as(owner).delete(f"/groups/{group.pk}"), 403)
    client = page_client(owner)
    assert client.get("/groups/new/").status_code == 404
    assert post(client, f"/groups/{group.pk}/delete/", {}).status_code == 404
    assert list(CorporateGroup.objects.values_list("name", flat=True)) == ["华联集团"]
