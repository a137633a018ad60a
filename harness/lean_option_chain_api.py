"""``QCAlgorithm.option_chain(symbol)`` and ``option_chain_provider.get_option_contract_list`` over
LEAN's daily option universe files.

LEAN's rules [Algorithm/QCAlgorithm.cs OptionChain/GetChainsData, Engine/DataFeeds/
BacktestingChainProvider.cs GetSymbols, Common/Data/Market/OptionChain.cs, OptionContract.cs
OptionUniverseData]:

- both read the latest universe file whose data point has ended by the requested time: a file of
  day D ends at the next midnight, so at any time of day T it is the file of the trading day before
  T (looking back up to 3 trading days when a file is missing);
- contracts that expired before the requested date are left out;
- a contract of ``option_chain`` carries the file's close as last, bid and ask price, its volume,
  open interest, implied volatility and Greeks; the chain's ``underlying`` is the file's
  underlying row; contracts are keyed, and iterated, in Symbol order (Symbol.CompareTo: the value,
  ignoring case);
- ``data_frame`` is a pandas frame indexed by symbol with LEAN's lower-case flattened column names.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from harness.lean_data import KeyValuePair, _Underlying
from harness.lean_disk import LeanDataFolder, UniverseRow
from harness.lean_enums import OptionRight, OptionStyle, SecurityType
from harness.lean_symbols import Symbol
from harness.market_hours import ExchangeHours

LOOKBACK_TRADING_DAYS = 3


class UniverseGreeks:
    """The Greeks of a universe file row (LEAN's theta is annual; theta_per_day = theta / 365)."""

    def __init__(self, values: tuple[float, float, float, float, float]) -> None:
        self.delta, self.gamma, self.vega, self.theta, self.rho = values

    @property
    def theta_per_day(self) -> float:
        return self.theta / 365


class UniverseOptionContract:
    """An option contract of ``option_chain``: the universe file's daily data for it."""

    def __init__(self, symbol: Symbol, row: UniverseRow, underlying: _Underlying, time: datetime) -> None:
        self.symbol = symbol
        self.underlying_symbol = symbol.underlying
        self.strike = row.strike
        self.expiry = datetime.combine(row.expiry, datetime.min.time())
        self.right = OptionRight.CALL if row.right == "C" else OptionRight.PUT
        self.style = OptionStyle.AMERICAN
        self.last_price = self.bid_price = self.ask_price = row.close
        self.bid_size = self.ask_size = 0
        self.volume = int(row.volume)
        self.open_interest = row.open_interest
        self.implied_volatility = row.implied_volatility
        self.theoretical_price = 0.0
        self.greeks = UniverseGreeks(row.greeks)
        self.underlying_last_price = underlying.price
        self.time = time

    @property
    def id(self) -> Any:
        return self.symbol.id

    @property
    def value(self) -> float:
        return self.last_price

    @property
    def price(self) -> float:
        return self.last_price

    @property
    def close(self) -> float:
        return self.last_price

    def __str__(self) -> str:
        return self.symbol.value


class OptionContracts(dict):  # type: ignore[type-arg]
    """The chain's contracts by Symbol; ``keys()`` is an indexable list, iterating yields pairs."""

    def keys(self) -> list[Symbol]:  # type: ignore[override]
        return list(super().keys())

    def __iter__(self) -> Iterator[KeyValuePair]:  # type: ignore[override]
        return (KeyValuePair(k, v) for k, v in self.items())


COLUMNS = ("expiry", "strike", "right", "style", "lastprice", "askprice", "asksize", "bidprice", "bidsize", "volume",
           "openinterest", "impliedvolatility", "delta", "gamma", "vega", "theta", "rho", "theoreticalprice",
           "underlyingsymbol", "underlyinglastprice")


class UniverseOptionChain:
    """What ``option_chain(symbol)`` returns (LEAN's OptionChain built from universe data)."""

    def __init__(self, canonical: Symbol, time: datetime, underlying: _Underlying,
                 contracts: OptionContracts, flatten: bool) -> None:
        self.symbol = canonical
        self.time = time
        self.underlying = underlying
        self.contracts = contracts
        self._flatten = flatten

    def __iter__(self) -> Iterator[UniverseOptionContract]:
        return iter(self.contracts.values())

    def __len__(self) -> int:
        return len(self.contracts)

    @property
    def data_frame(self) -> Any:
        import pandas as pd

        rows = [(c.expiry, c.strike, c.right, c.style, c.last_price, c.ask_price, c.ask_size, c.bid_price,
                 c.bid_size, c.volume, c.open_interest, c.implied_volatility, c.greeks.delta, c.greeks.gamma,
                 c.greeks.vega, c.greeks.theta, c.greeks.rho, c.theoretical_price, c.underlying_symbol,
                 c.underlying_last_price) for c in self]
        index = pd.MultiIndex.from_tuples([(c.symbol,) for c in self], names=["symbol"])
        return pd.DataFrame(rows, index=index, columns=list(COLUMNS))


def canonical_option(symbol: Symbol) -> Symbol:
    """The canonical option of an underlying, of a contract, or a canonical option itself."""
    if symbol.security_type == SecurityType.OPTION:
        if symbol.underlying is None:
            raise ValueError(f"{symbol} has no underlying")
        return symbol if symbol.value.startswith("?") else Symbol._create_canonical_option(symbol.underlying)
    if symbol.security_type == SecurityType.EQUITY:
        return Symbol._create_canonical_option(symbol)
    raise ValueError(f"{symbol.security_type.name} {symbol} has no options")


def _universe_at(data: LeanDataFolder, hours: ExchangeHours, ticker: str,
                 when: datetime) -> tuple[float, list[UniverseRow]] | None:
    day = when.date()
    for _ in range(LOOKBACK_TRADING_DAYS):
        day = hours.previous_trading_day(day)
        found = data.option_universe(ticker, day)
        if found is not None:
            return found
    return None


def _live_rows(canonical: Symbol, rows: list[UniverseRow], on: date) -> list[tuple[Symbol, UniverseRow]]:
    assert canonical.underlying is not None
    out = []
    for row in rows:
        if row.expiry < on:
            continue
        right = OptionRight.CALL if row.right == "C" else OptionRight.PUT
        expiry = datetime.combine(row.expiry, datetime.min.time())
        out.append((Symbol._create_option_contract(canonical.underlying, right, row.strike, expiry), row))
    return sorted(out, key=lambda pair: pair[0].value.upper())


def option_contract_list(data: LeanDataFolder, hours: ExchangeHours, symbol: Symbol, when: datetime) -> list[Symbol]:
    canonical = canonical_option(symbol)
    assert canonical.underlying is not None
    found = _universe_at(data, hours, canonical.underlying.value, when)
    return [] if found is None else [s for s, _ in _live_rows(canonical, found[1], when.date())]


def option_chain(data: LeanDataFolder, hours: ExchangeHours, symbol: Symbol, now: datetime,
                 flatten: bool = False) -> UniverseOptionChain:
    canonical = canonical_option(symbol)
    assert canonical.underlying is not None
    found = _universe_at(data, hours, canonical.underlying.value, now)
    underlying = _Underlying(canonical.underlying, found[0] if found else 0.0)
    contracts = OptionContracts()
    if found is not None:
        for contract_symbol, row in _live_rows(canonical, found[1], now.date()):
            contracts[contract_symbol] = UniverseOptionContract(contract_symbol, row, underlying, now)
    return UniverseOptionChain(canonical, now, underlying, contracts, flatten)
