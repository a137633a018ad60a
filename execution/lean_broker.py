"""The broker port over LEAN (execution/ports.py ``BrokerPort``): the only code that calls LEAN's order
methods, and only from behind the pre-trade gateway (tests/test_order_gateway.py checks the source).

Orders are tagged ``bot:<client id>`` so that a restart can tell its own orders (execution/lean_restore.py).
"""

from __future__ import annotations

from AlgorithmImports import Leg, OrderTicket, QCAlgorithm, Symbol

from execution.lean_restore import TAG_PREFIX
from models.exceptions import TradingError
from models.market_data import ContractQuote, PortfolioView
from models.orders import OrderKind, OrderRequest
from utils.logging_config import get_logger

logger = get_logger(__name__)


class LeanBroker:
    """BrokerPort over a QCAlgorithm."""

    def __init__(self, algorithm: QCAlgorithm) -> None:
        self._algorithm = algorithm
        self._symbols: dict[str, Symbol] = {}
        self.tickets: dict[int, OrderTicket] = {}
        self.static: dict[str, ContractQuote] = {}  # last full quote per contract: right, strike, expiry

    def remember(self, symbol: Symbol) -> str:
        key = str(symbol.value)
        self._symbols[key] = symbol
        return key

    def symbol(self, key: str) -> Symbol | None:
        return self._symbols.get(key)

    @property
    def symbols(self) -> dict[str, Symbol]:
        return self._symbols

    def submit(self, request: OrderRequest) -> list[int]:
        symbol = self._symbols.get(request.symbol)
        if symbol is None:
            raise TradingError(f"no LEAN symbol known for {request.symbol}")
        tag = f"{TAG_PREFIX}{request.client_id}"
        if request.kind == OrderKind.LIMIT:
            if request.limit_price is None:
                raise TradingError(f"limit order {request.client_id} without a limit price")
            ticket = self._algorithm.limit_order(symbol, request.quantity, request.limit_price, tag=tag)
        else:
            ticket = self._algorithm.market_order(symbol, request.quantity, tag=tag)
        return self._accepted([ticket], request.client_id)

    def _accepted(self, tickets: list[OrderTicket], client_id: str) -> list[int]:
        """LEAN order ids of ``tickets``. LEAN refuses some orders before they exist (no data yet,
        warming up, unknown security): the ticket has order id 0, status INVALID and no OrderEvent
        follows — that is returned as no ids, so the caller finishes the order as rejected."""
        ids = []
        for ticket in tickets:
            order_id = int(ticket.order_id)
            if order_id <= 0:
                logger.warning("ORDER_REFUSED_BY_LEAN", extra={"client_id": client_id,
                                                               "status": str(ticket.status)})
                return []
            self.tickets[order_id] = ticket
            ids.append(order_id)
        return ids

    def submit_combo(self, client_id: str, legs: list[tuple[str, int]], quantity: int,
                     limit_price: float | None) -> list[int]:
        lean_legs = []
        for key, ratio in legs:
            symbol = self._symbols.get(key)
            if symbol is None:
                raise TradingError(f"no LEAN symbol known for {key}")
            lean_legs.append(Leg.create(symbol, ratio))
        tag = f"{TAG_PREFIX}{client_id}"
        if limit_price is None:
            tickets = self._algorithm.combo_market_order(lean_legs, quantity, tag=tag)
        else:
            tickets = self._algorithm.combo_limit_order(lean_legs, quantity, limit_price, tag=tag)
        return self._accepted(list(tickets), client_id)

    def cancel(self, order_id: int) -> bool:
        ticket = self.tickets.get(order_id)
        if ticket is None:
            return False
        response = ticket.cancel()
        return bool(response.is_success) if hasattr(response, "is_success") else bool(response)

    def portfolio(self) -> PortfolioView:
        p = self._algorithm.portfolio
        return PortfolioView(float(p.total_portfolio_value), float(p.cash),
                             float(p.total_unrealized_profit), float(p.total_fees))

    def equity(self) -> float:
        return float(self._algorithm.portfolio.total_portfolio_value)

    def contract_multiplier(self, symbol: str) -> float:
        lean_symbol = self._symbols[symbol]
        return float(self._algorithm.securities[lean_symbol].symbol_properties.contract_multiplier)
