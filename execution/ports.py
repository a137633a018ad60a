"""The small port through which decisions reach the broker. The LEAN adapter implements it in
execution/lean_adapter.py; tests implement it with plain Python objects."""

from __future__ import annotations

from typing import Protocol

from models.market_data import PortfolioView
from models.orders import OrderRequest


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
