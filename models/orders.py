"""Orders as the bot thinks of them, independent of LEAN's classes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from models.market_data import ContractQuote


class OrderKind(StrEnum):
    MARKET = "market"
    LIMIT = "limit"


class OrderPurpose(StrEnum):
    ENTRY = "entry"
    PROFIT_TAKE = "profit_take"
    STOP_LOSS = "stop_loss"
    EXPIRY_GUARD = "expiry_guard"
    EXTERNAL = "external"  # queued by a person or an agent through the sidecar (inbox / LEAN command)
    ROLL = "roll"  # a leg of a roll, or the close of a position that could not roll
    ASSIGNMENT = "assignment"  # closing the shares an assignment or exercise delivered

    @property
    def closes(self) -> bool:
        return self not in (OrderPurpose.ENTRY, OrderPurpose.EXTERNAL)

    @property
    def may_open(self) -> bool:
        """A fill of this purpose may open a new bot-managed position."""
        return self in (OrderPurpose.ENTRY, OrderPurpose.EXTERNAL)


class OrderState(StrEnum):
    SUBMITTED = "submitted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    INVALID = "invalid"
    OTHER = "other"

    @property
    def is_final(self) -> bool:
        return self in (OrderState.FILLED, OrderState.CANCELED, OrderState.INVALID)


@dataclass(frozen=True)
class OrderRequest:
    """An order the bot wants placed. ``quantity`` is signed contracts (+ buy, - sell)."""

    client_id: str
    symbol: str
    quantity: int
    purpose: OrderPurpose
    kind: OrderKind = OrderKind.MARKET
    limit_price: float | None = None
    position_id: str | None = None
    correlation_id: str | None = None  # follows a trade (or a roll) through all its orders
    expected_price: float | None = None  # mid at decision time: the slippage reference


@dataclass(frozen=True)
class OrderUpdate:
    """One LEAN OrderEvent, translated. ``client_id`` is None for orders the bot did not place
    (option exercise/assignment/expiry, manual orders)."""

    order_id: int
    client_id: str | None
    symbol: str
    state: OrderState
    fill_price: float
    fill_quantity: int
    fee: float
    time: datetime
    is_assignment: bool = False
    message: str = ""
    contract: ContractQuote | None = None  # an option's right, strike and expiry (LEAN's Symbol), no prices
