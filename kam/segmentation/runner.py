"""Executing a segmentation run: facts in, valuations, tier proposals and alerts out.

The mathematics is in the plain modules (:mod:`.engine`, :mod:`.value`, :mod:`.forecast`);
this module reads the ledger and the archive, hands them arrays, and stores what comes
back. Called by :func:`kam.segmentation.services.run_execute` (the task, the CLI, the demo).
"""

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from kam.accounts.models import Account, AccountStatus, BillingCode, CorporateGroup, TeamRole
from kam.ledger import facts
from kam.ledger.models import AccountMonth, LakeFile
from kam.ledger.selectors import month_list, month_range

from . import alerts as alert_rules
from .engine import LevelInput, LevelResult, evaluate
from .figures import MonthMatrix, matrix_from_long
from .forecasts import forecast_accounts
from .models import Level, Run, TierProposal, Valuation
from .rules import CATEGORIES, Rules
from .value import lifetime_values

log = logging.getLogger(__name__)

MONTHS = 24
CENT = Decimal("0.01")
CREDIT = {"profit": 1.0, "breakeven": 0.5, "loss": 0.0}
Progress = Callable[[str, int, int], None]


def _money(value: float) -> Decimal:
    return (
        Decimal(repr(round(float(value), 2))).quantize(CENT) if np.isfinite(value) else Decimal(0)
    )


#: A figure at or above this (CNY) is a model's blow-up, not a value: the lifetime value's
#: Gamma-Gamma spend ``p v / (q - 1)`` explodes when a small portfolio's fit lands ``q``
#: just above 1 (a 30-account demo gave 3.7e30). Stored as "not estimated".
IMPLAUSIBLE = 1e15


def _opt_money(value: float) -> Decimal | None:
    return _money(value) if np.isfinite(value) and abs(value) < IMPLAUSIBLE else None


