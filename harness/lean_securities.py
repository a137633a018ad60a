"""LEAN's securities and portfolio: Security, Equity, Option, SecurityHolding,
SecurityManager (``self.securities``), SecurityPortfolioManager (``self.portfolio``) and
SecurityTransactionManager (``self.transactions``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from harness.lean_enums import SecurityType
from harness.lean_orders import Order, OrderTicket
from harness.lean_symbols import Symbol

Quote = Callable[[], tuple[float, float]]


@dataclass(frozen=True)
class SymbolProperties:
    contract_multiplier: float
    minimum_price_variation: float


class SecurityHolding:
    """Quantity, average price and P&L of one security, LEAN's way: the average price changes
    when a position grows or flips, and stays when it shrinks (the difference is realised)."""

    def __init__(self, security: Security) -> None:
        self._security = security
        self.quantity: float = 0.0
        self.average_price: float = 0.0
        self.total_fees: float = 0.0
        self.net_profit: float = 0.0  # realised, before fees

    @property
    def invested(self) -> bool:
        return self.quantity != 0

    @property
    def holdings_value(self) -> float:
        return self.quantity * self._security.price * self._security.symbol_properties.contract_multiplier

    @property
    def unrealized_profit(self) -> float:
        multiplier = self._security.symbol_properties.contract_multiplier
        return (self._security.price - self.average_price) * self.quantity * multiplier

    def _apply_fill(self, quantity: float, price: float, fee: float) -> float:
        """Update for a fill; return the realised profit of the part that closed."""
        multiplier = self._security.symbol_properties.contract_multiplier
        realised = 0.0
        old = self.quantity
        new = old + quantity
        if old == 0 or (old > 0) == (quantity > 0):
            self.average_price = (self.average_price * old + price * quantity) / new
        else:
            closed = min(abs(quantity), abs(old))
            realised = (price - self.average_price) * closed * (1 if old > 0 else -1) * multiplier
            if new == 0:
                self.average_price = 0.0
            elif (new > 0) != (old > 0):  # flipped: the remainder opened at the fill price
                self.average_price = price
        self.quantity = new
        self.total_fees += fee
        self.net_profit += realised
        return realised


class Security:
    def __init__(self, symbol: Symbol, properties: SymbolProperties, quote: Quote) -> None:
        self.symbol = symbol
        self.symbol_properties = properties
        self._quote = quote
        self.holdings = SecurityHolding(self)

    @property
    def bid_price(self) -> float:
        return self._quote()[0]

    @property
    def ask_price(self) -> float:
        return self._quote()[1]

    @property
    def price(self) -> float:
        bid, ask = self._quote()
        if bid > 0 and ask > 0:
            return (bid + ask) / 2
        return max(bid, ask)

    @property
    def type(self) -> SecurityType:
        return self.symbol.security_type


class Equity(Security):
    pass


class Option(Security):
    """The canonical option security that ``add_option`` returns; holds the chain filter."""

    def __init__(self, symbol: Symbol, properties: SymbolProperties, quote: Quote) -> None:
        super().__init__(symbol, properties, quote)
        self._filter: Callable[[Any], Any] | None = None

    def set_filter(self, universe_func: Callable[[Any], Any]) -> None:
        if not callable(universe_func):
            raise TypeError("set_filter needs a callable: lambda universe: universe.strikes(...)")
        self._filter = universe_func


class SecurityManager(dict):  # type: ignore[type-arg]
    """``self.securities``: Symbol -> Security."""

    def __getitem__(self, key: Symbol | str) -> Security:
        if isinstance(key, str):
            for symbol, security in self.items():
                if symbol.value == key:
                    return security
            raise KeyError(f"'{key}' wasn't found in the SecurityManager")
        return super().__getitem__(key)

    def contains_key(self, symbol: Symbol) -> bool:
        return symbol in self


class SecurityPortfolioManager:
    """``self.portfolio``: cash plus the holdings of every security."""

    def __init__(self, securities: SecurityManager) -> None:
        self._securities = securities
        self.cash: float = 100_000.0
        self._traded: dict[int, SecurityHolding] = {}  # holdings that ever had a fill

    def _track(self, holding: SecurityHolding) -> None:
        """Called by the brokerage on every fill: the totals then sum traded holdings only, not
        every security of a 2,000-contract chain (LEAN keeps these totals cheap in C#)."""
        self._traded[id(holding)] = holding

    def __getitem__(self, symbol: Symbol) -> SecurityHolding:
        return self._securities[symbol].holdings

    def _holdings(self) -> Iterable[SecurityHolding]:
        return (h for h in self._traded.values() if h.quantity != 0)

    @property
    def total_holdings_value(self) -> float:
        return sum(h.holdings_value for h in self._holdings())

    @property
    def total_portfolio_value(self) -> float:
        return self.cash + self.total_holdings_value

    @property
    def total_unrealized_profit(self) -> float:
        return sum(h.unrealized_profit for h in self._holdings())

    @property
    def total_fees(self) -> float:
        return sum(h.total_fees for h in self._traded.values())

    @property
    def invested(self) -> bool:
        return any(True for _ in self._holdings())


class SecurityTransactionManager:
    """``self.transactions``: look up orders the algorithm placed."""

    def __init__(self, orders: dict[int, Order], cancel: Callable[[int], bool] | None = None) -> None:
        self._orders = orders
        self._cancel = cancel if cancel is not None else (lambda order_id: False)

    def get_order_by_id(self, order_id: int) -> Order | None:
        return self._orders.get(order_id)

    def get_open_orders(self, symbol: Symbol | None = None) -> list[Order]:
        return [o for o in self._orders.values()
                if o._is_open and (symbol is None or o.symbol == symbol)]

    def get_open_order_tickets(self) -> list[OrderTicket]:
        """LEAN's ``get_open_order_tickets()``: a ticket per open order (a live restart finds them)."""
        return [OrderTicket(o, self._cancel) for o in self._orders.values() if o._is_open]
