"""A market replayed from LEAN's on-disk data, with the same interface as ``SyntheticMarket``
(``underlying``, ``spot``, ``listed``, ``index``, ``book``, ``start_day``, ``advance``,
``end_day``, ``quote``, ``intrinsic``) so the brokerage and the chain views work on either.

LEAN's rules it follows:

- Minute bars are stamped at their start on disk and emitted at their end; only bars inside the
  regular session (market hours database, early closes included) are used, because LEAN drops
  extended-hours bars unless the subscription asks for them (SubscriptionFilterEnumerator:
  ``IsOpen(bar.Time, bar.EndTime, config.ExtendedMarketHours)``). With ``extended`` (the
  equity's ``extended_market_hours=True``) the equity's day runs from the pre-market start to
  the post-market end (04:00-20:00; to the early close on such days), fill-forward included
  (FillForwardEnumerator with ``isExtendedMarketHours``); options stay on their regular session
  and keep their last values outside it.
- Fill-forward: a contract or the underlying keeps its last bar (also across days) until a new
  one arrives; a contract is in the chain from its first bar on (``FillForwardEnumerator``).
- A contract's price (``Security.price``) is its quote bar's close (mid), the default data type
  for options; the equity's is its trade bar's close. ``last_price`` is the last trade (0 without
  one). Quote sides are forward-filled independently (an empty side keeps the last value).
- Only contracts subscribed (chosen by the algorithm's filter, or held) are read from the zips.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from harness.lean_data import ListedContract, OptionSymbol, QuoteBook
from harness.lean_disk import ContractKey, LeanDataFolder
from harness.lean_enums import OptionRight
from harness.lean_symbols import Symbol
from harness.market_hours import ExchangeHours

MINUTE_MS = 60_000
# per contract and minute: bid close, ask close, bid high, bid low, ask high, ask low, last trade, open interest
FIELDS = ("bid", "ask", "bid_high", "bid_low", "ask_high", "ask_low", "last", "open_interest")


def is_standard_expiry(expiry: date) -> bool:
    """LEAN's ``OptionSymbol.IsStandard`` for an expiry date."""
    return OptionSymbol.is_standard(Symbol._create_option_contract(
        Symbol._create_equity("X"), OptionRight.CALL, 1.0, datetime.combine(expiry, datetime.min.time())))


@dataclass
class _Series:
    """Forward-filled minute columns of the subscribed contracts for one day."""

    rows: list[int]  # book index of each subscribed contract
    values: np.ndarray  # (len(FIELDS), contracts, minutes)
    first_minute: np.ndarray  # first minute slot with data (-1: had data on an earlier day)
    start: np.ndarray  # (len(FIELDS), contracts): the last values of an earlier day (NaN: none)


