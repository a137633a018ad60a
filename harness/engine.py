"""Drives a QCAlgorithm subclass through initialize -> minute slices -> order events -> end,
over the synthetic market, the way LEAN's backtesting engine does for the API the bot uses.
Expiring options are exercised or assigned at the open of the next trading day, as LEAN does
(``harness/expiry.py``)."""

from __future__ import annotations

import time as wallclock
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from harness.brokerage import FeeModel, HarnessBrokerage
from harness.lean_commands import build_command
from harness.lean_data import (
    OptionChain,
    OptionChains,
    OptionContract,
    OptionFilterUniverse,
    Slice,
    _Underlying,
    apply_filter,
)
from harness.lean_orders import OrderEvent
from harness.lean_securities import Equity, Option, Security, SymbolProperties
from harness.lean_symbols import Symbol
from harness.market import MINUTES_PER_DAY, MarketConfig, SyntheticMarket
from harness.object_store import ObjectStore
from harness.qc_algorithm import QCAlgorithm
from harness.trading_calendar import SYNTHETIC_HOURS, trading_days_between

OPEN = time(9, 30)
OPTION_PROPERTIES = SymbolProperties(contract_multiplier=100.0, minimum_price_variation=0.01)
EQUITY_PROPERTIES = SymbolProperties(contract_multiplier=1.0, minimum_price_variation=0.01)


@dataclass
class RunResult:
    start: date
    end: date
    trading_days: int
    slices: int
    orders: int
    fills: int
    fees: float
    start_equity: float
    end_equity: float
    keys_written: list[str]
    elapsed_seconds: float
    equity_curve: list[tuple[date, float]] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)


