"""The wheel's second half: after an assignment kept as shares (``assignment_action=hold``), the
entry rule writes covered calls instead of its usual entry.

While at least 100 long shares of the underlying are held, the next entry sells
``shares // 100`` calls, chosen by the usual target delta and DTE, among strikes at or above the
shares' cost basis per share (``covered_call_strike_ok``): a call assigned below the cost basis
would lock in a loss on the shares. With fewer than 100 shares, or ``assignment_action=close``,
the entry rule is unchanged. Pure: no LEAN, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from execution.positions.assignment import StockPosition
from execution.positions.entry_conditions import covered_call_strike_ok
from models.bot_config import BotConfig, OptionSide, Right
from models.market_data import ContractQuote

SHARES_PER_CONTRACT = 100  # a US equity option delivers 100 shares (the OCC standard contract)


@dataclass(frozen=True)
class CoveredCallPlan:
    contracts: int
    cost_basis: float
    config: BotConfig  # the entry rule's settings for the calls: right call, side sell, the contracts
    candidates: list[ContractQuote]  # calls at or above the cost basis


def covered_call_plan(config: BotConfig, stocks: Iterable[StockPosition],
                      candidates: Sequence[ContractQuote]) -> CoveredCallPlan | None:
    """The covered calls to write now, or None when the usual entry applies."""
    if config.assignment_action != "hold":
        return None
    held = [s for s in stocks if s.symbol == config.ticker and s.quantity >= SHARES_PER_CONTRACT]
    if not held:
        return None
    shares = sum(s.quantity for s in held)
    cost = sum(s.cost * s.quantity for s in held) / shares
    contracts = shares // SHARES_PER_CONTRACT
    calls = [q for q in candidates if q.right == Right.CALL and covered_call_strike_ok(q.strike, cost)]
    settings = replace(config, entry_right=Right.CALL, entry_side=OptionSide.SELL, entry_quantity=contracts,
                       entry_buying_power_pct=0.0)
    return CoveredCallPlan(contracts, cost, settings, calls)
