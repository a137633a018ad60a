"""Positions the bot opened and manages ("bot-managed"), kept in step with LEAN's fills.

A position is opened by the fill of an entry order, changes with every fill (partial fills
included) and is closed when its quantity reaches zero. Quantities are signed whole contracts
(negative = short); P&L uses the security's contract multiplier, never a literal 100.

``calculate_close_quantity`` is the one rule for how many contracts a profit-taking level closes
(seed 3.1, settled by issue 3): round to the nearest contract with halves rounding down, never
close the whole position on a partial level, and skip a level that would close fewer than
``min_close`` contracts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum

from models.bot_config import Right
from models.exceptions import PositionSizingError, TradingError
from utils.logging_config import get_logger

logger = get_logger(__name__)


_HALF_TOLERANCE = 1e-9  # 15 x 0.1 is 1.5000000000000002 in floats; it is a half, not more


def calculate_close_quantity(current_quantity: int, take_pct: float, min_close: int = 1) -> int:
    """Contracts a profit-taking level closes out of ``current_quantity`` (absolute contracts).

    ``take_pct`` >= 1 closes everything. Otherwise ``current_quantity * take_pct`` rounds to the
    nearest contract with halves rounding down, is capped at ``current_quantity - 1`` (a partial
    level never closes the whole position), and a result below ``min_close`` is 0: skip the level.
    Raises ``PositionSizingError`` (a ``ValueError``) for a negative or non-integer quantity, a
    ``take_pct`` outside (0, 1] or a ``min_close`` below 1.
    """
    if isinstance(current_quantity, bool) or not isinstance(current_quantity, int) or current_quantity < 0:
        raise PositionSizingError(f"current_quantity must be a whole number >= 0, got {current_quantity!r}")
    if isinstance(take_pct, bool) or not isinstance(take_pct, int | float) or not 0 < take_pct <= 1:
        raise PositionSizingError(f"take_pct must satisfy 0 < take_pct <= 1, got {take_pct!r}")
    if isinstance(min_close, bool) or not isinstance(min_close, int) or min_close < 1:
        raise PositionSizingError(f"min_close must be a whole number >= 1, got {min_close!r}")
    if current_quantity == 0:
        return 0
    if take_pct >= 1:
        return current_quantity
    raw = current_quantity * take_pct
    target = max(0, math.ceil(raw - 0.5 - _HALF_TOLERANCE * max(1.0, raw)))
    target = min(target, current_quantity - 1)
    return target if target >= min_close else 0


class GreeksSource(StrEnum):
    MARKET = "market"  # LEAN's option chain (contract.greeks)
    CALCULATED = "calculated"  # our Black-Scholes from the mid price (LEAN had none yet)


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
    correlation_id: str | None = None  # the entry order's client id; follows every later order
    # Greeks per contract (per share of the underlying), LEAN conventions: theta is annual.
    delta: float = 0.0
    gamma: float = 0.0
    theta: float = 0.0
    vega: float = 0.0
    rho: float = 0.0
    iv: float = 0.0
    underlying_price: float = 0.0
    greeks_updated_at: datetime | None = None
    greeks_source: GreeksSource | None = None
    ladder_levels_done: set[int] = field(default_factory=set)
    roll_history: list[dict[str, str]] = field(default_factory=list)  # rolls that led to this position
    quantity_before_close: int = 0  # what the fill that closed the position closed (keeps its side)

    @property
    def side(self) -> str:
        """"short" or "long"; a closed position keeps the side it had (the snapshot lists it)."""
        return "short" if (self.quantity or self.quantity_before_close) < 0 else "long"

    @property
    def pnl_pct(self) -> float | None:
        """Profit as a fraction of the entry premium (short: premium decay is profit)."""
        if self.mark_price is None or self.quantity == 0 or self.entry_price <= 0:
            return None
        change = (self.mark_price - self.entry_price) / self.entry_price
        return change if self.quantity > 0 else -change

    @property
    def share_delta(self) -> float:
        """Position delta in shares of the underlying."""
        return self.delta * self.quantity * self.multiplier

    @property
    def dollar_delta(self) -> float:
        """Delta in USD: the value change for a 1 % move of the underlying is dollar_delta / 100."""
        return self.share_delta * self.underlying_price

    @property
    def position_gamma(self) -> float:
        return self.gamma * self.quantity * self.multiplier

    @property
    def position_vega(self) -> float:
        """USD per 1 percentage point of implied volatility (LEAN's vega is per 1 %)."""
        return self.vega * self.quantity * self.multiplier

    @property
    def daily_theta_decay(self) -> float:
        """USD the position gains (+) or loses (-) per calendar day from time decay."""
        return self.theta / 365.0 * self.quantity * self.multiplier

    def set_greeks(self, delta: float, gamma: float, theta: float, vega: float, rho: float, iv: float,
                   underlying_price: float, source: GreeksSource, when: datetime) -> None:
        self.delta, self.gamma, self.theta, self.vega, self.rho, self.iv = delta, gamma, theta, vega, rho, iv
        self.underlying_price = underlying_price
        self.greeks_source = source
        self.greeks_updated_at = when

    def update_greeks(self, delta: float, gamma: float, theta: float, vega: float, iv: float,
                      source: str = "calculated", *, rho: float | None = None,
                      underlying_price: float | None = None, when: datetime | None = None) -> None:
        """The seed's call (4.3): ``set_greeks`` with the seed's argument order, logged
        POSITION_GREEKS_UPDATED. ``rho`` and ``underlying_price`` keep their values when left out;
        ``when`` defaults to the wall clock in UTC (the bot itself passes the algorithm's time).
        A non-finite Greek or an unknown ``source`` raises ``ValueError`` and changes nothing."""
        values = {"delta": delta, "gamma": gamma, "theta": theta, "vega": vega, "iv": iv,
                  "rho": self.rho if rho is None else rho,
                  "underlying_price": self.underlying_price if underlying_price is None else underlying_price}
        bad = {k: v for k, v in values.items()
               if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)}
        if bad:
            raise ValueError(f"position {self.id}: Greeks must be finite numbers, got {bad}")
        greeks_source = GreeksSource(source)  # ValueError names an unknown source
        old_delta = self.delta
        self.set_greeks(delta, gamma, theta, vega, values["rho"], iv, values["underlying_price"], greeks_source,
                        when if when is not None else datetime.now(UTC))
        logger.debug("POSITION_GREEKS_UPDATED", extra={
            "position_id": self.id, "old_delta": old_delta, "new_delta": delta, "gamma": gamma, "theta": theta,
            "vega": vega, "iv": iv, "source": greeks_source.value})

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
            self.quantity_before_close = held
        return realized