def _ffill(matrix: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Forward-fill NaNs along the last axis, seeding each row with ``start`` (NaN = none)."""
    filled = np.concatenate([start[:, None], matrix], axis=1)
    mask = np.isnan(filled)
    index = np.where(~mask, np.arange(filled.shape[1]), 0)
    np.maximum.accumulate(index, axis=1, out=index)
    return filled[np.arange(filled.shape[0])[:, None], index][:, 1:]


def _empty_series(minutes: int) -> _Series:
    return _Series([], np.zeros((len(FIELDS), 0, minutes)), np.zeros(0, dtype=int), np.zeros((len(FIELDS), 0)))


class ReplayMarket:
    def __init__(self, folder: LeanDataFolder, underlying: Symbol, hours: ExchangeHours,
                 option_hours: ExchangeHours | None = None) -> None:
        self.folder = folder
        self.underlying = underlying
        self.hours = hours  # the equity's
        self.option_hours = option_hours or hours
        self.extended = False  # the equity subscription's extended_market_hours
        self.ticker = underlying.value.lower()
        self.spot = 0.0
        self.listed: list[ListedContract] = []
        self.index: dict[Symbol, int] = {}
        self.book = QuoteBook(0)
        self.today: date | None = None
        self.universe_price = 0.0
        self._open: datetime | None = None  # the options' regular session: slots of the contract series
        self._minutes = 0
        self._minute = -1  # -1: before the options' session
        self._eq_start: datetime | None = None  # the equity's day (its extended hours when subscribed)
        self._eq_minutes = 0
        self._eq_minute = -1
        self._equity = np.zeros((0, 3))  # per minute: trade close, bid close, ask close
        self._series = _empty_series(0)
        self._carry: dict[Symbol, np.ndarray] = {}  # last values of every contract ever read
        self._carry_equity = np.full(3, np.nan)
        self._equity_bars = np.zeros((0, 5))
        self._subscribed: set[Symbol] = set()
        self.data_points = 0

    # -- the day ---------------------------------------------------------------------------
    def start_day(self, day: date) -> list[ListedContract]:
        self._save_carry()
        self.today = day
        self._open = self.option_hours.market_open(day)
        close = self.option_hours.market_close(day)
        self._minutes = 0 if self._open is None or close is None else int((close - self._open).total_seconds() // 60)
        self._minute = -1
        window = self.hours.session_window(day, self.extended)
        self._eq_start = None if window is None else window[0]
        self._eq_minutes = 0 if window is None else int((window[1] - window[0]).total_seconds() // 60)
        self._eq_minute = -1
        # the chain selected on D is the universe file of the trading day before D: a file holds
        # that day's end-of-day chain and its data point ends at the next midnight (OptionUniverse)
        universe = self.folder.option_universe(self.ticker, self.hours.previous_trading_day(day))
        listed: list[ListedContract] = []
        if universe is not None:
            self.universe_price, rows = universe
            for row in rows:
                right = OptionRight.CALL if row.right == "C" else OptionRight.PUT
                expiry = datetime.combine(row.expiry, datetime.min.time())
                symbol = Symbol._create_option_contract(self.underlying, right, row.strike, expiry)
                listed.append(ListedContract(symbol, row.strike, row.expiry, right,
                                             not is_standard_expiry(row.expiry)))
        for symbol in self._subscribed - {c.symbol for c in listed}:  # held contracts stay readable
            sid = symbol.id
            listed.append(ListedContract(symbol, sid.strike_price, sid.date.date(), sid.option_right,
                                         not is_standard_expiry(sid.date.date())))
        self.listed = listed
        self.index = {c.symbol: i for i, c in enumerate(listed)}
        self.book = QuoteBook(len(listed))
        self._load_equity(day)
        self._series = _empty_series(self._minutes)
        previous, self._subscribed = self._subscribed, set()
        self.subscribe([s for s in previous if s in self.index])
        return listed

    def _load_equity(self, day: date) -> None:
        columns = np.full((3, self._eq_minutes), np.nan)
        trade = self.folder.equity_minute(self.ticker, day, "trade")
        quote = self.folder.equity_minute(self.ticker, day, "quote")
        factor = self.folder.price_factor(self.ticker, day)
        bars = np.full((self._eq_minutes, 5), np.nan)  # open, high, low, close, volume of real bars
        if trade is not None:
            slots, rows = self._slots(trade, self._eq_start, self._eq_minutes)
            columns[0, slots] = trade[rows, 4] * factor
            bars[slots, :4] = trade[rows, 1:5] * factor
            bars[slots, 4] = trade[rows, 5]
            self.data_points += len(rows)
        self._equity_bars = bars
        if quote is not None:
            slots, rows = self._slots(quote, self._eq_start, self._eq_minutes)
            columns[1, slots] = quote[rows, 4] * factor
            columns[2, slots] = quote[rows, 9] * factor
            self.data_points += len(rows)
        self._equity = _ffill(columns, self._carry_equity).T

    def _slots(self, rows: np.ndarray, start: datetime | None = None,
               minutes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Minute slot of each in-session bar (bar start -> slot; emitted at slot end); by default
        the options' session."""
        start = self._open if minutes is None else start
        minutes = self._minutes if minutes is None else minutes
        if start is None or not len(rows):
            return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
        open_ms = (start.hour * 3600 + start.minute * 60) * 1000
        slot = ((rows[:, 0] - open_ms) // MINUTE_MS).astype(int)
        keep = np.nonzero((slot >= 0) & (slot < minutes))[0]
        return slot[keep], keep

    def subscribe(self, symbols: list[Symbol]) -> None:
        """Read the day's quote, trade and open-interest bars of contracts not read yet."""
        new = [s for s in symbols if s not in self._subscribed and s in self.index]
        if not new or self.today is None:
            return
        values = np.full((len(FIELDS), len(new), self._minutes), np.nan)
        first = np.full(len(new), self._minutes, dtype=int)
        start = np.full((len(FIELDS), len(new)), np.nan)
        for j, symbol in enumerate(new):
            self._subscribed.add(symbol)
            key = ContractKey("call" if symbol.id.option_right == OptionRight.CALL else "put",
                              symbol.id.strike_price, symbol.id.date.date())
            carry = self._carry.get(symbol)
            if carry is not None:
                start[:, j] = carry
                first[j] = -1
            self._read_contract(key, values[:, j, :], first, j)
        if self._minute >= 0:  # added mid-day: LEAN's new subscription emits from the next bar on
            values[:, :, : self._minute + 1] = np.nan
            first = np.where(first < 0, first, np.maximum(first, self._minute + 1))
        for f in range(len(FIELDS)):
            values[f] = _ffill(values[f], start[f])
        series = self._series
        self._series = _Series(series.rows + [self.index[s] for s in new],
                               np.concatenate([series.values, values], axis=1),
                               np.concatenate([series.first_minute, first]),
                               np.concatenate([series.start, start], axis=1))

    def _read_contract(self, key: ContractKey, out: np.ndarray, first: np.ndarray, j: int) -> None:
        day = self.today
        assert day is not None
        quote = self.folder.option_minute(self.ticker, day, "quote", key)
        if quote is not None:
            slots, rows = self._slots(quote)
            for f, column in ((0, 4), (1, 9), (2, 2), (3, 3), (4, 7), (5, 8)):
                out[f, slots] = quote[rows, column]
            if len(slots):
                first[j] = min(first[j], int(slots.min()))
            self.data_points += len(rows)
        trade = self.folder.option_minute(self.ticker, day, "trade", key)
        if trade is not None:
            slots, rows = self._slots(trade)
            out[6, slots] = trade[rows, 4]
            if len(slots):
                first[j] = min(first[j], int(slots.min()))
            self.data_points += len(rows)
        interest = self.folder.option_minute(self.ticker, day, "openinterest", key)
        if interest is not None and len(interest):
            out[7, :] = interest[-1, 1]  # LEAN's daily open interest, known from the open
            self.data_points += len(interest)

    # -- time ------------------------------------------------------------------------------
    def minute_times(self) -> list[datetime]:
        """Slice times of the day: the end of every minute bar of the equity's day (its regular
        session, or its extended hours when subscribed)."""
        if self._eq_start is None:
            return []
        return [self._eq_start + timedelta(minutes=m + 1) for m in range(self._eq_minutes)]

    def advance(self, moment: datetime) -> None:
        if self._eq_start is None or self._open is None:
            return
        minute = int((moment - self._eq_start).total_seconds() // 60) - 1
        self._eq_minute = max(0, min(minute, self._eq_minutes - 1))
        minute = int((moment - self._open).total_seconds() // 60) - 1
        self._minute = max(-1, min(minute, self._minutes - 1))
        self._apply(self._minute)

    def _apply(self, minute: int) -> None:
        trade, _bid, _ask = self._equity[self._eq_minute] if self._eq_minutes else (np.nan, np.nan, np.nan)
        if not np.isnan(trade):
            self.spot = float(trade)
        book = self.book
        book.underlying_price = self.spot
        series = self._series
        if not series.rows:
            return
        rows = np.asarray(series.rows)
        # before the options' session: the contracts' last values of an earlier day (Security cache)
        now = np.nan_to_num(series.values[:, :, minute] if minute >= 0 else series.start)
        book.bid[rows], book.ask[rows], book.last[rows] = now[0], now[1], now[6]
        book.open_interest[rows] = now[7]

    def end_day(self) -> None:
        self._save_carry()

    def _save_carry(self) -> None:
        if self._eq_minutes and len(self._equity):
            self._carry_equity = self._equity[-1].copy()
        series = self._series
        if not series.rows or not self._minutes:
            return
        by_row = {row: j for j, row in enumerate(series.rows)}
        for symbol, row in self.index.items():
            j = by_row.get(row)
            if j is not None and series.first_minute[j] < self._minutes:
                self._carry[symbol] = series.values[:, j, -1].copy()
        self._series = _empty_series(self._minutes)

    # -- reads -----------------------------------------------------------------------------
    def has_data(self, symbol: Symbol) -> bool:
        """True once the contract (or the underlying) has had a bar: LEAN then has a price."""
        if symbol == self.underlying:
            return self.spot > 0
        i = self.index.get(symbol)
        if i is None:
            return symbol in self._carry
        series = self._series
        for j, row in enumerate(series.rows):
            if row == i:
                return series.first_minute[j] <= self._minute
        return False

    def in_chain(self) -> list[int]:
        """Book indexes of subscribed contracts that have data at the current minute."""
        series = self._series
        return [row for row, first in zip(series.rows, series.first_minute, strict=True) if first <= self._minute]

    def equity_bar(self) -> tuple[float, ...] | None:
        """(open, high, low, close, volume) of the minute's equity trade bar; a fill-forward bar
        (no trade that minute) repeats the last close with volume 0; None before any trade."""
        if not self._eq_minutes or self._eq_minute < 0 or self.spot <= 0:
            return None
        row = self._equity_bars[self._eq_minute]
        if np.isnan(row[3]):
            return (self.spot, self.spot, self.spot, self.spot, 0.0)
        return tuple(float(v) for v in row)

    def equity_quote(self) -> tuple[float, float]:
        if not self._eq_minutes or self._eq_minute < 0:
            return (0.0, 0.0)
        _trade, bid, ask = self._equity[self._eq_minute]
        return (0.0 if np.isnan(bid) else float(bid), 0.0 if np.isnan(ask) else float(ask))

    def quote(self, symbol: Symbol) -> tuple[float, float]:
        if symbol == self.underlying:
            return self.equity_quote()
        i = self.index.get(symbol)
        if i is not None and symbol in self._subscribed:
            return (float(self.book.bid[i]), float(self.book.ask[i]))
        carry = self._carry.get(symbol)
        if carry is not None:
            return (float(np.nan_to_num(carry[0])), float(np.nan_to_num(carry[1])))
        return (0.0, 0.0)

    def price(self, symbol: Symbol) -> float:
        """``Security.price``: the equity's last trade; a contract's quote-bar close (mid)."""
        if symbol == self.underlying:
            return self.spot
        bid, ask = self.quote(symbol)
        if bid > 0 and ask > 0:
            return (bid + ask) / 2
        return max(bid, ask)

    def bar_range(self, symbol: Symbol, buy: bool) -> tuple[float, float]:
        """(high, low) of the current ask bar (buy) or bid bar (sell) of a contract."""
        i = self.index.get(symbol)
        series = self._series
        if i is None or i not in series.rows:
            return (0.0, 0.0)
        j = series.rows.index(i)
        high, low = (4, 5) if buy else (2, 3)
        if self._minute < 0:  # before the options' session: the last bar of an earlier day
            values = np.nan_to_num(series.start[[high, low], j])
        else:
            values = np.nan_to_num(series.values[[high, low], j, self._minute])
        return (float(values[0]), float(values[1]))

    def option_bar_end(self) -> datetime | None:
        """End of the options' current bar: now in their session, its close after it, the previous
        session's close before it (what LEAN's fill models see as ``prices.EndTime``)."""
        if self._open is None or self.today is None:
            return None
        if self._minute >= 0:
            return self._open + timedelta(minutes=self._minute + 1)
        return self.option_hours.market_close(self.option_hours.previous_trading_day(self.today))

    def equity_bar_start(self) -> datetime | None:
        """Start of the equity's current bar (its end is the slice time)."""
        if self._eq_start is None or self._eq_minute < 0:
            return None
        return self._eq_start + timedelta(minutes=self._eq_minute)

    def intrinsic(self, symbol: Symbol) -> float:
        strike = symbol.id.strike_price
        if symbol.id.option_right == OptionRight.CALL:
            return max(self.spot - strike, 0.0)
        return max(strike - self.spot, 0.0)
