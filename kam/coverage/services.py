"""Every write of the coverage app. Each action is atomic and refuses bad input with a
``ValidationError`` naming the field, or an ``ApplicationError``; nothing is half-written."""

import datetime
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kam.accounts.models import Account, Category, Contact, CoverageModel, Industry
from kam.core import regions
from kam.core.calendar import working_calendar
from kam.core.errors import ApplicationError, ConflictError, PermissionDeniedError
from kam.core.models import Role, User

from . import geo, planner, rules
from .models import (
    Assignment,
    Capacity,
    FeedToken,
    Finding,
    FollowUp,
    PolicyRule,
    PolicyVersion,
    Visit,
    VisitPlan,
    VisitReport,
    _feed_token,
    feed_token_hash,
)

# --- who may do what -----------------------------------------------------------------------


def may_edit_policy(user: User) -> bool:
    return user.is_active and user.role == Role.DIRECTOR


def may_plan(user: User) -> bool:
    """Generate plans, set capacities and assignments, see every calendar."""
    return user.is_active and user.role in (Role.DIRECTOR, Role.DEPARTMENT)


def may_review(user: User) -> bool:
    """The key-account department's queue: review reports, assign and close follow-ups."""
    return user.is_active and user.role in (Role.DIRECTOR, Role.DEPARTMENT)


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDeniedError(_("You may not do this."))


# --- policy ---------------------------------------------------------------------------------

#: The policy the product starts with (DOMAIN.md section 3): tier 1 weekly with a resident
#: manager ... tier 5 quarterly with a territory manager.
DEFAULT_RULES: list[dict[str, Any]] = [
    {"tier": 1, "category": "", "coverage_model": CoverageModel.RESIDENT, "cadence_days": 7,
     "executive_every": 4, "survey_months": 3},
    {"tier": 2, "category": "", "coverage_model": CoverageModel.REPRESENTATIVE,
     "cadence_days": 14, "executive_every": 6, "survey_months": 6},
    {"tier": 3, "category": "", "coverage_model": CoverageModel.INDUSTRY, "cadence_days": 30,
     "executive_every": 0, "survey_months": 6},
    {"tier": 3, "category": Category.STRATEGIC, "coverage_model": CoverageModel.INDUSTRY,
     "cadence_days": 14, "executive_every": 4, "survey_months": 6},
    {"tier": 4, "category": "", "coverage_model": CoverageModel.TERRITORY, "cadence_days": 60,
     "executive_every": 0, "survey_months": 12},
    {"tier": 5, "category": "", "coverage_model": CoverageModel.TERRITORY, "cadence_days": 91,
     "executive_every": 0, "survey_months": 12},
]  # fmt: skip

RULE_FIELDS = (
    "tier", "category", "coverage_model", "cadence_days", "executive_every", "survey_months",
)  # fmt: skip


@transaction.atomic
def policy_publish(
    *, by: User | None, rules_in: Sequence[Mapping[str, Any]], note: str = ""
) -> PolicyVersion:
    """Publish a new version of the policy (the old ones stay for history). Every tier needs
    a rule for all categories; a cadence must be at least a day."""
    if by is not None:
        _require(may_edit_policy(by))
    errors: dict[str, list[str]] = {}
    seen: set[tuple[int, str]] = set()
    built: list[PolicyRule] = []
    for n, data in enumerate(rules_in, start=1):
        cadence = data.get("cadence_days")
        if cadence is None or int(cadence) < 1:
            errors.setdefault("cadence_days", []).append(
                _("Rule %(n)d: a visit cadence must be at least one day (zero is no cadence).")
                % {"n": n}
            )
            continue
        key = (int(data.get("tier") or 0), str(data.get("category") or ""))
        if key in seen:
            errors.setdefault("tier", []).append(
                _("Rule %(n)d repeats a tier and category.") % {"n": n}
            )
            continue
        seen.add(key)
        built.append(PolicyRule(**{f: data.get(f, "" if f == "category" else None)
                                   for f in RULE_FIELDS if data.get(f) is not None}))  # fmt: skip
    missing = [t for t in range(1, 6) if (t, "") not in seen]
    if missing and not errors:
        errors.setdefault("tier", []).append(
            _("Every tier needs a rule for all categories; missing: %(tiers)s.")
            % {"tiers": ", ".join(str(t) for t in missing)}
        )
    if errors:
        raise ValidationError(errors)
    number = (PolicyVersion.objects.aggregate(n=Max("number"))["n"] or 0) + 1
    version = PolicyVersion.objects.create(number=number, note=note[:300], created_by=by)
    for rule in built:
        rule.version = version
        rule.full_clean()
    PolicyRule.objects.bulk_create(built)
    return version


