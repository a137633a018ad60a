"""Conditions on the entry rule (issue 19), after thetagang's ``write_when`` rules, as pure functions
plus one small gate that caches the day's history and logs a refusal once per change.

- Day colour per right (``entry_put_day``, ``entry_call_day``: any | red | green): ``red`` writes
  only when the underlying is not above the previous close, ``green`` only when it is not below it
  (a flat day passes both, as in thetagang's ``is_ok_to_write_puts``/``is_ok_to_write_calls``, which
  skip only when the price is strictly on the wrong side of ``get_close_price``).
- Minimum move (thetagang ``PortfolioManager.get_write_threshold``): |price - previous close| must be
  at least ``entry_min_move_sigma`` x previous close x (exp(sigma) - 1), sigma the sample standard
  deviation (ddof 1) of the daily log returns of the last ``entry_sigma_days`` closes; when the sigma
  knob is 0, at least ``entry_min_move_pct`` x previous close. Both 0: no minimum.
- Blackout dates (``entry_blackout_dates``): no entry on those exchange dates (earnings, events).
- Sizing (``entry_buying_power_pct`` > 0): contracts = floor(pct x equity / capital per contract),
  where the capital is spot x multiplier for a written option (thetagang's buying-power sizing,
  ``get_buying_power`` = net liquidation x margin usage) and the ask x multiplier for a bought one;
  then capped by the risk limits so the gateway will not refuse it for size: order value (ask x
  multiplier each) <= ``risk_max_order_value`` and position value <= ``risk_max_position_pct`` x
  equity; and by ``entry_quantity``. 0 contracts: no entry (logged). With the knob at 0 the size
  stays ``entry_quantity`` and the gateway refuses (and audits) an entry that breaks a limit.
- Covered calls after an assignment held as shares: ``covered_call_strike_ok`` keeps the strike at
  or above the shares' cost basis (thetagang ``roll_positions``: the call strike limit is the
  stock's ``averageCost``). Issue 13's ``assignment_action=hold`` is not in this branch yet, so the
  rule is a pure function with tests, to be wired where the held shares are known.

History comes from LEAN: the adapter gives the gate ``closes_of(history(symbol, n,
Resolution.DAILY))``; when a condition needs it and none is there, the entry is refused.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from execution.positions.entry_rule import EntryDecision
from models.bot_config import BotConfig, OptionSide, Right
from models.market_data import ContractQuote
from models.risk_limits import RiskLimits
from utils.logging_config import get_logger

logger = get_logger(__name__)

DailyCloses = Callable[[int], list[float]]  # n -> the last n daily closes, oldest first (the last: previous close)


def closes_of(frame: Any) -> list[float]:
    """The ``close`` column of LEAN's ``history(symbol, n, Resolution.DAILY)`` DataFrame (indexed by
    symbol and time, oldest first), positive finite values only; [] for an empty or missing frame."""
    if frame is None or getattr(frame, "empty", True) or "close" not in frame.columns:
        logger.warning("DAILY_HISTORY_EMPTY", extra={"rows": 0 if frame is None else len(frame)})
        return []
    closes = [float(value) for value in frame["close"].tolist()]
    return [c for c in closes if math.isfinite(c) and c > 0]


@dataclass(frozen=True)
class EntryCheck:
    allowed: bool
    reason: str


def day_colour_allows(mode: str, price: float, previous_close: float) -> bool:
    """``red``: not above the previous close; ``green``: not below it; ``any``: always."""
    if mode == "red":
        return not price > previous_close
    if mode == "green":
        return not price < previous_close
    return True


def daily_sigma(closes: Sequence[float]) -> float:
    """Sample standard deviation (ddof 1) of the daily log returns; NaN with fewer than 3 closes."""
    if len(closes) < 3 or any(not (c > 0 and math.isfinite(c)) for c in closes):
        return math.nan
    returns = [math.log(b / a) for a, b in itertools.pairwise(closes)]
    mean = sum(returns) / len(returns)
    return math.sqrt(sum((r - mean) ** 2 for r in returns) / (len(returns) - 1))


def move_threshold(previous_close: float, closes: Sequence[float], sigma_count: float, pct: float) -> float:
    """The least |price - previous close| (USD) an entry needs (thetagang's write threshold)."""
    if sigma_count > 0:
        return previous_close * (math.exp(daily_sigma(closes)) - 1.0) * sigma_count
    return pct * previous_close


def needs_history(config: BotConfig) -> bool:
    right_mode = config.entry_put_day if config.entry_right == Right.PUT else config.entry_call_day
    return right_mode != "any" or config.entry_min_move_pct > 0 or config.entry_min_move_sigma > 0


def check_entry(config: BotConfig, today: date, price: float, closes: Sequence[float] | None) -> EntryCheck:
    """Whether the entry rule may open a position now (pure; ``closes`` oldest first, the last
    being the previous session's close; None when no history was needed or none is there)."""
    if today in config.entry_blackout_dates:
        return EntryCheck(False, f"{today.isoformat()} is in entry_blackout_dates")
    if not needs_history(config):
        return EntryCheck(True, "no entry condition set")
    if not closes:
        return EntryCheck(False, "no daily history to read the previous close")
    previous = closes[-1]
    right = config.entry_right
    mode = config.entry_put_day if right == Right.PUT else config.entry_call_day
    if not day_colour_allows(mode, price, previous):
        colour = "green" if price > previous else "red"
        return EntryCheck(False, f"a {colour} day (price {price:.2f} vs close {previous:.2f}) and "
                                 f"entry_{right.value}_day {mode}")
    threshold = move_threshold(previous, closes, config.entry_min_move_sigma, config.entry_min_move_pct)
    if math.isnan(threshold):
        return EntryCheck(False, f"too little history for entry_min_move_sigma ({len(closes)} closes)")
    move = abs(price - previous)
    if threshold > 0 and move < threshold:
        return EntryCheck(False, f"move {move:.2f} below the threshold {threshold:.2f}")
    return EntryCheck(True, f"move {move:.2f} >= threshold {threshold:.2f}, day colour allowed")


def size_entry(config: BotConfig, limits: RiskLimits, equity: float, spot: float, quote: ContractQuote,
               multiplier: float) -> int:
    """Contracts for an entry (unsigned): ``entry_quantity``; or, with ``entry_buying_power_pct``,
    that share of equity, never above ``entry_quantity`` and always capped by the risk limits on
    order value and position size (so a sized entry is not refused for its size)."""
    unit = quote.ask * multiplier
    if not (unit > 0 and math.isfinite(unit) and equity > 0):
        return 0
    if config.entry_buying_power_pct <= 0:
        return config.entry_quantity  # fixed size: the gateway refuses (and audits) what breaks a limit
    capital = spot * multiplier if config.entry_side == OptionSide.SELL else unit
    wanted = min(config.entry_quantity, math.floor(config.entry_buying_power_pct * equity / capital))
    by_order = math.floor(limits.max_single_order_value / unit)
    by_position = math.floor(limits.max_position_size_pct * equity / unit)
    return max(0, min(wanted, by_order, by_position))


def sized(decision: EntryDecision, config: BotConfig, limits: RiskLimits, equity: float, spot: float,
          multiplier: float) -> EntryDecision | None:
    """``decision`` with the quantity of ``size_entry`` (sign kept); None (logged) when that is 0."""
    count = size_entry(config, limits, equity, spot, decision.quote, multiplier)
    if count <= 0:
        logger.info("ENTRY_SIZED_TO_ZERO", extra={"symbol": decision.quote.symbol, "equity": equity,
                                                   "buying_power_pct": config.entry_buying_power_pct})
        return None
    return replace(decision, quantity=count if decision.quantity > 0 else -count)


def covered_call_strike_ok(strike: float, cost_basis: float | None) -> bool:
    """A call written against held shares: strike at or above the shares' cost basis per share."""
    return cost_basis is None or strike >= cost_basis - 1e-9


class EntryGate:
    """Reads the day's closes once (through ``history``), checks the conditions each time the entry
    rule would act, and logs ENTRY_CONDITION_BLOCKED when the reason changes (not every minute)."""

    def __init__(self, config: BotConfig, history: DailyCloses | None) -> None:
        self.config = config
        self.history = history
        self._day: date | None = None
        self._closes: list[float] | None = None
        self._last_reason = ""

    def allows(self, today: date, price: float) -> bool:
        closes = None
        if needs_history(self.config) and self.history is not None:
            if self._day != today:
                self._day, self._closes = today, self.history(self.config.entry_sigma_days + 1)
            closes = self._closes
        check = check_entry(self.config, today, price, closes)
        if not check.allowed and check.reason != self._last_reason:
            logger.info("ENTRY_CONDITION_BLOCKED", extra={"date": today.isoformat(), "price": price,
                                                          "reason": check.reason})
        self._last_reason = "" if check.allowed else check.reason
        return check.allowed
