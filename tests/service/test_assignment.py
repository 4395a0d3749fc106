"""Who a new case goes to (the account's service rep, else the service team in turn, else
the owner), and re-assignment: who may, to whom, what the timeline and the new assignee
get, and what a refusal says (pages and API)."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from kam.accounts.models import Account, TeamMembership, TeamRole
from kam.core.errors import PermissionDeniedError
from kam.core.models import Notification, Role, User
from kam.service import selectors, services
from kam.service.models import AssignmentTurn, Case, CaseEvent, SlaPolicy
from tests.conftest import assert_error
from tests.factories import AccountFactory, TeamMembershipFactory, UserFactory

from .conftest import MONDAY

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def _open(by: User, account: Account, **kwargs: Any) -> Case:
    return services.case_open(by=by, account=account, kind="inquiry", channel="phone",
                              severity="medium", subject="查询", now=MONDAY, **kwargs)  # fmt: skip


def _owned(owner: User, n: int) -> list[Account]:
    accounts = [AccountFactory(tier=2) for _ in range(n)]
    for a in accounts:
        TeamMembershipFactory(account=a, user=owner, role=TeamRole.OWNER)
    return accounts


def test_a_case_typed_by_the_owner_goes_to_the_accounts_service_rep(
    account_a: Account, owner: User, service_rep: User, policy: SlaPolicy
) -> None:
    case = _open(owner, account_a)
    assert case.assignee == service_rep  # not to whoever typed it
    event = case.events.get(kind=CaseEvent.Kind.ASSIGNED)
    assert event.data == {"rule": "service_rep", "to_user": service_rep.pk}
    assert "该客户的客服代表" in event.text  # in the product's language
    note = Notification.objects.get(user=service_rep, kind="service.assigned")
    assert case.number in note.subject
    assert selectors.queue_for(service_rep, scope="mine").get() == case


def test_without_a_service_rep_the_service_team_takes_turns(owner: User, policy) -> None:
    team = [UserFactory(role=Role.SERVICE) for _ in range(3)]
    UserFactory(role=Role.SERVICE, is_active=False)  # never in turn
    accounts = _owned(owner, 4)
    assignees = [_open(owner, a).assignee for a in accounts]
    assert assignees == [team[0], team[1], team[2], team[0]]
    # Each became the account's service rep: its next case goes to the same person.
    for account, person in zip(accounts, assignees, strict=True):
        assert TeamMembership.objects.get(account=account, user=person).role == TeamRole.SERVICE_REP
    assert _open(owner, accounts[1]).assignee == team[1]
    assert AssignmentTurn.objects.get(name="service").last_user == team[0]


def test_the_turn_survives_a_new_member_and_skips_a_leaver(owner: User, policy) -> None:
    first, second = UserFactory(role=Role.SERVICE), UserFactory(role=Role.SERVICE)
    accounts = _owned(owner, 3)
    assert _open(owner, accounts[0]).assignee == first
    second.is_active = False
    second.save()
    third = UserFactory(role=Role.SERVICE)
    assert _open(owner, accounts[1]).assignee == third  # after first; the leaver skipped
    assert _open(owner, accounts[2]).assignee == first  # wraps


def test_with_no_service_team_the_owner_takes_it(owner: User, policy) -> None:
    (account,) = _owned(owner, 1)
    case = _open(owner, account)
    assert case.assignee == owner
    assert case.events.get(kind=CaseEvent.Kind.ASSIGNED).data["rule"] == "owner"


def test_a_chosen_assignee_overrides_the_rule(account_a, owner, service_rep, policy) -> None:
    case = _open(owner, account_a, assignee=owner)
    assert case.assignee == owner
    assert not case.events.filter(kind=CaseEvent.Kind.ASSIGNED).exists()


def test_the_new_case_form_defaults_to_the_rule(account_a, owner, service_rep, policy) -> None:
    client = _client(owner)
    page = client.get(f"/service/cases/new/?account={account_a.pk}")
    assert "By rule" in page.content.decode()
    done = client.post("/service/cases/new/", {
        "account": account_a.pk, "kind": "complaint", "channel": "phone", "severity": "medium",
        "subject": "破损", "assignee": ""})  # fmt: skip
    assert done.status_code == 302, done.content.decode()[:3000]
    assert Case.objects.get().assignee == service_rep


# --- re-assignment ----------------------------------------------------------------------


def test_reassigning_records_who_from_whom_to_whom_and_why_and_tells_the_new_assignee(
    complaint: Case, service_rep: User, owner: User
) -> None:
    Notification.objects.all().delete()
    services.case_assign(by=service_rep, case=complaint, assignee=owner, reason="客户要求经理处理")
    case = Case.objects.get()
    assert case.assignee == owner
    event = case.events.filter(kind=CaseEvent.Kind.ASSIGNED).latest("id")
    assert event.actor == service_rep and event.data == {"from_user": service_rep.pk,
                                                         "to_user": owner.pk}  # fmt: skip
    assert "客户要求经理处理" in event.text
    assert Notification.objects.get().user == owner


def test_reassigning_to_someone_off_the_team_is_refused_by_name(
    complaint: Case, service_rep: User, colleague: User, analyst: User
) -> None:
    with pytest.raises(ValidationError) as refused:
        services.case_assign(by=service_rep, case=complaint, assignee=colleague)
    assert "is not on this account's team" in str(refused.value)
    with pytest.raises(ValidationError) as refused:
        services.case_assign(by=service_rep, case=complaint, assignee=analyst)
    assert "cannot take service cases" in str(refused.value)
    assert Case.objects.get().assignee == service_rep
    assert complaint.events.filter(kind=CaseEvent.Kind.ASSIGNED).count() == 0


def test_only_the_assignee_the_owner_or_the_department_reassign(
    complaint: Case, owner: User, service_rep: User, department: User, boss: User
) -> None:
    other_rep = UserFactory(role=Role.SERVICE)
    TeamMembershipFactory(account=complaint.account, user=other_rep, role=TeamRole.CO_OWNER)
    with pytest.raises(PermissionDeniedError):
        services.case_assign(by=other_rep, case=complaint, assignee=other_rep)
    services.case_assign(by=owner, case=complaint, assignee=other_rep)  # the owner may
    services.case_assign(by=department, case=complaint, assignee=service_rep)  # so may they
    assert Case.objects.get().assignee == service_rep


def test_the_page_shows_the_refusal_and_hides_the_form_from_those_who_may_not(
    complaint: Case, service_rep: User, colleague: User
) -> None:
    client = _client(service_rep)
    page = client.post(f"/service/cases/{complaint.pk}/assign/",
                       {"assignee": colleague.pk, "reason": ""})  # fmt: skip
    # Not offered in the list; a forged choice is refused saying why, naming no account.
    html = page.content.decode()
    assert page.status_code == 400 and "is not on this account&#x27;s team" in html
    assert Case.objects.get().assignee == service_rep
    unknown = client.post(f"/service/cases/{complaint.pk}/assign/", {"assignee": 99999})
    assert unknown.status_code == 400 and "Select a valid choice" in unknown.content.decode()
    other_rep = UserFactory(role=Role.SERVICE)
    TeamMembershipFactory(account=complaint.account, user=other_rep, role=TeamRole.SERVICE_REP)
    assert 'id="assign-form"' not in _client(other_rep).get(
        f"/service/cases/{complaint.pk}/").content.decode()  # fmt: skip
    ok = client.post(f"/service/cases/{complaint.pk}/assign/",
                     {"assignee": other_rep.pk, "reason": "休假"})  # fmt: skip
    assert ok.status_code == 302 and Case.objects.get().assignee == other_rep


def test_the_api_reassigns_and_refuses_with_the_reason(
    api_as, complaint: Case, service_rep: User, owner: User, colleague: User
) -> None:
    api = api_as(service_rep)
    refused = assert_error(api.post(f"/service/cases/{complaint.pk}/assign",
                                    {"assignee_id": colleague.pk}), 422, "assignee")  # fmt: skip
    assert "not on this account's team" in refused["errors"][0]["message"]
    assert_error(api.post(f"/service/cases/{complaint.pk}/assign",
                          {"assignee_id": owner.pk, "reason": "x" * 201}), 422, "reason")  # fmt: skip
    done = api.post(f"/service/cases/{complaint.pk}/assign",
                    {"assignee_id": owner.pk, "reason": "升级"})  # fmt: skip
    assert done.status_code == 200 and done.json()["assignee_id"] == owner.pk
