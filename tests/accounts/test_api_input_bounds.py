"""Input the databases cannot take is a 422, not a server error (found by schemathesis)."""

from collections.abc import Callable

import pytest

from kam.accounts.models import Contact, CorporateGroup
from kam.core.models import User
from tests.conftest import JsonClient, assert_error

pytestmark = pytest.mark.django_db

HUGE = 2**70  # beyond the 64-bit keys of SQLite and PostgreSQL


@pytest.fixture
def as_director(director: User, session_client: Callable) -> JsonClient:
    return session_client(director)


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/accounts", {"q": "明\x00达"}, "q"),
        ("/accounts", {"industry": "\x00"}, "industry"),
        ("/groups", {"q": "a\x00"}, "q"),
        ("/contacts", {"q": "\x00"}, "q"),
        ("/staff-ties", {"contact_id": -HUGE}, "contact_id"),
        ("/ties", {"account_id": HUGE}, "account_id"),
        ("/contacts", {"account_id": HUGE}, "account_id"),
        ("/accounts", {"owner": HUGE}, "owner"),
        ("/accounts", {"group": HUGE}, "group"),
    ],
)
def test_queries_the_database_cannot_take_are_answered_422(
    as_director: JsonClient, account_a: object, path: str, params: dict, field: str
) -> None:
    assert_error(as_director.get(path, params), 422, field)


def test_an_id_beyond_64_bits_in_the_path_is_answered_422(as_director: JsonClient) -> None:
    assert_error(as_director.get(f"/accounts/{HUGE}"), 422, "account_id")


def test_a_nul_character_in_a_body_is_answered_422_and_nothing_is_stored(
    as_director: JsonClient, contact_a: Contact
) -> None:
    assert_error(as_director.post("/groups", {"name": "集团\x00"}), 422, "name")
    assert not CorporateGroup.objects.exists()
    response = as_director.patch(f"/contacts/{contact_a.pk}", {"version": 1, "hobbies": "\x00"})
    assert_error(response, 422, "hobbies")
    contact_a.refresh_from_db()
    assert (contact_a.hobbies, contact_a.version) == ("围棋与茶道", 1)


def test_a_nul_character_in_a_billing_code_path_is_answered_422(
    as_director: JsonClient, account_a: object
) -> None:
    response = as_director.delete(f"/accounts/{account_a.pk}/billing-codes/YJ%00")
    assert_error(response, 422, "code")
    assert account_a.billing_codes.count() == 1
