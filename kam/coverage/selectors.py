"""Every read of the coverage app. Reads of account data start from
:func:`kam.accounts.selectors.account_list_for`, the one access gate."""

import datetime
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.db import models
from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.models import (
    Account,
    AccountStatus,
    BillingCode,
    Contact,
    TeamMembership,
    TeamRole,
)
from kam.accounts.selectors import account_list_for, contact_list_for
from kam.core import access
from kam.core.models import Role, User
from kam.ledger.models import AccountMonth

from . import rules
from .models import (
    DEFAULT_CAPACITY,
    Assignment,
    Capacity,
    FollowUp,
    PolicyVersion,
    Visit,
    VisitPlan,
    VisitReport,
)
from .services import may_plan, may_review

_M = TypeVar("_M", bound=models.Model)

# --- planning inputs ------------------------------------------------------------------------


def plannable_accounts() -> QuerySet[Account]:
    """Active accounts with a tier (the tier segmentation accepted, or set by hand)."""
    return Account.objects.filter(status=AccountStatus.ACTIVE, tier__isnull=False).only(
        "id", "name", "tier", "city_code", "province_code", "industry_id",
        *Account.CATEGORY_FIELDS.values(),
    )  # fmt: skip


def covering_people(accounts: list[Account]) -> dict[int, int]:
    """Who visits each account: its owner; else the territory manager of its city, then of
    its province; else the industry manager of its industry."""
    resolve = covering_resolver()
    out = {}
    for account in accounts:
        person = resolve(account.pk, account.city_code, account.province_code, account.industry_id)
        if person is not None:
            out[account.pk] = person
    return out


def covering_resolver() -> Callable[[int, str, str, int | None], int | None]:
    """:func:`covering_people` as a function of an account's id, city, province and
    industry (two queries, then no more: for pages that read accounts as plain values)."""
    owners = dict(
        TeamMembership.objects.filter(role=TeamRole.OWNER, user__is_active=True)
        .values_list("account_id", "user_id")
    )  # fmt: skip
    by_city: dict[str, int] = {}
    by_province: dict[str, int] = {}
    by_industry: dict[int, int] = {}
    for a in Assignment.objects.filter(user__is_active=True).order_by("id"):
        if a.kind == Assignment.Kind.TERRITORY:
            if a.city_code:
                by_city.setdefault(a.city_code, a.user_id)
            else:
                by_province.setdefault(a.province_code, a.user_id)
        elif a.industry_id is not None:
            by_industry.setdefault(a.industry_id, a.user_id)

    def resolve(pk: int, city: str, province: str, industry: int | None) -> int | None:
        return (
            owners.get(pk)
            or by_city.get(city)
            or by_province.get(province)
            or by_industry.get(industry or 0)
        )

    return resolve


def account_values(ids: list[int], *, as_of: datetime.date) -> dict[int, Decimal]:
    """Revenue of the last twelve months before ``as_of`` (the ledger's monthly facts)."""
    since = datetime.date(as_of.year - 1, as_of.month, 1)
    code_account = dict(BillingCode.objects.values_list("code", "account_id"))
    values: dict[int, Decimal] = defaultdict(Decimal)
    wanted = set(ids)
    rows = (
        AccountMonth.objects.filter(month__gte=since, month__lt=as_of)
        .values("billing_code").annotate(revenue=Sum("revenue")).order_by()
    )  # fmt: skip
    for row in rows:
        account = code_account.get(row["billing_code"])
        if account in wanted:
            values[account] += row["revenue"] or Decimal(0)
    return values


def last_visits(ids: list[int], *, before: datetime.date) -> dict[int, datetime.date]:
    rows = (
        Visit.objects.filter(status=Visit.Status.DONE, day__lt=before)
        .values("account_id").annotate(last=Max("day")).order_by()
    )  # fmt: skip
    wanted = set(ids)
    return {r["account_id"]: r["last"] for r in rows if r["account_id"] in wanted}


