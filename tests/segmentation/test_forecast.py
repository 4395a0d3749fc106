"""Monthly forecasts and their backtest, on synthetic series whose answer is known."""

import datetime

import numpy as np
import pytest

from kam.segmentation.forecast import (
    Forecast,
    backtest,
    forecast_monthly,
    forecast_months,
    seasonal_naive,
    spring_festival_share,
)

# November (11.11) and December (12.12) peaks, a summer lull: a shipper's year.
PATTERN = np.array([90, 70, 100, 100, 105, 110, 95, 95, 100, 105, 160, 130], dtype=float)


def _months(first: datetime.date, n: int) -> list[datetime.date]:
    index = first.year * 12 + first.month - 1
    return [datetime.date((index + i) // 12, (index + i) % 12 + 1, 1) for i in range(n)]


def _assert_sane(fc: Forecast, horizon: int = 12, nonnegative: bool = True) -> None:
    for arr in (fc.mean, fc.lo, fc.hi):
        assert arr.shape == (horizon,)
        assert np.all(np.isfinite(arr))
    assert np.all(fc.lo <= fc.mean + 1e-9)
    assert np.all(fc.mean <= fc.hi + 1e-9)
    if nonnegative:
        assert np.all(fc.lo >= 0)


def test_forecast_months_follow_the_last_month() -> None:
    assert forecast_months(datetime.date(2026, 11, 15), 3) == [
        datetime.date(2026, 12, 1),
        datetime.date(2027, 1, 1),
        datetime.date(2027, 2, 1),
    ]


def test_seasonal_series_keeps_its_11_11_peak() -> None:
    rng = np.random.default_rng(1)
    y = np.tile(PATTERN, 3) * 1000 + rng.normal(0, 500, 36)
    fc = forecast_monthly({"acme": y}, last_month=datetime.date(2026, 12, 1))["acme"]
    _assert_sane(fc)
    assert fc.model.startswith("ETS(A,Ad,A)")
    months = forecast_months(datetime.date(2026, 12, 1))
    assert months[int(np.argmax(fc.mean))].month == 11
    # Close to the pattern, and the 80 % interval covers most of the truth.
    truth = np.array([PATTERN[m.month - 1] * 1000 for m in months])
    assert np.mean(np.abs(fc.mean - truth) / truth) < 0.05
    assert np.mean((fc.lo <= truth) & (truth <= fc.hi)) >= 0.75


def test_spring_festival_dip_moves_with_the_lunar_calendar() -> None:
    """History 2020-2025 (Spring Festival late Jan / early Feb); 2026's is on Feb 17."""
    first, n = datetime.date(2020, 1, 1), 72
    d = np.array([spring_festival_share(m) for m in _months(first, n)])
    y = 1000.0 - 600.0 * d
    last = datetime.date(2025, 12, 1)
    with_sf = forecast_monthly({"a": y}, last_month=last)["a"]
    without = forecast_monthly({"a": y}, last_month=last, spring_festival=False)["a"]
    future = _months(datetime.date(2026, 1, 1), 12)
    truth = 1000.0 - 600.0 * np.array([spring_festival_share(m) for m in future])
    assert truth[0] == 1000.0  # January 2026 is untouched by the festival
    assert with_sf.spring_festival_effect == pytest.approx(-600.0, rel=0.05)
    assert "SF" in with_sf.model
    # January stays normal and February takes the dip ...
    assert abs(with_sf.mean[0] - truth[0]) < 30
    assert abs(with_sf.mean[1] - truth[1]) < 30
    assert int(np.argmin(with_sf.mean)) == 1
    # ... where a fixed monthly pattern puts part of it in January.
    jan_feb = slice(0, 2)
    assert (
        np.abs(with_sf.mean[jan_feb] - truth[jan_feb]).sum()
        < 0.5 * np.abs(without.mean[jan_feb] - truth[jan_feb]).sum()
    )


def test_spring_festival_share_splits_each_year() -> None:
    for year in (2019, 2024, 2025, 2026, 2027, 2035, 2050):
        shares = [spring_festival_share(datetime.date(year, m, 1)) for m in range(1, 13)]
        assert sum(shares) == pytest.approx(1.0)
        assert all(s == 0 for s in shares[3:])
    # 2024: Feb 10 (the whole window in February); 2023: Jan 22 (mostly January).
    assert spring_festival_share(datetime.date(2024, 2, 1)) == 1.0
    assert spring_festival_share(datetime.date(2023, 1, 1)) > 0.7
    # 2027 (Feb 6, after the chinese_calendar data): from the lunar new-year table.
    assert 0 < spring_festival_share(datetime.date(2027, 1, 1)) < 0.2


@pytest.mark.parametrize(
    "values",
    [
        [5.0],  # one month
        [0.0] * 30,  # no revenue at all
        [100.0, 0.0, 0.0, 120.0, 0.0, 90.0] * 5,  # gaps
        [100.0, -250.0, 80.0, 90.0, -10.0, 100.0] * 5,  # refunds larger than revenue
        [np.nan, 100.0, 110.0, np.nan, 120.0],  # missing months
        [],  # nothing yet
        [3.0, 4.0],  # two months
        list(range(1, 15)),  # 14 months: no seasonality yet
    ],
)
def test_awkward_series_get_finite_nonnegative_forecasts(values: list[float]) -> None:
    fc = forecast_monthly({"x": np.array(values)}, last_month=datetime.date(2026, 6, 1))["x"]
    _assert_sane(fc)


def test_short_series_use_a_non_seasonal_model_and_constant_ones_the_mean() -> None:
    out = forecast_monthly(
        {("code", 1): np.arange(1.0, 15.0), 7: np.full(30, 42.0), "one": np.array([5.0])},
        last_month=datetime.date(2026, 6, 1),
        horizon=6,
    )
    assert set(out) == {("code", 1), 7, "one"}
    assert out[("code", 1)].model == "ETS(A,Z,N)"
    assert out[("code", 1)].mean[0] > 14  # the trend goes on
    np.testing.assert_allclose(out[7].mean, 42.0)
    np.testing.assert_allclose(out[7].hi - out[7].lo, 0.0)
    np.testing.assert_allclose(out["one"].mean, 5.0)


def test_margin_forecasts_may_stay_negative() -> None:
    y = np.full(30, -50.0) + np.random.default_rng(0).normal(0, 5, 30)
    fc = forecast_monthly({"m": y}, last_month=datetime.date(2026, 6, 1), nonnegative=False)["m"]
    _assert_sane(fc, nonnegative=False)
    assert fc.mean.mean() < -30
    clipped = forecast_monthly({"m": y}, last_month=datetime.date(2026, 6, 1))["m"]
    np.testing.assert_allclose(clipped.mean, 0.0)


def test_wider_level_gives_wider_intervals() -> None:
    y = np.tile(PATTERN, 3) + np.random.default_rng(2).normal(0, 5, 36)
    last = datetime.date(2026, 6, 1)
    narrow = forecast_monthly({"a": y}, last_month=last, level=50)["a"]
    wide = forecast_monthly({"a": y}, last_month=last, level=95)["a"]
    assert np.all(wide.hi - wide.lo > narrow.hi - narrow.lo)


@pytest.mark.parametrize("kwargs", [{"horizon": 0}, {"level": 100}, {"level": 0}])
def test_forecast_refuses_bad_settings(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        forecast_monthly({"a": np.ones(5)}, last_month=datetime.date(2026, 1, 1), **kwargs)


# --------------------------------------------------------------------------- backtest


def test_seasonal_naive_repeats_last_year() -> None:
    y = np.arange(24.0)
    np.testing.assert_allclose(seasonal_naive(y, 3), [12.0, 13.0, 14.0])
    np.testing.assert_allclose(seasonal_naive(np.array([1.0, 2.0]), 3), [2.0, 2.0, 2.0])


def test_backtest_on_a_pure_seasonal_series_seasonal_naive_is_perfect() -> None:
    series = {i: np.tile(PATTERN * (i + 1), 4) for i in range(5)}
    bt = backtest(series, last_month=datetime.date(2026, 6, 1), holdout=6)
    assert bt.n_series == 5
    # Every year repeats exactly: the baseline makes no error; the MASE scale is zero
    # (no year-on-year change), so MASE is undefined for every series.
    assert bt.naive_smape == 0.0
    assert bt.n_mase == 0 and bt.mase is None and bt.naive_mase is None
    assert bt.smape is not None and bt.smape < 2.0  # ETS learns the pattern almost exactly


def test_backtest_on_a_trend_the_model_beats_seasonal_naive() -> None:
    # y = 100 + 10 t: last year's value is always 120 too low, so seasonal naive has
    # MASE exactly 1 (its in-sample error is the scale); the trend model is near 0.
    series = {"trend": 100.0 + 10.0 * np.arange(36)}
    bt = backtest(series, last_month=datetime.date(2026, 6, 1), holdout=6)
    assert bt.naive_mase == pytest.approx(1.0)
    assert bt.mase is not None and bt.mase < 0.2
    assert bt.per_series_mase["trend"] == pytest.approx(bt.mase)
    # sMAPE of the baseline by hand: 2*120 / (actual + actual - 120), averaged.
    actual = 100.0 + 10.0 * np.arange(30, 36)
    expected = 100 * np.mean(240.0 / (2 * actual - 120.0))
    assert bt.naive_smape == pytest.approx(expected)


def test_backtest_skips_short_series_and_counts_zero_over_zero_as_exact() -> None:
    series = {"short": np.ones(5), "zeros": np.zeros(20)}
    bt = backtest(series, last_month=datetime.date(2026, 6, 1), holdout=6)
    assert bt.n_series == 1
    assert bt.smape == 0.0 and bt.naive_smape == 0.0
    assert bt.mase is None  # zero scale
    empty = backtest({"short": np.ones(3)}, last_month=datetime.date(2026, 6, 1))
    assert empty.n_series == 0 and empty.mase is None and empty.smape is None


def test_backtest_refuses_an_empty_holdout() -> None:
    with pytest.raises(ValueError):
        backtest({"a": np.ones(30)}, last_month=datetime.date(2026, 6, 1), holdout=0)


def test_an_empty_portfolio_gives_no_forecasts() -> None:
    assert forecast_monthly({}, last_month=datetime.date(2026, 6, 1)) == {}


def test_young_accounts_borrow_the_portfolios_spring_festival_effect() -> None:
    first, n = datetime.date(2020, 1, 1), 72
    d = np.array([spring_festival_share(m) for m in _months(first, n)])
    rng = np.random.default_rng(4)
    series = {i: (1000.0 - 600.0 * d) * (i + 1) + rng.normal(0, 5, n) for i in range(5)}
    series["young"] = np.full(10, 500.0) + rng.normal(0, 5, 10)  # Mar-Dec 2025
    out = forecast_monthly(series, last_month=datetime.date(2025, 12, 1))
    young = out["young"]
    assert young.model == "ETS(A,Z,N)+SF"
    assert young.spring_festival_effect == pytest.approx(-300.0, rel=0.1)  # -0.6 x 500
    assert young.mean[1] < 0.85 * young.mean[0]  # February 2026 dips, January does not
    _assert_sane(young)
