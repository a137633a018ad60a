"""The bot's decision loop: entry rule, expiry guard and fill accounting, behind BrokerPort.

LEAN calls flow in through the adapter (execution/lean_adapter.py): ``on_market`` once per slice
with quotes for the held contracts (and the candidate chain only when the entry rule needs it),
``on_order_update`` for every order event, ``snapshot`` for the Object Store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from execution.bot_managed_positions import BotManagedPosition, FillRejected, PositionBook
from execution.entry_rule import choose_entry
from execution.ports import BrokerPort
from models.bot_config import BotConfig
from models.market_data import ContractQuote
from models.orders import OrderPurpose, OrderRequest, OrderState, OrderUpdate
from utils.logging_config import get_logger
from utils.object_store_schema import EquitySummary, PositionSnapshot, StateSnapshot

logger = get_logger(__name__)

COUNTERS = ("orders_submitted", "orders_rejected", "fills", "positions_opened",
            "positions_closed", "unmatched_events", "component_failures")


@dataclass
class PendingOrder:
    request: OrderRequest
    order_ids: list[int]
    contract: ContractQuote | None = None  # for entries: what the position will hold


class TradingBot:
    def __init__(self, config: BotConfig, broker: BrokerPort) -> None:
        self.config = config
        self.broker = broker
        self.book = PositionBook()
        self.pending: dict[str, PendingOrder] = {}
        self.counters = dict.fromkeys(COUNTERS, 0)
        self.entries_suspended = False
        self.underlying_price: float | None = None
        self.equity_history: list[tuple[datetime, float]] = []
        self._next_client = 1

    # -- decisions -----------------------------------------------------------------------------
    def wants_candidates(self) -> bool:
        """True when the entry rule would act now, so the adapter should read the chain."""
        return (self.config.entry_enabled and not self.entries_suspended
                and not self.book.open_positions() and not self._pending(OrderPurpose.ENTRY))

    def on_market(self, now: datetime, spot: float | None, held: dict[str, ContractQuote],
                  candidates: Sequence[ContractQuote] | None = None) -> None:
        if spot is not None and spot > 0:
            self.underlying_price = spot
        for position in self.book.open_positions():
            quote = held.get(position.symbol)
            if quote is not None and quote.has_two_sided_quote:
                position.mark_price = quote.mid
        self._expiry_guard(now)
        if candidates is not None and self.wants_candidates() and self.underlying_price:
            self._enter(now, candidates)

    def _pending(self, purpose: OrderPurpose, position_id: str | None = None) -> bool:
        return any(p.request.purpose == purpose and
                   (position_id is None or p.request.position_id == position_id)
                   for p in self.pending.values())

    def _expiry_guard(self, now: datetime) -> None:
        today = now.date()
        for position in self.book.open_positions():
            if position.days_to_expiry(today) > self.config.exit_dte:
                continue
            if self._pending(OrderPurpose.EXPIRY_GUARD, position.id):
                continue
            logger.info("EXPIRY_GUARD_CLOSE", extra={
                "position_id": position.id, "symbol": position.symbol,
                "days_to_expiry": position.days_to_expiry(today), "quantity": position.quantity})
            self._submit(OrderRequest(self._client_id(), position.symbol, -position.quantity,
                                      OrderPurpose.EXPIRY_GUARD, position_id=position.id))

    def _enter(self, now: datetime, candidates: Sequence[ContractQuote]) -> None:
        assert self.underlying_price is not None
        decision = choose_entry(self.config, candidates, self.underlying_price, now,
                                self.config.risk_free_rate)
        if decision is None:
            return
        quote = decision.quote
        logger.info("ENTRY_SIGNAL", extra={
            "symbol": quote.symbol, "quantity": decision.quantity, "delta": round(decision.delta, 4),
            "delta_source": decision.delta_source, "days_to_expiry": decision.days_to_expiry,
            "bid": quote.bid, "ask": quote.ask})
        self._submit(OrderRequest(self._client_id(), quote.symbol, decision.quantity,
                                  OrderPurpose.ENTRY), contract=quote)

    def _client_id(self) -> str:
        cid = f"C{self._next_client:06d}"
        self._next_client += 1
        return cid

    def _submit(self, request: OrderRequest, contract: ContractQuote | None = None) -> None:
        pending = PendingOrder(request, [], contract)
        self.pending[request.client_id] = pending  # before submit: events can arrive inside it
        self.counters["orders_submitted"] += 1
        logger.info("ORDER_SUBMITTED", extra={
            "client_id": request.client_id, "symbol": request.symbol, "quantity": request.quantity,
            "purpose": request.purpose.value, "order_type": request.kind.value})
        pending.order_ids.extend(self.broker.submit(request))

    # -- order events ----------------------------------------------------------------------
    def on_order_update(self, update: OrderUpdate) -> None:
        pending = self.pending.get(update.client_id) if update.client_id else None
        if update.state in (OrderState.FILLED, OrderState.PARTIALLY_FILLED) and update.fill_quantity:
            self._apply_fill(update, pending)
        elif update.state == OrderState.INVALID:
            self.counters["orders_rejected"] += 1
            logger.warning("ORDER_REJECTED", extra={
                "client_id": update.client_id, "order_id": update.order_id,
                "symbol": update.symbol, "reason": update.message})
        if pending is not None and update.state.is_final:
            del self.pending[pending.request.client_id]

    def _apply_fill(self, update: OrderUpdate, pending: PendingOrder | None) -> None:
        self.counters["fills"] += 1
        logger.info("ORDER_FILLED", extra={
            "order_id": update.order_id, "client_id": update.client_id, "symbol": update.symbol,
            "fill_price": update.fill_price, "fill_quantity": update.fill_quantity,
            "fee": update.fee, "status": update.state.value})
        position = self.book.open_for_symbol(update.symbol)
        if position is None:
            if pending is None or pending.request.purpose != OrderPurpose.ENTRY or pending.contract is None:
                self.counters["unmatched_events"] += 1
                logger.warning("FILL_UNMATCHED", extra={
                    "order_id": update.order_id, "symbol": update.symbol,
                    "fill_quantity": update.fill_quantity, "event_message": update.message})
                return
            position = self._open_position(pending.contract, update.time)
        try:
            realized = position.apply_fill(update.fill_quantity, update.fill_price, update.fee, update.time)
        except FillRejected as exc:
            self.counters["unmatched_events"] += 1
            logger.error("FILL_REJECTED", extra={
                "position_id": position.id, "order_id": update.order_id, "reason": str(exc)})
            return
        if realized:
            logger.info("PNL_REALIZED", extra={"position_id": position.id, "realized": round(realized, 2)})
        if position.quantity == 0:
            self.book.mark_closed(position)
            self.counters["positions_closed"] += 1
            logger.info("TRADE_CLOSED", extra={
                "position_id": position.id, "symbol": position.symbol,
                "realized_pnl": round(position.realized_pnl, 2), "fees": round(position.fees, 2)})

    def _open_position(self, contract: ContractQuote, when: datetime) -> BotManagedPosition:
        position = BotManagedPosition(
            id=self.book.new_id(), symbol=contract.symbol, underlying=self.config.ticker,
            right=contract.right, strike=contract.strike, expiry=contract.expiry,
            multiplier=self.broker.contract_multiplier(contract.symbol), opened_at=when)
        self.book.add(position)
        self.counters["positions_opened"] += 1
        logger.info("TRADE_OPENED", extra={
            "position_id": position.id, "symbol": position.symbol, "strike": position.strike,
            "expiry": position.expiry.isoformat(), "right": position.right.value})
        return position

    def record_failure(self, where: str, error: BaseException) -> None:
        """A component raised: stop opening positions until a human looks (fail safe)."""
        self.counters["component_failures"] += 1
        self.entries_suspended = True
        logger.error("COMPONENT_FAILED", extra={
            "component": where, "error_type": type(error).__name__, "error": str(error),
            "entries_suspended": True})

    # -- state -----------------------------------------------------------------------------
    def snapshot(self, now_utc: datetime, mode: str) -> StateSnapshot:
        view = self.broker.portfolio()
        self.equity_history.append((now_utc, view.total_portfolio_value))
        positions = [PositionSnapshot(
            id=p.id, symbol=p.symbol, underlying=p.underlying, right=p.right.value, strike=p.strike,
            expiry=p.expiry.isoformat(), side=p.side, quantity=p.quantity, entry_price=p.entry_price,
            mark_price=p.mark_price, multiplier=p.multiplier, unrealized_pnl=p.unrealized_pnl,
            realized_pnl=p.realized_pnl, fees=p.fees, opened_at=p.opened_at.isoformat(),
            status=p.status.value) for p in self.book.positions.values()]
        return StateSnapshot(
            algorithm_time=now_utc, mode=mode, ticker=self.config.ticker,
            underlying_price=self.underlying_price,
            equity=EquitySummary(view.total_portfolio_value, view.cash, view.unrealized_profit,
                                 view.total_fees),
            positions=positions, counters=dict(self.counters),
            parameters=self.config.as_parameters(), equity_history=list(self.equity_history))
