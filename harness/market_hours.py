"""LEAN's market-hours database (``market-hours/market-hours-database.json``): regular and
extended sessions per weekday, holidays and early closes of one entry.

An entry with no holidays/early closes of its own takes those of its underlying's entry, as
LEAN's ``MarketHoursDatabaseJsonConverter`` does (``Option-usa-[*]`` inherits
``Equity-usa-[*]``'s, so GOOG options close at 13:00 on 2015-12-24 like the stock).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
UNDERLYING_ENTRY = {"option": "equity", "indexoption": "index", "futureoption": "future"}


@dataclass(frozen=True)
class Segment:
    start: time
    end: time
    state: str  # "market", "premarket", "postmarket"


@dataclass(frozen=True)
class ExchangeHours:
    sessions: dict[int, tuple[Segment, ...]]
    holidays: frozenset[date] = frozenset()
    early_closes: dict[date, time] = field(default_factory=dict)
    late_opens: dict[date, time] = field(default_factory=dict)

    def is_trading_day(self, day: date) -> bool:
        return day not in self.holidays and any(s.state == "market" for s in self.sessions.get(day.weekday(), ()))

    def market_open(self, day: date) -> datetime | None:
        if not self.is_trading_day(day):
            return None
        start = min(s.start for s in self.sessions[day.weekday()] if s.state == "market")
        start = max(start, self.late_opens.get(day, start))
        return datetime.combine(day, start)

    def market_close(self, day: date) -> datetime | None:
        """The regular close, or the early close of that day."""
        if not self.is_trading_day(day):
            return None
        end = max(s.end for s in self.sessions[day.weekday()] if s.state == "market")
        return datetime.combine(day, min(end, self.early_closes.get(day, end)))

    def session_window(self, day: date, extended: bool = False) -> tuple[datetime, datetime] | None:
        """(start, end) of the day's bars: the regular session, or with ``extended`` the pre-market
        start to the post-market end. An early close cuts every segment at that time, dropping the
        post-market (SecurityExchangeHours.GetMarketHours)."""
        open_at, close_at = self.market_open(day), self.market_close(day)
        if open_at is None or close_at is None or not extended:
            return None if open_at is None or close_at is None else (open_at, close_at)
        segments = self.sessions[day.weekday()]
        start = max(min(s.start for s in segments), self.late_opens.get(day, time(0)))
        end = max(s.end for s in segments)
        return datetime.combine(day, start), datetime.combine(day, min(end, self.early_closes.get(day, end)))

    def is_open(self, moment: datetime, extended: bool = False) -> bool:
        day = moment.date()
        if not self.is_trading_day(day):
            return False
        close = self.early_closes.get(day)
        for segment in self.sessions.get(day.weekday(), ()):
            if segment.state != "market" and not extended:
                continue
            end = segment.end if close is None else min(segment.end, close)
            if segment.start <= moment.time() < end:
                return True
        return False

    def next_market_close(self, moment: datetime) -> datetime:
        """LEAN's GetNextMarketClose(localTime, extendedMarketHours=false)."""
        day = moment.date()
        for _ in range(370):
            close = self.market_close(day)
            if close is not None and close > moment:
                return close
            day += timedelta(days=1)
        raise ValueError(f"no market close within a year after {moment}")

    def next_trading_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_trading_day(day):
            day += timedelta(days=1)
        return day

    def previous_trading_day(self, day: date) -> date:
        day -= timedelta(days=1)
        for _ in range(370):
            if self.is_trading_day(day):
                return day
            day -= timedelta(days=1)
        raise ValueError(f"no trading day within a year before {day}")

    def trading_days(self, start: date, end: date) -> list[date]:
        out, day = [], start
        while day <= end:
            if self.is_trading_day(day):
                out.append(day)
            day += timedelta(days=1)
        return out


def _parse_day(text: str) -> date:
    return datetime.strptime(text, "%m/%d/%Y").date()


def _parse_time(text: str) -> time:
    hours, minutes, *rest = (int(float(p)) for p in text.split(":"))
    if hours >= 24:
        return time(23, 59, 59)
    return time(hours, minutes, rest[0] if rest else 0)


@lru_cache(maxsize=16)
def _entries(path: Path) -> dict[str, dict]:
    return json.loads(path.read_text(encoding="utf-8"))["entries"]


def _lookup(entries: dict[str, dict], security_type: str, market: str, ticker: str) -> dict | None:
    for key in (f"{security_type}-{market}-{ticker}", f"{security_type}-{market}-[*]"):
        for name, entry in entries.items():
            if name.lower() == key.lower():
                return entry
    return None


def load_exchange_hours(path: Path, security_type: str, market: str = "usa", ticker: str = "[*]") -> ExchangeHours:
    entries = _entries(path)
    entry = _lookup(entries, security_type, market, ticker)
    if entry is None:
        raise KeyError(f"{path}: no market-hours entry for {security_type}-{market}-{ticker}")
    parent_type = UNDERLYING_ENTRY.get(security_type.lower())
    parent = _lookup(entries, parent_type, market, ticker) if parent_type else None
    holidays = entry.get("holidays") or (parent or {}).get("holidays") or []
    early = entry.get("earlyCloses") or (parent or {}).get("earlyCloses") or {}
    late = entry.get("lateOpens") or (parent or {}).get("lateOpens") or {}
    sessions = {i: tuple(Segment(_parse_time(s["start"]), _parse_time(s["end"]), s["state"])
                         for s in entry.get(name, [])) for i, name in enumerate(WEEKDAYS)}
    return ExchangeHours(sessions, frozenset(_parse_day(d) for d in holidays),
                         {_parse_day(d): _parse_time(t) for d, t in early.items()},
                         {_parse_day(d): _parse_time(t) for d, t in late.items()})
