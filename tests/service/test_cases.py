"""Cases and their SLA clocks through the services: the workflow, pauses, thresholds and
their actions, and every bad input the issue lists (nothing stored changes)."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command

from kam.core.errors import ApplicationError, PermissionDeniedError
from kam.core.models import Notification
from kam.service import selectors, services
from kam.service.models import Case, CaseEvent, Claim, SlaPolicy, Status

from .conftest import MONDAY, at

pytestmark = pytest.mark.django_db


def _events(case: Case, kind: str) -> list[CaseEvent]:
    return list(case.events.filter(kind=kind).order_by("at", "id"))


def test_opening_takes_the_policy_terms_and_due_times(complaint: Case) -> None:
    assert complaint.response_target == 120 and complaint.resolution_target == 480
    assert complaint.clock == "business" and complaint.warning_shares == [50, 80]
    assert complaint.response_due == at(2, 11)
    assert complaint.resolution_due == at(2, 17)
    assert complaint.status == Status.NEW
    assert _events(complaint, "opened")[0].text == "通用 · 中"


def test_the_full_workflow_with_a_pause(complaint: Case, service_rep, cause) -> None:
    case = services.case_transition(
        by=service_rep, case=complaint, action="acknowledge", now=at(2, 9, 30)
    )
    assert case.response_minutes == 30 and case.response_met is True
    case = services.case_transition(by=service_rep, case=case, action="wait", now=at(2, 10))
    assert case.status == Status.WAITING and case.resolution_due is None  # the clock stands still
    case = services.case_transition(by=service_rep, case=case, action="resume", now=at(3, 10))
    # One business hour used before the pause; seven left from Tuesday 10:00.
    assert case.resolution_due == at(3, 17)
    case = services.case_transition(by=service_rep, case=case, action="resolve", now=at(3, 12),
                                    note="已补发并致歉", root_cause=cause)  # fmt: skip
    assert case.resolution_minutes == 180 and case.resolution_met is True
    case = services.case_transition(by=service_rep, case=case, action="close", now=at(3, 13))
    assert case.status == Status.CLOSED
    kinds = [e.kind for e in case.events.order_by("at", "id")]
    assert kinds.count("paused") == 1 and kinds.count("resumed") == 1


def test_reopening_runs_the_clock_on_without_counting_the_resolved_time(
    complaint, service_rep, cause
) -> None:
    case = services.case_transition(by=service_rep, case=complaint, action="resolve", now=at(2, 11),
                                    note="已处理", root_cause=cause)  # fmt: skip
    case = services.case_transition(by=service_rep, case=case, action="reopen", now=at(4, 9))
    assert case.status == Status.REOPENED and case.resolved_at is None
    # Two hours used on Monday; six left from Wednesday 09:00.
    assert case.resolution_due == at(4, 15)


def test_resolving_without_a_note_is_refused_and_changes_nothing(
    complaint, service_rep, cause
) -> None:
    with pytest.raises(ValidationError) as exc:
        services.case_transition(by=service_rep, case=complaint, action="resolve", note="  ",
                                 root_cause=cause, now=at(2, 10))  # fmt: skip
    assert "resolution_note" in exc.value.message_dict
    complaint.refresh_from_db()
    assert complaint.status == Status.NEW and complaint.acknowledged_at is None
    assert not complaint.events.filter(kind="status").exists()


def test_closing_with_an_open_claim_is_refused(account_a, owner, policy, cause) -> None:
    case = services.case_open(by=owner, account=account_a, kind="claim", channel="phone",
                              severity="medium", subject="丢件理赔", claim_amount=Decimal("1200.50"),
                              now=MONDAY)  # fmt: skip
    case = services.case_transition(by=owner, case=case, action="resolve", note="已赔付方案确认",
                                    now=at(2, 10))  # fmt: skip
    with pytest.raises(ApplicationError, match="open claim"):
        services.case_transition(by=owner, case=case, action="close", now=at(2, 11))
    case.refresh_from_db()
    assert case.status == Status.RESOLVED and case.closed_at is None
    services.claim_decide(by=owner, claim=case.claims.get(), status=Claim.ClaimStatus.PAID)
    assert (
        services.case_transition(by=owner, case=case, action="close", now=at(2, 12)).status
        == "closed"
    )


def test_a_claim_needs_its_amount(account_a, owner, policy) -> None:
    with pytest.raises(ValidationError) as exc:
        services.case_open(by=owner, account=account_a, kind="claim", channel="phone",
                           severity="medium", subject="理赔")  # fmt: skip
    assert "claim_amount" in exc.value.message_dict
    assert not Case.objects.exists()


def test_only_the_accounts_own_contacts_can_be_involved(
    account_a, account_b, owner, contact_b, policy
) -> None:
    with pytest.raises(ValidationError) as exc:
        services.case_open(by=owner, account=account_a, kind="inquiry", channel="phone",
                           severity="medium", subject="查询", contacts=[contact_b])  # fmt: skip
    assert "contacts" in exc.value.message_dict
    assert not Case.objects.exists()


def test_bad_waybill_numbers_are_refused(account_a, owner, policy) -> None:
    with pytest.raises(ValidationError) as exc:
        services.case_open(by=owner, account=account_a, kind="inquiry", channel="phone",
                           severity="medium", subject="查询", waybills=["SF123 <x>"])  # fmt: skip
    assert "waybills" in exc.value.message_dict
    case = services.case_open(by=owner, account=account_a, kind="inquiry", channel="phone",
                              severity="medium", subject="查询", waybills=["sf1234567890, SF1234567891"])  # fmt: skip
    assert case.waybills == ["SF1234567890", "SF1234567891"]


def test_waybills_are_checked_against_the_ledger_where_it_has_data(
    account_a, owner, policy, monkeypatch
) -> None:
    monkeypatch.setattr(services, "ledger_waybills",
                        lambda numbers: {"SF0000000001": "YJ0591001", "SF0000000002": "OTHER01"})  # fmt: skip
    with pytest.raises(ValidationError, match="SF0000000009"):
        services.case_open(by=owner, account=account_a, kind="inquiry", channel="phone",
                           severity="medium", subject="查询", waybills=["SF0000000009"])  # fmt: skip
    with pytest.raises(ValidationError, match="another account"):
        services.case_open(by=owner, account=account_a, kind="inquiry", channel="phone",
                           severity="medium", subject="查询", waybills=["SF0000000002"])  # fmt: skip
    ok = services.case_open(by=owner, account=account_a, kind="inquiry", channel="phone",
                            severity="medium", subject="查询", waybills=["SF0000000001"])  # fmt: skip
    assert ok.waybills == ["SF0000000001"]


def test_the_ledger_lookup_reads_the_lake(account_a, owner, policy, tmp_path) -> None:
    from kam.ledger import services as ledger_services
    from kam.ledger.models import ImportBatch

    path = tmp_path / "w.csv"
    path.write_text("运单号,月结账号,寄件时间,始发地,目的地,产品,件数,计费重量,运费,状态\n"
                    "SF0000000001,YJ0591001,2026-01-05 10:00:00,福州,上海,特快,1,1.25,12.50,已签收\n",
                    encoding="utf-8")  # fmt: skip
    batch = ledger_services.import_create(
        by=None, source=ImportBatch.Source.CLI, file_name="w.csv", path=path
    )
    ledger_services.import_run(batch=batch, path=path)
    assert services.ledger_waybills(["SF0000000001", "SF9"]) == {"SF0000000001": "YJ0591001"}


def test_an_outsider_cannot_open_or_move_cases(account_a, outsider, analyst, complaint) -> None:
    with pytest.raises(PermissionDeniedError):
        services.case_open(by=outsider, account=account_a, kind="inquiry", channel="phone",
                           severity="medium", subject="x")  # fmt: skip
    with pytest.raises(PermissionDeniedError):
        services.case_transition(by=analyst, case=complaint, action="acknowledge")


def test_a_warning_after_the_violation_is_refused(department) -> None:
    policy = SlaPolicy(name="x", severity="high", response_minutes=60, resolution_minutes=120,
                       warning_shares=[50, 120])  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        services.policy_save(by=department, policy=policy)
    assert "warning_shares" in exc.value.message_dict
    assert "before the violation" in exc.value.message_dict["warning_shares"][0]
    assert not SlaPolicy.objects.exists()


def test_the_tick_fires_each_threshold_once_with_its_actions(
    complaint, service_rep, boss, owner, department, django_capture_on_commit_callbacks
) -> None:
    # The first response is due at 11:00: 50 % at 10:00, 80 % at 10:36, violated at 11:00.
    with time_machine.travel(at(2, 10, 40), tick=False):
        call_command("service", "tick")
    fired = _events(complaint, "warning")
    assert [(e.clock, e.share, e.at) for e in fired] == [
        ("response", 50, at(2, 10)),
        ("response", 80, at(2, 10, 36)),
    ]
    assert Notification.objects.filter(user=service_rep, kind="service.sla").count() == 2
    with (
        time_machine.travel(at(2, 11, 5), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        call_command("service", "tick")
        call_command("service", "tick")  # idempotent
    violation = _events(complaint, "violation")
    assert [(e.clock, e.share, e.at) for e in violation] == [("response", 100, at(2, 11))]
    for person in (service_rep, boss, owner, department):
        assert Notification.objects.filter(user=person, subject__contains="SLA").exists(), person
    complaint.refresh_from_db()
    assert complaint.sla_state == "violated"
    assert any("SLA" in m.subject for m in mail.outbox)


def test_a_paused_clock_fires_nothing(complaint, service_rep) -> None:
    services.case_transition(by=service_rep, case=complaint, action="wait", now=at(2, 9, 10))
    with time_machine.travel(at(6, 17), tick=False):
        call_command("service", "tick")
    assert not complaint.events.filter(kind__in=["warning", "violation"]).exists()


def test_the_clock_skips_the_weekend_and_holidays(account_a, owner, policy) -> None:
    # Opened Friday 1 May 2026 (Labour Day holiday, 1-5 May; Saturday 9 May a make-up day).
    case = services.case_open(by=owner, account=account_a, kind="inquiry", channel="phone",
                              severity="medium", subject="节日查询", now=at(30, 17, month=4))  # fmt: skip
    # One hour on Thursday 30 April, then the next working day is Wednesday 6 May.
    assert case.response_due == at(6, 10, month=5)


def test_a_violation_can_reassign(complaint, service_rep, boss) -> None:
    policy = complaint.policy
    policy.violation_actions = ["assignee", "reassign"]
    policy.save()
    with time_machine.travel(at(2, 18), tick=False):
        services.clocks_tick()
    complaint.refresh_from_db()
    assert complaint.assignee == boss  # the assignee's manager
    assert complaint.events.filter(kind="assigned").exists()


def test_accounts_with_open_complaints(
    complaint, account_b, colleague, policy, service_rep, cause
) -> None:
    assert selectors.accounts_with_open_complaints() == {complaint.account_id}
    services.case_transition(
        by=service_rep, case=complaint, action="resolve", note="ok", root_cause=cause
    )
    assert selectors.accounts_with_open_complaints() == set()


def test_measures_median_p90_and_attainment(
    complaint, service_rep, cause, account_a, owner
) -> None:
    services.case_transition(by=service_rep, case=complaint, action="resolve", note="ok", root_cause=cause,
                             now=at(2, 10))  # fmt: skip
    other = services.case_open(by=owner, account=account_a, kind="complaint", channel="phone",
                               severity="medium", subject="再次投诉", assignee=owner, now=MONDAY)  # fmt: skip
    services.case_transition(by=owner, case=other, action="resolve", note="ok", root_cause=cause,
                             now=at(3, 18))  # fmt: skip
    m = selectors.measures(Case.objects.all())
    assert m["resolution"]["median"] == (60 + 18 * 60) / 2
    assert m["resolution_attainment"] == 50.0
    assert m["response_attainment"] == 50.0
    assert m["repeat_complaints"][0]["count"] == 2
    assert {g["label"] for g in m["by_assignee"]} == {
        str(service_rep.display_name),
        str(owner.display_name),
    }


def test_bulk_assign_is_all_or_nothing(
    complaint, department, account_b, colleague, policy, outsider
) -> None:
    other = services.case_open(by=colleague, account=account_b, kind="inquiry", channel="phone",
                               severity="medium", subject="B")  # fmt: skip
    with pytest.raises(ApplicationError):
        services.cases_bulk_assign(by=department, cases=[complaint, other], assignee=outsider)
    complaint.refresh_from_db()
    assert complaint.assignee.username == "service"
    assert (
        services.cases_bulk_assign(by=department, cases=[complaint, other], assignee=department)
        == 2
    )


def test_stale_version_is_a_conflict(complaint, service_rep) -> None:
    with pytest.raises(ApplicationError, match="changed"):
        services.case_transition(by=service_rep, case=complaint, action="acknowledge", version=99)


def test_an_unknown_transition_is_refused(complaint, service_rep) -> None:
    with pytest.raises(ApplicationError):
        services.case_transition(by=service_rep, case=complaint, action="close")
    assert Case.objects.get().status == Status.NEW
    assert datetime.timedelta(0) == datetime.timedelta(0)


def test_the_tick_command_prints_json_for_scripts(complaint, capsys) -> None:
    import json

    with time_machine.travel(at(2, 11, 30), tick=False):
        call_command("service", "tick", "--json")
    assert json.loads(capsys.readouterr().out) == {"cases": 1, "fired": 3, "calendar_notices": 0}


def test_an_administrators_calendar_edit_moves_the_clock(account_a, owner, policy) -> None:
    from kam.core.models import CalendarDay

    # Monday 2 March 2026 declared a day off: a case opened then is due on Tuesday.
    CalendarDay.objects.create(day=datetime.date(2026, 3, 2), working=False, festival="other",
                               source=CalendarDay.Source.ADMIN)  # fmt: skip
    case = services.case_open(by=owner, account=account_a, kind="inquiry", channel="phone",
                              severity="medium", subject="查询", now=MONDAY)  # fmt: skip
    assert case.response_due == at(3, 11)
