"""LEAN's OptionStrategy with its OptionLegData and UnderlyingLegData
[Common/Securities/Option/OptionStrategy.cs]: a named list of option legs (right, strike,
expiration, ratio) and underlying legs on one canonical option. A strategy becomes one combo market
order of its legs through ``QCAlgorithm.buy/sell/order`` (``strategy_legs``, ``strategy_tag``;
Algorithm/QCAlgorithm.Trading.cs GenerateOptionStrategyOrders). The factory is
harness/option_strategies.py.

LEAN's ArgumentException surfaces as ValueError with .NET's message, ``"<message> (Parameter '<name>')"``.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from harness.lean_enums import OptionRight
from harness.lean_orders import Leg
from harness.lean_symbols import Symbol


def argument_error(message: str, parameter: str | None = None) -> ValueError:
    return ValueError(message if parameter is None else f"{message} (Parameter '{parameter}')")


class OptionLegData(Leg):
    """OptionStrategy.OptionLegData: an option leg by right, strike and expiration; its symbol is
    set by OptionStrategy.set_symbols."""

    def __init__(self, right: OptionRight, strike: float, quantity: int, expiration: datetime,
                 symbol: Symbol | None = None, order_price: float | None = None) -> None:
        super().__init__(symbol, quantity, order_price)  # type: ignore[arg-type]  # None until set_symbols
        self.right = right
        self.strike = strike
        self.expiration = expiration

    @staticmethod
    def create(quantity: int, symbol: Any, order_price: float | None = None) -> OptionLegData:  # type: ignore[override]
        symbol = getattr(symbol, "symbol", symbol)
        return OptionLegData(symbol.id.option_right, symbol.id.strike_price, quantity, symbol.id.date, symbol,
                             order_price)

    def __str__(self) -> str:
        return (f"Leg: {self.quantity}. Right: {self.right.name.title()}. Strike: {self.strike}. "
                f"Expiration: {self.expiration:%Y%m%d}")


class UnderlyingLegData(Leg):
    """OptionStrategy.UnderlyingLegData: a leg of the underlying (``quantity`` in shares)."""

    @staticmethod
    def create(quantity: int, symbol: Any = None, order_price: float | None = None) -> UnderlyingLegData:  # type: ignore[override]
        if symbol is not None and not isinstance(symbol, Symbol):
            symbol = getattr(symbol, "symbol", symbol)
        return UnderlyingLegData(symbol, quantity, order_price)

    def __str__(self) -> str:
        return f"Leg: {self.quantity}. {self.symbol}" if self.symbol is not None else ""


class OptionStrategy:
    """A named set of option legs and underlying legs on one canonical option."""

    OptionLegData = OptionLegData
    UnderlyingLegData = UnderlyingLegData

    def __init__(self, name: str = "", canonical_symbol: Symbol | None = None,
                 option_legs: list[OptionLegData] | None = None,
                 underlying_legs: list[UnderlyingLegData] | None = None) -> None:
        self.name = name
        self.canonical_option = canonical_symbol
        self.underlying = canonical_symbol.underlying if canonical_symbol is not None else None
        self.option_legs: list[OptionLegData] = option_legs if option_legs is not None else []
        self.underlying_legs: list[UnderlyingLegData] = underlying_legs if underlying_legs is not None else []
        if canonical_symbol is not None:
            self.set_symbols()

    def set_symbols(self) -> None:
        """OptionStrategy.SetSymbols: the canonical option (from the underlying, or the first
        underlying leg), then every option leg without a symbol gets its contract's symbol."""
        if self.canonical_option is None:
            if self.underlying is None:
                first = self.underlying_legs[0] if self.underlying_legs else None
                if first is None or first.symbol is None:
                    return
                self.underlying = first.symbol
            self.canonical_option = Symbol._create_canonical_option(self.underlying)
        underlying = self.underlying or self.canonical_option.underlying
        assert underlying is not None
        for leg in self.option_legs:
            if leg.symbol is None:
                leg.symbol = Symbol._create_option_contract(underlying, leg.right, leg.strike, leg.expiration)

    @staticmethod
    def create(name: str, legs: Iterable[Leg]) -> OptionStrategy:
        """OptionStrategy.Create: legs sorted into underlying and option legs; the canonical
        option from the first option leg's symbol."""
        option_legs: list[OptionLegData] = []
        underlying_legs: list[UnderlyingLegData] = []
        canonical = None
        for leg in legs:
            if isinstance(leg, UnderlyingLegData):
                underlying_legs.append(leg)
            elif isinstance(leg, OptionLegData):
                option_legs.append(leg)
                if canonical is None and leg.symbol is not None and leg.symbol.underlying is not None:
                    canonical = Symbol._create_canonical_option(leg.symbol.underlying)
            else:
                raise argument_error(f"Invalid leg type: {type(leg).__name__}")
        strategy = OptionStrategy(name, canonical, option_legs, underlying_legs)
        return strategy

    def __str__(self) -> str:
        return self.name


def strategy_legs(strategy: OptionStrategy) -> list[Leg]:
    """GenerateOptionStrategyOrders: set the symbols, then the underlying legs before the option legs."""
    strategy.set_symbols()
    return [*strategy.underlying_legs, *strategy.option_legs]


def strategy_tag(strategy: OptionStrategy, quantity: int, tag: str | None) -> str:
    """``tag ??= $"{strategy.Name} ({quantity})"``: only a null tag is replaced; Python's default
    tag is "" (QCAlgorithm.Order's default), which stays ""."""
    return f"{strategy.name} ({quantity})" if tag is None else tag
