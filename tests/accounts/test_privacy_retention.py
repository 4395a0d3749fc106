"""The retention rule: contacts with no business for N years lose their personal
information to a scheduled job, which stores a run record, tells the directors and logs
the erasures as the system. With a frozen clock."""

import datetime
import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from kam.accounts import services
from kam.accounts.models import Account, ConsentRecord, Contact, RetentionRun
from kam.accounts.privacy import retention
from kam.core.models import AccessLog, Notification, User
from kam.coverage import services as coverage
from kam.service import services as service
from tests.factories import ContactFactory, ContactTieFactory, UserFactory

CST = datetime.timezone(datetime.timedelta(hours=8))
#: When the archive was filled: years before the rule runs.
LONG_AGO = datetime.datetime(2021, 3, 1, 10, 0, tzinfo=CST)
AS_OF = datetime.date(2026, 6, 30)  # the cutoff for 3 years is 2023-06-30


@pytest.fixture
def people(
    time_machine: Any, account_a: Account, owner: User, service_rep: User
) -> dict[str, Contact]:
    """Contacts created in 2021; some had business later (through the apps' services)."""
    time_machine.move_to(LONG_AGO, tick=False)
    made = {
        key: ContactFactory(account=account_a, name=name)
        for key, name in [
            ("idle", "陈久"),
            ("edited", "李新"),
            ("visited", "王访"),
            ("case", "赵诉"),
            ("tied", "钱交"),
            ("consent_only", "孙同"),
        ]  # fmt: skip
    }
    ConsentRecord.objects.create(
        contact=made["consent_only"], basis="consent", purpose="p",
        obtained_on=datetime.date(2021, 3, 1),
    )  # fmt: skip
    time_machine.move_to(datetime.datetime(2024, 2, 1, 10, 0, tzinfo=CST), tick=False)
    services.contact_update(by=owner, contact=made["edited"], data={"title": "经理"}, version=None)
    coverage.report_submit(by=owner, account=account_a, visited_on=datetime.date(2024, 2, 1),
                           purpose="回访", summary="好", contacts=[made["visited"]])  # fmt: skip
    service.case_open(by=owner, account=account_a, kind="inquiry", channel="phone",
                      severity="low", subject="询价", contacts=[made["case"]],
                      assignee=service_rep)  # fmt: skip
    ContactTieFactory(from_contact=made["tied"], to_contact=made["idle"], kind="friend")
    # A lawful basis recorded lately is no business.
    ConsentRecord.objects.create(
        contact=made["consent_only"], basis="contract", purpose="q",
        obtained_on=datetime.date(2024, 2, 1),
    )  # fmt: skip
    time_machine.move_to(datetime.datetime(2026, 6, 30, 2, 0, tzinfo=CST), tick=False)
    return made


def test_the_cutoff_is_n_years_before_as_of() -> None:
    assert retention.cutoff_for(datetime.date(2026, 6, 30), 3) == datetime.date(2023, 6, 30)
    assert retention.cutoff_for(datetime.date(2028, 2, 29), 1) == datetime.date(2027, 2, 28)


def test_business_is_the_latest_of_edits_reports_cases_and_ties(people: dict[str, Contact]) -> None:
    last = retention.last_business(c.pk for c in people.values())
    on = {key: last[c.pk] for key, c in people.items()}
    # The tie of 2024 is business for both of its ends (idle is known by tied).
    assert on == {
        "idle": datetime.date(2024, 2, 1), "edited": datetime.date(2024, 2, 1),
        "visited": datetime.date(2024, 2, 1), "case": datetime.date(2024, 2, 1),
        "tied": datetime.date(2024, 2, 1), "consent_only": datetime.date(2021, 3, 1),
    }  # fmt: skip
    assert retention.contacts_due(as_of=AS_OF, years=3) == [people["consent_only"].pk]
    assert set(retention.contacts_due(as_of=AS_OF, years=2)) == {c.pk for c in people.values()}


def test_a_survey_invitation_counts_only_when_answered() -> None:
    from kam.service.models import Invitation

    assert retention.activity_columns(Invitation) == ["answered_at"]
    assert "due_date" not in retention.activity_columns(__import__(
        "kam.coverage.models", fromlist=["FollowUp"]).FollowUp)  # fmt: skip


