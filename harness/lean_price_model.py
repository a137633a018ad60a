"""LEAN's default option price model on the LEAN-data replay: ``contract.implied_volatility``,
``contract.greeks`` and ``contract.theoretical_price`` as ``IndicatorBasedOptionPriceModel``
(``Indicators/IndicatorBasedOptionPriceModel.cs``, the engine's default since ``Engine/Engine.cs``
passes ``IndicatorBasedOptionPriceModelProvider``) computes them.

For a contract at time ``now`` (LEAN builds fresh ``GreeksIndicators`` and feeds them the
underlying's, the contract's and the mirror's ``Security.Price``):

- no result (all 0) when ``now``'s date is after the expiry date, or the contract's or the
  underlying's price is 0 (no data yet); nothing else zeroes it;
- the mirror (same strike and expiry, other right) is used when it is a security of the algorithm
  with a price;
- model: equity options are American, so the IV and every Greek use the forward binomial tree of
  200 steps (``harness.lean_option_math``); the IV solve starts from the Black-Scholes IV
  (``harness.lean_implied_vol``), and the IV is the out-of-the-money one of the pair when both are
  found (``ImpliedVolatility``'s default smoothing);
- time to expiry: (settlement - now) in days / 365, settlement being the option market's close of
  the expiry day (of the trading day before it when that day is closed; early closes count);
  ``OptionSymbol.GetSettlementDateTime``;
- risk-free rate and dividend yield from the data folder (``harness.lean_rates``);
- IV and each Greek rounded to 7 decimals (``OptionIndicatorBase.ComputeNextValue``); theta is
  LEAN's theta per day x 365 (``contract.greeks.theta`` is annual, ``theta_per_day`` daily); vega
  and rho per 1 point; the theoretical price is Black-Scholes at the IV (the IV indicator's
  ``TheoreticalPrice``).

Laziness: nothing is computed until the algorithm reads a contract's IV, Greeks or theoretical
price; results are cached for the time step. A miss computes, in one vectorised batch, the
contract read plus those read in each of the two previous steps (an algorithm that reads the same
contracts every minute); after a few misses in one step (the algorithm is scanning the chain) the
rest of the chain joins the batch. Vectorising changes the cost, never a number.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

import numpy as np

from harness.lean_data import QuoteBook
from harness.lean_disk import LeanDataFolder
from harness.lean_enums import OptionRight
from harness.lean_implied_vol import implied_volatility, smooth
from harness.lean_option_math import PricingModel, black_price, greeks
from harness.lean_rates import DividendYieldModel, DividendYieldProvider, InterestRateProvider, RiskFreeRateModel
from harness.lean_symbols import Symbol
from harness.market_hours import ExchangeHours

MODEL = PricingModel.FORWARD_TREE  # OptionIndicatorBase.GetOptionModel(null, OptionStyle.American)
SCAN_MISSES = 3  # misses in one step after which the rest of the chain is computed in the same batch


def settlement(symbol: Symbol, hours: ExchangeHours) -> datetime:
    """``OptionSymbol.GetSettlementDateTime`` of an equity option: the first market close after the
    expiry (its date and time as the symbol holds it), or after the trading day before it when the
    exchange is closed that day; never later than midnight after the expiry date. A listed contract
    (expiry at midnight) settles at its expiry day's close, early closes included."""
    expiry = symbol.id.date
    day = expiry.date()
    start = expiry if hours.is_trading_day(day) else datetime.combine(hours.previous_trading_day(day), time())
    close = hours.next_market_close(start)
    limit = datetime.combine(day + timedelta(days=1), time())
    return limit if close >= limit else close