class PositionBook:
    """Every bot-managed position, by id, with the open one per contract symbol."""

    def __init__(self) -> None:
        self.positions: dict[str, BotManagedPosition] = {}
        self._open_by_symbol: dict[str, str] = {}
        self._open: list[BotManagedPosition] | None = None  # cached: read several times per slice
        self._next = 1

    def new_id(self) -> str:
        pid = f"P{self._next:05d}"
        self._next += 1
        return pid

    def continue_after(self, highest: int) -> None:
        """New ids continue after ``highest`` (positions restored after a restart keep theirs)."""
        self._next = max(self._next, highest + 1)

    def add(self, position: BotManagedPosition) -> None:
        """Add a position; a second open position on a contract already open is refused (it would
        orphan the first: one open position per contract, the ledger's unit)."""
        current = self._open_by_symbol.get(position.symbol)
        if current is not None and current != position.id and position.status is PositionStatus.OPEN:
            raise TradingError(f"{position.symbol} is already open as {current}: cannot add {position.id}")
        self.positions[position.id] = position
        self._open_by_symbol[position.symbol] = position.id
        self._open = None

    def discard_unfilled(self, position: BotManagedPosition) -> None:
        """Forget a position whose first fill was refused: it never held anything."""
        never_held = position.quantity == 0 and position.quantity_before_close == 0
        if never_held and self.positions.get(position.id) is position:
            del self.positions[position.id]

    def open_for_symbol(self, symbol: str) -> BotManagedPosition | None:
        pid = self._open_by_symbol.get(symbol)
        return self.positions[pid] if pid is not None else None

    def mark_closed(self, position: BotManagedPosition) -> None:
        if self._open_by_symbol.get(position.symbol) == position.id:
            del self._open_by_symbol[position.symbol]
            self._open = None

    def open_positions(self) -> list[BotManagedPosition]:
        """The open positions (a fresh copy of a cached list: callers may not mutate the book's)."""
        if self._open is None:
            self._open = [self.positions[pid] for pid in self._open_by_symbol.values()]
        return list(self._open)

    @property
    def held_symbols(self) -> list[str]:
        return list(self._open_by_symbol)
