"""reports/lean_statistics.py follows LEAN's definitions: QuantConnect/Lean
``Common/Statistics/Statistics.cs`` (CompoundingAnnualPerformance, AnnualPerformance,
AnnualVariance with MathNet's sample variance, AnnualDownsideVariance over returns < 0,
SharpeRatio, CalculateDrawdownMetrics) and ``Common/Statistics/PortfolioStatistics.cs`` (years =
days / 365 between the first and last equity point; Sharpe/Sortino 0 without deviation; nothing
with fewer than 2 returns); daily performance from midnight to midnight and the equity curve
starting at the starting equity as in ``Engine/Results/BaseResultsHandler.cs``. Every expected
number is worked out by hand below."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from reports.lean_statistics import drawdown_metrics, portfolio_statistics


def day(n: int, hour: int = 21) -> datetime:
    return datetime(2016, 1, n, hour, tzinfo=UTC)


def test_ratios_of_a_three_day_curve_match_leans_formulas():
    # start 100; closes 110, 99, 121 (intraday points before the close must be ignored)
    equity = [(day(4, 15), 105.0), (day(4), 110.0), (day(5), 99.0), (day(6, 14), 130.0), (day(6), 121.0)]
    returns = [0.10, -0.10, 121 / 99 - 1]
    mean = sum(returns) / 3
    sample_var = sum((r - mean) ** 2 for r in returns) / 2
    annual_var = sample_var * 252
    annual_perf = (mean + 1) ** 252 - 1
    rf = 0.01

    stats = portfolio_statistics(equity, 100.0, risk_free_rate=rf)

    assert stats.daily_returns == 3
    assert stats.annual_variance == pytest.approx(annual_var)
    assert stats.sharpe_ratio == pytest.approx((annual_perf - rf) / math.sqrt(annual_var))
    # downside: the one return below 0 -> fewer than 2 values -> variance NaN -> 0 -> Sortino 0 (LEAN)
    assert stats.sortino_ratio == 0.0
    assert stats.drawdown == pytest.approx(0.10)  # 110 -> 99 (130 -> 121 intraday is only 6.9 %)
    assert stats.drawdown_recovery_days == 1  # peak 4th 21:00, above it 6th 14:00: 41 hours, whole days
    years = (2 + 21 / 24) / 365  # from the starting equity (4th, midnight) to the last point (6th, 21:00)
    assert stats.compounding_annual_return == pytest.approx(1.21 ** (1 / years) - 1)
    assert stats.calmar_ratio == pytest.approx(stats.compounding_annual_return / 0.10)
    assert stats.net_profit == pytest.approx(0.21)


def test_sortino_uses_only_the_losing_days():
    closes = [99.0, 100.0, 97.0, 98.0]  # returns -1 %, +1.0101 %, -3 %, +1.0309 %
    equity = [(day(4 + i), v) for i, v in enumerate(closes)]
    values = [100.0, *closes]
    returns = [values[i] / values[i - 1] - 1 for i in range(1, 5)]
    down = [r for r in returns if r < 0]
    down_mean = sum(down) / 2
    down_var = sum((r - down_mean) ** 2 for r in down) / 1 * 252
    perf = (sum(returns) / 4 + 1) ** 252 - 1

    stats = portfolio_statistics(equity, 100.0)

    assert stats.sortino_ratio == pytest.approx(perf / math.sqrt(down_var))
    assert stats.drawdown == pytest.approx(0.03)  # from 100 (the start, and again on the 5th) to 97


def test_fewer_than_two_returns_give_zero_ratios_not_an_error():
    stats = portfolio_statistics([(day(4), 101.0)], 100.0)
    assert (stats.sharpe_ratio, stats.sortino_ratio, stats.compounding_annual_return) == (0.0, 0.0, 0.0)
    assert stats.end_equity == 101.0


def test_nan_points_are_dropped():
    equity = [(day(4), 110.0), (day(5), math.nan), (day(6), 99.0), (day(7), 121.0)]
    stats = portfolio_statistics(equity, 100.0)
    assert stats.daily_returns == 3 and math.isfinite(stats.sharpe_ratio)


def test_drawdown_is_measured_from_the_running_peak():
    curve = [(day(4), 100.0), (day(5), 120.0), (day(6), 90.0), (day(7), 125.0), (day(8), 100.0)]
    worst, recovery = drawdown_metrics(curve)
    assert worst == pytest.approx(0.25)  # 120 -> 90
    assert recovery == 2  # from the 5th's peak to the 7th


def test_drawdown_counts_intraday_points_and_the_starting_equity():
    # closes only rise (100 -> 101 -> 102) but the 4th dipped to 90 at 15:00: LEAN's sampled equity sees it
    equity = [(day(4, 15), 90.0), (day(4), 101.0), (day(5), 102.0)]
    stats = portfolio_statistics(equity, 100.0)
    assert stats.drawdown == pytest.approx(0.10)
    assert stats.daily_returns == 2 and stats.net_profit == pytest.approx(0.02)