def policy_current() -> PolicyVersion:
    """The policy in force; the default one is published on first use."""
    version = PolicyVersion.objects.order_by("-number").first()
    if version is None:
        version = policy_publish(by=None, rules_in=DEFAULT_RULES, note="default")
    return version


# --- people: capacity and assignments ---------------------------------------------------------


@transaction.atomic
def capacity_set(*, by: User | None, user: User, visits_per_day: int | None) -> Capacity:
    if by is not None:
        _require(may_plan(by))
    if visits_per_day is None or visits_per_day < 1:
        raise ValidationError(
            {"visits_per_day": _("A capacity must be at least one visit per working day.")}
        )
    capacity, _created = Capacity.objects.get_or_create(
        user=user, defaults={"visits_per_day": visits_per_day}
    )
    capacity.visits_per_day = visits_per_day
    capacity.full_clean()
    capacity.save()
    return capacity


@transaction.atomic
def assignment_add(
    *,
    by: User | None,
    user: User,
    kind: str,
    industry: Industry | None = None,
    province_code: str = "",
    city_code: str = "",
) -> Assignment:
    if by is not None:
        _require(may_plan(by))
    if not user.is_active or user.role not in (Role.MANAGER, Role.DEPARTMENT, Role.DIRECTOR):
        raise ValidationError({"user": _("%(u)s cannot cover accounts.") % {"u": user}})
    if kind == Assignment.Kind.INDUSTRY:
        if industry is None:
            raise ValidationError({"industry": _("Choose the industry this manager covers.")})
        province_code = city_code = ""
    elif kind == Assignment.Kind.TERRITORY:
        industry = None
        if city_code and not province_code:
            city = regions.get(city_code)
            province_code = city.province_code if city else ""
        province = regions.get(province_code) if province_code else None
        if province is None or not province.is_province:
            raise ValidationError({"province_code": _("Choose the province this manager covers.")})
        if city_code:
            city = regions.get(city_code)
            if city is None or city.is_province or city.province_code != province_code:
                raise ValidationError({"city_code": _("This city is not in the chosen province.")})
    else:
        raise ValidationError({"kind": _("Unknown kind of assignment.")})
    duplicate = Assignment.objects.filter(
        kind=kind, user=user, industry=industry, province_code=province_code, city_code=city_code
    ).exists()
    if duplicate:
        raise ValidationError({"user": _("%(u)s already covers this.") % {"u": user}})
    return Assignment.objects.create(
        kind=kind, user=user, industry=industry, province_code=province_code, city_code=city_code
    )


@transaction.atomic
def assignment_remove(*, by: User | None, assignment: Assignment) -> None:
    if by is not None:
        _require(may_plan(by))
    assignment.delete()


# --- plans ------------------------------------------------------------------------------------


def _priority_accounts() -> set[int]:
    """Accounts with open alerts (segmentation) or open complaints (service), when those apps
    are installed and offer the selector; otherwise nobody is urgent."""
    from django.apps import apps  # noqa: PLC0415

    found: set[int] = set()
    for app, module, function in (
        ("kam.segmentation", "kam.segmentation.selectors", "accounts_with_open_alerts"),
        ("kam.service", "kam.service.selectors", "accounts_with_open_complaints"),
    ):
        if not apps.is_installed(app):
            continue
        try:
            imported = __import__(module, fromlist=[function])
            found |= set(getattr(imported, function)())
        except (ImportError, AttributeError):
            continue
    return found


