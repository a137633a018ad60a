"""LEAN's Symbol and SecurityIdentifier, reduced to what the bot reads."""

from __future__ import annotations

from datetime import datetime

from harness.lean_enums import OptionRight, SecurityType


class SecurityIdentifier:
    """``symbol.id``: strike, expiry and right of an option (LEAN's SecurityIdentifier)."""

    __slots__ = ("date", "option_right", "security_type", "strike_price", "symbol")

    def __init__(self, security_type: SecurityType, symbol: str, strike_price: float = 0.0,
                 date: datetime | None = None, option_right: OptionRight = OptionRight.CALL) -> None:
        self.security_type = security_type
        self.symbol = symbol
        self.strike_price = strike_price
        self.date = date or datetime(1998, 1, 2)
        self.option_right = option_right


class Symbol:
    """An immutable, hashable security name. Options use LEAN's OSI-style ``value``."""

    __slots__ = ("_hash", "id", "security_type", "underlying", "value")

    def __init__(self, value: str, sid: SecurityIdentifier, underlying: Symbol | None = None) -> None:
        self.value = value
        self.id = sid
        self.underlying = underlying
        self.security_type = sid.security_type
        self._hash = hash((value, sid.security_type))

    @staticmethod
    def _create_equity(ticker: str) -> Symbol:
        return Symbol(ticker, SecurityIdentifier(SecurityType.EQUITY, ticker))

    @staticmethod
    def _create_canonical_option(underlying: Symbol) -> Symbol:
        return Symbol(f"?{underlying.value}", SecurityIdentifier(SecurityType.OPTION, underlying.value),
                      underlying)

    @staticmethod
    def _create_option_contract(underlying: Symbol, right: OptionRight, strike: float,
                               expiry: datetime) -> Symbol:
        letter = "C" if right == OptionRight.CALL else "P"
        value = f"{underlying.value:<6}{expiry:%y%m%d}{letter}{round(strike * 1000):08d}"
        sid = SecurityIdentifier(SecurityType.OPTION, underlying.value, strike, expiry, right)
        return Symbol(value, sid, underlying)

    @staticmethod
    def create_option(underlying_symbol: Symbol | str, market: str, style: object, right: OptionRight,
                      strike: float, expiry: datetime) -> Symbol:
        """LEAN's Symbol.create_option for a US equity option contract."""
        if market != "usa":
            raise NotImplementedError("the harness simulates US equity options only")
        underlying = (underlying_symbol if isinstance(underlying_symbol, Symbol)
                      else Symbol._create_equity(str(underlying_symbol).upper()))
        when = expiry if isinstance(expiry, datetime) else datetime.combine(expiry, datetime.min.time())
        return Symbol._create_option_contract(underlying, right, strike, when)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Symbol):
            return self.value == other.value and self.security_type == other.security_type
        return NotImplemented

    def __hash__(self) -> int:
        return self._hash

    def __lt__(self, other: Symbol) -> bool:
        """Symbol.CompareTo [Common/Symbol.cs]: by value, ignoring case."""
        if not isinstance(other, Symbol):
            return NotImplemented
        return self.value.upper() < other.value.upper()

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"Symbol({self.value!r})"
