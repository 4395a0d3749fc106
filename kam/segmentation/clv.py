"""Customer lifetime value: BG/NBD, Gamma-Gamma and shifted-beta-geometric models.

Plain numpy/scipy, no Django. Every function takes and returns numpy arrays (one
element per customer) and frozen dataclasses of fitted parameters; the names follow
the papers (``r``, ``alpha``, ``a``, ``b``; ``p``, ``q``, ``v``; ``alpha``, ``beta``).

Units
-----
Time is measured in *periods*: whatever unit ``recency`` and ``T`` are given in
(weeks in the CDNOW papers, months in the KAM application). Horizons, discount
rates and margin forecasts are per period of that same unit: a monthly model needs a
monthly discount rate, e.g. ``(1 + 0.10) ** (1 / 12) - 1`` for 10 % a year.

Models
------
* BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way: an
  alternative to the Pareto/NBD model", Marketing Science 24(2)) for the number of
  future transactions of a non-contractual ("irregular") customer.
* Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value curves for
  customer base analysis", JMR 42(4); Fader & Hardie 2013, "The Gamma-Gamma model of
  monetary value") for the mean spend per transaction.
* sBG (Fader & Hardie 2007, "How to project customer retention", Journal of
  Interactive Marketing 21(1)) for retention of contract-like ("regular") customers.

All likelihoods are evaluated in log space with ``gammaln``/``betaln``/``logaddexp``,
so customers with hundreds or thousands of transactions (daily shippers) neither
overflow nor underflow. Parameters are fitted by maximum likelihood over their
logarithms (so they stay positive): BFGS with exact (digamma) gradients for BG/NBD and
Gamma-Gamma, L-BFGS-B for sBG, and a Nelder-Mead polish when the optimiser does not end
at a zero gradient. Duplicate customer summaries are collapsed into weights first, which
makes monthly data (few distinct ``(x, t_x, T)``) very cheap to fit. Bad input raises
``ValueError``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import optimize, special

__all__ = [
    "BGNBDParams",
    "GammaGammaParams",
    "SBGParams",
    "bgnbd_expected_transactions",
    "bgnbd_expected_transactions_new",
    "bgnbd_log_likelihood",
    "bgnbd_p_alive",
    "clv_irregular",
    "clv_regular",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "fit_sbg",
    "gamma_gamma_expected_spend",
    "gamma_gamma_log_likelihood",
    "sbg_expected_lifetime_value",
    "sbg_log_likelihood",
    "sbg_retention",
    "sbg_survival",
    "simulate_bgnbd",
    "simulate_gamma_gamma",
    "simulate_sbg",
]

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike


# --------------------------------------------------------------------------- params


@dataclass(frozen=True, slots=True)
class BGNBDParams:
    """Fitted BG/NBD parameters.

    ``r, alpha``: gamma mixing of the transaction rates (shape, scale in periods);
    ``a, b``: beta mixing of the drop-out probability after each transaction.
    ``log_likelihood`` is the maximised total log-likelihood, ``n`` the number of
    customers and ``converged`` whether the optimiser reported success.
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n: int = 0
    converged: bool = True


