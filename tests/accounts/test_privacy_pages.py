"""The contact's personal-information page: what is held, corrections at the person's
request, who read the data; and the links to it."""

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kam.accounts import services
from kam.accounts.models import Account, ConsentRecord, Contact, RetentionRun
from kam.core.models import AccessLog, User
from tests.accounts import privacy_world
from tests.accounts.privacy_world import NAME
from tests.factories import ContactFactory, ContactTieFactory


def _web(user: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def test_the_page_says_what_is_held_without_showing_values(
    account_a: Account, owner: User, service_rep: User, department: User
) -> None:
    world = privacy_world.build(
        account=account_a, owner=owner, service_rep=service_rep, department=department
    )
    before = AccessLog.objects.count()
    response = _web(owner).get(f"/contacts/{world.person.pk}/privacy/")
    assert response.status_code == 200
    page = response.content.decode()
    held = response.context["held"]
    assert "mobile phone" in held.details and "hobbies" in held.personal
    assert (held.contact_ties, held.staff_ties) == (1, 1)
    counts = {r.table: r.count for r in held.records}
    assert counts == {"coverage.visitreport.contacts": 1, "service.case.contacts": 2,
                      "service.invitation.contact": 1}  # fmt: skip
    assert world.person.hobbies not in page and "13900001111" not in page
    assert f"{NAME}要求更正手机号" in page  # the correction
    assert "Export (XLSX)" in page and "Erase personal data" in page
    assert AccessLog.objects.count() == before  # nothing protected was shown


def test_the_correction_is_marked_in_the_history(contact_a: Contact, owner: User) -> None:
    client = _web(owner)
    url = f"/contacts/{contact_a.pk}/edit/"
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update({"name": "林志强", "phone_mobile": "13800000000", "version": contact_a.version,
                 "birthday": "1975-09-03", "correction-requested": "on"})  # fmt: skip
    # Ticked without saying what: refused, nothing saved.
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Say briefly what the person asked to correct." in str(
        response.context["correction"].errors["reason"]
    )
    contact_a.refresh_from_db()
    assert contact_a.phone_mobile == "13912345678"
    data["correction-reason"] = "本人来电要求更正手机号"
    assert client.post(url, data).status_code == 302
    contact_a.refresh_from_db()
    assert contact_a.phone_mobile == "13800000000"
    latest = contact_a.history.latest()
    assert latest.history_change_reason == "request: 本人来电要求更正手机号"
    page = client.get(f"/contacts/{contact_a.pk}/privacy/").content.decode()
    assert "本人来电要求更正手机号" in page


def test_an_ordinary_edit_is_no_correction(contact_a: Contact, owner: User) -> None:
    client = _web(owner)
    url = f"/contacts/{contact_a.pk}/edit/"
    data = {k: v for k, v in client.get(url).context["form"].initial.items() if v is not None}
    data.update({"name": "林志强", "title": "总裁", "version": contact_a.version,
                 "birthday": "1975-09-03"})  # fmt: skip
    assert client.post(url, data).status_code == 302
    contact_a.refresh_from_db()
    assert contact_a.title == "总裁" and not contact_a.history.latest().history_change_reason
    assert (
        "No correction has been requested."
        in client.get(f"/contacts/{contact_a.pk}/privacy/").content.decode()
    )


@pytest.mark.parametrize(
    ("persona", "shown"),
    [("owner", True), ("director", True), ("service_rep", False), ("department", False)],
)
def test_the_contact_page_links_the_privacy_page_for_those_who_may(
    persona: str, shown: bool, request: Any, contact_a: Contact
) -> None:
    page = _web(request.getfixturevalue(persona)).get(f"/contacts/{contact_a.pk}/")
    assert ('id="contact-privacy"' in page.content.decode()) is shown


def test_an_erased_contact_s_page_offers_exports_only(contact_a: Contact, owner: User) -> None:
    services.contact_erase(by=owner, contact=contact_a)
    page = _web(owner).get(f"/contacts/{contact_a.pk}/privacy/").content.decode()
    assert (
        'id="export-json"' in page and 'id="erase"' not in page and 'id="consent-form"' not in page
    )


def test_directors_find_the_retention_page_in_their_menu(director: User, owner: User) -> None:
    assert "/privacy/retention/" in _web(director).get("/").content.decode()
    assert "/privacy/retention/" not in _web(owner).get("/").content.decode()


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_retention_list_takes_as_many_queries_for_3_runs_as_for_30(director: User) -> None:
    def runs(n: int) -> None:
        RetentionRun.objects.bulk_create(
            RetentionRun(as_of=datetime.date(2026, 6, 30), years=3, cutoff=datetime.date(2023, 6, 30),
                         channel="cli", by=director if i % 2 else None, contact_ids=[i])
            for i in range(n)
        )  # fmt: skip

    client = _web(director)
    runs(3)
    few = _queries(client, "/privacy/retention/")
    runs(27)
    assert _queries(client, "/privacy/retention/") == few


def test_the_privacy_page_takes_as_many_queries_for_many_records_as_for_one(
    contact_a: Contact, owner: User
) -> None:
    def more(n: int) -> None:
        for i in range(n):
            ConsentRecord.objects.create(contact=contact_a, basis="consent", purpose=f"p{i}",
                                         obtained_on=datetime.date(2025, 1, 1), recorded_by=owner)  # fmt: skip
            ContactTieFactory(
                from_contact=contact_a, to_contact=ContactFactory(account=contact_a.account)
            )

    client = _web(owner)
    more(1)
    one = _queries(client, f"/contacts/{contact_a.pk}/privacy/")
    more(10)
    assert _queries(client, f"/contacts/{contact_a.pk}/privacy/") == one
