"""/api/v1/accounts/{id}/team: who is on an account's team."""

from collections.abc import Callable
from typing import Any

import pytest

from kam.accounts.models import Account, TeamMembership, TeamRole
from kam.core.models import User
from tests.conftest import assert_error

pytestmark = pytest.mark.django_db


def test_the_team_is_listed_with_roles(account_a: Account, service_rep: User,
                                       session_client: Callable) -> None:  # fmt: skip
    body = session_client(service_rep).get(f"/accounts/{account_a.pk}/team").json()
    assert {(m["username"], m["role"]) for m in body} == {
        ("owner", "owner"), ("service", "service_rep"),
    }  # fmt: skip


def test_the_owner_adds_and_removes_a_member(
    account_a: Account, owner: User, outsider: User, api_as: Callable
) -> None:
    client = api_as(owner)
    response = client.post(f"/accounts/{account_a.pk}/team",
                           {"username": "outsider", "role": "territory_manager"})  # fmt: skip
    assert response.status_code == 201, response.content
    member = TeamMembership.objects.get(pk=response.json()["id"])
    assert (member.user, member.role) == (outsider, TeamRole.TERRITORY_MANAGER)
    # Now on the team, the former outsider sees the account.
    assert api_as(outsider).get(f"/accounts/{account_a.pk}").status_code == 200

    assert client.delete(f"/accounts/{account_a.pk}/team/{member.pk}").status_code == 204
    assert not account_a.team.filter(user=outsider).exists()
    assert_error(api_as(outsider).get(f"/accounts/{account_a.pk}"), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "nobody", "role": "co_owner"}, "username"),
        ({"username": "sysadmin", "role": "co_owner"}, "username"),  # admins join no team
        ({"username": "service", "role": "co_owner"}, "username"),  # already on it
        ({"username": "outsider", "role": "owner"}, "role"),  # A has an owner
        ({"username": "outsider", "role": "king"}, "role"),
    ],
)
def test_bad_team_changes_are_answered_422(
    account_a: Account, director: User, admin: User, outsider: User, session_client: Callable,
    body: dict, field: str,
) -> None:  # fmt: skip
    before = list(account_a.team.values_list("user__username", "role"))
    response = session_client(director).post(f"/accounts/{account_a.pk}/team", body)
    assert_error(response, 422, field)
    assert list(account_a.team.values_list("user__username", "role")) == before


@pytest.mark.parametrize("persona", ["service_rep", "analyst"])
def test_members_without_team_rights_cannot_change_the_team(
    persona: str, account_a: Account, outsider: User, session_client: Callable, request: Any
) -> None:
    client = session_client(request.getfixturevalue(persona))
    response = client.post(f"/accounts/{account_a.pk}/team",
                           {"username": "outsider", "role": "co_owner"})  # fmt: skip
    assert_error(response, 403)
    owner_row = account_a.team.get(role=TeamRole.OWNER)
    assert_error(client.delete(f"/accounts/{account_a.pk}/team/{owner_row.pk}"), 403)
    assert account_a.team.count() == 2


def test_a_member_of_another_account_is_answered_404(
    account_a: Account, account_b: Account, owner: User, session_client: Callable
) -> None:
    other = account_b.team.get()
    response = session_client(owner).delete(f"/accounts/{account_a.pk}/team/{other.pk}")
    assert_error(response, 404)
    assert TeamMembership.objects.filter(pk=other.pk).exists()


def test_an_outsider_cannot_add_themself_to_a_team(
    account_a: Account, outsider: User, api_as: Callable
) -> None:
    response = api_as(outsider).post(f"/accounts/{account_a.pk}/team",
                                     {"username": "outsider", "role": "co_owner"})  # fmt: skip
    assert_error(response, 404)
    assert not account_a.team.filter(user=outsider).exists()
