"""The audit trail service (seed 8.2): builds ``AuditEntry`` records and hands them to sinks.

- Timestamps come from the ``clock`` the owner passes: the algorithm's ``utc_time`` inside LEAN
  and the harness, the wall clock only in the sidecar (where actions happen in real time).
- A correlation id follows one order through submit -> fills -> trade open/close, and a roll
  through all its orders: pass ``correlation_id=`` or open ``correlation_context(id)``.
- Sinks (utils/audit_sinks.py) store entries: the Object Store sink for the algorithm, the
  JSON Lines file sink for the sidecar, ``MemoryAuditSink`` for tests. A sink that fails is
  logged AUDIT_WRITE_FAILED with the whole entry in the log record, so the entry is not lost
  even then, and the caller carries on: auditing never takes the algorithm down.
- Critical actions (circuit breaker, overrides, failures, stop) flush every sink at once.
- Each entry is also logged at DEBUG on ``options_bot.audit`` (kept out of LEAN's throttled log
  by default; the events themselves are logged at INFO by the component that acts).
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

from models.audit import AuditAction, AuditEntry
from models.exceptions import AuditWriteError
from utils.logging_config import get_logger

logger = get_logger("audit")

CRITICAL_ACTIONS = frozenset({
    AuditAction.CIRCUIT_BREAKER_TRIP, AuditAction.CIRCUIT_BREAKER_RESET,
    AuditAction.CIRCUIT_BREAKER_STATE_CHANGE, AuditAction.RISK_OVERRIDE,
    AuditAction.RISK_LIMIT_CHANGE, AuditAction.SLIPPAGE_BUDGET_BREACH, AuditAction.ROLL_FAIL,
    AuditAction.MANUAL_INTERVENTION, AuditAction.COMPONENT_FAILURE, AuditAction.SYSTEM_STOP,
})

_correlation: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_correlation", default=None)


class AuditSink(Protocol):
    def write(self, entry: AuditEntry) -> None: ...

    def flush(self) -> None: ...


class MemoryAuditSink:
    """Keeps entries in a list: for tests and for reading back what a run audited."""

    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def write(self, entry: AuditEntry) -> None:
        self.entries.append(entry)

    def flush(self) -> None:
        return None

    def actions(self) -> list[AuditAction]:
        return [e.action for e in self.entries]


def wall_clock() -> datetime:
    """The sidecar's clock. Never pass this to an algorithm-side AuditLogger."""
    return datetime.now(UTC)


