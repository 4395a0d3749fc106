"""The services: every bad input of the issue is refused with a clear message and nothing
stored changes; reports, follow-ups, moves, plans and the policy do what they say."""

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from kam.accounts.models import Account, Contact, TeamRole
from kam.core.errors import ApplicationError, ConflictError, PermissionDeniedError
from kam.core.models import CalendarDay, Role, User
from kam.coverage import services
from kam.coverage.models import (
    Capacity,
    Finding,
    FollowUp,
    PolicyRule,
    PolicyVersion,
    Visit,
    VisitPlan,
    VisitReport,
)
from tests.factories import AccountFactory, TeamMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, ...]:
    return (Visit.objects.count(), VisitReport.objects.count(), Finding.objects.count(),
            FollowUp.objects.count(), PolicyVersion.objects.count(), PolicyRule.objects.count(),
            Capacity.objects.count())  # fmt: skip


def _submit(visit: Visit, owner: User, **changes: Any) -> VisitReport:
    data: dict[str, Any] = {
        "by": owner, "account": visit.account, "visit": visit, "visited_on": visit.day,
        "purpose": "回访", "summary": "一切正常", "contacts": [], "findings": [],
        "follow_ups": [],
    }  # fmt: skip
    data.update(changes)
    return services.report_submit(**data)


# --- bad input: refused, nothing stored changes ----------------------------------------------


def test_a_visit_dated_in_the_future_cannot_be_marked_done(visit: Visit, owner: User,
                                                           today: datetime.date) -> None:  # fmt: skip
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        _submit(visit, owner, visited_on=today + datetime.timedelta(days=1))
    assert "future" in exc.value.message_dict["visited_on"][0]
    assert _counts() == before
    visit.refresh_from_db()
    assert visit.status == Visit.Status.PLANNED and visit.version == 1


def test_attendees_from_another_account_are_refused(visit: Visit, owner: User,
                                                    contact_b: Contact) -> None:  # fmt: skip
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        _submit(visit, owner, contacts=[contact_b])
    # The id the caller passed, never the name: the contact may be one they cannot see.
    message = exc.value.message_dict["contacts"][0]
    assert str(contact_b.pk) in message and contact_b.name not in message
    assert _counts() == before


def test_a_follow_up_without_an_owner_is_refused(visit: Visit, owner: User,
                                                 today: datetime.date) -> None:  # fmt: skip
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        _submit(visit, owner, follow_ups=[{"title": "报价", "owner": None, "due_date": today}])
    assert "owner" in exc.value.message_dict["follow_ups"][0]
    assert _counts() == before


def test_a_due_date_before_the_visit_is_refused(visit: Visit, owner: User,
                                                today: datetime.date) -> None:  # fmt: skip
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        _submit(visit, owner, follow_ups=[
            {"title": "报价", "owner": owner, "due_date": today - datetime.timedelta(days=1)}])  # fmt: skip
    assert "before the visit" in exc.value.message_dict["follow_ups"][0]
    assert _counts() == before


def test_a_cadence_of_zero_is_refused(director: User) -> None:
    services.policy_current()
    before = _counts()
    rules = [dict(r) for r in services.DEFAULT_RULES]
    rules[0]["cadence_days"] = 0
    with pytest.raises(ValidationError) as exc:
        services.policy_publish(by=director, rules_in=rules)
    assert "at least one day" in exc.value.message_dict["cadence_days"][0]
    assert _counts() == before


def test_a_capacity_of_zero_is_refused(department: User, owner: User) -> None:
    services.capacity_set(by=department, user=owner, visits_per_day=2)
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        services.capacity_set(by=department, user=owner, visits_per_day=0)
    assert "at least one visit" in exc.value.message_dict["visits_per_day"][0]
    assert _counts() == before
    assert Capacity.objects.get(user=owner).visits_per_day == 2


def test_the_database_refuses_a_zero_cadence_and_capacity_too(owner: User) -> None:
    from django.db import IntegrityError, transaction

    version = services.policy_current()
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyRule.objects.create(version=version, tier=1, category="group",
                                  coverage_model="resident", cadence_days=0)  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        Capacity.objects.create(user=owner, visits_per_day=0)


def test_a_cancelled_follow_up_needs_a_reason(follow_up: FollowUp, department: User) -> None:
    with pytest.raises(ValidationError) as exc:
        services.follow_up_update(by=department, follow_up=follow_up, status="cancelled")
    assert "cancel_reason" in exc.value.message_dict
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.OPEN


