"""Forecasts of the accounts of a run: a thin adapter over :mod:`.forecast` (no Django).

Revenue and waybills, 12 months ahead with an 80 % interval, per account that ships; and a
backtest of the revenue forecasts (MASE and sMAPE against a seasonal-naive baseline). When
the forecasting library fails for a run, the run still completes, without forecasts.
"""

import datetime
import logging
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .figures import FloatArray, MonthMatrix

log = logging.getLogger(__name__)
HORIZON = 12
LEVEL = 80


@dataclass
class AccountForecasts:
    revenue_next12: FloatArray
    series: dict[int, dict[str, Any]] = field(default_factory=dict)
    backtest: dict[str, Any] | None = None


def _months_after(last: datetime.date, n: int) -> list[str]:
    out = []
    year, month = last.year, last.month
    for _ in range(n):
        month += 1
        if month > 12:
            year, month = year + 1, 1
        out.append(f"{year:04d}-{month:02d}")
    return out


def _rounded(values: Any) -> list[float]:
    return [round(float(v), 2) if np.isfinite(v) else 0.0 for v in np.asarray(values, dtype=float)]


def forecast_accounts(
    x: MonthMatrix, rows: Sequence[int], last_month: datetime.date
) -> AccountForecasts:
    n = x.shape[0]
    out = AccountForecasts(revenue_next12=np.full(n, np.nan))
    if not rows:
        return out
    try:
        from .forecast import backtest, forecast_monthly
    except ImportError:  # the forecasting module is not there: runs go on without
        log.warning("kam.segmentation.forecast is not available; no forecasts")
        return out
    revenue: dict[Hashable, Any] = {i: x.revenue[i].astype(float) for i in rows}
    waybills: dict[Hashable, Any] = {i: x.waybills[i].astype(float) for i in rows}
    try:
        rev_fc = forecast_monthly(revenue, last_month=last_month, horizon=HORIZON, level=LEVEL)
        way_fc = forecast_monthly(waybills, last_month=last_month, horizon=HORIZON, level=LEVEL)
    except Exception:  # noqa: BLE001 - a failing forecast must not fail the run
        log.exception("forecasting failed")
        return out
    months = _months_after(last_month, HORIZON)
    for i in rows:
        r, w = rev_fc.get(i), way_fc.get(i)
        if r is None:
            continue
        mean = np.asarray(r.mean, dtype=float)
        out.revenue_next12[i] = float(np.nansum(np.clip(mean, 0, None)))
        out.series[i] = {
            "months": months,
            "revenue": {
                "mean": _rounded(np.clip(mean, 0, None)),
                "lo": _rounded(np.clip(r.lo, 0, None)),
                "hi": _rounded(np.clip(r.hi, 0, None)),
            },  # fmt: skip
        }
        if w is not None:
            out.series[i]["waybills"] = {
                "mean": _rounded(np.clip(w.mean, 0, None)), "lo": _rounded(np.clip(w.lo, 0, None)),
                "hi": _rounded(np.clip(w.hi, 0, None)),
            }  # fmt: skip
    try:
        result = backtest(revenue, last_month=last_month, holdout=6)
        out.backtest = {
            k: _plain(getattr(result, k))
            for k in ("mase", "smape", "naive_mase", "naive_smape", "n_series", "holdout")
            if hasattr(result, k)
        }
    except Exception:  # noqa: BLE001 - the backtest is a report, not a gate
        log.exception("backtest failed")
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return round(float(value), 4) if np.isfinite(value) else None
    if isinstance(value, int | np.integer):
        return int(value)
    return value
