"""Share of wallet (客户钱包份额): reads and writes.

An account's wallet is its total logistics spend a year: the latest :class:`WalletEstimate`
(entered with its source and confidence, or derived from the directors' benchmarks by
industry and company size), else the archive's ``Account.logistics_spend_estimate``. Our
share is our revenue over the ledger's trailing 12 months (the stored figures, read in SQL
through :func:`kam.ledger.selectors.with_revenue_12m`) over that wallet; the competitors'
shares and the account's in-house share come with the estimate. Every read starts from the
accounts the user sees."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    Count,
    DecimalField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.models import Account, Industry
from kam.accounts.selectors import account_list_for, account_scope_q
from kam.core import access
from kam.core.errors import PermissionDeniedError
from kam.core.models import Role, User
from kam.ledger import selectors as ledger

from . import selectors
from .models import (
    SIZE_BANDS,
    Competitor,
    CompetitorShare,
    WalletBenchmark,
    WalletEstimate,
)

_MONEY = DecimalField(max_digits=20, decimal_places=2)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")

# --- who may do what -------------------------------------------------------------------------


def may_edit_competitors(user: User) -> bool:
    """The department and directors keep the list of competitors."""
    return access.is_active_user(user) and user.role in (Role.DIRECTOR, Role.DEPARTMENT)


def may_edit_benchmarks(user: User) -> bool:
    return access.is_active_user(user) and user.role == Role.DIRECTOR


def may_estimate(user: User, account_id: int) -> bool:
    """Who plans an account estimates its wallet: its team's managers, the department,
    directors. Analysts and service reps read."""
    return selectors.may_edit_opportunity(user, account_id)


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDeniedError(_("You may not do this."))


# --- reads -------------------------------------------------------------------------------------


def competitors(*, active_only: bool = True) -> QuerySet[Competitor]:
    qs = Competitor.objects.all()
    return qs.filter(active=True) if active_only else qs


def benchmarks() -> QuerySet[WalletBenchmark]:
    return WalletBenchmark.objects.select_related("industry").order_by(
        "industry__position", "industry__code", "size"
    )


def size_of(employees: int | None) -> str | None:
    """The size band of a company with ``employees`` (``None`` when not known)."""
    if employees is None:
        return None
    return next(band for band, floor in SIZE_BANDS if employees >= floor)


def estimate_list_for(user: User) -> QuerySet[WalletEstimate]:
    """Estimates of the accounts ``user`` sees (foreign ones are simply not there)."""
    if not selectors.sees_plans(user):
        return WalletEstimate.objects.none()
    qs = WalletEstimate.objects.all()
    if not access.sees_all_accounts(user):
        qs = qs.filter(account_scope_q(user))
    return qs


def _latest(field_name: str) -> Subquery:
    return Subquery(
        WalletEstimate.objects.filter(account=OuterRef("pk"))
        .order_by("-as_of", "-id").values(field_name)[:1]
    )  # fmt: skip


def with_wallet(accounts: QuerySet[Account]) -> QuerySet[Account]:
    """``wallet`` (the latest estimate's total, else the archive's estimate; null when
    none), ``revenue_12m`` (ours, the ledger's trailing 12 months) on each account: SQL
    expressions, so that lists and sums cost one query."""
    return ledger.with_revenue_12m(accounts).annotate(
        wallet=Coalesce(_latest("total_spend"), F("logistics_spend_estimate"), output_field=_MONEY)
    )


def share_percent(revenue: Decimal | None, wallet: Decimal | None) -> float | None:
    if revenue is None or not wallet:
        return None
    return round(float(HUNDRED * Decimal(revenue) / Decimal(wallet)), 1)


def account_share(account: Account, revenue: Decimal | None) -> float | None:
    """Our share of ``account``'s wallet given our revenue (what the plan's situation shows):
    from the latest estimate, else the archive's figure."""
    latest = account.wallet_estimates.order_by("-as_of", "-id").values_list(
        "total_spend", flat=True
    ).first()  # fmt: skip
    return share_percent(
        revenue, latest if latest is not None else account.logistics_spend_estimate
    )