class HarnessEngine:
    def __init__(self, algorithm_class: type[QCAlgorithm], parameters: dict[str, str],
                 storage_dir: Path, market_config: MarketConfig | None = None,
                 live_mode: bool = False, fees: FeeModel | None = None,
                 on_day: Callable[[int, int], None] | None = None) -> None:
        self.parameters = {str(k): str(v) for k, v in parameters.items()}
        self.market_config = market_config or MarketConfig()
        self.daily_closes: list[tuple[date, float]] = []  # (day, underlying close), for QCAlgorithm.history
        self.live_mode = live_mode
        # LEAN's defaults (Common/Packets/Controls.cs): persisted about every 5 s, 10,000 files, 10 GiB
        self.object_store = ObjectStore(storage_dir, persist_interval_seconds=5.0,
                                        on_error=lambda message: self.write_log("ERROR", self.algorithm.time,
                                                                                message))
        self.logs: list[str] = []
        self._on_day = on_day
        self._market: SyntheticMarket | None = None
        self._options: list[Option] = []
        self._chains = OptionChains()
        self.slices = 0
        self._commands: dict[str, type] = {}
        self.algorithm = algorithm_class()
        self.brokerage = HarnessBrokerage(
            self.algorithm.securities, self.algorithm.portfolio, self.market,
            lambda: self.algorithm.time, lambda: self.algorithm.utc_time, self._deliver, fees)
        self.algorithm._attach(self)
        self.brokerage.on_assignment = self.algorithm.on_assignment_order_event

    # -- subscriptions -------------------------------------------------------------------
    def market(self) -> SyntheticMarket:
        if self._market is None:
            raise RuntimeError("No underlying was added: call add_equity or add_option first")
        return self._market

    def add_equity(self, ticker: str, extended_market_hours: bool = False) -> Equity:
        symbol = Symbol._create_equity(ticker.upper())
        if self._market is None:
            self._market = SyntheticMarket(symbol, self.market_config)
        elif self._market.underlying != symbol:
            raise NotImplementedError("The harness simulates one underlying per algorithm")
        existing = self.algorithm.securities.get(symbol)
        if isinstance(existing, Equity):
            return existing
        market = self._market
        equity = Equity(symbol, EQUITY_PROPERTIES, lambda: market.quote(symbol))
        self.algorithm.securities[symbol] = equity
        return equity

    def add_option(self, underlying: str | Symbol) -> Option:
        ticker = underlying.value if isinstance(underlying, Symbol) else str(underlying)
        equity = self.add_equity(ticker)
        canonical = Symbol._create_canonical_option(equity.symbol)
        option = Option(canonical, OPTION_PROPERTIES, lambda: (0.0, 0.0))
        self.algorithm.securities[canonical] = option
        self._options.append(option)
        return option

    def _security_for(self, symbol: Symbol) -> Security:
        security = self.algorithm.securities.get(symbol)
        if security is None:
            market = self.market()
            security = Security(symbol, OPTION_PROPERTIES, lambda: market.quote(symbol))
            self.algorithm.securities[symbol] = security
        return security

    # -- events --------------------------------------------------------------------------
    def _deliver(self, event: OrderEvent) -> None:
        self.algorithm.on_order_event(event)

    def _send_command(self, payload: dict[str, Any]) -> bool | None:
        """What ``lean live command`` does: build the registered command and run it."""
        return build_command(self._commands, payload).run(self.algorithm)

    def write_log(self, level: str, moment: datetime, message: str) -> None:
        self.logs.append(f"{moment:%Y-%m-%d %H:%M:%S} {level} {message}")

    # -- the run -------------------------------------------------------------------------
    def _build_chains(self, day: date) -> None:
        market = self.market()
        self._chains = OptionChains()
        for option in self._options:
            universe = OptionFilterUniverse(market.listed, market.spot, day)
            selected = apply_filter(option._filter, universe)
            contracts: dict[Symbol, OptionContract] = {}
            for listed in selected:
                self._security_for(listed.symbol)
                contracts[listed.symbol] = OptionContract(market.book, market.index[listed.symbol], listed.symbol)
            underlying = _Underlying(market.underlying, market.spot)
            self._chains[option.symbol] = OptionChain(option.symbol, underlying, contracts)

    def run(self) -> RunResult:
        started = wallclock.perf_counter()
        algorithm = self.algorithm
        algorithm.initialize()
        market = self.market()
        days = trading_days_between(algorithm.start_date.date(), algorithm.end_date.date())
        start_equity = algorithm.portfolio.total_portfolio_value
        curve: list[tuple[date, float]] = []
        for n, day in enumerate(days, start=1):
            market.start_day(day)
            algorithm._time = datetime.combine(day, OPEN)
            self.brokerage.exercise_delisted(day, SYNTHETIC_HOURS)  # LEAN: delisted the next tradable day
            self._build_chains(day)
            firings = self.algorithm.schedule._due_on(day)
            next_firing = 0
            open_at = datetime.combine(day, OPEN)
            for minute in range(1, MINUTES_PER_DAY + 1):
                now = open_at + timedelta(minutes=minute)
                algorithm._time = now
                market.advance(now)
                for chain in self._chains.values():
                    chain.underlying.price = market.spot
                next_firing = self._slice(now, firings, next_firing, Slice(now, self._chains))
            market.end_day()
            self.daily_closes.append((day, market.spot))  # the underlying's daily bars for history()
            curve.append((day, algorithm.portfolio.total_portfolio_value))
            if self._on_day is not None:
                self._on_day(n, len(days))
        return self._finish(started, days, start_equity, curve)

    def _slice(self, now: datetime, firings: list[Any], next_firing: int, data: Slice) -> int:
        """One minute after the market moved: fills, the scheduled events that are due, ``on_data``,
        the Object Store's flush timer. Returns the index of the next scheduled event."""
        self.brokerage.on_slice()
        while next_firing < len(firings) and firings[next_firing][0] <= now:
            firings[next_firing][1].callback()
            next_firing += 1
        self.algorithm.on_data(data)
        self.slices += 1
        self.object_store._tick()
        return next_firing

    def _finish(self, started: float, days: list[date], start_equity: float,
                curve: list[tuple[date, float]]) -> RunResult:
        """End of the run: ``on_end_of_algorithm``, the store persisted, the result."""
        algorithm = self.algorithm
        algorithm.on_end_of_algorithm()
        self.object_store._persist()  # LEAN persists the store when the algorithm ends;
        self.object_store._interval = 0.0  # after the run (tests, commands) writes go straight through
        return RunResult(
            start=days[0] if days else algorithm.start_date.date(),
            end=days[-1] if days else algorithm.end_date.date(),
            trading_days=len(days), slices=self.slices, orders=len(self.brokerage.orders),
            fills=self.brokerage.fill_count, fees=self.brokerage.fees_paid,
            start_equity=start_equity, end_equity=algorithm.portfolio.total_portfolio_value,
            keys_written=sorted(self.object_store._written),
            elapsed_seconds=wallclock.perf_counter() - started, equity_curve=curve, logs=self.logs)


def run_algorithm(algorithm_class: type[QCAlgorithm], parameters: dict[str, str], storage_dir: Path,
                  **kwargs: Any) -> tuple[HarnessEngine, RunResult]:
    engine = HarnessEngine(algorithm_class, parameters, storage_dir, **kwargs)
    return engine, engine.run()
