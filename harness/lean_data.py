"""LEAN's market-data objects: Slice, OptionChains, OptionChain, OptionContract, Greeks and the
option filter universe.

Contracts are thin views over the market's numpy arrays (``QuoteBook``): a slice costs one
vectorised repricing, not one Python object per contract. Every field read on a contract view
increments ``QuoteBook.reads`` so tests and benchmarks can count what the bot reads (in real LEAN
each such read crosses the Python/.NET boundary). The synthetic market fills the IV and Greek
arrays itself; the LEAN-data replay fills a slot when it is first read in a time step, through the
book's ``ensure`` hook (``harness.lean_price_model``).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from harness.lean_enums import OptionRight
from harness.lean_symbols import Symbol


class QuoteBook:
    """Current quotes, IVs and Greeks for the listed contracts, one array slot per contract."""

    def __init__(self, size: int) -> None:
        self.bid = np.zeros(size)
        self.ask = np.zeros(size)
        self.last = np.zeros(size)
        self.iv = np.zeros(size)
        self.delta = np.zeros(size)
        self.gamma = np.zeros(size)
        self.theta = np.zeros(size)  # annual, as LEAN reports it
        self.vega = np.zeros(size)
        self.rho = np.zeros(size)
        self.open_interest = np.zeros(size)
        self.theoretical = np.zeros(size)
        self.underlying_price = 0.0
        self.reads = 0
        self.ensure: Callable[[int], None] = _filled  # makes a slot's IV and Greeks current before a read


def _filled(index: int) -> None:
    """The default ``QuoteBook.ensure``: the arrays are always current."""


class Greeks:
    """``contract.greeks``; zero until both the option and its underlying have been priced."""

    __slots__ = ("_book", "_i")

    def __init__(self, book: QuoteBook, index: int) -> None:
        self._book = book
        self._i = index

    def _get(self, array: np.ndarray) -> float:
        book = self._book
        book.reads += 1
        book.ensure(self._i)
        return array.item(self._i)  # a Python float, cheaper than float(array[i])

    @property
    def delta(self) -> float:
        return self._get(self._book.delta)

    @property
    def gamma(self) -> float:
        return self._get(self._book.gamma)

    @property
    def theta(self) -> float:
        return self._get(self._book.theta)

    @property
    def theta_per_day(self) -> float:
        return self._get(self._book.theta) / 365.0

    @property
    def vega(self) -> float:
        return self._get(self._book.vega)

    @property
    def rho(self) -> float:
        return self._get(self._book.rho)


class OptionContract:
    """One contract of a chain, as LEAN's ``OptionContract`` exposes it."""

    __slots__ = ("_book", "_i", "expiry", "right", "strike", "symbol")

    def __init__(self, book: QuoteBook, index: int, symbol: Symbol) -> None:
        self._book = book
        self._i = index
        self.symbol = symbol
        self.strike: float = symbol.id.strike_price
        self.right: OptionRight = symbol.id.option_right
        self.expiry: datetime = symbol.id.date

    def _get(self, array: np.ndarray) -> float:
        self._book.reads += 1
        return array.item(self._i)  # a Python float, cheaper than float(array[i])

    @property
    def bid_price(self) -> float:
        return self._get(self._book.bid)

    @property
    def ask_price(self) -> float:
        return self._get(self._book.ask)

    @property
    def last_price(self) -> float:
        return self._get(self._book.last)

    @property
    def open_interest(self) -> float:
        return self._get(self._book.open_interest)

    @property
    def implied_volatility(self) -> float:
        self._book.ensure(self._i)
        return self._get(self._book.iv)

    @property
    def theoretical_price(self) -> float:
        self._book.ensure(self._i)
        return self._get(self._book.theoretical)

    @property
    def underlying_last_price(self) -> float:
        self._book.reads += 1
        return self._book.underlying_price

    @property
    def greeks(self) -> Greeks:
        self._book.reads += 1
        return Greeks(self._book, self._i)


@dataclass
class _Underlying:
    symbol: Symbol | None
    price: float