def revenue_12m(account_ids: list[int]) -> dict[int, Decimal]:
    """Our trailing-12-month revenue per account, in one query."""
    rows = ledger.with_revenue_12m(Account.objects.filter(pk__in=account_ids)).values_list(
        "pk", "revenue_12m"
    )
    # Summed in SQL: SQLite may hand back more than the cents (a float's tail).
    return {pk: Decimal(revenue or 0).quantize(CENT) for pk, revenue in rows}


@dataclass
class EstimateView:
    estimate: WalletEstimate
    shares: list[CompetitorShare]
    our_share: float | None  # our revenue when it was entered over its total

    @property
    def competitor_total(self) -> Decimal:
        return sum((s.share for s in self.shares), Decimal(0))


@dataclass
class AccountWallet:
    """What the account's share-of-wallet page and panel show."""

    account: Account
    wallet: Decimal | None
    source: str  # "estimate", "archive" or ""
    revenue: Decimal
    our_share: float | None
    headroom: Decimal | None
    latest: EstimateView | None
    history: list[EstimateView] = field(default_factory=list)

    @property
    def other_share(self) -> float | None:
        """What no one named carries: 100 % less ours, the competitors' and in-house."""
        if self.latest is None or self.our_share is None:
            return None
        rest = 100 - self.our_share - float(self.latest.competitor_total)
        rest -= float(self.latest.estimate.inhouse_share)
        return round(max(rest, 0.0), 1)


def account_wallet(account: Account, *, history: int = 24) -> AccountWallet:
    """``account``'s wallet now and its estimates, newest first (three queries). The caller
    has fetched ``account`` through the user's access rules."""
    revenue = revenue_12m([account.pk]).get(account.pk, Decimal(0))
    estimates = list(
        account.wallet_estimates.select_related("created_by").order_by("-as_of", "-id")[:history]
    )
    shares: dict[int, list[CompetitorShare]] = {e.pk: [] for e in estimates}
    for s in CompetitorShare.objects.filter(estimate__in=[e.pk for e in estimates]).select_related(
        "competitor"
    ):
        shares[s.estimate_id].append(s)
    views = [EstimateView(e, shares[e.pk], share_percent(e.our_revenue, e.total_spend))
             for e in estimates]  # fmt: skip
    if estimates:
        wallet: Decimal | None = estimates[0].total_spend
        source = "estimate"
    else:
        wallet = account.logistics_spend_estimate
        source = "archive" if wallet is not None else ""
    return AccountWallet(
        account=account, wallet=wallet, source=source, revenue=revenue,
        our_share=share_percent(revenue, wallet),
        headroom=None if wallet is None else max(wallet - revenue, Decimal(0)),
        latest=views[0] if views else None, history=views,
    )  # fmt: skip


def portfolio(user: User, by: str) -> list[dict[str, Any]]:
    """The wallet, our revenue and the headroom of the accounts ``user`` sees, grouped by
    tier or industry, in one grouped query. Only accounts with a known wallet count
    towards wallet, revenue inside it and headroom; ``accounts`` counts them all."""
    key = {"tier": "tier", "industry": "industry_id"}[by]
    known = Q(wallet__isnull=False)
    rows = (
        with_wallet(account_list_for(user).order_by()).values(key)
        .annotate(accounts=Count("pk"), known=Count("pk", filter=known),
                  wallet_total=Sum("wallet", filter=known),
                  revenue_in=Sum("revenue_12m", filter=known), revenue=Sum("revenue_12m"))
        .order_by(key)
    )  # fmt: skip
    names = {i.pk: str(i) for i in Industry.objects.all()} if by == "industry" else {}
    out = []
    for r in rows:
        wallet = r["wallet_total"] or Decimal(0)
        inside = r["revenue_in"] or Decimal(0)
        label = (names.get(r[key], "") if by == "industry" else
                 (_("Tier %(tier)s") % {"tier": r[key]} if r[key] else ""))  # fmt: skip
        out.append({
            "key": r[key], "label": label or _("Not set"), "accounts": r["accounts"],
            "known": r["known"], "wallet": wallet, "revenue": r["revenue"] or Decimal(0),
            "share": share_percent(inside, wallet), "headroom": max(wallet - inside, Decimal(0)),
        })  # fmt: skip
    out.sort(key=lambda r: (r["key"] is None, -r["headroom"]) if by == "industry" else
             (r["key"] is None, r["key"] or 0))  # fmt: skip
    return out