def capacities(people: Iterable[int]) -> dict[int, int]:
    people = set(people)
    own = dict(Capacity.objects.filter(user_id__in=people).values_list("user_id", "visits_per_day"))
    return {p: own.get(p, DEFAULT_CAPACITY) for p in people}


# --- visits, reports, follow-ups --------------------------------------------------------------


def _in_scope(rows: QuerySet[_M], user: User, account: str) -> QuerySet[_M]:
    """``rows`` whose account (the path ``account``) ``user`` may see, as
    :func:`account_list_for` decides. Who sees every account needs no filter (each row's
    account is a non-null foreign key): a semi-join with 100,000 accounts only costs time."""
    everything = access.is_active_user(user) and access.sees_customer_data(user)
    if everything and access.sees_all_accounts(user):
        return rows
    return rows.filter(**{f"{account}__in": account_list_for(user)})


def visits_for(user: User) -> QuerySet[Visit]:
    return _in_scope(Visit.objects.all(), user, "account").select_related("account", "person")


def visit_get_for(user: User, pk: int) -> Visit:
    return visits_for(user).get(pk=pk)


def reports_for(user: User) -> QuerySet[VisitReport]:
    return _in_scope(VisitReport.objects.all(), user, "visit__account").select_related(
        "visit", "visit__account", "visit__person", "submitted_by"
    )


def follow_ups_for(user: User) -> QuerySet[FollowUp]:
    return _in_scope(FollowUp.objects.all(), user, "account").select_related(
        "account", "owner", "report__visit"
    )


def may_report_on(user: User, account: Account) -> bool:
    """Account managers on the team, the department and directors file visit reports."""
    if not user.is_active or user.role not in (Role.MANAGER, Role.DEPARTMENT, Role.DIRECTOR):
        return False
    return account_list_for(user).filter(pk=account.pk).exists()


def report_contacts(user: User, account: Account) -> QuerySet[Contact]:
    """The contacts ``user`` may name as attendees of a visit to ``account``."""
    return contact_list_for(user).filter(account=account).order_by("name", "id")


def people_for_calendar(user: User) -> QuerySet[User]:
    """Whose calendars ``user`` may open: everyone's for the department, else their own."""
    people = User.objects.filter(is_active=True, role__in=[Role.MANAGER, Role.DEPARTMENT,
                                                           Role.DIRECTOR])  # fmt: skip
    if may_plan(user):
        return people.order_by("username")
    return people.filter(pk=user.pk)


def staff_choices() -> QuerySet[User]:
    return User.objects.filter(
        is_active=True, role__in=[Role.MANAGER, Role.DEPARTMENT, Role.DIRECTOR, Role.SERVICE]
    ).order_by("username")


#: How the queue's reports may be sorted: the key in the URL -> the ordering (oldest first
#: by default; a "-" in the URL reverses it).
REPORT_SORTS = {
    "submitted": ("submitted_at", "id"),
    "visited": ("visit__day", "id"),
    "account": ("visit__account__name", "id"),
    "person": ("submitted_by__username", "submitted_at", "id"),
}
#: How the queue's follow-ups may be sorted (due date first by default).
FOLLOW_UP_SORTS = {
    "due": ("due_date", "id"),
    "account": ("account__name", "due_date", "id"),
    "owner": ("owner__username", "due_date", "id"),
    "created": ("created_at", "id"),
}


def sort_order(
    sorts: dict[str, tuple[str, ...]], key: str | None, default: str
) -> tuple[str, list[str]]:
    """The normalised sort key (``name`` or ``-name``) and its ``order_by`` fields; an
    unknown key falls back to ``default``."""
    key = key or default
    name = key.lstrip("-")
    if name not in sorts:
        key, name = default, default.lstrip("-")
    fields = list(sorts[name])
    if key.startswith("-"):
        fields = [f[1:] if f.startswith("-") else f"-{f}" for f in fields]
    return key, fields