@dataclass(frozen=True, slots=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma parameters (``v`` is the paper's gamma scale, called gamma)."""

    p: float
    q: float
    v: float
    log_likelihood: float
    n: int = 0
    converged: bool = True


@dataclass(frozen=True, slots=True)
class SBGParams:
    """Fitted shifted-beta-geometric parameters of the churn probability's beta mixing."""

    alpha: float
    beta: float
    log_likelihood: float
    n: int = 0
    converged: bool = True


# --------------------------------------------------------------------------- helpers


def _arr(x: ArrayLike, name: str) -> FloatArray:
    out = np.asarray(x, dtype=np.float64)
    if out.ndim == 0:
        out = out.reshape(1)
    if out.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return out


def _check_rft(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    x = _arr(frequency, "frequency")
    t_x = _arr(recency, "recency")
    t_cal = _arr(T, "T")
    if not (x.shape == t_x.shape == t_cal.shape):
        raise ValueError("frequency, recency and T must have the same length")
    if x.size == 0:
        raise ValueError("no customers")
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise ValueError("frequency must be a non-negative whole number of repeat transactions")
    if np.any(t_x < 0) or np.any(t_x > t_cal * (1 + 1e-9)):
        raise ValueError("recency must lie between 0 and T")
    if np.any(t_cal <= 0):
        raise ValueError("T must be positive")
    return x, np.minimum(t_x, t_cal), t_cal


def _wsum(weights: FloatArray, values: FloatArray) -> float:
    """``sum(weights * values)`` without BLAS: ``np.dot`` on long vectors can stall for
    milliseconds in OpenBLAS's thread pool on a busy machine, and this runs per iteration."""
    return float(np.sum(weights * values))


def _collapse(*columns: FloatArray) -> tuple[list[FloatArray], FloatArray]:
    """Unique rows of the columns and their multiplicities (weights of the likelihood)."""
    n = columns[0].shape[0]
    # A row is unique if any of its values is: a cheap 1-D count tells when collapsing
    # cannot pay (continuous recency or spend), before the costly row-wise unique.
    if any(np.unique(c).size > 0.8 * n for c in columns):
        return [np.ascontiguousarray(c) for c in columns], np.ones(n)
    stacked = np.column_stack(columns)
    uniq, counts = np.unique(stacked, axis=0, return_counts=True)
    if uniq.shape[0] > 0.8 * n:
        return [np.ascontiguousarray(c) for c in columns], np.ones(n)
    return [np.ascontiguousarray(uniq[:, i]) for i in range(uniq.shape[1])], counts.astype(
        np.float64
    )


def _maximise(
    negll: Callable[[FloatArray], tuple[float, FloatArray]] | Callable[[FloatArray], float],
    x0: FloatArray,
    *,
    jac: bool,
) -> tuple[FloatArray, float, bool]:
    """Minimise a negative log-likelihood over log-parameters; return exp(optimum).

    With ``jac`` the function returns ``(value, gradient)`` and BFGS uses the exact
    gradient (the log-parameters are unconstrained; BFGS needs fewer and cheaper steps
    here than L-BFGS-B). A Nelder-Mead polish from its optimum runs only if the gradient
    there is not ~0 (or always, without a gradient): a guard against a premature stop on
    the flat ridges these likelihoods have (e.g. ``a`` and ``b`` large together).
    """
    if jac:
        best = optimize.minimize(negll, x0, jac=True, method="BFGS", options={"gtol": 1e-6})
        # BFGS often ends with "precision loss" at the optimum itself: judge by the gradient.
        ok = bool(best.success) or bool(np.max(np.abs(best.jac)) < 1e-3)
    else:
        best = optimize.minimize(negll, x0, method="L-BFGS-B")
        ok = bool(best.success)
    x_opt, fun = best.x, float(best.fun)
    if not ok or not jac:

        def value(log_params: FloatArray) -> float:
            out = negll(log_params)
            return float(out[0]) if isinstance(out, tuple) else float(out)

        polish = optimize.minimize(
            value,
            best.x,
            method="Nelder-Mead",
            options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000, "maxfev": 8000},
        )
        if np.isfinite(polish.fun) and polish.fun <= fun:
            x_opt, fun, ok = polish.x, float(polish.fun), bool(polish.success or ok)
    return np.exp(x_opt), -fun, ok and bool(np.isfinite(fun))


# --------------------------------------------------------------------------- BG/NBD


def bgnbd_log_likelihood(
    r: float,
    alpha: float,
    a: float,
    b: float,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    """Per-customer BG/NBD log-likelihood (Fader, Hardie & Lee 2005, eq. 6).

    ``L = B(a, b+x)/B(a, b) * G(r+x)/G(r) * alpha^r / (alpha+T)^(r+x)
    + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x)/G(r) * alpha^r / (alpha+t_x)^(r+x)``,
    evaluated as ``log`` of a sum of two exponentials.
    """
    x = np.asarray(frequency, dtype=np.float64)
    t_x = np.asarray(recency, dtype=np.float64)
    t_cal = np.asarray(T, dtype=np.float64)
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) - special.betaln(a, b)
    a1 = special.betaln(a, b + x) - (r + x) * np.log(alpha + t_cal)
    repeat = x > 0
    # b + x - 1 > 0 wherever x >= 1; elsewhere the term is absent (log 0).
    a2 = np.where(
        repeat,
        special.betaln(a + 1.0, np.where(repeat, b + x - 1.0, 1.0)) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    out: FloatArray = common + np.logaddexp(a1, a2)
    return out


def fit_bgnbd(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> BGNBDParams:
    """Fit the BG/NBD model by maximum likelihood.

    Parameters
    ----------
    frequency : array of int
        ``x``: number of *repeat* transactions (periods with a transaction after the
        first one) of each customer in the calibration window.
    recency : array of float
        ``t_x``: time of the last transaction, measured from the customer's first one
        (0 when ``x == 0``), in periods.
    T : array of float
        Time from the customer's first transaction to the end of the calibration
        window, in periods (``0 <= t_x <= T``).

    Returns
    -------
    BGNBDParams
        ``r, alpha, a, b`` and the maximised log-likelihood.

    References
    ----------
    Fader, Hardie & Lee (2005), "Counting your customers the easy way", eq. 6.
    On the CDNOW sample (2,357 customers, weeks): r=0.243, alpha=4.414, a=0.793,
    b=2.426, LL=-9582.4.
    """
    x, t_x, t_cal = _check_rft(frequency, recency, T)
    (xu, txu, tu), w = _collapse(x, t_x, t_cal)

    repeat = xu > 0
    xm1 = np.where(repeat, xu - 1.0, 0.0)

    def negll(log_params: FloatArray) -> tuple[float, FloatArray]:
        # Eq. 6 as A1 + log(1 + exp(odds)): the second term over the first is the
        # "dead" odds of eq. 13, so only three gammaln and three digamma per customer.
        r, alpha, a, b = np.exp(log_params)
        rx = r + xu
        log_at = np.log(alpha + tu)
        log_atx = np.log(alpha + txu)
        bx = b + xu
        abx = a + bx
        odds = np.where(repeat, np.log(a) - np.log(b + xm1) + rx * (log_at - log_atx), -np.inf)
        ll = (
            special.gammaln(rx)
            + special.gammaln(bx)
            - special.gammaln(abx)
            - rx * log_at
            + np.logaddexp(0.0, odds)
        )
        const = special.gammaln(a + b) - special.gammaln(b) - special.gammaln(r)
        val = -(_wsum(w, ll) + float(np.sum(w)) * (const + r * np.log(alpha)))
        if not np.isfinite(val):
            return 1e300, np.zeros(4)
        # Exact gradient (digamma), chained through the log-parameters.
        w2 = special.expit(odds)
        psi_abx = special.digamma(abx)
        d_r = special.digamma(rx) - special.digamma(r) + np.log(alpha) - log_at
        d_r = d_r + w2 * (log_at - log_atx)
        d_alpha = r / alpha - rx * ((1.0 - w2) / (alpha + tu) + w2 / (alpha + txu))
        psi_ab = special.digamma(a + b)
        d_a = psi_ab - psi_abx + w2 / a
        d_b = psi_ab - special.digamma(b) + special.digamma(bx) - psi_abx - w2 / (b + xm1)
        grad = np.array(
            [_wsum(w, d_r) * r, _wsum(w, d_alpha) * alpha, _wsum(w, d_a) * a, _wsum(w, d_b) * b]
        )
        return val, -grad

    # Start: rates from the mean repeat rate, a modest drop-out probability.
    mean_rate = max(float(np.average(x / np.maximum(t_cal, 1e-9))), 1e-6)
    x0 = np.log(np.array([1.0, 1.0 / mean_rate, 1.0, 3.0]))
    (r, alpha, a, b), ll, ok = _maximise(negll, x0, jac=True)
    return BGNBDParams(
        r=float(r),
        alpha=float(alpha),
        a=float(a),
        b=float(b),
        log_likelihood=ll,
        n=int(x.size),
        converged=ok,
    )


def _bgnbd_log_odds_dead(
    params: BGNBDParams, x: FloatArray, t_x: FloatArray, t_cal: FloatArray
) -> FloatArray:
    """log of ``a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x)``; -inf when x == 0."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    repeat = x > 0
    safe = np.where(repeat, b + x - 1.0, 1.0)
    out: FloatArray = np.where(
        repeat,
        np.log(a) - np.log(safe) + (r + x) * (np.log(alpha + t_cal) - np.log(alpha + t_x)),
        -np.inf,
    )
    return out


def bgnbd_p_alive(
    params: BGNBDParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Probability that each customer is still alive at ``T`` (FHL 2005, eq. 13).

    ``P = 1 / (1 + [x > 0] a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x))``, computed as a
    logistic of a log-odds so that a daily shipper gone quiet gives 0, not NaN.
    """
    x, t_x, t_cal = _check_rft(frequency, recency, T)
    out: FloatArray = special.expit(-_bgnbd_log_odds_dead(params, x, t_x, t_cal))
    return out


def _bgnbd_expected(
    params: BGNBDParams, t: FloatArray, x: FloatArray, t_x: FloatArray, t_cal: FloatArray
) -> FloatArray:
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    p_alive = special.expit(-_bgnbd_log_odds_dead(params, x, t_x, t_cal))
    z = t / (alpha + t_cal + t)
    # Euler's transformation 2F1(r+x, b+x; a+b+x-1; z) = (1-z)^(a-1-r-x) 2F1(a+b-1-r, a-1;
    # a+b+x-1; z) cancels the huge (1-z)^(r+x) factor of eq. 10 exactly, so that large x
    # stays finite: ((alpha+T)/(alpha+T+t))^(r+x) 2F1(...) = (1-z)^(a-1) 2F1(a+b-1-r, a-1; ...).
    c = a + b + x - 1.0
    hyp = special.hyp2f1(a + b - 1.0 - r, a - 1.0, c, z)
    if abs(a - 1.0) < 1e-8:
        # Limit a -> 1: (c/(a-1)) * (1 - (1-z)^(a-1) F) -> c * (-log(1-z) - dF/da), use a tiny step.
        eps = 1e-6
        hyp_hi = special.hyp2f1(a + eps + b - 1.0 - r, a + eps - 1.0, c + eps, z)
        bracket = (1.0 - np.power(1.0 - z, a + eps - 1.0) * hyp_hi) / (a + eps - 1.0)
        out: FloatArray = (c + eps) * bracket * p_alive
        return out
    bracket = (1.0 - np.power(1.0 - z, a - 1.0) * hyp) / (a - 1.0)
    out2: FloatArray = np.maximum(c * bracket * p_alive, 0.0)
    return out2


def bgnbd_expected_transactions(
    params: BGNBDParams,
    t: float | ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    """Expected number of transactions in ``(T, T + t]`` for each customer (FHL 2005, eq. 10).

    ``t`` is a horizon in periods: a scalar or an array broadcastable to the customers.
    Stable for large ``x`` (see the Euler transformation in the code).
    """
    x, t_x, t_cal = _check_rft(frequency, recency, T)
    horizon = np.broadcast_to(np.asarray(t, dtype=np.float64), x.shape)
    if np.any(horizon < 0):
        raise ValueError("t must be non-negative")
    return _bgnbd_expected(params, horizon, x, t_x, t_cal)


def bgnbd_expected_transactions_new(params: BGNBDParams, t: float | ArrayLike) -> FloatArray:
    """Expected repeat transactions in ``(0, t]`` of a customer just acquired (FHL 2005, eq. 9).

    ``E[X(t)] = (a+b-1)/(a-1) * [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))]``.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    horizon = np.asarray(t, dtype=np.float64)
    z = horizon / (alpha + horizon)
    out: FloatArray = (
        (a + b - 1.0)
        / (a - 1.0)
        * (1.0 - np.power(alpha / (alpha + horizon), r) * special.hyp2f1(r, b, a + b - 1.0, z))
    )
    return out


# --------------------------------------------------------------------------- Gamma-Gamma


def gamma_gamma_log_likelihood(
    p: float, q: float, v: float, frequency: ArrayLike, monetary_value: ArrayLike
) -> FloatArray:
    """Per-customer Gamma-Gamma log-likelihood of the mean spend ``m`` of ``x`` transactions.

    ``f(m | p, q, v, x) = G(px+q)/(G(px) G(q)) * v^q * m^(px-1) * x^(px) / (v + m x)^(px+q)``
    (Fader & Hardie 2013, eq. 3).
    """
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary_value, dtype=np.float64)
    px = p * x
    out: FloatArray = (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(v)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(v + m * x)
    )
    return out


def fit_gamma_gamma(frequency: ArrayLike, monetary_value: ArrayLike) -> GammaGammaParams:
    """Fit the Gamma-Gamma spend model by maximum likelihood.

    Parameters
    ----------
    frequency : array of int
        Number of (repeat) transactions that the mean spend is taken over; customers
        with ``frequency == 0`` or a non-positive mean are ignored (the model needs a
        positive mean of at least one transaction).
    monetary_value : array of float
        Mean spend (or margin) per transaction of each customer.

    Returns
    -------
    GammaGammaParams
        ``p, q, v`` and the log-likelihood (``n`` = customers used).

    References
    ----------
    Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves"; Fader & Hardie
    (2013), "The Gamma-Gamma model of monetary value". CDNOW, 946 repeat customers:
    p=6.25, q=3.74, v=15.44.
    """
    x = _arr(frequency, "frequency")
    m = _arr(monetary_value, "monetary_value")
    if x.shape != m.shape:
        raise ValueError("frequency and monetary_value must have the same length")
    keep = (x > 0) & (m > 0)
    if not np.any(keep):
        raise ValueError("no customer with a repeat transaction and a positive mean spend")
    (xu, mu), w = _collapse(x[keep], m[keep])

    log_m, log_x = np.log(mu), np.log(xu)

    def negll(log_params: FloatArray) -> tuple[float, FloatArray]:
        p, q, v = np.exp(log_params)
        px = p * xu
        log_vmx = np.log(v + mu * xu)
        ll = (
            special.gammaln(px + q)
            - special.gammaln(px)
            - special.gammaln(q)
            + q * np.log(v)
            + (px - 1.0) * log_m
            + px * log_x
            - (px + q) * log_vmx
        )
        val = -_wsum(w, ll)
        if not np.isfinite(val):
            return 1e300, np.zeros(3)
        psi_pxq = special.digamma(px + q)
        d_p = xu * (psi_pxq - special.digamma(px) + log_m + log_x - log_vmx)
        d_q = psi_pxq - special.digamma(q) + np.log(v) - log_vmx
        d_v = q / v - (px + q) / (v + mu * xu)
        grad = np.array([_wsum(w, d_p) * p, _wsum(w, d_q) * q, _wsum(w, d_v) * v])
        return val, -grad

    # Method-of-moments-ish start: spend shape p ~ 1, q from the spread of the means.
    mean_m = float(np.mean(m[keep]))
    x0 = np.log(np.array([1.0, 2.0, mean_m]))
    (p, q, v), ll, ok = _maximise(negll, x0, jac=True)
    return GammaGammaParams(
        p=float(p), q=float(q), v=float(v), log_likelihood=ll, n=int(keep.sum()), converged=ok
    )


#: How far above 1 the Gamma-Gamma ``q`` must be for the population mean to be used.
GG_MIN_Q_EXCESS = 1e-3


def gamma_gamma_expected_spend(
    params: GammaGammaParams, frequency: ArrayLike, monetary_value: ArrayLike
) -> FloatArray:
    """Expected mean spend per transaction given ``x`` transactions of mean ``m``.

    ``E[M | x, m] = p (v + x m) / (p x + q - 1)`` (Fader & Hardie 2013, eq. 5): a weighted
    average of the population mean ``p v / (q - 1)`` and the customer's own mean. Customers
    with ``x == 0`` get the population mean (infinite if ``q <= 1``; then their own mean
    is used if positive, else 0).

    A fit with ``q`` barely above 1 (:data:`GG_MIN_Q_EXCESS`) has no usable population
    mean: ``p v / (q - 1)`` runs to astronomical figures (a 30-account demo's fit gave
    3.7e30 yuan) and drags every estimate with it. Such a fit is treated as ``q <= 1``:
    each customer's own mean stands.
    """
    p, q, v = params.p, params.q, params.v
    x = _arr(frequency, "frequency")
    m = _arr(monetary_value, "monetary_value")
    if x.shape != m.shape:
        raise ValueError("frequency and monetary_value must have the same length")
    m_pos = np.maximum(m, 0.0)
    if not q - 1.0 >= GG_MIN_Q_EXCESS or not np.isfinite(p * v / (q - 1.0)):
        return np.asarray(m_pos, dtype=np.float64)
    denom = p * x + q - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(denom > 0, p * (v + x * m_pos) / np.where(denom > 0, denom, 1.0), m_pos)
    result: FloatArray = np.asarray(out, dtype=np.float64)
    return result


# --------------------------------------------------------------------------- sBG


def sbg_log_likelihood(alpha: float, beta: float, survivors: ArrayLike) -> float:
    """sBG log-likelihood of a cohort's survivor counts (Fader & Hardie 2007, eq. 7).

    ``survivors[t]`` customers are alive at the start of period ``t + 1``
    (``survivors[0]`` is the cohort size). ``survivors[t-1] - survivors[t]`` churned with
    probability ``P(T = t) = B(alpha+1, beta+t-1)/B(alpha, beta)`` and the last count
    survive with ``S(t) = B(alpha, beta+t)/B(alpha, beta)``.
    """
    n = np.asarray(survivors, dtype=np.float64)
    t = np.arange(1, n.size, dtype=np.float64)
    lost = n[:-1] - n[1:]
    log_p = special.betaln(alpha + 1.0, beta + t - 1.0) - special.betaln(alpha, beta)
    log_s = special.betaln(alpha, beta + t[-1]) - special.betaln(alpha, beta)
    return _wsum(lost, log_p) + float(n[-1] * log_s)


def fit_sbg(survivors: ArrayLike) -> SBGParams:
    """Fit the shifted-beta-geometric retention model to one cohort.

    Parameters
    ----------
    survivors : array of int
        Customers alive at the start of each period, starting with the cohort size and
        non-increasing (e.g. ``[1000, 869, 743, ...]``), at least two counts.

    Returns
    -------
    SBGParams
        ``alpha, beta`` and the log-likelihood.

    References
    ----------
    Fader & Hardie (2007), "How to project customer retention". The paper's "regular"
    cohort 1000, 869, 743, 653, 593, 551, 517, 491 gives alpha=0.668, beta=3.806; its
    "high end" cohort 1000, 631, 468, 382, 326, 289, 262, 241 gives alpha=0.704, beta=1.182.
    """
    n = _arr(survivors, "survivors")
    if n.size < 2:
        raise ValueError("survivors needs at least two counts (the cohort and one period)")
    if np.any(n < 0) or n[0] <= 0:
        raise ValueError("survivors must be non-negative with a positive cohort size")
    if np.any(np.diff(n) > 0):
        raise ValueError("survivors must not increase")

    def negll(log_params: FloatArray) -> float:
        alpha, beta = np.exp(log_params)
        val = -sbg_log_likelihood(float(alpha), float(beta), n)
        return val if np.isfinite(val) else 1e300

    (alpha, beta), ll, ok = _maximise(negll, np.log(np.array([1.0, 1.0])), jac=False)
    return SBGParams(
        alpha=float(alpha), beta=float(beta), log_likelihood=ll, n=int(n[0]), converged=ok
    )


def sbg_survival(params: SBGParams, periods: ArrayLike) -> FloatArray:
    """``S(t) = P(T > t) = B(alpha, beta + t) / B(alpha, beta)`` for each ``t`` in ``periods``.

    The probability that a new customer survives ``t`` renewals, i.e. is still a
    customer in period ``t + 1`` (``S(0) = 1``).
    """
    t = np.asarray(periods, dtype=np.float64)
    if np.any(t < 0):
        raise ValueError("periods must be non-negative")
    out: FloatArray = np.exp(
        special.betaln(params.alpha, params.beta + t) - special.betaln(params.alpha, params.beta)
    )
    return out


def sbg_retention(params: SBGParams, periods: ArrayLike) -> FloatArray:
    """Retention rate ``r_t = S(t)/S(t-1) = (beta + t - 1)/(alpha + beta + t - 1)``, ``t >= 1``.

    It rises with ``t``: the heterogeneity of the cohort sorts out the likely churners first.
    """
    t = np.asarray(periods, dtype=np.float64)
    if np.any(t < 1):
        raise ValueError("retention is defined for periods t >= 1")
    out: FloatArray = (params.beta + t - 1.0) / (params.alpha + params.beta + t - 1.0)
    return out


def _sbg_conditional_survival(
    params: SBGParams, periods_survived: FloatArray, horizon: int
) -> FloatArray:
    """``S(n + k) / S(n)`` for k = 1..horizon, one row per customer (shape (n, horizon))."""
    n = periods_survived[:, None]
    k = np.arange(1, horizon + 1, dtype=np.float64)[None, :]
    out: FloatArray = np.exp(
        special.betaln(params.alpha, params.beta + n + k)
        - special.betaln(params.alpha, params.beta + n)
    )
    return out


def sbg_expected_lifetime_value(
    params: SBGParams, *, periods_survived: float, discount_rate: float
) -> float:
    """Discounted expected residual lifetime (DERL, Fader & Hardie 2010) of a customer.

    ``sum_{k>=1} S(n+k)/S(n) / (1+d)^k`` for a customer that has survived ``n``
    renewals, in closed form
    ``B(alpha, beta+n+1)/B(alpha, beta+n) * 2F1(1, beta+n+1; alpha+beta+n+1; 1/(1+d)) / (1+d)``.
    Multiply by a constant margin per period to get a lifetime value.
    """
    if discount_rate <= 0:
        raise ValueError("discount_rate must be positive for an infinite horizon")
    a, b, n = params.alpha, params.beta, float(periods_survived)
    head = np.exp(special.betaln(a, b + n + 1.0) - special.betaln(a, b + n))
    disc = 1.0 / (1.0 + discount_rate)
    return float(head * special.hyp2f1(1.0, b + n + 1.0, a + b + n + 1.0, disc) * disc)


# --------------------------------------------------------------------------- lifetime value


def _discount(horizon: int, discount_rate: float) -> FloatArray:
    if discount_rate <= -1:
        raise ValueError("discount_rate must be greater than -1")
    out: FloatArray = (1.0 + discount_rate) ** -np.arange(1, horizon + 1, dtype=np.float64)
    return out


def clv_irregular(
    bgnbd: BGNBDParams,
    gg: GammaGammaParams,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    monetary_value: ArrayLike | None = None,
    margin_rate: float | ArrayLike = 1.0,
    horizon_periods: int = 36,
    discount_rate: float = 0.0,
) -> FloatArray:
    """Lifetime value of non-contractual customers: BG/NBD x Gamma-Gamma x margin.

    ``CLV_i = sum_{k=1..H} (E[Y_i(k)] - E[Y_i(k-1)]) * E[M_i] * margin_rate_i / (1+d)^k``

    where ``E[Y_i(k)]`` is the BG/NBD expected number of transactions in ``(T, T+k]``
    (so each period's expected transactions are discounted at that period's end),
    ``E[M_i]`` the Gamma-Gamma expected spend per transaction. This is how lifetimes'
    ``customer_lifetime_value`` discounts, period by period.

    Parameters
    ----------
    bgnbd, gg : fitted parameters (same period unit as ``recency``/``T``).
    frequency, recency, T : the repeat-transaction summary (see :func:`fit_bgnbd`).
    monetary_value : mean spend per transaction; if omitted, each transaction is worth
        the Gamma-Gamma population mean ``p v / (q - 1)``.
    margin_rate : fraction of spend that is margin (scalar or one per customer; 1.0
        when ``monetary_value`` already is a margin).
    horizon_periods : number of future periods ``H``.
    discount_rate : per-period discount rate ``d``.

    Returns
    -------
    array of float, one value per customer, in the unit of ``monetary_value``.
    """
    x, t_x, t_cal = _check_rft(frequency, recency, T)
    if horizon_periods < 0:
        raise ValueError("horizon_periods must be non-negative")
    if monetary_value is None:
        m = np.zeros_like(x)
        spend = gamma_gamma_expected_spend(gg, np.zeros_like(x), m)
    else:
        m = _arr(monetary_value, "monetary_value")
        spend = gamma_gamma_expected_spend(gg, x, m)
    margin = np.broadcast_to(np.asarray(margin_rate, dtype=np.float64), x.shape)
    disc = _discount(horizon_periods, discount_rate)
    total = np.zeros_like(x)
    previous = np.zeros_like(x)
    for k in range(1, horizon_periods + 1):
        cumulative = _bgnbd_expected(bgnbd, np.full_like(x, float(k)), x, t_x, t_cal)
        total += (cumulative - previous) * disc[k - 1]
        previous = cumulative
    out: FloatArray = total * spend * margin
    return out


def clv_regular(
    sbg: SBGParams,
    margin_forecast: ArrayLike,
    *,
    periods_survived: float | ArrayLike,
    discount_rate: float = 0.0,
) -> FloatArray:
    """Lifetime value of contract-like customers: sBG retention x a margin forecast.

    ``CLV_i = sum_{k=1..H} m_ik * S(n_i + k) / S(n_i) / (1+d)^k``

    ``S(n+k)/S(n)`` is the sBG probability that a customer who has already survived
    ``n`` renewals is still a customer ``k`` periods from now (the retention of older
    customers is higher, so long-standing accounts are worth more per margin unit).

    Parameters
    ----------
    sbg : fitted retention parameters (per period).
    margin_forecast : shape ``(H,)`` (same forecast for everyone) or ``(n_customers, H)``:
        expected margin in each of the next ``H`` periods *if still a customer* (for the
        application: the account's 12-month margin forecast, months after the last one).
        Negative forecast margins are kept (a loss-making account has a negative value).
    periods_survived : renewals survived so far, ``n >= 0`` (scalar or per customer). An
        account that has been a customer for ``m`` consecutive periods up to the last
        observed one has survived ``m - 1`` renewals.
    discount_rate : per-period discount rate ``d``.

    Returns
    -------
    array of float, one value per customer (length 1 for a 1-D forecast and scalar
    ``periods_survived``).
    """
    forecast = np.asarray(margin_forecast, dtype=np.float64)
    if forecast.ndim == 1:
        forecast = forecast[None, :]
    if forecast.ndim != 2:
        raise ValueError("margin_forecast must be (H,) or (n_customers, H)")
    if not np.all(np.isfinite(forecast)):
        raise ValueError("margin_forecast contains NaN or infinite values")
    survived = np.asarray(periods_survived, dtype=np.float64).reshape(-1)
    if np.any(survived < 0) or not np.all(np.isfinite(survived)):
        raise ValueError("periods_survived must be non-negative")
    n_customers = max(forecast.shape[0], survived.size)
    forecast = np.broadcast_to(forecast, (n_customers, forecast.shape[1]))
    survived = np.broadcast_to(survived, (n_customers,))
    horizon = forecast.shape[1]
    probs = _sbg_conditional_survival(sbg, survived, horizon)
    out: FloatArray = (forecast * probs * _discount(horizon, discount_rate)[None, :]).sum(axis=1)
    return out


# --------------------------------------------------------------------------- simulation


def simulate_bgnbd(
    r: float,
    alpha: float,
    a: float,
    b: float,
    T: ArrayLike,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray]:
    """Draw ``(frequency, recency)`` for customers observed for ``T`` periods under BG/NBD.

    Each customer gets a rate ``lambda ~ Gamma(r, scale=1/alpha)`` and a drop-out
    probability ``p ~ Beta(a, b)``; repeat transactions follow a Poisson process and
    after each one the customer leaves with probability ``p``. Used by the tests and the
    benchmark (parameter recovery).
    """
    t_cal = _arr(T, "T")
    n = t_cal.size
    lam = rng.gamma(r, 1.0 / alpha, n)
    drop = rng.beta(a, b, n)
    clock = np.zeros(n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    live = np.arange(n)
    while live.size:
        clock[live] += rng.exponential(1.0 / lam[live])
        live = live[clock[live] <= t_cal[live]]
        x[live] += 1.0
        t_x[live] = clock[live]
        live = live[rng.random(live.size) >= drop[live]]
    return x, t_x


def simulate_gamma_gamma(
    p: float, q: float, v: float, frequency: ArrayLike, rng: np.random.Generator
) -> FloatArray:
    """Draw the mean spend of ``frequency`` transactions per customer under Gamma-Gamma.

    ``nu ~ Gamma(q, rate=v)`` per customer and each spend ``z ~ Gamma(p, rate=nu)``, so the
    mean of ``x`` spends is ``Gamma(p x, rate=nu x)``.
    """
    x = _arr(frequency, "frequency")
    if np.any(x < 1):
        raise ValueError("every customer needs at least one transaction")
    nu = rng.gamma(q, 1.0 / v, x.size)
    out: FloatArray = rng.gamma(p * x, 1.0 / (nu * x))
    return out


def simulate_sbg(
    alpha: float, beta: float, cohort: int, periods: int, rng: np.random.Generator
) -> FloatArray:
    """Survivor counts ``n_0 .. n_periods`` of a cohort under sBG (``n_0 = cohort``).

    Each customer churns at the end of each period with a probability
    ``theta ~ Beta(alpha, beta)`` of their own, so their lifetime is geometric.
    """
    theta = rng.beta(alpha, beta, cohort)
    lifetime = rng.geometric(np.clip(theta, 1e-12, 1.0))
    t = np.arange(periods + 1)
    out: FloatArray = (lifetime[None, :] > t[:, None]).sum(axis=1).astype(np.float64)
    return out