def plan_inputs(
    *, start: datetime.date, policy: PolicyVersion
) -> tuple[list[planner.AccountIn], dict[int, int], dict[int, Account]]:
    """The planner's input from the database: covered accounts, people's capacities."""
    from . import selectors  # noqa: PLC0415

    accounts = {a.pk: a for a in selectors.plannable_accounts()}
    covering = selectors.covering_people(list(accounts.values()))
    values = selectors.account_values(list(accounts), as_of=start)
    last_visits = selectors.last_visits(list(accounts), before=start)
    urgent = _priority_accounts()
    policy_rules = list(policy.rules.all())
    inputs = []
    for account in accounts.values():
        rule = rules.rule_for(policy_rules, account.tier, account.categories)
        if rule is None:
            continue
        inputs.append(
            planner.AccountIn(
                id=account.pk,
                person=covering.get(account.pk),
                cadence_days=rule.cadence_days,
                value=float(values.get(account.pk, Decimal(0))),
                city=account.city_code or account.province_code,
                priority=account.pk in urgent,
                last_visit=last_visits.get(account.pk),
                executive_every=rule.executive_every,
            )
        )
    people = {p for p in covering.values()}
    capacity = selectors.capacities(people)
    return inputs, capacity, accounts


def plan_travel(inputs: Sequence[planner.AccountIn]) -> geo.Travel:
    """The road model for a plan: city coordinates (the ``cpca`` package), each person's
    base city (their own, else where most of their accounts are: the planner's fallback),
    and the speed and hop limit of the settings."""
    people = {a.person for a in inputs if a.person is not None}
    base = {
        pk: code
        for pk, code in User.objects.filter(pk__in=people).exclude(base_city_code="")
        .values_list("pk", "base_city_code")
    }  # fmt: skip
    return geo.Travel(
        geo.city_coordinates(), base=base, speed_kmh=float(settings.KAM_VISIT_SPEED_KMH),
        hop_minutes=float(settings.KAM_VISIT_HOP_MINUTES),
    )  # fmt: skip


@transaction.atomic
def plan_generate(*, by: User | None, start: datetime.date, weeks: int) -> VisitPlan:
    """Plan ``weeks`` weeks from ``start``: planned visits of earlier plans from ``start`` on
    are replaced (visits already done or moved by hand stay)."""
    if by is not None:
        _require(may_plan(by))
    if not 1 <= weeks <= 26:
        raise ValidationError({"weeks": _("Plan between 1 and 26 weeks.")})
    if not datetime.date(2000, 1, 1) <= start <= datetime.date(2100, 12, 31):
        raise ValidationError({"start": _("Plan from a day between 2000 and 2100.")})
    policy = policy_current()
    calendar = working_calendar()
    inputs, capacity, accounts = plan_inputs(start=start, policy=policy)
    travel = plan_travel(inputs)
    result = planner.plan_visits(inputs, capacity, start, weeks, calendar.is_working, travel)
    end = start + datetime.timedelta(weeks=weeks)
    Visit.objects.filter(
        status=Visit.Status.PLANNED, plan__isnull=False, day__gte=start, day__lt=end,
        report__isnull=True, version=1,
    ).delete()  # fmt: skip
    plan = VisitPlan.objects.create(
        start=start, weeks=weeks, policy=policy, due=result.due, placed=len(result.visits),
        km=round(result.km), unknown_cities=result.unknown_cities,
        unserved=[
            {"account": u.account, "name": accounts[u.account].name, "person": u.person,
             "due": u.due.isoformat(), "reason": u.reason, "value": f"{u.value:.2f}"}
            for u in result.unserved
        ],
        created_by=by,
    )  # fmt: skip
    Visit.objects.bulk_create(
        [
            Visit(account_id=v.account, person_id=v.person, day=v.day, due=v.due,
                  city_code=v.city, executive=v.executive, priority=v.priority, plan=plan)
            for v in result.visits
        ],
        batch_size=1000,
    )  # fmt: skip
    return plan


# --- visits -----------------------------------------------------------------------------------


def _may_handle_visit(by: User, visit: Visit) -> bool:
    return may_plan(by) or visit.person_id == by.pk


