"""One level of a segmentation run (billing codes, accounts or groups), end to end, without
Django: figures -> Pareto / ABC -> value score -> categories -> proposed tiers.

The Django side (:mod:`kam.segmentation.services`) builds a :class:`LevelInput` per level
from the ledger's facts and the archive, and stores the :class:`LevelResult`;
``bench/segmentation`` times the same function on a million synthetic codes.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .figures import (
    BoolArray,
    Figures,
    FloatArray,
    MonthMatrix,
    Pareto,
    Score,
    compute_figures,
    pareto,
    value_score,
)
from .rules import Categories, Rules, Tiers, categorize, propose_tiers


@dataclass(frozen=True)
class LevelInput:
    matrix: MonthMatrix
    credit: FloatArray  # credit standing 0..1, nan when unknown
    strategic: FloatArray  # strategic importance 0..1, nan when unknown
    spend_estimate: FloatArray  # estimated total logistics spend a year, nan when unknown
    important: BoolArray
    group_revenue: FloatArray  # consolidated T12M revenue of the entity's group, nan if none
    forecast_revenue: FloatArray  # the next 12 months' forecast, nan when none

    @classmethod
    def bare(cls, matrix: MonthMatrix) -> "LevelInput":
        """Facts only (billing codes outside the archive have nothing else)."""
        n = matrix.shape[0]
        nan = np.full(n, np.nan)
        return cls(matrix, nan, nan, nan, np.zeros(n, dtype=bool), nan, nan)


@dataclass(frozen=True)
class LevelResult:
    figures: Figures
    pareto: Pareto
    score: Score
    headroom: FloatArray
    categories: Categories
    tiers: Tiers


Timer = Callable[[str, float], None]


def evaluate(inp: LevelInput, rules: Rules, *, timer: Timer | None = None) -> LevelResult:
    """Run the pipeline; ``timer(step, seconds)`` is told how long each step took."""
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        if timer is not None:
            timer(step, now - clock)
        clock = now

    fig = compute_figures(inp.matrix)
    lap("figures")
    par = pareto(fig.revenue, a_cut=rules.abc_a, b_cut=rules.abc_b)
    lap("pareto")
    with np.errstate(invalid="ignore"):
        headroom = np.where(
            np.isnan(inp.spend_estimate), np.nan, np.clip(inp.spend_estimate - fig.revenue, 0, None)
        )
    criteria = {
        "revenue": fig.revenue,
        "margin": fig.margin,
        "growth": fig.growth,
        "frequency": fig.waybills.astype(np.float64),
        "credit": inp.credit,
        "strategic": inp.strategic,
        "headroom": headroom,
    }
    score = value_score(criteria, rules.weights)
    lap("scores")
    with np.errstate(invalid="ignore", divide="ignore"):
        headroom_share = np.where(inp.spend_estimate > 0, headroom / inp.spend_estimate, np.nan)
    cats = categorize(
        rules,
        revenue=fig.revenue,
        growth=fig.growth,
        months_with_facts=fig.months_with_facts,
        score=score.score,
        revenue_percentile=score.parts["revenue"],  # the score's rank, not computed twice
        group_revenue=inp.group_revenue,
        important=inp.important,
        headroom_share=headroom_share,
        forecast_revenue=inp.forecast_revenue,
        established=par.abc == "A",
    )
    lap("categories")
    tiers = propose_tiers(rules, score=score.score, revenue=fig.revenue, economic=cats.economic)
    lap("tiers")
    return LevelResult(fig, par, score, headroom, cats, tiers)
