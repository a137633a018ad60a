"""Trades and exits rebuilt from the audit trail (pure: no I/O).

The trail is replayed in order. Every ``order.fill`` moves one contract's position: a fill in the
direction of the position (or on a flat contract) opens or adds, a fill against it closes and
realises ``-fill_quantity x (fill_price - average_entry) x multiplier``. What the fill was *for*
comes from the order it belongs to:

- an order the bot submitted (``order.submit``, ``after_state.purpose``): ``entry``,
  ``profit_take`` (with the ladder level of the ``trade.profit_take`` just before it),
  ``stop_loss``, ``expiry_guard``, ``roll`` (a roll that could not roll closes as ``roll``),
  ``external`` (a person's or an agent's request: the reason names the actor type);
- a roll leg (the order id is the roll id of a ``roll.start``): ``roll``;
- ``assignment`` when LEAN flagged the fill ``is_assignment`` (``metadata.is_assignment``); a fill
  of no order the bot placed otherwise: ``expiry`` when it settles at 0 (LEAN's exercise model
  books an expiring contract at 0), ``assignment`` when it moves at a price. An assignment's P&L
  here is the option leg's; the delivered shares are another security (audited as unmatched).

Entry facts for the buckets: DTE at entry from the contract's expiry and the fill time, delta from
``trade.open``'s ``metadata.at_entry`` (LEAN's delta at order time; ``None`` when LEAN had none),
or the roll target's delta from ``roll.complete``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from models.audit import AuditAction, AuditEntry

# US equity options; a trail does not carry the security's multiplier.
DEFAULT_MULTIPLIER = 100.0


@dataclass
class Exit:
    """One closing fill."""

    trade_id: str
    symbol: str
    time: datetime
    reason: str  # "profit_take L1", "stop_loss", "expiry_guard", "roll", "assignment", "expiry", "request:human"...
    quantity: int  # contracts closed (positive)
    price: float
    pnl: float  # gross realised P&L of this fill
    fee: float


@dataclass
class Trade:
    """One position on one contract, from its opening fill to flat."""

    id: str
    symbol: str
    side: str  # "short" or "long"
    opened_at: datetime
    origin: str  # "entry", "roll", "external", "assignment"...
    entry_price: float
    contracts: int  # largest size held
    dte_at_entry: int | None
    delta_at_entry: float | None
    quantity: int = 0  # signed, now
    fees: float = 0.0
    exits: list[Exit] = field(default_factory=list)
    closed_at: datetime | None = None

    @property
    def gross_pnl(self) -> float:
        return sum(e.pnl for e in self.exits)

    @property
    def net_pnl(self) -> float:
        return self.gross_pnl - self.fees

    @property
    def is_closed(self) -> bool:
        return self.quantity == 0 and self.closed_at is not None

    @property
    def exit_reason(self) -> str:
        return self.exits[-1].reason if self.exits else "open"


@dataclass
class FillRecord:
    """One fill with what is known of its order (for slippage and fees)."""

    time: datetime
    order_id: str
    symbol: str
    quantity: int
    price: float
    fee: float
    purpose: str
    order_type: str
    slippage_pct: float | None  # vs the mid at order time, percent; > 0 adverse

    @property
    def slippage_usd(self) -> float | None:
        """``slippage_pct`` of the mid, in dollars (the mid recovered from the fill price)."""
        s = self.slippage_pct
        if s is None or not math.isfinite(s):
            return None
        rate = s / 100.0
        divisor = 1.0 + rate if self.quantity > 0 else 1.0 - rate  # buy: fill = mid(1+s); sell: mid(1-s)
        mid = self.price / divisor if divisor > 0 else 0.0
        return rate * mid * abs(self.quantity) * DEFAULT_MULTIPLIER


@dataclass
class Roll:
    roll_id: str
    time: datetime
    from_symbol: str
    to_symbol: str
    expected_credit: float | None  # USD, at the net mid when the roll was chosen
    actual_credit: float  # USD, from the legs' fills (negative: a debit)
    completed: bool


@dataclass
class TradeLedger:
    trades: list[Trade] = field(default_factory=list)
    fills: list[FillRecord] = field(default_factory=list)
    rolls: list[Roll] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def expiry_of(symbol: str) -> date | None:
    """Expiry of an OSI-style option symbol (``GOOG  160122P00720000`` -> 2016-01-22)."""
    code = symbol.replace(" ", "")
    if len(code) < 16 or not code[-15:-9].isdigit() or code[-9] not in "CP":
        return None
    yymmdd = code[-15:-9]
    try:
        return date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6]))
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


class _Replay:
    def __init__(self, multiplier: float) -> None:
        self.m = multiplier
        self.ledger = TradeLedger()
        self.open: dict[str, Trade] = {}  # by symbol
        self.orders: dict[str, dict[str, Any]] = {}  # client id -> submit after_state + actor type
        self.rolls: dict[str, dict[str, Any]] = {}  # roll id -> {"from", "fills": [...], "expected"}
        self.ladder_level: dict[str, int] = {}  # correlation id -> level of the last profit-take trigger
        self.entry_delta: dict[str, float | None] = {}  # symbol -> delta at order time

    def feed(self, entry: AuditEntry) -> None:
        action, after, meta = entry.action, entry.after_state or {}, entry.metadata
        if action == AuditAction.ORDER_SUBMIT:
            order = dict(after)
            order["actor_type"] = entry.actor_type
            order["ladder_level"] = self.ladder_level.pop(entry.correlation_id or "", None)
            self.orders[entry.resource_id] = order
        elif action == AuditAction.PROFIT_TAKE:
            level = meta.get("ladder_level")
            if isinstance(level, int) and entry.correlation_id:
                self.ladder_level[entry.correlation_id] = level
        elif action == AuditAction.ROLL_START:
            self.rolls[entry.resource_id] = {"from": (entry.before_state or {}).get("symbol", ""),
                                             "time": entry.timestamp, "fills": []}
        elif action == AuditAction.ROLL_COMPLETE or action == AuditAction.ROLL_FAIL:
            self._finish_roll(entry, completed=action == AuditAction.ROLL_COMPLETE)
        elif action == AuditAction.TRADE_OPEN:
            at_entry = meta.get("at_entry")
            if isinstance(at_entry, dict):
                symbol = str(after.get("symbol", ""))
                trade = self.open.get(symbol)
                if trade is not None and trade.delta_at_entry is None:
                    trade.delta_at_entry = _number(at_entry.get("delta"))
        elif action == AuditAction.ORDER_FILL:
            self._fill(entry, meta)

    def _finish_roll(self, entry: AuditEntry, completed: bool) -> None:
        roll = self.rolls.pop(entry.resource_id, None)
        if roll is None:
            return
        meta = entry.metadata
        credit = -sum(q * p for q, p in roll["fills"]) * self.m
        to_symbol = str(meta.get("open_symbol") or (entry.after_state or {}).get("symbol") or "")
        self.ledger.rolls.append(Roll(entry.resource_id, entry.timestamp, str(roll["from"]), to_symbol,
                                      _number(meta.get("expected_net_credit")), credit, completed))
        trade = self.open.get(to_symbol)
        delta = _number(meta.get("delta"))
        if trade is not None and trade.delta_at_entry is None and delta is not None:
            trade.delta_at_entry = delta

    def _fill(self, entry: AuditEntry, meta: dict[str, Any]) -> None:
        symbol = meta.get("symbol")
        quantity, price = _number(meta.get("fill_quantity")), _number(meta.get("fill_price"))
        if not isinstance(symbol, str) or quantity is None or price is None or quantity == 0:
            self.ledger.warnings.append(f"{entry.timestamp:%Y-%m-%d %H:%M} order.fill {entry.resource_id}: "
                                        "no symbol, quantity or price; skipped")
            return
        qty, fee = int(quantity), _number(meta.get("fee")) or 0.0
        order = self.orders.get(entry.resource_id)
        if meta.get("is_assignment") is True:
            purpose, order_type = "assignment", "exercise"
        elif entry.resource_id in self.rolls:
            self.rolls[entry.resource_id]["fills"].append((qty, price))
            purpose, order_type = "roll", "combo"
        elif order is not None:
            purpose, order_type = str(order.get("purpose", "unknown")), str(order.get("order_type", "unknown"))
        else:
            purpose, order_type = ("expiry" if price == 0 else "assignment"), "exercise"
        self.ledger.fills.append(FillRecord(entry.timestamp, entry.resource_id, symbol, qty, price, fee, purpose,
                                            order_type, _number(meta.get("slippage_pct"))))
        trade = self.open.get(symbol)
        if trade is None or (trade.quantity > 0) == (qty > 0):
            self._open(entry, trade, symbol, qty, price, fee, purpose)
            return
        self._close(entry, trade, qty, price, fee, self._reason(purpose, order))

    @staticmethod
    def _reason(purpose: str, order: dict[str, Any] | None) -> str:
        if purpose == "profit_take" and order is not None and order.get("ladder_level") is not None:
            return f"profit_take L{order['ladder_level']}"
        if purpose == "external":
            return f"request:{order.get('actor_type', 'unknown') if order else 'unknown'}"
        return purpose

    def _open(self, entry: AuditEntry, trade: Trade | None, symbol: str, qty: int, price: float, fee: float,
              purpose: str) -> None:
        if trade is None:
            expiry = expiry_of(symbol)
            dte = (expiry - entry.timestamp.date()).days if expiry else None
            trade = Trade(id=f"T{len(self.ledger.trades) + 1:05d}", symbol=symbol,
                          side="short" if qty < 0 else "long", opened_at=entry.timestamp, origin=purpose,
                          entry_price=price, contracts=0, dte_at_entry=dte, delta_at_entry=None)
            self.ledger.trades.append(trade)
            self.open[symbol] = trade
        else:
            held = abs(trade.quantity)
            trade.entry_price = (trade.entry_price * held + price * abs(qty)) / (held + abs(qty))
        trade.quantity += qty
        trade.contracts = max(trade.contracts, abs(trade.quantity))
        trade.fees += fee

    def _close(self, entry: AuditEntry, trade: Trade, qty: int, price: float, fee: float, reason: str) -> None:
        closing = min(abs(qty), abs(trade.quantity))
        signed = closing if qty > 0 else -closing
        pnl = -signed * (price - trade.entry_price) * self.m
        trade.exits.append(Exit(trade.id, trade.symbol, entry.timestamp, reason, closing, price, pnl, fee))
        trade.quantity += signed
        trade.fees += fee
        if trade.quantity == 0:
            trade.closed_at = entry.timestamp
            del self.open[trade.symbol]
        if closing < abs(qty):  # the fill went through flat: the rest opens the other way
            self.ledger.warnings.append(f"{entry.timestamp:%Y-%m-%d %H:%M} {trade.symbol}: fill of {qty} "
                                        f"crossed flat; {abs(qty) - closing} contracts opened the other way")
            self._open(entry, None, trade.symbol, qty - signed, price, 0.0, "crossed")


def build_ledger(entries: Iterable[AuditEntry], multiplier: float = DEFAULT_MULTIPLIER) -> TradeLedger:
    """Replay ``entries`` (in trail order) into trades, fills and rolls."""
    replay = _Replay(multiplier)
    for entry in entries:
        replay.feed(entry)
    return replay.ledger