# --- reports and follow-ups ---------------------------------------------------------------------


def test_a_report_marks_the_visit_done_and_lands_in_the_queue(
    report: VisitReport, owner: User, department: User, contact_a: Contact
) -> None:
    assert report.status == VisitReport.Status.SUBMITTED
    assert report.visit.status == Visit.Status.DONE
    assert list(report.contacts.all()) == [contact_a]
    assert owner in report.staff.all()
    assert report.findings.get().severity == Finding.Severity.HIGH
    from kam.coverage import selectors

    data = selectors.queue(department)
    assert list(data["reports"]) == [report]
    assert [f.title for f in data["follow_ups"]] == ["发送冷链报价"]


def test_a_visit_reports_once(report: VisitReport, owner: User) -> None:
    with pytest.raises(ApplicationError):
        _submit(report.visit, owner)


def test_an_outsider_cannot_file_a_report(visit: Visit, outsider: User) -> None:
    with pytest.raises(PermissionDeniedError):
        _submit(visit, outsider)


def test_the_owner_moves_their_follow_up_the_department_assigns_and_closes(
    follow_up: FollowUp, owner: User, colleague: User, department: User
) -> None:
    services.follow_up_update(by=owner, follow_up=follow_up, status="in_progress")
    with pytest.raises(PermissionDeniedError):
        services.follow_up_update(by=owner, follow_up=follow_up, owner=colleague)
    with pytest.raises(PermissionDeniedError):
        services.follow_up_update(by=owner, follow_up=follow_up, status="cancelled",
                                  cancel_reason="不需要")  # fmt: skip
    services.follow_up_update(by=department, follow_up=follow_up, owner=colleague)
    follow_up.refresh_from_db()
    assert follow_up.owner == colleague and follow_up.status == FollowUp.Status.IN_PROGRESS
    services.follow_up_update(by=department, follow_up=follow_up, status="done")
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.DONE and follow_up.closed_by == department
    assert follow_up.closed_at is not None


def test_cancelled_with_a_reason(follow_up: FollowUp, department: User) -> None:
    services.follow_up_update(by=department, follow_up=follow_up, status="cancelled",
                              cancel_reason="客户已自行解决")  # fmt: skip
    follow_up.refresh_from_db()
    assert follow_up.status == "cancelled" and follow_up.cancel_reason == "客户已自行解决"


def test_the_department_cannot_set_a_due_date_before_the_visit(
    follow_up: FollowUp, department: User, today: datetime.date
) -> None:
    with pytest.raises(ValidationError):
        services.follow_up_update(by=department, follow_up=follow_up,
                                  due_date=today - datetime.timedelta(days=1))  # fmt: skip


# --- moving visits ------------------------------------------------------------------------------


def test_a_visit_moves_to_a_working_day_only(visit: Visit, owner: User, colleague: User) -> None:
    friday = datetime.date(2026, 7, 17)
    moved = services.visit_move(by=owner, visit=visit, day=friday, version=1)
    assert moved.day == friday and moved.version == 2
    with pytest.raises(ConflictError):
        services.visit_move(by=owner, visit=visit, day=friday, version=1)
    with pytest.raises(ValidationError):
        services.visit_move(by=owner, visit=visit, day=datetime.date(2026, 7, 18))  # Saturday
    with pytest.raises(PermissionDeniedError):
        services.visit_move(by=colleague, visit=visit, day=friday)


def test_a_public_holiday_is_no_working_day_for_a_move(visit: Visit, owner: User) -> None:
    assert CalendarDay.objects.filter(day=datetime.date(2026, 10, 1), working=False).exists()
    with pytest.raises(ValidationError):
        services.visit_move(by=owner, visit=visit, day=datetime.date(2026, 10, 1))


# --- policy -------------------------------------------------------------------------------------


def test_the_policy_is_versioned_and_only_directors_publish(
    director: User, department: User
) -> None:
    first = services.policy_current()
    rules = [dict(r) for r in services.DEFAULT_RULES]
    rules[1]["cadence_days"] = 10
    second = services.policy_publish(by=director, rules_in=rules, note="二级改为十天")
    assert second.number == first.number + 1
    assert services.policy_current() == second
    assert first.rules.get(tier=2, category="").cadence_days == 14  # history kept
    with pytest.raises(PermissionDeniedError):
        services.policy_publish(by=department, rules_in=rules)


