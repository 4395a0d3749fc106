"""Value figures, Pareto / ABC and the value score, over a month matrix (no Django).

Input is one row per entity (a billing code, an account, a group) and one column per month,
oldest first, ending with the run's last month (``as_of``). Every function takes arrays and
returns arrays or frozen dataclasses; missing figures are ``nan`` (never a crash, and the
Django side turns them into "—" on a page).

Definitions (docs/segmentation.md repeats them for users):

* trailing-12-month (T12M) revenue, margin and waybills: sums over the last 12 columns;
  margin only over months whose cost is known (``costed > 0``), ``nan`` when none is;
* active months: months of the last 12 with at least one waybill;
* growth: T12M revenue against the 12 months before, ``(now - before) / before``; ``nan``
  when the year before had no positive revenue (one can not grow from nothing);
* volatility: the coefficient of variation (standard deviation / mean) of the last 12
  months' revenue; ``nan`` when the mean is not positive;
* Pareto: entities ordered by T12M revenue (refunds beyond revenue count as zero), the
  cumulative share up to and including each one; class A while the share *before* an entity
  is below the A cut-off, B below the B cut-off, C after; the share of revenue held by the
  top 20 % of entities, and the Gini coefficient of the revenue distribution;
* value score: each criterion is turned into its percentile rank (average ranks for ties,
  0 for the lowest, 1 for the highest), so one outlier moves nobody else's score; the score
  is the weighted mean of the ranks, times 100, over the criteria the entity has (a missing
  criterion, e.g. margin without cost data, leaves the weights of the others).
"""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

YEAR = 12
#: The value criteria, in display order.
CRITERIA = ("revenue", "margin", "growth", "frequency", "credit", "strategic", "headroom")
ABC = np.array(["A", "B", "C"])


@dataclass(frozen=True)
class MonthMatrix:
    """Monthly facts of ``n`` entities over ``m`` months (oldest first)."""

    revenue: FloatArray
    margin: FloatArray
    costed: IntArray
    waybills: IntArray
    active_days: IntArray

    @property
    def shape(self) -> tuple[int, int]:
        n, m = self.revenue.shape
        return int(n), int(m)

    def consolidate(self, members: IntArray, parents: IntArray, n_parents: int) -> "MonthMatrix":
        """Sum rows into parents: row ``members[k]`` is added to parent ``parents[k]``
        (an entity may count in several parents, e.g. a group and its parent group)."""
        m = self.shape[1]

        def add(values: npt.NDArray[np.generic], dtype: type) -> npt.NDArray[np.generic]:
            out: npt.NDArray[np.generic] = np.zeros((n_parents, m), dtype=dtype)
            if len(members):
                np.add.at(out, parents, values[members])
            return out

        return MonthMatrix(
            revenue=add(self.revenue, np.float64),  # type: ignore[arg-type]
            margin=add(self.margin, np.float64),  # type: ignore[arg-type]
            costed=add(self.costed, np.int64),  # type: ignore[arg-type]
            waybills=add(self.waybills, np.int64),  # type: ignore[arg-type]
            # Active days of several codes: the busiest code's (days are not additive).
            active_days=_max_at(self.active_days, members, parents, n_parents),
        )


def _max_at(values: IntArray, members: IntArray, parents: IntArray, n: int) -> IntArray:
    out = np.zeros((n, values.shape[1]), dtype=np.int64)
    if len(members):
        np.maximum.at(out, parents, values[members])
    return out


