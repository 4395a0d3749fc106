"""Monthly forecasts of account revenue, margin and waybills, and their backtest.

Plain numpy/pandas/statsforecast, no Django. One series per account: a numpy array of
monthly values ending at ``last_month`` (the first day of the last observed month).

Models (statsforecast 2.1, compiled ETS):

* >= 24 months: ETS(A, Ad, A), additive errors, damped additive trend, additive monthly
  seasonality (season length 12), after removing the Spring Festival effect (below).
  The fixed-date peaks (11.11 "Singles' Day" in November, 12.12, 6.18 in June) fall in
  the same calendar month every year, so the monthly seasonal states learn them.
* 3-23 months: ETS(A, Z, N), additive errors, no seasonality, the trend (none, additive
  or damped) chosen by AICc: one year of data cannot tell seasonality from noise.
* 1-2 months, or a constant series (e.g. all zeros): the mean of the history, with an
  interval of +/- z * standard deviation of the history (zero width for one month).
* A model that fails on a series falls back to the seasonal-naive (>= 24 months) or the
  naive forecast with its own intervals, never NaN.

Spring Festival. The Lunar New Year moves between late January and mid-February, and
express volume drops sharply around it (factories close before the holiday, couriers
return after it), so a fixed monthly seasonal index would put the dip in the wrong
month half of the time. We use a regressor ``d_t``: the share of the year's Spring
Festival window that falls in month ``t`` (the official holiday days from the
``chinese_calendar`` package, padded by :data:`SPRING_FESTIVAL_PAD_DAYS` on each side;
for years the package does not know yet, the eight days from the New Year's Eve of
:data:`LUNAR_NEW_YEAR`). Its coefficient ``beta_i`` is estimated on seasonal differences
(``y_t - y_{t-12}`` against ``d_t - d_{t-12}``, which removes level and the fixed monthly
pattern) and shrunk towards the portfolio's median effect relative to each account's
level. The model is fitted to ``y_t - beta_i d_t`` and ``beta_i d_t`` of the forecast
months is added back to the mean and both interval bounds. Accounts with 3-23 months get
the portfolio's median effect times their mean level (they have seen at most one
festival), when the portfolio has seasonal accounts to learn it from.

Negative months (refunds larger than revenue) are kept in the history. Forecasts of
quantities that cannot be negative (revenue, waybills) are clipped at zero (mean and
both bounds) with ``nonnegative=True`` (the default); pass ``nonnegative=False`` for
margin, which can be.

Backtest: the last ``holdout`` months of each series are hidden, the same forecasting is
run on the rest, and the model and a seasonal-naive baseline are scored with

* MASE = mean_h |y_h - f_h| / mean_t |y_t - y_{t-m}| over the training months
  (``m = season_length`` when the training series has more than ``m`` months, else 1);
  a series whose scale is zero (a constant history) is left out of the MASE mean;
* sMAPE = 100 * mean_h 2 |y_h - f_h| / (|y_h| + |f_h|), with 0/0 counted as 0
  (range 0..200 %);

each averaged over the series of the portfolio (series with at least
``holdout + 2`` months).
"""

from __future__ import annotations

import datetime
import math
import warnings
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

__all__ = [
    "LUNAR_NEW_YEAR",
    "SPRING_FESTIVAL_PAD_DAYS",
    "Backtest",
    "Forecast",
    "backtest",
    "forecast_monthly",
    "forecast_months",
    "seasonal_naive",
    "spring_festival_share",
]

FloatArray = npt.NDArray[np.float64]