def top_headroom(user: User, *, limit: int = 20) -> list[Account]:
    """The accounts with the most headroom (wallet less our revenue), largest first."""
    return list(
        with_wallet(account_list_for(user)).filter(wallet__isnull=False)
        .annotate(headroom=F("wallet") - F("revenue_12m")).select_related("industry")
        .order_by("-headroom", "pk")[:limit]
    )  # fmt: skip


# --- writes ------------------------------------------------------------------------------------


@transaction.atomic
def competitor_save(
    *, by: User, competitor: Competitor | None = None, name: str, name_en: str = "",
    active: bool = True, notes: str = "",
) -> Competitor:  # fmt: skip
    _require(may_edit_competitors(by))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Enter the competitor's name.")})
    clash = Competitor.objects.filter(name=name)
    if competitor is not None:
        clash = clash.exclude(pk=competitor.pk)
    if clash.exists():
        raise ValidationError({"name": _("There is already a competitor of this name.")})
    row = competitor or Competitor()
    row.name, row.name_en, row.active = name, (name_en or "").strip(), bool(active)
    row.notes = (notes or "").strip()[:1000]
    row._history_user = by  # type: ignore[attr-defined]
    row.full_clean()
    row.save()
    return row


@transaction.atomic
def benchmark_set(
    *, by: User, industry: Industry | None, size: str, spend_per_employee: Decimal | None
) -> WalletBenchmark | None:
    """Set (or, with no amount, remove) the benchmark of an industry (or any industry) and
    size band."""
    _require(may_edit_benchmarks(by))
    if size not in dict(SIZE_BANDS):
        raise ValidationError({"size": _("Choose a company size.")})
    row = WalletBenchmark.objects.filter(industry=industry, size=size).first()
    if spend_per_employee is None:
        if row is not None:
            row._history_user = by  # type: ignore[attr-defined]
            row.delete()
        return None
    if spend_per_employee < 0:
        raise ValidationError({"spend_per_employee": _("The logistics spend cannot be negative.")})
    row = row or WalletBenchmark(industry=industry, size=size)
    row.spend_per_employee = spend_per_employee
    row._history_user = by  # type: ignore[attr-defined]
    row.full_clean()
    row.save()
    return row


def benchmark_for(account: Account) -> tuple[WalletBenchmark | None, str]:
    """The benchmark that applies to ``account`` (its industry's, else any industry's, for
    its size band), or ``None`` with the reason."""
    band = size_of(account.employees)
    if band is None:
        return None, _("The account's number of employees is not known.")
    row = (
        WalletBenchmark.objects.filter(size=band, industry_id=account.industry_id).first()
        if account.industry_id else None
    ) or WalletBenchmark.objects.filter(size=band, industry__isnull=True).first()  # fmt: skip
    if row is None:
        return None, _("No benchmark is set for this account's industry and company size.")
    return row, ""


