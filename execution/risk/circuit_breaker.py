"""The circuit breaker: trading states ACTIVE / REDUCING / HALTED and what trips them.

Triggers and the state each one forces (the most severe active trip sets the state):

=====================  =========  ====================================================
trigger                state      why
=====================  =========  ====================================================
daily_loss             HALTED     loss vs session start >= max_daily_loss_pct
drawdown               HALTED     fall from the equity high watermark >= max_drawdown_pct
roll_leg_failed        REDUCING   a roll failed half-way and was repaired (issue 4: reduce-only)
manual_halt            HALTED     a person or agent asked to halt (command with actor and reason)
consecutive_losses     REDUCING   max_consecutive_losses losing closes in a row
slippage_budget        REDUCING   the session's slippage budget is spent
=====================  =========  ====================================================

- ACTIVE lets everything through; REDUCING only exposure-reducing orders; HALTED nothing new
  (exposure-reducing orders only if ``RiskLimits.halted_allows_closes``). Cancels always pass.
- A loss trigger fires when its limit is *reached* (see models/risk_limits.py).
- The breaker never de-escalates by itself, with one exception: with
  ``daily_loss_clears_next_session`` the daily-loss trip clears at the next ``start_session``.
  Everything else stays until ``reset`` by a human or an agent command with actor and reason.
- A reset acknowledges the losses so far: the high watermark and the session's loss baseline
  are rebased to the last equity seen, and the losing streak restarts at 0.
- Sessions are exchange sessions: the caller passes the exchange-time date to ``start_session``,
  which resets the daily baseline (the session's start equity); the order counts live in
  ``execution.risk.pre_trade_validator.OrderCounter``, started at the same moment.
- Every trip and every state change is logged CRITICAL (CIRCUIT_BREAKER_TRIPPED,
  CIRCUIT_BREAKER_STATE_CHANGED) and audited (CIRCUIT_BREAKER_TRIP / _STATE_CHANGE / _RESET).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from models.audit import AuditAction
from models.exceptions import TradingError
from models.risk_limits import RiskLimits, limit_reached
from models.trading_state import SEVERITY, TradingState, permits
from utils.audit_logger import AuditLogger
from utils.logging_config import get_logger

logger = get_logger(__name__)

RESET_ACTOR_TYPES = frozenset({"human", "ai_agent"})


class Trigger(StrEnum):
    DAILY_LOSS = "daily_loss"
    DRAWDOWN = "drawdown"
    CONSECUTIVE_LOSSES = "consecutive_losses"
    SLIPPAGE_BUDGET = "slippage_budget"
    ROLL_LEG_FAILED = "roll_leg_failed"
    MANUAL_HALT = "manual_halt"


TRIGGER_STATE: dict[Trigger, TradingState] = {
    Trigger.DAILY_LOSS: TradingState.HALTED,
    Trigger.DRAWDOWN: TradingState.HALTED,
    Trigger.ROLL_LEG_FAILED: TradingState.REDUCING,
    Trigger.MANUAL_HALT: TradingState.HALTED,
    Trigger.CONSECUTIVE_LOSSES: TradingState.REDUCING,
    Trigger.SLIPPAGE_BUDGET: TradingState.REDUCING,
}


class CircuitBreakerResetRefused(TradingError, ValueError):
    """A reset without a named human/agent actor or without a reason."""


@dataclass(frozen=True)
class Trip:
    trigger: Trigger
    value: float
    threshold: float
    state: TradingState
    at: datetime
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"trigger": self.trigger.value, "value": self.value, "threshold": self.threshold,
                "state": self.state.value, "at": self.at.isoformat(), "detail": self.detail}


class CircuitBreaker:
    def __init__(self, limits: RiskLimits, audit: AuditLogger) -> None:
        self.limits = limits
        self._audit = audit
        self._trips: dict[Trigger, Trip] = {}
        self._state = TradingState.ACTIVE
        self.consecutive_losses = 0
        self.high_watermark: float | None = None
        self.session_date: date | None = None
        self.session_start_equity: float | None = None
        self.last_equity: float | None = None

    @property
    def state(self) -> TradingState:
        return self._state

    @property
    def active_trips(self) -> tuple[Trip, ...]:
        return tuple(self._trips.values())

    def permits(self, reduces_exposure: bool, is_cancel: bool = False) -> bool:
        return permits(self._state, reduces_exposure, is_cancel, self.limits.halted_allows_closes)

    # -- feeds ---------------------------------------------------------------------------------
    def start_session(self, session_date: date, start_equity: float) -> None:
        """Exchange session start: reset the daily baseline; maybe clear a daily-loss trip."""
        equity = _finite("start_equity", start_equity)
        if self.session_date is not None and session_date <= self.session_date:
            if session_date == self.session_date:
                return  # already started (idempotent)
            raise ValueError(f"session {session_date} is before the current session {self.session_date}")
        self.session_date = session_date
        self.session_start_equity = equity
        self.last_equity = equity
        self.high_watermark = equity if self.high_watermark is None else max(self.high_watermark, equity)
        if self.limits.daily_loss_clears_next_session and Trigger.DAILY_LOSS in self._trips:
            del self._trips[Trigger.DAILY_LOSS]
            self._update_state("system", "system",
                               f"daily-loss trip cleared at session start {session_date.isoformat()}")

    def on_equity(self, now: datetime, equity: float) -> None:
        """Portfolio value (realised + unrealised) in algorithm time; checks drawdown and daily loss."""
        value = _finite("equity", equity)
        self.last_equity = value
        if self.session_start_equity is None:
            self.session_start_equity = value  # no session started yet: the first equity is the baseline
        self.high_watermark = value if self.high_watermark is None else max(self.high_watermark, value)
        if self.high_watermark > 0:
            drawdown = (self.high_watermark - value) / self.high_watermark
            if limit_reached(drawdown, self.limits.max_drawdown_pct):
                self._trip(now, Trigger.DRAWDOWN, drawdown, self.limits.max_drawdown_pct,
                           f"equity {value:.2f} vs high watermark {self.high_watermark:.2f}")
        if self.session_start_equity > 0:
            loss = (self.session_start_equity - value) / self.session_start_equity
            if limit_reached(loss, self.limits.max_daily_loss_pct):
                self._trip(now, Trigger.DAILY_LOSS, loss, self.limits.max_daily_loss_pct,
                           f"equity {value:.2f} vs session start {self.session_start_equity:.2f}")

    def on_position_closed(self, now: datetime, realized_pnl: float) -> None:
        """A position closed; a loss (< 0) extends the losing streak, anything else ends it."""
        pnl = _finite("realized_pnl", realized_pnl)
        self.consecutive_losses = self.consecutive_losses + 1 if pnl < 0 else 0
        limit = self.limits.max_consecutive_losses
        if self.consecutive_losses >= limit:
            self._trip(now, Trigger.CONSECUTIVE_LOSSES, float(self.consecutive_losses), float(limit),
                       f"last close {pnl:.2f}")

    def on_slippage_budget_breach(self, now: datetime, slippage: float, budget: float,
                                  detail: str = "") -> None:
        self._trip(now, Trigger.SLIPPAGE_BUDGET, _finite("slippage", slippage), _finite("budget", budget), detail)

    def on_roll_leg_failed(self, now: datetime, roll_id: str, detail: str = "") -> None:
        self._trip(now, Trigger.ROLL_LEG_FAILED, 1.0, 0.0, f"roll {roll_id}: {detail}" if detail else f"roll {roll_id}")

    def halt(self, now: datetime, actor: str, actor_type: str, reason: str) -> TradingState:
        """A person or agent halts trading; only ``reset`` (also with actor and reason) resumes."""
        _require_actor(actor, actor_type, reason, "halt")
        before = self._state
        self._audit.log(AuditAction.MANUAL_INTERVENTION, f"Trading halted by {actor}",
                        resource_type="circuit_breaker", resource_id="main", actor=actor, actor_type=actor_type,
                        reason=reason, before_state={"state": before.value},
                        after_state={"state": TradingState.HALTED.value})
        self._trip(now, Trigger.MANUAL_HALT, 1.0, 0.0, f"{actor}: {reason}")
        return before

    def restore(self, saved: dict[str, Any], now: datetime) -> None:
        """After a restart: take back the trips the last snapshot recorded (``as_dict``), so a
        halt survives a restart; only ``reset`` clears them. Unknown triggers are logged and skipped."""
        for raw in saved.get("active_trips", []):
            try:
                trigger = Trigger(raw["trigger"])
                trip = Trip(trigger, float(raw["value"]), float(raw["threshold"]), TRIGGER_STATE[trigger],
                            datetime.fromisoformat(raw["at"]), str(raw.get("detail", "")))
            except (KeyError, TypeError, ValueError) as exc:
                logger.error("CIRCUIT_BREAKER_RESTORE_SKIPPED", extra={"trip": raw, "error": str(exc)})
                continue
            self._trips[trigger] = trip
        watermark = _saved_number(saved, "high_watermark")
        if watermark is not None:
            self.high_watermark = watermark if self.high_watermark is None else max(self.high_watermark, watermark)
        self.consecutive_losses = int(saved.get("consecutive_losses") or 0)
        baseline = _saved_number(saved, "session_start_equity")
        if isinstance(saved.get("session_date"), str) and baseline is not None:
            # the same session continues: its loss baseline is the one from before the restart
            # (start_session for that date is then a no-op; a later date starts a new one)
            self.session_date = date.fromisoformat(saved["session_date"])
            self.session_start_equity = baseline
            self.last_equity = _saved_number(saved, "last_equity")
        self._update_state("system", "system", f"restored from the last snapshot at {now.isoformat()}")

    # -- human reset ---------------------------------------------------------------------------
    def reset(self, actor: str, actor_type: str, reason: str) -> TradingState:
        """Clear every trip (a command from a person or agent). Returns the state before."""
        _require_actor(actor, actor_type, reason, "reset")
        before = self._state
        cleared = [trip.trigger.value for trip in self._trips.values()]
        self._trips.clear()
        self.consecutive_losses = 0
        if self.last_equity is not None:
            self.high_watermark = self.last_equity
            self.session_start_equity = self.last_equity
        logger.critical("CIRCUIT_BREAKER_RESET", extra={
            "actor": actor, "actor_type": actor_type, "reason": reason, "before": before.value,
            "cleared_triggers": cleared})
        self._audit.log_circuit_breaker_reset(actor, actor_type, reason, before.value,
                                              TradingState.ACTIVE.value)
        self._update_state(actor, actor_type, reason)
        return before

    # -- internals -----------------------------------------------------------------------------
    def _trip(self, now: datetime, trigger: Trigger, value: float, threshold: float, detail: str) -> None:
        if trigger in self._trips:
            return  # already tripped on this trigger: one trip record until it is cleared
        trip = Trip(trigger, value, threshold, TRIGGER_STATE[trigger], now, detail)
        self._trips[trigger] = trip
        logger.critical("CIRCUIT_BREAKER_TRIPPED", extra={
            "trigger": trigger.value, "trigger_value": value, "threshold": threshold,
            "trip_state": trip.state.value, "detail": detail, "time": now.isoformat()})
        self._audit.log_circuit_breaker_trip(trigger.value, value, threshold, state=trip.state.value)
        self._update_state("system", "system", f"{trigger.value} tripped: {detail}" if detail else trigger.value)

    def _update_state(self, actor: str, actor_type: str, reason: str) -> None:
        new = max((trip.state for trip in self._trips.values()), key=SEVERITY.__getitem__,
                  default=TradingState.ACTIVE)
        if new is self._state:
            return
        before, self._state = self._state, new
        logger.critical("CIRCUIT_BREAKER_STATE_CHANGED", extra={
            "before": before.value, "after": new.value, "reason": reason, "actor": actor,
            "active_triggers": sorted(t.value for t in self._trips)})
        self._audit.log(
            AuditAction.CIRCUIT_BREAKER_STATE_CHANGE, f"Trading state {before.value} -> {new.value}",
            resource_type="circuit_breaker", resource_id="main", actor=actor, actor_type=actor_type,
            before_state={"state": before.value}, after_state={"state": new.value}, reason=reason,
            metadata={"active_trips": [trip.as_dict() for trip in self._trips.values()]})

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view for the state snapshot."""
        return {
            "state": self._state.value,
            "active_trips": [trip.as_dict() for trip in self._trips.values()],
            "consecutive_losses": self.consecutive_losses,
            "high_watermark": self.high_watermark,
            "session_date": self.session_date.isoformat() if self.session_date else None,
            "session_start_equity": self.session_start_equity,
            "last_equity": self.last_equity,
            "halted_allows_closes": self.limits.halted_allows_closes,
        }


def _require_actor(actor: str, actor_type: str, reason: str, what: str) -> None:
    if not isinstance(actor, str) or not actor.strip():
        raise CircuitBreakerResetRefused(f"circuit-breaker {what} needs the actor who asks for it")
    if actor_type not in RESET_ACTOR_TYPES:
        raise CircuitBreakerResetRefused(
            f"circuit-breaker {what} must come from one of {sorted(RESET_ACTOR_TYPES)}, got {actor_type!r}")
    if not isinstance(reason, str) or not reason.strip():
        raise CircuitBreakerResetRefused(f"circuit-breaker {what} needs a reason")


def _saved_number(saved: dict[str, Any], name: str) -> float | None:
    value = saved.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _finite(name: str, value: float) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"circuit breaker: {name} must be a finite number, got {value!r}")
    return number
