"""LEAN's backtest statistics, under LEAN's names and formats [Common/Statistics/
StatisticsBuilder.cs GetSummary, PortfolioStatistics.cs, Statistics.cs].

- The equity series is sampled once a calendar day (and at the start and the end); the daily
  performance list is the percentage change between the midnight samples, without day 0 and
  day 1 (PreprocessPerformanceValues). With fewer than two performance points LEAN leaves every
  ratio at 0 (a one-day backtest reports Net Profit 0 %), which is kept here.
- Portfolio Turnover is the average over the daily samples of that day's traded value over the
  portfolio value.
- Win/Loss Rate come from closed trades (FIFO per symbol, profit after fees; a trade wins when
  its profit is above 0: LEAN's TradeBuilder fallback when no security-specific rule applies).
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise

TRADING_DAYS_PER_YEAR = 252


@dataclass(frozen=True)
class FillRecord:
    time: datetime
    symbol: str
    quantity: float
    price: float
    multiplier: float
    fee: float
    exercise_itm: float | None = None  # an option's exercise/assignment fill: its in-the-money amount
    in_the_money: bool = False


def _pct(value: float, digits: int) -> str:
    """LEAN's decimal formatting: ``0%`` for zero, else the rounded value with its digits."""
    rounded = _round(value * 100, digits)
    return "0%" if rounded == 0 else f"{rounded:.{digits}f}%"


def _money(value: float) -> str:
    """LEAN's equity statistics: the decimal rounded to cents, trailing zeros dropped ("1000000",
    "952636.6"); ``:g`` would give "1e+06" and cut to six digits."""
    return f"{_round(value, 2):.2f}".rstrip("0").rstrip(".")


def _round(value: float, digits: int) -> float:
    """.NET Math.Round (banker's rounding on the decimal value)."""
    rounded = round(value, digits)
    return 0.0 if rounded == 0 else rounded


def _is_win(fill: FillRecord, profit: float) -> bool:
    """Extensions.IsWin: an option closed by exercise/assignment wins against its ITM amount."""
    if fill.exercise_itm is None:
        return profit > 0
    if fill.quantity < 0:  # the exercise sells a long option: a win only if the loss is under the ITM amount
        return fill.in_the_money and abs(profit) < fill.exercise_itm
    return not fill.in_the_money or abs(profit) > fill.exercise_itm


def closed_trade_profits(fills: list[FillRecord]) -> list[tuple[float, bool]]:
    """(profit, is win) of every closed trade, FIFO per symbol (entry and exit fees included)."""
    open_lots: dict[str, deque[list[float]]] = defaultdict(deque)  # [quantity, price, fee per unit]
    profits: list[tuple[float, bool]] = []
    for fill in fills:
        lots = open_lots[fill.symbol]
        remaining = fill.quantity
        fee_per_unit = fill.fee / abs(fill.quantity) if fill.quantity else 0.0
        while remaining and lots and (lots[0][0] > 0) != (remaining > 0):
            lot = lots[0]
            closed = min(abs(lot[0]), abs(remaining))
            sign = 1.0 if lot[0] > 0 else -1.0
            profit = (fill.price - lot[1]) * closed * sign * fill.multiplier
            net = profit - closed * (lot[2] + fee_per_unit)
            profits.append((net, _is_win(fill, net)))
            lot[0] -= sign * closed
            remaining += sign * closed
            if lot[0] == 0:
                lots.popleft()
        if remaining:
            lots.append([remaining, fill.price, fee_per_unit])
    return profits


def daily_points(start: date, end: date, start_equity: float,
                 closes: dict[date, float]) -> list[tuple[datetime, float]]:
    """LEAN's daily equity samples: the start, then every calendar midnight up to the one after
    the last day, each holding the value at the end of the day before (carried over closed days)."""
    points = [(datetime.combine(start, datetime.min.time()), start_equity)]
    value, day = start_equity, start
    while day <= end:
        value = closes.get(day, value)
        points.append((datetime.combine(day + timedelta(days=1), datetime.min.time()), value))
        day += timedelta(days=1)
    return points