class LeanPriceModel:
    """Evaluates LEAN's model for many contracts at once (``evaluate``)."""

    def __init__(self, option_hours: ExchangeHours, rates: RiskFreeRateModel, dividends: DividendYieldModel) -> None:
        self.hours = option_hours
        self.rates = rates
        self.dividends = dividends
        self._settlement: dict[Symbol, datetime] = {}

    @classmethod
    def from_data_folder(cls, folder: LeanDataFolder, ticker: str, option_hours: ExchangeHours,
                         equity_hours: ExchangeHours) -> LeanPriceModel:
        """The engine's models: the data folder's interest-rate file and the underlying's factor file
        (a missing rate file is a warning and LEAN's 1 %; a factor file whose dividends or splits
        cannot be resolved is an error naming it, as in LEAN)."""
        rates = InterestRateProvider(folder.interest_rate_path())
        if not rates.loaded:
            folder.warn(f"no interest rates in {folder.interest_rate_path()}: LEAN's default risk-free rate "
                        f"(1 %) prices the options")
        path = folder.factor_file_path(ticker)
        rows = folder.factor_rows(ticker) if path.is_file() else []  # no factor file: no dividends (yield 0)
        return cls(option_hours, rates, DividendYieldProvider(rows, equity_hours, str(path)))

    def years_to_expiry(self, symbol: Symbol, now: datetime) -> float:
        when = self._settlement.get(symbol)
        if when is None:
            when = self._settlement[symbol] = settlement(symbol, self.hours)
        return (when - now).total_seconds() / 86400.0 / 365.0

    def evaluate(self, now: datetime, symbols: list[Symbol], price: Callable[[Symbol], float], spot: float,
                 has_mirror: Callable[[Symbol], bool]) -> dict[str, np.ndarray]:
        """``iv``, ``delta``, ``gamma``, ``vega``, ``theta`` (annual), ``rho``, ``theoretical`` per
        symbol, zeros where LEAN's model has no result."""
        n = len(symbols)
        out = {k: np.zeros(n) for k in ("iv", "delta", "gamma", "vega", "theta", "rho", "theoretical")}
        prices = np.array([price(s) for s in symbols])
        priced = [j for j, s in enumerate(symbols)
                  if not now.date() > s.id.date.date() and prices[j] != 0 and spot != 0]
        if not priced:
            return out
        chosen = [symbols[j] for j in priced]
        strike = np.array([s.id.strike_price for s in chosen])
        is_call = np.array([s.id.option_right == OptionRight.CALL for s in chosen])
        t = np.array([self.years_to_expiry(s, now) for s in chosen])
        r, q = self.rates.get_interest_rate(now), self.dividends.get_dividend_yield(now, spot)
        mirrors = [_mirror(s) for s in chosen]
        mirror_ok = np.array([has_mirror(m) and price(m) != 0 for m in mirrors])
        raw = _RawVols(self, now, spot, t, r, q, price)
        use_mirror = mirror_ok & ((~is_call & (strike > spot)) | (is_call & (strike < spot)))
        first = raw.of([m if u else s for s, m, u in zip(chosen, mirrors, use_mirror, strict=True)])
        other = np.full(len(chosen), np.nan)  # the second IV matters only where the first failed
        retry = np.nonzero(np.isnan(first) & (mirror_ok | use_mirror))[0]
        if len(retry):
            other[retry] = raw.of([chosen[k] if use_mirror[k] else mirrors[k] for k in retry])
        own = np.where(use_mirror, other, first)
        mirror_iv = np.where(use_mirror, first, np.where(mirror_ok, other, np.nan))
        iv = np.round(smooth(own, mirror_iv, strike, np.full(len(chosen), spot), is_call), 7)
        live = t >= 0
        values = greeks(MODEL, iv, spot, strike, np.maximum(t, 0.0), r, q, is_call)
        rows = np.array(priced)
        out["iv"][rows] = iv
        for name in ("delta", "gamma", "vega", "rho"):
            out[name][rows] = np.where(live, np.round(values[name], 7), 0.0)
        out["theta"][rows] = np.where(live, np.round(values["theta_per_day"], 7), 0.0) * 365.0
        theo = black_price(iv, spot, strike, t, r, q, is_call)
        out["theoretical"][rows] = np.where((iv != 0) & (t > 0) & np.isfinite(theo), theo, 0.0)
        return out


