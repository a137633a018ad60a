"""One options report: statistics, tables and series, assembled from a ``RunData``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from reports import tables
from reports.lean_statistics import PortfolioStatistics, portfolio_statistics
from reports.sources import RunData, Series
from reports.trades import TradeLedger, build_ledger
from utils.object_store_schema import EQUITY_HISTORY_LIMIT


@dataclass
class Report:
    title: str
    period: tuple[datetime, datetime] | None
    statistics: PortfolioStatistics
    trade_summary: dict[str, float]
    tables: dict[str, pd.DataFrame]
    equity: Series
    series: dict[str, Series]
    ledger: TradeLedger
    lean_statistics: dict[str, str] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _equity_for_statistics(data: RunData) -> tuple[Series, float | None]:
    """The longest equity series at hand, and the equity it starts from."""
    sampled = data.series.get("equity", [])
    equity = sampled if len(sampled) > len(data.equity) else data.equity
    start = data.start_equity
    if equity is data.equity and len(equity) >= EQUITY_HISTORY_LIMIT and equity:
        data.problem(f"the snapshot keeps the last {EQUITY_HISTORY_LIMIT} equity points only: statistics "
                     "start at the first of them")
        start = equity[0][1]
    return equity, start


def build_report(data: RunData, title: str = "Options bot report") -> Report:
    ledger = build_ledger(data.entries)
    for warning in ledger.warnings:
        data.problem(warning)
    equity, start = _equity_for_statistics(data)
    if start is None:
        data.problem("no starting equity (no snapshot parameters and no result statistics): ratios are 0")
    stats = portfolio_statistics(equity, start or 0.0, data.risk_free_rate)
    frames = {
        "P&L by exit reason": tables.pnl_by_exit_reason(ledger),
        "P&L by DTE at entry (closed trades)": tables.pnl_by_dte_bucket(ledger),
        "P&L by |delta| at entry (closed trades)": tables.pnl_by_delta_bucket(ledger),
        "P&L by month (closing fills)": tables.pnl_by_month(ledger),
        "Slippage vs mid by order type": tables.slippage_by_order_type(ledger),
        "Rolls (credit > 0, debit < 0)": tables.rolls_frame(ledger),
        "Fees by order purpose": tables.fees_by_purpose(ledger),
        "Trades": tables.trades_frame(ledger),
    }
    times = [t for t, _ in equity] or [e.timestamp for e in data.entries]
    return Report(title=title, period=(min(times), max(times)) if times else None, statistics=stats,
                  trade_summary=tables.trade_summary(ledger), tables=frames, equity=equity, series=data.series,
                  ledger=ledger, lean_statistics=data.lean_statistics, sources=data.sources,
                  problems=data.problems)