class OptionChain:
    """The filtered contracts of one underlying in one slice. Iterating yields contracts."""

    def __init__(self, canonical: Symbol, underlying: _Underlying,
                 contracts: dict[Symbol, OptionContract]) -> None:
        self._canonical = canonical
        self.underlying = underlying
        self.contracts = contracts

    def __iter__(self) -> Iterator[OptionContract]:
        return iter(self.contracts.values())

    def __len__(self) -> int:
        return len(self.contracts)


class KeyValuePair:
    """What iterating a LEAN dictionary from Python yields (``kvp.key``, ``kvp.value``)."""

    __slots__ = ("key", "value")

    def __init__(self, key: Any, value: Any) -> None:
        self.key = key
        self.value = value


class OptionSymbol:
    """LEAN's OptionSymbol helpers."""

    @staticmethod
    def is_standard(symbol: Symbol) -> bool:
        """Common/Securities/Option/OptionSymbol.cs IsStandard: the expiry falls in the week of
        the third Friday (Saturday to Wednesday excluded)."""
        expiry = symbol.id.date
        first = date(expiry.year, expiry.month, 1).isoweekday() % 7  # .NET DayOfWeek: Sunday = 0
        first_friday = 7 if first == 6 else 6 - first
        return first_friday + 7 + 5 < expiry.day < first_friday + 2 * 7 + 2


class OptionChains(dict):  # type: ignore[type-arg]
    """``slice.option_chains``: canonical option Symbol -> OptionChain (``get`` returns None).
    Iterating it yields key/value pairs, as LEAN's DataDictionary does in Python."""

    def __iter__(self) -> Iterator[KeyValuePair]:  # type: ignore[override]
        return (KeyValuePair(k, v) for k, v in self.items())


class TradeBar:
    """A minute trade bar (``slice.bars[symbol]``); fill-forward bars repeat the last close."""

    __slots__ = ("close", "end_time", "high", "low", "open", "symbol", "time", "volume")

    def __init__(self, symbol: Symbol, time: datetime, end_time: datetime, ohlcv: tuple[float, ...]) -> None:
        self.symbol = symbol
        self.time = time
        self.end_time = end_time
        self.open = ohlcv[0]
        self.high = ohlcv[1]
        self.low = ohlcv[2]
        self.close = ohlcv[3]
        self.volume = ohlcv[4]

    @property
    def price(self) -> float:
        return self.close

    @property
    def value(self) -> float:
        return self.close


class TradeBars(dict):  # type: ignore[type-arg]
    """``slice.bars``: Symbol -> TradeBar; iterating yields key/value pairs like LEAN's."""

    def __iter__(self) -> Iterator[KeyValuePair]:  # type: ignore[override]
        return (KeyValuePair(k, v) for k, v in self.items())


class Slice:
    """One time step of data: the option chains and (on LEAN data) the equity trade bars."""

    def __init__(self, time: datetime, option_chains: OptionChains, bars: TradeBars | None = None) -> None:
        self.time = time
        self.option_chains = option_chains
        self.bars = bars if bars is not None else TradeBars()

    def contains_key(self, symbol: Symbol) -> bool:
        return symbol in self.bars or symbol in self.option_chains

    def get(self, symbol: Symbol) -> Any:
        return self.bars.get(symbol) or self.option_chains.get(symbol)


@dataclass(frozen=True)
class ListedContract:
    """A contract the synthetic market lists, before the algorithm's filter is applied."""

    symbol: Symbol
    strike: float
    expiry: date
    right: OptionRight
    weekly: bool


