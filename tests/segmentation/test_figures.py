"""The plain figures module: figures, Pareto / ABC, Gini, robust scores; awkward histories."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from kam.segmentation.figures import (
    MonthMatrix,
    compute_figures,
    gini,
    matrix_from_long,
    pareto,
    percentile_rank,
    value_score,
)


def matrix(revenue: list[list[float]], waybills: list[list[int]] | None = None) -> MonthMatrix:
    r = np.array(revenue, dtype=float)
    w = (
        np.array(waybills, dtype=np.int64)
        if waybills is not None
        else (r != 0).astype(np.int64) * 10
    )
    return MonthMatrix(revenue=r, margin=r * 0.25, costed=w, waybills=w, active_days=w.clip(0, 20))


def test_trailing_twelve_months_growth_and_volatility() -> None:
    year_before = [100.0] * 12
    last_year = [150.0] * 6 + [50.0] * 6
    fig = compute_figures(matrix([year_before + last_year]))
    assert fig.revenue[0] == 1200.0
    assert fig.revenue_prev[0] == 1200.0
    assert fig.growth[0] == 0.0
    assert fig.active_months[0] == 12
    assert_allclose(fig.volatility[0], 0.5)  # std 50 over mean 100
    assert_allclose(fig.margin[0], 300.0)
    assert_allclose(fig.margin_rate[0], 0.25)


def test_awkward_histories_get_figures_without_nan_surprises() -> None:
    months = 24
    one_month = [0.0] * (months - 1) + [500.0]
    nothing = [0.0] * months
    refunds = [0.0] * 12 + [100.0, -300.0] + [0.0] * 10  # refunds larger than revenue
    gaps = [50.0, 0.0] * 12
    x = matrix([one_month, nothing, refunds, gaps])
    fig = compute_figures(x)
    assert fig.revenue.tolist() == [500.0, 0.0, -200.0, 300.0]
    assert np.isnan(fig.growth[:3]).all()  # nothing the year before: no growth figure
    assert fig.growth[3] == 0.0
    assert fig.active_months.tolist() == [1, 0, 2, 6]
    assert np.isnan(fig.volatility[1]) and np.isnan(fig.volatility[2])  # no positive mean
    assert np.isnan(fig.margin[1])  # no cost known
    par = pareto(fig.revenue, a_cut=0.8, b_cut=0.95)
    assert np.isfinite(par.cum_share).all()
    assert par.abc.tolist() == ["A", "C", "C", "A"]  # 62.5 % before the second: still A
    score = value_score({"revenue": fig.revenue, "growth": fig.growth}, {"revenue": 1, "growth": 1})
    assert np.isfinite(score.score).all()
    assert ((score.score >= 0) & (score.score <= 100)).all()


def test_pareto_classes_concentration_and_gini() -> None:
    revenue = np.array([10.0, 60.0, 0.0, 30.0])
    par = pareto(revenue, a_cut=0.6, b_cut=0.95)
    assert par.rank.tolist() == [3, 1, 4, 2]
    assert_allclose(par.cum_share, [1.0, 0.6, 1.0, 0.9])
    # A while the share before an entity is below 60 %: only the first; then B; no revenue is C.
    assert par.abc.tolist() == ["B", "A", "C", "B"]
    assert par.top20_share == pytest.approx(0.6)  # the top 20 % of 4 is one entity
    assert gini(np.ones(10)) == pytest.approx(0.0)
    assert gini(np.array([0.0] * 9 + [1.0])) == pytest.approx(0.9)
    empty = pareto(np.zeros(3), a_cut=0.8, b_cut=0.95)
    assert empty.abc.tolist() == ["C", "C", "C"] and empty.gini == 0.0


def test_one_outlier_does_not_flatten_the_others() -> None:
    revenue = np.array([1.0, 2.0, 3.0, 4.0, 1e12])
    ranks = percentile_rank(revenue)
    assert_allclose(ranks, [0.0, 0.25, 0.5, 0.75, 1.0])  # a min-max scale would give ~0 to all four
    assert np.isnan(percentile_rank(np.array([1.0, np.nan]))[1])


def test_missing_criterion_leaves_the_weight_of_the_others() -> None:
    criteria = {"revenue": np.array([1.0, 2.0]), "margin": np.array([np.nan, 5.0])}
    score = value_score(criteria, {"revenue": 1.0, "margin": 3.0})
    assert score.score[0] == 0.0  # lowest revenue, margin unknown: revenue alone
    assert score.score[1] == 100.0


def test_matrix_from_long_fills_gaps_with_zero() -> None:
    x = matrix_from_long(
        np.array([0, 0, 1]), np.array([0, 2, 1]), 2, 3,
        revenue=np.array([1.5, 2.5, 4.0]), margin=np.zeros(3), costed=np.zeros(3, dtype=np.int64),
        waybills=np.array([1, 2, 3]), active_days=np.array([1, 1, 1]),
    )  # fmt: skip
    assert x.revenue.tolist() == [[1.5, 0.0, 2.5], [0.0, 4.0, 0.0]]
    assert x.waybills.tolist() == [[1, 0, 2], [0, 3, 0]]
    parents = x.consolidate(np.array([0, 1]), np.array([0, 0]), 1)
    assert parents.revenue.tolist() == [[1.5, 4.0, 2.5]]


def test_average_rank_matches_scipy_with_ties() -> None:
    from scipy.stats import rankdata

    from kam.segmentation.figures import average_rank

    values = np.random.default_rng(7).integers(0, 30, 5000).astype(float)
    assert_allclose(average_rank(values), rankdata(values, method="average") - 1)
