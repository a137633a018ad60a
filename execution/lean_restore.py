"""Live restart on LEAN: the last snapshot, the brokerage's holdings and the open order tickets of
the previous run, handed to the bot as plain data (execution/session/: restore and reconcile).

LEAN loads the brokerage's holdings and open orders after ``initialize()``, so the adapter calls
``restore_from_lean`` at the first slice, before the bot decides or sends anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

from AlgorithmImports import Market, OptionRight, OptionStyle, OrderTicket, QCAlgorithm, SecurityType, Symbol

from execution.session.reconcile import OpenOrder
from execution.session.state_restore import RestoreReport
from models.bot_config import Right
from models.exceptions import SnapshotFormatError
from models.market_data import ContractQuote
from utils.object_store_schema import STATE_KEY, PositionSnapshot, StateSnapshot, parse_state_snapshot

TAG_PREFIX = "bot:"

Restore = Callable[[StateSnapshot, Callable[[PositionSnapshot], "int | None"], datetime, Sequence[OpenOrder],
                    Callable[[str], "int | None"]], RestoreReport]  # TradingBot.restore


class Contracts:
    """What the adapter's broker keeps per contract: its LEAN Symbol, static fields, tickets."""

    def __init__(self, remember: Callable[[Symbol], str], static: dict[str, ContractQuote],
                 tickets: dict[int, OrderTicket]) -> None:
        self.remember, self.static, self.tickets = remember, static, tickets


def client_id_of(tag: str) -> str | None:
    return tag[len(TAG_PREFIX):] if tag.startswith(TAG_PREFIX) else None


def restore_from_lean(algorithm: QCAlgorithm, restore: Restore, fail: Callable[[str, Exception], None],
                      contracts: Contracts, now: datetime) -> RestoreReport | None:
    store = algorithm.object_store
    if not store.contains_key(STATE_KEY):
        return None
    try:
        snapshot = parse_state_snapshot(store.read(STATE_KEY))
    except SnapshotFormatError as exc:
        fail("state_restore", exc)  # fail safe: no entries until a person looks
        return None
    return restore(snapshot, lambda saved: _held(algorithm, contracts, saved), now,
                   open_orders(algorithm, contracts), lambda ticker: _shares(algorithm, ticker))


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
