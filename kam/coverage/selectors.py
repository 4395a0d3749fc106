"""Every read of the coverage app. Reads of account data start from
:func:`kam.accounts.selectors.account_list_for`, the one access gate."""

import datetime
import hashlib
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection
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
from kam.accounts.selectors import (
    account_list_for,
    account_visible,
    contact_list_for,
    in_account_scope,
)
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
    by_city, by_province, by_industry = _assigned()

    def resolve(pk: int, city: str, province: str, industry: int | None) -> int | None:
        return (
            owners.get(pk)
            or by_city.get(city)
            or by_province.get(province)
            or by_industry.get(industry or 0)
        )

    return resolve


def _assigned() -> tuple[dict[str, int], dict[str, int], dict[int, int]]:
    """Who covers a city, a province (an assignment without a city) and an industry: the
    first active person assigned (by the assignment's id)."""
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
    return by_city, by_province, by_industry


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


def visits_for(user: User) -> QuerySet[Visit]:
    return in_account_scope(Visit.objects.all(), user).select_related("account", "person")


def visit_get_for(user: User, pk: int) -> Visit:
    return visits_for(user).get(pk=pk)


def reports_for(user: User) -> QuerySet[VisitReport]:
    return in_account_scope(VisitReport.objects.all(), user, "visit__account").select_related(
        "visit", "visit__account", "visit__person", "submitted_by"
    )


def follow_ups_for(user: User) -> QuerySet[FollowUp]:
    return in_account_scope(FollowUp.objects.all(), user).select_related(
        "account", "owner", "report__visit"
    )


def may_report_on(user: User, account: Account) -> bool:
    """Account managers on the team, the department and directors file visit reports."""
    if not user.is_active or user.role not in (Role.MANAGER, Role.DEPARTMENT, Role.DIRECTOR):
        return False
    return account_visible(user, account)


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
        visits = in_account_scope(visits, user)
        placed = visits.count()
        due = placed + len(unserved)
    people = list(
        visits.values("person__username", "person__display_name")
        .annotate(n=Count("id")).order_by("-n", "person__username")
    )  # fmt: skip
    return PlanView(plan=plan, due=due, placed=placed, unserved=unserved, people=people)


# --- measures -------------------------------------------------------------------------------


def _quote(name: str) -> str:
    return str(connection.ops.quote_name(name))


def _sql(queryset: QuerySet[Any]) -> tuple[str, list[Any]]:
    sql, params = queryset.query.sql_with_params()
    return sql, list(params)


def _map_case(column: str, mapping: dict[Any, Any]) -> tuple[str, list[Any]]:
    """``CASE column WHEN key THEN value ... END`` (NULL when nothing maps)."""
    if not mapping:
        return "NULL", []
    params: list[Any] = []
    for key, value in mapping.items():
        params += [key, value]
    return f"CASE {column} " + "WHEN %s THEN %s " * len(mapping) + "END", params


def _day(value: Any) -> datetime.date | None:
    """A date read by raw SQL (SQLite returns text)."""
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


#: How long the portfolio's coverage totals are kept (see :meth:`_Due.totals`).
TOTALS_SECONDS = 60
_VERSION_KEY = "kam:coverage:data-version"


def _data_version() -> int:
    version = cache.get(_VERSION_KEY)
    if version is None:
        cache.add(_VERSION_KEY, 0, None)
        version = cache.get(_VERSION_KEY, 0)
    return int(version)


def coverage_changed(sender: Any = None, **kwargs: Any) -> None:
    """A row the coverage totals read was saved or deleted: the kept totals are stale.
    A login (which saves only the user's last login) changes nothing they read."""
    if set(kwargs.get("update_fields") or ()) == {"last_login"}:
        return
    try:
        cache.incr(_VERSION_KEY)
    except ValueError:  # not in the cache (evicted, or never read): start it
        cache.set(_VERSION_KEY, 1, None)


