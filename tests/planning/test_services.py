"""The planning services: bad input refused with a clear message and nothing stored; the
plan's flow (submit, sign off, return), review schedule, history, and actions becoming
coverage follow-ups."""

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from kam.accounts.models import Account
from kam.core.errors import ApplicationError, PermissionDeniedError
from kam.core.models import User
from kam.coverage import services as coverage
from kam.coverage.models import FollowUp
from kam.planning import selectors, services
from kam.planning.models import AccountPlan, Action, Objective, PlanItem, PlanStatus, Review
from kam.service import services as service

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


def message(exc: pytest.ExceptionInfo[ValidationError], field: str) -> str:
    return " ".join(exc.value.message_dict[field])


# --- objectives ------------------------------------------------------------------------------


def objective(plan: AccountPlan, by: User, **changes: Any) -> Objective:
    data = {"metric": "revenue", "baseline": D("120000"), "target": D("150000"),
            "target_date": datetime.date(2026, 12, 31)} | changes  # fmt: skip
    return services.objective_add(by=by, plan=plan, **data)


def test_an_objective_without_a_baseline_is_refused(plan_a: AccountPlan, owner: User) -> None:
    with pytest.raises(ValidationError) as exc:
        objective(plan_a, owner, baseline=None)
    assert "baseline" in message(exc, "baseline")
    assert not Objective.objects.exists()


def test_an_objective_with_a_target_date_in_the_past_is_refused(
    plan_a: AccountPlan, owner: User
) -> None:
    with pytest.raises(ValidationError) as exc:
        objective(plan_a, owner, target_date=datetime.date(2026, 7, 14))
    assert "2026-07-14 is in the past" in message(exc, "target_date")
    assert not Objective.objects.exists()


def test_an_objective_whose_target_equals_the_baseline_is_refused(
    plan_a: AccountPlan, owner: User
) -> None:
    with pytest.raises(ValidationError) as exc:
        objective(plan_a, owner, target=D("120000"))
    assert "equals the baseline" in message(exc, "target")
    assert not Objective.objects.exists()


def test_a_rate_target_beyond_100_is_refused(plan_a: AccountPlan, owner: User) -> None:
    with pytest.raises(ValidationError):
        objective(plan_a, owner, metric="on_time", baseline=D("90"), target=D("120"))


def test_an_objective_change_that_is_refused_leaves_the_objective_as_it_was(
    plan_a: AccountPlan, owner: User
) -> None:
    o = objective(plan_a, owner)
    with pytest.raises(ValidationError):
        services.objective_update(by=owner, objective=o, metric="revenue", baseline=D("1"),
                                  target=D("1"), target_date=o.target_date)  # fmt: skip
    o.refresh_from_db()
    assert (o.baseline, o.target) == (D("120000"), D("150000"))


# --- actions ---------------------------------------------------------------------------------


def test_an_action_due_before_the_plan_starts_is_refused(plan_a: AccountPlan, owner: User) -> None:
    with pytest.raises(ValidationError) as exc:
        services.action_add(by=owner, plan=plan_a, title="拜访采购总监", horizon=30, owner=owner,
                            due_date=datetime.date(2025, 12, 30))  # fmt: skip
    assert "before the plan starts (2026-01-01)" in message(exc, "due_date")
    assert not Action.objects.exists()


def test_moving_the_start_after_an_action_is_refused(plan_a: AccountPlan, owner: User) -> None:
    services.action_add(by=owner, plan=plan_a, title="拜访采购总监", horizon=30, owner=owner,
                        due_date=datetime.date(2026, 2, 1))  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        services.plan_update(by=owner, plan=plan_a, start=datetime.date(2026, 3, 1))
    assert "拜访采购总监" in message(exc, "start")
    plan_a.refresh_from_db()
    assert plan_a.start == datetime.date(2026, 1, 1)


