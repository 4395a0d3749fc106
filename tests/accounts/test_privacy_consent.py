"""Lawful-basis records (PIPL Art. 13): recorded, changed, withdrawn and deleted on the
contact's personal-information page and through the API, with history; refused with a
clear message when wrong; 404 for those who cannot see the contact."""

import datetime
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from kam.accounts.models import ConsentRecord, Contact, LawfulBasis
from kam.core.models import User
from tests import catalogues
from tests.conftest import assert_error

PAST = datetime.date(2025, 11, 3)


def _web(user: User, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    return client


def _form(**changes: Any) -> dict[str, Any]:
    data = {"basis": "consent", "purpose": "维护业务联系", "obtained_on": PAST.isoformat(),
            "withdrawn_on": "", "evidence": "名片交换时口头同意"}  # fmt: skip
    data.update(changes)
    return data


@pytest.fixture
def record(contact_a: Contact, owner: User) -> ConsentRecord:
    return ConsentRecord.objects.create(
        contact=contact_a, basis=LawfulBasis.CONTRACT, purpose="履行物流服务合同",
        obtained_on=PAST, recorded_by=owner,
    )  # fmt: skip


# --- pages --------------------------------------------------------------------------------


def test_the_owner_records_a_basis_on_the_privacy_page(contact_a: Contact, owner: User) -> None:
    client = _web(owner)
    response = client.post(f"/contacts/{contact_a.pk}/privacy/bases/new/", _form())
    assert response.status_code == 302
    assert response["Location"].endswith(f"/contacts/{contact_a.pk}/privacy/#basis")
    record = ConsentRecord.objects.get(contact=contact_a)
    assert (record.basis, record.obtained_on, record.recorded_by) == ("consent", PAST, owner)
    assert record.history.get().history_user == owner
    page = client.get(f"/contacts/{contact_a.pk}/privacy/").content.decode()
    assert "Consent of the person" in page and "维护业务联系" in page and "in force" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"obtained_on": "2999-01-01"}, "obtained_on", "cannot be in the future"),
        ({"withdrawn_on": "2025-01-01"}, "withdrawn_on", "before the date the basis was obtained"),
        ({"withdrawn_on": "2999-01-01"}, "withdrawn_on", "withdrawal date cannot be in the future"),
        ({"purpose": ""}, "purpose", "This field is required."),
        ({"basis": "friendship"}, "basis", "Select a valid choice."),
        ({"obtained_on": "2025-13-40"}, "obtained_on", "Enter a valid date."),
    ],
)
def test_a_wrong_record_is_refused_with_a_message_by_the_field(
    changes: dict[str, str], field: str, message: str, contact_a: Contact, owner: User
) -> None:
    response = _web(owner).post(f"/contacts/{contact_a.pk}/privacy/bases/new/", _form(**changes))
    assert response.status_code == 200
    assert message in " ".join(str(e) for e in response.context["form"].errors[field])
    assert not ConsentRecord.objects.exists()


@pytest.fixture
def compiled_catalogue() -> Iterator[None]:
    catalogues.compile_stale()
    catalogues.reset_caches()
    yield
    catalogues.reset_caches()


@pytest.mark.usefixtures("compiled_catalogue")
def test_messages_come_in_chinese_for_chinese_users(contact_a: Contact, owner: User) -> None:
    response = _web(owner, "zh-hans").post(
        f"/contacts/{contact_a.pk}/privacy/bases/new/", _form(obtained_on="2999-01-01")
    )
    errors = " ".join(str(e) for e in response.context["form"].errors["obtained_on"])
    assert "未来" in errors


def test_withdrawing_keeps_the_record_and_its_history(
    record: ConsentRecord, contact_a: Contact, owner: User
) -> None:
    url = f"/contacts/{contact_a.pk}/privacy/bases/{record.pk}/edit/"
    client = _web(owner)
    assert client.get(url).status_code == 200
    withdrawn = (PAST + datetime.timedelta(days=30)).isoformat()
    data = _form(basis="contract", purpose="履行物流服务合同", withdrawn_on=withdrawn, version=1)
    assert client.post(url, data).status_code == 302
    record.refresh_from_db()
    assert record.withdrawn_on.isoformat() == withdrawn and record.version == 2
    assert [h.history_type for h in record.history.order_by("history_id")] == ["+", "~"]
    assert "not in force" in client.get(f"/contacts/{contact_a.pk}/privacy/").content.decode()


