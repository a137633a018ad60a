"""Runs a QCAlgorithm over LEAN's on-disk data (``harness.replay_market``) with LEAN's
backtest schedule:

- trading days and session times from the market-hours database (holidays, early closes);
  one slice per in-session minute, at the bar's end;
- the option universe is selected once a day from the day's universe file through the
  algorithm's filter (``Option.set_filter``), then only the selected (and held) contracts are
  read; a contract joins ``slice.option_chains`` from its first bar on (fill-forward after);
- expiry as LEAN: a contract expiring on day D is delisted on the next tradable day, where the
  exercise model turns it into an OptionExercise order [Common/Orders/OptionExercise/
  DefaultExerciseModel.cs] (see ``HarnessBrokerage.exercise_delisted``);
- the daily equity series and the order list feed LEAN's statistics (``harness.statistics``).
"""

from __future__ import annotations

import time as wallclock
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from harness.engine import HarnessEngine, RunResult
from harness.lean_data import (
    OptionChain,
    OptionChains,
    OptionContract,
    OptionFilterUniverse,
    Slice,
    TradeBar,
    TradeBars,
    _Underlying,
)
from harness.lean_disk import LeanDataFolder
from harness.lean_option_chain_api import UniverseOptionChain, option_chain, option_contract_list
from harness.lean_securities import Equity, Option, Security, SymbolProperties
from harness.lean_symbols import Symbol
from harness.market_hours import ExchangeHours
from harness.qc_algorithm import QCAlgorithm
from harness.replay_market import ReplayMarket


