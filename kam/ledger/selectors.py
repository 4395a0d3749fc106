"""Reads of the ledger, each filtered by who is asking.

Facts of a billing code linked to an account are visible to whoever may see that account
(``account_list_for``, the one gate). Facts of unlinked codes, import history and reject
reports are for the roles that see every account.
"""

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import duckdb
from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Count,
    DecimalField,
    F,
    Func,
    Max,
    Min,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from kam.accounts.models import Account, BillingCode, CorporateGroup
from kam.accounts.selectors import account_list_for
from kam.core import access, memo
from kam.core.models import User

from . import facts, lake
from .contract import PRODUCTS
from .facts import PRODUCT_COLUMNS
from .models import AccountMonth, AccountRevenue, ImportBatch, LakeFile, UnlinkedCode

FACT_SUMS = ("waybills", "pieces", "weight_kg", "revenue", "cost", "margin", "costed_waybills",
             "cod_amount", "returns", "returned", "lost", "damaged", "promised", "on_time",
             "consumer_waybills")  # fmt: skip


def import_list_for(user: User) -> QuerySet[ImportBatch]:
    if not access.is_active_user(user) or not access.sees_ledger(user):
        return ImportBatch.objects.none()
    return ImportBatch.objects.select_related("created_by")


def import_get_for(user: User, pk: int) -> ImportBatch:
    """Raises ``ImportBatch.DoesNotExist`` for a batch the user may not see."""
    return import_list_for(user).get(pk=pk)


# --- reject reports --------------------------------------------------------------------------


@dataclass(frozen=True)
class Reject:
    row: int
    column: str
    value: str | None
    reason: str
    detail: str


def reject_count(batch: ImportBatch) -> int:
    path = lake.reject_path(batch.pk)
    if not path.exists():
        return 0
    return duckdb.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0]  # type: ignore[index]


def rejects(batch: ImportBatch, offset: int = 0, limit: int | None = None) -> Iterator[Reject]:
    """The reject report in row order, streamed in chunks (a report can be millions long)."""
    path = lake.reject_path(batch.pk)
    if not path.exists():
        return
    con = duckdb.connect()
    try:
        sql = f'SELECT row, "column", value, reason, detail FROM read_parquet(\'{path}\') ORDER BY row, "column"'
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        sql += f" OFFSET {int(offset)}"
        cursor = con.execute(sql)
        while chunk := cursor.fetchmany(10_000):
            for row in chunk:
                yield Reject(*row)
    finally:
        con.close()


# --- facts -----------------------------------------------------------------------------------


def month_range(as_of: date, months: int) -> tuple[date, date]:
    """The first days of the first and last of the ``months`` months ending with ``as_of``'s."""
    end = as_of.replace(day=1)
    index = end.year * 12 + end.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1), end


def month_list(start: date, end: date) -> list[date]:
    out = []
    current = start
    while current <= end:
        out.append(current)
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
    return out


def group_tree_ids(group: CorporateGroup) -> list[int]:
    ids = [group.pk]
    frontier = [group.pk]
    while frontier:
        frontier = list(
            CorporateGroup.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
        )
        frontier = [pk for pk in frontier if pk not in ids]
        ids.extend(frontier)
    return ids


def codes_of_accounts(accounts: QuerySet[Account]) -> list[str]:
    return list(BillingCode.objects.filter(account__in=accounts).values_list("code", flat=True))


def visible_code(user: User, code: str) -> bool:
    """May ``user`` read the facts of billing code ``code``?"""
    linked = BillingCode.objects.filter(code=code).values_list("account_id", flat=True).first()
    if linked is None:
        return access.is_active_user(user) and access.sees_ledger(user)
    return account_list_for(user).filter(pk=linked).exists()


def facts_for_codes(
    codes: list[str], start: date | None = None, end: date | None = None
) -> QuerySet[AccountMonth]:
    facts = AccountMonth.objects.filter(billing_code__in=codes)
    if start:
        facts = facts.filter(month__gte=start)
    if end:
        facts = facts.filter(month__lte=end)
    return facts.order_by("billing_code", "month")


def monthly_totals(codes: list[str], start: date, end: date) -> list[dict[str, Any]]:
    """One row per month from ``start`` to ``end`` (months without waybills included),
    summed over ``codes``."""
    rows = {
        r["month"]: r
        for r in facts_for_codes(codes, start, end)
        .order_by()
        .values("month")
        .annotate(**{f: Sum(f) for f in FACT_SUMS})
    }
    return _monthly_rows(rows, start, end)


