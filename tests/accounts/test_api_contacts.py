"""/api/v1/contacts: who sees which protected fields, and every reveal is logged."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kam.accounts.models import Account, Contact
from kam.core.models import AccessLog, User
from tests.conftest import JsonClient, assert_error
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

DETAILS = set(Contact.DETAIL_FIELDS)
PERSONAL = set(Contact.PERSONAL_FIELDS)


def views() -> list[AccessLog]:
    return list(AccessLog.objects.filter(action=AccessLog.Action.VIEW).order_by("id"))


# --- reading and the access log ------------------------------------------------------------


@pytest.mark.parametrize("persona", ["owner", "director"])
def test_the_team_and_directors_see_personal_fields_and_the_reveal_is_logged(
    persona: str, contact_a: Contact, api_as: Callable, request: Any
) -> None:
    user = request.getfixturevalue(persona)
    response = api_as(user).get(f"/contacts/{contact_a.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["withheld"] == []
    assert (body["phone_mobile"], body["hobbies"], body["birthday"]) == (
        "13912345678", "围棋与茶道", "1975-09-03",
    )  # fmt: skip
    [log] = views()
    assert (log.user, log.channel, log.subject_type, log.subject_id, log.account_id) == (
        user, AccessLog.Channel.API, "contact", contact_a.pk, contact_a.account_id,
    )  # fmt: skip
    assert set(log.fields) == DETAILS | PERSONAL
    assert log.path == f"/api/v1/contacts/{contact_a.pk}"


def test_only_fields_with_a_value_are_logged_as_revealed(
    account_a: Account, owner: User, session_client: Callable
) -> None:
    sparse = ContactFactory(account=account_a, phone_office="", wechat="", family="", habits="",
                            social_ties="", work_duties="", performance="", goals="",
                            birthday=None, email="", phone_mobile="")  # fmt: skip
    session_client(owner).get(f"/contacts/{sparse.pk}")
    [log] = views()
    assert log.fields == ["hobbies"]


def test_a_service_rep_sees_contact_details_but_personal_fields_are_withheld_and_not_logged(
    contact_a: Contact, service_rep: User, session_client: Callable
) -> None:
    body = session_client(service_rep).get(f"/contacts/{contact_a.pk}").json()
    assert set(body["withheld"]) == PERSONAL
    assert body["phone_mobile"] == "13912345678"
    assert all(body[field] is None for field in PERSONAL)
    [log] = views()
    assert set(log.fields) == DETAILS


def test_department_staff_off_the_team_see_no_protected_field_and_nothing_is_logged(
    contact_a: Contact, department: User, session_client: Callable
) -> None:
    body = session_client(department).get(f"/contacts/{contact_a.pk}").json()
    assert set(body["withheld"]) == DETAILS | PERSONAL
    assert all(body[field] is None for field in DETAILS | PERSONAL)
    assert body["name"] == "林志强"
    assert views() == []


def test_analysts_see_no_contacts(contact_a: Contact, analyst: User, api_as: Callable) -> None:
    client = api_as(analyst)
    assert_error(client.get(f"/contacts/{contact_a.pk}"), 404)
    listed = client.get("/contacts", {"account_id": contact_a.account_id}).json()
    assert (listed["count"], listed["items"]) == (0, [])
    assert_error(client.post(f"/accounts/{contact_a.account_id}/contacts", {"name": "新人"}), 403)
    assert views() == []
    assert Contact.objects.count() == 1


@pytest.mark.parametrize("persona", ["outsider", "colleague", "admin"])
def test_a_contact_outside_reach_is_answered_404(
    persona: str, contact_a: Contact, api_as: Callable, request: Any
) -> None:
    client = api_as(request.getfixturevalue(persona))
    assert_error(client.get(f"/contacts/{contact_a.pk}"), 404)
    assert_error(client.patch(f"/contacts/{contact_a.pk}", {"version": 1, "title": "x"}), 404)
    assert_error(client.post(f"/contacts/{contact_a.pk}/erase"), 404)
    assert_error(client.post(f"/accounts/{contact_a.account_id}/contacts", {"name": "x"}), 404)
    contact_a.refresh_from_db()
    assert (contact_a.title, contact_a.erased_at) == ("供应链副总裁", None)
    assert Contact.objects.count() == 1
    assert AccessLog.objects.count() == 0


def test_the_list_logs_one_row_per_contact_shown(
    account_a: Account, contact_a: Contact, contact_b: Contact, director: User,
    session_client: Callable,
) -> None:  # fmt: skip
    other = ContactFactory(account=account_a)
    body = session_client(director).get("/contacts", {"account_id": account_a.pk}).json()
    assert {item["id"] for item in body["items"]} == {contact_a.pk, other.pk}
    assert {log.subject_id for log in views()} == {contact_a.pk, other.pk}


def test_the_list_filters_by_name_and_title(
    contact_a: Contact, contact_b: Contact, director: User, session_client: Callable
) -> None:
    client = session_client(director)
    assert [i["id"] for i in client.get("/contacts", {"q": "志强"}).json()["items"]] == [
        contact_a.pk
    ]
    assert [i["id"] for i in client.get("/contacts", {"q": "物流经理"}).json()["items"]] == [
        contact_b.pk
    ]


def test_the_contact_list_takes_the_same_number_of_queries_for_5_and_30_rows(
    account_a: Account, owner: User, session_client: Callable
) -> None:
    client = session_client(owner)
    boss = ContactFactory(account=account_a)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/contacts", {"page_size": 100})
        assert response.status_code == 200
        return len(queries)

    ContactFactory.create_batch(4, account=account_a, reports_to=boss)
    five = count_queries()
    ContactFactory.create_batch(25, account=account_a, reports_to=boss)
    thirty = count_queries()
    assert client.get("/contacts").json()["count"] == 30
    assert thirty == five


# --- writing ---------------------------------------------------------------------------------


def test_the_owner_creates_a_contact_and_the_personal_fields_written_are_logged(
    account_a: Account, owner: User, session_client: Callable
) -> None:
    response = session_client(owner).post(
        f"/accounts/{account_a.pk}/contacts",
        {"name": "吴芳", "title": "采购总监", "buying_role": "economic_buyer", "trust": 4,
         "wechat": "wufang88", "hobbies": "瑜伽", "birthday": "1988-02-29"},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    contact = Contact.objects.get(pk=body["id"])
    assert (contact.name, contact.wechat, contact.hobbies) == ("吴芳", "wufang88", "瑜伽")
    assert (body["buying_role"], body["trust"], body["birthday"]) == ("economic_buyer", 4,
                                                                      "1988-02-29")  # fmt: skip
    edit = AccessLog.objects.get(action=AccessLog.Action.EDIT)
    assert set(edit.fields) == {"wechat", "hobbies", "birthday"}
    assert edit.channel == AccessLog.Channel.API


def test_a_service_rep_cannot_write_personal_fields(
    contact_a: Contact, service_rep: User, session_client: Callable
) -> None:
    response = session_client(service_rep).patch(
        f"/contacts/{contact_a.pk}", {"version": 1, "hobbies": "篮球"}
    )
    assert_error(response, 403)
    contact_a.refresh_from_db()
    assert contact_a.hobbies == "围棋与茶道"


def test_patch_with_the_current_version_updates_the_contact(
    contact_a: Contact, owner: User, api_as: Callable
) -> None:
    response = api_as(owner).patch(
        f"/contacts/{contact_a.pk}", {"version": 1, "attitude": "champion", "hobbies": "登山"}
    )
    assert response.status_code == 200
    assert (response.json()["version"], response.json()["hobbies"]) == (2, "登山")
    contact_a.refresh_from_db()
    assert (contact_a.version, contact_a.attitude, contact_a.hobbies) == (2, "champion", "登山")


def test_patch_with_a_stale_version_is_answered_409_and_nothing_changes(
    contact_a: Contact, owner: User, director: User, session_client: Callable
) -> None:
    session_client(director).patch(f"/contacts/{contact_a.pk}", {"version": 1, "title": "总裁"})
    response = session_client(owner).patch(
        f"/contacts/{contact_a.pk}", {"version": 1, "title": "经理", "hobbies": "篮球"}
    )
    assert_error(response, 409)
    contact_a.refresh_from_db()
    assert (contact_a.version, contact_a.title, contact_a.hobbies) == (2, "总裁", "围棋与茶道")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"trust": 6}, "trust"),
        ({"closeness": "very"}, "closeness"),
        ({"buying_role": "boss"}, "buying_role"),
        ({"birthday": "1988-02-30"}, "birthday"),
        ({"hobbies": "爱" * 2001}, "hobbies"),
        ({"email": "e" * 255}, "email"),
        ({"name": None}, "name"),
    ],
)
def test_bad_values_in_a_contact_are_answered_422_and_nothing_changes(
    contact_a: Contact, owner: User, session_client: Callable, body: dict, field: str
) -> None:
    response = session_client(owner).patch(f"/contacts/{contact_a.pk}", {"version": 1, **body})
    assert_error(response, 422, field)
    contact_a.refresh_from_db()
    assert (contact_a.version, contact_a.name, contact_a.trust) == (1, "林志强", 3)


def test_a_contact_reporting_to_itself_is_answered_422(
    contact_a: Contact, owner: User, session_client: Callable
) -> None:
    response = session_client(owner).patch(
        f"/contacts/{contact_a.pk}", {"version": 1, "reports_to_id": contact_a.pk}
    )
    assert_error(response, 422, "reports_to_id")
    contact_a.refresh_from_db()
    assert contact_a.reports_to_id is None


def test_a_reporting_cycle_is_answered_422(
    account_a: Account, owner: User, session_client: Callable
) -> None:
    a = ContactFactory(account=account_a)
    b = ContactFactory(account=account_a, reports_to=a)
    c = ContactFactory(account=account_a, reports_to=b)
    response = session_client(owner).patch(
        f"/contacts/{a.pk}", {"version": 1, "reports_to_id": c.pk}
    )
    assert_error(response, 422, "reports_to_id")
    a.refresh_from_db()
    assert (a.reports_to_id, a.version) == (None, 1)


def test_a_manager_at_another_account_is_answered_422(
    contact_a: Contact, contact_b: Contact, director: User, session_client: Callable
) -> None:
    response = session_client(director).patch(
        f"/contacts/{contact_a.pk}", {"version": 1, "reports_to_id": contact_b.pk}
    )
    assert_error(response, 422, "reports_to_id")
    contact_a.refresh_from_db()
    assert contact_a.reports_to_id is None


def test_erase_through_the_api_wipes_and_logs(
    contact_a: Contact, owner: User, session_client: Callable
) -> None:
    response = session_client(owner).post(f"/contacts/{contact_a.pk}/erase")
    assert response.status_code == 200
    body = response.json()
    assert body["erased"] is True
    assert "林志强" not in body["name"]
    assert body["phone_mobile"] == "" and body["hobbies"] == ""
    erase = AccessLog.objects.get(action=AccessLog.Action.ERASE)
    assert (erase.channel, erase.subject_id) == (AccessLog.Channel.API, contact_a.pk)
    # Showing an erased record reveals nothing, so nothing is logged as viewed.
    assert views() == []


def test_a_service_rep_cannot_erase(contact_a: Contact, service_rep: User,
                                    session_client: Callable) -> None:  # fmt: skip
    assert_error(session_client(service_rep).post(f"/contacts/{contact_a.pk}/erase"), 403)
    contact_a.refresh_from_db()
    assert contact_a.erased_at is None


def test_unauthenticated_contact_requests_are_answered_401(
    anon: JsonClient, contact_a: Contact
) -> None:
    assert_error(anon.get("/contacts"), 401)
    assert_error(anon.get(f"/contacts/{contact_a.pk}"), 401)
    assert AccessLog.objects.count() == 0