@dataclass(frozen=True)
class _Due:
    """The accounts due a visit in a period, as SQL (a derived table): each with its
    cadence, the visits due, the day its last visit must not be before, and who covers
    it. The dashboard's figures and its not-visited page are computed from it by the
    database; the accounts are never loaded (50,000 of them at a carrier's scale)."""

    user: User
    start: datetime.date
    end: datetime.date
    #: (tier, category field or "" for the tier's general rule, cadence), in the order
    #: :func:`rules.rule_for` prefers them: per tier, the shortest cadence first (a
    #: category's rule before the general one at the same cadence). The general rule
    #: matches every account of its tier: the tier's rules after it never apply.
    rules: list[tuple[int, str, int]]

    @classmethod
    def of(
        cls, user: User, policy_rules: list[Any], *, start: datetime.date, end: datetime.date
    ) -> "_Due":
        fields = {str(c): f for c, f in Account.CATEGORY_FIELDS.items()}
        ordered: list[tuple[int, str, int]] = []
        for tier in sorted({r.tier for r in policy_rules}):
            tier_rules = sorted((r for r in policy_rules if r.tier == tier),
                                key=lambda r: (r.cadence_days, r.category == ""))  # fmt: skip
            for r in tier_rules:
                if not r.category:
                    ordered.append((tier, "", r.cadence_days))
                    break
                if r.category in fields:  # else no account holds it: it matches none
                    ordered.append((tier, fields[r.category], r.cadence_days))
        return cls(user, start, end, ordered)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def cadences(self) -> list[int]:
        """The cadences that make visits due in the period (a longer one: none due)."""
        return sorted({c for _t, _f, c in self.rules if c <= self.days})

    @property
    def tiers(self) -> list[int]:
        """The tiers with a rule due in the period: the other tiers' accounts are not read
        (a 90-day period skips the 91-day tier, half of bench/web's 100,000 accounts)."""
        return sorted({t for t, _f, c in self.rules if c <= self.days})

    def accounts(self, *, tier: int | None = None, person: bool = True) -> tuple[str, list[Any]]:
        """``id, name, tier, province_code, cadence, due, threshold[, person]`` of each
        account due in the period (of ``tier`` only, when given): of the accounts the user
        sees (:func:`account_list_for`), the active ones of a due tier whose cadence the
        period holds. A last visit before ``threshold`` is too old."""
        fields = ["id", "name", "tier", "province_code", "city_code", "industry_id",
                  *Account.CATEGORY_FIELDS.values()]  # fmt: skip
        scope = account_list_for(self.user).filter(
            status=AccountStatus.ACTIVE, tier__in=self.tiers if tier is None else [tier]
        )
        base, base_params = _sql(scope.order_by().values(*fields))
        whens, when_params = [], []
        for t, field, cadence in self.rules:
            flag = f" AND b.{_quote(field)}" if field else ""
            whens.append(f"WHEN b.tier = %s{flag} THEN %s")
            when_params += [t, cadence]
        due, due_params = _map_case("i.cadence", {c: self.days // c for c in self.cadences})
        threshold, threshold_params = _map_case(
            "i.cadence", {c: self.end - datetime.timedelta(days=c) for c in self.cadences}
        )
        columns = f"i.id, i.name, i.tier, i.province_code, i.cadence, {due} AS due, "
        columns += f"{threshold} AS threshold"
        params = due_params + threshold_params
        join, join_params = "", list[Any]()
        if person:
            # Who covers it, as covering_resolver says: its owner; else the territory
            # manager of its city, then of its province; else its industry's manager.
            by_city, by_province, by_industry = _assigned()
            cases = []
            for column, mapping in (("i.city_code", dict[Any, int](by_city)),
                                    ("i.province_code", dict[Any, int](by_province)),
                                    ("i.industry_id", dict[Any, int](by_industry))):  # fmt: skip
                case, case_params = _map_case(column, mapping)
                cases.append(case)
                params += case_params
            columns += f", COALESCE(o.user_id, {', '.join(cases)}) AS person"
            owners, join_params = _sql(
                TeamMembership.objects.filter(role=TeamRole.OWNER, user__is_active=True)
                .order_by().values("account_id", "user_id")
            )  # fmt: skip
            join = f" LEFT JOIN ({owners}) o ON o.account_id = i.id"
        sql = (
            f"SELECT {columns} FROM (SELECT b.*, CASE {' '.join(whens)} END AS cadence "  # noqa: S608 - SQL of the ORM and of constants
            f"FROM ({base}) b) i{join} WHERE i.cadence <= %s"
        )
        return sql, [*params, *when_params, *base_params, *join_params, self.days]

    def visits(self) -> tuple[str, list[Any]]:
        """``account_id, n, lw`` of the accounts with done visits: ``n`` in the period,
        ``lw`` the last since the longest due cadence before the end. An older last visit
        (or none) is too old for every cadence: not visited within it."""
        since = self.end - datetime.timedelta(days=max(self.cadences))
        sql = (
            "SELECT account_id, SUM(CASE WHEN day >= %s THEN 1 ELSE 0 END) AS n, "  # noqa: S608 - a model's table
            "MAX(CASE WHEN day >= %s THEN day END) AS lw "
            f"FROM {_quote(Visit._meta.db_table)} "
            "WHERE status = %s AND day >= %s AND day <= %s GROUP BY account_id"
        )
        return sql, [self.start, since, str(Visit.Status.DONE), min(self.start, since), self.end]

    def totals(self) -> list[tuple[int, str, int | None, int, int, int]]:
        """``(tier, province, person, done, due, not visited)`` per tier, province and
        covering person: a visit counts up to the visits due of its account.

        For the roles that see every account the figures are the same for all of them: they
        are kept in the cache for :data:`TOTALS_SECONDS`, under the coverage data's version
        (:func:`coverage_changed` moves it when a visit, account, team, assignment, rule or
        user is saved in this process). The query reads every due account (50,000 at a
        carrier's scale, about 100 ms on bench/web) and twenty directors open the same
        dashboard."""
        if not access.sees_all_accounts(self.user):
            return self._totals()
        key = (
            "kam:coverage:totals:"
            + hashlib.sha256(
                repr((_data_version(), self.start, self.end, self.rules)).encode()
            ).hexdigest()
        )
        rows: list[tuple[int, str, int | None, int, int, int]] | None = cache.get(key)
        if rows is None:
            rows = self._totals()
            cache.set(key, rows, TOTALS_SECONDS)
        return rows

    def _totals(self) -> list[tuple[int, str, int | None, int, int, int]]:
        try:
            accounts, params = self.accounts()
        except EmptyResultSet:  # the user sees no account: no SQL to run
            return []
        visits, visit_params = self.visits()
        sql = (
            "SELECT a.tier, a.province_code, a.person, "  # noqa: S608 - SQL of the ORM and of constants
            "SUM(CASE WHEN w.n IS NULL THEN 0 WHEN w.n < a.due THEN w.n ELSE a.due END), "
            "SUM(a.due), SUM(CASE WHEN w.lw IS NULL OR w.lw < a.threshold THEN 1 ELSE 0 END) "
            f"FROM ({accounts}) a LEFT JOIN ({visits}) w ON w.account_id = a.id "
            "GROUP BY a.tier, a.province_code, a.person"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, *visit_params])
            return [(t, p or "", u, int(d), int(n), int(nv))
                    for t, p, u, d, n, nv in cursor.fetchall()]  # fmt: skip

    def not_visited(self, tier: int, limit: int, offset: int) -> list[dict[str, Any]]:
        """A slice of the tier's accounts not visited within their cadence: never visited
        first, then by the last visit, the name and the id. Each of the tier's accounts
        looks up its last visit (an index probe): page 1, tier 1, reads a few hundred
        accounts, not the visits of every account."""
        try:
            accounts, params = self.accounts(tier=tier, person=False)
        except EmptyResultSet:
            return []
        table = _quote(Visit._meta.db_table)
        # OFFSET 0 keeps PostgreSQL from pulling the derived table up, which would run the
        # probe once for the filter, once for the sort and once for the result.
        fence = " OFFSET 0" if connection.vendor == "postgresql" else ""
        sql = (
            "SELECT x.id, x.cadence, x.last_day FROM (SELECT a.id, a.name, a.cadence, "  # noqa: S608 - SQL of the ORM and of constants
            f"a.threshold, (SELECT MAX(v.day) FROM {table} v WHERE v.account_id = a.id "
            f"AND v.status = %s AND v.day <= %s) AS last_day FROM ({accounts}) a{fence}) x "
            "WHERE x.last_day IS NULL OR x.last_day < x.threshold "
            "ORDER BY x.last_day NULLS FIRST, x.name, x.id LIMIT %s OFFSET %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [str(Visit.Status.DONE), self.end, *params, limit, offset])
            return [{"account_id": pk, "tier": tier, "last": _day(last), "cadence": cadence}
                    for pk, cadence, last in cursor.fetchall()]  # fmt: skip


class NotVisited:
    """The accounts not visited within their cadence, by tier, then never visited first,
    then by the last visit, the name and the id: a sequence whose length is known (the
    totals count them) and whose slices (a page) are read with LIMIT and OFFSET, tier by
    tier, so a page of tier 1 does not sort the other tiers' accounts."""

    def __init__(self, due: _Due | None, per_tier: dict[int, int]) -> None:
        self._due = due
        self._tiers = sorted((t, n) for t, n in per_tier.items() if n)

    def __len__(self) -> int:
        return sum(n for _t, n in self._tiers)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._rows(0, len(self)))

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            rows = self._rows(start, stop)
            return rows if step == 1 else rows[::step]
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError(index)
        return self._rows(position, position + 1)[0]

    def _rows(self, start: int, stop: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        before = 0
        for tier, n in self._tiers:
            lo, hi = max(start - before, 0), min(stop - before, n)
            if lo < hi and self._due is not None:
                out += self._due.not_visited(tier, hi - lo, lo)
            before += n
        return out


def measures(user: User, *, start: datetime.date, end: datetime.date) -> dict[str, Any]:
    """Coverage compliance (visits done / due) per tier, person and territory; overdue
    follow-ups; median days from report to follow-up closure; accounts not visited within
    their cadence. ``[start, end]`` is the period (both days included).

    The figures are aggregated by the database over the accounts due in the period
    (:class:`_Due`): a fixed number of queries, none returning a row per account. The
    not-visited accounts are a :class:`NotVisited` sequence: its pages are queries."""
    from kam.core import regions  # noqa: PLC0415

    from .services import policy_current  # noqa: PLC0415

    due = _Due.of(user, list(policy_current().rules.all()), start=start, end=end)
    by_tier: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    by_person: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_province: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    not_visited: dict[int, int] = defaultdict(int)
    totals = due.totals() if due.tiers else []
    names = dict(
        User.objects.filter(pk__in={p for _t, _r, p, *_n in totals if p is not None})
        .values_list("pk", "display_name")
    )  # fmt: skip
    for tier, province, person, got, owed, missing in totals:
        for row in (by_tier[tier], by_province[regions.label(province) or "—"],
                    by_person[names.get(person or 0, "—") or "—"]):  # fmt: skip
            row[0] += got
            row[1] += owed
        not_visited[tier] += missing
    follow_ups = follow_ups_for(user)
    today = timezone.localdate()
    closed = follow_ups.filter(status=FollowUp.Status.DONE, closed_at__date__gte=start,
                               closed_at__date__lte=end)  # fmt: skip
    durations = [
        (timezone.localtime(closed_at).date() - timezone.localtime(opened).date()).days
        for closed_at, opened in closed.values_list(
            "closed_at", Coalesce("report__submitted_at", "created_at")
        )
    ]

    # Missed visits (their day passed without a report) in the period, per person: they are
    # the part of the gap that was planned and not made.
    missed_by_person: dict[str, int] = defaultdict(int)
    scope = account_list_for(user).filter(status=AccountStatus.ACTIVE, tier__isnull=False)
    missed_rows = (
        Visit.objects.filter(missed_q(today), day__gte=start, day__lte=end,
                             account_id__in=scope.values("pk"))
        .values("person__display_name", "person__username").annotate(n=Count("id")).order_by()
    )  # fmt: skip
    for row in missed_rows:
        name = row["person__display_name"] or row["person__username"] or "—"
        missed_by_person[name] += row["n"]
    for name in missed_by_person:
        by_person.setdefault(name, [0, 0])

    def rows(
        bucket: dict[Any, list[int]], missed: dict[Any, int] | None = None
    ) -> list[dict[str, Any]]:
        return [
            {"key": k, "done": v[0], "due": v[1],
             "rate": round(100 * v[0] / v[1], 1) if v[1] else None,
             "missed": (missed or {}).get(k, 0)}
            for k, v in bucket.items()
        ]  # fmt: skip

    total_done = sum(v[0] for v in by_tier.values())
    total_due = sum(v[1] for v in by_tier.values())
    return {
        "start": start,
        "end": end,
        "compliance": round(100 * total_done / total_due, 1) if total_due else None,
        "done": total_done,
        "due": total_due,
        "by_tier": sorted(rows(by_tier), key=lambda r: r["key"]),
        "by_person": sorted(
            rows(by_person, missed_by_person), key=lambda r: (r["rate"] or 0, r["key"])
        ),  # fmt: skip
        "missed": sum(missed_by_person.values()),
        # The most visits due first; provinces with as many, by name.
        "by_province": sorted(rows(by_province), key=lambda r: (-r["due"], r["key"]))[:15],
        "overdue_follow_ups": follow_ups.filter(
            status__in=FollowUp.OPEN_STATUSES, due_date__lt=today
        ).count(),  # fmt: skip
        "open_follow_ups": follow_ups.filter(status__in=FollowUp.OPEN_STATUSES).count(),
        "median_days_to_close": statistics.median(durations) if durations else None,
        "closed_follow_ups": len(durations),
        "not_visited": NotVisited(due if due.tiers else None, not_visited),
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
