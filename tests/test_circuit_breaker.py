from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from execution.risk.circuit_breaker import (
    CircuitBreaker,
    CircuitBreakerResetRefused,
    TradingState,
    Trigger,
    permits,
)
from models.audit import AuditAction
from models.risk_limits import RiskLimits
from tests.log_capture import ListHandler, capture
from utils.audit_logger import AuditLogger, MemoryAuditSink

T0 = datetime(2015, 12, 23, 14, 31, tzinfo=UTC)
DAY1, DAY2 = date(2015, 12, 23), date(2015, 12, 24)


@pytest.fixture
def events() -> Iterator[ListHandler]:
    with capture("options_bot.execution.risk.circuit_breaker") as handler:
        yield handler


def make(start_equity: float = 100_000.0, **limits: Any) -> tuple[CircuitBreaker, MemoryAuditSink]:
    sink = MemoryAuditSink()
    breaker = CircuitBreaker(RiskLimits(**limits), AuditLogger(clock=lambda: T0, sinks=[sink]))
    breaker.start_session(DAY1, start_equity)
    return breaker, sink


def test_a_new_breaker_is_active_and_permits_everything():
    breaker, sink = make()

    assert breaker.state is TradingState.ACTIVE
    assert breaker.permits(reduces_exposure=False) and breaker.permits(reduces_exposure=True)
    assert sink.entries == []


@pytest.mark.parametrize(("equity", "expected"), [
    (90_001.0, TradingState.ACTIVE),  # just under 10 %
    (90_000.0, TradingState.HALTED),  # at: reached trips
    (89_999.0, TradingState.HALTED),  # just over
])
def test_drawdown_from_the_high_watermark_halts_when_reached(equity, expected):
    breaker, _ = make(max_daily_loss_pct=0.5)  # high watermark 100k from the session start

    breaker.on_equity(T0, equity)

    assert breaker.state is expected


def test_drawdown_is_measured_from_the_highest_equity_seen():
    breaker, _ = make(max_daily_loss_pct=0.5)
    breaker.on_equity(T0, 120_000.0)

    breaker.on_equity(T0, 108_001.0)
    assert breaker.state is TradingState.ACTIVE
    breaker.on_equity(T0, 108_000.0)
    assert breaker.state is TradingState.HALTED


@pytest.mark.parametrize(("equity", "expected"), [
    (97_001.0, TradingState.ACTIVE), (97_000.0, TradingState.HALTED), (96_999.0, TradingState.HALTED)])
def test_daily_loss_against_the_session_start_halts_when_reached(equity, expected):
    breaker, _ = make()

    breaker.on_equity(T0, equity)

    assert breaker.state is expected


def test_daily_loss_is_measured_from_the_current_sessions_start_equity():
    breaker, _ = make()
    breaker.on_equity(T0, 98_000.0)  # -2 % on day 1
    breaker.start_session(DAY2, 98_000.0)

    breaker.on_equity(T0 + timedelta(days=1), 95_061.0)  # -2.999 % of 98k
    assert breaker.state is TradingState.ACTIVE
    breaker.on_equity(T0 + timedelta(days=1), 95_060.0)  # -3 % of 98k
    assert breaker.state is TradingState.HALTED


@pytest.mark.parametrize(("losses", "expected"), [
    (2, TradingState.ACTIVE), (3, TradingState.REDUCING), (4, TradingState.REDUCING)])
def test_consecutive_losing_closes_switch_to_reducing_when_the_count_is_reached(losses, expected):
    breaker, _ = make(max_consecutive_losses=3)

    for _ in range(losses):
        breaker.on_position_closed(T0, -10.0)

    assert breaker.state is expected


@pytest.mark.parametrize("breaking_pnl", [0.0, 25.0])
def test_a_close_that_is_not_a_loss_ends_the_losing_streak(breaking_pnl):
    breaker, _ = make(max_consecutive_losses=3)
    breaker.on_position_closed(T0, -10.0)
    breaker.on_position_closed(T0, -10.0)

    breaker.on_position_closed(T0, breaking_pnl)
    breaker.on_position_closed(T0, -10.0)
    breaker.on_position_closed(T0, -10.0)

    assert breaker.state is TradingState.ACTIVE and breaker.consecutive_losses == 2