def _percent(value: Any, field_name: str, label: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (ArithmeticError, ValueError):
        raise ValidationError({field_name: _("%(what)s: enter a percentage.") % {
            "what": label}}) from None  # fmt: skip
    if not number.is_finite() or number < 0 or number > 100:
        raise ValidationError({field_name: _(
            "%(what)s: a share must be between 0 and 100 %%.") % {"what": label}})  # fmt: skip
    return number.quantize(Decimal("0.01"))


@transaction.atomic
def estimate_add(
    *,
    by: User,
    account: Account,
    total_spend: Decimal,
    source: str,
    confidence: str,
    as_of: datetime.date | None = None,
    source_note: str = "",
    inhouse_share: Decimal | int = 0,
    shares: list[tuple[Any, Any]] = (),  # type: ignore[assignment]
) -> WalletEstimate:
    """A new estimate of ``account``'s wallet. ``shares``: (competitor id, share %). Refused,
    nothing stored, when the spend is negative or nil, a share is outside 0-100 %, a
    competitor is not on the department's list or named twice, our own trailing revenue
    would be above 100 % of it, or the shares add up to more than 100 %."""
    _require(may_estimate(by, account.pk))
    today = timezone.localdate()
    as_of = as_of or today
    try:
        total = Decimal(str(total_spend))
    except (ArithmeticError, ValueError):
        raise ValidationError({"total_spend": _("Enter the total logistics spend.")}) from None
    if not total.is_finite():
        raise ValidationError({"total_spend": _("Enter the total logistics spend.")})
    if total < 0:
        raise ValidationError({"total_spend": _("The logistics spend cannot be negative.")})
    if total == 0:
        raise ValidationError({"total_spend": _("The total logistics spend must be above zero.")})
    if as_of > today:
        raise ValidationError({"as_of": _("The estimate's date cannot be in the future.")})
    if source not in WalletEstimate.Source.values:
        raise ValidationError({"source": _("Choose where the estimate comes from.")})
    if confidence not in WalletEstimate.Confidence.values:
        raise ValidationError({"confidence": _("Choose how confident the estimate is.")})
    inhouse = _percent(inhouse_share or 0, "inhouse_share", _("In-house logistics"))
    known = {c.pk: c for c in Competitor.objects.filter(active=True)}
    parsed: list[tuple[Competitor, Decimal]] = []
    for competitor_id, share in shares:
        try:
            competitor = known[int(competitor_id)]
        except (KeyError, TypeError, ValueError):
            raise ValidationError({"shares": _(
                "Unknown competitor: choose one from the department's list.")}) from None  # fmt: skip
        if any(c.pk == competitor.pk for c, _s in parsed):
            raise ValidationError({"shares": _("%(name)s is named twice.") % {"name": competitor}})
        parsed.append((competitor, _percent(share, "shares", str(competitor))))
    revenue = revenue_12m([account.pk]).get(account.pk, Decimal(0))
    ours = HUNDRED * revenue / total
    if ours > HUNDRED:
        raise ValidationError({"total_spend": _(
            "Our own revenue over the last 12 months (¥%(revenue)s) is more than this estimate: "
            "our share of wallet would be %(share)s %%. A share cannot be above 100 %%."
        ) % {"revenue": f"{revenue:,.2f}", "share": f"{ours:.1f}"}})  # fmt: skip
    others = sum((s for _c, s in parsed), Decimal(0))
    if ours + others + inhouse > HUNDRED:
        raise ValidationError({"shares": _(
            "The shares add up to %(sum)s %%: ours %(ours)s %%, competitors %(others)s %%, "
            "in-house %(inhouse)s %%. Together they cannot be above 100 %%."
        ) % {"sum": f"{ours + others + inhouse:.1f}", "ours": f"{ours:.1f}",
             "others": f"{others:.1f}", "inhouse": f"{inhouse:.1f}"}})  # fmt: skip
    estimate = WalletEstimate(
        account=account, as_of=as_of, total_spend=total.quantize(Decimal("0.01")), source=source,
        source_note=(source_note or "").strip()[:500], confidence=confidence,
        inhouse_share=inhouse, our_revenue=revenue, created_by=by,
    )  # fmt: skip
    estimate._history_user = by  # type: ignore[attr-defined]
    estimate.full_clean()
    estimate.save()
    CompetitorShare.objects.bulk_create(
        [CompetitorShare(estimate=estimate, competitor=c, share=s) for c, s in parsed]
    )
    return estimate


@transaction.atomic
def estimate_from_benchmark(
    *, by: User, account: Account, as_of: datetime.date | None = None
) -> WalletEstimate:
    """An estimate derived from the benchmark of the account's industry and size: its
    employees times the spend per employee (low confidence)."""
    _require(may_estimate(by, account.pk))
    row, why = benchmark_for(account)
    if row is None:
        raise ValidationError({"total_spend": why})
    total = row.spend_per_employee * (account.employees or 0)
    note = _("%(employees)s employees × ¥%(rate)s (benchmark)") % {
        "employees": account.employees, "rate": f"{row.spend_per_employee:,.2f}"}  # fmt: skip
    return estimate_add(by=by, account=account, total_spend=total, source="benchmark",
                        confidence="low", as_of=as_of, source_note=note)  # fmt: skip