def test_an_action_becomes_a_follow_up_and_shows_its_status(
    plan_a: AccountPlan, owner: User, department: User, today: datetime.date
) -> None:
    action = services.action_add(by=owner, plan=plan_a, title="发送冷链方案", horizon=30,
                                 owner=owner, due_date=today + datetime.timedelta(days=20),
                                 resources="方案工程师两天")  # fmt: skip
    action = services.action_track(by=owner, action=action)
    follow_up = FollowUp.objects.get()
    assert follow_up.report is None and follow_up.account_id == plan_a.account_id
    assert (follow_up.title, follow_up.owner, follow_up.due_date) == (
        "发送冷链方案",
        owner,
        action.due_date,
    )
    assert follow_up.origin_url == f"/planning/plans/{plan_a.pk}/"
    with pytest.raises(ValidationError) as exc:  # the follow-up's date is the one reminded
        services.action_update(by=owner, action=action, title=action.title, horizon=30,
                               owner=owner, due_date=action.due_date + datetime.timedelta(days=3))  # fmt: skip
    assert "change its owner and due date there" in message(exc, "due_date")
    coverage.follow_up_update(by=owner, follow_up=follow_up, status="in_progress")
    action = selectors.plan_actions(plan_a).get()
    assert action.tracked_status == "in_progress"
    coverage.follow_up_update(by=department, follow_up=follow_up, status="done")
    row = selectors.plan_rows([plan_a], owner)[0]
    assert row.open_actions == 0
    with pytest.raises(ApplicationError):
        services.action_track(by=owner, action=action)
    assert FollowUp.objects.count() == 1


def test_an_overdue_action_makes_the_plan_amber(
    plan_a: AccountPlan, owner: User, today: datetime.date, time_machine: Any
) -> None:
    services.action_add(by=owner, plan=plan_a, title="安排高层拜访", horizon=30, owner=owner,
                        due_date=today + datetime.timedelta(days=1))  # fmt: skip
    objective(plan_a, owner, metric="nps", baseline=D("10"), target=D("40"))
    later = today + datetime.timedelta(days=3)
    row = selectors.plan_rows([plan_a], owner, today=later)[0]
    assert row.overdue_actions == 1
    assert "actions_overdue" in row.rag.reasons


# --- analysis items and their sources -----------------------------------------------------------


@pytest.fixture
def finding_b(account_b: Account, colleague: User, today: datetime.date) -> Any:
    report = coverage.report_submit(
        by=colleague, account=account_b, visited_on=today, purpose="乙方年度合同谈判",
        summary="乙方考虑更换承运商", findings=[{"kind": "price", "severity": 3, "text": "乙方对价格不满"}],
    )  # fmt: skip
    return report.findings.get()


def test_an_item_linked_to_a_finding_of_another_account_is_refused(
    plan_a: AccountPlan, owner: User, finding_b: Any, department: User
) -> None:
    for by in (owner, department):  # the department sees both accounts: still refused
        with pytest.raises(ValidationError) as exc:
            services.item_add(by=by, plan=plan_a, kind="threat", text="价格压力", finding=finding_b)
        assert "visit report on this plan's account" in message(exc, "finding")
        assert "乙方" not in message(exc, "finding")
    assert not PlanItem.objects.exists()


def test_an_item_linked_to_a_case_of_another_account_is_refused(
    plan_a: AccountPlan, owner: User, account_b: Account, colleague: User, department: User
) -> None:
    case = service.case_open(by=colleague, account=account_b, kind="complaint", channel="phone",
                             severity="medium", subject="乙方冷链温度超标", assignee=colleague)  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        services.item_add(by=department, plan=plan_a, kind="problem", text="温控", case=case)
    assert "one of this plan's account" in message(exc, "case")
    assert not PlanItem.objects.exists()


