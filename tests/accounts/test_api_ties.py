"""/api/v1/ties and /api/v1/staff-ties: who knows whom."""

from collections.abc import Callable
from typing import Any

import pytest

from kam.accounts.models import Account, Contact, ContactTie, StaffTie
from kam.core.models import User
from tests.conftest import JsonClient, assert_error
from tests.factories import ContactFactory, ContactTieFactory, StaffTieFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def deputy(account_a: Account, contact_a: Contact) -> Contact:
    return ContactFactory(account=account_a, name="陈副总", reports_to=contact_a)


def test_the_owner_records_lists_and_deletes_a_tie(
    contact_a: Contact, deputy: Contact, owner: User, api_as: Callable
) -> None:
    client = api_as(owner)
    response = client.post("/ties", {"from_contact_id": contact_a.pk, "to_contact_id": deputy.pk,
                                     "kind": "former_colleague", "note": "曾同在华为",
                                     "since": "2015-06-01"})  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["since"]) == ("former_colleague", "2015-06-01")
    tie = ContactTie.objects.get(pk=body["id"])
    assert (tie.from_contact, tie.to_contact) == (contact_a, deputy)

    listed = client.get("/ties", {"contact_id": deputy.pk}).json()
    assert [t["id"] for t in listed["items"]] == [tie.pk] and listed["count"] == 1

    assert client.delete(f"/ties/{tie.pk}").status_code == 204
    assert not ContactTie.objects.exists()


def test_a_tie_to_oneself_is_answered_422(contact_a: Contact, owner: User,
                                          session_client: Callable) -> None:  # fmt: skip
    response = session_client(owner).post(
        "/ties", {"from_contact_id": contact_a.pk, "to_contact_id": contact_a.pk, "kind": "friend"}
    )
    assert_error(response, 422, "to_contact_id")
    assert not ContactTie.objects.exists()


def test_a_duplicate_tie_is_answered_422(contact_a: Contact, deputy: Contact, owner: User,
                                         session_client: Callable) -> None:  # fmt: skip
    ContactTieFactory(from_contact=contact_a, to_contact=deputy, kind="friend")
    response = session_client(owner).post(
        "/ties", {"from_contact_id": contact_a.pk, "to_contact_id": deputy.pk, "kind": "friend"}
    )
    assert_error(response, 422, "to_contact_id")
    assert ContactTie.objects.count() == 1


def test_an_unknown_tie_kind_is_answered_422(contact_a: Contact, deputy: Contact, owner: User,
                                             session_client: Callable) -> None:  # fmt: skip
    response = session_client(owner).post(
        "/ties", {"from_contact_id": contact_a.pk, "to_contact_id": deputy.pk, "kind": "enemy"}
    )
    assert_error(response, 422, "kind")
    assert not ContactTie.objects.exists()


@pytest.mark.parametrize("persona", ["outsider", "colleague", "analyst"])
def test_ties_of_contacts_outside_reach_are_answered_404(
    persona: str, contact_a: Contact, deputy: Contact, api_as: Callable, request: Any
) -> None:
    tie = ContactTieFactory(from_contact=contact_a, to_contact=deputy)
    client = api_as(request.getfixturevalue(persona))
    listed = client.get("/ties", {"contact_id": contact_a.pk}).json()
    assert (listed["count"], listed["items"]) == (0, [])
    assert_error(client.delete(f"/ties/{tie.pk}"), 404)
    response = client.post(
        "/ties", {"from_contact_id": contact_a.pk, "to_contact_id": deputy.pk, "kind": "friend"}
    )
    assert_error(response, 404)
    assert list(ContactTie.objects.all()) == [tie]


def test_a_service_rep_cannot_record_ties(
    contact_a: Contact, deputy: Contact, service_rep: User, session_client: Callable
) -> None:
    client = session_client(service_rep)
    response = client.post(
        "/ties", {"from_contact_id": contact_a.pk, "to_contact_id": deputy.pk, "kind": "friend"}
    )
    assert_error(response, 403)
    assert not ContactTie.objects.exists()


def test_the_owner_records_lists_and_deletes_a_staff_tie(
    contact_a: Contact, owner: User, service_rep: User, api_as: Callable
) -> None:
    client = api_as(owner)
    response = client.post("/staff-ties", {"contact_id": contact_a.pk, "username": "service",
                                           "strength": 5, "note": "老乡"})  # fmt: skip
    assert response.status_code == 201, response.content
    assert (response.json()["username"], response.json()["strength"]) == ("service", 5)
    tie = StaffTie.objects.get()
    assert (tie.user, tie.contact) == (service_rep, contact_a)

    listed = client.get("/staff-ties", {"contact_id": contact_a.pk}).json()
    assert [(t["id"], t["username"]) for t in listed] == [(tie.pk, "service")]

    assert client.delete(f"/staff-ties/{tie.pk}").status_code == 204
    assert not StaffTie.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [({"username": "nobody"}, "username"), ({"strength": 9}, "strength")],
)
def test_bad_staff_ties_are_answered_422(
    contact_a: Contact, owner: User, session_client: Callable, body: dict, field: str
) -> None:
    payload = {"contact_id": contact_a.pk, "username": "owner", **body}
    assert_error(session_client(owner).post("/staff-ties", payload), 422, field)
    assert not StaffTie.objects.exists()