def queue(
    user: User, *, report_sort: str | None = None, follow_up_sort: str | None = None
) -> dict[str, Any]:
    """The department's queue: every report awaiting review and every open follow-up (the
    view pages both), each sorted as asked, with their counts."""
    today = timezone.localdate()
    # The open follow-ups per report as a correlated count (run for the page's rows only),
    # not a join and GROUP BY over every report awaiting review.
    open_follow_ups = (
        FollowUp.objects.filter(report=OuterRef("pk"), status__in=FollowUp.OPEN_STATUSES)
        .order_by().values("report").annotate(n=Count("id")).values("n")
    )  # fmt: skip
    reports = reports_for(user).filter(status=VisitReport.Status.SUBMITTED).annotate(
        open_follow_ups=Coalesce(Subquery(open_follow_ups), 0)
    )  # fmt: skip
    follow_ups = follow_ups_for(user).filter(status__in=FollowUp.OPEN_STATUSES)
    report_key, report_order = sort_order(REPORT_SORTS, report_sort, "submitted")
    follow_key, follow_order = sort_order(FOLLOW_UP_SORTS, follow_up_sort, "due")
    return {
        "reports": reports.order_by(*report_order),
        "report_sort": report_key,
        "follow_ups": follow_ups.order_by(*follow_order),
        "follow_up_sort": follow_key,
        "overdue": follow_ups.filter(due_date__lt=today).count(),
        "today": today,
    }


# --- missed visits ---------------------------------------------------------------------------


def missed_q(today: datetime.date) -> Q:
    """Missed visits: marked so, or still planned on a day before ``today`` without a
    report (the daily job has not run yet): none shows as planned in the past."""
    return Q(status=Visit.Status.MISSED) | Q(
        status=Visit.Status.PLANNED, day__lt=today, report__isnull=True
    )


def missed_visits_for(user: User, *, today: datetime.date | None = None) -> QuerySet[Visit]:
    """The visits ``user`` was to make whose day passed without a report, newest first.
    A manager gets their own; the department and directors every person's on the
    accounts they see. ``today`` is the local date (Asia/Shanghai) unless given."""
    today = today or timezone.localdate()
    rows = visits_for(user).filter(missed_q(today))
    if not may_plan(user):
        rows = rows.filter(person=user)
    return rows.order_by("-day", "-id")


# --- the team page: who covers what, and the workload ------------------------------------------


@dataclass
class Workload:
    person: User
    accounts: int
    due_visits: int
    done_visits: int
    open_follow_ups: int
    overdue_follow_ups: int
    capacity: int
    assignments: list[Assignment]


def workload(*, start: datetime.date, weeks: int = 4) -> list[Workload]:
    end = start + datetime.timedelta(weeks=weeks)
    people = list(
        User.objects.filter(is_active=True, role__in=[Role.MANAGER, Role.DEPARTMENT])
        .order_by("username")
    )  # fmt: skip
    ids = [p.pk for p in people]
    owned = dict(
        TeamMembership.objects.filter(role=TeamRole.OWNER, user_id__in=ids)
        .values("user_id").annotate(n=Count("id")).values_list("user_id", "n")
    )  # fmt: skip
    visits = defaultdict(lambda: [0, 0])
    for person_id, status, n in (
        Visit.objects.filter(person_id__in=ids, day__gte=start, day__lt=end)
        .exclude(status=Visit.Status.CANCELLED)
        .values("person_id", "status").annotate(n=Count("id")).values_list("person_id", "status", "n")
    ):  # fmt: skip
        visits[person_id][0] += n
        if status == Visit.Status.DONE:
            visits[person_id][1] += n
    today = timezone.localdate()
    open_rows = FollowUp.objects.filter(owner_id__in=ids, status__in=FollowUp.OPEN_STATUSES)
    open_counts = dict(
        open_rows.values("owner_id").annotate(n=Count("id")).values_list("owner_id", "n")
    )
    overdue_counts = dict(
        open_rows.filter(due_date__lt=today).values("owner_id").annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )  # fmt: skip
    caps = capacities(ids)
    assignments: dict[int, list[Assignment]] = defaultdict(list)
    for a in Assignment.objects.filter(user_id__in=ids).select_related("industry"):
        assignments[a.user_id].append(a)
    return [
        Workload(
            p,
            owned.get(p.pk, 0),
            visits[p.pk][0],
            visits[p.pk][1],
            open_counts.get(p.pk, 0),
            overdue_counts.get(p.pk, 0),
            caps[p.pk],
            assignments[p.pk],
        )  # fmt: skip
        for p in people
    ]