class ReplayEngine(HarnessEngine):
    def __init__(self, algorithm_class: type[QCAlgorithm], parameters: dict[str, str], storage_dir: Path,
                 data_folder: Path, **kwargs: Any) -> None:
        self.data = LeanDataFolder(data_folder, warn=self._data_warning)
        self.equity_hours: ExchangeHours = self.data.exchange_hours("Equity")
        self.option_hours: ExchangeHours = self.data.exchange_hours("Option")
        self._replay: ReplayMarket | None = None
        self._selected: dict[Symbol, list[Symbol]] = {}
        self._added_contracts: set[Symbol] = set()  # add_option_contract's subscriptions
        self._pending_warnings: list[str] = []
        self.equity_series: list[tuple[datetime, float]] = []
        super().__init__(algorithm_class, parameters, storage_dir, **kwargs)
        self.brokerage.market_close_after = self.option_hours.next_market_close
        self.algorithm.time_rules._hours = self.equity_hours  # early closes move before_market_close

    def _data_warning(self, message: str) -> None:
        self._pending_warnings.append(message)

    def _flush_warnings(self) -> None:
        for message in self._pending_warnings:
            self.write_log("WARNING", self.algorithm.time, message)
        self._pending_warnings.clear()

    # -- subscriptions ---------------------------------------------------------------------
    def market(self) -> ReplayMarket:  # type: ignore[override]
        if self._replay is None:
            raise RuntimeError("No underlying was added: call add_equity or add_option first")
        return self._replay

    def hours_for(self, symbol: Symbol) -> ExchangeHours:
        return self.option_hours if symbol.security_type.name == "OPTION" else self.equity_hours

    def _properties(self, security_type: str, ticker: str) -> SymbolProperties:
        multiplier, tick = self.data.symbol_properties("usa", security_type, ticker)
        return SymbolProperties(contract_multiplier=multiplier, minimum_price_variation=tick)

    def add_equity(self, ticker: str) -> Equity:
        symbol = Symbol._create_equity(ticker.upper())
        if self._replay is None:
            if not self.data.has_equity(ticker):
                self.write_log("WARNING", self.algorithm.time,
                               f"no minute data for {ticker} in {self.data.root}: the run will have no prices")
            self._replay = ReplayMarket(self.data, symbol, self.equity_hours)
        elif self._replay.underlying != symbol:
            raise NotImplementedError("The LEAN-data harness replays one underlying per algorithm")
        existing = self.algorithm.securities.get(symbol)
        if isinstance(existing, Equity):
            return existing
        market = self._replay
        equity = Equity(symbol, self._properties("equity", ticker), lambda: market.quote(symbol),
                        price=lambda: market.price(symbol))
        equity._hours = self.equity_hours
        self.algorithm.securities[symbol] = equity
        return equity

    def add_option(self, underlying: str | Symbol) -> Option:
        ticker = underlying.value if isinstance(underlying, Symbol) else str(underlying)
        equity = self.add_equity(ticker)
        canonical = Symbol._create_canonical_option(equity.symbol)
        option = Option(canonical, self._properties("option", ticker), lambda: (0.0, 0.0))
        option._hours = self.option_hours
        self.algorithm.securities[canonical] = option
        self._options.append(option)
        return option

    def _security_for(self, symbol: Symbol) -> Security:
        security = self.algorithm.securities.get(symbol)
        if security is None:
            market = self.market()
            security = Security(symbol, self._properties("option", symbol.underlying.value if symbol.underlying
                                                         else symbol.value),
                                lambda: market.quote(symbol), price=lambda: market.price(symbol))
            security._hours = self.option_hours
            self.algorithm.securities[symbol] = security
        return security

    def add_option_contract(self, symbol: Symbol) -> Security:
        """A subscription that lasts (LEAN's AddOptionContract): read from now on (or from the first
        day when added in initialize) and on every later day until it expires."""
        security = self._security_for(symbol)
        self._added_contracts.add(symbol)
        self.market().subscribe([symbol])
        return security

    def option_chain_provider(self) -> _ChainProvider:
        return _ChainProvider(self)

    def option_chain(self, symbol: Symbol, flatten: bool) -> UniverseOptionChain:
        """QCAlgorithm.OptionChain: the chain of the universe file in force now."""
        return option_chain(self.data, self.option_hours, symbol, self.algorithm.time, flatten)

    # -- the day ---------------------------------------------------------------------------
    def _select_universe(self, day: date) -> None:
        market = self.market()
        self._selected = {}
        wanted: list[Symbol] = []
        for option in self._options:
            universe = OptionFilterUniverse(market.listed, market.universe_price, day)
            chosen = [c.symbol for c in option._apply_filter(universe)]
            self._selected[option.symbol] = chosen
            wanted += chosen
        held = [s for s, sec in self.algorithm.securities.items()
                if s.security_type.name == "OPTION" and s in market.index
                and (sec.holdings.quantity != 0 or s in self._added_contracts)]
        for symbol in wanted + held:
            self._security_for(symbol)
        market.subscribe(wanted + held)

    def _chains_at(self, now: datetime) -> OptionChains:
        market = self.market()
        chains = OptionChains()
        live = set(market.in_chain())
        for canonical, chosen in self._selected.items():
            contracts = {s: OptionContract(market.book, market.index[s], s)
                         for s in chosen if market.index[s] in live}
            if contracts:
                chains[canonical] = OptionChain(canonical, _Underlying(market.underlying, market.spot), contracts)
        return chains

    def _bars(self, now: datetime) -> TradeBars:
        bars = TradeBars()
        market = self.market()
        bar = market.equity_bar()
        if bar is not None:
            bars[market.underlying] = TradeBar(market.underlying, now - timedelta(minutes=1), now, bar)
        return bars

    def run(self) -> RunResult:
        started = wallclock.perf_counter()
        algorithm = self.algorithm
        algorithm.initialize()
        market = self.market()
        days = self.equity_hours.trading_days(algorithm.start_date.date(), algorithm.end_date.date())
        start_equity = algorithm.portfolio.total_portfolio_value
        curve: list[tuple[date, float]] = []
        for n, day in enumerate(days, start=1):
            market.start_day(day)
            open_at = self.equity_hours.market_open(day)
            if open_at is not None:
                algorithm._time = open_at
                self.brokerage.exercise_delisted(day, self.option_hours)
            self._select_universe(day)
            self._flush_warnings()
            firings = algorithm.schedule._due_on(day)
            next_firing = 0
            chains = OptionChains()
            known = -1
            for now in market.minute_times():
                algorithm._time = now
                market.advance(now)
                live = len(market.in_chain())
                if live != known:
                    chains, known = self._chains_at(now), live
                for chain in chains.values():
                    chain.underlying.price = market.spot
                next_firing = self._slice(now, firings, next_firing, Slice(now, chains, self._bars(now)))
                self._flush_warnings()
            market.end_day()
            self.data.close()  # the day's zips are not read again
            value = algorithm.portfolio.total_portfolio_value
            curve.append((day, value))
            self.equity_series.append((datetime.combine(day, datetime.min.time()), value))
            if self._on_day is not None:
                self._on_day(n, len(days))
        result = self._finish(started, days, start_equity, curve)
        self._flush_warnings()
        return result


class _ChainProvider:
    """LEAN's option chain provider (BacktestingOptionChainProvider): the contracts listed for the
    requested time, from the universe file (``harness.lean_option_chain_api``)."""

    def __init__(self, engine: ReplayEngine) -> None:
        self._engine = engine

    def get_option_contract_list(self, symbol: Symbol, date: datetime) -> list[Symbol]:
        if not isinstance(date, datetime):
            date = datetime.combine(date, datetime.min.time())
        return option_contract_list(self._engine.data, self._engine.option_hours, symbol, date)
