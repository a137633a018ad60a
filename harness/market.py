"""A deterministic synthetic option market: seeded GBM underlying and a Black-Scholes chain.

Each trading day the market lists weekly and monthly expiries, each with a strike grid fixed
when the expiry was first listed (as exchanges do), prices every listed contract each minute
with a skewed implied volatility, and quotes a bid/ask around the model price. Greeks and IV are
reported as zero on a contract's first minute of the day, as LEAN does before both the option
and its underlying have prices. ``shocks`` add jumps to the underlying (crash scenarios).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np

from harness.lean_data import ListedContract, QuoteBook
from harness.lean_enums import OptionRight
from harness.lean_symbols import Symbol
from harness.pricing import price_chain
from harness.trading_calendar import expiry_for_friday, is_monthly

MINUTES_PER_DAY = 390
MINUTE_YEARS = 1.0 / (252 * MINUTES_PER_DAY)
EXPIRY_TIME = time(16, 0)
YEAR_SECONDS = 365.0 * 24 * 3600


@dataclass(frozen=True)
class MarketConfig:
    seed: int = 7
    start_price: float = 750.0
    realized_vol: float = 0.25  # of the underlying's GBM
    drift: float = 0.05
    implied_vol: float = 0.27  # at the money
    skew: float = 0.8  # IV rises this much per unit of -ln(K/S)
    rate: float = 0.01
    strike_step: float = 5.0
    strikes_each_side: int = 30
    weekly_count: int = 5
    monthly_count: int = 3
    spread_pct: float = 0.03  # of the model price, full spread
    min_half_spread: float = 0.025
    tick: float = 0.05
    shocks: tuple[tuple[datetime, float], ...] = field(default_factory=tuple)


class SyntheticMarket:
    def __init__(self, underlying: Symbol, config: MarketConfig) -> None:
        self.underlying = underlying
        self.config = config
        self.spot = config.start_price
        self._rng = np.random.default_rng(config.seed)
        self._grids: dict[date, list[float]] = {}
        self.listed: list[ListedContract] = []
        self.index: dict[Symbol, int] = {}
        self.book = QuoteBook(0)
        self._last_quote: dict[Symbol, tuple[float, float]] = {}
        self._strike = np.zeros(0)
        self._expiry_ts = np.zeros(0)
        self._is_call = np.zeros(0, dtype=bool)
        self._minute = 0
        self._noise = np.zeros(MINUTES_PER_DAY)
        self._shocks = sorted(config.shocks)
        self.today: date | None = None

    # -- listing -------------------------------------------------------------------------
    def _series(self, day: date) -> list[tuple[date, bool]]:
        """(expiry, is_weekly) of the series listed on ``day``."""
        friday = day + timedelta(days=(4 - day.weekday()) % 7)
        weeklies: list[tuple[date, bool]] = []
        monthlies: list[tuple[date, bool]] = []
        while len(weeklies) < self.config.weekly_count or len(monthlies) < self.config.monthly_count:
            expiry = expiry_for_friday(friday)
            if expiry >= day:
                if is_monthly(friday):
                    if len(monthlies) < self.config.monthly_count:
                        monthlies.append((expiry, False))
                elif len(weeklies) < self.config.weekly_count:
                    weeklies.append((expiry, True))
            friday += timedelta(days=7)
        return sorted(set(weeklies + monthlies))

    def _grid(self, expiry: date) -> list[float]:
        if expiry not in self._grids:
            step = self.config.strike_step
            atm = round(self.spot / step) * step
            n = self.config.strikes_each_side
            self._grids[expiry] = [atm + step * k for k in range(-n, n + 1) if atm + step * k > 0]
        return self._grids[expiry]

    def start_day(self, day: date) -> list[ListedContract]:
        """List the day's contracts and draw the day's random path. Returns the listing."""
        self.today = day
        listed: list[ListedContract] = []
        for expiry, weekly in self._series(day):
            expiry_dt = datetime.combine(expiry, time(0))
            for strike in self._grid(expiry):
                for right in (OptionRight.CALL, OptionRight.PUT):
                    symbol = Symbol._create_option_contract(self.underlying, right, strike, expiry_dt)
                    listed.append(ListedContract(symbol, strike, expiry, right, weekly))
        self.listed = listed
        self.index = {c.symbol: i for i, c in enumerate(listed)}
        self.book = QuoteBook(len(listed))
        self._strike = np.array([c.strike for c in listed])
        self._expiry_ts = np.array([datetime.combine(c.expiry, EXPIRY_TIME).timestamp() for c in listed])
        self._is_call = np.array([c.right == OptionRight.CALL for c in listed])
        moneyness = np.abs(np.log(self._strike / self.spot))
        self.book.open_interest[:] = np.round(2000.0 * np.exp(-8.0 * moneyness))
        self._noise = self._rng.standard_normal(MINUTES_PER_DAY)
        self._minute = 0
        return listed

    # -- time ----------------------------------------------------------------------------
    def advance(self, moment: datetime) -> None:
        """Move the underlying one minute and reprice every listed contract at ``moment``."""
        cfg = self.config
        z = self._noise[min(self._minute, MINUTES_PER_DAY - 1)]
        step = (cfg.drift - 0.5 * cfg.realized_vol ** 2) * MINUTE_YEARS
        self.spot *= math.exp(step + cfg.realized_vol * math.sqrt(MINUTE_YEARS) * z)
        while self._shocks and self._shocks[0][0] <= moment:
            self.spot *= 1.0 + self._shocks.pop(0)[1]
        self._reprice(moment, first_minute=self._minute == 0)
        self._minute += 1

    def _reprice(self, moment: datetime, first_minute: bool) -> None:
        cfg, book = self.config, self.book
        book.underlying_price = self.spot
        if not len(self.listed):
            return
        years = np.maximum(self._expiry_ts - moment.timestamp(), 60.0) / YEAR_SECONDS
        log_m = np.log(self._strike / self.spot)
        vol = np.clip(cfg.implied_vol - cfg.skew * np.minimum(log_m, 0.0) * cfg.implied_vol
                      + 0.3 * log_m * log_m, 0.05, 3.0)
        priced = price_chain(self.spot, self._strike, years, vol, cfg.rate, self._is_call)
        theo = np.maximum(priced.price, 0.0)
        half = np.maximum(cfg.min_half_spread, 0.5 * cfg.spread_pct * theo)
        tick = np.where(theo >= 3.0, cfg.tick, 0.01)
        book.bid[:] = np.round(np.maximum(np.floor((theo - half) / tick) * tick, 0.0), 2)
        book.ask[:] = np.round(np.maximum(np.ceil((theo + half) / tick) * tick, book.bid + tick), 2)
        book.last[:] = np.round(theo, 2)
        book.theoretical[:] = theo
        if first_minute:
            for array in (book.iv, book.delta, book.gamma, book.theta, book.vega, book.rho):
                array[:] = 0.0
        else:
            book.iv[:] = vol
            book.delta[:] = priced.delta
            book.gamma[:] = priced.gamma
            book.theta[:] = priced.theta
            book.vega[:] = priced.vega / 100.0  # LEAN reports vega and rho per 1 % (QLOptionPriceModel)
            book.rho[:] = priced.rho / 100.0

    def end_day(self) -> None:
        """Remember the closing quotes of every contract so held ones keep a price later."""
        for symbol, i in self.index.items():
            self._last_quote[symbol] = (float(self.book.bid[i]), float(self.book.ask[i]))

    # -- quotes --------------------------------------------------------------------------
    def quote(self, symbol: Symbol) -> tuple[float, float]:
        if symbol == self.underlying:
            return (round(self.spot - 0.01, 2), round(self.spot + 0.01, 2))
        i = self.index.get(symbol)
        if i is not None:
            return (float(self.book.bid[i]), float(self.book.ask[i]))
        return self._last_quote.get(symbol, (0.0, 0.0))

    def bar_range(self, symbol: Symbol, buy: bool) -> tuple[float, float]:
        """(high, low) of the minute's ask bar (buy) or bid bar (sell): the synthetic market
        quotes once a minute, so both are the quote."""
        bid, ask = self.quote(symbol)
        price = ask if buy else bid
        return (price, price)

    def intrinsic(self, symbol: Symbol) -> float:
        strike = symbol.id.strike_price
        if symbol.id.option_right == OptionRight.CALL:
            return max(self.spot - strike, 0.0)
        return max(strike - self.spot, 0.0)