def test_a_duplicate_staff_tie_is_answered_422_naming_the_user(
    contact_a: Contact, owner: User, session_client: Callable
) -> None:
    StaffTieFactory(contact=contact_a, user=owner)
    response = session_client(owner).post(
        "/staff-ties", {"contact_id": contact_a.pk, "username": "owner"}
    )
    assert_error(response, 422, "username")
    assert StaffTie.objects.count() == 1


def test_staff_ties_outside_reach_are_answered_404(
    contact_a: Contact, owner: User, outsider: User, api_as: Callable
) -> None:
    tie = StaffTieFactory(contact=contact_a, user=owner)
    client = api_as(outsider)
    assert client.get("/staff-ties").json() == []
    assert_error(client.delete(f"/staff-ties/{tie.pk}"), 404)
    assert_error(
        client.post("/staff-ties", {"contact_id": contact_a.pk, "username": "outsider"}), 404
    )
    assert list(StaffTie.objects.all()) == [tie]


# --- the list: pages, and only ties whose both ends the user sees ---------------------------


@pytest.fixture
def web(account_a: Account, contact_a: Contact, deputy: Contact, contact_b: Contact) -> dict:
    """Ties inside account A, inside account B, and across the two accounts."""
    other_b = ContactFactory(account=contact_b.account, name="远航采购")
    inside_a = [ContactTieFactory(from_contact=contact_a, to_contact=deputy, kind=kind)
                for kind in ("friend", "former_colleague", "family")]  # fmt: skip
    inside_b = ContactTieFactory(from_contact=contact_b, to_contact=other_b)
    across = [ContactTieFactory(from_contact=contact_a, to_contact=contact_b),
              ContactTieFactory(from_contact=other_b, to_contact=deputy)]  # fmt: skip
    return {"a": inside_a, "b": [inside_b], "across": across}


def _ids(body: dict) -> list[int]:
    return [t["id"] for t in body["items"]]


def test_ties_are_listed_in_pages(web: dict, director: User, api_as: Callable) -> None:
    client = api_as(director)
    every = sorted(t.pk for group in web.values() for t in group)
    first = client.get("/ties", {"page_size": 4}).json()
    assert (first["count"], first["page"], first["page_size"]) == (6, 1, 4)
    second = client.get("/ties", {"page_size": 4, "page": 2}).json()
    assert _ids(first) + _ids(second) == every
    assert client.get("/ties", {"page": 3, "page_size": 4}).json()["items"] == []
    assert client.get("/ties").json()["page_size"] == 50
    assert_error(client.get("/ties", {"page_size": 501}), 422, "page_size")
    assert_error(client.get("/ties", {"page": 0}), 422, "page")


def test_a_manager_lists_only_ties_whose_both_ends_they_see(
    web: dict, owner: User, colleague: User, account_b: Account, api_as: Callable
) -> None:
    assert _ids(api_as(owner).get("/ties").json()) == [t.pk for t in web["a"]]
    assert _ids(api_as(colleague).get("/ties").json()) == [t.pk for t in web["b"]]
    # Filters narrow what the user sees; they never widen it.
    assert api_as(owner).get("/ties", {"account_id": account_b.pk}).json()["count"] == 0


def test_listing_ties_takes_the_same_queries_however_many(
    web: dict, director: User, owner: User, api_as: Callable, django_assert_max_num_queries: Any
) -> None:
    for user in (director, owner):
        client = api_as(user)
        client.get("/ties")  # the session and token lookups are warm
        with django_assert_max_num_queries(8) as before:
            client.get("/ties")
        for _ in range(20):
            ContactTieFactory()
        with django_assert_max_num_queries(len(before.captured_queries)):
            client.get("/ties")


def test_unauthenticated_tie_requests_are_answered_401(anon: JsonClient) -> None:
    assert_error(anon.get("/ties"), 401)
    assert_error(anon.get("/staff-ties"), 401)


def test_an_accounts_ties_leave_out_those_to_an_account_the_user_does_not_see(
    account_a: Account, account_b: Account, contact_a: Contact, contact_b: Contact,
    deputy: Contact, owner: User, director: User, api_as: Callable,
) -> None:  # fmt: skip
    inside = ContactTieFactory(from_contact=contact_a, to_contact=deputy)
    across = ContactTieFactory(from_contact=deputy, to_contact=contact_b)  # B is not the owner's
    ContactTieFactory(from_contact=contact_b, to_contact=ContactFactory(account=account_b))
    mine = api_as(owner).get("/ties", {"account_id": account_a.pk}).json()
    assert [t["id"] for t in mine["items"]] == [inside.pk] and mine["count"] == 1
    both = api_as(owner).get("/ties", {"account_id": account_a.pk, "contact_id": deputy.pk}).json()
    assert [t["id"] for t in both["items"]] == [inside.pk]
    everything = api_as(director).get("/ties", {"account_id": account_a.pk}).json()
    assert [t["id"] for t in everything["items"]] == sorted([inside.pk, across.pk])
    # Another's account: nothing, as for an account that does not exist.
    assert api_as(owner).get("/ties", {"account_id": account_b.pk}).json()["count"] == 0
