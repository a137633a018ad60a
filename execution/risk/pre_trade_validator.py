"""The pre-trade gateway's validator: the rules (models/pre_trade_rules.py) plus the log and audit of a rejection.

The rules are pure and live in models/pre_trade_rules.py so that the sidecar's dry run for agents
applies exactly the same ones; this module adds what only the algorithm does: counting the orders
sent (``OrderCounter``), and logging RISK_LIMIT_EXCEEDED (WARNING, one record per failed check,
the seed's fields) and auditing RISK_CHECK_FAILED once per rejection with every failed check in
the metadata. Cancels always pass (``validate_cancel``).

The rules' names stay importable from here (``PreTradeContext``, ``ValidationResult``, ...).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from models.audit import AuditAction
from models.orders import OrderRequest
from models.pre_trade_rules import (
    RATE_WINDOW,
    CheckName,
    CheckResult,
    PreTradeContext,
    ValidationResult,
    Value,
    evaluate,
    leg_reduces,
    net_legs,
    reduces_exposure,
)
from models.risk_limits import RiskLimits
from utils.audit_logger import AuditLogger
from utils.logging_config import get_logger

__all__ = ["RATE_WINDOW", "CheckName", "CheckResult", "OrderCounter", "PreTradeContext", "PreTradeValidator",
           "ValidationResult", "leg_reduces", "net_legs", "reduces_exposure"]

logger = get_logger(__name__)


class OrderCounter:
    """Orders sent per exchange session and over the last ``RATE_WINDOW`` (algorithm time).
    ``record`` every order sent; ``start_session`` at each session (with the breaker's)."""

    def __init__(self) -> None:
        self.session_date: date | None = None
        self.orders_today = 0
        self._recent: deque[datetime] = deque()

    def start_session(self, session_date: date) -> None:
        if session_date != self.session_date:
            self.session_date, self.orders_today = session_date, 0

    def record(self, now: datetime) -> None:
        self.orders_today += 1
        self._recent.append(now)

    def recent(self, now: datetime) -> tuple[datetime, ...]:
        while self._recent and now - self._recent[0] >= RATE_WINDOW:
            self._recent.popleft()
        return tuple(self._recent)

    def to_dict(self) -> dict[str, Any]:
        return {"session_date": None if self.session_date is None else self.session_date.isoformat(),
                "orders_today": self.orders_today, "recent": [t.isoformat() for t in self._recent]}

    def restore(self, saved: Mapping[str, Any]) -> None:
        """After a restart: the day's count and the rate window as they were (raises ValueError,
        TypeError or KeyError on a malformed value and changes nothing then)."""
        raw_date = saved["session_date"]
        session_date = None if raw_date is None else date.fromisoformat(raw_date)
        count = saved["orders_today"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"orders_today must be a whole number >= 0, got {count!r}")
        recent = [datetime.fromisoformat(t) for t in saved.get("recent") or []]
        self.session_date, self.orders_today = session_date, count
        self._recent = deque(sorted(recent))


def _jsonable(value: Value) -> Value:
    """NaN/inf cannot go into a JSON Lines audit record."""
    return str(value) if isinstance(value, float) and not math.isfinite(value) else value


class PreTradeValidator:
    def __init__(self, limits: RiskLimits, audit: AuditLogger) -> None:
        self.limits = limits
        self._audit = audit

    def validate(self, orders: OrderRequest | Sequence[OrderRequest], ctx: PreTradeContext, *,
                 actor: str = "system", actor_type: str = "system") -> ValidationResult:
        """Check one order or several legs as one unit; log and audit a rejection."""
        legs = (orders,) if isinstance(orders, OrderRequest) else tuple(orders)
        return self._finish(legs, ctx, evaluate(legs, ctx, self.limits), actor, actor_type)

    def validate_cancel(self, client_id: str, ctx: PreTradeContext) -> ValidationResult:
        """Cancels always pass, whatever the state."""
        return ValidationResult(True, True, (
            CheckResult(CheckName.CIRCUIT_BREAKER.value, True,
                        f"cancel of {client_id} passes in state {ctx.trading_state.value}"),))

    # -- rejection: log + audit -----------------------------------------------------------------
    def _finish(self, legs: Sequence[OrderRequest], ctx: PreTradeContext, result: ValidationResult,
                actor: str, actor_type: str) -> ValidationResult:
        ids = "+".join(leg.client_id for leg in legs) or "<no legs>"
        if result.approved:
            logger.debug("RISK_CHECK_PASSED", extra={"order_id": ids, "reduces_exposure": result.reduces_exposure})
            return result
        position_id = next((leg.position_id for leg in legs if leg.position_id), "")
        for check in result.failed:
            logger.warning("RISK_LIMIT_EXCEEDED", extra={
                "limit_type": check.name, "current_value": _jsonable(check.current_value),
                "limit_value": _jsonable(check.limit_value), "action_taken": "order_rejected",
                "position_id": position_id, "order_id": ids, "reason": check.reason})
        self._audit.log(
            AuditAction.RISK_CHECK_FAILED, f"Order {ids} rejected by the pre-trade gateway",
            resource_type="order", resource_id=ids, actor=actor, actor_type=actor_type,
            reason=result.reason, metadata={
                "legs": [{"client_id": leg.client_id, "symbol": leg.symbol, "quantity": leg.quantity,
                          "purpose": str(leg.purpose), "position_id": leg.position_id} for leg in legs],
                "reduces_exposure": result.reduces_exposure, "trading_state": ctx.trading_state.value,
                "failed_checks": [{k: _jsonable(v) for k, v in asdict(check).items()} for check in result.failed]})
        return result
