"""Analysts work with figures: they see cases, but not the contacts a case names (the
access matrix found the case page and the API naming them)."""

from typing import Any

import pytest
from django.test import Client

from kam.accounts.models import Account, Contact
from kam.core.models import User
from kam.service import services

from .conftest import MONDAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def case_with_contact(account_a: Account, owner: User, service_rep: User, contact_a: Contact,
                      policy: Any) -> Any:  # fmt: skip
    return services.case_open(
        by=owner, account=account_a, kind="complaint", channel="phone", severity="medium",
        subject="整批货物延误", contacts=[contact_a], assignee=service_rep, now=MONDAY,
    )  # fmt: skip


def _client(user: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


@pytest.mark.parametrize("who", ["owner", "analyst"])
def test_the_case_page_names_contacts_only_to_those_who_see_contacts(
    who: str, case_with_contact: Any, contact_a: Contact, request: Any
) -> None:
    page = _client(request.getfixturevalue(who)).get(f"/service/cases/{case_with_contact.pk}/")
    assert page.status_code == 200
    assert (contact_a.name in page.content.decode()) is (who == "owner")


@pytest.mark.parametrize("who", ["owner", "analyst"])
def test_the_api_gives_contact_ids_only_to_those_who_see_contacts(
    who: str, case_with_contact: Any, contact_a: Contact, request: Any
) -> None:
    client = _client(request.getfixturevalue(who))
    expected = [contact_a.pk] if who == "owner" else []
    one = client.get(f"/api/v1/service/cases/{case_with_contact.pk}")
    assert one.status_code == 200 and one.json()["contact_ids"] == expected
    listed = client.get("/api/v1/service/cases")
    assert [c["contact_ids"] for c in listed.json()["items"]] == [expected]
