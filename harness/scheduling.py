"""LEAN's scheduling API, reduced: ``schedule.on(date_rules.every_day(symbol), time_rules.X, fn)``.

Supported time rules: ``every(timedelta)`` (from midnight, like LEAN, but only inside market
hours since the harness only produces market-hours slices), ``after_market_open(symbol, minutes)``,
``before_market_close(symbol, minutes)`` and ``at(hour, minute)``. Events due at a slice's time run
before ``on_data`` of that slice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

MARKET_OPEN = time(9, 30)
MARKET_CLOSE = time(16, 0)


@dataclass(frozen=True)
class DateRule:
    name: str
    weekdays: frozenset[int] | None = None  # None: every trading day

    def applies(self, day: date) -> bool:
        return self.weekdays is None or day.weekday() in self.weekdays


@dataclass(frozen=True)
class TimeRule:
    name: str
    times: Callable[[date], list[datetime]]


class DateRules:
    def every_day(self, symbol: Any = None) -> DateRule:
        return DateRule("EveryDay")


class TimeRules:
    def __init__(self) -> None:
        self._hours: Any = None  # the market-hours database entry when replaying LEAN data

    def _close(self, day: date) -> time:
        """The day's close: 16:00, or the early close of the market-hours database (13:00 on
        2015-12-24) when the engine set the exchange hours."""
        close = self._hours.market_close(day) if self._hours is not None else None
        return close.time() if close is not None else MARKET_CLOSE

    def every(self, interval: timedelta) -> TimeRule:
        if interval <= timedelta(0):
            raise ValueError("time_rules.every needs a positive interval")

        def times(day: date) -> list[datetime]:
            start = datetime.combine(day, time(0))
            out, moment, close = [], start, self._close(day)
            while moment.date() == day:
                if MARKET_OPEN < moment.time() <= close:
                    out.append(moment)
                moment += interval
            return out
        return TimeRule(f"Every {interval}", times)

    def after_market_open(self, symbol: Any = None, minutes_after_open: float = 0) -> TimeRule:
        delta = timedelta(minutes=minutes_after_open)
        return TimeRule(f"AfterMarketOpen {minutes_after_open}",
                        lambda day: [datetime.combine(day, MARKET_OPEN) + delta])

    def before_market_close(self, symbol: Any = None, minutes_before_close: float = 0) -> TimeRule:
        delta = timedelta(minutes=minutes_before_close)
        return TimeRule(f"BeforeMarketClose {minutes_before_close}",
                        lambda day: [datetime.combine(day, self._close(day)) - delta])

    def at(self, hour: int, minute: int, second: int = 0) -> TimeRule:
        return TimeRule(f"At {hour:02d}:{minute:02d}",
                        lambda day: [datetime.combine(day, time(hour, minute, second))])


@dataclass
class ScheduledEvent:
    name: str
    date_rule: DateRule
    time_rule: TimeRule
    callback: Callable[[], Any]


class ScheduleManager:
    def __init__(self) -> None:
        self._events: list[ScheduledEvent] = []

    def on(self, date_rule: DateRule, time_rule: TimeRule, callback: Callable[[], Any]) -> ScheduledEvent:
        if not callable(callback):
            raise TypeError("schedule.on needs a callable")
        event = ScheduledEvent(f"{date_rule.name}: {time_rule.name}", date_rule, time_rule, callback)
        self._events.append(event)
        return event

    def _due_on(self, day: date) -> list[tuple[datetime, ScheduledEvent]]:
        """Every firing of every event on ``day``, in time order (stable for equal times)."""
        firings = [(moment, event) for event in self._events if event.date_rule.applies(day)
                   for moment in event.time_rule.times(day)]
        firings.sort(key=lambda pair: pair[0])
        return firings
