"""Counting, logging and auditing what happened to the book: fills, opens, closes, fills that
match nothing, held contracts without a quote, component failures. The bot decides; this records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from execution.bot_managed_positions import BotManagedPosition
from execution.risk.circuit_breaker import CircuitBreaker
from execution.session.session_state import SessionState
from models.audit import AuditAction
from models.market_data import ContractQuote
from models.orders import OrderRequest, OrderUpdate
from utils.audit_logger import AuditLogger
from utils.logging_config import get_logger

logger = get_logger(__name__)


class TradeRecorder:
    def __init__(self, counters: dict[str, int], audit: AuditLogger, breaker: CircuitBreaker,
                 session: SessionState) -> None:
        self.counters = counters
        self.audit = audit
        self.breaker = breaker
        self.session = session
        self._missing_reported: set[tuple[str, date]] = set()

    def report_missing(self, now: datetime, positions: Sequence[BotManagedPosition],
                       quotes: Mapping[str, ContractQuote]) -> None:
        """A held contract absent from the chain: logged and audited once per position per day."""
        for position in positions:
            if position.symbol in quotes:
                continue
            if (position.id, now.date()) in self._missing_reported:
                continue
            self._missing_reported.add((position.id, now.date()))
            self.counters["missing_quotes"] += 1
            logger.warning("HELD_CONTRACT_NOT_IN_CHAIN", extra={
                "position_id": position.id, "symbol": position.symbol, "time": now.isoformat()})
            self.audit.log(AuditAction.QUOTE_MISSING,
                           f"{position.symbol} missing from the option chain; marks and Greeks are stale",
                           resource_type="position", resource_id=position.id,
                           reason="held contract not in chain", correlation_id=position.correlation_id)

    def order_submitted(self, request: OrderRequest, order_type: str, actor: str, actor_type: str) -> None:
        """Approved by the pre-trade gateway, about to reach the broker."""
        self.counters["orders_submitted"] += 1
        logger.info("ORDER_SUBMITTED", extra={
            "order_id": request.client_id, "symbol": request.symbol, "quantity": request.quantity,
            "purpose": request.purpose.value, "position_id": request.position_id, "actor": actor,
            "order_type": order_type})
        self.audit.log_order_submit(request.client_id, request.symbol, request.quantity, order_type,
                                    request.purpose.value, limit_price=request.limit_price, actor=actor,
                                    actor_type=actor_type, correlation_id=request.correlation_id)

    def order_refused(self, request: OrderRequest, reason: str) -> None:
        """Refused before reaching LEAN: by the pre-trade gateway, or by LEAN before the order existed."""
        self.counters["risk_rejections"] += 1
        logger.warning("ORDER_REJECTED", extra={
            "order_id": request.client_id, "symbol": request.symbol, "reason": reason,
            "purpose": request.purpose.value, "stage": "pre_trade_gateway"})

    def order_rejected(self, update: OrderUpdate, correlation_id: str | None) -> None:
        """LEAN or the brokerage rejected an order (an INVALID event)."""
        self.counters["orders_rejected"] += 1
        logger.warning("ORDER_REJECTED", extra={
            "order_id": update.client_id or str(update.order_id), "lean_order_id": update.order_id,
            "symbol": update.symbol, "reason": update.message})
        self.audit.log_order_reject(update.client_id or str(update.order_id), update.symbol,
                                    update.message or "rejected by LEAN", correlation_id=correlation_id)

    def unmatched(self, update: OrderUpdate, reason: str) -> None:
        self.counters["unmatched_events"] += 1
        logger.warning("FILL_UNMATCHED", extra={
            "order_id": update.order_id, "client_id": update.client_id, "symbol": update.symbol,
            "fill_quantity": update.fill_quantity, "fill_price": update.fill_price, "reason": reason,
            "event_message": update.message})
        self.audit.log(AuditAction.ORDER_EVENT_UNMATCHED, f"Fill not booked: {update.symbol}",
                       resource_type="order", resource_id=update.client_id or str(update.order_id),
                       reason=reason, metadata={"lean_order_id": update.order_id, "fill_price": update.fill_price,
                                                "fill_quantity": update.fill_quantity})

    def opened(self, position: BotManagedPosition, update: OrderUpdate,
               at_entry: dict[str, float | None] | None = None) -> None:
        """``at_entry``: the contract's delta, IV and mid when the order went out (for the report)."""
        self.counters["positions_opened"] += 1
        side = "sell" if update.fill_quantity < 0 else "buy"
        strategy = "external" if (update.client_id or "").startswith("X") else "entry_rule"
        logger.info("TRADE_OPENED", extra={
            "trade_id": position.id, "symbol": position.symbol, "side": side,
            "quantity": update.fill_quantity, "price": update.fill_price,
            "order_id": update.client_id or str(update.order_id), "strategy": strategy,
            "strike": position.strike, "expiry": position.expiry.isoformat(), "right": position.right.value})
        self.audit.log_trade_open(position.id, position.symbol, side, update.fill_quantity, update.fill_price,
                                  strategy=strategy, correlation_id=position.correlation_id, at_entry=at_entry)

    def record_fill(self, update: OrderUpdate, correlation_id: str | None) -> None:
        """Count, log and audit a fill another component booked (a roll leg)."""
        self.fill_received(update, None, None)
        self.audit.log_order_fill(update.client_id or str(update.order_id), update.symbol, update.fill_quantity,
                                  update.fill_price, update.fill_quantity, update.fill_price, update.state.value,
                                  fee=update.fee, correlation_id=correlation_id)

    def fill_received(self, update: OrderUpdate, remaining: int | None, slippage_pct: float | None) -> None:
        self.counters["fills"] += 1
        logger.info("ORDER_FILLED", extra={
            "order_id": update.client_id or str(update.order_id), "lean_order_id": update.order_id,
            "symbol": update.symbol, "fill_price": update.fill_price, "fill_quantity": update.fill_quantity,
            "remaining_quantity": remaining, "fee": update.fee, "status": update.state.value,
            "slippage_pct": slippage_pct})

    def position_closed(self, position: BotManagedPosition, update: OrderUpdate, reason: str) -> None:
        self.counters["positions_closed"] += 1
        self.breaker.on_position_closed(update.time, position.realized_pnl - position.fees)
        logger.info("TRADE_CLOSED", extra={
            "trade_id": position.id, "symbol": position.symbol, "quantity": update.fill_quantity,
            "price": update.fill_price, "order_id": update.client_id or str(update.order_id),
            "realized_pnl": round(position.realized_pnl, 2), "fees": round(position.fees, 2),
            "reason": reason})
        self.audit.log_trade_close(position.id, position.symbol, round(position.realized_pnl, 2),
                                   round(position.fees, 2), reason, correlation_id=position.correlation_id)

    def record_failure(self, where: str, error: BaseException, now: datetime | None) -> None:
        """A component raised: stop opening positions until a human looks (fail safe)."""
        self.counters["component_failures"] += 1
        self.session.suspend_entries(f"{where} failed: {type(error).__name__}")
        context = {"entries_suspended": True, "time": None if now is None else now.isoformat()}
        logger.error("COMPONENT_FAILED", extra={
            "component": where, "operation": where, "error_type": type(error).__name__, "error": str(error),
            "recoverable": False, "context": context})
        self.audit.log_component_failure(where, where, error, recoverable=False, context=context)
