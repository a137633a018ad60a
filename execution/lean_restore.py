"""Live restart on LEAN: the last snapshot, the brokerage's holdings and the open order tickets of
the previous run, handed to the bot as plain data (execution/session/: restore and reconcile).

LEAN loads the brokerage's holdings and open orders after ``initialize()``, so the adapter calls
``restore_from_lean`` at the first slice, before the bot decides or sends anything. Order events
LEAN delivers before that are held back by the adapter and handed over too (``early``): their
fills are in LEAN's holdings already, so the bot books them once, after the restore.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Protocol

from AlgorithmImports import (
    Market,
    OptionRight,
    OptionStyle,
    OrderEvent,
    OrderTicket,
    QCAlgorithm,
    SecurityType,
    Symbol,
)

from execution.session.holdings import Holding
from execution.session.reconcile import OpenOrder
from execution.session.state_restore import RestoreReport
from models.bot_config import Right
from models.exceptions import SnapshotFormatError
from models.market_data import ContractQuote
from models.orders import OrderUpdate
from utils.logging_config import get_logger
from utils.object_store_schema import STATE_KEY, PositionSnapshot, StateSnapshot, parse_state_snapshot

logger = get_logger(__name__)

TAG_PREFIX = "bot:"

class Restore(Protocol):  # TradingBot.restore
    def __call__(self, snapshot: StateSnapshot, held: Callable[[PositionSnapshot], int | None], now: datetime,
                 open_orders: Sequence[OpenOrder] = (), shares: Callable[[str], int | None] | None = None, *,
                 holdings: Sequence[Holding] | None = None, early: Sequence[OrderUpdate] = ()) -> RestoreReport: ...


class Contracts:
    """What the adapter's broker keeps per contract: its LEAN Symbol, static fields, tickets."""

    def __init__(self, remember: Callable[[Symbol], str], static: dict[str, ContractQuote],
                 tickets: dict[int, OrderTicket]) -> None:
        self.remember, self.static, self.tickets = remember, static, tickets


class Bot(Protocol):
    restore: Restore

    def record_failure(self, where: str, error: BaseException) -> None: ...

    def on_order_update(self, update: OrderUpdate) -> None: ...


class FirstSlice:
    """Live: the restore at the first slice, and the order events LEAN delivers before it (on its
    brokerage thread, after ``initialize()``), held back and handed to the restore."""

    def __init__(self, live: bool) -> None:
        self.pending = live
        self.early: list[OrderUpdate] = []
        self.report: RestoreReport | None = None

    def hold(self, event: OrderEvent, translate: Callable[[OrderEvent], OrderUpdate]) -> bool:
        if not self.pending:
            return False
        self.early.append(translate(event))
        logger.warning("ORDER_EVENT_BEFORE_RESTORE", extra={"lean_order_id": int(event.order_id)})
        return True

    def restore(self, algorithm: QCAlgorithm, bot: Bot, contracts: Contracts, now: datetime) -> None:
        self.pending, early, self.early = False, self.early, []
        self.report = restore_from_lean(algorithm, bot.restore, bot.record_failure, contracts, now, early)
        for update in early if self.report is None else ():  # nothing restored: booked as usual
            bot.on_order_update(update)


def client_id_of(tag: str) -> str | None:
    return tag[len(TAG_PREFIX):] if tag.startswith(TAG_PREFIX) else None


def restore_from_lean(algorithm: QCAlgorithm, restore: Restore, fail: Callable[[str, Exception], None],
                      contracts: Contracts, now: datetime, early: Sequence[OrderUpdate] = ()) -> RestoreReport | None:
    """None when there is nothing to restore (no snapshot: a first start) or the snapshot is
    unreadable; the caller then books ``early`` as usual."""
    store = algorithm.object_store
    if not store.contains_key(STATE_KEY):
        return None
    try:
        snapshot = parse_state_snapshot(store.read(STATE_KEY))
    except SnapshotFormatError as exc:
        fail("state_restore", exc)  # fail safe: no entries until a person looks
        return None
    return restore(snapshot, lambda saved: _held(algorithm, contracts, saved), now,
                   open_orders(algorithm, contracts), lambda ticker: _shares(algorithm, ticker),
                   holdings=holdings(algorithm, contracts, {u.symbol for u in early}), early=early)


def holdings(algorithm: QCAlgorithm, contracts: Contracts, also: set[str]) -> list[Holding]:
    """Every holding LEAN's Portfolio has (the brokerage's, loaded after ``initialize()``), and the
    contracts ``also`` names even when flat (an early fill closed them)."""
    out = []
    for holding in algorithm.portfolio.values():
        symbol = holding.symbol
        key = contracts.remember(symbol)
        quantity = round(float(holding.quantity))
        if not quantity and key not in also:
            continue
        contract = option_contract(contracts.static, symbol, key)
        underlying = str(symbol.underlying.value) if contract is not None else key
        out.append(Holding(key, quantity, float(holding.average_price), contract, underlying))
    return out


def open_orders(algorithm: QCAlgorithm, contracts: Contracts) -> list[OpenOrder]:
    """LEAN's open order tickets (the brokerage kept them over the restart); each ticket is kept
    so the bot can cancel it."""
    out = []
    for ticket in algorithm.transactions.get_open_order_tickets():
        order_id = int(ticket.order_id)
        contracts.tickets[order_id] = ticket
        remaining = round(float(ticket.quantity) - float(ticket.quantity_filled))
        client_id = client_id_of(str(ticket.tag or ""))
        key = contracts.remember(ticket.symbol)
        contract = option_contract(contracts.static, ticket.symbol, key)
        out.append(OpenOrder(order_id, key, remaining, client_id, contract))
    return out


def option_contract(static: dict[str, ContractQuote], symbol: Symbol, key: str) -> ContractQuote | None:
    """An option's right, strike and expiry from its Symbol (LEAN's SecurityIdentifier), kept in the
    adapter's static fields too: the contract is quoted while an order on it works, and a fill of
    an order the bot no longer tracks can still become a position. None for the underlying."""
    if symbol.security_type != SecurityType.OPTION:
        return None
    known = static.get(key)
    if known is None:
        sid = symbol.id
        right = Right.CALL if sid.option_right == OptionRight.CALL else Right.PUT
        known = ContractQuote(key, right, float(sid.strike_price), sid.date.date(), 0.0, 0.0)
        static[key] = known
    return known


def _shares(algorithm: QCAlgorithm, ticker: str) -> int | None:
    """LEAN's holding of the underlying's shares (an assignment delivered them)."""
    try:
        return round(float(algorithm.portfolio[ticker].quantity))
    except KeyError:
        return None


def _held(algorithm: QCAlgorithm, contracts: Contracts, saved: PositionSnapshot) -> int | None:
    """LEAN's holding of a contract named in the snapshot (and remember its Symbol)."""
    right = OptionRight.CALL if saved.right == "call" else OptionRight.PUT
    expiry = date.fromisoformat(saved.expiry)
    symbol = Symbol.create_option(saved.underlying, Market.USA, OptionStyle.AMERICAN, right, saved.strike,
                                  datetime(expiry.year, expiry.month, expiry.day))
    key = contracts.remember(symbol)
    contracts.static[key] = ContractQuote(key, Right(saved.right), saved.strike, expiry, 0.0, 0.0)
    try:
        return round(float(algorithm.portfolio[symbol].quantity))
    except KeyError:
        return None
