"""The small port through which decisions reach the broker. The LEAN adapter implements it in
execution/lean_adapter.py; tests implement it with plain Python objects."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from models.bot_config import BotConfig
from models.market_data import ContractQuote, PortfolioView
from models.orders import OrderPurpose, OrderRequest, OrderUpdate
from utils.audit_logger import AuditLogger

if TYPE_CHECKING:  # types only: these modules import ports themselves
    from execution.bot_managed_positions import BotManagedPosition, PositionBook
    from execution.ledger import ExposureLedger
    from execution.orders.order_executor import TrackedOrder
    from execution.positions.fill_booking import FillOrigin
    from execution.positions.position_manager import PositionManager
    from execution.risk.circuit_breaker import CircuitBreaker
    from execution.risk.order_gateway import OrderGateway
    from execution.risk.slippage_budget import SlippageBudget
    from execution.rolls.roll_manager import RollManager


class BrokerPort(Protocol):
    def submit(self, request: OrderRequest) -> list[int]:
        """Send the order; return LEAN's order ids (events may arrive before this returns)."""
        ...

    def submit_combo(self, client_id: str, legs: list[tuple[str, int]], quantity: int,
                     limit_price: float | None) -> list[int]:
        """One combo order (``Leg.create(symbol, ratio)`` per leg; a net limit price, or None for a
        combo market order); return one LEAN order id per leg."""
        ...

    def cancel(self, order_id: int) -> bool:
        """Ask the broker to cancel; the CANCELED event (or a fill) arrives as an order event."""
        ...

    def portfolio(self) -> PortfolioView: ...

    def equity(self) -> float:
        """Total portfolio value (cash + holdings at market), read every slice for the breaker."""
        ...

    def contract_multiplier(self, symbol: str) -> float: ...


class RequestHandler(Protocol):
    """What the inbox consumer (execution/orders/inbox_consumer.py) needs from the bot: the
    gateway-bound order entry for people and agents, the roll manager (requested rolls), the
    breaker and the entry latch."""

    config: BotConfig
    audit: AuditLogger
    breaker: CircuitBreaker
    rolls: RollManager
    now: datetime | None  # algorithm (exchange) time of the last slice or event

    @property
    def entries_suspended(self) -> bool: ...

    @entries_suspended.setter
    def entries_suspended(self, value: bool) -> None: ...

    def submit_external(self, request_id: str, quote: ContractQuote, quantity: int, limit_price: float | None,
                        actor: str, actor_type: str) -> TrackedOrder: ...

    def cancel_external(self, request_id: str) -> bool: ...


class RollHost(Protocol):
    """What the roll manager (execution/rolls/roll_manager.py) reads and calls: the book and its
    manager, the last quotes, the gateway, and the bot's close/record hooks."""

    config: BotConfig
    audit: AuditLogger
    breaker: CircuitBreaker
    manager: PositionManager
    gateway: OrderGateway
    ledger: ExposureLedger
    slippage: SlippageBudget
    quotes: dict[str, ContractQuote]
    counters: dict[str, int]
    underlying_price: float | None
    run_id: str

    @property
    def book(self) -> PositionBook: ...

    def covered(self, position: BotManagedPosition) -> int: ...

    def close_position(self, position: BotManagedPosition, purpose: OrderPurpose, reason: str) -> None: ...

    def unmatched(self, update: OrderUpdate, reason: str) -> None: ...

    def record_fill(self, update: OrderUpdate, correlation_id: str | None) -> None: ...

    def book_fill(self, update: OrderUpdate, origin: FillOrigin) -> None: ...

    def position_closed(self, position: BotManagedPosition, update: OrderUpdate, reason: str) -> None: ...