class OptionFilterUniverse:
    """What ``option.set_filter(lambda u: ...)`` receives: the day's listed contracts (one
    universe per option and day; its methods narrow it in place and return it, as LEAN's do).

    As LEAN's ``OptionFilterUniverse``/``ContractSecurityFilterUniverse``: ``strikes(-k, k)``
    binary-searches the underlying price among the unique strikes of the contracts still in the
    universe (an exact hit is the centre; otherwise the next strike above is the centre and the
    upper bound moves one down); ``expiration(min, max)`` keeps expiries between today + min and
    today + max days; weeklys are in by default, ``standards_only`` keeps standard (monthly)
    expiries only, and the expiry-type filter is applied after the algorithm's filter.
    """

    def __init__(self, contracts: list[ListedContract], underlying_price: float, today: date,
                 expiry_type: str = "all") -> None:
        self._contracts = contracts
        self._price = underlying_price
        self._today = today
        self._type = expiry_type  # "all" (LEAN's default), "standard" or "weekly"

    def __iter__(self) -> Iterator[Symbol]:
        """Iterating the universe yields the contracts' symbols, as in LEAN."""
        return (c.symbol for c in self._contracts)

    @property
    def underlying(self) -> _Underlying:
        return _Underlying(self._contracts[0].symbol.underlying if self._contracts else None, self._price)

    @property
    def contracts(self) -> list[ListedContract]:
        return list(self._contracts)

    def _with(self, keep: Callable[[ListedContract], bool]) -> OptionFilterUniverse:
        """Filters in place and returns the universe itself, as LEAN's filter methods do (a
        Python filter that returns None has still filtered)."""
        self._contracts = [c for c in self._contracts if keep(c)]
        return self

    def strikes(self, min_strike: int, max_strike: int) -> OptionFilterUniverse:
        unique = sorted({c.strike for c in self._contracts})
        if not unique or self._price <= 0:
            return self
        index = bisect.bisect_left(unique, self._price)
        exact = index < len(unique) and unique[index] == self._price
        if index == len(unique):
            return self._with(lambda c: False)
        low, high = index + int(min_strike), index + int(max_strike)
        if not exact:
            if min_strike < 0 < max_strike:
                high -= 1
            elif min_strike > 0:
                low, high = low - 1, high - 1
        if low >= len(unique) or high < 0:
            return self._with(lambda c: False)
        lo, hi = unique[max(low, 0)], unique[min(high, len(unique) - 1)]
        return self._with(lambda c: lo <= c.strike <= hi)

    def expiration(self, min_expiry_days: Any, max_expiry_days: Any) -> OptionFilterUniverse:
        low, high = _days(min_expiry_days), _days(max_expiry_days)

        def keep(c: ListedContract) -> bool:
            days = (c.expiry - self._today).days
            return low <= days <= high
        return self._with(keep)

    def include_weeklys(self) -> OptionFilterUniverse:
        self._type = "all"
        return self

    def standards_only(self) -> OptionFilterUniverse:
        self._type = "standard"
        return self

    def weeklys_only(self) -> OptionFilterUniverse:
        self._type = "weekly"
        return self

    def calls_only(self) -> OptionFilterUniverse:
        return self._with(lambda c: c.right == OptionRight.CALL)

    def puts_only(self) -> OptionFilterUniverse:
        return self._with(lambda c: c.right == OptionRight.PUT)

    def _apply_type_filter(self) -> list[ListedContract]:
        if self._type == "all":
            return list(self._contracts)
        return [c for c in self._contracts if c.weekly == (self._type == "weekly")]


def _days(value: Any) -> int:
    """LEAN accepts days as an int or a TimeSpan (``timedelta`` in Python)."""
    if isinstance(value, timedelta):
        return value.days
    return int(value)


def apply_filter(option_filter: Callable[[OptionFilterUniverse], Any] | None,
                 universe: OptionFilterUniverse) -> list[ListedContract]:
    """Run the algorithm's filter (LEAN's default: strikes -1..+1, 0..35 days), then the
    expiry-type filter; LEAN accepts the universe back."""
    if option_filter is None:
        return universe.strikes(-1, 1).expiration(0, 35)._apply_type_filter()
    result = option_filter(universe)
    if result is None:  # LEAN keeps the universe the filter methods narrowed
        result = universe
    if isinstance(result, list | tuple | set) and all(isinstance(r, Symbol) for r in result):
        chosen = set(result)  # LEAN also takes the selected symbols back
        return [c for c in universe._contracts if c.symbol in chosen]
    if not isinstance(result, OptionFilterUniverse):
        raise TypeError("an option filter must return the OptionFilterUniverse it was given "
                        f"(after strikes/expiration calls), got {type(result).__name__}")
    return result._apply_type_filter()
