"""Erasure leaves no name behind: not in any table, history or log (PIPL Art. 47).

The proof is generic: a person with activity in every app is erased, then every text,
character and JSON column of every table in the database is scanned for the name."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone, translation

from kam.accounts import services
from kam.accounts.models import (
    Account,
    ConsentRecord,
    Contact,
    ContactTie,
    StaffTie,
    TeamRole,
)
from kam.accounts.privacy import erasure
from kam.core.errors import PermissionDeniedError
from kam.core.models import AccessLog, Notification, User
from kam.core.selectors import access_log_for
from kam.coverage.models import Finding, VisitReport
from kam.service.models import Case, CaseEvent, Response
from tests.accounts import privacy_world
from tests.accounts.privacy_world import NAME
from tests.factories import (
    AccountFactory,
    ContactFactory,
    ContactTieFactory,
    GroupFactory,
    TeamMembershipFactory,
)


@pytest.fixture
def world(
    account_a: Account, owner: User, service_rep: User, department: User, director: User
) -> privacy_world.World:
    return privacy_world.build(
        account=account_a, owner=owner, service_rep=service_rep, department=department
    )


def test_erasure_leaves_the_name_in_no_column_of_any_table(
    world: privacy_world.World, owner: User
) -> None:
    before = privacy_world.tables_holding(NAME)
    # The scan finds the name everywhere the apps put it (it can fail), in many columns.
    for column in (
        "accounts_contact.name", "accounts_historicalcontact.name",
        "accounts_historicalcontact.history_change_reason", "accounts_consentrecord.evidence",
        "accounts_contacttie.note", "accounts_stafftie.note", "core_accesslog.subject_label",
        "core_notification.subject", "core_notification.body", "coverage_visitreport.purpose",
        "coverage_visitreport.summary", "coverage_finding.text", "coverage_followup.title",
        "service_case.subject", "service_case.description",
        "service_caseevent.text", "service_response.comment",
    ):  # fmt: skip
        assert column in before, (column, sorted(before))
    assert privacy_world.columns_scanned() > 100

    services.contact_erase(by=owner, contact=world.person, path="/test")

    assert privacy_world.tables_holding(NAME) == {}, connection.vendor


def test_erasure_keeps_the_business_record_under_the_pseudonym(
    world: privacy_world.World, owner: User
) -> None:
    with translation.override("en"):
        services.contact_erase(by=owner, contact=world.person)
    person = Contact.objects.get(pk=world.person.pk)
    label = erasure.pseudonym(person.pk)
    assert person.name == label and label.endswith(f"#{person.pk}")
    assert person.title == "物流总监" and person.erased_at is not None
    # Still an attendee, still involved in the case, still the survey's respondent.
    assert VisitReport.contacts.through.objects.filter(contact_id=person.pk).exists()
    assert Case.contacts.through.objects.filter(contact_id=person.pk, case=world.case).exists()
    report = VisitReport.objects.get(pk=world.report.pk)
    assert report.summary == f"{label}表示明年扩大华南仓配；{label}的上级也在场。"
    assert Finding.objects.get(report=report).text == f"{label}需要冷链方案"
    assert CaseEvent.objects.filter(case=world.case, text=f"已回电{label}，约定明天回复。").exists()
    assert Response.objects.get(pk=world.response.pk).comment == f"我是{label}，服务太慢。"
    assert Notification.objects.filter(subject=f"请联系{label}", body=f"{label}下周来访。").exists()
    # The lawful basis stays (it shows the processing was lawful), without the name.
    record = ConsentRecord.objects.get(contact=person)
    assert record.evidence == f"{label}签署的同意书 2026-01"
    # ... and ends with the processing: withdrawn today, in its history as an erasure.
    assert record.withdrawn_on == timezone.localdate() and record.version == 2
    assert record.history.latest().history_change_reason == "erased"
    # Ties are gone; the colleague's encrypted social ties no longer name the person.
    assert not ContactTie.objects.filter(from_contact=person).exists()
    assert not StaffTie.objects.filter(contact=person).exists()
    colleague = Contact.objects.get(pk=world.colleague.pk)
    assert colleague.social_ties == f"与{label}是大学同学"
    assert colleague.name == "司马青"


def test_every_access_log_row_about_the_person_keeps_only_the_pseudonymous_id(
    world: privacy_world.World, owner: User
) -> None:
    viewed = AccessLog.objects.filter(subject_type="contact", subject_id=world.person.pk)
    assert viewed.count() >= 2 and set(viewed.values_list("subject_label", flat=True)) == {NAME}
    services.contact_erase(by=owner, contact=world.person, path="/contacts/1/erase/")
    label = erasure.pseudonym(world.person.pk)
    rows = AccessLog.objects.filter(subject_type="contact", subject_id=world.person.pk)
    assert set(rows.values_list("subject_label", flat=True)) == {label}
    erase = rows.get(action=AccessLog.Action.ERASE)
    assert (erase.user, erase.username, erase.channel) == (owner, "owner", "web")
    # The access log (the directors' page) finds the rows under the pseudonym only.
    director = User.objects.get(username="director")
    assert not access_log_for(director, whose=NAME).exists()
    assert access_log_for(director, whose=label).count() == rows.count()


def test_a_namesake_at_an_unrelated_account_keeps_their_name(
    world: privacy_world.World, owner: User, account_b: Account, contact_b: Contact
) -> None:
    """Rows of other accounts are not searched: the same name there is most likely
    someone else. Other people's names are never rewritten."""
    namesake = ContactFactory(account=account_b, name=NAME, family=f"{NAME}的妻子是医生")
    services.contact_erase(by=owner, contact=world.person)
    namesake.refresh_from_db()
    assert (namesake.name, namesake.family) == (NAME, f"{NAME}的妻子是医生")
    assert privacy_world.tables_holding(NAME) == {
        "accounts_contact.name": 1,
        "accounts_historicalcontact.name": 1,  # the namesake's
    }