def _opt(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


@dataclass
class Data:
    months: list[datetime.date]
    codes: list[str]
    code_matrix: MonthMatrix
    accounts: list[Account]
    account_matrix: MonthMatrix
    account_codes: dict[int, list[str]]
    groups: list[CorporateGroup]
    group_matrix: MonthMatrix
    root_of_group: dict[int, int]


def load(as_of: datetime.date) -> Data:
    start, end = month_range(as_of, MONTHS)
    months = month_list(start, end)
    index = {m: i for i, m in enumerate(months)}
    rows = list(
        AccountMonth.objects.filter(month__gte=start, month__lte=end)
        .order_by()
        .values_list("billing_code", "month", "revenue", "margin", "costed_waybills",
                     "waybills", "active_days")
    )  # fmt: skip
    codes = sorted({r[0] for r in rows})
    code_index = {c: i for i, c in enumerate(codes)}
    cols = list(zip(*rows, strict=True)) if rows else [()] * 7
    code_matrix = matrix_from_long(
        np.array([code_index[c] for c in cols[0]], dtype=np.int64),
        np.array([index[m] for m in cols[1]], dtype=np.int64),
        len(codes),
        len(months),
        revenue=np.array(cols[2], dtype=np.float64),
        margin=np.array(cols[3], dtype=np.float64),
        costed=np.array(cols[4], dtype=np.int64),
        waybills=np.array(cols[5], dtype=np.int64),
        active_days=np.array(cols[6], dtype=np.int64),
    )
    accounts = list(Account.objects.select_related("industry").order_by("pk"))
    account_index = {a.pk: i for i, a in enumerate(accounts)}
    account_codes: dict[int, list[str]] = {}
    members, parents = [], []
    for code, account_id in BillingCode.objects.values_list("code", "account_id"):
        account_codes.setdefault(account_id, []).append(code)
        if code in code_index:
            members.append(code_index[code])
            parents.append(account_index[account_id])
    account_matrix = code_matrix.consolidate(
        np.array(members, dtype=np.int64), np.array(parents, dtype=np.int64), len(accounts)
    )
    groups = list(CorporateGroup.objects.order_by("pk"))
    group_index = {g.pk: i for i, g in enumerate(groups)}
    parent_of = {g.pk: g.parent_id for g in groups}

    def ancestors(pk: int) -> list[int]:
        chain, seen = [], set()
        node: int | None = pk
        while node is not None and node not in seen:
            seen.add(node)
            chain.append(node)
            node = parent_of.get(node)
        return chain

    g_members, g_parents = [], []
    for a in accounts:
        if a.group_id is not None:
            for g in ancestors(a.group_id):
                g_members.append(account_index[a.pk])
                g_parents.append(group_index[g])
    group_matrix = account_matrix.consolidate(
        np.array(g_members, dtype=np.int64), np.array(g_parents, dtype=np.int64), len(groups)
    )
    root_of_group = {g.pk: ancestors(g.pk)[-1] for g in groups}
    return Data(months, codes, code_matrix, accounts, account_matrix, account_codes, groups,
                group_matrix, root_of_group)  # fmt: skip


def _account_input(data: Data, groups: LevelResult, forecast_revenue: np.ndarray) -> LevelInput:
    group_index = {g.pk: i for i, g in enumerate(data.groups)}
    n = len(data.accounts)
    credit = np.full(n, np.nan)
    strategic = np.zeros(n)
    spend = np.full(n, np.nan)
    important = np.zeros(n, dtype=bool)
    group_revenue = np.full(n, np.nan)
    for i, a in enumerate(data.accounts):
        credit[i] = CREDIT.get(a.profit_status, np.nan)
        strategic[i] = 1.0 if (a.is_strategic or a.is_important) else 0.0
        if a.logistics_spend_estimate is not None:
            spend[i] = float(a.logistics_spend_estimate)
        important[i] = a.is_important
        if a.group_id is not None:
            root = data.root_of_group[a.group_id]
            group_revenue[i] = groups.figures.revenue[group_index[root]]
    return LevelInput(data.account_matrix, credit, strategic, spend, important, group_revenue,
                      forecast_revenue)  # fmt: skip


def _reasons(rules: Rules, res: LevelResult, i: int, group_name: str = "") -> list[dict[str, Any]]:
    fig, cats, tiers = res.figures, res.categories, res.tiers
    out: list[dict[str, Any]] = []
    tier = int(tiers.tier[i])
    cut = list(rules.tier_cutoffs)
    if tiers.no_revenue[i]:
        out.append({"code": "tier_no_revenue", "params": {"tier": 5}})
    elif tiers.raised[i]:
        out.append({"code": "tier_economic", "params": {
            "tier": tier, "by_score": int(tiers.by_score[i]), "revenue": float(fig.revenue[i]),
            "threshold": rules.economic_threshold}})  # fmt: skip
    else:
        low = cut[tier - 1] if tier <= 4 else None
        high = cut[tier - 2] if tier >= 2 else None
        out.append({"code": "tier_by_score", "params": {
            "tier": tier, "score": round(float(res.score.score[i]), 1), "low": low,
            "high": high}})  # fmt: skip
    out.append({"code": "abc", "params": {
        "abc": str(res.pareto.abc[i]), "share": round(float(res.pareto.cum_share[i]) * 100, 1),
        "a": rules.abc_a * 100, "b": rules.abc_b * 100, "rank": int(res.pareto.rank[i])}})  # fmt: skip
    if cats.economic[i]:
        out.append({"code": "cat_economic", "params": {
            "revenue": float(fig.revenue[i]), "threshold": rules.economic_threshold}})  # fmt: skip
    if cats.group[i]:
        out.append({"code": "cat_group", "params": {"group": group_name,
                    "threshold": rules.economic_threshold}})  # fmt: skip
    if cats.important[i]:
        out.append({"code": "cat_important", "params": {}})
    if cats.strategic[i]:
        out.append({"code": "cat_strategic", "params": {
            "score": round(float(res.score.score[i]), 1), "min_score": rules.strategic_min_score,
            "growth": _pct(fig.growth[i]), "min_growth": rules.strategic_growth * 100}})  # fmt: skip
    if cats.potential[i]:
        out.append({"code": "cat_potential", "params": {
            "growth": _pct(fig.growth[i]), "min_growth": rules.potential_growth * 100,
            "months": int(fig.months_with_facts[i])}})  # fmt: skip
    return out


def _pct(value: float) -> float | None:
    return round(float(value) * 100, 1) if np.isfinite(value) else None


def _valuations(
    run: Run, rules: Rules, level: str, res: LevelResult, data: Data, matrix: MonthMatrix,
    *, keys: list[Any], extra: dict[str, Any] | None = None,
) -> list[Valuation]:  # fmt: skip
    fig, par, score = res.figures, res.pareto, res.score
    active = matrix.waybills > 0
    any_active = active.any(axis=1)
    first = np.argmax(active, axis=1)
    last = len(data.months) - 1 - np.argmax(active[:, ::-1], axis=1)
    lists = res.categories.as_lists()
    extra = extra or {}
    out = []
    for i, key in enumerate(keys):
        v = Valuation(
            run=run, level=level,
            revenue=_money(fig.revenue[i]), revenue_prev=_money(fig.revenue_prev[i]),
            margin=_opt_money(fig.margin[i]), margin_rate=_opt(fig.margin_rate[i]),
            waybills=int(fig.waybills[i]), active_months=int(fig.active_months[i]),
            months_with_facts=int(fig.months_with_facts[i]),
            first_month=data.months[first[i]] if any_active[i] else None,
            last_month=data.months[last[i]] if any_active[i] else None,
            growth=_opt(fig.growth[i]), volatility=_opt(fig.volatility[i]),
            rank=int(par.rank[i]), cum_share=float(par.cum_share[i]), abc=str(par.abc[i]),
            score=round(float(score.score[i]), 2),
            score_parts={k: _opt(round(float(v[i]), 4)) for k, v in score.parts.items()},
            headroom=_opt_money(res.headroom[i]), categories=lists[i],
            proposed_tier=int(res.tiers.tier[i]), tier_by_score=int(res.tiers.by_score[i]),
        )  # fmt: skip
        if level == Level.CODE:
            v.code = key
        elif level == Level.ACCOUNT:
            v.account = key
            v.current_tier = key.tier
        else:
            v.group = key
        for name, values in extra.items():
            if not name.startswith("_"):
                setattr(v, name, values[i])
        names = extra.get("_group_names")
        v.reasons = _reasons(rules, res, i, names[i] if names else "")
        out.append(v)
    return out


def _curve(revenue: np.ndarray, buckets: int = 50) -> dict[str, list[float]]:
    """The Pareto chart: revenue share of each 2 % of entities (largest first) and the
    cumulative share, in percent."""
    x = np.sort(np.clip(np.nan_to_num(revenue), 0, None))[::-1]
    total = x.sum()
    n = len(x)
    if n == 0 or total <= 0:
        return {"bucket": [], "share": [], "cumulative": []}
    edges = np.linspace(0, n, buckets + 1).round().astype(int)
    shares = [float(x[edges[k] : edges[k + 1]].sum() / total * 100) for k in range(buckets)]
    return {
        "bucket": [round(100 * edges[k + 1] / n, 1) for k in range(buckets)],
        "share": [round(s, 2) for s in shares],
        "cumulative": [round(float(c), 2) for c in np.cumsum(shares)],
    }


def _level_stats(res: LevelResult) -> dict[str, Any]:
    tiers = {str(t): int((res.tiers.tier == t).sum()) for t in range(1, 6)}
    abc = {c: int((res.pareto.abc == c).sum()) for c in "ABC"}
    cats = {c: int(getattr(res.categories, c).sum()) for c in CATEGORIES}
    return {
        "count": len(res.tiers.tier),
        "revenue": round(res.pareto.total, 2),
        "top20_share": round(res.pareto.top20_share * 100, 1),
        "gini": round(res.pareto.gini, 3),
        "tiers": tiers,
        "abc": abc,
        "categories": cats,
        "pareto": _curve(res.figures.revenue),
    }


def execute(run: Run, progress: Progress | None = None) -> Run:
    """Run ``run`` now. Stages update the row (the page polls it) and ``progress``."""
    steps = ["facts", "figures", "forecasts", "value", "saving", "proposals", "alerts"]

    def stage(name: str) -> None:
        done = steps.index(name)
        Run.objects.filter(pk=run.pk).update(stage=name, progress_done=done,
                                             progress_total=len(steps))  # fmt: skip
        if progress is not None:
            progress(name, done, len(steps))

    Run.objects.filter(pk=run.pk).update(status=Run.Status.RUNNING, started_at=timezone.now())
    rules = Rules.from_dict(run.rule_set.rules)
    as_of = run.as_of or AccountMonth.objects.aggregate(m=Max("month"))["m"]
    if as_of is None:
        Run.objects.filter(pk=run.pk).update(
            status=Run.Status.DONE, finished_at=timezone.now(), stage="done",
            stats={"empty": True},
        )  # fmt: skip
        run.refresh_from_db()
        return run
    as_of = as_of.replace(day=1)
    run.as_of = as_of
    Run.objects.filter(pk=run.pk).update(as_of=as_of)

    stage("facts")
    data = load(as_of)
    stage("figures")
    codes_res = evaluate(LevelInput.bare(data.code_matrix), rules)
    groups_res = evaluate(LevelInput.bare(data.group_matrix), rules)
    stage("forecasts")
    eligible = [
        i for i, a in enumerate(data.accounts)
        if a.status != AccountStatus.LOST and data.account_matrix.waybills[i].any()
    ]  # fmt: skip
    fc = forecast_accounts(data.account_matrix, eligible, data.months[-1])
    accounts_res = evaluate(_account_input(data, groups_res, fc.revenue_next12), rules)
    stage("value")
    lv = lifetime_values(data.account_matrix, horizon_months=rules.clv_horizon_months,
                         annual_discount=rules.discount_rate)  # fmt: skip

    stage("saving")
    owners = dict(
        Account.objects.filter(team__role=TeamRole.OWNER).values_list("pk", "team__user__username")
    )
    linked = {c for codes in data.account_codes.values() for c in codes}
    code_candidates = (codes_res.categories.economic | codes_res.categories.potential) & np.array(
        [c not in linked for c in data.codes], dtype=bool
    )
    group_by_pk = {g.pk: g for g in data.groups}
    group_names = [
        str(group_by_pk[data.root_of_group[a.group_id]]) if a.group_id else ""
        for a in data.accounts
    ]
    with transaction.atomic():
        rows = _valuations(run, rules, Level.CODE, codes_res, data, data.code_matrix,
                           keys=data.codes, extra={"is_candidate": list(code_candidates)})  # fmt: skip
        rows += _valuations(
            run, rules, Level.ACCOUNT, accounts_res, data, data.account_matrix,
            keys=data.accounts,
            extra={
                "clv": [_opt_money(v) for v in lv.clv], "clv_model": list(lv.model),
                "p_alive": [_opt(p) for p in lv.p_alive],
                "forecast": [fc.series.get(i) for i in range(len(data.accounts))],
                "owner_name": [owners.get(a.pk, "") for a in data.accounts],
                "industry_name": [a.industry.code if a.industry else "" for a in data.accounts],
                "_group_names": group_names,
            },
        )  # fmt: skip
        rows += _valuations(run, rules, Level.GROUP, groups_res, data, data.group_matrix,
                            keys=data.groups)  # fmt: skip
        Valuation.objects.bulk_create(rows, batch_size=1000)

    stage("proposals")
    account_rows = {v.account_id: v for v in rows if v.level == Level.ACCOUNT}
    with transaction.atomic():
        TierProposal.objects.filter(status=TierProposal.Status.OPEN).update(
            status=TierProposal.Status.SUPERSEDED
        )
        proposals = [
            TierProposal(run=run, account=a, valuation=account_rows[a.pk], current_tier=a.tier,
                         proposed_tier=account_rows[a.pk].proposed_tier)
            for a in data.accounts
            if a.status != AccountStatus.LOST and data.account_codes.get(a.pk)
            and account_rows[a.pk].proposed_tier != a.tier
        ]  # fmt: skip
        TierProposal.objects.bulk_create(proposals, batch_size=1000)

    stage("alerts")
    raised = alert_rules.raise_alerts(run, rules, data, account_rows, codes_res, code_candidates)

    stats = {
        "codes": _level_stats(codes_res),
        "accounts": _level_stats(accounts_res),
        "groups": _level_stats(groups_res),
        "candidates": int(code_candidates.sum()),
        "proposals": len(proposals),
        "alerts": raised,
        "months": [f"{data.months[0]:%Y-%m}", f"{data.months[-1]:%Y-%m}"],
        "backtest": fc.backtest,
        "clv_models": {
            "bgnbd": _params(lv.bgnbd, ("r", "alpha", "a", "b")),
            "gamma_gamma": _params(lv.gamma_gamma, ("p", "q", "v")),
            "sbg": _params(lv.sbg, ("alpha", "beta")),
        },
        "forecasts": len(fc.series),
    }
    Run.objects.filter(pk=run.pk).update(
        status=Run.Status.DONE, finished_at=timezone.now(), stage="done",
        progress_done=len(steps), progress_total=len(steps), stats=stats,
    )  # fmt: skip
    run.refresh_from_db()
    return run


def _params(fitted: Any, names: tuple[str, ...]) -> dict[str, float] | None:
    if fitted is None:
        return None
    return {n: round(float(getattr(fitted, n)), 6) for n in names}


def last_ship_dates(codes: list[str], months: list[datetime.date]) -> dict[str, datetime.date]:
    """The last waybill date of each of ``codes`` in the lake's files of ``months``
    (read-only DuckDB over the lake); empty when the lake has no such files."""
    from kam.ledger import lake

    if not codes:
        return {}
    paths = list(
        LakeFile.objects.filter(month__in=[f"{m:%Y-%m}" for m in months]).values_list(
            "path", flat=True
        )
    )
    if not paths:
        return {}
    con = lake.connect()
    try:
        con.execute("CREATE TEMP TABLE wanted (code VARCHAR)")
        con.executemany("INSERT INTO wanted VALUES (?)", [(c,) for c in codes])
        rows = con.execute(
            f"SELECT billing_code, max(ship_date) FROM read_parquet({lake.sql_file_list(paths)}) "  # noqa: S608 - paths from LakeFile rows
            "WHERE billing_code IN (SELECT code FROM wanted) GROUP BY billing_code"
        ).fetchall()
    finally:
        con.close()
    return {code: day for code, day in rows if day is not None}


def lake_last_day(months: list[datetime.date]) -> datetime.date | None:
    from kam.ledger import lake

    paths = list(
        LakeFile.objects.filter(month__in=[f"{m:%Y-%m}" for m in months]).values_list(
            "path", flat=True
        )
    )
    if not paths:
        return None
    con = lake.connect()
    try:
        row = con.execute(
            f"SELECT max(ship_date) FROM read_parquet({lake.sql_file_list(paths)})"  # noqa: S608
        ).fetchone()
    finally:
        con.close()
    return row[0] if row else None


def lane_revenue(
    codes: list[str], start: datetime.date, end: datetime.date
) -> dict[tuple[str, str, str], float]:
    """Revenue per (code, origin, destination) over [start, end] from the ledger's lanes."""
    with facts.lanes(codes, start, end) as con:
        rows = con.execute(
            """SELECT billing_code, origin, destination, sum(revenue), count(month) FROM lanes
               GROUP BY billing_code, origin, destination"""
        ).fetchall()
    return {(code, o, d): (float(revenue), months) for code, o, d, revenue, months in rows}
