"""Lifetime value per entity from its month matrix, using the models of :mod:`.clv`
(no Django).

A period is a month; a "transaction" is a month with waybills. Accounts that shipped in every
one of the last 12 months (and have at least 12 months of history) are *regular*
(contract-like) shippers: their value is the sBG retention curve, fitted on the cohort of
the first month, times their mean monthly margin of the last 12 months. The others are
*irregular*: BG/NBD for the number of future shipping months, Gamma-Gamma for the margin of
one shipping month. Both are discounted at ``(1 + annual rate) ** (1 / 12) - 1`` a month over
the horizon. Margin without cost data is estimated with the portfolio's margin rate. An
entity whose mean margin is not positive is worth 0 under BG/NBD (the model needs positive
spend), and its (negative) margin forecast under sBG.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from . import clv
from .clv import BGNBDParams, GammaGammaParams, SBGParams
from .figures import FloatArray, MonthMatrix

REGULAR_MONTHS = 12
DEFAULT_MARGIN_RATE = 0.2


@dataclass(frozen=True)
class LifetimeValues:
    clv: FloatArray  # nan where no model applies (no waybills at all)
    model: npt.NDArray[np.str_]  # "sbg" / "bgnbd" / ""
    p_alive: FloatArray
    bgnbd: BGNBDParams | None
    gamma_gamma: GammaGammaParams | None
    sbg: SBGParams | None


def monthly_rate(annual: float) -> float:
    return float((1.0 + annual) ** (1.0 / 12.0) - 1.0)


def lifetime_values(
    x: MonthMatrix, *, horizon_months: int, annual_discount: float
) -> LifetimeValues:
    n, m = x.shape
    active = x.waybills > 0
    any_active = active.any(axis=1)
    idx = np.arange(m)
    first = np.where(any_active, np.argmax(active, axis=1), m - 1)
    last = np.where(any_active, m - 1 - np.argmax(active[:, ::-1], axis=1), 0)
    frequency = np.where(any_active, active.sum(axis=1) - 1, 0).astype(np.float64)
    recency = (last - first).astype(np.float64)
    # Observation runs to the end of the last month: T > 0 also for a code that began in it.
    T = (m - first).astype(np.float64)

    # Margin per month: known where costed, else revenue times the portfolio's margin rate.
    costed = x.costed > 0
    known_revenue = float(np.where(costed, x.revenue, 0).sum())
    rate = float(np.where(costed, x.margin, 0).sum()) / known_revenue if known_revenue > 0 else 0.0
    rate = rate if 0 < rate < 1 else DEFAULT_MARGIN_RATE
    margin = np.where(costed, x.margin, x.revenue * rate)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_margin = np.where(
            active.any(axis=1),
            (margin * active).sum(axis=1) / np.maximum(active.sum(axis=1), 1),
            0.0,
        )
    recent = slice(max(0, m - REGULAR_MONTHS), m)
    regular = (m >= REGULAR_MONTHS) & active[:, recent].all(axis=1)
    d = monthly_rate(annual_discount)

    out = np.full(n, np.nan)
    model = np.full(n, "", dtype="<U5")
    p_alive = np.full(n, np.nan)
    bg = gg = sbg = None

    irregular = any_active & ~regular
    if any_active.sum() >= 3:
        try:
            bg = clv.fit_bgnbd(frequency[any_active], recency[any_active], T[any_active])
            p_alive[any_active] = clv.bgnbd_p_alive(
                bg, frequency[any_active], recency[any_active], T[any_active]
            )
        except (ValueError, FloatingPointError, ArithmeticError):
            bg = None
    repeat = any_active & (frequency > 0) & (mean_margin > 0)
    if bg is not None and repeat.sum() >= 3:
        try:
            gg = clv.fit_gamma_gamma(frequency[repeat], mean_margin[repeat])
        except (ValueError, FloatingPointError, ArithmeticError):
            gg = None
    if bg is not None and gg is not None and irregular.any():
        sel = irregular
        values = clv.clv_irregular(
            bg, gg, frequency[sel], recency[sel], T[sel],
            monetary_value=np.maximum(mean_margin[sel], 0.01), margin_rate=1.0,
            horizon_periods=horizon_months, discount_rate=d,
        )  # fmt: skip
        out[sel] = np.where(mean_margin[sel] > 0, values, 0.0)
        model[sel] = "bgnbd"

    if regular.any():
        # Survivors of the first month's cohort: still shipping at or after month k.
        cohort = active[:, 0]
        survivors = np.array([(cohort & (last >= k)).sum() for k in idx], dtype=np.float64)
        if survivors[0] >= 5 and survivors[-1] > 0:
            try:
                sbg = clv.fit_sbg(survivors)
            except (ValueError, FloatingPointError, ArithmeticError):
                sbg = None
        if sbg is not None:
            run_length = _trailing_run(active[regular])
            recent_margin = margin[regular][:, recent].mean(axis=1)
            forecast = np.repeat(recent_margin[:, None], horizon_months, axis=1)
            out[regular] = clv.clv_regular(
                sbg, forecast, periods_survived=np.maximum(run_length - 1, 0), discount_rate=d
            )
            model[regular] = "sbg"
    out = np.where(np.isfinite(out), out, np.nan)
    return LifetimeValues(out, model, p_alive, bg, gg, sbg)


def _trailing_run(active: npt.NDArray[np.bool_]) -> FloatArray:
    """Consecutive active months up to and including the last month, per row."""
    reversed_inactive = ~active[:, ::-1]
    has_gap = reversed_inactive.any(axis=1)
    run: FloatArray = np.where(
        has_gap, np.argmax(reversed_inactive, axis=1), active.shape[1]
    ).astype(np.float64)
    return run