class AuditLogger:
    """Thread-safe audit trail logger over any number of sinks."""

    def __init__(self, clock: Callable[[], datetime], sinks: Sequence[AuditSink] = (),
                 critical_actions: frozenset[AuditAction] = CRITICAL_ACTIONS, session_id: str | None = None) -> None:
        """``session_id``: stamped on every entry that gives none (the algorithm: one id per run, so
        the runs an Object Store folder accumulates can be told apart)."""
        self._clock = clock
        self._session_id = session_id
        self._sinks = list(sinks)
        self._critical = critical_actions
        self._lock = threading.Lock()
        self.entries_written = 0
        self.write_failures = 0

    @property
    def sinks(self) -> list[AuditSink]:
        return list(self._sinks)

    @contextmanager
    def correlation_context(self, correlation_id: str) -> Iterator[None]:
        """Every entry logged inside the block carries ``correlation_id`` (unless given one)."""
        token = _correlation.set(correlation_id)
        try:
            yield
        finally:
            _correlation.reset(token)

    def log(self, action: AuditAction, description: str, actor: str = "system", actor_type: str = "system",
            resource_type: str | None = None, resource_id: str | None = None,
            before_state: dict[str, Any] | None = None, after_state: dict[str, Any] | None = None,
            reason: str | None = None, ip_address: str | None = None, session_id: str | None = None,
            metadata: dict[str, Any] | None = None, *, correlation_id: str | None = None,
            required: bool = False) -> AuditEntry:
        """Record one auditable action and return the entry.

        The parameters are in the seed's order (8.2), so its positional call works too; the actor
        defaults to the system. ``resource_type`` and ``resource_id`` are required (``TypeError``).
        ``required``: raise ``AuditWriteError`` when a sink could not write it (the caller must not
        acknowledge the action).
        """
        if resource_type is None or resource_id is None:
            raise TypeError("AuditLogger.log() needs resource_type and resource_id")
        moment = self._clock()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        entry = AuditEntry(
            timestamp=moment, action=action, description=description, actor=actor,
            actor_type=actor_type, resource_type=resource_type, resource_id=resource_id,
            before_state=before_state, after_state=after_state, reason=reason,
            ip_address=ip_address, session_id=session_id if session_id is not None else self._session_id,
            correlation_id=correlation_id if correlation_id is not None else _correlation.get(),
            metadata=dict(metadata or {}))
        with self._lock:
            written = [self._write(sink, entry) for sink in self._sinks]
            self.entries_written += 1
            if action in self._critical:
                self._flush_locked()
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(f"AUDIT_{action.name}", extra={"audit": entry.to_dict()})
        failed = [error for error in written if error is not None]
        if required and failed:
            raise AuditWriteError(f"audit entry {entry.id} ({action.value}) not written: {failed[0]}") from failed[0]
        return entry

    def _write(self, sink: AuditSink, entry: AuditEntry) -> Exception | None:
        try:
            sink.write(entry)
        except Exception as exc:  # noqa: BLE001 - a failing sink must not stop trading; logged with the entry
            self.write_failures += 1
            logger.error("AUDIT_WRITE_FAILED", extra={
                "sink": type(sink).__name__, "error": str(exc), "error_type": type(exc).__name__,
                "entry": entry.to_json()})
            return exc
        return None

    def flush(self) -> bool:
        """Flush every sink; True when all of them succeeded (failures are logged, not raised)."""
        with self._lock:
            return self._flush_locked()

    def _flush_locked(self) -> bool:
        ok = True
        for sink in self._sinks:
            try:
                sink.flush()
            except Exception as exc:  # noqa: BLE001 - entries stay buffered in the sink for the next flush
                ok = False
                self.write_failures += 1
                logger.error("AUDIT_FLUSH_FAILED", extra={
                    "sink": type(sink).__name__, "error": str(exc), "error_type": type(exc).__name__})
        return ok

    # -- convenience methods for the common actions ---------------------------------------
    def log_trade_open(self, trade_id: str, symbol: str, side: str, quantity: int, price: float,
                       actor: str = "system", actor_type: str = "system", strategy: str | None = None,
                       confidence: float | None = None, reasoning: str | None = None,
                       correlation_id: str | None = None, at_entry: dict[str, Any] | None = None) -> AuditEntry:
        """``at_entry``: what the contract looked like when the order was placed (delta, iv, mid),
        kept in the metadata for the reports' buckets."""
        return self.log(
            AuditAction.TRADE_OPEN, f"Opened {side} {quantity} {symbol} @ {price}",
            actor=actor, actor_type=actor_type, resource_type="trade", resource_id=trade_id,
            after_state={"symbol": symbol, "side": side, "quantity": quantity, "price": price,
                         "status": "open"},
            correlation_id=correlation_id,
            metadata={"strategy": strategy, "confidence": confidence, "reasoning": reasoning,
                      **({"at_entry": at_entry} if at_entry else {})})

    def log_trade_close(self, trade_id: str, symbol: str, realized_pnl: float, fees: float,
                        reason: str, correlation_id: str | None = None) -> AuditEntry:
        return self.log(
            AuditAction.TRADE_CLOSE, f"Closed {symbol}: realized {realized_pnl:.2f}",
            resource_type="trade", resource_id=trade_id, reason=reason,
            before_state={"status": "open"},
            after_state={"status": "closed", "realized_pnl": realized_pnl, "fees": fees},
            correlation_id=correlation_id)

    def log_order_submit(self, order_id: str, symbol: str, quantity: int, order_type: str,
                         purpose: str, limit_price: float | None = None, actor: str = "system",
                         actor_type: str = "system", correlation_id: str | None = None) -> AuditEntry:
        return self.log(
            AuditAction.ORDER_SUBMIT, f"Submitted {order_type} {quantity:+d} {symbol} ({purpose})",
            actor=actor, actor_type=actor_type, resource_type="order", resource_id=order_id,
            after_state={"status": "submitted", "symbol": symbol, "quantity": quantity,
                         "order_type": order_type, "limit_price": limit_price, "purpose": purpose},
            correlation_id=correlation_id)

    def log_order_fill(self, order_id: str, symbol: str, fill_quantity: int, fill_price: float,
                       filled_quantity: int, average_price: float, status: str,
                       slippage_pct: float | None = None, fee: float = 0.0,
                       correlation_id: str | None = None, is_assignment: bool = False) -> AuditEntry:
        """``is_assignment`` (LEAN's OrderEvent flag, a short option exercised against us) is kept
        in the metadata only when set."""
        return self.log(
            AuditAction.ORDER_FILL, f"Order filled: {fill_quantity:+d} {symbol} @ {fill_price}",
            resource_type="order", resource_id=order_id,
            after_state={"status": status, "filled_quantity": filled_quantity,
                         "average_price": average_price},
            correlation_id=correlation_id,
            metadata={"symbol": symbol, "fill_quantity": fill_quantity, "fill_price": fill_price, "fee": fee,
                      "slippage_pct": slippage_pct, **({"is_assignment": True} if is_assignment else {})})

    def log_order_reject(self, order_id: str, symbol: str, reason: str,
                         correlation_id: str | None = None,
                         metadata: dict[str, Any] | None = None) -> AuditEntry:
        return self.log(AuditAction.ORDER_REJECT, f"Order rejected: {symbol}", resource_type="order",
                        resource_id=order_id, reason=reason, after_state={"status": "rejected"},
                        correlation_id=correlation_id, metadata=metadata)

    def log_risk_override(self, override_id: str, limit_type: str, original_value: Any,
                          override_value: Any, actor: str, reason: str) -> AuditEntry:
        return self.log(
            AuditAction.RISK_OVERRIDE, f"Overrode {limit_type}: {original_value} -> {override_value}",
            actor=actor, actor_type="human", resource_type="risk_limit", resource_id=override_id,
            before_state={"value": original_value}, after_state={"value": override_value},
            reason=reason)

    def log_circuit_breaker_trip(self, trigger: str, trigger_value: float, threshold: float,
                                 state: str = "halted") -> AuditEntry:
        return self.log(
            AuditAction.CIRCUIT_BREAKER_TRIP,
            f"Circuit breaker tripped: {trigger}={trigger_value} > {threshold}",
            resource_type="circuit_breaker", resource_id="main",
            after_state={"status": "tripped", "state": state, "trigger": trigger,
                         "trigger_value": trigger_value, "threshold": threshold})

    def log_circuit_breaker_reset(self, actor: str, actor_type: str, reason: str,
                                  before: str, after: str = "active") -> AuditEntry:
        return self.log(
            AuditAction.CIRCUIT_BREAKER_RESET, f"Circuit breaker reset: {before} -> {after}",
            actor=actor, actor_type=actor_type, resource_type="circuit_breaker", resource_id="main",
            before_state={"state": before}, after_state={"state": after}, reason=reason)

    def log_component_failure(self, component: str, operation: str, error: BaseException,
                              recoverable: bool, context: dict[str, Any] | None = None) -> AuditEntry:
        return self.log(
            AuditAction.COMPONENT_FAILURE, f"{component} failed during {operation}",
            resource_type="component", resource_id=component, reason=str(error),
            metadata={"operation": operation, "error_type": type(error).__name__,
                      "recoverable": recoverable, "context": context or {}})