@transaction.atomic
def visit_move(*, by: User, visit: Visit, day: datetime.date, version: int | None = None) -> Visit:
    """Move a planned visit to another working day."""
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
    _require(_may_handle_visit(by, visit))
    if version is not None and version != visit.version:
        raise ConflictError(_("This visit was changed meanwhile; reload and try again."))
    if visit.status not in (Visit.Status.PLANNED, Visit.Status.MISSED):
        raise ApplicationError(_("Only a planned or missed visit can be moved."), field="day")
    if not working_calendar().is_working(day):
        raise ValidationError(
            {"day": _("%(day)s is not a working day.") % {"day": day.isoformat()}}
        )
    visit.day = day
    visit.status = Visit.Status.PLANNED  # a missed visit moved to another day is planned again
    visit.version += 1
    visit._history_user = by  # type: ignore[attr-defined]  # simple-history's acting user
    visit.save(update_fields=["day", "status", "version"])
    return visit


def visits_mark_missed(*, today: datetime.date, email: bool = True) -> dict[str, int]:
    """Planned visits whose day is before ``today`` and that have no report become missed.
    An account whose last ``KAM_MISSED_VISITS_ALERT`` planned visits were all missed (no
    visit done since) is then alerted, once per run of misses: the person who was to visit,
    their manager and the key-account department are notified.

    Idempotent; a scheduler runs it daily (``kam coverage missed``). Returns counts."""
    from kam.core.notify import notify  # noqa: PLC0415

    limit = settings.KAM_MISSED_VISITS_ALERT
    with transaction.atomic():
        stale = Visit.objects.filter(
            status=Visit.Status.PLANNED, day__lt=today, report__isnull=True
        ).select_for_update(
            of=("self",)
        )  # PostgreSQL locks no row of the outer join's nullable side
        touched = set(stale.values_list("account_id", flat=True))
        marked = stale.update(status=Visit.Status.MISSED)
    alerted = 0
    department = list(User.objects.filter(role=Role.DEPARTMENT, is_active=True))
    for account_id in sorted(touched):
        with transaction.atomic():
            last_done = (
                Visit.objects.filter(account_id=account_id, status=Visit.Status.DONE)
                .aggregate(d=Max("day"))["d"]
            )  # fmt: skip
            run = Visit.objects.filter(account_id=account_id, status=Visit.Status.MISSED)
            if last_done is not None:
                run = run.filter(day__gt=last_done)
            rows = list(run.select_related("account", "person", "person__manager")
                        .order_by("day", "id"))  # fmt: skip
            if len(rows) < limit or any(v.missed_alert for v in rows):
                continue
            latest = rows[-1]
            notify(
                [latest.person, latest.person.manager, *department],
                kind="coverage.visits_missed", url=f"/accounts/{account_id}/", email=email,
                subject=gettext_lazy("%(n)d visits to %(account)s missed in a row")
                % {"n": len(rows), "account": latest.account.name},
                body=gettext_lazy("The visits planned for %(days)s passed without a report "
                                  "(planned for %(person)s). Visit the account, file the "
                                  "report late, or move the visit.")
                % {"days": ", ".join(v.day.isoformat() for v in rows),
                   "person": str(latest.person)},
            )  # fmt: skip
            Visit.objects.filter(pk=latest.pk).update(missed_alert=True)
            alerted += 1
    return {"missed": marked, "alerted": alerted}


# --- reports --------------------------------------------------------------------------------


def _clean_findings(findings: Iterable[Mapping[str, Any]]) -> list[Finding]:
    out = []
    for n, data in enumerate(findings, start=1):
        finding = Finding(
            kind=data.get("kind") or "", severity=data.get("severity"),
            text=(data.get("text") or "").strip(),
        )  # fmt: skip
        if finding.kind not in Finding.Kind.values:
            raise ValidationError({"findings": _("Finding %(n)d: choose a kind.") % {"n": n}})
        if finding.severity not in Finding.Severity.values:
            raise ValidationError({"findings": _("Finding %(n)d: choose a severity.") % {"n": n}})
        if not finding.text:
            raise ValidationError({"findings": _("Finding %(n)d: say what was found.") % {"n": n}})
        out.append(finding)
    return out


