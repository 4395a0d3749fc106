"""/api/v1/groups: corporate groups, their nesting and who may change them."""

from collections.abc import Callable
from typing import Any

import pytest

from kam.accounts.models import CorporateGroup
from kam.core.models import User
from tests.conftest import JsonClient, assert_error
from tests.factories import AccountFactory, GroupFactory, TeamMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_director(director: User, session_client: Callable) -> JsonClient:
    return session_client(director)


def test_create_read_update_and_delete_a_group(as_director: JsonClient, director: User) -> None:
    parent = GroupFactory(name="中国远洋集团")
    created = as_director.post("/groups", {"name": "远洋物流集团", "parent_id": parent.pk})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["parent_id"], body["version"], body["account_count"]) == (parent.pk, 1, 0)
    group = CorporateGroup.objects.get(pk=body["id"])
    assert group.history.get().history_user == director

    read = as_director.get(f"/groups/{group.pk}").json()
    assert read["name"] == "远洋物流集团"

    updated = as_director.patch(f"/groups/{group.pk}", {"version": 1, "name_en": "COSCO Logistics"})
    assert updated.status_code == 200
    assert (updated.json()["name_en"], updated.json()["version"]) == ("COSCO Logistics", 2)

    assert as_director.delete(f"/groups/{group.pk}").status_code == 204
    assert not CorporateGroup.objects.filter(pk=group.pk).exists()


def test_the_list_counts_accounts_and_subgroups(as_director: JsonClient) -> None:
    parent = GroupFactory(name="甲集团")
    GroupFactory(name="乙集团", parent=parent)
    AccountFactory.create_batch(3, group=parent)
    body = as_director.get("/groups", {"q": "甲"}).json()
    assert body["count"] == 1
    assert (body["items"][0]["account_count"], body["items"][0]["child_count"]) == (3, 1)


def test_a_manager_counts_only_the_accounts_they_may_see(session_client: Callable) -> None:
    manager = UserFactory()
    group = GroupFactory(name="甲集团")
    mine, *others = AccountFactory.create_batch(4, group=group)
    TeamMembershipFactory(account=mine, user=manager)
    body = session_client(manager).get("/groups", {"q": "甲"}).json()
    assert body["items"][0]["account_count"] == 1  # not 4: three are not the manager's


def test_a_group_nested_in_itself_is_answered_422(as_director: JsonClient) -> None:
    group = GroupFactory()
    response = as_director.patch(f"/groups/{group.pk}", {"version": 1, "parent_id": group.pk})
    assert_error(response, 422, "parent_id")
    group.refresh_from_db()
    assert (group.parent_id, group.version) == (None, 1)


def test_a_nesting_cycle_is_answered_422(as_director: JsonClient) -> None:
    top = GroupFactory()
    middle = GroupFactory(parent=top)
    bottom = GroupFactory(parent=middle)
    response = as_director.patch(f"/groups/{top.pk}", {"version": 1, "parent_id": bottom.pk})
    assert_error(response, 422, "parent_id")
    top.refresh_from_db()
    assert top.parent_id is None


def test_an_unknown_parent_is_answered_422(as_director: JsonClient) -> None:
    assert_error(as_director.post("/groups", {"name": "孤儿", "parent_id": 987654}), 422,
                 "parent_id")  # fmt: skip
    assert not CorporateGroup.objects.exists()


def test_a_duplicate_group_name_is_answered_422(as_director: JsonClient) -> None:
    GroupFactory(name="重名集团")
    assert_error(as_director.post("/groups", {"name": "重名集团"}), 422, "name")
    assert CorporateGroup.objects.count() == 1


def test_a_stale_group_update_is_answered_409(as_director: JsonClient) -> None:
    group = GroupFactory(name="原名")
    as_director.patch(f"/groups/{group.pk}", {"version": 1, "notes": "第一次"})
    assert_error(as_director.patch(f"/groups/{group.pk}", {"version": 1, "name": "新名"}), 409)
    group.refresh_from_db()
    assert (group.name, group.notes, group.version) == ("原名", "第一次", 2)


def test_deleting_a_group_with_accounts_or_subgroups_is_answered_400(
    as_director: JsonClient,
) -> None:
    with_account = GroupFactory()
    AccountFactory(group=with_account)
    with_child = GroupFactory()
    GroupFactory(parent=with_child)
    assert_error(as_director.delete(f"/groups/{with_account.pk}"), 400)
    assert_error(as_director.delete(f"/groups/{with_child.pk}"), 400)
    assert CorporateGroup.objects.count() == 3


@pytest.mark.parametrize("persona", ["owner", "service_rep", "analyst"])
def test_only_the_archive_managers_change_groups(
    persona: str, session_client: Callable, request: Any
) -> None:
    group = GroupFactory(name="不可改")
    client = session_client(request.getfixturevalue(persona))
    assert client.get(f"/groups/{group.pk}").status_code == 200
    assert_error(client.post("/groups", {"name": "新集团"}), 403)
    assert_error(client.patch(f"/groups/{group.pk}", {"version": 1, "name": "改名"}), 403)
    assert_error(client.delete(f"/groups/{group.pk}"), 403)
    assert list(CorporateGroup.objects.values_list("name", flat=True)) == ["不可改"]


def test_system_administrators_see_no_groups(admin: User, api_as: Callable) -> None:
    group = GroupFactory()
    client = api_as(admin)
    assert client.get("/groups").json()["count"] == 0
    assert_error(client.get(f"/groups/{group.pk}"), 404)


def test_unauthenticated_group_requests_are_answered_401(anon: JsonClient) -> None:
    group = GroupFactory()
    assert_error(anon.get("/groups"), 401)
    assert_error(anon.get(f"/groups/{group.pk}"), 401)