def test_a_spent_slippage_budget_switches_to_reducing():
    breaker, sink = make()

    breaker.on_slippage_budget_breach(T0, slippage=520.0, budget=500.0, detail="session budget")

    assert breaker.state is TradingState.REDUCING
    trip = next(e for e in sink.entries if e.action is AuditAction.CIRCUIT_BREAKER_TRIP)
    assert trip.after_state is not None
    assert trip.after_state["trigger"] == "slippage_budget" and trip.after_state["state"] == "reducing"


def test_a_failed_roll_leg_turns_trading_reduce_only():
    breaker, _ = make()

    breaker.on_roll_leg_failed(T0, "roll-7", "new leg rejected")

    assert breaker.state is TradingState.REDUCING
    assert breaker.active_trips[0].trigger is Trigger.ROLL_LEG_FAILED


def test_a_trip_is_logged_critical_and_audited_with_trigger_value_and_threshold(events):
    breaker, sink = make()

    breaker.on_equity(T0, 96_000.0)

    tripped = [r for r in events.records if r.getMessage() == "CIRCUIT_BREAKER_TRIPPED"]
    changed = [r for r in events.records if r.getMessage() == "CIRCUIT_BREAKER_STATE_CHANGED"]
    assert len(tripped) == 1 and tripped[0].levelno == logging.CRITICAL
    assert tripped[0].trigger == "daily_loss" and tripped[0].threshold == 0.03
    assert tripped[0].trigger_value == pytest.approx(0.04)
    assert len(changed) == 1 and changed[0].levelno == logging.CRITICAL and changed[0].after == "halted"
    assert sink.actions() == [AuditAction.CIRCUIT_BREAKER_TRIP, AuditAction.CIRCUIT_BREAKER_STATE_CHANGE]
    change = sink.entries[1]
    assert change.before_state == {"state": "active"} and change.after_state == {"state": "halted"}


def test_the_same_trigger_is_tripped_and_audited_once_until_cleared():
    breaker, sink = make()

    breaker.on_equity(T0, 96_000.0)
    breaker.on_equity(T0, 95_000.0)

    assert sink.actions().count(AuditAction.CIRCUIT_BREAKER_TRIP) == 1


def test_reducing_escalates_to_halted_and_every_trip_is_audited():
    breaker, sink = make(max_consecutive_losses=1)
    breaker.on_position_closed(T0, -1.0)
    assert breaker.state is TradingState.REDUCING

    breaker.halt(T0, "user:ops", "human", "news pending")

    assert breaker.state is TradingState.HALTED
    assert sink.actions().count(AuditAction.CIRCUIT_BREAKER_TRIP) == 2
    assert sink.actions().count(AuditAction.CIRCUIT_BREAKER_STATE_CHANGE) == 2


def test_a_lesser_trip_while_halted_is_audited_without_a_state_change():
    breaker, sink = make()
    breaker.halt(T0, "user:ops", "human", "news pending")

    breaker.on_slippage_budget_breach(T0, 600.0, 500.0)

    assert breaker.state is TradingState.HALTED
    assert sink.actions().count(AuditAction.CIRCUIT_BREAKER_TRIP) == 2
    assert sink.actions().count(AuditAction.CIRCUIT_BREAKER_STATE_CHANGE) == 1


def test_recovered_equity_and_a_new_session_do_not_clear_a_drawdown_halt():
    breaker, _ = make(max_daily_loss_pct=0.5)
    breaker.on_equity(T0, 89_000.0)

    breaker.on_equity(T0, 101_000.0)
    breaker.start_session(DAY2, 101_000.0)

    assert breaker.state is TradingState.HALTED


def test_a_daily_loss_halt_clears_at_the_next_session_when_configured():
    breaker, sink = make(daily_loss_clears_next_session=True)
    breaker.on_equity(T0, 96_500.0)

    breaker.start_session(DAY1, 96_500.0)  # same session again: nothing clears
    assert breaker.state is TradingState.HALTED
    breaker.start_session(DAY2, 96_500.0)

    assert breaker.state is TradingState.ACTIVE
    change = sink.entries[-1]
    assert change.action is AuditAction.CIRCUIT_BREAKER_STATE_CHANGE and change.actor == "system"
    assert change.reason is not None and "daily-loss trip cleared" in change.reason


def test_a_daily_loss_halt_stays_at_the_next_session_when_not_configured():
    breaker, _ = make(daily_loss_clears_next_session=False)
    breaker.on_equity(T0, 96_500.0)

    breaker.start_session(DAY2, 96_500.0)

    assert breaker.state is TradingState.HALTED