def _monthly_rows(rows: dict[date, dict[str, Any]], start: date, end: date) -> list[dict[str, Any]]:
    """:func:`monthly_totals`' rows from the months' sums (``rows``, by month)."""
    out = []
    for month in month_list(start, end):
        row = rows.get(month)
        if row is None:
            row = {f: 0 for f in FACT_SUMS} | {"month": month}
            for money in ("revenue", "cost", "margin", "cod_amount"):
                row[money] = Decimal("0.00")
            row["weight_kg"] = Decimal("0.000")
        for money in ("revenue", "cost", "margin", "cod_amount"):
            row[money] = _cents(row[money])
        row["on_time_rate"] = rate(row["on_time"], row["promised"])
        row["margin_rate"] = rate(row["margin"], row["revenue"]) if row["costed_waybills"] else None
        out.append(row)
    return out


def rate(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """``part`` as a percentage of ``whole``, to one decimal; None when ``whole`` is zero."""
    return (Decimal(100) * part / whole).quantize(Decimal("0.1")) if whole else None


def period_totals(months: list[dict[str, Any]]) -> dict[str, Any]:
    """The totals of :func:`monthly_totals`' rows; margin only over months with known cost."""
    costed = [m for m in months if m["costed_waybills"]]
    return {
        "waybills": sum(m["waybills"] for m in months),
        "revenue": sum((m["revenue"] for m in months), Decimal(0)),
        "margin": sum((m["margin"] for m in costed), Decimal(0)) if costed else None,
        "margin_rate": rate(sum(m["margin"] for m in costed), sum(m["revenue"] for m in costed))
        if costed
        else None,
        "on_time_rate": rate(sum(m["on_time"] for m in months), sum(m["promised"] for m in months)),
        "cod_amount": sum((m["cod_amount"] for m in months), Decimal(0)),
    }


def _cents(value: Any) -> Decimal:
    """A sum as exact cents. SQLite adds decimals as binary floats (…430000000 or …4299999);
    every input has whole cents, so rounding to the cent gives the exact sum back."""
    return Decimal(value or 0).quantize(Decimal("0.01"))


def _with_cents(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        row["revenue"] = _cents(row["revenue"])
    return rows


def top_lanes(codes: list[str], start: date, end: date, limit: int = 10) -> list[dict[str, Any]]:
    """The lanes with the most revenue over the months (from the lane facts' Parquet files).

    Kept per process by the codes and the files read (:func:`_lanes_of_files`): the files
    never change under a path, so a kept result is exact; the caller chose ``codes`` by the
    user's access rules, and the result holds nothing else."""
    paths = facts.lane_paths(start, end)
    if not paths or not codes:
        return []
    rows = _lanes_of_files(
        tuple(sorted(set(codes))), tuple(sorted(paths)), str(settings.LAKE_DIR), start, end, limit
    )
    return [{"origin": o, "destination": d, "waybills": w, "revenue": r} for o, d, w, r in rows]


@functools.lru_cache(maxsize=2048)
def _lanes_of_files(
    codes: tuple[str, ...], paths: tuple[str, ...], lake_dir: str, start: date, end: date,
    limit: int,
) -> tuple[tuple[str, str, int, Decimal], ...]:  # fmt: skip
    """:func:`top_lanes` read from the lake (20-30 ms of DuckDB for a tier-1 account on
    bench/web); ``lake_dir`` is part of the key only (the paths are relative to it)."""
    with facts.lanes(list(codes), start, end, paths=list(paths)) as con:
        rows = con.execute(
            """SELECT origin, destination, sum(waybills), sum(revenue) AS revenue FROM lanes
               GROUP BY origin, destination
               ORDER BY revenue DESC, sum(waybills) DESC, origin, destination LIMIT ?""",
            [limit],
        ).fetchall()
    return tuple((o, d, int(w), _cents(r)) for o, d, w, r in rows)


def product_mix(codes: list[str], start: date, end: date) -> list[dict[str, Any]]:
    """Waybills and revenue per product over the months, the biggest first (products without
    waybills left out)."""
    sums = facts_for_codes(codes, start, end).aggregate(**{c: Sum(c) for c in PRODUCT_COLUMNS})
    return _product_rows(sums)


@dataclass(frozen=True)
class Shipments:
    """The shipments panel's figures of some billing codes: see :func:`shipments_summary`."""

    latest: date
    start: date
    end: date
    months: list[dict[str, Any]]
    products: list[dict[str, Any]]


def shipments_summary(codes: list[str], months: int) -> Shipments | None:
    """What the shipments panel shows of ``codes``, from one read of their facts grouped
    by month: the last month with facts (:func:`latest_fact_month`), the ``months`` months
    ending there as :func:`monthly_totals` rows and their product mix as
    :func:`product_mix`. None when the codes have no facts. (Three reads before: under a
    manager's row-level policies each built the set of the manager's billing codes.)"""
    if not codes:
        return None
    sums = {f: Sum(f) for f in (*FACT_SUMS, *PRODUCT_COLUMNS)}
    by_month = {
        r["month"]: r
        for r in AccountMonth.objects.filter(billing_code__in=codes)
        .order_by()
        .values("month")
        .annotate(**sums)
    }
    if not by_month:
        return None
    latest = max(by_month)
    start, end = month_range(latest, months)
    window = [r for m, r in by_month.items() if start <= m <= end]
    products = {c: sum(r[c] or 0 for r in window) for c in PRODUCT_COLUMNS}
    return Shipments(
        latest, start, end,
        _monthly_rows({r["month"]: r for r in window}, start, end),
        _product_rows(products),
    )  # fmt: skip


def _product_rows(sums: dict[str, Any]) -> list[dict[str, Any]]:
    """:func:`product_mix`' rows from the product columns' sums."""
    rows = [
        {"product": p, "waybills": sums[f"{p}_waybills"], "revenue": _cents(sums[f"{p}_revenue"])}
        for p in PRODUCTS
        if sums[f"{p}_waybills"]
    ]
    return sorted(rows, key=lambda r: (-r["revenue"], r["product"]))


# --- unlinked codes --------------------------------------------------------------------------

UNLINKED_SORTS = {
    "revenue": "revenue",
    "-revenue": "-revenue",
    "waybills": "waybills",
    "-waybills": "-waybills",
    "code": "billing_code",
    "-code": "-billing_code",
    "last": "last_month",
    "-last": "-last_month",
}


def unlinked_codes(
    user: User, *, q: str = "", sort: str = "-revenue", since: date | None = None
) -> QuerySet[Any]:
    """Billing codes in the facts that no archive account holds, with their totals (rows of
    ``billing_code, waybills, revenue, first_month, last_month, months``). Read from the
    stored totals (:class:`UnlinkedCode`, a row per unlinked code) while the lake has files
    and no ``since`` is asked; else grouped from the facts (:func:`_unlinked_from_facts`):
    the same rows in the same order."""
    if not access.is_active_user(user) or not access.sees_ledger(user):
        return AccountMonth.objects.none()
    if since is not None or not LakeFile.objects.exists():
        return _unlinked_from_facts(q=q, sort=sort, since=since)
    # A code linked since its row was written is no longer unlinked (a lookup per stored
    # row in the billing codes' unique index: the stored rows are the unlinked ones only).
    rows = UnlinkedCode.objects.exclude(billing_code__in=BillingCode.objects.values("code"))
    if q:
        rows = rows.filter(billing_code__icontains=q.strip())
    return rows.values(*UNLINKED_COLUMNS).order_by(
        UNLINKED_SORTS.get(sort, "-revenue"), "billing_code"
    )


UNLINKED_COLUMNS = ("billing_code", "waybills", "revenue", "first_month", "last_month", "months")


def _unlinked_from_facts(
    *, q: str = "", sort: str = "-revenue", since: date | None = None
) -> QuerySet[Any]:
    """:func:`unlinked_codes` grouped from the facts (every fact of every code, twice a page
    with its count)."""
    facts = AccountMonth.objects.exclude(billing_code__in=BillingCode.objects.values("code"))
    if since:
        facts = facts.filter(month__gte=since)
    if q:
        facts = facts.filter(billing_code__icontains=q.strip())
    return (
        facts.values("billing_code")
        .annotate(
            waybills=Sum("waybills"),
            revenue=Coalesce(Sum("revenue"), Decimal("0")),
            first_month=Min("month"),
            last_month=Max("month"),
            months=Count("month"),
        )
        .order_by(UNLINKED_SORTS.get(sort, "-revenue"), "billing_code")
    )


@transaction.atomic
def refresh_unlinked_codes(codes: list[str] | None = None) -> None:
    """Store the totals of the billing codes in the facts that no account holds
    (:class:`UnlinkedCode`): all of them (after facts are rebuilt), or those of ``codes``
    (a billing code removed from its account). One grouped ``INSERT ... SELECT``."""
    rows = UnlinkedCode.objects.all()
    only = ""
    params: list[str] = []
    if codes is not None:
        if not codes:
            return
        rows = rows.filter(billing_code__in=codes)
        only = f"AND am.billing_code IN ({', '.join(['%s'] * len(codes))})"
        params = list(codes)
    rows.delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {UnlinkedCode._meta.db_table} "  # noqa: S608 - tables from the models
            "(billing_code, waybills, revenue, first_month, last_month, months) "
            "SELECT am.billing_code, SUM(am.waybills), SUM(am.revenue), MIN(am.month), "
            f"MAX(am.month), COUNT(*) FROM {AccountMonth._meta.db_table} am "
            f"WHERE NOT EXISTS (SELECT 1 FROM {BillingCode._meta.db_table} bc "
            f"WHERE bc.code = am.billing_code) {only} GROUP BY am.billing_code",
            params,
        )


def unlinked_code_get(user: User, code: str) -> dict[str, Any]:
    """One unlinked code's totals; raises ``AccountMonth.DoesNotExist`` when it is not one."""
    row = unlinked_codes(user).filter(billing_code=code).first()
    if row is None:
        raise AccountMonth.DoesNotExist(code)
    return row


# --- pages ----------------------------------------------------------------------------------


def latest_fact_month(codes: list[str]) -> date | None:
    """The last month that has facts for any of ``codes`` (None when there are none)."""
    if not codes:
        return None
    return AccountMonth.objects.filter(billing_code__in=codes).aggregate(last=Max("month"))["last"]


def code_account(code: str) -> Account | None:
    """The archive account that holds billing code ``code``, if any (callers check access)."""
    linked = BillingCode.objects.select_related("account").filter(code=code).first()
    return linked.account if linked else None


# --- the home page: a manager's book of business ---------------------------------------------


@dataclass(frozen=True)
class BookOfBusiness:
    """Revenue of a set of accounts over the twelve complete months before ``as_of``'s
    month (``start`` – ``end``), against the twelve months before those."""

    start: date  # first day of the first month of the trailing twelve
    end: date  # first day of the last month of the trailing twelve
    accounts: int
    revenue: Decimal
    revenue_prev: Decimal
    tiers: list[tuple[int | None, int]]  # (tier, accounts), tier 1 first, untiered last
    movers_up: list[dict[str, Any]]
    movers_down: list[dict[str, Any]]

    @property
    def growth(self) -> float | None:
        if not self.revenue_prev:
            return None
        return float((self.revenue - self.revenue_prev) / self.revenue_prev)


def book_of_business(
    accounts: QuerySet[Account], *, as_of: date, movers: int = 3
) -> BookOfBusiness:
    """Trailing-12-month revenue, growth on the 12 months before, tier mix and top movers of
    ``accounts`` (a queryset from the access gate), over the twelve months before
    ``as_of``'s month. Read from the stored :class:`AccountRevenue` figures when they are
    of this period (:func:`_book_from_figures`); else summed over the facts: three queries
    whatever the number of accounts (the accounts, their billing codes, and one grouped
    query over the facts, per code and period)."""
    from django.db.models import Case, IntegerField, Value, When

    end, _ = month_range(as_of, 2)  # the month before as_of's
    start, _ = month_range(end, 12)
    prev_start, _ = month_range(end, 24)
    if AccountRevenue.objects.filter(as_of=end).exists():
        return _book_from_figures(accounts.order_by(), start=start, end=end, movers=movers)
    rows = list(accounts.order_by().values_list("pk", "name", "name_en", "tier"))
    # Grouped by billing code, then added up per account here: a subquery naming each fact
    # row's account cost a third of a second for a manager's 50,000 fact rows (bench/web).
    account_of_code = dict(
        BillingCode.objects.filter(account__in=accounts.order_by()).values_list(
            "code", "account_id"
        )
    )
    sums = (
        AccountMonth.objects.filter(
            billing_code__in=BillingCode.objects.filter(account__in=accounts.order_by()).values(
                "code"
            ),
            month__gte=prev_start,
            month__lte=end,
        )
        .annotate(
            current=Case(
                When(month__gte=start, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
        )  # fmt: skip
        .values("billing_code", "current")
        .annotate(revenue=Sum("revenue"))
        .order_by()
    )
    now: dict[int, Decimal] = {}
    before: dict[int, Decimal] = {}
    for row in sums:
        account = account_of_code.get(row["billing_code"])
        if account is None:
            continue
        target = now if row["current"] else before
        target[account] = target.get(account, Decimal(0)) + (row["revenue"] or Decimal(0))
    tier_counts: dict[int | None, int] = {}
    changes = []
    for pk, name, name_en, tier in rows:
        tier_counts[tier] = tier_counts.get(tier, 0) + 1
        cur, prev = now.get(pk, Decimal(0)), before.get(pk, Decimal(0))
        if cur != prev:
            changes.append({"pk": pk, "name": name, "name_en": name_en, "tier": tier, "revenue": cur,
                            "revenue_prev": prev, "change": cur - prev})  # fmt: skip
    changes.sort(key=lambda c: (c["change"], c["pk"]))
    down = [c for c in changes if c["change"] < 0][:movers]
    up = [c for c in reversed(changes) if c["change"] > 0][:movers]
    tiers = sorted(tier_counts.items(), key=lambda t: (t[0] is None, t[0] or 0))
    return BookOfBusiness(
        start=start, end=end, accounts=len(rows),
        revenue=sum(now.values(), Decimal(0)), revenue_prev=sum(before.values(), Decimal(0)),
        tiers=tiers, movers_up=up, movers_down=down,
    )  # fmt: skip


def _book_from_figures(
    accounts: QuerySet[Account], *, start: date, end: date, movers: int
) -> BookOfBusiness:
    """:func:`book_of_business` from the stored figures of the period ending ``end``, in
    two queries: the accounts with their tier and names, then their figures of the period
    (an account without one had no revenue in either period), added up and sorted here.
    Not joined in one query: under row-level security PostgreSQL merge-joined the figures
    in key order through both tables' whole indexes (100-190 ms for a manager's 2,700
    accounts on bench/web, against 30 + 40 ms apart)."""
    tier_counts: dict[int | None, int] = {}
    names: dict[int, tuple[str, str, int | None]] = {}
    for pk, tier, name, name_en in accounts.values_list("pk", "tier", "name", "name_en"):
        tier_counts[tier] = tier_counts.get(tier, 0) + 1
        names[pk] = (name, name_en, tier)
    revenue = revenue_prev = Decimal(0)
    changes = []
    figures = AccountRevenue.objects.filter(account__in=accounts.values("pk"), as_of=end)
    for pk, now, before in figures.values_list("account_id", "revenue", "revenue_prev"):
        revenue += now
        revenue_prev += before
        if now != before:
            changes.append((now - before, pk, now, before))
    tiers = sorted(tier_counts.items(), key=lambda t: (t[0] is None, t[0] or 0))
    changes.sort()  # as the facts' path: by change, then id
    down = [c for c in changes if c[0] < 0][:movers]
    up = [c for c in reversed(changes) if c[0] > 0][:movers]

    def rows(chosen: list[tuple[Decimal, int, Decimal, Decimal]]) -> list[dict[str, Any]]:
        return [{"pk": pk, "name": names[pk][0], "name_en": names[pk][1], "tier": names[pk][2],
                 "revenue": now, "revenue_prev": before, "change": change}
                for change, pk, now, before in chosen]  # fmt: skip

    return BookOfBusiness(
        start=start, end=end, accounts=len(names), revenue=revenue,
        revenue_prev=revenue_prev, tiers=tiers, movers_up=rows(up), movers_down=rows(down),
    )  # fmt: skip


# --- the account list's revenue column --------------------------------------------------------

#: The account list's revenue covers this many months, ending with the ledger's latest.
TRAILING_MONTHS = 12
_MONEY = DecimalField(max_digits=20, decimal_places=2)


def latest_ledger_month() -> date | None:
    """The last month the lake holds waybills of: where trailing figures end (never today's
    date, which may lie months after the last import)."""
    # Once per page: several of the account page's panels end their figures there.
    last = memo.page_fact(
        "ledger.latest_month", lambda: LakeFile.objects.aggregate(last=Max("month"))["last"]
    )
    return date(int(last[:4]), int(last[5:7]), 1) if last else None


def trailing_period(as_of: date | None = None) -> tuple[date, date] | None:
    as_of = as_of or latest_ledger_month()
    return month_range(as_of, TRAILING_MONTHS) if as_of else None


def revenue_caption() -> str:
    """The period of the account list's revenue column, "2025-11 – 2026-10"."""
    period = trailing_period()
    return f"{period[0]:%Y-%m} – {period[1]:%Y-%m}" if period else ""


def with_revenue_12m(accounts: QuerySet[Account], as_of: date | None = None) -> QuerySet[Account]:
    """``revenue_12m`` on each account: our revenue (freight and surcharges) over the
    :data:`TRAILING_MONTHS` months ending with ``as_of``'s month (default: the ledger's
    latest), summed over the account's billing codes from the AccountMonth facts; 0 when
    it has none. One SQL expression, so a page of the list costs the same queries however
    many accounts there are: the stored :class:`AccountRevenue` (one row per account,
    joined) while its figures are of this period, else a correlated subquery summing the
    facts (the (billing_code, month) index; about 5 µs an account, too slow to sort
    100,000)."""
    period = trailing_period(as_of)
    if period is None:
        return accounts.annotate(revenue_12m=Value(Decimal("0.00"), output_field=_MONEY))
    # Two levels down: the codes of the account of the outer query.
    codes = BillingCode.objects.filter(account_id=OuterRef(OuterRef("pk"))).values("code")
    total = (
        AccountMonth.objects.filter(
            billing_code__in=Subquery(codes), month__gte=period[0], month__lte=period[1]
        )
        .order_by()
        .annotate(total=Func(F("revenue"), function="SUM", output_field=_MONEY))
        .values("total")
    )
    if AccountRevenue.objects.filter(as_of=period[1]).exists():
        # One query more, but a plan without the subquery: its estimated cost alone (not
        # run) made PostgreSQL JIT-compile the list's query, a third of a second.
        return accounts.annotate(
            revenue_12m=Coalesce(
                F("revenue_figure__revenue"), Value(Decimal("0.00")), output_field=_MONEY
            )
        )
    return accounts.annotate(
        revenue_12m=Coalesce(
            Subquery(total, output_field=_MONEY), Value(Decimal("0.00")), output_field=_MONEY
        )  # fmt: skip
    )


def refresh_revenue_12m(account_ids: list[int] | None = None) -> None:
    """Store each account's trailing-12-month revenue and that of the 12 months before
    (:class:`AccountRevenue`) for the ledger's latest month: all accounts (after facts are
    rebuilt), or ``account_ids`` (a billing code added or removed; only while stored
    figures of the period are in use). Identical to the sums of the facts: one grouped
    ``INSERT ... SELECT``."""
    period = trailing_period()
    if account_ids is not None:
        if period is None or not AccountRevenue.objects.filter(as_of=period[1]).exists():
            return  # the readers sum the facts themselves until the next rebuild stores them
        AccountRevenue.objects.filter(account_id__in=account_ids).delete()
    else:
        AccountRevenue.objects.all().delete()
    if period is None:
        return
    start, end = period
    prev_start, _ = month_range(end, 2 * TRAILING_MONTHS)
    only = ""
    params: list[Any] = [end, start, start, prev_start, end]
    if account_ids is not None:
        only = f"AND bc.account_id IN ({', '.join(['%s'] * len(account_ids))})"
        params += list(account_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {AccountRevenue._meta.db_table} "  # noqa: S608 - tables from the models
            "(account_id, as_of, revenue, revenue_prev) SELECT bc.account_id, %s, "
            "SUM(CASE WHEN am.month >= %s THEN am.revenue ELSE 0 END), "
            "SUM(CASE WHEN am.month < %s THEN am.revenue ELSE 0 END) "
            f"FROM {AccountMonth._meta.db_table} am "
            f"JOIN {BillingCode._meta.db_table} bc ON bc.code = am.billing_code "
            f"WHERE am.month >= %s AND am.month <= %s {only} GROUP BY bc.account_id",
            params,
        )
