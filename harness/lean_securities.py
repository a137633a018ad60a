"""LEAN's securities and portfolio: Security, Equity, Option, SecurityHolding,
SecurityManager (``self.securities``), SecurityPortfolioManager (``self.portfolio``) and
SecurityTransactionManager (``self.transactions``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from harness.lean_data import apply_filter
from harness.lean_enums import SecurityType
from harness.lean_orders import Order
from harness.lean_symbols import Symbol
from harness.lean_time import SecurityExchange

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
    def symbol(self) -> Symbol:
        return self._security.symbol

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
    def __init__(self, symbol: Symbol, properties: SymbolProperties, quote: Quote,
                 price: Callable[[], float] | None = None) -> None:
        self.symbol = symbol
        self.symbol_properties = properties
        self._quote = quote
        self._price = price  # LEAN's price when it is not the quote mid (an equity's last trade)
        self._hours: Any = None  # the exchange hours (market-hours database) when replaying LEAN data
        self.holdings = SecurityHolding(self)

    @property
    def bid_price(self) -> float:
        return self._quote()[0]

    @property
    def ask_price(self) -> float:
        return self._quote()[1]

    @property
    def price(self) -> float:
        if self._price is not None:
            return self._price()
        bid, ask = self._quote()
        if bid > 0 and ask > 0:
            return (bid + ask) / 2
        return max(bid, ask)

    def __getattr__(self, name: str) -> Any:
        """LEAN accepts PascalCase members at run time (``option.Symbol``); the stubs list only
        snake_case, so only this fallback knows the old names."""
        if name[:1].isupper():
            snake = "".join(f"_{ch.lower()}" if ch.isupper() else ch for ch in name).lstrip("_")
            return getattr(self, snake)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    @property
    def close(self) -> float:
        """The last bar's close (``Security.close``); the price the harness marks with."""
        return self.price

    @property
    def type(self) -> SecurityType:
        return self.symbol.security_type

    @property
    def exchange(self) -> SecurityExchange:
        return SecurityExchange(self._hours)


class Equity(Security):
    def set_data_normalization_mode(self, mode: Any) -> None:
        """Accepted: the sample period has no split or dividend (factor 1), so every mode
        gives the same prices there."""
        self._normalization = mode


class Option(Security):
    """The canonical option security that ``add_option`` returns; holds the chain filter."""

    def __init__(self, symbol: Symbol, properties: SymbolProperties, quote: Quote) -> None:
        super().__init__(symbol, properties, quote)
        self._filter: Callable[[Any], Any] | None = None

    def set_filter(self, universe_func: Any, max_strike: int | None = None, min_expiry: Any = None,
                   max_expiry: Any = None) -> None:
        """``set_filter(lambda u: ...)`` or LEAN's ``set_filter(min_strike, max_strike, min_expiry,
        max_expiry)`` overload."""
        if max_strike is not None:
            low, high, first, last = int(universe_func), int(max_strike), min_expiry, max_expiry
            self._filter = lambda u: u.strikes(low, high).expiration(first, last)
            return
        if not callable(universe_func):
            raise TypeError("set_filter needs a callable: lambda universe: universe.strikes(...)")
        self._filter = universe_func

    def _apply_filter(self, universe: Any) -> list[Any]:
        return apply_filter(self._filter, universe)


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

    def values(self) -> list[SecurityHolding]:
        """``Portfolio.values()`` (LEAN's ExtendedDictionary): the holding of every security."""
        return [security.holdings for security in self._securities.values()]

    def keys(self) -> list[Symbol]:
        return list(self._securities.keys())

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
    """``self.transactions``: look up the orders and tickets the algorithm placed
    [Common/Securities/SecurityTransactionManager.cs]. ``filter`` arguments are predicates over an
    Order (``get_orders``) or an OrderTicket (the ticket methods); a Symbol selects by symbol."""

    def __init__(self, orders: dict[int, Order], ticket: Callable[[Order], Any] | None = None) -> None:
        self._orders = orders
        self._ticket = ticket

    def get_order_by_id(self, order_id: int) -> Order | None:
        return self._orders.get(order_id)

    def get_orders(self, filter: Callable[[Order], bool] | None = None) -> list[Order]:
        return [o for o in self._orders.values() if filter is None or filter(o)]

    def get_open_orders(self, symbol: Symbol | None = None) -> list[Order]:
        return [o for o in self._orders.values()
                if o._is_open and (symbol is None or o.symbol == symbol)]

    def _tickets(self, orders: Iterable[Order], filter: Any) -> list[Any]:
        if self._ticket is None:
            return []
        tickets = [self._ticket(o) for o in orders]
        if isinstance(filter, Symbol):
            return [t for t in tickets if t.symbol == filter]
        if filter is not None and not callable(filter):
            raise TypeError(f"Expected a Symbol or a predicate over OrderTicket, got {type(filter).__name__}")
        return [t for t in tickets if filter is None or filter(t)]

    def get_order_tickets(self, filter: Callable[[Any], bool] | None = None) -> list[Any]:
        return self._tickets(self._orders.values(), filter)

    def get_open_order_tickets(self, filter: Symbol | Callable[[Any], bool] | None = None) -> list[Any]:
        return self._tickets((o for o in self._orders.values() if o._is_open), filter)

    def get_open_orders_remaining_quantity(self, filter: Symbol | Callable[[Any], bool] | None = None) -> float:
        """The quantity the open orders (those ``filter`` selects) have still to fill."""
        return sum(t.quantity - t.quantity_filled for t in self.get_open_order_tickets(filter))

    def get_order_ticket(self, order_id: int) -> Any:
        order = self._orders.get(order_id)
        return None if order is None or self._ticket is None else self._ticket(order)