def test_clearing_the_daily_loss_leaves_the_other_trips_in_force():
    breaker, _ = make(max_consecutive_losses=1)
    breaker.on_position_closed(T0, -5.0)
    breaker.on_equity(T0, 96_500.0)

    breaker.start_session(DAY2, 96_500.0)

    assert breaker.state is TradingState.REDUCING


def test_a_human_reset_returns_to_active_and_is_audited_with_actor_and_reason():
    breaker, sink = make()
    breaker.on_equity(T0, 89_000.0)

    before = breaker.reset("user:ops@example.com", "human", "reviewed the crash")

    assert before is TradingState.HALTED and breaker.state is TradingState.ACTIVE
    reset = next(e for e in sink.entries if e.action is AuditAction.CIRCUIT_BREAKER_RESET)
    assert reset.actor == "user:ops@example.com" and reset.actor_type == "human"
    assert reset.reason == "reviewed the crash" and reset.before_state == {"state": "halted"}
    assert sink.entries[-1].action is AuditAction.CIRCUIT_BREAKER_STATE_CHANGE
    assert sink.entries[-1].actor == "user:ops@example.com"


def test_after_a_reset_losses_are_measured_afresh_from_the_equity_at_reset():
    breaker, _ = make()
    breaker.on_equity(T0, 89_000.0)
    breaker.reset("agent:risk-bot", "ai_agent", "acknowledged")

    breaker.on_equity(T0, 88_000.0)  # 1.1 % below the equity at reset
    assert breaker.state is TradingState.ACTIVE
    breaker.on_equity(T0, 86_330.0)  # 3 % below the equity at reset
    assert breaker.state is TradingState.HALTED


@pytest.mark.parametrize(("actor", "actor_type", "reason"), [
    ("", "human", "why"), ("   ", "human", "why"), ("user:a", "human", ""), ("user:a", "human", "  "),
    ("system", "system", "auto"),
])
def test_a_reset_without_actor_reason_or_from_the_system_is_refused(actor, actor_type, reason):
    breaker, sink = make()
    breaker.halt(T0, "user:ops", "human", "news pending")
    entries_before = len(sink.entries)

    with pytest.raises(CircuitBreakerResetRefused):
        breaker.reset(actor, actor_type, reason)

    assert breaker.state is TradingState.HALTED and len(sink.entries) == entries_before


@pytest.mark.parametrize(("state", "reducing", "cancel", "closes", "expected"), [
    (TradingState.ACTIVE, False, False, False, True),
    (TradingState.REDUCING, False, False, True, False),
    (TradingState.REDUCING, True, False, False, True),
    (TradingState.REDUCING, False, True, False, True),
    (TradingState.HALTED, False, False, True, False),
    (TradingState.HALTED, True, False, True, True),
    (TradingState.HALTED, True, False, False, False),
    (TradingState.HALTED, False, True, False, True),
])
def test_what_each_state_permits(state, reducing, cancel, closes, expected):
    assert permits(state, reducing, cancel, closes) is expected


def test_a_session_before_the_current_one_is_refused():
    breaker, _ = make()
    breaker.start_session(DAY2, 100_000.0)

    with pytest.raises(ValueError, match="before the current session"):
        breaker.start_session(DAY1, 100_000.0)


def test_a_non_finite_equity_is_refused():
    breaker, _ = make()

    with pytest.raises(ValueError, match="equity"):
        breaker.on_equity(T0, float("nan"))


def test_as_dict_is_json_ready_and_lists_the_active_trips():
    breaker, _ = make()
    breaker.on_roll_leg_failed(T0, "roll-3", "cancelled")

    data = breaker.as_dict()

    assert json.loads(json.dumps(data)) == data
    assert data["state"] == "reducing" and data["active_trips"][0]["trigger"] == "roll_leg_failed"
    assert data["session_date"] == "2015-12-23"



def test_a_manual_halt_needs_actor_and_reason_and_is_audited():
    breaker, sink = make()

    with pytest.raises(CircuitBreakerResetRefused):
        breaker.halt(T0, "", "human", "why")
    breaker.halt(T0, "agent:risk_watch", "ai_agent", "VIX spike")

    assert breaker.state is TradingState.HALTED
    assert AuditAction.MANUAL_INTERVENTION in sink.actions()
    assert breaker.active_trips[0].trigger is Trigger.MANUAL_HALT
