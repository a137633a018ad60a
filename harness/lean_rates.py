"""LEAN's risk-free rate and dividend-yield models, read from a LEAN data folder (and the
constant ones, ``ConstantRate``).

- ``InterestRateProvider`` (``Common/Data/InterestRateProvider.cs``): the rates of
  ``alternative/interest-rate/usa/interest-rate.csv`` (``DATE,PCREDIT8`` in percent), carried
  forward day by day from 1998-01-01; a day before 1998 takes 1998-01-01's rate, a day after today
  today's; days the file does not reach take the file's first rate; no file at all: 1 %.
- ``DividendYieldProvider`` (``Common/Data/DividendYieldProvider.cs``): the corporate events of
  the underlying's factor file (``equity/usa/factor_files/<ticker>.csv``: date, price factor, split
  factor, reference price). Consecutive rows with different price factors are a dividend of
  ``round(ref - ref * pf_i / pf_i+1, 3)``, otherwise a split of ``sf_i / sf_i+1``, dated the next
  trading day. The yield on a day is the split-adjusted sum of the dividends of the 350 days up to
  the most recent one, divided by the underlying's price; 0 with no dividend (GOOG in 2015).
"""

from __future__ import annotations

import bisect
import csv
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Protocol

from harness.market_hours import ExchangeHours

FIRST_RATE_DATE = date(1998, 1, 1)
DEFAULT_RATE = 0.01  # InterestRateProvider.DefaultRiskFreeRate


class RiskFreeRateModel(Protocol):
    """LEAN's IRiskFreeInterestRateModel."""

    def get_interest_rate(self, moment: datetime | date) -> float: ...


class DividendYieldModel(Protocol):
    """LEAN's IDividendYieldModel (``GetDividendYield(date, securityPrice)``)."""

    def get_dividend_yield(self, moment: datetime | date, price: float | None = None) -> float: ...


@dataclass(frozen=True)
class ConstantRate:
    """LEAN's ConstantRiskFreeRateInterestRateModel / ConstantDividendYieldModel."""

    value: float

    def get_interest_rate(self, moment: datetime | date) -> float:
        return self.value

    def get_dividend_yield(self, moment: datetime | date, price: float | None = None) -> float:
        return self.value


class InterestRateProvider:
    def __init__(self, path: Path, today: date | None = None) -> None:
        self.path = path
        self._today = today or datetime.now(UTC).date()
        rates: dict[date, float] = {}
        first: float | None = None
        lines = path.read_text(encoding="utf-8").splitlines()[1:] if path.is_file() else []
        for row in csv.reader(line for line in lines if line.strip()):
            parsed = _parse(row)
            if parsed is None:
                continue  # LEAN logs the line and skips it
            if first is None:
                first = parsed[1]
            rates[parsed[0]] = parsed[1]
        self._first = DEFAULT_RATE if first is None else first
        self.loaded = len(rates)  # 0: LEAN logs an error and uses 1 % throughout
        self._exact = rates
        self._dates = sorted(d for d in rates if FIRST_RATE_DATE <= d <= self._today)

    def get_interest_rate(self, moment: datetime | date) -> float:
        day = moment.date() if isinstance(moment, datetime) else moment
        if day in self._exact:
            return self._exact[day]
        if day < FIRST_RATE_DATE:
            return self._carried(FIRST_RATE_DATE)
        return self._carried(min(day, self._today))

    def _carried(self, day: date) -> float:
        if day in self._exact:
            return self._exact[day]
        i = bisect.bisect_right(self._dates, day)
        return self._exact[self._dates[i - 1]] if i else self._first


def _parse(row: list[str]) -> tuple[date, float] | None:
    try:
        return datetime.strptime(row[0], "%Y-%m-%d").date(), float(row[1]) / 100.0
    except (ValueError, IndexError):
        return None


@dataclass(frozen=True)
class CorporateEvent:
    day: date
    dividend: float | None  # distribution per share, or None for a split
    split_factor: float = 1.0
    reference_price: float = 0.0


class DividendYieldProvider:
    def __init__(self, factor_rows: list[tuple[date, float, float, float]], hours: ExchangeHours,
                 source: str = "the factor file") -> None:
        rows = sorted(factor_rows)
        events: list[CorporateEvent] = []
        for (day, price_factor, split_factor, reference), (_, next_price, next_split, _) in pairwise(rows):
            when = hours.next_trading_day(day)
            if price_factor != next_price:
                if next_price == 0:
                    raise ValueError(f"{source}: price factor is zero after {day}: cannot resolve the dividend")
                distribution = round(reference - reference * (price_factor / next_price), 3)
                events.append(CorporateEvent(when, distribution, reference_price=reference))
            else:
                if next_split == 0:
                    raise ValueError(f"{source}: split factor is zero after {day}: cannot resolve the split")
                events.append(CorporateEvent(when, None, split_factor / next_split, reference))
        self.events = events
        self._days = [e.day for e in events]

    def get_dividend_yield(self, moment: datetime | date, price: float | None = None) -> float:
        day = moment.date() if isinstance(moment, datetime) else moment
        latest = bisect.bisect_right(self._days, day) - 1
        dividend = next((e for e in reversed(self.events[:latest + 1]) if e.dividend is not None), None)
        if latest < 0 or dividend is None:
            return 0.0
        price = dividend.reference_price if price is None else price
        if price == 0:
            raise ValueError("Security price cannot be zero.")
        start = dividend.day - timedelta(days=350)
        yearly, split = 0.0, 1.0
        for event in reversed(self.events[:latest + 1]):
            if event.day < start:
                break
            if event.dividend is not None:
                yearly += event.dividend * split
            else:
                split *= event.split_factor
        return yearly / price
