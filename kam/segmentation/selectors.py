"""Reads of the segmentation app, each filtered by who is asking.

Account-level results follow :func:`kam.accounts.selectors.account_list_for` (the one gate);
billing codes outside the archive, groups, the portfolio, runs and rules are for the roles
that see every account (directors, the department, analysts).
"""

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from kam.accounts.models import Account, Industry
from kam.accounts.selectors import account_scope_q, account_visible, in_account_scope
from kam.core import access
from kam.core.models import User

from .models import Alert, Level, Run, TierChange, TierProposal, Valuation


def accounts_with_open_alerts() -> set[int]:
    """Ids of accounts with an alert not yet resolved (open or acknowledged); the coverage
    app uses it to put them first."""
    return set(
        Alert.objects.exclude(status=Alert.Status.RESOLVED)
        .filter(account__isnull=False)
        .values_list("account_id", flat=True)
        .distinct()
    )


def sees_portfolio(user: User) -> bool:
    return access.is_active_user(user) and access.sees_ledger(user)


def latest_run() -> Run | None:
    return Run.objects.filter(status=Run.Status.DONE).select_related("rule_set").first()


def run_list_for(user: User) -> QuerySet[Run]:
    if not sees_portfolio(user):
        return Run.objects.none()
    return Run.objects.select_related("rule_set", "created_by")


def valuations_for(user: User, run: Run, level: str = Level.ACCOUNT) -> QuerySet[Valuation]:
    rows = Valuation.objects.filter(run=run, level=level)
    if level == Level.ACCOUNT:
        if not sees_portfolio(user):
            rows = in_account_scope(rows, user)
        return rows.select_related("account")
    if not sees_portfolio(user):
        return Valuation.objects.none()
    return rows.select_related("group")


def account_valuation(user: User, account: Account, run: Run | None = None) -> Valuation | None:
    run = run or latest_run()
    if run is None or not account_visible(user, account):
        return None
    return (
        Valuation.objects.filter(run=run, level=Level.ACCOUNT, account=account)
        .select_related("run")
        .first()
    )


def tier_history(user: User, account: Account) -> QuerySet[TierChange]:
    if not account_visible(user, account):
        return TierChange.objects.none()
    return TierChange.objects.filter(account=account).select_related("by")


def proposals_for(user: User) -> QuerySet[TierProposal]:
    if not sees_portfolio(user):
        return TierProposal.objects.none()
    return (
        TierProposal.objects.filter(status=TierProposal.Status.OPEN)
        .select_related("account", "valuation", "run")
        .order_by("proposed_tier", "valuation__rank")
    )


def candidates_for(user: User, run: Run) -> QuerySet[Valuation]:
    """Billing codes outside the archive that qualify, still unlinked now."""
    from kam.accounts.models import BillingCode

    if not sees_portfolio(user):
        return Valuation.objects.none()
    return Valuation.objects.filter(run=run, level=Level.CODE, is_candidate=True).exclude(
        code__in=BillingCode.objects.values("code")
    )


def alerts_for(user: User) -> QuerySet[Alert]:
    """Alerts of the accounts the user sees; code alerts (no account) for the portfolio roles."""
    if not access.is_active_user(user) or not access.sees_customer_data(user):
        return Alert.objects.none()
    visible = account_scope_q(user)
    if sees_portfolio(user):
        visible |= Q(account__isnull=True)
    return Alert.objects.filter(visible).select_related("account", "acknowledged_by", "resolved_by")


def equity(run: Run, by: str) -> list[dict[str, Any]]:
    """Customer equity (sum of lifetime values) of the run's accounts by tier, industry or owner."""
    totals: dict[str, dict[str, Any]] = defaultdict(lambda: {"clv": Decimal(0), "accounts": 0,
                                                             "revenue": Decimal(0)})  # fmt: skip
    rows = Valuation.objects.filter(run=run, level=Level.ACCOUNT).values_list(
        "current_tier", "industry_name", "owner_name", "clv", "revenue"
    )
    for tier, industry, owner, clv, revenue in rows:
        key = {"tier": str(tier or "—"), "industry": industry or "—", "owner": owner or "—"}[by]
        totals[key]["clv"] += clv or Decimal(0)
        totals[key]["revenue"] += revenue
        totals[key]["accounts"] += 1
    labels: dict[str, str] = {}
    if by == "industry":
        labels = {i.code: str(i) for i in Industry.objects.all()}
    elif by == "owner":
        labels = {u.username: str(u) for u in User.objects.filter(username__in=list(totals))}
    out = [{"key": labels.get(k, k), **v} for k, v in totals.items()]
    return sorted(out, key=lambda r: (r["key"] if by == "tier" else "", -r["clv"]))