def test_the_group_s_other_accounts_are_searched_too(owner: User, account_a: Account) -> None:
    group = GroupFactory()
    account_a.group = group
    account_a.save()
    sister = AccountFactory(group=group)
    person = ContactFactory(account=account_a, name="诸葛明亮")
    there = ContactFactory(account=sister, name="上官婉", social_ties="认识诸葛明亮多年")
    services.contact_erase(by=owner, contact=person)
    there.refresh_from_db()
    assert there.social_ties == f"认识{erasure.pseudonym(person.pk)}多年"


def test_longer_names_that_contain_the_name_are_kept(owner: User, account_a: Account) -> None:
    person = ContactFactory(account=account_a, name="张伟", social_ties="")
    ContactFactory(account=account_a, name="张伟明", social_ties="")
    other = ContactFactory(account=account_a, name="王芳", family="丈夫张伟明；同事张伟")
    account_a.notes = "张伟贸易有限公司是其供应商"
    account_a.save()
    AccountFactory(name="张伟贸易有限公司")
    services.contact_erase(by=owner, contact=person)
    other.refresh_from_db()
    account_a.refresh_from_db()
    label = erasure.pseudonym(person.pk)
    assert other.family == f"丈夫张伟明；同事{label}"
    assert account_a.notes == "张伟贸易有限公司是其供应商"
    assert Contact.objects.filter(name="张伟明").exists()


def test_a_latin_name_is_replaced_as_a_whole_word_only(
    owner: User, account_a: Account, contact_a: Contact
) -> None:
    person = ContactFactory(account=account_a, name="Anna Smith")
    account_a.notes = "Anna  Smith called; ask Smithers, not anna smith's boss"
    account_a.save()
    services.contact_erase(by=owner, contact=person)
    account_a.refresh_from_db()
    label = erasure.pseudonym(person.pk)
    assert account_a.notes == f"{label} called; ask Smithers, not {label}'s boss"


def test_the_system_may_erase_and_is_logged_as_the_system(
    contact_a: Contact, account_a: Account
) -> None:
    services.contact_erase(by=None, contact=contact_a, channel=AccessLog.Channel.CLI)
    row = AccessLog.objects.get(action=AccessLog.Action.ERASE)
    assert (row.user, row.username, row.channel) == (None, "system", "cli")
    contact_a.refresh_from_db()
    assert contact_a.history.latest().history_user is None


@pytest.mark.parametrize("persona", ["colleague", "service_rep", "department"])
def test_only_directors_and_team_editors_may_erase(
    persona: str, request: Any, contact_a: Contact
) -> None:
    """A manager of another account, a service rep on the team (no personal information)
    and the department off the team are refused; nothing changes."""
    with pytest.raises(PermissionDeniedError):
        services.contact_erase(by=request.getfixturevalue(persona), contact=contact_a)
    contact_a.refresh_from_db()
    assert contact_a.erased_at is None and contact_a.name == "林志强"


def test_erasure_through_the_page_for_the_owner_and_404_for_an_outsider(
    contact_a: Contact, owner: User, outsider: User, colleague: User
) -> None:
    for stranger in (outsider, colleague):
        client = Client()
        client.force_login(stranger)
        assert client.get(f"/contacts/{contact_a.pk}/erase/").status_code == 404
        assert client.post(f"/contacts/{contact_a.pk}/erase/").status_code == 404
    client = Client()
    client.force_login(owner)
    page = client.get(f"/contacts/{contact_a.pk}/erase/", headers={"Accept-Language": "en"})
    assert "pseudonym" in page.content.decode()
    response = client.post(f"/contacts/{contact_a.pk}/erase/")
    assert response.status_code == 302
    contact_a.refresh_from_db()
    assert contact_a.erased_at is not None
    assert privacy_world.tables_holding("林志强") == {}


def test_a_manager_s_erasure_reaches_rows_of_accounts_they_cannot_read(
    owner: User, colleague: User, account_a: Account
) -> None:
    """Through the page, so that on PostgreSQL the request runs under row-level security:
    a tie from someone at the group's other account (not the owner's) is deleted and that
    person's notes lose the name all the same."""
    group = GroupFactory()
    account_a.group = group
    account_a.save()
    sister = AccountFactory(group=group)
    TeamMembershipFactory(account=sister, user=colleague, role=TeamRole.OWNER)
    person = ContactFactory(account=account_a, name="慕容复")
    there = ContactFactory(account=sister, name="段誉", social_ties="与慕容复相识多年")
    ContactTieFactory(from_contact=there, to_contact=person, note="慕容复的朋友")
    client = Client()
    client.force_login(owner)
    assert client.post(f"/contacts/{person.pk}/erase/").status_code == 302
    there.refresh_from_db()
    assert there.social_ties == f"与{erasure.pseudonym(person.pk)}相识多年"
    assert not ContactTie.objects.filter(to_contact=person).exists()
    assert privacy_world.tables_holding("慕容复") == {}