def test_an_item_from_a_finding_of_the_account(
    plan_a: AccountPlan, owner: User, account_a: Account, today: datetime.date
) -> None:
    report = coverage.report_submit(
        by=owner, account=account_a, visited_on=today, purpose="季度回顾", summary="—",
        findings=[{"kind": "need", "severity": 3, "text": "需要冷链方案"}],
    )  # fmt: skip
    item = services.item_add(by=owner, plan=plan_a, kind="need", text="冷链仓配一体化",
                             finding=report.findings.get())  # fmt: skip
    assert item.finding is not None and item.history.count() == 1


# --- plans: creation, access, flow ------------------------------------------------------------


def test_one_plan_per_account_and_year(
    plan_a: AccountPlan, owner: User, account_a: Account
) -> None:
    with pytest.raises(ValidationError) as exc:
        services.plan_create(by=owner, account=account_a, year=2026, kind="retain", owner=owner)
    assert "already a plan for 2026" in message(exc, "year")
    assert AccountPlan.objects.count() == 1


def test_a_manager_cannot_plan_a_foreign_account(owner: User, account_b: Account) -> None:
    with pytest.raises(PermissionDeniedError):
        services.plan_create(by=owner, account=account_b, year=2026, kind="expand", owner=owner)
    assert not AccountPlan.objects.exists()


def test_the_review_schedule_follows_the_tier_and_the_directors(
    plan_a: AccountPlan, owner: User, department: User, director: User, today: datetime.date
) -> None:
    assert plan_a.next_review_due == datetime.date(2026, 1, 1) + datetime.timedelta(days=90)
    objective(plan_a, owner)
    services.plan_submit(by=owner, plan=plan_a)
    with pytest.raises(PermissionDeniedError):
        services.review_policy_set(by=department, intervals={1: 30})
    services.review_policy_set(by=director, intervals={1: 60})
    review = services.plan_review(by=department, plan=plan_a, decision="approved")
    assert review.next_review_due == today + datetime.timedelta(days=60)
    plan_a.refresh_from_db()
    assert plan_a.status == PlanStatus.APPROVED and plan_a.next_review_due == review.next_review_due


def test_submit_needs_an_objective_and_returning_needs_a_comment(
    plan_a: AccountPlan, owner: User, department: User
) -> None:
    with pytest.raises(ApplicationError):
        services.plan_submit(by=owner, plan=plan_a)
    objective(plan_a, owner)
    services.plan_submit(by=owner, plan=plan_a)
    with pytest.raises(ApplicationError):  # frozen while awaiting review
        objective(plan_a, owner, metric="waybills", baseline=D("1"), target=D("2"))
    with pytest.raises(PermissionDeniedError):
        services.plan_review(by=owner, plan=plan_a, decision="approved")
    with pytest.raises(ValidationError) as exc:
        services.plan_review(by=department, plan=plan_a, decision="returned", comment=" ")
    assert "what must change" in message(exc, "comment")
    assert not Review.objects.exists()
    services.plan_review(by=department, plan=plan_a, decision="returned", comment="目标太保守")
    plan_a.refresh_from_db()
    assert plan_a.status == PlanStatus.RETURNED
    # Every change is in the history, with who made it.
    statuses = list(plan_a.history.order_by("history_date").values_list("status", "history_user"))
    assert statuses[0] == ("draft", owner.pk)
    assert ("submitted", owner.pk) in statuses and ("returned", department.pk) in statuses


def test_analysts_and_service_reps_read_but_do_not_edit(
    plan_a: AccountPlan, analyst: User, service_rep: User
) -> None:
    for user in (analyst, service_rep):
        assert selectors.plan_list_for(user).filter(pk=plan_a.pk).exists()
        with pytest.raises(PermissionDeniedError):
            objective(plan_a, user)
    assert not Objective.objects.exists()


def test_a_manager_sees_only_the_plans_of_their_accounts(
    plan_a: AccountPlan, plan_b: AccountPlan, owner: User, outsider: User, director: User
) -> None:
    assert list(selectors.plan_list_for(owner)) == [plan_a]
    assert not selectors.plan_list_for(outsider).exists()
    assert set(selectors.plan_list_for(director)) == {plan_a, plan_b}
