"""LEAN's market-data objects: Slice, OptionChains, OptionChain, OptionContract, Greeks and the
option filter universe.

Contracts are thin views over the synthetic market's numpy arrays (``QuoteBook``): a slice costs
one vectorised repricing, not one Python object per contract. Every field read on a contract
view increments ``QuoteBook.reads`` so tests and benchmarks can count what the bot reads (in real
LEAN each such read crosses the Python/.NET boundary).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
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
        self.underlying_price = 0.0
        self.reads = 0


class Greeks:
    """``contract.greeks``; zero until both the option and its underlying have been priced."""

    __slots__ = ("_book", "_i")

    def __init__(self, book: QuoteBook, index: int) -> None:
        self._book = book
        self._i = index

    def _get(self, array: np.ndarray) -> float:
        self._book.reads += 1
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
        return self._get(self._book.iv)

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
    symbol: Symbol
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


class OptionChains(dict):  # type: ignore[type-arg]
    """``slice.option_chains``: canonical option Symbol -> OptionChain (``get`` returns None)."""


class Slice:
    """One time step of data."""

    def __init__(self, time: datetime, option_chains: OptionChains) -> None:
        self.time = time
        self.option_chains = option_chains


@dataclass(frozen=True)
class ListedContract:
    """A contract the synthetic market lists, before the algorithm's filter is applied."""

    symbol: Symbol
    strike: float
    expiry: date
    right: OptionRight
    weekly: bool


class OptionFilterUniverse:
    """What ``option.set_filter(lambda u: ...)`` receives: the day's listed contracts.

    ``strikes(-k, k)`` keeps k strikes below and above the at-the-money strike (LEAN counts
    unique listed strikes relative to the one closest to the underlying price);
    ``expiration(min_days, max_days)`` keeps expiries in that window of calendar days.
    Weeklys are in by default (LEAN's default filter); ``include_weeklys`` is accepted.
    """

    def __init__(self, contracts: list[ListedContract], underlying_price: float, today: date) -> None:
        self._contracts = contracts
        self._price = underlying_price
        self._today = today

    @property
    def contracts(self) -> list[ListedContract]:
        return list(self._contracts)

    def _with(self, keep: Callable[[ListedContract], bool]) -> OptionFilterUniverse:
        return OptionFilterUniverse([c for c in self._contracts if keep(c)], self._price, self._today)

    def strikes(self, min_strike: int, max_strike: int) -> OptionFilterUniverse:
        unique = sorted({c.strike for c in self._contracts})
        if not unique:
            return self
        atm = min(range(len(unique)), key=lambda i: (abs(unique[i] - self._price), unique[i]))
        lo = unique[max(0, atm + int(min_strike))]
        hi = unique[min(len(unique) - 1, atm + int(max_strike))]
        return self._with(lambda c: lo <= c.strike <= hi)

    def expiration(self, min_expiry_days: int, max_expiry_days: int) -> OptionFilterUniverse:
        def keep(c: ListedContract) -> bool:
            days = (c.expiry - self._today).days
            return int(min_expiry_days) <= days <= int(max_expiry_days)
        return self._with(keep)

    def include_weeklys(self) -> OptionFilterUniverse:
        return self


def apply_filter(option_filter: Callable[[OptionFilterUniverse], Any] | None,
                 universe: OptionFilterUniverse) -> list[ListedContract]:
    """Run the algorithm's filter; LEAN accepts the universe back (or anything iterable of it)."""
    if option_filter is None:
        return universe.strikes(-1, 1).expiration(0, 35).contracts
    result = option_filter(universe)
    if not isinstance(result, OptionFilterUniverse):
        raise TypeError("an option filter must return the OptionFilterUniverse it was given "
                        f"(after strikes/expiration calls), got {type(result).__name__}")
    return result.contracts