def test_a_stale_edit_is_refused(record: ConsentRecord, contact_a: Contact, owner: User) -> None:
    record.purpose = "别人刚改过"
    record.version = 2
    record.save()
    url = f"/contacts/{contact_a.pk}/privacy/bases/{record.pk}/edit/"
    response = _web(owner).post(url, _form(version=1))
    assert response.status_code == 200
    assert "Someone else changed this record" in str(response.context["form"].non_field_errors())
    record.refresh_from_db()
    assert record.purpose == "别人刚改过"


def test_deleting_asks_first_and_history_keeps_it(
    record: ConsentRecord, contact_a: Contact, owner: User
) -> None:
    url = f"/contacts/{contact_a.pk}/privacy/bases/{record.pk}/delete/"
    client = _web(owner)
    assert "entered by mistake" in client.get(url).content.decode()
    assert ConsentRecord.objects.filter(pk=record.pk).exists()
    assert client.post(url).status_code == 302
    assert not ConsentRecord.objects.filter(pk=record.pk).exists()
    assert ConsentRecord.history.filter(id=record.pk, history_type="-").get().history_user == owner


@pytest.mark.parametrize("persona", ["service_rep", "department"])
def test_a_colleague_who_may_not_see_personal_information_is_refused(
    persona: str, request: Any, record: ConsentRecord, contact_a: Contact
) -> None:
    client = _web(request.getfixturevalue(persona))
    base = f"/contacts/{contact_a.pk}/privacy"
    assert client.get(f"{base}/").status_code == 403
    assert client.post(f"{base}/bases/new/", _form()).status_code == 403
    assert client.post(f"{base}/bases/{record.pk}/edit/", _form(version=1)).status_code == 403
    assert client.post(f"{base}/bases/{record.pk}/delete/").status_code == 403
    assert ConsentRecord.objects.get().purpose == "履行物流服务合同"


@pytest.mark.parametrize("persona", ["colleague", "outsider", "analyst", "admin"])
def test_outsiders_get_404_like_a_missing_contact_or_record(
    persona: str, request: Any, record: ConsentRecord, contact_a: Contact, contact_b: Contact
) -> None:
    client = _web(request.getfixturevalue(persona))
    for url in (
        f"/contacts/{contact_a.pk}/privacy/",
        f"/contacts/{contact_a.pk}/privacy/bases/new/",
        f"/contacts/{contact_a.pk}/privacy/bases/{record.pk}/edit/",
        f"/contacts/{contact_a.pk}/privacy/bases/{record.pk}/delete/",
        f"/contacts/{contact_a.pk + 1000}/privacy/",
    ):
        assert client.get(url).status_code == 404, url
        if "/bases/" in url:  # the page itself answers GET only
            assert client.post(url, _form(version=1)).status_code == 404, url
    assert ConsentRecord.objects.count() == 1


def test_a_record_of_another_contact_is_404_even_for_the_owner(
    record: ConsentRecord, contact_a: Contact, owner: User, account_a: Any
) -> None:
    from tests.factories import ContactFactory

    other = ContactFactory(account=account_a)
    client = _web(owner)
    assert client.get(f"/contacts/{other.pk}/privacy/bases/{record.pk}/edit/").status_code == 404
    assert client.post(f"/contacts/{other.pk}/privacy/bases/{record.pk}/delete/").status_code == 404


def test_a_contact_with_personal_information_and_no_basis_is_flagged(
    contact_a: Contact, owner: User, service_rep: User
) -> None:
    page = _web(owner).get(f"/contacts/{contact_a.pk}/").content.decode()
    assert 'id="basis-missing"' in page and "Record the lawful basis" in page
    # The service rep sees the flag but not the link to act on it.
    page = _web(service_rep).get(f"/contacts/{contact_a.pk}/").content.decode()
    assert 'id="basis-missing"' in page and "Record the lawful basis" not in page
    assert (
        'id="basis-missing"'
        in _web(owner).get(f"/contacts/{contact_a.pk}/privacy/").content.decode()
    )


def test_a_basis_in_force_clears_the_flag_and_a_withdrawn_one_does_not(
    record: ConsentRecord, contact_a: Contact, owner: User
) -> None:
    page = _web(owner).get(f"/contacts/{contact_a.pk}/").content.decode()
    assert 'id="basis-missing"' not in page and "履行物流服务合同" in page
    record.withdrawn_on = PAST + datetime.timedelta(days=1)
    record.save()
    assert 'id="basis-missing"' in _web(owner).get(f"/contacts/{contact_a.pk}/").content.decode()


def test_no_flag_without_personal_information(account_a: Any, owner: User) -> None:
    bare = Contact.objects.create(account=account_a, name="只有姓名")
    assert 'id="basis-missing"' not in _web(owner).get(f"/contacts/{bare.pk}/").content.decode()


