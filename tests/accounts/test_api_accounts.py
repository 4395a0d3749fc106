"""/api/v1/accounts: list with filters, create, read, update with versions, delete, access."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kam.accounts import services
from kam.accounts.models import Account, AccountStatus, TeamRole
from kam.core.models import User
from tests.conftest import CSRF_SECRET, JsonClient, assert_error
from tests.factories import (
    AccountFactory,
    BillingCodeFactory,
    GroupFactory,
    TeamMembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def both(account_a: Account, account_b: Account) -> tuple[Account, Account]:
    return account_a, account_b


@pytest.fixture
def as_director(director: User, session_client: Callable) -> JsonClient:
    return session_client(director)


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


# --- list ---------------------------------------------------------------------------------


def test_list_shows_each_account_with_its_owner_and_codes(
    as_director: JsonClient, both: tuple[Account, Account]
) -> None:
    a, b = both
    response = as_director.get("/accounts", {"sort": "tier"})
    body = response.json()
    assert (body["count"], body["page"], body["page_size"]) == (2, 1, 50)
    first = body["items"][0]
    assert first["id"] == a.pk
    assert first["owner"] == "owner"
    assert first["billing_codes"] == ["YJ0591001"]
    assert first["categories"] == ["economic", "strategic"]
    assert (first["province_name"], first["city_name"]) == ("Fujian", "Fuzhou")
    assert first["industry"] == "it_electronics"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "明达"}, "A"),
        ({"q": "91350100M000100Y43"}, "A"),  # credit code
        ({"q": "YJ0591001"}, "A"),  # billing account code
        ({"q": "fjmd"}, "A"),  # pinyin initials of 福建明达
        ({"q": "guangzhou"}, "B"),  # full pinyin
        ({"tier": [1]}, "A"),
        ({"tier": [1, 2]}, "AB"),
        ({"category": ["potential"]}, "B"),
        ({"category": ["economic", "strategic"]}, "A"),
        ({"industry": "apparel"}, "B"),
        ({"province": "350000"}, "A"),
        ({"stage": ["basic"]}, "B"),
        ({"stage": ["basic", "cooperative"]}, "AB"),
        ({"status": "active"}, "AB"),
        ({"status": "lost"}, ""),
    ],
)
def test_list_filters(
    as_director: JsonClient, both: tuple[Account, Account], params: dict, expected: str
) -> None:
    a, b = both
    wanted = [acc.pk for key, acc in (("A", a), ("B", b)) if key in expected]
    assert ids(as_director.get("/accounts", {**params, "sort": "tier"})) == wanted


def test_list_filters_by_owner(
    as_director: JsonClient, both: tuple[Account, Account], colleague: User
) -> None:
    assert ids(as_director.get("/accounts", {"owner": colleague.pk})) == [both[1].pk]


def test_list_filters_by_group(as_director: JsonClient, both: tuple[Account, Account]) -> None:
    group = GroupFactory()
    member = AccountFactory(group=group)
    assert ids(as_director.get("/accounts", {"group": group.pk})) == [member.pk]


def test_pinyin_search_finds_accounts_created_through_the_service(
    as_director: JsonClient, director: User
) -> None:
    account = services.account_create(by=director, data={"name": "杭州顺达冷链物流"})
    assert ids(as_director.get("/accounts", {"q": "hzsd"})) == [account.pk]
    assert ids(as_director.get("/accounts", {"q": "shunda"})) == [account.pk]


@pytest.mark.parametrize(
    ("sort", "key"),
    [("tier", "tier"), ("-tier", "tier"), ("employees", "employees"), ("-employees", "employees")],
)
def test_list_sorts(
    as_director: JsonClient, both: tuple[Account, Account], sort: str, key: str
) -> None:
    AccountFactory(tier=5, employees=5000)
    items = as_director.get("/accounts", {"sort": sort}).json()["items"]
    values = [item[key] for item in items]
    assert values == sorted(values, reverse=sort.startswith("-"))
    assert len(set(values)) == 3


def test_list_paginates(as_director: JsonClient, director: User) -> None:
    for n in range(7):
        AccountFactory(employees=n)
    page3 = as_director.get("/accounts", {"sort": "employees", "page": 3, "page_size": 3}).json()
    assert (page3["count"], page3["page"], page3["page_size"]) == (7, 3, 3)
    assert [item["employees"] for item in page3["items"]] == [6]
    beyond = as_director.get("/accounts", {"page": 9, "page_size": 3}).json()
    assert (beyond["count"], beyond["items"]) == (7, [])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"tier": 9}, "tier"),
        ({"tier": "x"}, "tier"),
        ({"stage": "foo"}, "stage"),
        ({"province": "999999"}, "province"),
        ({"province": "350100"}, "province"),  # a city, not a province
        ({"industry": "nope"}, "industry"),
        ({"sort": "bad"}, "sort"),
        ({"category": "vip"}, "category"),
        ({"status": "gone"}, "status"),
        ({"page": 0}, "page"),
        ({"page_size": 501}, "page_size"),
    ],
)
def test_unknown_filter_values_are_answered_422_naming_the_filter(
    as_director: JsonClient, both: tuple[Account, Account], params: dict, field: str
) -> None:
    assert_error(as_director.get("/accounts", params), 422, field)


@pytest.mark.parametrize("persona", ["owner", "service_rep"])
def test_team_members_list_only_their_accounts(
    persona: str, both: tuple[Account, Account], session_client: Callable, request: Any
) -> None:
    client = session_client(request.getfixturevalue(persona))
    assert ids(client.get("/accounts")) == [both[0].pk]


@pytest.mark.parametrize("persona", ["outsider", "admin"])
def test_users_on_no_team_list_nothing(
    persona: str, both: tuple[Account, Account], session_client: Callable, request: Any
) -> None:
    client = session_client(request.getfixturevalue(persona))
    body = client.get("/accounts", {"q": "明达"}).json()
    assert (body["count"], body["items"]) == (0, [])


def test_the_account_list_takes_the_same_number_of_queries_for_5_and_30_rows(
    as_director: JsonClient, director: User
) -> None:
    group = GroupFactory()

    def add_accounts(n: int) -> None:
        for _ in range(n):
            account = AccountFactory(group=group)
            TeamMembershipFactory(account=account, role=TeamRole.OWNER)
            TeamMembershipFactory(account=account, role=TeamRole.SERVICE_REP)
            BillingCodeFactory(account=account)
            BillingCodeFactory(account=account)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = as_director.get("/accounts", {"page_size": 100})
        assert response.status_code == 200
        return len(queries)

    add_accounts(5)
    five = count_queries()
    add_accounts(25)
    thirty = count_queries()
    assert as_director.get("/accounts").json()["count"] == 30
    assert thirty == five


# --- create, read, update, delete ----------------------------------------------------------


def test_create_answers_201_and_stores_the_account(as_director: JsonClient, director: User) -> None:
    group = GroupFactory()
    response = as_director.post(
        "/accounts",
        {"name": "泉州华丰鞋业有限公司", "credit_code": "9135 0100 m000 100y 43", "tier": 2,
         "industry": "apparel", "categories": ["economic", "group"], "province_code": "350000",
         "city_code": "350500", "group_id": group.pk, "annual_output_value": "123456789.50",
         "inhouse_logistics_share": "12.5"},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    account = Account.objects.get(pk=body["id"])
    assert body["version"] == 1
    assert body["credit_code"] == account.credit_code == "91350100M000100Y43"
    assert body["categories"] == ["economic", "group"]
    assert body["city_name"] == "Quanzhou"
    assert body["group_id"] == group.pk
    assert str(account.annual_output_value) == "123456789.50"
    assert account.history.get().history_user == director


def test_an_account_manager_may_not_create_an_account(
    outsider: User, token_client: Callable
) -> None:
    # Only directors and the department manage the archive (access.may_manage_archive).
    assert_error(token_client(outsider).post("/accounts", {"name": "自建客户"}), 403)
    assert not Account.objects.filter(name="自建客户").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tier": "x"}, "tier"),
        ({"tier": 6}, "tier"),
        ({"employees": -1}, "employees"),
        ({"employees": "many"}, "employees"),
        ({"categories": ["nope"]}, "categories"),
        ({"categories": "economic"}, "categories"),
        ({"stage": "married"}, "stage"),
        ({"annual_output_value": "-1"}, "annual_output_value"),
        ({"inhouse_logistics_share": 150}, "inhouse_logistics_share"),
        ({"notes": "备" * 4001}, "notes"),
        ({"credit_code": "91350100M000100Y44"}, "credit_code"),
        ({"credit_code": "91350100M000100Y43"}, "credit_code"),  # account_a has it
        ({"province_code": "990000"}, "province_code"),
        ({"province_code": "350000", "city_code": "440300"}, "city_code"),
        ({"industry": "nope"}, "industry"),
        ({"group_id": 987654}, "group_id"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
    ],
)
def test_bad_values_in_the_body_are_answered_422_and_nothing_is_created(
    as_director: JsonClient, account_a: Account, body: dict, field: str
) -> None:
    before = Account.objects.count()
    response = as_director.post("/accounts", {"name": "坏数据公司", **body})
    assert_error(response, 422, field)
    assert Account.objects.count() == before


def test_a_body_that_is_not_json_is_answered_400(as_director: JsonClient) -> None:
    response = as_director.client.post(
        "/api/v1/accounts", "{not json", content_type="application/json",
        headers={"X-CSRFToken": CSRF_SECRET},
    )  # fmt: skip
    assert_error(response, 400)
    assert not Account.objects.exists()


@pytest.mark.parametrize("persona", ["analyst", "service_rep", "admin"])
def test_roles_that_do_not_edit_cannot_create_accounts(
    persona: str, session_client: Callable, request: Any
) -> None:
    client = session_client(request.getfixturevalue(persona))
    assert_error(client.post("/accounts", {"name": "不该存在"}), 403)
    assert not Account.objects.exists()


@pytest.mark.parametrize("persona", ["director", "department", "owner", "service_rep", "analyst"])
def test_everyone_who_may_see_account_a_reads_it(
    persona: str, account_a: Account, session_client: Callable, request: Any
) -> None:
    response = session_client(request.getfixturevalue(persona)).get(f"/accounts/{account_a.pk}")
    assert response.status_code == 200
    assert response.json()["name"] == "福建明达电子有限公司"


def test_patch_with_the_current_version_updates_and_bumps_the_version(
    account_a: Account, owner: User, api_as: Callable
) -> None:
    response = api_as(owner).patch(
        f"/accounts/{account_a.pk}", {"version": 1, "tier": 2, "categories": ["important"]}
    )
    assert response.status_code == 200, response.content
    assert (response.json()["version"], response.json()["tier"]) == (2, 2)
    account_a.refresh_from_db()
    assert (account_a.version, account_a.tier, account_a.categories) == (2, 2, ["important"])
    assert account_a.name == "福建明达电子有限公司"  # fields not sent are kept


def test_patch_with_a_stale_version_is_answered_409_and_nothing_changes(
    account_a: Account, owner: User, director: User, session_client: Callable
) -> None:
    session_client(director).patch(f"/accounts/{account_a.pk}", {"version": 1, "tier": 2})
    response = session_client(owner).patch(
        f"/accounts/{account_a.pk}", {"version": 1, "tier": 5, "notes": "我的修改"}
    )
    assert_error(response, 409)
    account_a.refresh_from_db()
    assert (account_a.version, account_a.tier, account_a.notes) == (2, 2, "")


def test_patch_without_a_version_is_answered_422(account_a: Account, owner: User,
                                                 session_client: Callable) -> None:  # fmt: skip
    assert_error(session_client(owner).patch(f"/accounts/{account_a.pk}", {"tier": 2}), 422,
                 "version")  # fmt: skip
    account_a.refresh_from_db()
    assert account_a.tier == 1


def test_patch_with_bad_values_changes_nothing(account_a: Account, owner: User,
                                               session_client: Callable) -> None:  # fmt: skip
    response = session_client(owner).patch(
        f"/accounts/{account_a.pk}", {"version": 1, "tier": 2, "city_code": "440300"}
    )
    assert_error(response, 422, "city_code")
    account_a.refresh_from_db()
    assert (account_a.version, account_a.tier, account_a.city_code) == (1, 1, "350100")


@pytest.mark.parametrize("persona", ["service_rep", "analyst"])
def test_patch_by_a_role_that_may_not_edit_is_answered_403(
    persona: str, account_a: Account, session_client: Callable, request: Any
) -> None:
    response = session_client(request.getfixturevalue(persona)).patch(
        f"/accounts/{account_a.pk}", {"version": 1, "tier": 5}
    )
    assert_error(response, 403)
    account_a.refresh_from_db()
    assert (account_a.tier, account_a.version) == (1, 1)


def test_delete_by_a_director_answers_204(
    account_a: Account, director: User, api_as: Callable
) -> None:
    response = api_as(director).delete(f"/accounts/{account_a.pk}")
    assert response.status_code == 204
    assert not Account.objects.filter(pk=account_a.pk).exists()


@pytest.mark.parametrize("persona", ["owner", "department"])
def test_delete_by_anyone_but_a_director_is_answered_403(
    persona: str, account_a: Account, session_client: Callable, request: Any
) -> None:
    response = session_client(request.getfixturevalue(persona)).delete(f"/accounts/{account_a.pk}")
    assert_error(response, 403)
    assert Account.objects.filter(pk=account_a.pk).exists()


# --- the outsider gets 404 -----------------------------------------------------------------


@pytest.mark.parametrize("persona", ["outsider", "colleague", "admin"])
def test_an_account_outside_reach_is_answered_404_to_read_patch_and_delete(
    persona: str, account_a: Account, api_as: Callable, request: Any
) -> None:
    client = api_as(request.getfixturevalue(persona))
    path = f"/accounts/{account_a.pk}"
    assert_error(client.get(path), 404)
    assert_error(client.patch(path, {"version": 1, "tier": 5}), 404)
    assert_error(client.delete(path), 404)
    assert_error(client.get(f"{path}/team"), 404)
    assert_error(client.post(f"{path}/billing-codes", {"code": "YJ999"}), 404)
    account_a.refresh_from_db()
    assert (account_a.tier, account_a.version) == (1, 1)
    assert list(account_a.billing_codes.values_list("code", flat=True)) == ["YJ0591001"]


def test_an_account_that_does_not_exist_is_answered_404_like_a_hidden_one(
    as_director: JsonClient,
) -> None:
    body = assert_error(as_director.get("/accounts/987654"), 404)
    assert body["detail"] == "Not found."


def test_unauthenticated_requests_are_answered_401(anon: JsonClient, account_a: Account) -> None:
    assert_error(anon.get("/accounts"), 401)
    assert_error(anon.get(f"/accounts/{account_a.pk}"), 401)
    assert_error(anon.post("/accounts", {"name": "匿名"}), 401)
    assert_error(anon.delete(f"/accounts/{account_a.pk}"), 401)
    assert Account.objects.count() == 1


# --- billing codes -------------------------------------------------------------------------


def test_the_owner_adds_and_removes_billing_codes(
    account_a: Account, owner: User, session_client: Callable
) -> None:
    client = session_client(owner)
    response = client.post(f"/accounts/{account_a.pk}/billing-codes", {"code": "yj0591002"})
    assert response.status_code == 201
    assert response.json()["billing_codes"] == ["YJ0591001", "YJ0591002"]
    assert client.delete(f"/accounts/{account_a.pk}/billing-codes/yj0591001").status_code == 204
    assert list(account_a.billing_codes.values_list("code", flat=True)) == ["YJ0591002"]


def test_a_billing_code_of_another_account_is_answered_422(
    account_a: Account, account_b: Account, director: User, session_client: Callable
) -> None:
    response = session_client(director).post(
        f"/accounts/{account_b.pk}/billing-codes", {"code": "YJ0591001"}
    )
    assert_error(response, 422, "code")
    assert not account_b.billing_codes.exists()


def test_a_lost_account_is_still_listed_under_its_status(
    as_director: JsonClient, director: User
) -> None:
    lost = AccountFactory(status=AccountStatus.LOST)
    assert ids(as_director.get("/accounts", {"status": "lost"})) == [lost.pk]


def test_an_inactive_users_session_is_answered_401(
    account_a: Account, session_client: Callable
) -> None:
    user = UserFactory(role="director")
    client = session_client(user)
    user.is_active = False
    user.save()
    assert_error(client.get(f"/accounts/{account_a.pk}"), 401)


def test_a_credit_code_another_team_holds_is_refused_as_taken_without_naming_the_account(
    api_as: Any, owner: User, account_a: Account, account_b: Account
) -> None:
    """On PostgreSQL the owner cannot read account B: the uniqueness check must still see
    it (not fail later as a 'someone saved a moment ago' conflict), and say nothing of B."""
    from tests.factories import credit_code

    account_b.credit_code = credit_code(4401)
    account_b.save()
    response = api_as(owner).patch(
        f"/accounts/{account_a.pk}",
        {"credit_code": account_b.credit_code, "version": account_a.version},
    )
    body = assert_error(response, 422, "credit_code")
    assert account_b.name not in response.content.decode()
    assert "already exists" in body["errors"][0]["message"]
    account_a.refresh_from_db()
    assert account_a.credit_code == "91350100M000100Y43"
