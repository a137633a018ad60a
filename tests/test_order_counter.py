"""The pre-trade validator's own parts (issue 13, mutation survivors): the order counter from a
fresh start and across a restart, and a cancel's result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from execution.risk.pre_trade_validator import OrderCounter, PreTradeValidator
from models.risk_limits import RiskLimits
from models.trading_state import TradingState
from tests.test_pre_trade_validator import context
from utils.audit_logger import AuditLogger, MemoryAuditSink

T0 = datetime(2015, 12, 23, 15, 0, tzinfo=UTC)


def test_a_new_counter_has_sent_no_order() -> None:
    counter = OrderCounter()
    assert counter.orders_today == 0 and counter.recent(T0) == ()
    counter.record(T0)
    assert counter.orders_today == 1


def test_restore_takes_back_a_count_of_zero_and_the_rate_window() -> None:
    counter = OrderCounter()
    recent = [(T0 - timedelta(seconds=10)).isoformat(), (T0 - timedelta(seconds=20)).isoformat()]
    counter.restore({"session_date": "2015-12-23", "orders_today": 0, "recent": recent})
    assert counter.orders_today == 0
    assert counter.recent(T0) == (T0 - timedelta(seconds=20), T0 - timedelta(seconds=10))
    with pytest.raises(ValueError):
        counter.restore({"session_date": "2015-12-23", "orders_today": -1})
    assert counter.orders_today == 0


def test_a_cancel_is_approved_and_counts_as_reducing_exposure() -> None:
    validator = PreTradeValidator(RiskLimits(), AuditLogger(clock=lambda: T0, sinks=[MemoryAuditSink()]))
    result = validator.validate_cancel("c1", context(trading_state=TradingState.HALTED))
    assert result.approved and result.reduces_exposure and not result.failed