def test_a_dry_run_erases_nothing_and_is_stored(people: dict[str, Contact], director: User) -> None:
    run = retention.retention_run(as_of=AS_OF, years=2, dry_run=True)
    assert (run.dry_run, run.count, run.cutoff) == (True, 6, datetime.date(2024, 6, 30))
    assert sorted(run.contact_ids) == sorted(c.pk for c in people.values())
    assert not Contact.objects.filter(erased_at__isnull=False).exists()
    assert not AccessLog.objects.filter(action=AccessLog.Action.ERASE).exists()
    assert not Notification.objects.filter(kind="accounts.retention").exists()


def test_a_run_erases_the_contacts_due_as_the_system_and_tells_directors(
    people: dict[str, Contact], director: User, owner: User
) -> None:
    other_director = UserFactory(role="director", username="director2")
    run = retention.retention_run(as_of=AS_OF)
    assert (run.dry_run, run.years, run.count, run.channel) == (False, 3, 1, "cli")
    assert run.contact_ids == [people["consent_only"].pk]
    gone = Contact.objects.get(pk=people["consent_only"].pk)
    assert gone.erased_at is not None and gone.name.endswith(f"#{gone.pk}")
    assert gone.phone_mobile == "" and gone.hobbies == ""
    kept = Contact.objects.get(pk=people["idle"].pk)
    assert kept.erased_at is None and kept.name == "陈久"
    (row,) = AccessLog.objects.filter(action=AccessLog.Action.ERASE)
    assert (row.user, row.username, row.channel, row.subject_id) == (None, "system", "cli", gone.pk)
    told = Notification.objects.filter(kind="accounts.retention")
    assert set(told.values_list("user", flat=True)) == {director.pk, other_director.pk}
    note = told.first()
    assert f"#{gone.pk}" in note.body and "孙同" not in note.body + note.subject
    assert note.url == f"/privacy/retention/{run.pk}/"


def test_running_again_erases_nothing_more(people: dict[str, Contact], director: User) -> None:
    retention.retention_run(as_of=AS_OF, years=2)
    second = retention.retention_run(as_of=AS_OF, years=2)
    assert (second.count, second.contact_ids) == (0, [])
    assert AccessLog.objects.filter(action=AccessLog.Action.ERASE).count() == 6
    assert Notification.objects.filter(kind="accounts.retention").count() == 1
    assert RetentionRun.objects.count() == 2


def test_business_after_the_dry_run_saves_the_contact(
    people: dict[str, Contact], owner: User
) -> None:
    dry = retention.retention_run(as_of=AS_OF, dry_run=True)
    assert dry.contact_ids == [people["consent_only"].pk]
    services.contact_update(by=owner, contact=people["consent_only"], data={"title": "新"},
                            version=None)  # fmt: skip
    assert retention.retention_run(as_of=AS_OF).count == 0


def test_the_period_comes_from_the_setting(people: dict[str, Contact], settings: Any) -> None:
    settings.PERSONAL_DATA_RETENTION_YEARS = 2
    assert retention.retention_run(as_of=AS_OF, dry_run=True).count == 6


def test_the_command_reports_json_and_refuses_bad_input(
    people: dict[str, Contact], director: User
) -> None:
    out = StringIO()
    call_command("privacy", "retention", "--as-of", "2026-06-30", "--dry-run", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report | {"run": 0} == {
        "run": 0, "as_of": "2026-06-30", "years": 3, "cutoff": "2023-06-30", "dry_run": True,
        "count": 1, "contacts": [people["consent_only"].pk],
    }  # fmt: skip
    out = StringIO()
    call_command("privacy", "retention", "--as-of", "2026-06-30", stdout=out)
    assert "erased the personal information of 1 contacts" in out.getvalue()
    with pytest.raises(CommandError, match="1 to 100 years"):
        call_command("privacy", "retention", "--years", "0")
    with pytest.raises(CommandError, match="2026-07-01"):
        call_command("privacy", "retention", "--as-of", "30/06/2026")


# --- the directors' page ------------------------------------------------------------------


def test_directors_see_the_runs_and_others_get_404(
    people: dict[str, Contact], director: User, owner: User, department: User, admin: User
) -> None:
    run = retention.retention_run(as_of=AS_OF)
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(director)
    page = client.get("/privacy/retention/").content.decode()
    assert "Retention of personal information" in page and f"/privacy/retention/{run.pk}/" in page
    detail = client.get(f"/privacy/retention/{run.pk}/").content.decode()
    assert f"#{people['consent_only'].pk}" in detail and "孙同" not in detail
    assert client.get(f"/privacy/retention/{run.pk + 1}/").status_code == 404
    for user in (owner, department, admin):
        other = Client()
        other.force_login(user)
        assert other.get("/privacy/retention/").status_code == 404
        assert other.get(f"/privacy/retention/{run.pk}/").status_code == 404
