"""The circuit breaker across sessions and restarts (issue 13): what survives, what resets, and
the edges the mutation run showed untested (1-step streaks, tiny or zero equity, defaults)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from execution.risk.circuit_breaker import CircuitBreaker, TradingState, Trigger
from models.risk_limits import RiskLimits
from utils.audit_logger import AuditLogger, MemoryAuditSink

T0 = datetime(2016, 1, 4, 15, 0, tzinfo=UTC)


def breaker(**limits: object) -> CircuitBreaker:
    return CircuitBreaker(RiskLimits(**limits), AuditLogger(clock=lambda: T0, sinks=[MemoryAuditSink()]))  # type: ignore[arg-type]


def test_a_halted_breaker_refuses_a_new_position_unless_asked_about_a_cancel() -> None:
    b = breaker()
    b.halt(T0, "ops", "human", "test")
    assert not b.permits(False) and b.permits(False, is_cancel=True)


def test_a_new_session_keeps_the_higher_watermark() -> None:
    b = breaker()
    b.start_session(date(2016, 1, 4), 100_000.0)
    b.on_equity(T0, 110_000.0)
    b.start_session(date(2016, 1, 5), 100_000.0)
    assert b.high_watermark == 110_000.0


def test_drawdown_and_daily_loss_work_for_an_equity_below_one() -> None:
    b = breaker(max_drawdown_pct=0.5, max_daily_loss_pct=0.9)
    b.start_session(date(2016, 1, 4), 0.8)
    b.on_equity(T0, 0.4)  # 50 % below the watermark of 0.8
    assert b.state is TradingState.HALTED


def test_restore_keeps_the_higher_watermark_the_streak_and_the_baseline() -> None:
    saved = {"high_watermark": 120_000.0, "consecutive_losses": 2, "session_date": "2016-01-04",
             "session_start_equity": 118_000.0, "last_equity": 117_000.0, "active_trips": []}
    b = breaker(max_drawdown_pct=0.10)
    b.on_equity(T0, 100_000.0)
    b.restore(saved, T0)
    assert b.high_watermark == 120_000.0 and b.consecutive_losses == 2
    assert (b.session_date, b.session_start_equity, b.last_equity) == (date(2016, 1, 4), 118_000.0, 117_000.0)
    higher = breaker()
    higher.on_equity(T0, 130_000.0)
    higher.restore(saved, T0)
    assert higher.high_watermark == 130_000.0  # a watermark is never lowered
    b.on_equity(T0, 107_000.0)  # 10.8 % below the restored watermark
    assert b.state is TradingState.HALTED


def test_restore_without_a_streak_or_a_session_date_leaves_them_unset() -> None:
    b = breaker()
    b.restore({"session_start_equity": 100_000.0, "active_trips": []}, T0)
    assert b.consecutive_losses == 0 and b.session_date is None and b.session_start_equity is None


def test_a_reset_restarts_the_losing_streak_at_zero() -> None:
    b = breaker(max_consecutive_losses=5)
    b.on_position_closed(T0, -10.0)
    b.on_position_closed(T0, -10.0)
    b.reset("ops", "human", "looked at it")
    assert b.consecutive_losses == 0


def test_a_daily_loss_trips_for_a_session_that_starts_below_one_dollar() -> None:
    b = breaker(max_drawdown_pct=0.9, max_daily_loss_pct=0.5)
    b.start_session(date(2016, 1, 4), 0.8)
    b.on_equity(T0, 0.4)  # 50 % down on the day, 50 % below the watermark (under its 90 %)
    assert [trip.trigger for trip in b.active_trips] == [Trigger.DAILY_LOSS]


def test_an_account_at_exactly_zero_equity_has_nothing_to_measure_a_loss_against() -> None:
    b = breaker()
    b.start_session(date(2016, 1, 4), 0.0)
    b.on_equity(T0, 0.0)
    assert b.state is TradingState.ACTIVE and b.active_trips == () and b.high_watermark == 0.0


def test_the_states_are_ordered_by_severity() -> None:
    assert TradingState.ACTIVE.severity < TradingState.REDUCING.severity < TradingState.HALTED.severity


def test_a_trip_read_from_the_breaker_cannot_be_changed() -> None:
    b = breaker()
    b.halt(T0, "ops", "human", "test")
    with pytest.raises(dataclasses.FrozenInstanceError):
        b.active_trips[0].state = TradingState.ACTIVE  # type: ignore[misc]
    assert b.state is TradingState.HALTED