def latest_plan() -> VisitPlan | None:
    return VisitPlan.objects.select_related("created_by", "policy").first()


def plan_warnings(plan: VisitPlan) -> list[dict[str, Any]]:
    """What the user must know about a plan, evaluated now (an administrator who enters a
    year's holidays clears its warning): ``[{"code", "message", "years"|"cities"}]``.

    - ``calendar_unconfirmed``: the plan reaches a year whose official holidays have not
      been entered; there only weekends were off, so visits may sit on public holidays.
    - ``unknown_cities``: accounts in cities without coordinates; their road is not counted.
    """
    from kam.core.calendar import unconfirmed_years, unconfirmed_years_message  # noqa: PLC0415

    out: list[dict[str, Any]] = []
    end = plan.start + datetime.timedelta(weeks=plan.weeks, days=-1)
    years = unconfirmed_years(plan.start, end)
    if years:
        out.append({"code": "calendar_unconfirmed", "message": unconfirmed_years_message(years),
                    "years": years, "cities": []})  # fmt: skip
    if plan.unknown_cities:
        from kam.core import regions  # noqa: PLC0415

        labels = [regions.label(c) or c or "—" for c in plan.unknown_cities]
        out.append({
            "code": "unknown_cities", "years": [], "cities": list(plan.unknown_cities),
            "message": _("The road to these cities is not counted (no coordinates): %(cities)s. "
                         "Their visits get days of their own.") % {"cities": ", ".join(labels)},
        })  # fmt: skip
    return out


@dataclass(frozen=True)
class PlanView:
    """A plan as one user may see it: its figures and unserved visits cover only the
    accounts they see (the plan itself covers every account)."""

    plan: VisitPlan
    due: int
    placed: int
    unserved: list[dict[str, Any]]
    people: list[dict[str, Any]]


def plan_view_for(user: User, plan: VisitPlan) -> PlanView:
    visits = Visit.objects.filter(plan=plan)
    if access.sees_all_accounts(user):
        unserved, placed, due = list(plan.unserved), plan.placed, plan.due
    else:
        visible = set(account_list_for(user).values_list("pk", flat=True))
        unserved = [u for u in plan.unserved if u["account"] in visible]
        visits = visits.filter(account__in=account_list_for(user))
        placed = visits.count()
        due = placed + len(unserved)
    people = list(
        visits.values("person__username", "person__display_name")
        .annotate(n=Count("id")).order_by("-n", "person__username")
    )  # fmt: skip
    return PlanView(plan=plan, due=due, placed=placed, unserved=unserved, people=people)


# --- measures -------------------------------------------------------------------------------


