"""The archive's pages and API reads take the same number of queries however big the archive.

Each test measures a page once on a small world, grows the world (more contacts, ties
between people, staff ties, accounts, groups, billing codes), and asserts that the page takes
no more queries than before. A page whose query count grows with the rows it shows has a
query per row somewhere (the account page's people graph took 9.6 s for a director).
"""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kam.accounts.models import Account, Contact
from kam.core.models import User
from tests.factories import (
    AccountFactory,
    BillingCodeFactory,
    ContactFactory,
    ContactTieFactory,
    GroupFactory,
    StaffTieFactory,
    TeamMembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PERSONAS = ["director", "department", "owner", "service_rep"]


def grow_people(account: Account, other: Account, staff: list[User], n: int) -> None:
    """``n`` more contacts on ``account``, each tied to the next, to a contact of ``other``
    and to someone of ours."""
    previous: Contact | None = None
    for i in range(n):
        contact = ContactFactory(account=account, reports_to=previous)
        ContactTieFactory(from_contact=contact, to_contact=ContactFactory(account=other))
        if previous is not None:
            ContactTieFactory(from_contact=previous, to_contact=contact)
        StaffTieFactory(contact=contact, user=staff[i % len(staff)])
        previous = contact


def grow_accounts(owner: User, n: int) -> None:
    """``n`` more accounts on the owner's team, in groups, with billing codes and contacts."""
    group = GroupFactory(parent=GroupFactory())
    for _ in range(n):
        account = AccountFactory(group=group)
        TeamMembershipFactory(account=account, user=owner)
        TeamMembershipFactory(account=account, user=UserFactory(), role="member")
        BillingCodeFactory(account=account)
        ContactTieFactory(
            from_contact=ContactFactory(account=account), to_contact=ContactFactory(account=account)
        )


def web_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def count(assert_max: Any, fetch: Callable[[], Any], limit: int = 80) -> int:
    fetch()  # sessions, content types and caches are warm
    with assert_max(limit) as captured:
        response = fetch()
    assert response.status_code == 200, response.content[:300]
    return len(captured.captured_queries)


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_account_page_takes_the_same_queries_however_many_people(
    persona: str, account_a: Account, account_b: Account, contact_a: Contact, colleague: User,
    django_assert_max_num_queries: Any, request: Any,
) -> None:  # fmt: skip
    user = request.getfixturevalue(persona)
    TeamMembershipFactory(account=account_b, user=request.getfixturevalue("owner"), role="member")
    client = web_client(user)
    url = f"/accounts/{account_a.pk}/"
    before = count(django_assert_max_num_queries, lambda: client.get(url))
    grow_people(account_a, account_b, [colleague, user], 12)
    grow_accounts(request.getfixturevalue("owner"), 5)
    after = count(django_assert_max_num_queries, lambda: client.get(url), before)
    assert after <= before


@pytest.mark.parametrize("persona", ["director", "owner"])
def test_the_list_pages_take_the_same_queries_however_many_accounts(
    persona: str, account_a: Account, account_b: Account, contact_a: Contact,
    django_assert_max_num_queries: Any, request: Any,
) -> None:  # fmt: skip
    owner = request.getfixturevalue("owner")
    user = request.getfixturevalue(persona)
    client = web_client(user)
    group = GroupFactory()
    AccountFactory(group=group)
    AccountFactory(group=GroupFactory(parent=group))
    urls = ["/accounts/", "/accounts/?sort=-tier", "/groups/", f"/groups/{group.pk}/", "/"]
    before = {
        url: count(django_assert_max_num_queries, lambda u=url: client.get(u)) for url in urls
    }
    grow_accounts(owner, 30)
    for _ in range(5):  # wider, not deeper: the shipments panel reads the tree level by level
        AccountFactory(group=GroupFactory(parent=group))
        AccountFactory(group=group)
    for url in urls:
        after = count(django_assert_max_num_queries, lambda u=url: client.get(u), before[url])
        assert after <= before[url], url


@pytest.mark.parametrize("persona", ["director", "owner"])
def test_the_api_reads_take_the_same_queries_however_many_rows(
    persona: str, account_a: Account, account_b: Account, contact_a: Contact, colleague: User,
    session_client: Callable, django_assert_max_num_queries: Any, request: Any,
) -> None:  # fmt: skip
    owner = request.getfixturevalue("owner")
    client = session_client(request.getfixturevalue(persona))
    paths = [
        "/accounts", "/accounts?sort=-tier", f"/accounts/{account_a.pk}",
        f"/accounts/{account_a.pk}/team", "/groups", "/contacts",
        f"/contacts?account_id={account_a.pk}", "/ties", f"/ties?account_id={account_a.pk}",
        f"/staff-ties?contact_id={contact_a.pk}",
    ]  # fmt: skip
    before = {p: count(django_assert_max_num_queries, lambda p=p: client.get(p)) for p in paths}
    grow_people(account_a, account_b, [colleague, owner], 12)
    grow_accounts(owner, 20)
    for p in paths:
        after = count(django_assert_max_num_queries, lambda p=p: client.get(p), before[p])
        assert after <= before[p], p


def test_a_directors_people_graph_shows_ties_to_every_account(
    director: User, account_a: Account, account_b: Account, colleague: User
) -> None:
    from kam.accounts import selectors

    grow_people(account_a, account_b, [colleague], 3)
    graph = selectors.account_people_graph(director, account_a)
    kinds = [n["kind"] for n in graph["nodes"]]
    assert kinds.count("contact") == 3 and kinds.count("external") == 3
    assert kinds.count("staff") == 1
    assert len(graph["edges"]) == 3 + 2 + 3  # elsewhere, the chain, staff


def test_a_managers_people_graph_hides_ties_to_accounts_they_cannot_see(
    owner: User, account_a: Account, account_b: Account, colleague: User
) -> None:
    from kam.accounts import selectors

    grow_people(account_a, account_b, [colleague], 3)
    graph = selectors.account_people_graph(owner, account_a)
    assert {n["kind"] for n in graph["nodes"]} == {"contact", "staff"}
    assert not any(
        n["name"].startswith("联系人") and n["kind"] == "external" for n in graph["nodes"]
    )
    assert len(graph["edges"]) == 2 + 3
    # Once on the other account's team, the ties elsewhere appear.
    TeamMembershipFactory(account=account_b, user=owner, role="member")
    graph = selectors.account_people_graph(owner, account_a)
    assert sum(n["kind"] == "external" for n in graph["nodes"]) == 3


def test_the_people_graph_of_an_account_the_user_cannot_see_is_empty(
    owner: User, account_a: Account, account_b: Account, colleague: User, analyst: User
) -> None:
    from kam.accounts import selectors

    grow_people(account_b, account_a, [colleague], 2)
    assert selectors.account_people_graph(owner, account_b) == {"nodes": [], "edges": []}
    # An analyst sees accounts but no contacts.
    assert selectors.account_people_graph(analyst, account_b) == {"nodes": [], "edges": []}


@pytest.mark.parametrize("persona", ["director", "owner"])
def test_the_contact_page_takes_the_same_queries_however_many_people(
    persona: str, account_a: Account, account_b: Account, contact_a: Contact, colleague: User,
    django_assert_max_num_queries: Any, request: Any,
) -> None:  # fmt: skip
    account_a.group = GroupFactory()
    account_a.save()
    client = web_client(request.getfixturevalue(persona))
    url = f"/contacts/{contact_a.pk}/"
    before = count(django_assert_max_num_queries, lambda: client.get(url))
    grow_people(account_a, account_b, [colleague], 12)
    for _ in range(3):  # more accounts of the group, whose people are tie candidates
        ContactFactory(account=AccountFactory(group=account_a.group))
    after = count(django_assert_max_num_queries, lambda: client.get(url), before)
    assert after <= before
