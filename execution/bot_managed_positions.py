"""Positions the bot opened and manages ("bot-managed"), kept in step with LEAN's fills.

A position is opened by the fill of an entry order, changes with every fill (partial fills
included) and is closed when its quantity reaches zero. Quantities are signed whole contracts
(negative = short); P&L uses the security's contract multiplier.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from models.bot_config import Right
from models.exceptions import TradingError
from utils.logging_config import get_logger

logger = get_logger(__name__)


class PositionStatus(StrEnum):
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


class FillRejected(TradingError):
    """A fill that cannot apply to a position (bad number, would flip it)."""


@dataclass
class BotManagedPosition:
    id: str
    symbol: str
    underlying: str
    right: Right
    strike: float
    expiry: date
    multiplier: float
    opened_at: datetime
    quantity: int = 0
    entry_price: float = 0.0  # average price of the contracts still held
    realized_pnl: float = 0.0
    fees: float = 0.0
    mark_price: float | None = None
    status: PositionStatus = PositionStatus.OPEN
    closed_at: datetime | None = None

    @property
    def side(self) -> str:
        return "short" if self.quantity < 0 else "long"

    @property
    def unrealized_pnl(self) -> float:
        if self.mark_price is None or self.quantity == 0:
            return 0.0
        return (self.mark_price - self.entry_price) * self.quantity * self.multiplier

    def days_to_expiry(self, today: date) -> int:
        return (self.expiry - today).days

    def apply_fill(self, quantity: int, price: float, fee: float, when: datetime) -> float:
        """Apply a fill of ``quantity`` signed contracts; return the P&L it realised.

        A fill that would flip the position through zero raises ``FillRejected``: the caller
        records the remainder as a position of its own so the book still matches the broker.
        """
        if quantity == 0 or not math.isfinite(price) or price < 0 or not math.isfinite(fee):
            raise FillRejected(f"fill {quantity} @ {price} (fee {fee}) is not a valid fill")
        held = self.quantity
        if held != 0 and (held > 0) != (quantity > 0) and abs(quantity) > abs(held):
            raise FillRejected(f"fill {quantity} would flip position {self.id} holding {held}")
        realized = 0.0
        if held == 0 or (held > 0) == (quantity > 0):
            self.entry_price = (self.entry_price * held + price * quantity) / (held + quantity)
        else:
            realized = (price - self.entry_price) * -quantity * self.multiplier
            self.realized_pnl += realized
        self.quantity = held + quantity
        self.fees += fee
        if self.quantity == 0:
            self.status = PositionStatus.CLOSED
            self.closed_at = when
        return realized


class PositionBook:
    """Every bot-managed position, by id, with the open one per contract symbol."""

    def __init__(self) -> None:
        self.positions: dict[str, BotManagedPosition] = {}
        self._open_by_symbol: dict[str, str] = {}
        self._next = 1

    def new_id(self) -> str:
        pid = f"P{self._next:05d}"
        self._next += 1
        return pid

    def add(self, position: BotManagedPosition) -> None:
        self.positions[position.id] = position
        self._open_by_symbol[position.symbol] = position.id

    def open_for_symbol(self, symbol: str) -> BotManagedPosition | None:
        pid = self._open_by_symbol.get(symbol)
        return self.positions[pid] if pid is not None else None

    def mark_closed(self, position: BotManagedPosition) -> None:
        if self._open_by_symbol.get(position.symbol) == position.id:
            del self._open_by_symbol[position.symbol]

    def open_positions(self) -> list[BotManagedPosition]:
        return [self.positions[pid] for pid in self._open_by_symbol.values()]

    @property
    def held_symbols(self) -> list[str]:
        return list(self._open_by_symbol)
