"""Slippage budget edges the mutation run showed untested (issue 13): fills at $0, 1-share
multipliers, the exact limits and their float tolerance, the breach count, what a breach logs and
audits, and restoring a session after a restart."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from execution.risk.slippage_budget import InvalidSlippageInputError, SlippageBudget
from tests.log_capture import capture
from utils.audit_logger import AuditLogger, MemoryAuditSink

DAY = date(2016, 1, 4)


def budget(trade_pct: float = 15.0, session_usd: float = 100.0) -> SlippageBudget:
    b = SlippageBudget(trade_pct, session_usd, min(10.0, trade_pct))
    b.start_session(DAY)
    return b


def test_a_fill_at_zero_and_a_one_share_multiplier_are_measured() -> None:
    b = budget()
    worthless = b.check_slippage(0.05, 0.0, -1, "C1", 100.0)  # sold a worthless option at 0: 0.05 adverse
    assert worthless.slippage_usd == pytest.approx(5.0)
    shares = b.check_slippage(700.0, 700.5, 100, "C2", 1.0)
    assert shares.slippage_usd == pytest.approx(50.0)


def test_slippage_exactly_at_the_trade_limit_is_within_it() -> None:
    result = budget().check_slippage(1.0, 1.15, 1, "C1", 100.0)
    assert result.within_trade_limit and not result.breached


def test_a_session_total_exactly_at_the_budget_is_within_it() -> None:
    b = budget(trade_pct=50.0, session_usd=100.0)
    result = b.check_slippage(2.0, 2.5, 2, "C1", 100.0)  # 0.50 x 2 x 100 = 100.00
    assert result.session_total == pytest.approx(100.0) and not result.breached and not b.reduce_only


def test_breaches_are_counted_and_a_new_session_starts_at_zero() -> None:
    b = budget(trade_pct=1.0)
    assert b.to_dict()["breaches"] == 0
    b.check_slippage(1.0, 1.5, 1, "C1", 100.0)
    b.check_slippage(1.0, 1.5, 1, "C2", 100.0)
    assert b.to_dict()["breaches"] == 2
    b.start_session(date(2016, 1, 5))
    assert b.to_dict()["breaches"] == 0 and not b.reduce_only


def test_restore_takes_back_the_session_and_refuses_a_negative_total() -> None:
    b = SlippageBudget(15.0, 100.0, 10.0)
    b.restore({"session_date": "2016-01-04", "session_total_usd": 0.0, "reduce_only": False})
    assert b.session_date == DAY and b.session_total == 0.0 and b.to_dict()["breaches"] == 0
    b.restore({"session_date": "2016-01-04", "session_total_usd": 0.5, "reduce_only": True, "breaches": 2})
    assert b.session_total == 0.5 and b.reduce_only and b.to_dict()["breaches"] == 2
    with pytest.raises(InvalidSlippageInputError):
        b.restore({"session_date": "2016-01-04", "session_total_usd": -1.0, "reduce_only": False})
    assert b.session_total == 0.5  # unchanged by the refused restore


def test_the_alert_threshold_may_equal_the_trade_limit() -> None:
    assert SlippageBudget(15.0, 100.0, 15.0).alert_threshold_pct == 15.0


def test_a_new_budget_has_no_breaches_and_slippage_at_the_alert_threshold_is_no_alert() -> None:
    assert SlippageBudget(15.0, 100.0, 10.0).to_dict()["breaches"] == 0
    result = budget().check_slippage(1.0, 1.1, 1, "C1", 100.0)  # exactly the 10 % alert threshold
    assert not result.alert and not result.breached


def test_a_fill_passes_unless_it_breaches() -> None:
    b = budget(trade_pct=15.0)
    assert b.check_slippage(1.0, 1.10, 1, "C1", 100.0).passed
    assert not b.check_slippage(1.0, 1.20, 1, "C2", 100.0).passed


def test_a_result_cannot_be_changed_after_the_check() -> None:
    result = budget().check_slippage(1.0, 1.10, 1, "C1", 100.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.breached = True  # type: ignore[misc]


def test_each_limit_is_inclusive_up_to_its_float_tolerance() -> None:
    tolerance = 1e-9  # slippage_budget._EPSILON: a measured 15.0 against a limit of 15.0 - 1e-9 is at it
    trade = SlippageBudget(15.0 - tolerance, 1000.0, 15.0 - tolerance)
    trade.start_session(DAY)
    result = trade.check_slippage(1.0, 1.15, 1, "C1", 100.0)  # 15.0 % exactly
    assert result.within_trade_limit and not result.alert and not result.breached
    session = SlippageBudget(50.0, 100.0 - tolerance, 10.0)
    session.start_session(DAY)
    assert not session.check_slippage(2.0, 2.5, 2, "C1", 100.0).breached  # $100.00 exactly


def test_a_breach_logs_and_audits_the_latch_and_the_session() -> None:
    sink = MemoryAuditSink()
    b = SlippageBudget(1.0, 100.0, 0.5, audit_logger=AuditLogger(clock=lambda: datetime(2016, 1, 4, tzinfo=UTC),
                                                                sinks=[sink]))
    b.start_session(DAY)
    with capture("options_bot.execution.risk.slippage_budget") as events:
        b.check_slippage(1.0, 1.5, 1, "C1", 100.0)
    [record] = [r for r in events.records if r.getMessage() == "SLIPPAGE_BUDGET_EXCEEDED"]
    assert record.__dict__["reduce_only"] is True and record.__dict__["breaches"] == 1
    [entry] = sink.entries
    assert entry.metadata["session_date"] == "2016-01-04" and entry.after_state["reduce_only"] is True