def _clean_follow_ups(
    follow_ups: Iterable[Mapping[str, Any]], account: Account, visited_on: datetime.date
) -> list[FollowUp]:
    out = []
    for n, data in enumerate(follow_ups, start=1):
        title = (data.get("title") or "").strip()
        owner = data.get("owner")
        due = data.get("due_date")
        if not title:
            raise ValidationError({"follow_ups": _("Follow-up %(n)d: say what is to be done.")
                                   % {"n": n}})  # fmt: skip
        if owner is None:
            raise ValidationError(
                {"follow_ups": _("Follow-up %(n)d has no owner: choose who does it.") % {"n": n}}
            )
        if not isinstance(owner, User) or not owner.is_active:
            raise ValidationError({"follow_ups": _("Follow-up %(n)d: unknown owner.") % {"n": n}})
        if due is None:
            raise ValidationError({"follow_ups": _("Follow-up %(n)d needs a due date.")
                                   % {"n": n}})  # fmt: skip
        if due < visited_on:
            raise ValidationError(
                {"follow_ups": _("Follow-up %(n)d is due on %(due)s, before the visit on "
                                 "%(visit)s.") % {"n": n, "due": due.isoformat(),
                                                  "visit": visited_on.isoformat()}}
            )  # fmt: skip
        out.append(FollowUp(account=account, title=title[:300], owner=owner, due_date=due))
    return out


def not_attendees_message(ids: Iterable[int]) -> str:
    """The refusal of attendees who are not this account's contacts. It names the ids the
    caller sent, never a name: the contact may belong to an account the caller cannot see."""
    return _("Attendees must be contacts of this account; these are not: %(ids)s.") % {
        "ids": ", ".join(str(i) for i in ids)
    }


@transaction.atomic
def report_submit(
    *,
    by: User,
    account: Account,
    visited_on: datetime.date,
    purpose: str,
    summary: str,
    visit: Visit | None = None,
    contacts: Sequence[Contact] = (),
    staff: Sequence[User] = (),
    findings: Sequence[Mapping[str, Any]] = (),
    follow_ups: Sequence[Mapping[str, Any]] = (),
    today: datetime.date | None = None,
) -> VisitReport:
    """File the visit report (走访表): the visit is done and the report goes to the
    key-account department's queue; its next steps become follow-ups. ``today`` is the
    clock's date unless a loader of past data (the demo) names another."""
    from . import selectors  # noqa: PLC0415

    if not selectors.may_report_on(by, account):
        raise PermissionDeniedError(_("You may not file a report for this account."))
    today = today or timezone.localdate()
    if visited_on > today:
        raise ValidationError({"visited_on": _(
            "A visit dated in the future (%(day)s) cannot be marked done; file the report on "
            "or after the day of the visit.") % {"day": visited_on.isoformat()}})  # fmt: skip
    strangers = sorted(c.pk for c in contacts if c.account_id != account.pk)
    if strangers:
        raise ValidationError({"contacts": not_attendees_message(strangers)})
    if not (purpose or "").strip():
        raise ValidationError({"purpose": _("Say what the visit was for.")})
    if not (summary or "").strip():
        raise ValidationError({"summary": _("Summarise the visit.")})
    cleaned_findings = _clean_findings(findings)
    cleaned_follow_ups = _clean_follow_ups(follow_ups, account, visited_on)
    if visit is None:
        visit = Visit.objects.create(
            account=account, person=by, day=visited_on, city_code=account.city_code,
            status=Visit.Status.DONE,
        )  # fmt: skip
    else:
        visit = Visit.objects.select_for_update().get(pk=visit.pk)
        if visit.account_id != account.pk:
            raise ValidationError({"visit": _("This visit is to another account.")})
        if hasattr(visit, "report"):
            raise ApplicationError(_("This visit already has a report."), field="visit")
        if visit.status == Visit.Status.CANCELLED:
            raise ApplicationError(_("This visit was cancelled."), field="visit")
        visit.day = visited_on
        visit.status = Visit.Status.DONE
        visit.version += 1
        visit._history_user = by  # type: ignore[attr-defined]
        visit.save(update_fields=["day", "status", "version"])
    report = VisitReport.objects.create(
        visit=visit, purpose=purpose.strip()[:300], summary=summary.strip()[:8000],
        submitted_by=by,
    )  # fmt: skip
    report.contacts.set(contacts)
    report.staff.set({u.pk: u for u in (by, *staff)}.values())
    for finding in cleaned_findings:
        finding.report = report
    Finding.objects.bulk_create(cleaned_findings)
    for follow_up in cleaned_follow_ups:
        follow_up.report = report
    FollowUp.objects.bulk_create(cleaned_follow_ups)
    return report