class _RawVols:
    """``CalculateIV`` per contract symbol at one time (a contract's IV is also its mirror's
    "mirror IV", so each is solved once)."""

    def __init__(self, model: LeanPriceModel, now: datetime, spot: float, t: np.ndarray, r: float, q: float,
                 price: Callable[[Symbol], float]) -> None:
        self._model, self._now, self._spot, self._r, self._q, self._price = model, now, spot, r, q, price
        self._known: dict[Symbol, float] = {}

    def of(self, symbols: list[Symbol]) -> np.ndarray:
        todo = list(dict.fromkeys(s for s in symbols if s not in self._known))
        if todo:
            solved = implied_volatility(
                MODEL, np.array([self._price(s) for s in todo]), self._spot,
                np.array([s.id.strike_price for s in todo]),
                np.array([self._model.years_to_expiry(s, self._now) for s in todo]), self._r, self._q,
                np.array([s.id.option_right == OptionRight.CALL for s in todo]))
            self._known.update(zip(todo, solved.tolist(), strict=True))
        return np.array([self._known[s] for s in symbols])


def _mirror(symbol: Symbol) -> Symbol:
    """``Symbol.GetMirrorOptionSymbol``: the same contract with the other right."""
    sid = symbol.id
    right = OptionRight.PUT if sid.option_right == OptionRight.CALL else OptionRight.CALL
    assert symbol.underlying is not None
    return Symbol._create_option_contract(symbol.underlying, right, sid.strike_price, sid.date)


class LazyGreeks:
    """Fills a replay day's ``QuoteBook`` IV/Greeks slots on first read in each time step (the
    book's ``ensure`` hook)."""

    def __init__(self, model: LeanPriceModel, symbol_of: Callable[[int], Symbol], chain_rows: Callable[[], list[int]],
                 price: Callable[[Symbol], float], spot: Callable[[], float],
                 has_mirror: Callable[[Symbol], bool]) -> None:
        self.model = model
        self._symbol_of, self._chain_rows, self._price, self._spot, self._has_mirror = (
            symbol_of, chain_rows, price, spot, has_mirror)
        self.book: QuoteBook | None = None
        self.now: datetime | None = None
        self._done: set[int] = set()
        self._read: set[int] = set()
        self._read_before: set[int] = set()
        self._predicted: set[int] = set()  # read in each of the last two steps
        self._misses = 0
        self.evaluated = 0  # contracts evaluated (for tests and benchmarks)

    def attach(self, book: QuoteBook) -> None:
        """A new day's book (its slots are that day's contracts). A view of an earlier day's book
        keeps the values it last had."""
        self.book = book
        book.ensure = lambda row: self.ensure(row) if self.book is book else None
        self._done, self._read, self._read_before, self._predicted, self._misses = set(), set(), set(), set(), 0

    def new_step(self, now: datetime) -> None:
        self.now = now
        if self._read:  # a step without reads keeps the prediction
            self._predicted = self._read & self._read_before
            self._read_before, self._read = self._read, set()
        self._done, self._misses = set(), 0

    def ensure(self, row: int) -> None:
        self._read.add(row)
        if row in self._done:
            return
        self._misses += 1
        batch = {row} | (self._predicted - self._done)
        if self._misses > SCAN_MISSES:
            batch |= set(self._chain_rows()) - self._done
        self._compute(sorted(batch))

    def _compute(self, rows: list[int]) -> None:
        book, now = self.book, self.now
        assert book is not None and now is not None
        values = self.model.evaluate(now, [self._symbol_of(i) for i in rows], self._price, self._spot(),
                                     self._has_mirror)
        index = np.array(rows)
        book.iv[index], book.delta[index], book.gamma[index] = values["iv"], values["delta"], values["gamma"]
        book.vega[index], book.theta[index], book.rho[index] = values["vega"], values["theta"], values["rho"]
        book.theoretical[index] = values["theoretical"]
        self._done.update(rows)
        self.evaluated += len(rows)
