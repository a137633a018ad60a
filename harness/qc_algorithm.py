"""The harness's QCAlgorithm: the slice of LEAN's algorithm API the bot uses, with LEAN's
semantics, backed by ``harness.engine.HarnessEngine``. Names are LEAN's snake_case names."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from harness.lean_charts import ChartRecorder
from harness.lean_enums import Resolution
from harness.lean_orders import Leg, OrderEvent, OrderTicket
from harness.lean_securities import (
    Equity,
    Option,
    SecurityManager,
    SecurityPortfolioManager,
    SecurityTransactionManager,
)
from harness.lean_symbols import Symbol
from harness.object_store import ObjectStore
from harness.scheduling import DateRules, ScheduleManager, TimeRules

if TYPE_CHECKING:
    from harness.engine import HarnessEngine

NEW_YORK = ZoneInfo("America/New_York")


class QCAlgorithm:
    def __init__(self) -> None:
        self._engine: HarnessEngine | None = None
        self.securities = SecurityManager()
        self.portfolio = SecurityPortfolioManager(self.securities)
        self.schedule = ScheduleManager()
        self.date_rules = DateRules()
        self.time_rules = TimeRules()
        self.live_mode = False
        self.start_date = datetime(1998, 1, 1)
        self.end_date = datetime.now().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
        self._time = self.start_date
        self._clock_started = False  # a live instance started at a known time (the restart drill's)
        self._lean_charts = ChartRecorder()  # plot / runtime / summary statistics (lean_charts.recorder_of)

    # -- wiring (harness only; not LEAN API) --------------------------------------------------
    def _attach(self, engine: HarnessEngine) -> None:
        self._engine = engine
        self.transactions = SecurityTransactionManager(engine.brokerage.orders, engine.brokerage._ticket)
        self.object_store: ObjectStore = engine.object_store
        self.live_mode = engine.live_mode

    def _require_engine(self) -> HarnessEngine:
        if self._engine is None:
            raise RuntimeError("This QCAlgorithm is not attached to a harness engine")
        return self._engine

    # -- event handlers the algorithm overrides -----------------------------------------------
    def initialize(self) -> None:
        pass

    def on_data(self, slice: Any) -> None:
        pass

    def on_order_event(self, order_event: OrderEvent) -> None:
        pass

    def on_end_of_algorithm(self) -> None:
        pass

    def on_assignment_order_event(self, assignment_event: OrderEvent) -> None:
        pass

    # -- set-up ----------------------------------------------------------------------------
    @staticmethod
    def _as_datetime(year: int | date, month: int | None, day: int | None) -> datetime:
        if isinstance(year, date):
            return datetime(year.year, year.month, year.day)
        if month is None or day is None:
            raise TypeError("set_start_date/set_end_date take (year, month, day) or a date")
        return datetime(year, month, day)

    def set_start_date(self, year: int | date, month: int | None = None, day: int | None = None) -> None:
        self.start_date = self._as_datetime(year, month, day)
        # live LEAN ignores SetStartDate: the clock is the current time (Algorithm/QCAlgorithm.cs). A
        # harness live run has no time before its replay: the start date stands in, except for an
        # instance the restart drill started at the restart time
        if not (self.live_mode and self._clock_started):
            self._time = self.start_date

    def set_end_date(self, year: int | date, month: int | None = None, day: int | None = None) -> None:
        self.end_date = self._as_datetime(year, month, day)

    def set_cash(self, starting_cash: float) -> None:
        self.portfolio.cash = float(starting_cash)

    def get_parameter(self, name: str, default_value: Any = None) -> Any:
        value = self._require_engine().parameters.get(name)
        if value is None:
            return default_value
        if isinstance(default_value, bool) or default_value is None or isinstance(default_value, str):
            return value
        try:  # LEAN parses to the default's type and falls back to the default when it cannot
            return type(default_value)(value)
        except ValueError:
            return default_value

    def add_equity(self, ticker: str, resolution: Resolution | None = None, market: str | None = None,
                   fill_forward: bool = True, leverage: float = 0.0, extended_market_hours: bool = False,
                   data_normalization_mode: Any = None) -> Equity:
        """Minute data with fill-forward (LEAN's defaults); ``leverage`` and the normalization
        mode are accepted (no split or dividend in the harness's periods)."""
        return self._require_engine().add_equity(ticker)

    def add_option(self, underlying: str | Symbol, resolution: Resolution | None = None, market: str | None = None,
                   fill_forward: bool = True, leverage: float = 0.0) -> Option:
        return self._require_engine().add_option(underlying)

    def add_option_contract(self, symbol: Symbol, resolution: Resolution | None = None, fill_forward: bool = True,
                            leverage: float = 0.0, extended_market_hours: bool = False) -> Any:
        """Subscribe one contract (its data starts with the next bar, as a new LEAN subscription)."""
        return self._require_engine().add_option_contract(_symbol_of(symbol))

    @property
    def option_chain_provider(self) -> Any:
        """``get_option_contract_list(symbol, date)``: the contracts listed at that time."""
        return self._require_engine().option_chain_provider()

    def option_chain(self, symbol: Symbol, flatten: bool = False) -> Any:
        """The option chain now, from LEAN's daily universe data (QCAlgorithm.OptionChain): for an
        underlying, its canonical option, or a contract; ``flatten`` shapes ``data_frame``."""
        engine = self._require_engine()
        if not hasattr(engine, "option_chain"):
            raise NotImplementedError("option_chain reads LEAN's universe files: run on LEAN data (--data)")
        return engine.option_chain(_symbol_of(symbol), flatten)  # type: ignore[attr-defined]

    def liquidate(self, symbol: Any = None, asynchronous: bool = False, tag: str = "Liquidated",
                  order_properties: Any = None) -> list[OrderTicket]:
        """Cancel open orders and close every holding (or ``symbol``'s) with market orders."""
        target = None if symbol is None else _symbol_of(symbol)
        brokerage = self._require_engine().brokerage
        for order in list(brokerage.orders.values()):
            if order._is_open and (target is None or order.symbol == target):
                brokerage.cancel(order.id)
        tickets = []
        for held_symbol, security in list(self.securities.items()):
            quantity = security.holdings.quantity
            if quantity and (target is None or held_symbol == target):
                tickets.append(self.market_order(held_symbol, -quantity, tag=tag))
        return tickets

    def set_benchmark(self, symbol: Any) -> None:
        """Recorded; LEAN's benchmark only feeds Alpha/Beta-type statistics."""
        self._benchmark = symbol

    def is_market_open(self, symbol: Symbol) -> bool:
        """The security's exchange is open now (regular hours; market-hours database)."""
        security = self.securities.get(_symbol_of(symbol))
        hours = getattr(security, "_hours", None)
        if hours is None:
            return True  # the synthetic market is open at every slice it emits
        return bool(hours.is_open(self._time))

    # -- clock -----------------------------------------------------------------------------
    @property
    def time(self) -> datetime:
        return self._time

    @property
    def utc_time(self) -> datetime:
        return self._time.replace(tzinfo=NEW_YORK).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)

    # -- history ---------------------------------------------------------------------------
    def history(self, symbol: Symbol, periods: int, resolution: Resolution | None = None) -> Any:
        """LEAN's ``history(symbol, periods, Resolution.DAILY)``: a pandas DataFrame indexed by
        (symbol, time) with OHLC columns, the last ``periods`` daily bars before today, oldest first.
        Only daily bars of the underlying the engine trades; the synthetic market has no bars before
        the start date (LEAN would), so the first day's history is empty."""
        import pandas as pd

        if resolution is not None and resolution != Resolution.DAILY:
            raise NotImplementedError("the harness keeps daily history only")
        engine = self._require_engine()
        bars = [(day, close) for day, close in engine.daily_closes if day < self._time.date()][-periods:]
        index = pd.MultiIndex.from_tuples([(str(_symbol_of(symbol).value), datetime.combine(day, datetime.min.time())
                                            + timedelta(hours=16)) for day, _ in bars], names=["symbol", "time"])
        closes = [close for _, close in bars]
        return pd.DataFrame({"open": closes, "high": closes, "low": closes, "close": closes}, index=index)

    # -- orders ----------------------------------------------------------------------------
    def market_order(self, symbol: Symbol, quantity: float, asynchronous: bool = False,
                     tag: str = "") -> OrderTicket:
        return self._require_engine().brokerage.market_order(_symbol_of(symbol), quantity, tag)

    def market_on_close_order(self, symbol: Symbol, quantity: float, asynchronous: bool = False,
                              tag: str = "") -> OrderTicket:
        return self._require_engine().brokerage.market_on_close_order(_symbol_of(symbol), quantity, tag)

    def market_on_open_order(self, symbol: Symbol, quantity: float, asynchronous: bool = False,
                             tag: str = "") -> OrderTicket:
        return self._require_engine().brokerage.market_on_open_order(_symbol_of(symbol), quantity, tag)

    def limit_order(self, symbol: Symbol, quantity: float, limit_price: float,
                    asynchronous: bool = False, tag: str = "") -> OrderTicket:
        return self._require_engine().brokerage.limit_order(_symbol_of(symbol), quantity, limit_price, tag)

    def combo_market_order(self, legs: list[Leg], quantity: int, asynchronous: bool = False,
                           tag: str = "") -> list[OrderTicket]:
        return self._require_engine().brokerage.combo_order(legs, quantity, None, tag)

    def combo_limit_order(self, legs: list[Leg], quantity: int, limit_price: float,
                          asynchronous: bool = False, tag: str = "") -> list[OrderTicket]:
        if limit_price == 0:  # QCAlgorithm.Trading.cs ComboLimitOrder: ArgumentException
            raise ValueError("ComboLimitOrder requires a limit price: the limit price cannot be zero")
        if any(leg.order_price not in (None, 0) for leg in legs):
            raise ValueError("ComboLimitOrder does not support limit prices for individual legs")
        return self._require_engine().brokerage.combo_order(legs, quantity, limit_price, tag)

    def combo_leg_limit_order(self, legs: list[Leg], quantity: int, asynchronous: bool = False,
                              tag: str = "") -> list[OrderTicket]:
        """One limit price per leg (``leg.order_price``); QCAlgorithm.Trading.cs
        ComboLegLimitOrder throws (ArgumentException) when a leg has none or 0."""
        if any(leg.order_price is None or leg.order_price == 0 for leg in legs):
            raise ValueError("ComboLegLimitOrder requires a limit price for each leg")
        return self._require_engine().brokerage.combo_order(legs, quantity, None, tag)

    # -- commands --------------------------------------------------------------------------
    def add_command(self, type: type) -> None:
        if not hasattr(type, "run"):
            raise ValueError(f"{type.__name__} has no run(algorithm) method")
        self._require_engine()._commands[type.__name__] = type

    # -- charts and statistics (harness/lean_charts.py) -------------------------------------
    def plot(self, chart: str, series: str, value: float) -> None:
        self._lean_charts.plot(self.utc_time, chart, series, value)

    def set_runtime_statistic(self, name: str, value: str | float) -> None:
        self._lean_charts.set_runtime_statistic(name, value)

    def set_summary_statistic(self, name: str, value: str | float) -> None:
        self._lean_charts.set_summary_statistic(name, value)

    # -- logging ---------------------------------------------------------------------------
    def log(self, message: str) -> None:
        self._require_engine().write_log("LOG", self._time, message)

    def debug(self, message: str) -> None:
        self._require_engine().write_log("DEBUG", self._time, message)

    def error(self, message: str) -> None:
        self._require_engine().write_log("ERROR", self._time, message)


def _symbol_of(target: Any) -> Symbol:
    if isinstance(target, Symbol):
        return target
    if isinstance(target, tuple) and len(target) == 1:  # a row name of a data frame indexed by symbol
        return _symbol_of(target[0])
    symbol = getattr(target, "symbol", None)
    if isinstance(symbol, Symbol):
        return symbol
    raise TypeError(f"Expected a Symbol (or a security/contract), got {type(target).__name__}")
