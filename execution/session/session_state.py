"""The session state: everything about the trading session that must survive a restart, as one unit.

It owns the circuit breaker (state, trips, high watermark, the session's loss baseline, the losing
streak), the slippage budget (spent, reduce-only latch), the order counter (orders today, recent
order times) and the bot's own latches (entries suspended). ``trading_state`` is the one effective
state: the breaker's, made REDUCING by any reduce-only latch; the gateway, the snapshot and the
sidecar all read it.

``to_dict`` goes into the state snapshot (``risk.session``); the adapter saves the snapshot in
live mode whenever ``fingerprint`` changes; ``restore`` takes it back after a live restart, so a
same-day restart keeps the daily-loss baseline and a halt, the latches, the day's order count and
the slippage spent. A malformed part is logged (SESSION_RESTORE_SKIPPED), reported and fails safe.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from execution.risk.circuit_breaker import CircuitBreaker, TradingState
from execution.risk.pre_trade_validator import OrderCounter
from execution.risk.slippage_budget import SlippageBudget
from utils.logging_config import get_logger

logger = get_logger(__name__)

SESSION_SCHEMA = 1


class SessionState:
    def __init__(self, breaker: CircuitBreaker, slippage: SlippageBudget, counter: OrderCounter) -> None:
        self.breaker = breaker
        self.slippage = slippage
        self.counter = counter
        self.entries_suspended = False
        self.suspended_reason = ""

    @property
    def reduce_only(self) -> bool:
        return self.trading_state is not TradingState.ACTIVE

    @property
    def trading_state(self) -> TradingState:
        """The breaker's state, made REDUCING while a reduce-only latch holds (entries suspended
        after a failure, or the slippage budget spent)."""
        state = self.breaker.state
        if state is TradingState.ACTIVE and (self.entries_suspended or self.slippage.reduce_only):
            return TradingState.REDUCING
        return state

    def suspend_entries(self, reason: str) -> None:
        self.entries_suspended = True
        self.suspended_reason = reason

    def start_session(self, today: date, equity: float) -> None:
        """Exchange session start: each part resets its daily figures (a no-op for the session
        already running, e.g. one restored after a restart on the same day)."""
        self.breaker.start_session(today, equity)
        self.counter.start_session(today)
        self.slippage.start_session(today)

    def fingerprint(self) -> tuple[Any, ...]:
        """Changes whenever something worth saving changed."""
        breaker = self.breaker
        return (breaker.state, tuple(t.trigger for t in breaker.active_trips), breaker.session_date,
                breaker.session_start_equity, breaker.consecutive_losses, self.counter.session_date,
                self.counter.orders_today, self.slippage.session_total, self.slippage.reduce_only,
                self.entries_suspended)

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SESSION_SCHEMA, "trading_state": self.trading_state.value,
                "entries_suspended": self.entries_suspended, "suspended_reason": self.suspended_reason,
                "circuit_breaker": self.breaker.as_dict(), "slippage": self.slippage.to_dict(),
                "orders": self.counter.to_dict()}

    def restore(self, saved: dict[str, Any], now: datetime) -> list[str]:
        """Take back a saved session; returns the problems (empty when all of it came back)."""
        problems: list[str] = []
        parts: tuple[tuple[str, Callable[[dict[str, Any]], None]], ...] = (
            ("circuit_breaker", lambda value: self.breaker.restore(value, now)),
            ("slippage", self.slippage.restore), ("orders", self.counter.restore))
        for name, restore in parts:
            value = saved.get(name)
            try:
                if not isinstance(value, dict):
                    raise ValueError(f"{name} missing")
                restore(value)
            except (KeyError, TypeError, ValueError) as exc:
                logger.error("SESSION_RESTORE_SKIPPED", extra={"part": name, "error": str(exc)})
                problems.append(f"{name}: {exc}")
        if saved.get("entries_suspended") is True:
            self.suspend_entries(str(saved.get("suspended_reason") or "suspended before the restart"))
        if problems:  # fail safe: part of the session is unknown, so no new exposure until a person looks
            self.suspend_entries("session state incomplete after restart: " + "; ".join(problems))
        return problems