SEASONAL_MIN_MONTHS = 24
SPRING_FESTIVAL_PAD_DAYS = 7
#: Lunar New Year's Day for the years after the ``chinese_calendar`` data (2026).
LUNAR_NEW_YEAR: dict[int, datetime.date] = {
    2027: datetime.date(2027, 2, 6),
    2028: datetime.date(2028, 1, 26),
    2029: datetime.date(2029, 2, 13),
    2030: datetime.date(2030, 2, 3),
    2031: datetime.date(2031, 1, 23),
    2032: datetime.date(2032, 2, 11),
    2033: datetime.date(2033, 1, 31),
    2034: datetime.date(2034, 2, 19),
    2035: datetime.date(2035, 2, 8),
    2036: datetime.date(2036, 1, 28),
    2037: datetime.date(2037, 2, 15),
    2038: datetime.date(2038, 2, 4),
    2039: datetime.date(2039, 1, 24),
    2040: datetime.date(2040, 2, 12),
}
# Shrinkage of a series' own Spring Festival effect towards the portfolio's, in units of
# sum (d_t - d_{t-12})^2: one Jan <-> Feb move of the whole window contributes about 2.
_SF_SHRINK = 1.0


@dataclass(frozen=True, eq=False)
class Forecast:
    """A forecast of ``horizon`` months after ``last_month``: mean and interval bounds.

    ``lo``/``hi`` bound the central ``level`` % prediction interval. ``model`` names the
    method used (``"ETS(A,Ad,A)+SF"``, ``"ETS(A,Z,N)"``, ``"mean"``, ``"seasonal-naive"``,
    ``"naive"``).
    """

    mean: FloatArray
    lo: FloatArray
    hi: FloatArray
    model: str = ""
    spring_festival_effect: float = 0.0


@dataclass(frozen=True)
class Backtest:
    """Accuracy of the forecasts on the last ``holdout`` months, against seasonal naive.

    ``mase``/``smape`` are the model's, ``naive_mase``/``naive_smape`` the baseline's
    (definitions in the module docstring); ``None`` when no series was long enough.
    ``n_series`` series were scored (``n_mase`` of them had a non-zero MASE scale).
    """

    holdout: int
    n_series: int
    n_mase: int
    mase: float | None
    smape: float | None
    naive_mase: float | None
    naive_smape: float | None
    per_series_mase: dict[Hashable, float] = field(default_factory=dict, repr=False)


# --------------------------------------------------------------------------- calendar


def _month_index(day: datetime.date) -> int:
    return day.year * 12 + day.month - 1