def migration_matrix(a: Run, b: Run) -> dict[str, Any]:
    """Tier-migration matrix of the accounts in both runs (proposed tiers), and the movers."""
    before = dict(
        Valuation.objects.filter(run=a, level=Level.ACCOUNT).values_list(
            "account_id", "proposed_tier"
        )
    )
    after = Valuation.objects.filter(run=b, level=Level.ACCOUNT).select_related("account")
    matrix = [[0] * 5 for _ in range(5)]
    movers = []
    for v in after:
        old = before.get(v.account_id)
        if old is None:
            continue
        matrix[old - 1][v.proposed_tier - 1] += 1
        if old != v.proposed_tier:
            movers.append({"account": v.account, "before": old, "after": v.proposed_tier,
                           "score": v.score, "revenue": v.revenue})  # fmt: skip
    movers.sort(key=lambda m: (-abs(m["before"] - m["after"]), m["after"]))
    return {"matrix": matrix, "movers": movers, "moved": len(movers)}


# --- a manager's own portfolio -------------------------------------------------------------------


def may_see_own_portfolio(user: User) -> bool:
    """Account managers see the portfolio page restricted to the accounts they see."""
    from kam.core.models import Role

    return access.is_active_user(user) and user.role == Role.MANAGER


def own_portfolio(user: User, run: Run) -> dict[str, Any]:
    """The run's figures over the accounts ``user`` sees only (their valuations, read
    through the gate): what the portfolio page shows the department over every account.
    A fixed number of queries whatever the number of accounts."""
    import numpy as np

    from . import figures
    from .rules import CATEGORIES, Rules
    from .runner import _curve

    rows = list(
        valuations_for(user, run).values_list(
            "revenue", "proposed_tier", "current_tier", "categories", "clv", "industry_name",
            "owner_name",
        )
    )  # fmt: skip
    revenue = np.array([float(r[0]) for r in rows], dtype=float)
    rules = Rules.from_dict(run.rule_set.rules) if run.rule_set_id else Rules()
    p = figures.pareto(revenue, a_cut=rules.abc_a, b_cut=rules.abc_b)
    tiers = {str(t): sum(1 for r in rows if r[1] == t) for t in range(1, 6)}
    cats = {c: sum(1 for r in rows if c in (r[3] or [])) for c in CATEGORIES}
    equity: dict[str, dict[str, dict[str, Any]]] = {"tier": {}, "industry": {}, "owner": {}}
    for rev, _proposed, current, _cats, clv, industry, owner in rows:
        for by, key in (("tier", str(current or "—")), ("industry", industry or "—"),
                        ("owner", owner or "—")):  # fmt: skip
            slot = equity[by].setdefault(key, {"clv": Decimal(0), "accounts": 0,
                                               "revenue": Decimal(0)})  # fmt: skip
            slot["clv"] += clv or Decimal(0)
            slot["revenue"] += rev
            slot["accounts"] += 1
    labels = {i.code: str(i) for i in Industry.objects.filter(code__in=list(equity["industry"]))}
    owners = {u.username: str(u) for u in User.objects.filter(username__in=list(equity["owner"]))}

    def table(by: str, names: dict[str, str]) -> list[dict[str, Any]]:
        out = [{"key": names.get(k, k), **v} for k, v in equity[by].items()]
        return sorted(out, key=lambda r: (r["key"] if by == "tier" else "", -r["clv"]))

    return {
        "stats": {
            "count": len(rows),
            "revenue": round(p.total, 2),
            "top20_share": round(p.top20_share * 100, 1),
            "gini": round(p.gini, 3),
            "tiers": tiers,
            "categories": cats,
            "pareto": _curve(revenue),
        },
        "equity_tier": table("tier", {}),
        "equity_industry": table("industry", labels)[:12],
        "equity_owner": table("owner", owners)[:12],
    }
