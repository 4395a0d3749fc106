"""The access request (PIPL Art. 45): everything held about a person, as JSON and XLSX,
logged as an export; for the owner, refused to a colleague with another role, and 404 to
managers of other accounts exactly as for a missing contact."""

import json
from collections.abc import Callable, Iterator
from io import BytesIO
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, models
from django.test import Client
from openpyxl import load_workbook

from kam.accounts.models import Account, Contact
from kam.accounts.privacy import relations
from kam.core import rls
from kam.core.models import AccessLog, User
from tests.accounts import privacy_world
from tests.accounts.privacy_world import NAME
from tests.conftest import assert_error


@pytest.fixture
def world(
    account_a: Account, owner: User, service_rep: User, department: User
) -> privacy_world.World:
    return privacy_world.build(
        account=account_a, owner=owner, service_rep=service_rep, department=department
    )


def _web(user: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def _export_json(user: User, contact: Contact) -> dict[str, Any]:
    response = _web(user).get(f"/contacts/{contact.pk}/privacy/export.json")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    assert f"kam-contact-{contact.pk}-" in response["Content-Disposition"]
    return json.loads(response.content)


def _pairs(sheet: Any) -> Iterator[tuple[Any, Any]]:
    for row in sheet.iter_rows(values_only=True):  # a read-only sheet drops empty cells
        yield row[0], row[1] if len(row) > 1 else None


def test_the_export_holds_everything_about_the_person(
    world: privacy_world.World, owner: User
) -> None:
    doc = _export_json(owner, world.person)
    person = doc["contact"]
    assert (person["id"], person["name"], person["title"]) == (world.person.pk, NAME, "物流总监")
    # Contact details and personal information, decrypted.
    assert person["phone_mobile"] == "13900001111"
    assert person["hobbies"] == world.person.hobbies and person["birthday"] == "1980-05-17"
    assert person["account"] == {
        "id": world.person.account_id,
        "label": "Fujian Mingda Electronics Co., Ltd.",
    }
    assert "version" not in person
    # Lawful basis, with its history.
    (basis,) = doc["lawful_basis"]
    assert (basis["basis"], basis["purpose"], basis["obtained_on"]) == (
        "Consent of the person", "维护业务联系", "2026-01-05",
    )  # fmt: skip
    assert basis["recorded_by"]["label"] == "客户经理张"
    assert doc["lawful_basis_history"][0]["purpose"] == "维护业务联系"
    # Ties to other people and to our staff.
    kinds = {(t["direction"], t["person"]) for t in doc["ties"]}
    assert kinds == {("knows", "司马青"), ("our staff", "客户经理张")}
    # Records that name them, found from the models: the visit report they attended
    # (date and purpose), the cases about them, the survey invitation with its answer.
    records = doc["records"]
    (report,) = records["coverage.visitreport.contacts"]["rows"]
    assert report["purpose"] == f"拜访{NAME}" and report["visit"]["label"].startswith(
        world.report.visit.day.isoformat()
    )
    subjects = {r["subject"] for r in records["service.case.contacts"]["rows"]}
    assert f"{NAME}投诉延误" in subjects and len(subjects) == 2  # and the survey's follow-up
    (invitation,) = records["service.invitation.contact"]["rows"]
    assert invitation["response"]["comment"] == f"我是{NAME}，服务太慢。"
    assert "token_hash" not in invitation and "previous_hashes" not in invitation
    # Corrections at their request, and who read their data.
    assert doc["corrections"][0]["reason"] == f"{NAME}要求更正手机号"
    actions = [(e["username"], e["action"], e["channel"]) for e in doc["access_log"]]
    assert ("owner", "Viewed", "Web page") in actions and ("owner", "Viewed", "API") in actions
    assert doc["export"]["format"] == "kam.contact-export/1"


def test_the_export_is_written_to_the_access_log(world: privacy_world.World, owner: User) -> None:
    _export_json(owner, world.person)
    row = AccessLog.objects.get(action=AccessLog.Action.EXPORT)
    assert (row.user, row.subject_id, row.channel, row.account_id) == (
        owner, world.person.pk, "web", world.person.account_id,
    )  # fmt: skip
    assert row.path == f"/contacts/{world.person.pk}/privacy/export.json"
    assert {"name", "phone_mobile", "hobbies", "birthday", "family"} <= set(row.fields)


def test_the_xlsx_export_has_a_sheet_per_part(world: privacy_world.World, owner: User) -> None:
    response = _web(owner).get(f"/contacts/{world.person.pk}/privacy/export.xlsx")
    assert response.status_code == 200
    book = load_workbook(BytesIO(response.content), read_only=True)
    names = book.sheetnames
    for sheet in ("Person", "Lawful basis", "Ties", "visit reports", "service cases",
                  "invitations", "Access log"):  # fmt: skip
        assert sheet in names, names
    person = dict(_pairs(book["Person"]))
    assert person["mobile phone"] == "13900001111" and person["name"] == NAME
    reports = list(book["visit reports"].iter_rows(values_only=True))
    assert f"拜访{NAME}" in reports[1]
    assert AccessLog.objects.filter(action=AccessLog.Action.EXPORT).count() == 1


def test_the_xlsx_export_keeps_formulas_as_text(owner: User, contact_a: Contact) -> None:
    contact_a.hobbies = '=HYPERLINK("http://evil.example")'
    contact_a.save()
    response = _web(owner).get(f"/contacts/{contact_a.pk}/privacy/export.xlsx")
    book = load_workbook(BytesIO(response.content))
    person = dict(_pairs(book["Person"]))
    assert person["hobbies"] == '\'=HYPERLINK("http://evil.example")'


def test_directors_export_too(director: User, contact_a: Contact) -> None:
    assert _export_json(director, contact_a)["contact"]["name"] == "林志强"


@pytest.mark.parametrize("persona", ["service_rep", "department"])
def test_a_colleague_who_may_not_see_personal_information_is_refused(
    persona: str, request: Any, contact_a: Contact
) -> None:
    user = request.getfixturevalue(persona)
    for fmt in ("json", "xlsx"):
        response = _web(user).get(f"/contacts/{contact_a.pk}/privacy/export.{fmt}")
        assert response.status_code == 403
        assert "林志强" not in response.content.decode()
    assert not AccessLog.objects.filter(action=AccessLog.Action.EXPORT).exists()


@pytest.mark.parametrize("persona", ["colleague", "outsider", "analyst", "admin"])
def test_outsiders_get_404_as_for_a_missing_contact(
    persona: str, request: Any, contact_a: Contact
) -> None:
    client = _web(request.getfixturevalue(persona))
    for fmt in ("json", "xlsx"):
        foreign = client.get(f"/contacts/{contact_a.pk}/privacy/export.{fmt}")
        missing = client.get(f"/contacts/{contact_a.pk + 1000}/privacy/export.{fmt}")
        assert foreign.status_code == missing.status_code == 404
    assert not AccessLog.objects.filter(action=AccessLog.Action.EXPORT).exists()


def test_the_api_exports_and_logs_with_its_channel(
    world: privacy_world.World, owner: User, api_as: Callable
) -> None:
    response = api_as(owner).get(f"/contacts/{world.person.pk}/export")
    assert response.status_code == 200
    body = response.json()
    assert body["contact"]["phone_mobile"] == "13900001111"
    assert set(body) >= {"export", "contact", "lawful_basis", "ties", "records", "access_log"}
    row = AccessLog.objects.get(action=AccessLog.Action.EXPORT)
    assert (row.channel, row.path) == ("api", f"/api/v1/contacts/{world.person.pk}/export")


def test_the_api_answers_foreign_and_missing_contacts_alike(
    contact_a: Contact, colleague: User, outsider: User, service_rep: User, api_as: Callable
) -> None:
    for stranger in (colleague, outsider):
        client = api_as(stranger)
        foreign = assert_error(client.get(f"/contacts/{contact_a.pk}/export"), 404)
        missing = assert_error(client.get(f"/contacts/{contact_a.pk + 1000}/export"), 404)
        assert foreign == missing
    assert_error(api_as(service_rep).get(f"/contacts/{contact_a.pk}/export"), 403)
    assert not AccessLog.objects.filter(action=AccessLog.Action.EXPORT).exists()


# --- a later app's records are found without a change to the export -------------------------


@pytest.fixture
def later_app_model(transactional_db: None) -> Iterator[type[models.Model]]:
    """A model that an app built later might add: a table with a key to contacts. It is
    registered and its table created for this test only."""

    class Meeting(models.Model):
        contact = models.ForeignKey(
            Contact, verbose_name="attendee", on_delete=models.CASCADE, related_name="+"
        )
        topic = models.CharField("topic", max_length=100)
        secret_token = models.CharField(max_length=40, default="s3cret")

        class Meta:
            app_label = "accounts"
            db_table = "test_privacy_meeting"
            verbose_name = "meeting"
            verbose_name_plural = "meetings"

        def __str__(self) -> str:
            return self.topic

    relations.contact_relations.cache_clear()
    relations.account_path.cache_clear()
    with connection.schema_editor() as editor:
        editor.create_model(Meeting)
    rls.install()  # what `kam migrate` does after an app's migration (PostgreSQL only)
    try:
        yield Meeting
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(Meeting)
        del apps.all_models["accounts"]["meeting"]
        apps.clear_cache()
        relations.contact_relations.cache_clear()
        relations.account_path.cache_clear()


@pytest.mark.django_db(transaction=True)
def test_a_later_apps_records_are_exported_without_a_change(
    later_app_model: type[models.Model], owner: User, contact_a: Contact
) -> None:
    later_app_model.objects.create(contact=contact_a, topic="年度合同谈判")
    doc = _export_json(owner, contact_a)
    (row,) = doc["records"]["accounts.meeting.contact"]["rows"]
    assert row["topic"] == "年度合同谈判"
    assert "secret_token" not in row
    assert doc["records"]["accounts.meeting.contact"]["title"] == "meetings"