def _month_start(index: int) -> datetime.date:
    return datetime.date(index // 12, index % 12 + 1, 1)


def forecast_months(last_month: datetime.date, horizon: int = 12) -> list[datetime.date]:
    """The first days of the ``horizon`` months after ``last_month``."""
    start = _month_index(last_month) + 1
    return [_month_start(start + h) for h in range(horizon)]


@lru_cache(maxsize=64)
def _spring_festival_window(year: int) -> tuple[datetime.date, datetime.date]:
    """First and last day (inclusive) of the year's padded Spring Festival window."""
    import chinese_calendar  # local: loading its tables costs ~50 ms

    days = [
        d
        for d, name in chinese_calendar.holidays.items()
        if d.year == year and d.month <= 3 and name == "Spring Festival"
    ]
    if days:
        first, last = min(days), max(days)
    else:
        lny = LUNAR_NEW_YEAR.get(year)
        if lny is None:
            # Outside both tables: the mid-point of its range (Jan 21 .. Feb 20).
            lny = datetime.date(year, 2, 5)
        first, last = lny - datetime.timedelta(days=1), lny + datetime.timedelta(days=6)
    pad = datetime.timedelta(days=SPRING_FESTIVAL_PAD_DAYS)
    return first - pad, last + pad


@lru_cache(maxsize=4096)
def spring_festival_share(month: datetime.date) -> float:
    """Share (0..1) of its year's Spring Festival window that falls in ``month``."""
    first, last = _spring_festival_window(month.year)
    total = (last - first).days + 1
    m_first = month.replace(day=1)
    m_last = _month_start(_month_index(m_first) + 1) - datetime.timedelta(days=1)
    overlap = (min(last, m_last) - max(first, m_first)).days + 1
    # The window can start in late December of the previous year's table only in theory;
    # Lunar New Year is never before Jan 21, so pad <= 20 days keeps it inside the year.
    return max(overlap, 0) / total


def _sf_regressor(first_index: int, n: int) -> FloatArray:
    return np.array(
        [spring_festival_share(_month_start(first_index + i)) for i in range(n)], dtype=np.float64
    )


# --------------------------------------------------------------------------- helpers


def _clean(values: npt.ArrayLike) -> FloatArray:
    y = np.asarray(values, dtype=np.float64).reshape(-1)
    # A missing month in the facts is a month without shipments.
    return np.where(np.isfinite(y), y, 0.0)


def seasonal_naive(y: FloatArray, horizon: int, season_length: int = 12) -> FloatArray:
    """Seasonal-naive forecast ``f_h = y_{T+h-m}`` (naive ``y_T`` if fewer than m months)."""
    if y.size == 0:
        return np.zeros(horizon)
    if y.size < season_length:
        return np.full(horizon, y[-1])
    last_season = y[-season_length:]
    out: FloatArray = np.array([last_season[h % season_length] for h in range(horizon)])
    return out


def _mean_forecast(
    y: FloatArray, horizon: int, z: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    mu = float(np.mean(y)) if y.size else 0.0
    sd = float(np.std(y, ddof=1)) if y.size > 1 else 0.0
    mean = np.full(horizon, mu)
    return mean, mean - z * sd, mean + z * sd


def _spring_festival_betas(
    ys: dict[int, FloatArray], d: dict[int, FloatArray]
) -> tuple[dict[int, float], float]:
    """Per-series Spring Festival coefficients, shrunk towards the portfolio median."""
    raw: dict[int, tuple[float, float, float]] = {}
    ratios = []
    for key, y in ys.items():
        dd = d[key][12:] - d[key][:-12]
        dy = y[12:] - y[:-12]
        sxx = float(np.sum(dd * dd))
        scale = float(np.mean(np.abs(y)))
        if sxx <= 1e-12 or scale <= 0:
            raw[key] = (0.0, 0.0, scale)
            continue
        beta = float(np.sum(dd * dy)) / sxx
        raw[key] = (beta, sxx, scale)
        ratios.append(beta / scale)
    pooled = float(np.median(ratios)) if ratios else 0.0
    out = {}
    for key, (beta, sxx, scale) in raw.items():
        out[key] = (sxx * beta + _SF_SHRINK * pooled * scale) / (sxx + _SF_SHRINK)
    return out, pooled


def _run_statsforecast(
    ys: dict[int, FloatArray],
    first_index: dict[int, int],
    *,
    seasonal: bool,
    horizon: int,
    level: int,
    n_jobs: int,
) -> dict[int, tuple[FloatArray, FloatArray, FloatArray, str]]:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, Naive, SeasonalNaive

    if not ys:
        return {}
    keys = list(ys)
    lengths = np.array([ys[k].size for k in keys])
    # Integer months since 1970 on a 'MS' calendar: build the dates once, vectorised.
    starts = np.array([first_index[k] for k in keys])
    offsets = np.concatenate([np.arange(n) for n in lengths])
    month_idx = np.repeat(starts, lengths) + offsets
    ds = pd.to_datetime(
        {"year": month_idx // 12, "month": month_idx % 12 + 1, "day": np.ones_like(month_idx)}
    )
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(np.array(keys), lengths),
            "ds": ds,
            "y": np.concatenate([ys[k] for k in keys]),
        }
    )
    fallback: SeasonalNaive | Naive
    if seasonal:
        model = AutoETS(season_length=12, model="AAA", damped=True, alias="ets")
        fallback = SeasonalNaive(season_length=12, alias="ets")
        name = "ETS(A,Ad,A)"
    else:
        model = AutoETS(season_length=1, model="AZN", alias="ets")
        fallback = Naive(alias="ets")
        name = "ETS(A,Z,N)"
    sf = StatsForecast(models=[model], freq="MS", n_jobs=n_jobs, fallback_model=fallback)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # A fit with no residual degrees of freedom warns and gives infinite bounds; those
        # are replaced by the caller (see forecast_monthly), so the warning is noise.
        warnings.simplefilter("ignore", RuntimeWarning)
        result = sf.forecast(df=frame, h=horizon, level=[level])
    result = result.sort_values(["unique_id", "ds"])
    ids = result["unique_id"].to_numpy()
    mean = result["ets"].to_numpy(dtype=np.float64)
    lo = result[f"ets-lo-{level}"].to_numpy(dtype=np.float64)
    hi = result[f"ets-hi-{level}"].to_numpy(dtype=np.float64)
    out: dict[int, tuple[FloatArray, FloatArray, FloatArray, str]] = {}
    for i, key in enumerate(np.unique(ids)):
        sl = slice(i * horizon, (i + 1) * horizon)
        out[int(key)] = (mean[sl], lo[sl], hi[sl], name)
    return out


# --------------------------------------------------------------------------- forecasting


def forecast_monthly(
    series: Mapping[Hashable, npt.ArrayLike],
    *,
    last_month: datetime.date,
    horizon: int = 12,
    level: int = 80,
    nonnegative: bool = True,
    spring_festival: bool = True,
    n_jobs: int = 1,
) -> dict[Hashable, Forecast]:
    """Forecast each monthly series ``horizon`` months ahead with a prediction interval.

    Parameters
    ----------
    series : mapping of key -> array of monthly values
        Each array is consecutive months ending at ``last_month`` (its length may differ
        per series; missing months should be 0, NaN is read as 0). An empty array gets a
        zero forecast.
    last_month : date
        Any day of the last observed month (the same for every series).
    horizon : months to forecast (>= 1).
    level : central prediction-interval coverage in percent (1..99).
    nonnegative : clip mean and bounds at 0 (revenue, waybills); False for margin.
    spring_festival : apply the moving Spring Festival adjustment (module docstring).
    n_jobs : processes statsforecast may use.

    Returns
    -------
    dict of key -> :class:`Forecast` with arrays of length ``horizon``, finite, and
    ``lo <= mean <= hi``.
    """
    if horizon < 1:
        raise ValueError("horizon must be at least 1")
    if not 0 < level < 100:
        raise ValueError("level must be between 0 and 100")
    z = float(stats.norm.ppf(0.5 + level / 200.0))
    last_index = _month_index(last_month)
    keys = list(series)
    ys: dict[int, FloatArray] = {i: _clean(series[k]) for i, k in enumerate(keys)}
    first_index = {i: last_index - y.size + 1 for i, y in ys.items()}

    results: dict[int, tuple[FloatArray, FloatArray, FloatArray, str]] = {}
    seasonal: dict[int, FloatArray] = {}
    short: dict[int, FloatArray] = {}
    for i, y in ys.items():
        if y.size < 3 or np.all(y == y[0]):
            mean, lo, hi = _mean_forecast(y, horizon, z)
            results[i] = (mean, lo, hi, "mean")
        elif y.size >= SEASONAL_MIN_MONTHS:
            seasonal[i] = y
        else:
            short[i] = y

    betas: dict[int, float] = {}
    future_d = _sf_regressor(last_index + 1, horizon)
    if seasonal and spring_festival:
        d = {i: _sf_regressor(first_index[i], y.size) for i, y in seasonal.items()}
        betas, pooled = _spring_festival_betas(seasonal, d)
        seasonal = {i: y - betas[i] * d[i] for i, y in seasonal.items()}
        # Younger accounts cannot show their own festival effect yet: they get the
        # portfolio's, relative to their level, so their February forecast dips too.
        for i, y in short.items():
            betas[i] = pooled * float(np.mean(np.abs(y)))
            short[i] = y - betas[i] * _sf_regressor(first_index[i], y.size)
    results.update(
        _run_statsforecast(
            seasonal, first_index, seasonal=True, horizon=horizon, level=level, n_jobs=n_jobs
        )
    )
    results.update(
        _run_statsforecast(
            short, first_index, seasonal=False, horizon=horizon, level=level, n_jobs=n_jobs
        )
    )

    out: dict[Hashable, Forecast] = {}
    for i, key in enumerate(keys):
        mean, lo, hi, name = results[i]
        beta = betas.get(i, 0.0)
        if beta:
            shift = beta * future_d
            mean, lo, hi, name = mean + shift, lo + shift, hi + shift, name + "+SF"
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
            # Defensive: a degenerate fit must not put NaN on a page.
            y = ys[i]
            mean = seasonal_naive(y, horizon) if y.size else np.zeros(horizon)
            sd = float(np.std(y, ddof=1)) if y.size > 1 else 0.0
            lo, hi, name = mean - z * sd, mean + z * sd, "naive"
        lo, hi = np.minimum(lo, mean), np.maximum(hi, mean)
        if nonnegative:
            mean, lo, hi = np.maximum(mean, 0.0), np.maximum(lo, 0.0), np.maximum(hi, 0.0)
        out[key] = Forecast(
            mean=np.asarray(mean, dtype=np.float64),
            lo=np.asarray(lo, dtype=np.float64),
            hi=np.asarray(hi, dtype=np.float64),
            model=name,
            spring_festival_effect=float(beta),
        )
    return out


# --------------------------------------------------------------------------- backtest


def _mase_scale(train: FloatArray, season_length: int) -> float:
    m = season_length if train.size > season_length else 1
    diffs = np.abs(train[m:] - train[:-m])
    return float(np.mean(diffs)) if diffs.size else 0.0


def _smape(actual: FloatArray, pred: FloatArray) -> float:
    num = 2.0 * np.abs(actual - pred)
    den = np.abs(actual) + np.abs(pred)
    ratio = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    return 100.0 * float(np.mean(ratio))


def backtest(
    series: Mapping[Hashable, npt.ArrayLike],
    *,
    last_month: datetime.date,
    holdout: int = 6,
    season_length: int = 12,
    nonnegative: bool = True,
    n_jobs: int = 1,
) -> Backtest:
    """Score :func:`forecast_monthly` and seasonal naive on the last ``holdout`` months.

    Series with fewer than ``holdout + 2`` months are not scored. MASE and sMAPE are
    defined in the module docstring; the portfolio figures are means over series.
    """
    if holdout < 1:
        raise ValueError("holdout must be at least 1")
    cut = _month_index(last_month) - holdout
    train: dict[Hashable, FloatArray] = {}
    test: dict[Hashable, FloatArray] = {}
    for key, values in series.items():
        y = _clean(values)
        if y.size >= holdout + 2:
            train[key], test[key] = y[:-holdout], y[-holdout:]
    if not train:
        return Backtest(holdout, 0, 0, None, None, None, None)
    fc = forecast_monthly(
        train, last_month=_month_start(cut), horizon=holdout, nonnegative=nonnegative, n_jobs=n_jobs
    )
    mase, naive_mase, smape, naive_smape = [], [], [], []
    per_series: dict[Hashable, float] = {}
    for key, y_train in train.items():
        actual = test[key]
        pred = fc[key].mean
        base = seasonal_naive(y_train, holdout, season_length)
        smape.append(_smape(actual, pred))
        naive_smape.append(_smape(actual, base))
        scale = _mase_scale(y_train, season_length)
        if scale > 0:
            value = float(np.mean(np.abs(actual - pred))) / scale
            per_series[key] = value
            mase.append(value)
            naive_mase.append(float(np.mean(np.abs(actual - base))) / scale)

    def avg(values: list[float]) -> float | None:
        return float(np.mean(values)) if values and math.isfinite(float(np.mean(values))) else None

    return Backtest(
        holdout=holdout,
        n_series=len(train),
        n_mase=len(mase),
        mase=avg(mase),
        smape=avg(smape),
        naive_mase=avg(naive_mase),
        naive_smape=avg(naive_smape),
        per_series_mase=per_series,
    )
