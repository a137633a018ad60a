"""The LEAN side of the port: turns Slices and OrderEvents into the bot's plain data, and the
bot's OrderRequests into LEAN orders (through execution/lean_broker.py). Only the LEAN side
(execution/lean_*.py) imports AlgorithmImports.

Reads from LEAN objects are kept few: each one crosses the Python/.NET boundary in real LEAN.
The held contracts are looked up by symbol in the chain; the whole chain is read only when the
entry rule is about to act.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import cast

from AlgorithmImports import (
    OptionChain,
    OptionContract,
    OptionRight,
    OrderEvent,
    OrderStatus,
    QCAlgorithm,
    Resolution,
    Slice,
    Symbol,
)

from execution.lean_broker import LeanBroker
from execution.lean_channels import LeanChannels
from execution.lean_restore import Contracts, FirstSlice, client_id_of, option_contract
from execution.orders.inbox_consumer import InboxConsumer
from execution.positions.entry_conditions import closes_of
from execution.trading_bot import TradingBot
from models.audit import AuditAction, new_entry_id
from models.bot_config import BotConfig, Right
from models.market_data import ContractQuote
from models.orders import OrderState, OrderUpdate
from models.risk_limits import RiskLimits
from models.roll_config import RollConfig
from utils.audit_logger import AuditLogger
from utils.audit_retention import cleanup_old_audit_chunks
from utils.audit_sinks import ObjectStoreAuditSink, TextObjectStore
from utils.logging_config import get_logger
from utils.object_store_schema import STATE_KEY
from utils.order_inbox import InboxFormatError, InboxRequest, OrderSpec, read_request

logger = get_logger(__name__)

_STATES = {
    OrderStatus.SUBMITTED: OrderState.SUBMITTED,
    OrderStatus.PARTIALLY_FILLED: OrderState.PARTIALLY_FILLED,
    OrderStatus.FILLED: OrderState.FILLED,
    OrderStatus.CANCELED: OrderState.CANCELED,
    OrderStatus.INVALID: OrderState.INVALID,
}


def static_quote(contract: OptionContract) -> ContractQuote:
    """What does not change about a contract (symbol, right, strike, expiry, open interest); no quote."""
    return ContractQuote(str(contract.symbol.value), Right.CALL if contract.right == OptionRight.CALL else Right.PUT,
                         float(contract.strike), contract.expiry.date(), 0.0, 0.0, float(contract.open_interest))


def quote_from_contract(contract: OptionContract) -> ContractQuote:
    """Everything about a contract (used for entry candidates, where the rule reads the chain)."""
    static = static_quote(contract)
    return held_quote(contract, static.symbol, static)


def held_quote(contract: OptionContract, key: str, known: ContractQuote) -> ContractQuote:
    """A held contract's quote and Greeks: 9 reads across pythonnet (static fields come from
    ``known``, the quote the bot already has for that contract)."""
    return _quote(contract, key, known.right, known.strike, known.expiry, known.open_interest)


def _quote(contract: OptionContract, key: str, right: Right, strike: float, expiry: date,
           open_interest: float) -> ContractQuote:
    greeks = contract.greeks
    if greeks is None:
        delta = gamma = theta = vega = rho = 0.0
    else:
        delta, gamma, theta = float(greeks.delta), float(greeks.gamma), float(greeks.theta)
        vega, rho = float(greeks.vega), float(greeks.rho)
    # positional: (symbol, right, strike, expiry, bid, ask, open_interest, iv, delta, gamma, theta, vega, rho)
    return ContractQuote(key, right, strike, expiry, float(contract.bid_price), float(contract.ask_price),
                         open_interest, float(contract.implied_volatility), delta, gamma, theta, vega, rho)


class LeanBotAdapter:
    """What main.py forwards LEAN's events to."""

    def __init__(self, algorithm: QCAlgorithm, config: BotConfig, limits: RiskLimits, rolls: RollConfig,
                 underlying: Symbol,
                 option: Symbol) -> None:
        self._algorithm = algorithm
        self._underlying = underlying
        self._option = option
        self.broker = LeanBroker(algorithm)
        self.audit = AuditLogger(clock=lambda: utc_now_of(algorithm), session_id=f"run-{new_entry_id()[:8]}",
                                 sinks=[ObjectStoreAuditSink(object_store_of(algorithm))])
        self.bot = TradingBot(config, self.broker, self.audit, limits, rolls)
        self.channels = LeanChannels(algorithm, object_store_of(algorithm), resume=bool(algorithm.live_mode))
        # issue 19: the entry conditions read the underlying's daily closes from LEAN history
        self.bot.entry_gate.history = lambda n: closes_of(algorithm.history(underlying, n, Resolution.DAILY))
        self._retention_day: date | None = None
        self._chain: OptionChain | None = None
        self._commands: list[InboxRequest] = []
        self._next_inbox_poll: datetime | None = None
        self.inbox = InboxConsumer(object_store_of(algorithm), self.bot, self._resolve,
                                   lambda: utc_now_of(algorithm))
        self.audit.log(AuditAction.SYSTEM_START, "Algorithm initialised", resource_type="algorithm",
                       resource_id=type(algorithm).__name__,
                       metadata={"mode": "live" if algorithm.live_mode else "backtest",
                                 "parameters": config.as_parameters()})
        self.inbox.recover()
        self._lock = threading.RLock()  # live: order events arrive on LEAN's brokerage thread
        self.restart = FirstSlice(bool(algorithm.live_mode))  # live: the restore (its .report), events held back
        if algorithm.live_mode:  # client ids unique per start (a tag LEAN keeps for old orders)
            self.bot.run_id = f"{int(utc_now_of(algorithm).timestamp()) % 10**8:08d}"

    # -- data ------------------------------------------------------------------------------
    def on_data(self, data: Slice) -> None:
        with self._lock:
            before = self._fingerprint()
            self._on_data(data)
            self._save_if_changed(before)

    def _fingerprint(self) -> tuple[object, ...] | None:
        return self.bot.state_fingerprint() if self._algorithm.live_mode else None

    def _save_if_changed(self, before: tuple[object, ...] | None) -> None:
        """Live: save the snapshot whenever the session state, the book or the working orders
        changed, so a restart finds them as they were."""
        if before is not None and self.bot.state_fingerprint() != before:
            self.save_state()

    def _on_data(self, data: Slice) -> None:
        chain: OptionChain | None = None
        try:
            if self.restart.pending:  # live: LEAN loads the brokerage holdings after initialize()
                contracts = Contracts(self.broker.remember, self.broker.static, self.broker.tickets)
                self.restart.restore(self._algorithm, self.bot, contracts, utc_now_of(self._algorithm))
            chain = data.option_chains.get(self._option)
            spot = float(self._algorithm.securities[self._underlying].price)
            held = self._held_quotes(chain)
            now, wanted = self._algorithm.time, None
            reading = self.bot.wants_candidates(now)
            if reading:
                wanted = self.bot.candidate_filter(now)
            candidates = self._candidates(chain, wanted) if reading else None
            self.bot.on_market(now, spot, held, candidates)
            self._record_chain(chain, spot, candidates if wanted is None else None)
        except Exception as exc:
            logger.exception("ON_DATA_FAILED", extra={"time": str(self._algorithm.time)})
            self.bot.record_failure("on_data", exc)
        self._requests(chain)  # even after a failure: a halt or a cancel must still get through

    # -- requests from people and agents -------------------------------------------------------
    def _requests(self, chain: OptionChain | None) -> None:
        """LEAN commands received since the last slice, then the Object Store inbox when due."""
        minutes = self.bot.config.inbox_poll_minutes
        now = self._algorithm.time
        due = minutes > 0 and (self._next_inbox_poll is None or now >= self._next_inbox_poll)
        if not self._commands and not due:
            return
        self._chain = chain
        try:
            while self._commands:
                self.inbox.handle(self._commands.pop(0))
            if due:
                self._next_inbox_poll = now + timedelta(minutes=minutes)
                self.inbox.poll()
        except Exception as exc:
            logger.exception("INBOX_FAILED", extra={"time": str(now)})
            self.bot.record_failure("inbox", exc)
        finally:
            self._chain = None

    def queue_command(self, request_json: str) -> bool:
        with self._lock:
            return self._queue_command(request_json)

    def _queue_command(self, request_json: str) -> bool:
        """A LEAN command carrying an inbox request: parsed now, acted on at the next slice."""
        try:
            request = read_request(request_json)
        except InboxFormatError as exc:
            logger.warning("COMMAND_REJECTED", extra={"error": str(exc)})
            return False
        self._commands.append(request)
        return True

    def _resolve(self, spec: OrderSpec) -> ContractQuote | None:
        chain = self._chain
        if chain is None:
            return None
        right = OptionRight.CALL if spec.right == "call" else OptionRight.PUT
        for contract in chain:
            if (contract.right == right and abs(float(contract.strike) - spec.strike) < 1e-6
                    and contract.expiry.date() == spec.expiry):
                return self._learn(contract)
        return None

    def _held_quotes(self, chain: OptionChain | None) -> dict[str, ContractQuote]:
        """Quotes of the held and worked contracts: from the chain, else (a contract that left the
        filtered chain, or no chain this slice) from its security, which LEAN keeps subscribed
        while it is held; stops then still see a current mark (issue 13, fault 10)."""
        quotes: dict[str, ContractQuote] = {}
        contracts = chain.contracts if chain is not None else None
        symbols, static = self.broker.symbols, self.broker.static
        for key in self.bot.watched_symbols():
            symbol = symbols.get(key)
            known = static.get(key)
            if symbol is None or known is None:
                continue
            contract = contracts.get(symbol) if contracts is not None else None
            quote = held_quote(contract, key, known) if contract is not None else self._security_quote(symbol, known)
            if quote is not None:
                quotes[key] = quote
        return quotes

    def _security_quote(self, symbol: Symbol, known: ContractQuote) -> ContractQuote | None:
        """Bid and ask of a contract's security (no Greeks: the bot computes its own from the mid)."""
        securities = self._algorithm.securities
        if not securities.contains_key(symbol):
            return None
        security = securities[symbol]
        bid, ask = float(security.bid_price), float(security.ask_price)
        if not 0 < bid <= ask:
            return None  # no usable quote: the bot reports the contract as missing (an alert)
        return ContractQuote(known.symbol, known.right, known.strike, known.expiry, bid, ask, known.open_interest)

    def _record_chain(self, chain: OptionChain | None, spot: float, read: list[ContractQuote] | None) -> None:
        """Every snapshot interval: the chain slice the snapshot carries (the quotes read this slice, if any)."""
        recorder, now = self.bot.chain_slice, self._algorithm.time
        if chain is not None and spot > 0 and recorder.due(now):
            quotes = read if read is not None else self._candidates(chain)
            recorder.capture(now, utc_now_of(self._algorithm), spot, quotes)

    def _candidates(self, chain: OptionChain | None,
                    wanted: Callable[[ContractQuote], bool] | None = None) -> list[ContractQuote]:
        """The chain's quotes with LEAN's Greeks; with ``wanted``, only the contracts it accepts on
        their static fields and bid/ask get their Greeks read (each read crosses pythonnet, and
        LEAN's price model evaluates the Greeks of what is read)."""
        if chain is None:
            return []
        if wanted is None:
            return [self._learn(contract) for contract in chain]
        out = []
        for contract in chain:
            self.broker.remember(contract.symbol)
            static = static_quote(contract)
            self.broker.static.setdefault(static.symbol, static)
            if wanted(static._replace(bid=float(contract.bid_price), ask=float(contract.ask_price))):
                quote = held_quote(contract, static.symbol, static)
                self.broker.static[quote.symbol] = quote
                out.append(quote)
        return out

    def _learn(self, contract: OptionContract) -> ContractQuote:
        """A chain contract's full quote; its Symbol and static fields are kept for later slices."""
        self.broker.remember(contract.symbol)
        quote = quote_from_contract(contract)
        self.broker.static[quote.symbol] = quote
        return quote

    # -- orders ----------------------------------------------------------------------------
    def on_order_event(self, event: OrderEvent) -> None:
        with self._lock:
            self._on_order_event(event)

    def _on_order_event(self, event: OrderEvent) -> None:
        if self.restart.hold(event, self._translate):  # before the restore: booked after it
            return
        before = self._fingerprint()
        try:
            self.bot.on_order_update(self._translate(event))
        except Exception as exc:
            logger.exception("ORDER_EVENT_FAILED", extra={"order_id": int(event.order_id)})
            self.bot.record_failure("on_order_event", exc)
        self._save_if_changed(before)

    def on_assignment(self, event: OrderEvent) -> None:
        """LEAN's notice of an assignment; the same event also reaches ``on_order_event``, which books it."""
        logger.warning("ASSIGNMENT_NOTICE", extra={"lean_order_id": int(event.order_id), "symbol": str(event.symbol),
                                                   "fill_quantity": float(event.fill_quantity)})

    def _translate(self, event: OrderEvent) -> OrderUpdate:
        order = self._algorithm.transactions.get_order_by_id(event.order_id)
        client_id = client_id_of(str(order.tag) if order is not None and order.tag else "")
        fee = float(event.order_fee.value.amount) if event.order_fee is not None else 0.0
        key = self.broker.remember(event.symbol)
        state = _STATES.get(event.status, OrderState.OTHER)
        filled = state in (OrderState.FILLED, OrderState.PARTIALLY_FILLED)
        return OrderUpdate(
            order_id=int(event.order_id), client_id=client_id, symbol=key, state=state,
            fill_price=float(event.fill_price), fill_quantity=round(float(event.fill_quantity)), fee=fee,
            time=self._algorithm.time, is_assignment=bool(event.is_assignment), message=str(event.message or ""),
            contract=option_contract(self.broker.static, event.symbol, key) if filled else None)

    # -- state -----------------------------------------------------------------------------
    def save_state(self) -> bool:
        """Write the state snapshot and flush the audit trail; a failure is logged, never raised."""
        with self._lock:
            return self._save_state()

    def _save_state(self) -> bool:
        self._apply_retention()
        self.audit.flush()
        try:
            now = utc_now_of(self._algorithm)
            mode = "live" if self._algorithm.live_mode else "backtest"
            snapshot = self.bot.snapshot(now, mode)
            self.channels.on_snapshot(snapshot)
            return bool(self._algorithm.object_store.save(STATE_KEY, snapshot.to_json()))
        except Exception as exc:
            logger.exception("STATE_SAVE_FAILED", extra={"key": STATE_KEY})
            self.audit.log_component_failure("state_snapshot", "save", exc, recoverable=True,
                                             context={"key": STATE_KEY})
            return False

    def _apply_retention(self) -> None:
        """Once per algorithm day: drop audit chunks older than ``audit_retention_days``."""
        today = utc_now_of(self._algorithm).date()
        if self._retention_day == today:
            return
        self._retention_day = today
        try:
            cleanup_old_audit_chunks(self._algorithm.object_store, today, self.bot.config.audit_retention_days,
                                     audit=self.audit)
        except Exception as exc:
            logger.exception("AUDIT_RETENTION_FAILED", extra={"day": today.isoformat()})
            self.audit.log_component_failure("audit_retention", "cleanup", exc, recoverable=True)

    def on_end(self) -> None:
        self.audit.log(AuditAction.SYSTEM_STOP, "End of algorithm", resource_type="algorithm",
                       resource_id=type(self._algorithm).__name__, metadata={"counters": dict(self.bot.counters)})
        self.save_state()
        self.channels.on_end(dict(self.bot.counters))


def object_store_of(algorithm: QCAlgorithm) -> TextObjectStore:
    """LEAN's ObjectStore as the text store our audit sink needs. The cast is for the stubs only:
    they declare ``read(path, encoding: Encoding = None)`` (a None default on a non-optional
    type), which no protocol can match although ``read(path)`` is a valid call."""
    return cast(TextObjectStore, algorithm.object_store)


def utc_now_of(algorithm: QCAlgorithm) -> datetime:
    moment = algorithm.utc_time
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