def test_every_tier_needs_a_general_rule(director: User) -> None:
    rules = [r for r in services.DEFAULT_RULES if r["tier"] != 5]
    with pytest.raises(ValidationError) as exc:
        services.policy_publish(by=director, rules_in=rules)
    assert "5" in exc.value.message_dict["tier"][0]


def test_the_most_demanding_rule_wins(director: User) -> None:
    from kam.coverage.rules import rule_for

    rules = list(services.policy_current().rules.all())
    assert rule_for(rules, 3, ["strategic"]).cadence_days == 14
    assert rule_for(rules, 3, ["economic"]).cadence_days == 30
    assert rule_for(rules, None, []) is None


# --- plans --------------------------------------------------------------------------------------


def test_a_plan_covers_every_account_by_its_tier(
    director: User, account_a: Account, account_b: Account, owner: User, colleague: User
) -> None:
    start = datetime.date(2026, 7, 6)
    plan = services.plan_generate(by=director, start=start, weeks=4)
    a_days = sorted(Visit.objects.filter(account=account_a).values_list("day", flat=True))
    b_days = sorted(Visit.objects.filter(account=account_b).values_list("day", flat=True))
    assert len(a_days) == 4 and len(b_days) == 2  # tier 1 weekly, tier 2 every two weeks
    assert set(Visit.objects.filter(account=account_a).values_list("person", flat=True)) == {
        owner.pk}  # fmt: skip
    assert plan.due == 6 and plan.placed == 6 and plan.unserved == []
    # Generating again replaces the planned visits instead of adding to them.
    services.plan_generate(by=director, start=start, weeks=4)
    assert Visit.objects.count() == 6 and VisitPlan.objects.count() == 2


def test_a_plan_reports_unserved_accounts_with_reasons(director: User, department: User) -> None:
    manager = UserFactory(role=Role.MANAGER)
    services.capacity_set(by=department, user=manager, visits_per_day=1)
    for _i in range(7):
        account = AccountFactory(tier=1)
        TeamMembershipFactory(account=account, user=manager, role=TeamRole.OWNER)
    nobody = AccountFactory(tier=1, name="无人负责客户")
    plan = services.plan_generate(by=director, start=datetime.date(2026, 7, 6), weeks=1)
    reasons = [u["reason"] for u in plan.unserved]
    assert reasons.count("no_capacity") == 2 and reasons.count("no_person") == 1
    assert plan.placed == 5
    assert any(u["name"] == nobody.name for u in plan.unserved)


def test_territory_managers_cover_accounts_without_an_owner(
    director: User, department: User
) -> None:
    territory = UserFactory(role=Role.MANAGER)
    services.assignment_add(by=department, user=territory, kind="territory", province_code="440000")
    account = AccountFactory(tier=2, province_code="440000", city_code="440100")
    services.plan_generate(by=director, start=datetime.date(2026, 7, 6), weeks=2)
    assert Visit.objects.get(account=account).person == territory


def test_bad_assignments_are_refused(department: User, owner: User) -> None:
    with pytest.raises(ValidationError):
        services.assignment_add(by=department, user=owner, kind="industry")
    with pytest.raises(ValidationError):
        services.assignment_add(by=department, user=owner, kind="territory",
                                province_code="440000", city_code="350100")  # fmt: skip


def test_only_the_department_and_directors_plan(owner: User) -> None:
    with pytest.raises(PermissionDeniedError):
        services.plan_generate(by=owner, start=datetime.date(2026, 7, 6), weeks=1)
    with pytest.raises(ValidationError):
        services.plan_generate(by=None, start=datetime.date(2026, 7, 6), weeks=0)


def test_urgent_accounts_from_other_apps_come_first(monkeypatch: Any, director: User) -> None:
    seen = {"called": False}

    def urgent() -> set[int]:
        seen["called"] = True
        return {42}

    monkeypatch.setattr(services, "_priority_accounts", urgent)
    services.plan_generate(by=director, start=datetime.date(2026, 7, 6), weeks=1)
    assert seen["called"]


def test_missing_alert_selectors_mean_nobody_is_urgent() -> None:
    # Whatever the other apps offer today, the call never fails.
    assert isinstance(services._priority_accounts(), set)


def test_follow_up_changes_are_kept_with_who_made_them(
    follow_up: FollowUp, owner: User, department: User
) -> None:
    services.follow_up_update(by=owner, follow_up=follow_up, status="in_progress")
    services.follow_up_update(by=department, follow_up=follow_up, status="done")
    trail = [(h.status, h.history_user) for h in follow_up.history.order_by("history_date")]
    assert trail[-2:] == [("in_progress", owner), ("done", department)]
