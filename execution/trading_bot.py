"""The bot's decision loop behind BrokerPort: entries, position management, order events.

LEAN calls flow in through the adapter (execution/lean_adapter.py): ``on_market`` once per slice
with quotes for the contracts the bot holds or is working orders in (and the candidate chain only
when the entry rule needs it), ``on_order_update`` for every order event, ``snapshot`` for the
Object Store. Decisions about positions live in the PositionManager, order working in the
OrderExecutor; this class wires them, counts, logs and audits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta

from execution.bot_managed_positions import BotManagedPosition, PositionBook
from execution.ledger import ExposureLedger
from execution.orders.order_executor import OrderExecutor, TrackedOrder
from execution.ports import BrokerPort
from execution.positions.assignment import Assignments
from execution.positions.assignment_flow import book_exercise_event, close_due_shares
from execution.positions.entry_conditions import EntryGate, sized
from execution.positions.entry_rule import choose_entry, usable_for_entry
from execution.positions.fill_booking import FillBooking, FillOrigin
from execution.positions.position_manager import ExitIntent, PositionManager
from execution.positions.trade_recorder import TradeRecorder
from execution.positions.wheel import covered_call_plan
from execution.risk.circuit_breaker import CircuitBreaker, TradingState
from execution.risk.order_gateway import OrderGateway
from execution.risk.pre_trade_validator import PreTradeValidator
from execution.risk.risk_context import RiskInputs, build_pre_trade_context
from execution.risk.slippage_budget import SlippageBudget
from execution.rolls.roll_manager import RollManager
from execution.rolls.step_order import ROLLS_FIRST
from execution.session.chain_slice import ChainSliceRecorder
from execution.session.holdings import Holding, HoldingAction, HoldingDecision, Rewind, apply_holdings, plan_holdings
from execution.session.reconcile import (
    OpenOrder,
    OrderDecision,
    PreviousRunOrders,
    adopt,
    apply_plan,
    fill_origin,
    plan_orders,
)
from execution.session.session_state import SessionState
from execution.session.snapshot_builder import SnapshotSources, build_snapshot, describe_working, state_fingerprint
from execution.session.state_restore import RestoreReport, Shares, restore_state
from execution.smart_execution import InvalidFillError
from models.bot_config import BotConfig
from models.market_data import ContractQuote
from models.orders import OrderKind, OrderPurpose, OrderRequest, OrderState, OrderUpdate
from models.risk_limits import RiskLimits
from models.roll_config import RollConfig
from utils.audit_logger import AuditLogger
from utils.logging_config import get_logger
from utils.object_store_schema import PositionSnapshot, StateSnapshot

logger = get_logger(__name__)

EXIT_RETRY_AFTER = timedelta(minutes=5)  # after a closing order was refused (gateway, LEAN or brokerage)

COUNTERS = ("orders_submitted", "orders_rejected", "risk_rejections", "fills", "positions_opened", "rolls_completed",
            "positions_closed", "profit_takes", "stop_losses", "expiry_closes", "unmatched_events",
            "component_failures", "missing_quotes")


class TradingBot:
    def __init__(self, config: BotConfig, broker: BrokerPort, audit: AuditLogger | None = None,
                 limits: RiskLimits | None = None, rolls: RollConfig | None = None) -> None:
        self.config = config
        self.broker = broker  # read-only use here: orders go through self.gateway only
        self.now: datetime | None = None
        self.audit = audit if audit is not None else AuditLogger(clock=self._clock)
        self.limits = limits if limits is not None else RiskLimits()
        self.manager = PositionManager(config, self.audit)
        self.breaker = CircuitBreaker(self.limits, self.audit)
        self.slippage = SlippageBudget(config.slippage_max_trade_pct * 100, config.slippage_max_session_usd,
                                       config.slippage_alert_pct * 100, audit_logger=self.audit)
        self.gateway = OrderGateway(broker, PreTradeValidator(self.limits, self.audit),
                                    lambda now, orders: build_pre_trade_context(self._risk, now, orders))
        self.session = SessionState(self.breaker, self.slippage, self.gateway.counter)
        self.executor = OrderExecutor(config, self.gateway, self.slippage, broker.contract_multiplier)
        self.rolls = RollManager(rolls if rolls is not None else RollConfig(enabled=False), self)
        self.previous_run = PreviousRunOrders()  # a restart's old orders being cancelled (or not ours)
        self.assignments = Assignments(config.assignment_action, self.audit)
        self.flagged: list[HoldingDecision] = []  # LEAN holdings a restart found and left alone
        self.ledger = ExposureLedger(self._held, [self.executor.working_legs, self.rolls.working_legs,
                                      self.previous_run.working_legs])
        self.quotes: dict[str, ContractQuote] = {}  # the last quote seen per contract
        self.entry_gate = EntryGate(config, None)  # issue 19; the LEAN adapter gives it the daily history
        self._risk = RiskInputs(
            self.ledger, self.quotes, lambda: self.underlying_price, lambda: self.equity,
            lambda: self.session.trading_state, self.manager.portfolio_greeks, broker.contract_multiplier, self.breaker,
            self.gateway.counter, config.risk_free_rate, config.ticker)
        self.equity = 0.0
        self._session: date | None = None
        self._exit_backoff: dict[tuple[str, OrderPurpose], tuple[datetime, TradingState]] = {}
        self.counters = dict.fromkeys(COUNTERS, 0)
        self.recorder = TradeRecorder(self.counters, self.audit, self.breaker, self.session)
        self.recorder.on_unmatched_fill = self._flag_unmatched
        self.booking = FillBooking(self.manager, self.recorder, self.audit, broker.contract_multiplier,
                                   self.quotes.get)
        self.underlying_price: float | None = None
        self.equity_history: list[tuple[datetime, float]] = []
        self._next_client = 1
        self.run_id = ""  # live: a per-start prefix, so client ids never repeat an earlier run's
        self.chain_slice = ChainSliceRecorder(timedelta(minutes=config.snapshot_minutes), config.risk_free_rate)
        self._snapshot_sources = SnapshotSources(
            config, self.limits, self.manager.book, self.ledger, self.session, self.counters,
            self.manager.portfolio_greeks, lambda leg: describe_working(leg, self.executor.orders),
            lambda: self.gateway.rejections,
            lambda: [s.as_dict() for s in self.assignments.stocks.values()],
            option_chain=self.chain_slice.current, flagged_holdings=lambda: [d.as_dict() for d in self.flagged],
            gateway_context=lambda: build_pre_trade_context(self._risk, self.now or self._clock(), (),
                                                            every_contract=True))

    @property
    def book(self) -> PositionBook:
        return self.manager.book

    def _held(self) -> dict[str, int]:
        """What the account holds: bot-managed positions and shares, and holdings left alone."""
        held = {p.symbol: p.quantity for p in self.book.open_positions()}
        for symbol, quantity in [*self.assignments.held().items(), *((d.symbol, d.quantity) for d in self.flagged)]:
            held[symbol] = held.get(symbol, 0) + quantity
        return held

    def _clock(self) -> datetime:
        moment = self.now or datetime(1970, 1, 1, tzinfo=UTC)
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

    @property
    def reduce_only(self) -> bool:
        return self.session.reduce_only

    @property
    def entries_suspended(self) -> bool:
        return self.session.entries_suspended

    @entries_suspended.setter
    def entries_suspended(self, value: bool) -> None:
        self.session.entries_suspended = value
        if not value:
            self.session.suspended_reason = ""

    # -- decisions -----------------------------------------------------------------------------
    def watched_symbols(self) -> list[str]:
        """Contracts the adapter must quote each slice: held ones and those with working orders."""
        symbols = dict.fromkeys(self.book.held_symbols)
        symbols.update(dict.fromkeys(leg.symbol for leg in self.ledger.working()))
        return list(symbols)

    def wants_candidates(self, now: datetime | None = None) -> bool:
        """True when the entry rule or a roll would act now, so the adapter should read the chain."""
        return self._entry_wanted() or (now is not None and self.rolls.wants_chain(now))

    def candidate_filter(self, now: datetime) -> Callable[[ContractQuote], bool] | None:
        """Which chain contracts the adapter must read Greeks for: None = all of them (a roll or the
        wheel reads the chain), else the entry rule's own filter (right, expiry, quote, spread)."""
        if self.rolls.wants_chain(now) or self.assignments.held():
            return None
        config, today = self.config, now.date()
        return lambda quote: usable_for_entry(config, quote, today)

    def _entry_wanted(self) -> bool:
        return (self.config.entry_enabled and not self.reduce_only
                and not self.book.open_positions()
                and not any(leg.purpose == OrderPurpose.ENTRY.value for leg in self.ledger.working()))

    def on_market(self, now: datetime, spot: float | None, quotes: dict[str, ContractQuote],
                  candidates: Sequence[ContractQuote] | None = None) -> None:
        self.now = now
        if spot is not None and spot > 0:
            self.underlying_price = spot
        if self._session != now.date():
            self._start_session(now.date())
        self.recorder.report_missing(now, self.book.open_positions(), quotes)
        self.quotes.update(quotes)
        self.manager.refresh(now, self.underlying_price, quotes)
        self.equity = self.broker.equity()
        self.breaker.on_equity(now, self.equity)
        self.executor.on_slice(now, quotes)
        close_due_shares(now, self.assignments, self.ledger, lambda request: self._submit(request, None),
                         self._client_id, EXIT_RETRY_AFTER)
        self.rolls.check_timeouts(now)
        rolls_first = self.config.manage_order == ROLLS_FIRST  # issue 19: rolls, then exits for the rest
        if rolls_first and candidates is not None and self.underlying_price:
            self.rolls.act(now, list(candidates))
        due = self.rolls.due_not_attempted(now) if rolls_first else set()
        for intent in self.manager.decide_exits(now, self._covered_all(), due):
            self._exit(now, intent, quotes)
        if candidates is not None and self.underlying_price:
            if not rolls_first:
                self.rolls.act(now, list(candidates))
            if self._entry_wanted():
                self._enter(now, candidates)

    def _start_session(self, today: date) -> None:
        """Exchange session start (LEAN's algorithm time is exchange time): daily counters reset."""
        self._session = today
        self.equity = self.broker.equity()
        self.session.start_session(today, self.equity)

    def _exit(self, now: datetime, intent: ExitIntent, quotes: dict[str, ContractQuote]) -> None:
        key = (intent.position_id, intent.purpose)
        retry = self._exit_backoff.get(key)
        if retry is not None and now < retry[0] and retry[1] is self.session.trading_state:
            self.manager.retry_later(intent)
            return  # refused before: again after the back-off (or at once when the trading state changes)
        counter = {OrderPurpose.PROFIT_TAKE: "profit_takes", OrderPurpose.STOP_LOSS: "stop_losses",
                   OrderPurpose.EXPIRY_GUARD: "expiry_closes"}[intent.purpose]
        tracked = self._submit(OrderRequest(self._client_id(), intent.symbol, intent.quantity, intent.purpose,
                                            position_id=intent.position_id, correlation_id=intent.correlation_id,
                                            expected_price=intent.expected_price), quotes.get(intent.symbol))
        if tracked.rejected:  # by the gateway, LEAN before submission or the brokerage: never dropped
            self._exit_backoff[key] = (now + EXIT_RETRY_AFTER, self.session.trading_state)
            logger.warning("EXIT_RETRY_SCHEDULED", extra={
                "position_id": intent.position_id, "purpose": intent.purpose.value, "reason": tracked.rejection,
                "retry_at": (now + EXIT_RETRY_AFTER).isoformat()})
            self.manager.retry_later(intent)
        else:
            self._exit_backoff.pop(key, None)
            self.counters[counter] += 1

    def _enter(self, now: datetime, candidates: Sequence[ContractQuote]) -> None:
        assert self.underlying_price is not None
        if not self.entry_gate.allows(now.date(), self.underlying_price):  # issue 19: entry conditions
            return
        config = self.config
        wheel = covered_call_plan(config, self.assignments.stocks.values(), candidates)  # held shares: calls
        if wheel is not None:
            config, candidates = wheel.config, wheel.candidates
        decision = choose_entry(config, candidates, self.underlying_price, now, config.risk_free_rate)
        if decision is None:
            return
        decision = sized(decision, config, self.limits, self.equity, self.underlying_price,
                         self.broker.contract_multiplier(decision.quote.symbol))
        if decision is None:
            return
        quote = decision.quote
        logger.info("ENTRY_SIGNAL", extra={
            "symbol": quote.symbol, "quantity": decision.quantity, "delta": round(decision.delta, 4),
            "delta_source": decision.delta_source, "days_to_expiry": decision.days_to_expiry,
            "bid": quote.bid, "ask": quote.ask})
        client_id = self._client_id()
        self.booking.contracts[client_id] = quote
        self.quotes[quote.symbol] = quote
        self._submit(OrderRequest(client_id, quote.symbol, decision.quantity, OrderPurpose.ENTRY,
                                  correlation_id=client_id, expected_price=quote.mid), quote)

    def _client_id(self) -> str:
        cid = f"C{self.run_id}{self._next_client:06d}"
        self._next_client += 1
        return cid

    def _submit(self, request: OrderRequest, quote: ContractQuote | None, *, actor: str = "system",
                actor_type: str = "system", as_given: bool = False) -> TrackedOrder:
        now = self._clock() if self.now is None else self.now
        order_type = request.kind.value if as_given else self.config.order_style
        tracked = self.executor.place(  # on_approved: by the gateway, about to reach the broker
            request, quote, now, on_approved=lambda: self.recorder.order_submitted(request, order_type, actor,
                                                                                   actor_type),
            actor=actor, actor_type=actor_type, as_given=as_given)
        if tracked.rejected and not tracked.lean_order_ids:
            self.recorder.order_refused(request, tracked.rejection)
        return tracked

    # -- order events ----------------------------------------------------------------------
    def on_order_update(self, update: OrderUpdate) -> None:
        self.now = update.time
        old = self.previous_run.on_update(update)  # an old order's fill is still booked below
        if book_exercise_event(update, self.assignments, self.book, self.recorder, self.booking) or \
                self.rolls.on_update(update):
            return
        try:
            tracked, check = self.executor.on_update(update)
        except InvalidFillError as exc:
            self.unmatched(update, f"fill refused by the order: {exc}")
            return
        if update.state in (OrderState.FILLED, OrderState.PARTIALLY_FILLED) and update.fill_quantity:
            self._apply_fill(update, tracked, self._origin(update, tracked, old),
                             None if check is None else check.slippage_pct)
        elif update.state == OrderState.INVALID:
            self.recorder.order_rejected(update, tracked.request.correlation_id if tracked else None)

    def _origin(self, update: OrderUpdate, tracked: TrackedOrder | None,
                old: OrderDecision | None) -> FillOrigin | None:
        """The order of a fill: a previous run's (reconciled at the restart, or known by its bot
        tag only), this run's, or None: not the bot's."""
        if old is not None:
            return fill_origin(old)
        if tracked is not None:
            request = tracked.request
            return FillOrigin(request.client_id, request.purpose.value, request.correlation_id)
        return None if update.client_id is None else self.previous_run.origin(update.client_id)

    def unmatched(self, update: OrderUpdate, reason: str) -> None:
        self.recorder.unmatched(update, reason)

    def _flag_unmatched(self, update: OrderUpdate, reason: str) -> None:
        """A fill the bot cannot book (an order it did not place, the rest of a fill through zero) is
        held as a flagged holding, so the ledger, the risk limits and the snapshot see what the account
        now holds; the bot does not manage it."""
        price = update.fill_price if math.isfinite(update.fill_price) else 0.0  # the snapshot is strict JSON
        self.flagged.append(HoldingDecision(HoldingAction.FLAG, update.symbol, update.fill_quantity, price,
                                            f"fill not booked: {reason}", update.client_id,
                                            lean_order_id=update.order_id))

    def record_fill(self, update: OrderUpdate, correlation_id: str | None) -> None:
        """Count, log and audit a fill another component booked (a roll leg)."""
        self.recorder.record_fill(update, correlation_id)

    def book_fill(self, update: OrderUpdate, origin: FillOrigin) -> None:
        """Count, log and book a fill another component could not book itself (a late roll leg)."""
        self.recorder.fill_received(update, None, None)
        self.booking.book(update, origin)

    def position_closed(self, position: BotManagedPosition, update: OrderUpdate, reason: str) -> None:
        self.recorder.position_closed(position, update, reason)

    def record_failure(self, where: str, error: BaseException) -> None:
        """A component raised: stop opening positions until a human looks (fail safe)."""
        self.recorder.record_failure(where, error, self.now)

    def _apply_fill(self, update: OrderUpdate, tracked: TrackedOrder | None, origin: FillOrigin | None,
                    slippage_pct: float | None) -> None:
        working = tracked.working if tracked else None
        self.recorder.fill_received(update, working.remaining_quantity if working else 0, slippage_pct)
        if self.assignments.apply_fill(update) is None:  # else: shares an assignment delivered, being closed
            self.booking.book(update, origin, working, slippage_pct)

    def _covered_all(self) -> dict[str, int]:
        """``covered`` for every open position (once per slice; nothing to add up while no order
        or roll is working, the usual case)."""
        if not self.ledger.working():
            return {}
        return {p.id: self.covered(p) for p in self.book.open_positions()}

    def covered(self, position: BotManagedPosition) -> int:
        """Contracts of ``position`` that working orders already close (the ledger: every working
        order and roll leg on its contract that goes against it, whoever placed it)."""
        return self.ledger.closing(position.symbol, position.quantity)

    def close_position(self, position: BotManagedPosition, purpose: OrderPurpose, reason: str) -> None:
        """Close what is left of ``position`` (not already being closed) through the gateway."""
        count = abs(position.quantity) - self.covered(position)
        if count <= 0:
            return
        logger.info("POSITION_CLOSE_REQUESTED", extra={"position_id": position.id, "reason": reason,
                                                       "quantity": count})
        self._submit(OrderRequest(self._client_id(), position.symbol, count if position.quantity < 0 else -count,
                                  purpose, position_id=position.id, correlation_id=position.correlation_id,
                                  expected_price=position.mark_price), self.quotes.get(position.symbol))

    # -- requests from people and agents (inbox / LEAN commands) -------------------------------
    def submit_external(self, request_id: str, quote: ContractQuote, quantity: int, limit_price: float | None,
                        actor: str, actor_type: str) -> TrackedOrder:
        """Place an order a person or agent queued, through the same gateway as the bot's own."""
        client_id = f"X{request_id}"
        self.booking.contracts[client_id] = quote
        self.quotes[quote.symbol] = quote
        request = OrderRequest(client_id, quote.symbol, quantity, OrderPurpose.EXTERNAL,
                               kind=OrderKind.MARKET if limit_price is None else OrderKind.LIMIT,
                               limit_price=limit_price, correlation_id=request_id,
                               expected_price=quote.mid if quote.has_two_sided_quote else None)
        return self._submit(request, quote, actor=actor, actor_type=actor_type, as_given=True)

    def cancel_external(self, request_id: str) -> bool:
        return self.executor.cancel(f"X{request_id}")

    # -- state -----------------------------------------------------------------------------
    def restore(self, snapshot: StateSnapshot, held: Callable[[PositionSnapshot], int | None], now: datetime,
                open_orders: Sequence[OpenOrder] = (), shares: Shares | None = None, *,
                holdings: Sequence[Holding] | None = None, early: Sequence[OrderUpdate] = ()) -> RestoreReport:
        """Live restart, before anything is sent: positions, shares and the session state from the
        last snapshot; LEAN's other holdings adopted or flagged (``holdings``: all of them); the
        previous run's open orders adopted, cancelled or flagged; then the order events LEAN sent
        before this (``early``: already in its holdings and open orders) booked once."""
        self.now = now
        rewind = Rewind(early)
        report = restore_state(self.book, self.session, self.audit, snapshot, rewind.lookup(held, lambda p: p.symbol),
                               now, (self.assignments, rewind.lookup(shares or (lambda _t: None), str)))
        open_orders = rewind.orders(open_orders)
        if holdings is not None:
            managed = {p.symbol: (p.quantity, p.entry_price) for p in self.book.open_positions()}
            managed.update({s.symbol: (s.quantity, s.cost) for s in self.assignments.stocks.values()})
            report.holdings = plan_holdings(rewind.holdings(holdings, self.config.ticker), managed,
                                            snapshot.working_orders, open_orders, self.config.ticker)
            apply_holdings(report.holdings, now, self.book_fill, self.flagged, self.audit)
        positions = {p.symbol: (p.id, p.quantity) for p in self.book.open_positions()}
        report.orders = plan_orders(open_orders, snapshot.working_orders, positions)
        apply_plan(report.orders, lambda d: adopt(d, self.executor, self.book, now), self.previous_run,
                   self.gateway.cancel, self.audit)
        for update in rewind.events:
            self.on_order_update(update)
        return report

    def snapshot(self, now_utc: datetime, mode: str) -> StateSnapshot:
        view = self.broker.portfolio()
        self.equity_history.append((now_utc, view.total_portfolio_value))
        return build_snapshot(self._snapshot_sources, now_utc, mode, view, self.underlying_price, self.equity_history)

    def state_fingerprint(self) -> tuple[object, ...]:
        """Changes whenever something a restart needs changed (live: the adapter saves then)."""
        return state_fingerprint(self.session, self.ledger, self.counters)
