"""The options report's tables (pandas DataFrames) from a ``TradeLedger``.

Definitions (per group of trades or exits):

- win rate: share of rows with P&L > 0;
- profit factor: sum of winning P&L / |sum of losing P&L| (``inf`` with no loss, 0 with no win);
- expectancy: mean P&L per row, USD (freqtrade's "expectancy"; LEAN's ratio form is in the summary).

Trades are bucketed by what they were at entry: days to expiry and |delta| (LEAN's delta when the
order was placed; "n/a" when LEAN had none yet). P&L by exit reason counts every closing fill
(each profit-ladder level separately); a trade's P&L is net of all its fees.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from reports.trades import TradeLedger

DTE_BUCKETS: tuple[tuple[int, int], ...] = ((0, 7), (8, 21), (22, 35), (36, 60), (61, 10_000))
DELTA_BUCKETS: tuple[tuple[float, float], ...] = ((0.0, 0.10), (0.10, 0.20), (0.20, 0.30), (0.30, 0.40),
                                                  (0.40, 0.50), (0.50, 1.01))


def dte_bucket(dte: int | None) -> str:
    if dte is None:
        return "n/a"
    for low, high in DTE_BUCKETS:
        if low <= dte <= high:
            return f"{low}-{high}" if high < 10_000 else f"{low}+"
    return "n/a"


def delta_bucket(delta: float | None) -> str:
    if delta is None or not math.isfinite(delta):
        return "n/a"
    size = abs(delta)
    for low, high in DELTA_BUCKETS:
        if low <= size < high:
            return f"{low:.2f}-{min(high, 1.0):.2f}"
    return "n/a"


def profit_factor(pnls: Sequence[float]) -> float:
    wins = sum(p for p in pnls if p > 0)
    losses = -sum(p for p in pnls if p < 0)
    if losses == 0:
        return math.inf if wins > 0 else 0.0
    return wins / losses


def summarise(frame: pd.DataFrame, by: str, pnl: str = "pnl") -> pd.DataFrame:
    """count, P&L, win rate, profit factor and expectancy of ``frame`` grouped by ``by``."""
    columns = ["count", "pnl", "win_rate", "profit_factor", "expectancy"]
    if frame.empty:
        return pd.DataFrame(columns=columns).rename_axis(by)
    rows = {}
    for key, group in frame.groupby(by, sort=True):
        values = [float(v) for v in group[pnl]]
        rows[key] = {"count": len(values), "pnl": sum(values),
                     "win_rate": sum(1 for v in values if v > 0) / len(values),
                     "profit_factor": profit_factor(values), "expectancy": sum(values) / len(values)}
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns).rename_axis(by)


def trades_frame(ledger: TradeLedger) -> pd.DataFrame:
    rows = [{"trade": t.id, "symbol": t.symbol, "side": t.side, "origin": t.origin, "opened_at": t.opened_at,
             "closed_at": t.closed_at, "contracts": t.contracts, "entry_price": t.entry_price,
             "dte_at_entry": t.dte_at_entry, "delta_at_entry": t.delta_at_entry,
             "dte_bucket": dte_bucket(t.dte_at_entry), "delta_bucket": delta_bucket(t.delta_at_entry),
             "exit_reason": t.exit_reason if t.is_closed else "open", "gross_pnl": t.gross_pnl, "fees": t.fees,
             "pnl": t.net_pnl, "closed": t.is_closed} for t in ledger.trades]
    return pd.DataFrame(rows)


def exits_frame(ledger: TradeLedger) -> pd.DataFrame:
    rows = [{"trade": e.trade_id, "symbol": e.symbol, "time": e.time, "reason": e.reason, "quantity": e.quantity,
             "price": e.price, "pnl": e.pnl, "fee": e.fee} for t in ledger.trades for e in t.exits]
    return pd.DataFrame(rows, columns=["trade", "symbol", "time", "reason", "quantity", "price", "pnl", "fee"])


def pnl_by_exit_reason(ledger: TradeLedger) -> pd.DataFrame:
    exits = exits_frame(ledger)
    table = summarise(exits, "reason")
    if not exits.empty:
        table["contracts"] = exits.groupby("reason")["quantity"].sum()
        table["fees"] = exits.groupby("reason")["fee"].sum()
    return table


def pnl_by_month(ledger: TradeLedger) -> pd.DataFrame:
    """Closing fills by the month they happened in (UTC), gross of fees."""
    exits = exits_frame(ledger)
    exits["month"] = [f"{t:%Y-%m}" for t in exits["time"]]
    return summarise(exits, "month")


def closed_trades(ledger: TradeLedger) -> pd.DataFrame:
    trades = trades_frame(ledger)
    return trades[trades["closed"]] if not trades.empty else trades


def pnl_by_dte_bucket(ledger: TradeLedger) -> pd.DataFrame:
    return summarise(closed_trades(ledger), "dte_bucket")


def pnl_by_delta_bucket(ledger: TradeLedger) -> pd.DataFrame:
    return summarise(closed_trades(ledger), "delta_bucket")


def slippage_by_order_type(ledger: TradeLedger) -> pd.DataFrame:
    """Slippage against the mid at order time, per order type and purpose (fills with a measure)."""
    rows = [{"order_type": f.order_type, "purpose": f.purpose, "slippage_pct": f.slippage_pct,
             "slippage_usd": f.slippage_usd, "contracts": abs(f.quantity)}
            for f in ledger.fills if f.slippage_usd is not None]
    columns = ["fills", "contracts", "mean_slippage_pct", "slippage_usd"]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows)
    grouped = frame.groupby(["order_type", "purpose"])
    return pd.DataFrame({"fills": grouped.size(), "contracts": grouped["contracts"].sum(),
                         "mean_slippage_pct": grouped["slippage_pct"].mean(),
                         "slippage_usd": grouped["slippage_usd"].sum()})


def rolls_frame(ledger: TradeLedger) -> pd.DataFrame:
    columns = ["roll", "time", "from", "to", "expected_credit", "actual_credit", "completed"]
    return pd.DataFrame([[r.roll_id, r.time, r.from_symbol, r.to_symbol, r.expected_credit, r.actual_credit,
                          r.completed] for r in ledger.rolls], columns=columns)


def fees_by_purpose(ledger: TradeLedger) -> pd.DataFrame:
    frame = pd.DataFrame([{"purpose": f.purpose, "fee": f.fee} for f in ledger.fills], columns=["purpose", "fee"])
    return frame.groupby("purpose").agg(fills=("fee", "size"), fees=("fee", "sum"))


def trade_summary(ledger: TradeLedger) -> dict[str, float]:
    closed = closed_trades(ledger)
    pnls = [float(v) for v in closed["pnl"]] if not closed.empty else []
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p <= 0]
    win_rate = len(wins) / len(pnls) if pnls else 0.0
    avg_win = sum(wins) / len(wins) if wins else 0.0
    avg_loss = sum(losses) / len(losses) if losses else 0.0
    ratio = avg_win / abs(avg_loss) if avg_loss else 0.0
    return {
        "trades": len(ledger.trades), "closed trades": len(pnls), "open trades": len(ledger.trades) - len(pnls),
        "net P&L of closed trades": sum(pnls), "win rate": win_rate, "profit factor": profit_factor(pnls),
        "expectancy (USD per trade)": sum(pnls) / len(pnls) if pnls else 0.0,
        # LEAN's Expectancy: WinRate x ProfitLossRatio - LossRate (PortfolioStatistics.cs, USD here)
        "expectancy (LEAN ratio)": win_rate * ratio - (1.0 - win_rate) if pnls else 0.0,
        "assignments": sum(1 for f in ledger.fills if f.purpose == "assignment"),
        "expired": sum(1 for f in ledger.fills if f.purpose == "expiry"),
        "rolls": len(ledger.rolls), "roll net credit": sum(r.actual_credit for r in ledger.rolls),
        "fees": sum(f.fee for f in ledger.fills),
        "slippage vs mid (USD)": sum(f.slippage_usd or 0.0 for f in ledger.fills),
    }
