"""Scheduled events (harness/scheduling.py) as the engine fires them, and the market calendar
(harness/calendar.py) that decides which days the engine runs and when options expire."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness.engine import HarnessEngine
from harness.market import MarketConfig
from harness.qc_algorithm import QCAlgorithm
from harness.scheduling import TimeRule, TimeRules
from harness.trading_calendar import (
    expiry_for_friday,
    is_monthly,
    is_trading_day,
    trading_days,
    trading_days_between,
)

MONDAY = date(2016, 1, 4)
TUESDAY = date(2016, 1, 5)
RuleFactory = Callable[[QCAlgorithm, Any], TimeRule]


class ScheduleRecorder(QCAlgorithm):
    """Schedules ``rules`` (name -> factory of a time rule) every day and logs, in order, every
    firing as (name, algorithm time) and every on_data as ("data", time)."""

    rules: dict[str, RuleFactory] = {}
    start: date = MONDAY
    end: date = MONDAY

    def initialize(self) -> None:
        self.set_start_date(self.start)
        self.set_end_date(self.end)
        equity = self.add_equity("GOOG")
        self.add_option("GOOG")
        self.log_: list[tuple[str, datetime]] = []
        for name, rule in self.rules.items():
            self.schedule.on(self.date_rules.every_day(equity.symbol), rule(self, equity.symbol),
                             self._firing(name))

    def _firing(self, name: str) -> Callable[[], None]:
        return lambda: self.log_.append((name, self.time))

    def on_data(self, slice: Any) -> None:
        self.log_.append(("data", slice.time))

    def fired(self, name: str) -> list[datetime]:
        return [t for n, t in self.log_ if n == name]


def run_schedule(tmp_path: Path, rules: dict[str, RuleFactory], start: date = MONDAY,
                 end: date = MONDAY) -> ScheduleRecorder:
    algorithm = type("Scheduled", (ScheduleRecorder,), {"rules": rules, "start": start, "end": end})
    engine = HarnessEngine(algorithm, parameters={}, storage_dir=tmp_path, market_config=MarketConfig(seed=1))
    engine.run()
    assert isinstance(engine.algorithm, ScheduleRecorder)
    return engine.algorithm


def at(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute))


def every_30(algo: QCAlgorithm, symbol: Any) -> TimeRule:
    return algo.time_rules.every(timedelta(minutes=30))


# -- time rules ---------------------------------------------------------------------------------
def test_every_30_minutes_fires_from_10_00_to_16_00_within_market_hours(tmp_path: Path) -> None:
    algo = run_schedule(tmp_path, {"every": every_30})

    expected = [at(MONDAY, 10, 0) + timedelta(minutes=30 * i) for i in range(13)]
    assert algo.fired("every") == expected
    assert expected[-1] == at(MONDAY, 16, 0)


def test_every_fires_on_each_day_of_the_run(tmp_path: Path) -> None:
    algo = run_schedule(tmp_path, {"every": every_30}, end=TUESDAY)

    fired = algo.fired("every")
    assert len(fired) == 26
    assert [t.time() for t in fired if t.date() == TUESDAY] == [t.time() for t in fired if t.date() == MONDAY]


def test_a_scheduled_event_runs_before_on_data_of_the_same_minute(tmp_path: Path) -> None:
    algo = run_schedule(tmp_path, {"every": every_30})

    log = algo.log_
    for moment in algo.fired("every"):
        position = log.index(("every", moment))
        assert log[position + 1] == ("data", moment)
        assert ("data", moment) not in log[:position]


def test_algorithm_time_in_a_scheduled_event_is_the_event_time(tmp_path: Path) -> None:
    algo = run_schedule(tmp_path, {"noon": lambda a, s: a.time_rules.at(12, 0)})

    assert algo.fired("noon") == [at(MONDAY, 12, 0)]


def test_after_market_open_fires_the_given_minutes_after_09_30(tmp_path: Path) -> None:
    algo = run_schedule(tmp_path, {"open+10": lambda a, s: a.time_rules.after_market_open(s, 10)},
                        end=TUESDAY)

    assert algo.fired("open+10") == [at(MONDAY, 9, 40), at(TUESDAY, 9, 40)]


def test_before_market_close_fires_the_given_minutes_before_16_00(tmp_path: Path) -> None:
    algo = run_schedule(tmp_path, {"close-15": lambda a, s: a.time_rules.before_market_close(s, 15),
                                   "close": lambda a, s: a.time_rules.before_market_close(s, 0)})

    assert algo.fired("close-15") == [at(MONDAY, 15, 45)]
    assert algo.fired("close") == [at(MONDAY, 16, 0)]
    assert algo.log_[-2:] == [("close", at(MONDAY, 16, 0)), ("data", at(MONDAY, 16, 0))]


def test_events_of_several_rules_fire_in_time_order(tmp_path: Path) -> None:
    rules: dict[str, RuleFactory] = {
        "close-15": lambda a, s: a.time_rules.before_market_close(s, 15),
        "open+1": lambda a, s: a.time_rules.after_market_open(s, 1),
        "noon": lambda a, s: a.time_rules.at(12, 0),
    }
    algo = run_schedule(tmp_path, rules)

    firings = [(n, t) for n, t in algo.log_ if n != "data"]
    assert firings == [("open+1", at(MONDAY, 9, 31)), ("noon", at(MONDAY, 12, 0)),
                       ("close-15", at(MONDAY, 15, 45))]


def test_scheduled_events_fire_only_on_trading_days(tmp_path: Path) -> None:
    # Thu 2016-01-14 .. Tue 2016-01-19: the weekend and Martin Luther King Jr. Day are skipped
    algo = run_schedule(tmp_path, {"open+10": lambda a, s: a.time_rules.after_market_open(s, 10)},
                        start=date(2016, 1, 14), end=date(2016, 1, 19))

    fired_days = [t.date() for t in algo.fired("open+10")]
    assert fired_days == [date(2016, 1, 14), date(2016, 1, 15), date(2016, 1, 19)]


def test_every_needs_a_positive_interval() -> None:
    with pytest.raises(ValueError):
        TimeRules().every(timedelta(0))


def test_schedule_on_needs_a_callable() -> None:
    algo = QCAlgorithm()

    with pytest.raises(TypeError):
        algo.schedule.on(algo.date_rules.every_day(), algo.time_rules.at(10, 0), "not callable")  # type: ignore[arg-type]


# -- calendar -----------------------------------------------------------------------------------
@pytest.mark.parametrize("day", [
    date(2015, 12, 25),  # Christmas
    date(2016, 1, 1),  # New Year's Day
    date(2016, 1, 18),  # Martin Luther King Jr. Day
    date(2016, 2, 15),  # Washington's Birthday
    date(2016, 3, 25),  # Good Friday
    date(2016, 5, 30),  # Memorial Day
    date(2015, 7, 3),  # Independence Day, Saturday the 4th observed on Friday
    date(2016, 9, 5),  # Labor Day
    date(2016, 11, 24),  # Thanksgiving
    date(2016, 12, 26),  # Christmas, Sunday the 25th observed on Monday
    date(2022, 6, 20),  # Juneteenth, Sunday the 19th observed on Monday
    date(2016, 1, 2),  # Saturday
    date(2016, 1, 3),  # Sunday
])
def test_holidays_and_weekends_are_not_trading_days(day: date) -> None:
    assert is_trading_day(day) is False


@pytest.mark.parametrize("day", [
    date(2015, 12, 24),
    date(2015, 12, 28),
    date(2016, 1, 4),
    date(2016, 1, 19),
    date(2016, 3, 24),
    date(2021, 12, 31),  # New Year's Day 2022 is a Saturday: NYSE does not close the Friday before
    date(2021, 6, 18),  # Juneteenth was first observed in 2022
])
def test_ordinary_weekdays_are_trading_days(day: date) -> None:
    assert is_trading_day(day) is True


def test_trading_days_between_skips_holidays_and_weekends() -> None:
    days = trading_days_between(date(2015, 12, 23), date(2016, 1, 5))

    assert days == [date(2015, 12, 23), date(2015, 12, 24), date(2015, 12, 28), date(2015, 12, 29),
                    date(2015, 12, 30), date(2015, 12, 31), date(2016, 1, 4), date(2016, 1, 5)]


def test_trading_days_counts_from_the_start() -> None:
    assert trading_days(date(2016, 1, 15), 3) == [date(2016, 1, 15), date(2016, 1, 19), date(2016, 1, 20)]


def test_expiry_for_friday_moves_good_friday_2016_to_thursday() -> None:
    assert expiry_for_friday(date(2016, 3, 25)) == date(2016, 3, 24)


def test_expiry_for_an_ordinary_friday_is_that_friday() -> None:
    assert expiry_for_friday(date(2016, 1, 8)) == date(2016, 1, 8)


@pytest.mark.parametrize(("friday", "monthly"), [
    (date(2016, 1, 15), True), (date(2016, 2, 19), True),
    (date(2016, 1, 8), False), (date(2016, 1, 22), False),
])
def test_the_third_friday_is_the_monthly_expiry(friday: date, monthly: bool) -> None:
    assert is_monthly(friday) is monthly