@transaction.atomic
def report_review(*, by: User, report: VisitReport) -> VisitReport:
    _require(may_review(by))
    report.status = VisitReport.Status.REVIEWED
    report.reviewed_by = by
    report.reviewed_at = timezone.now()
    report.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    return report


# --- follow-ups -----------------------------------------------------------------------------


@transaction.atomic
def follow_up_update(
    *,
    by: User,
    follow_up: FollowUp,
    status: str | None = None,
    cancel_reason: str = "",
    owner: User | None = None,
    due_date: datetime.date | None = None,
) -> FollowUp:
    """Change a follow-up's status, owner or due date. The owner moves their own follow-up
    along (in progress, done); the department also assigns, re-assigns and cancels."""
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    department = may_review(by)
    _require(department or follow_up.owner_id == by.pk)
    if (owner is not None and owner.pk != follow_up.owner_id) or due_date is not None:
        _require(department)
    if not follow_up.is_open and status not in (None, follow_up.status):
        _require(department)  # re-opening is the department's call
    if owner is not None:
        if not owner.is_active:
            raise ValidationError({"owner": _("Choose an active owner.")})
        follow_up.owner = owner
    if due_date is not None:
        visited_on = (
            follow_up.report.visit.day
            if follow_up.report is not None
            else timezone.localtime(follow_up.created_at).date()
        )
        if due_date < visited_on:
            raise ValidationError({"due_date": _(
                "The due date cannot be before the visit (%(visit)s).")
                % {"visit": visited_on.isoformat()}})  # fmt: skip
        if due_date != follow_up.due_date:
            follow_up.due_date = due_date
            follow_up.escalation = 0  # a new deadline starts the reminders afresh
    if status is not None and status != follow_up.status:
        if status not in FollowUp.Status.values:
            raise ValidationError({"status": _("Unknown status.")})
        if status == FollowUp.Status.CANCELLED:
            _require(department)
            if not (cancel_reason or "").strip():
                raise ValidationError({"cancel_reason": _("Say why the follow-up is cancelled.")})
            follow_up.cancel_reason = cancel_reason.strip()[:500]
        else:
            follow_up.cancel_reason = ""
        follow_up.status = status
        if status in (FollowUp.Status.DONE, FollowUp.Status.CANCELLED):
            follow_up.closed_at = timezone.now()
            follow_up.closed_by = by
        else:
            follow_up.closed_at = None
            follow_up.closed_by = None
    follow_up.full_clean()
    follow_up._history_user = by  # type: ignore[attr-defined]
    follow_up.save()
    return follow_up