def matrix_from_long(
    entity: IntArray,
    month: IntArray,
    n: int,
    m: int,
    *,
    revenue: FloatArray,
    margin: FloatArray,
    costed: IntArray,
    waybills: IntArray,
    active_days: IntArray,
) -> MonthMatrix:
    """Scatter long-format facts (entity index, month index 0..m-1) into a matrix; months
    without a row stay zero (a gap in the months is a month without waybills). Each
    (entity, month) appears at most once, as in the ledger's facts (a unique constraint)."""
    flat = entity.astype(np.int64) * m + month.astype(np.int64)

    def spread(values: npt.NDArray[np.generic], dtype: type) -> npt.NDArray[np.generic]:
        out: npt.NDArray[np.generic] = np.zeros(n * m, dtype=dtype)
        out[flat] = values
        return out.reshape(n, m)

    return MonthMatrix(
        revenue=spread(revenue, np.float64),  # type: ignore[arg-type]
        margin=spread(margin, np.float64),  # type: ignore[arg-type]
        costed=spread(costed, np.int64),  # type: ignore[arg-type]
        waybills=spread(waybills, np.int64),  # type: ignore[arg-type]
        active_days=spread(active_days, np.int64),  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class Figures:
    revenue: FloatArray  # T12M
    revenue_prev: FloatArray  # the 12 months before
    margin: FloatArray  # T12M over costed months; nan when no cost is known
    waybills: IntArray
    active_months: IntArray
    months_with_facts: IntArray  # months (of all columns) with any waybill
    growth: FloatArray
    volatility: FloatArray
    margin_rate: FloatArray  # margin / revenue of the costed months; nan when unknown


def compute_figures(x: MonthMatrix) -> Figures:
    n, m = x.shape
    last = slice(max(0, m - YEAR), m)
    prev = slice(max(0, m - 2 * YEAR), max(0, m - YEAR))
    revenue = x.revenue[:, last].sum(axis=1)
    revenue_prev = x.revenue[:, prev].sum(axis=1) if m > YEAR else np.zeros(n)
    costed_months = x.costed[:, last] > 0
    margin = np.where(costed_months, x.margin[:, last], 0.0).sum(axis=1)
    costed_revenue = np.where(costed_months, x.revenue[:, last], 0.0).sum(axis=1)
    known = costed_months.any(axis=1)
    margin = np.where(known, margin, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        margin_rate = np.where(known & (costed_revenue > 0), margin / costed_revenue, np.nan)
        growth = np.where(revenue_prev > 0, (revenue - revenue_prev) / revenue_prev, np.nan)
        recent = x.revenue[:, last]
        mean = recent.mean(axis=1) if recent.shape[1] else np.zeros(n)
        std = recent.std(axis=1) if recent.shape[1] else np.zeros(n)
        volatility = np.where(mean > 0, std / mean, np.nan)
    waybills = x.waybills[:, last].sum(axis=1).astype(np.int64)
    active = (x.waybills[:, last] > 0).sum(axis=1).astype(np.int64)
    with_facts = (x.waybills > 0).sum(axis=1).astype(np.int64)
    return Figures(
        revenue=revenue,
        revenue_prev=revenue_prev,
        margin=margin,
        waybills=waybills,
        active_months=active,
        months_with_facts=with_facts,
        growth=growth,
        volatility=volatility,
        margin_rate=margin_rate,
    )


@dataclass(frozen=True)
class Pareto:
    rank: IntArray  # 1 = the largest revenue
    cum_share: FloatArray  # cumulative share up to and including the entity, 0..1
    abc: npt.NDArray[np.str_]  # "A" / "B" / "C"
    top20_share: float  # share of revenue held by the top 20 % of entities
    gini: float
    total: float  # revenue counted (negatives as zero)


def pareto(revenue: FloatArray, *, a_cut: float, b_cut: float) -> Pareto:
    n = len(revenue)
    x = np.clip(np.nan_to_num(revenue, nan=0.0), 0.0, None)
    order = np.argsort(-x, kind="stable")  # by revenue descending, ties in input order
    total = float(x.sum())
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(1, n + 1)
    cum_share = np.zeros(n)
    abc_index = np.full(n, 2, dtype=np.int64)
    if total > 0:
        cumulative = np.cumsum(x[order]) / total
        before = cumulative - x[order] / total
        cum_share[order] = cumulative
        cls = np.where(before < a_cut, 0, np.where(before < b_cut, 1, 2))
        # Entities without revenue hold no share: they are C whatever the cut-offs.
        cls = np.where(x[order] > 0, cls, 2)
        abc_index[order] = cls
    top = max(1, int(np.ceil(0.2 * n))) if n else 0
    top20 = float(x[order][:top].sum() / total) if total > 0 else 0.0
    return Pareto(
        rank=rank,
        cum_share=cum_share,
        abc=ABC[abc_index],
        top20_share=top20,
        gini=gini(x),
        total=total,
    )


def gini(values: FloatArray) -> float:
    """Gini coefficient of non-negative values (0: all equal, near 1: one holds all)."""
    x = np.sort(np.clip(np.nan_to_num(values, nan=0.0), 0.0, None))
    n = len(x)
    total = x.sum()
    if n == 0 or total <= 0:
        return 0.0
    index = np.arange(1, n + 1)
    return float((2.0 * (index * x).sum()) / (n * total) - (n + 1.0) / n)


def percentile_rank(values: FloatArray) -> FloatArray:
    """Each value's percentile rank among the non-missing ones (0 lowest, 1 highest;
    ties share their average rank); ``nan`` stays ``nan``. One huge value is just "the
    highest": it does not squeeze the others towards zero as a min-max scale would."""
    out = np.full(len(values), np.nan)
    ok = ~np.isnan(values)
    k = int(ok.sum())
    if k == 1:
        out[ok] = 1.0
    elif k > 1:
        out[ok] = average_rank(values[ok]) / (k - 1.0)
    return out


def average_rank(values: FloatArray) -> FloatArray:
    """0-based ranks, ties sharing their average (``scipy.stats.rankdata(method="average")``
    minus one), with one sort and no Python loop."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new = np.empty(len(ordered), dtype=bool)
    new[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(ordered))
    group = np.cumsum(new) - 1
    ranks = np.empty(len(values))
    ranks[order] = ((starts + ends - 1) / 2.0)[group]
    return ranks


@dataclass(frozen=True)
class Score:
    score: FloatArray  # 0..100
    parts: dict[str, FloatArray]  # criterion -> percentile rank (nan: not available)


def value_score(criteria: Mapping[str, FloatArray], weights: Mapping[str, float]) -> Score:
    """The weighted mean of the criteria's percentile ranks, 0..100. ``criteria`` maps a
    name of :data:`CRITERIA` to raw values (``nan`` where the entity lacks it)."""
    n = len(next(iter(criteria.values()))) if criteria else 0
    num = np.zeros(n)
    den = np.zeros(n)
    parts: dict[str, FloatArray] = {}
    for name, raw in criteria.items():
        w = float(weights.get(name, 0.0))
        ranks = percentile_rank(np.asarray(raw, dtype=np.float64))
        parts[name] = ranks
        if w <= 0:
            continue
        ok = ~np.isnan(ranks)
        num += np.where(ok, ranks * w, 0.0)
        den += np.where(ok, w, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(den > 0, 100.0 * num / den, 0.0)
    return Score(score=np.clip(score, 0.0, 100.0), parts=parts)
