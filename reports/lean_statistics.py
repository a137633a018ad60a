"""Portfolio statistics by LEAN's definitions (QuantConnect/Lean ``Common/Statistics/``).

- ``Statistics.cs``: ``CompoundingAnnualPerformance`` = (final/start)^(1/years) - 1;
  ``AnnualPerformance`` = (mean daily return + 1)^tradingDaysPerYear - 1; ``AnnualVariance`` =
  sample variance of the daily returns x tradingDaysPerYear (0 when the variance is NaN or 0);
  ``AnnualDownsideVariance`` = the same over the returns below 0 only; ``SharpeRatio`` =
  (annual performance - risk-free rate) / deviation; ``CalculateDrawdownMetrics`` = the largest
  fall from a running peak, |min(equity/peak - 1)|, and the longest peak-to-recovery time in days.
- ``PortfolioStatistics.cs``: years = (last - first equity time) in days / 365; Sharpe and Sortino
  are 0 when their deviation is 0; nothing but start/end equity is computed with fewer than 2
  daily returns.
- ``Engine/Results/BaseResultsHandler.cs``: the daily performance is the change of the portfolio
  value from one midnight sample to the next (here: from one day's last point to the next day's,
  the first from the starting equity), 252 trading days per year by default; the equity series the
  drawdown and the years are measured on is the sampled "Strategy Equity" chart, which starts with
  the starting equity (here: every point given, after the starting equity at midnight UTC of the
  first day). LEAN rounds the drawdown to 3 decimals; here it is not rounded.

LEAN has no Calmar ratio; here it is the usual CAGR / maximum drawdown (0 without a drawdown).
LEAN's risk-free rate comes from its interest-rate model; here it is a constant the caller gives
(LEAN's ``ConstantRiskFreeRateInterestRateModel``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

TRADING_DAYS_PER_YEAR = 252


@dataclass(frozen=True)
class PortfolioStatistics:
    start_equity: float
    end_equity: float
    net_profit: float  # fraction
    compounding_annual_return: float  # CAGR, fraction
    drawdown: float  # maximum drawdown, fraction (positive)
    drawdown_recovery_days: int
    sharpe_ratio: float
    sortino_ratio: float
    calmar_ratio: float
    annual_standard_deviation: float
    annual_variance: float
    daily_returns: int  # how many daily returns the ratios rest on

    def as_lean_names(self) -> dict[str, str]:
        """LEAN's statistic names and formatting (``StatisticsBuilder.GetSummary``)."""
        return {
            "Start Equity": f"{self.start_equity:.2f}",
            "End Equity": f"{self.end_equity:.2f}",
            "Net Profit": f"{self.net_profit * 100:.3f}%",
            "Compounding Annual Return": f"{self.compounding_annual_return * 100:.3f}%",
            "Drawdown": f"{self.drawdown * 100:.3f}%",
            "Drawdown Recovery": str(self.drawdown_recovery_days),
            "Sharpe Ratio": f"{self.sharpe_ratio:.3f}",
            "Sortino Ratio": f"{self.sortino_ratio:.3f}",
            "Calmar Ratio": f"{self.calmar_ratio:.3f}",
            "Annual Standard Deviation": f"{self.annual_standard_deviation:.3f}",
            "Annual Variance": f"{self.annual_variance:.3f}",
        }


def _sample_variance(values: Sequence[float]) -> float:
    n = len(values)
    if n < 2:
        return math.nan  # MathNet's Variance of fewer than two values
    mean = sum(values) / n
    return sum((v - mean) ** 2 for v in values) / (n - 1)


def annual_variance(returns: Sequence[float], days_per_year: int = TRADING_DAYS_PER_YEAR) -> float:
    variance = _sample_variance(returns)
    return 0.0 if math.isnan(variance) or variance == 0 else variance * days_per_year


def annual_performance(returns: Sequence[float], days_per_year: int = TRADING_DAYS_PER_YEAR) -> float:
    return (sum(returns) / len(returns) + 1.0) ** days_per_year - 1.0


def compounding_annual_performance(start: float, final: float, years: float) -> float:
    if years == 0 or start == 0:
        return 0.0
    try:
        result = (final / start) ** (1.0 / years) - 1.0
    except (OverflowError, ZeroDivisionError):
        return 0.0
    return 0.0 if isinstance(result, complex) or not math.isfinite(result) else result


def drawdown_metrics(equity: Sequence[tuple[datetime, float]]) -> tuple[float, int]:
    """(maximum drawdown as a positive fraction, longest recovery in whole days)."""
    if len(equity) < 2:
        return 0.0, 0
    peak_time, peak = equity[0]
    worst, longest = 0.0, 0.0
    started: datetime | None = None
    for moment, value in equity:
        if value >= peak:
            if started is not None:
                longest = max(longest, (moment - started).total_seconds() / 86400)
                started = None
            peak_time, peak = moment, value
        current = value / peak - 1.0 if peak else 0.0
        if current < 0:
            worst = min(worst, current)
            if started is None:
                started = peak_time
    return abs(worst), int(longest)


def daily_equity(points: Sequence[tuple[datetime, float]]) -> list[tuple[datetime, float]]:
    """The last equity of each calendar day, in time order."""
    by_day: dict[object, tuple[datetime, float]] = {}
    for moment, value in sorted(points, key=lambda p: p[0]):
        by_day[moment.date()] = (moment, value)
    return list(by_day.values())


def daily_returns(daily: Sequence[tuple[datetime, float]], start_equity: float) -> list[float]:
    values = [start_equity, *(v for _, v in daily)]
    return [values[i] / values[i - 1] - 1.0 for i in range(1, len(values)) if values[i - 1] != 0]


def portfolio_statistics(equity: Sequence[tuple[datetime, float]], start_equity: float,
                         risk_free_rate: float = 0.0,
                         days_per_year: int = TRADING_DAYS_PER_YEAR) -> PortfolioStatistics:
    """LEAN's portfolio statistics of an equity curve (any sampling; reduced to daily closes)."""
    clean = [(t, float(v)) for t, v in equity if isinstance(v, int | float) and math.isfinite(v)]
    daily = daily_equity(clean)
    end = daily[-1][1] if daily else start_equity
    returns = daily_returns(daily, start_equity)
    if start_equity == 0 or len(returns) < 2:
        return PortfolioStatistics(start_equity, end, 0.0, 0.0, 0.0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, len(returns))
    first = daily[0][0]
    curve = [(first.replace(hour=0, minute=0, second=0, microsecond=0), start_equity),
             *sorted(clean, key=lambda p: p[0])]
    years = (curve[-1][0] - curve[0][0]).total_seconds() / 86400 / 365
    cagr = compounding_annual_performance(start_equity, end, years)
    variance = annual_variance(returns, days_per_year)
    deviation = math.sqrt(variance)
    performance = annual_performance(returns, days_per_year)
    sharpe = 0.0 if deviation == 0 else (performance - risk_free_rate) / deviation
    downside = math.sqrt(annual_variance([r for r in returns if r < 0], days_per_year))
    sortino = 0.0 if downside == 0 else (performance - risk_free_rate) / downside
    drawdown, recovery = drawdown_metrics(curve)
    calmar = 0.0 if drawdown == 0 else cagr / drawdown
    return PortfolioStatistics(start_equity, end, end / start_equity - 1.0, cagr, drawdown, recovery, sharpe,
                               sortino, calmar, deviation, variance, len(returns))