# --- API ----------------------------------------------------------------------------------


def test_the_api_lists_creates_changes_and_deletes_records(
    contact_a: Contact, owner: User, api_as: Callable
) -> None:
    client = api_as(owner)
    base = f"/contacts/{contact_a.pk}/consents"
    assert client.get(base).json() == []
    created = client.post(base, {"basis": "consent", "purpose": "维护业务联系",
                                 "obtained_on": PAST.isoformat()})  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["basis"], body["basis_label"], body["in_force"], body["evidence"]) == (
        "consent", "Consent of the person", True, "",
    )  # fmt: skip
    assert body["recorded_by"] == "owner" and body["version"] == 1
    changed = client.patch(f"{base}/{body['id']}", {"withdrawn_on": "2026-01-01", "version": 1})
    assert changed.status_code == 200
    assert (changed.json()["in_force"], changed.json()["version"]) == (False, 2)
    assert_error(client.patch(f"{base}/{body['id']}", {"purpose": "x", "version": 1}), 409)
    assert [r["id"] for r in client.get(base).json()] == [body["id"]]
    assert client.delete(f"{base}/{body['id']}").status_code == 204
    assert not ConsentRecord.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"basis": "friendship", "purpose": "x", "obtained_on": "2025-01-01"}, "basis"),
        ({"basis": "consent", "purpose": "", "obtained_on": "2025-01-01"}, "purpose"),
        ({"basis": "consent", "purpose": "x"}, "obtained_on"),
        ({"basis": "consent", "purpose": "x", "obtained_on": "2999-01-01"}, "obtained_on"),
        (
            {
                "basis": "consent",
                "purpose": "x",
                "obtained_on": "2025-01-01",
                "withdrawn_on": "2024-12-31",
            },
            "withdrawn_on",
        ),  # fmt: skip
        ({"basis": "consent", "purpose": "x" * 301, "obtained_on": "2025-01-01"}, "purpose"),
    ],
)
def test_the_api_refuses_bad_records_naming_the_field(
    body: dict[str, Any], field: str, contact_a: Contact, owner: User, session_client: Callable
) -> None:
    assert_error(session_client(owner).post(f"/contacts/{contact_a.pk}/consents", body), 422, field)
    assert not ConsentRecord.objects.exists()


def test_the_api_answers_foreign_and_missing_ids_alike(
    record: ConsentRecord, contact_a: Contact, colleague: User, outsider: User,
    service_rep: User, api_as: Callable,
) -> None:  # fmt: skip
    for stranger in (colleague, outsider):
        client = api_as(stranger)
        for method, path, body in (
            ("get", "/consents", None), ("post", "/consents", {"basis": "consent",
             "purpose": "x", "obtained_on": "2025-01-01"}),
            ("patch", f"/consents/{record.pk}", {"version": 1, "purpose": "y"}),
            ("delete", f"/consents/{record.pk}", None),
        ):  # fmt: skip
            args = (body,) if body is not None else ()
            foreign = getattr(client, method)(f"/contacts/{contact_a.pk}{path}", *args)
            missing = getattr(client, method)(f"/contacts/{contact_a.pk + 1000}{path}", *args)
            assert assert_error(foreign, 404) == assert_error(missing, 404)
    owner_side = api_as(service_rep)
    assert_error(owner_side.get(f"/contacts/{contact_a.pk}/consents"), 403)
    record.refresh_from_db()
    assert (record.purpose, record.version) == ("履行物流服务合同", 1)


def test_the_api_answers_another_contacts_record_404(
    record: ConsentRecord, owner: User, account_a: Any, api_as: Callable
) -> None:
    from tests.factories import ContactFactory

    other = ContactFactory(account=account_a)
    client = api_as(owner)
    assert_error(client.patch(f"/contacts/{other.pk}/consents/{record.pk}", {"version": 1}), 404)
    assert_error(client.delete(f"/contacts/{other.pk}/consents/{record.pk}"), 404)
    assert ConsentRecord.objects.filter(pk=record.pk).exists()


def test_an_erased_contact_s_basis_cannot_change(
    record: ConsentRecord, contact_a: Contact, owner: User, api_as: Callable
) -> None:
    from kam.accounts import services

    services.contact_erase(by=owner, contact=contact_a)
    client = api_as(owner)
    body = assert_error(client.patch(f"/contacts/{contact_a.pk}/consents/{record.pk}",
                                     {"version": 1, "purpose": "y"}), 400)  # fmt: skip
    assert "erased" in body["detail"]