@transaction.atomic
def follow_up_create(
    *,
    by: User,
    account: Account,
    title: str,
    owner: User,
    due_date: datetime.date,
    origin_label: str = "",
    origin_url: str = "",
    today: datetime.date | None = None,
) -> FollowUp:
    """Open a follow-up that no visit report produced (an account plan's action, say), so
    that it is tracked, reminded and escalated like a report's next step. Whoever may file
    a report on the account may open one; the owner must be active staff."""
    from . import selectors  # noqa: PLC0415

    if not selectors.may_report_on(by, account):
        raise PermissionDeniedError(_("You may not do this."))
    today = today or timezone.localdate()
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("Say what is to be done.")})
    if not owner.is_active or owner.role not in (
        Role.MANAGER, Role.DEPARTMENT, Role.DIRECTOR, Role.SERVICE
    ):  # fmt: skip
        raise ValidationError({"owner": _("Choose an active owner.")})
    if due_date < today:
        raise ValidationError({"due_date": _("The due date %(due)s is in the past.")
                               % {"due": due_date.isoformat()}})  # fmt: skip
    follow_up = FollowUp(
        account=account, title=title[:300], owner=owner, due_date=due_date,
        origin_label=origin_label[:300], origin_url=origin_url[:300],
    )  # fmt: skip
    follow_up.full_clean()
    follow_up._history_user = by  # type: ignore[attr-defined]
    follow_up.save()
    return follow_up


#: Working days overdue after which the manager and the department are told too.
ESCALATE_AFTER_WORKING_DAYS = 3


def escalate_overdue(*, today: datetime.date | None = None, email: bool = True) -> dict[str, int]:
    """Remind owners of overdue follow-ups, then tell their manager and the department.

    Idempotent: each follow-up goes through each level once (``escalation``), so a
    scheduler may run this as often as it likes. Returns counts per level."""
    from kam.core.notify import notify  # noqa: PLC0415

    today = today or timezone.localdate()
    calendar = working_calendar()
    department = list(User.objects.filter(role=Role.DEPARTMENT, is_active=True))
    counts = {"reminded": 0, "escalated": 0}
    overdue = (
        FollowUp.objects.filter(status__in=FollowUp.OPEN_STATUSES, due_date__lt=today,
                                escalation__lt=2)
        .select_related("owner", "owner__manager", "account")
        .order_by("due_date", "id")
    )  # fmt: skip
    for follow_up in overdue:
        url = f"/coverage/follow-ups/{follow_up.pk}/"
        late = calendar.count_working_days(follow_up.due_date, today)
        with transaction.atomic():
            if follow_up.escalation == 0:
                notify(
                    [follow_up.owner], kind="coverage.follow_up_overdue", url=url, email=email,
                    subject=gettext_lazy("Overdue follow-up: %(title)s")
                    % {"title": follow_up.title},
                    body=gettext_lazy("%(account)s: “%(title)s” was due on %(due)s.")
                    % {"account": follow_up.account.name, "title": follow_up.title,
                       "due": follow_up.due_date.isoformat()},
                )  # fmt: skip
                follow_up.escalation = 1
                counts["reminded"] += 1
            if follow_up.escalation == 1 and late >= ESCALATE_AFTER_WORKING_DAYS:
                notify(
                    [follow_up.owner.manager, *department], kind="coverage.follow_up_escalated",
                    url=url, email=email,
                    subject=gettext_lazy("Escalated: %(title)s is %(days)d working days late")
                    % {"title": follow_up.title, "days": late},
                    body=gettext_lazy("%(account)s: “%(title)s”, owned by %(owner)s, was due "
                                      "on %(due)s and is still open.")
                    % {"account": follow_up.account.name, "title": follow_up.title,
                       "owner": str(follow_up.owner), "due": follow_up.due_date.isoformat()},
                )  # fmt: skip
                follow_up.escalation = 2
                counts["escalated"] += 1
            follow_up.escalated_at = timezone.now()
            follow_up.save(update_fields=["escalation", "escalated_at"])
    return counts


# --- the iCalendar feed -----------------------------------------------------------------------


@transaction.atomic
def feed_token_renew(*, user: User) -> tuple[FeedToken, str]:
    """Make the user's calendar link (anew: an earlier link stops working at once). The
    secret is returned this once; only its hash is kept, as for API and survey tokens."""
    FeedToken.objects.filter(user=user).delete()
    plain = _feed_token()
    return FeedToken.objects.create(user=user, token_hash=feed_token_hash(plain)), plain


def feed_user(plain: str) -> User | None:
    """The active user whose calendar link carries ``plain``, or ``None``."""
    feed = FeedToken.objects.select_related("user").filter(token_hash=feed_token_hash(plain))
    found = feed.first()
    return found.user if found is not None and found.user.is_active else None