def measures(user: User, *, start: datetime.date, end: datetime.date) -> dict[str, Any]:
    """Coverage compliance (visits done / due) per tier, person and territory; overdue
    follow-ups; median days from report to follow-up closure; accounts not visited within
    their cadence. ``[start, end]`` is the period (both days included)."""
    from .services import policy_current  # noqa: PLC0415

    # The accounts are read as plain values (no model per account) and each distinct
    # (tier, categories) asks the policy once: the loop is cheap at 100,000 accounts. The
    # not-visited rows carry the account's id; the page fetches the accounts it shows.
    scope = plannable_accounts().filter(pk__in=account_list_for(user).values("pk"))
    category_fields = list(Account.CATEGORY_FIELDS.items())
    policy_rules = list(policy_current().rules.all())
    days = (end - start).days + 1
    # An account is due in the period only under a rule of its tier with a cadence the
    # period holds: the other tiers' accounts (the long tail in a 90-day period) are not read.
    due_tiers = sorted({r.tier for r in policy_rules if days >= r.cadence_days})
    accounts = scope.filter(tier__in=due_tiers).order_by("name", "id").values_list(
        "id", "tier", "city_code", "province_code", "industry_id",
        *(f for _c, f in category_fields),
    )  # fmt: skip
    done = dict(
        Visit.objects.filter(status=Visit.Status.DONE, day__gte=start, day__lte=end)
        .values("account_id").annotate(n=Count("id")).values_list("account_id", "n")
    )  # fmt: skip
    last = dict(
        Visit.objects.filter(status=Visit.Status.DONE, day__lte=end)
        .values("account_id").annotate(last=Max("day")).values_list("account_id", "last")
    )  # fmt: skip
    resolve = covering_resolver()
    by_tier: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    by_person: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    by_province: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    not_visited = []
    from kam.core import regions  # noqa: PLC0415

    cadences: dict[tuple[int, tuple[bool, ...]], int | None] = {}
    provinces: dict[str, str] = {}
    covered: list[tuple[int, int, int]] = []  # person, done, due: until the names are read
    people: set[int] = set()
    for pk, tier, city, province, industry, *flags in accounts:
        key = (tier, tuple(flags))
        if key not in cadences:
            held = [c.value for (c, _f), on in zip(category_fields, flags, strict=True) if on]
            rule = rules.rule_for(policy_rules, tier, held)
            cadences[key] = rule.cadence_days if rule is not None else None
        cadence = cadences[key]
        if cadence is None:
            continue
        due = max(1, days // cadence) if days >= cadence else 0
        if due == 0:
            continue
        got = min(done.get(pk, 0), due)
        person = resolve(pk, city, province, industry)
        if person is not None:
            people.add(person)
        if province not in provinces:
            provinces[province] = regions.label(province) or "—"
        by_tier[tier][0] += got
        by_tier[tier][1] += due
        by_province[provinces[province]][0] += got
        by_province[provinces[province]][1] += due
        covered.append((person or 0, got, due))
        seen = last.get(pk)
        if seen is None or (end - seen).days > cadence:
            not_visited.append({"account_id": pk, "tier": tier, "last": seen, "cadence": cadence})
    names = dict(User.objects.filter(pk__in=people).values_list("pk", "display_name"))
    for person, got, due in covered:
        name = names.get(person, "—") or "—"
        by_person[name][0] += got
        by_person[name][1] += due
    follow_ups = follow_ups_for(user)
    today = timezone.localdate()
    closed = follow_ups.filter(status=FollowUp.Status.DONE, closed_at__date__gte=start,
                               closed_at__date__lte=end).select_related("report")  # fmt: skip
    durations = [
        (
            timezone.localtime(f.closed_at).date()
            - timezone.localtime(f.report.submitted_at).date()
        ).days
        for f in closed
    ]

    # Missed visits (their day passed without a report) in the period, per person: they are
    # the part of the gap that was planned and not made.
    missed_by_person: dict[str, int] = defaultdict(int)
    missed_rows = (
        Visit.objects.filter(missed_q(today), day__gte=start, day__lte=end,
                             account_id__in=scope.values("pk"))
        .values("person__display_name", "person__username").annotate(n=Count("id")).order_by()
    )  # fmt: skip
    for row in missed_rows:
        name = row["person__display_name"] or row["person__username"] or "—"
        missed_by_person[name] += row["n"]
    for name in missed_by_person:
        by_person.setdefault(name, [0.0, 0.0])

    def rows(
        bucket: dict[Any, list[float]], missed: dict[Any, int] | None = None
    ) -> list[dict[str, Any]]:
        return [
            {"key": k, "done": int(v[0]), "due": int(v[1]),
             "rate": round(100 * v[0] / v[1], 1) if v[1] else None,
             "missed": (missed or {}).get(k, 0)}
            for k, v in bucket.items()
        ]  # fmt: skip

    total_done = sum(v[0] for v in by_tier.values())
    total_due = sum(v[1] for v in by_tier.values())
    not_visited.sort(key=lambda r: (r["tier"], r["last"] or datetime.date.min))
    return {
        "start": start,
        "end": end,
        "compliance": round(100 * total_done / total_due, 1) if total_due else None,
        "done": int(total_done),
        "due": int(total_due),
        "by_tier": sorted(rows(by_tier), key=lambda r: r["key"]),
        "by_person": sorted(
            rows(by_person, missed_by_person), key=lambda r: (r["rate"] or 0, r["key"])
        ),  # fmt: skip
        "missed": sum(missed_by_person.values()),
        "by_province": sorted(rows(by_province), key=lambda r: -r["due"])[:15],
        "overdue_follow_ups": follow_ups.filter(
            status__in=FollowUp.OPEN_STATUSES, due_date__lt=today
        ).count(),  # fmt: skip
        "open_follow_ups": follow_ups.filter(status__in=FollowUp.OPEN_STATUSES).count(),
        "median_days_to_close": statistics.median(durations) if durations else None,
        "closed_follow_ups": len(durations),
        "not_visited": not_visited,
    }


def account_timeline(user: User, account: Account, limit: int = 30) -> list[dict[str, Any]]:
    """The account's visits and follow-ups, newest first."""
    if not access.sees_customer_data(user):
        return []
    visits = visits_for(user).filter(account=account).select_related("report")
    items: list[dict[str, Any]] = [
        {"kind": "visit", "day": v.day, "visit": v, "report": getattr(v, "report", None)}
        for v in visits.order_by("-day")[:limit]
    ]
    items += [
        {"kind": "follow_up", "day": f.due_date, "follow_up": f}
        for f in follow_ups_for(user).filter(account=account).order_by("-due_date")[:limit]
    ]
    items.sort(key=lambda i: i["day"], reverse=True)
    return items[:limit]


def policy_versions() -> QuerySet[PolicyVersion]:
    return PolicyVersion.objects.select_related("created_by").prefetch_related("rules")


def may_see_queue(user: User) -> bool:
    return may_review(user)


def account_compliance(
    user: User, account: Account, *, start: datetime.date, end: datetime.date
) -> dict[str, Any]:
    """One account's coverage in ``[start, end]``: visits done against those its tier's
    rule asks for (``rate`` None when the policy asks for none), and its last visit."""
    from .services import policy_current  # noqa: PLC0415

    rule = rules.rule_for(list(policy_current().rules.all()), account.tier, account.categories)
    visits = visits_for(user).filter(account=account, status=Visit.Status.DONE)
    done = visits.filter(day__gte=start, day__lte=end).count()
    last = visits.filter(day__lte=end).aggregate(last=Max("day"))["last"]
    days = (end - start).days + 1
    due = max(1, days // rule.cadence_days) if rule is not None and days >= rule.cadence_days else 0
    return {
        "done": done,
        "due": due,
        "rate": round(100 * min(done, due) / due, 1) if due else None,
        "last": last,
        "cadence": rule.cadence_days if rule is not None else None,
    }


def recent_findings(user: User, accounts: QuerySet[Account], *, since: datetime.date) -> Any:
    """Findings of visit reports on ``accounts`` (visited on or after ``since``) that
    ``user`` may read, the most severe and newest first."""
    from .models import Finding  # noqa: PLC0415

    reports = reports_for(user).filter(visit__account__in=accounts, visit__day__gte=since)
    return (
        Finding.objects.filter(report__in=reports.values("pk"))
        .select_related("report__visit__account")
        .order_by("-severity", "-report__visit__day", "id")
    )