def daily_turnover(start: date, end: date, fills: list[FillRecord], closes: dict[date, float]) -> list[float]:
    """Per calendar day: the value traded that day over the portfolio value at its end."""
    traded: dict[date, float] = defaultdict(float)
    for fill in fills:
        traded[fill.time.date()] += abs(fill.quantity * fill.price * fill.multiplier)
    out, value, day = [], 0.0, start
    while day <= end:
        value = closes.get(day, value)
        out.append(traded.get(day, 0.0) / value if value else 0.0)
        day += timedelta(days=1)
    return out


def lean_statistics(start_equity: float, equity: list[tuple[datetime, float]], fills: list[FillRecord],
                    total_orders: int, total_fees: float, turnover: list[float],
                    risk_free_rate: Callable[[date], float]) -> dict[str, str]:
    end_equity = equity[-1][1] if equity else start_equity
    values = [v for _, v in equity]
    # the daily performance samples (midnights, not the final point), day 0 being 0; LEAN drops
    # day 0 and day 1 (StatisticsBuilder.PreprocessPerformanceValues)
    daily = [0.0] + [(b - a) / a if a else 0.0 for a, b in pairwise(values[:-1])]
    performance = daily[2:]
    stats = {
        "Total Orders": str(total_orders), "Average Win": "0%", "Average Loss": "0%",
        "Compounding Annual Return": "0%", "Drawdown": "0%", "Expectancy": "0",
        "Start Equity": _money(start_equity), "End Equity": _money(end_equity),
        "Net Profit": "0%", "Sharpe Ratio": "0", "Loss Rate": "0%", "Win Rate": "0%",
        "Profit-Loss Ratio": "0", "Total Fees": f"${total_fees:.2f}",
        "Portfolio Turnover": _pct(sum(turnover) / len(turnover) if turnover else 0.0, 2),
    }
    if start_equity == 0 or len(performance) < 2:
        return stats  # PortfolioStatistics returns early: every ratio stays 0
    profits = closed_trade_profits(fills)
    wins = [p for p, win in profits if win]
    losses = [p for p, win in profits if not win]
    capital, win_rates, loss_rates = start_equity, [], []
    for p, _ in profits:  # average win/loss by the sign of the profit (PortfolioStatistics)
        (win_rates if p > 0 else loss_rates).append(p / capital)
        capital += p
    average_win = sum(win_rates) / len(win_rates) if win_rates else 0.0
    average_loss = sum(loss_rates) / len(loss_rates) if loss_rates else 0.0
    ratio = average_win / abs(average_loss) if average_loss else 0.0
    trades = len(wins) + len(losses)
    win_rate = len(wins) / trades if trades else 0.0
    loss_rate = len(losses) / trades if trades else 0.0
    years = (equity[-1][0] - equity[0][0]).days / 365
    car = (end_equity / start_equity) ** (1 / years) - 1 if years else 0.0
    mean = sum(performance) / len(performance)
    variance = sum((p - mean) ** 2 for p in performance) / (len(performance) - 1)
    variance = 0.0 if variance < 1e-30 else variance  # Statistics.AnnualVariance: NaN or zero -> 0
    annual_std = math.sqrt(variance * TRADING_DAYS_PER_YEAR)
    annual_performance = (mean + 1) ** TRADING_DAYS_PER_YEAR - 1
    rate = sum(risk_free_rate(d.date()) for d, _ in equity) / len(equity)
    sharpe = (annual_performance - rate) / annual_std if annual_std else 0.0
    stats.update({
        "Average Win": _pct(average_win, 2), "Average Loss": _pct(average_loss, 2),
        "Compounding Annual Return": _pct(car if math.isfinite(car) else 0.0, 3),
        "Drawdown": _pct(max_drawdown(values), 3),
        "Expectancy": f"{_round(win_rate * ratio - loss_rate, 3):g}",
        "Net Profit": _pct(end_equity / start_equity - 1, 3), "Sharpe Ratio": f"{_round(sharpe, 3):g}",
        "Loss Rate": _pct(loss_rate, 0), "Win Rate": _pct(win_rate, 0), "Profit-Loss Ratio": f"{_round(ratio, 2):g}",
    })
    return stats


def max_drawdown(values: list[float]) -> float:
    """Statistics.CalculateDrawdownMetrics: the largest fall from a peak, rounded to 3 places."""
    peak, worst = values[0] if values else 0.0, 0.0
    for value in values:
        peak = max(peak, value)
        if peak:
            worst = max(worst, (peak - value) / peak)
    return round(worst, 3)
