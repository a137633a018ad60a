"""US equity market calendar for the synthetic market: NYSE full-day holidays by rule, trading
days, and option expiries (weekly Fridays, monthly third Fridays; a holiday moves it to Thursday)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache


def _easter(year: int) -> date:
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month = (h + l_ - 7 * m + 114) // 31
    day = (h + l_ - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = (date(year, month % 12 + 1, 1) if month < 12 else date(year + 1, 1, 1)) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


@lru_cache(maxsize=64)
def holidays(year: int) -> frozenset[date]:
    days = {
        _observed(date(year, 1, 1)),
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _easter(year) - timedelta(days=2),  # Good Friday
        _last_weekday(year, 5, 0),  # Memorial Day
        _observed(date(year, 7, 4)),
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
        _observed(date(year, 12, 25)),
    }
    if year >= 2022:
        days.add(_observed(date(year, 6, 19)))
    return frozenset(d for d in days if d.weekday() < 5)


def is_trading_day(day: date) -> bool:
    return day.weekday() < 5 and day not in holidays(day.year)


def trading_days(start: date, count: int) -> list[date]:
    """``count`` trading days from ``start`` (included when it is one)."""
    out, day = [], start
    while len(out) < count:
        if is_trading_day(day):
            out.append(day)
        day += timedelta(days=1)
    return out


def trading_days_between(start: date, end: date) -> list[date]:
    out, day = [], start
    while day <= end:
        if is_trading_day(day):
            out.append(day)
        day += timedelta(days=1)
    return out


def expiry_for_friday(friday: date) -> date:
    """The expiry of a Friday series: the Friday, or the trading day before it on a holiday."""
    day = friday
    while not is_trading_day(day):
        day -= timedelta(days=1)
    return day


def is_monthly(friday: date) -> bool:
    return 15 <= friday.day <= 21


class _SyntheticHours:
    """The synthetic market's calendar in the shape of ``market_hours.ExchangeHours`` (what the
    expiry handling asks of it)."""

    def is_trading_day(self, day: date) -> bool:
        return is_trading_day(day)

    def next_trading_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not is_trading_day(day):
            day += timedelta(days=1)
        return day


SYNTHETIC_HOURS = _SyntheticHours()
