from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from execution.risk.slippage_budget import InvalidSlippageInputError, SlippageBudget
from models.audit import AuditAction
from models.exceptions import ConfigurationError
from tests.log_capture import ListHandler, capture
from utils.audit_logger import AuditLogger, MemoryAuditSink

MULTIPLIER = 100.0  # GOOG options' contract multiplier, as the security reports it
DAY_1 = date(2015, 12, 23)
DAY_2 = date(2015, 12, 24)


@pytest.fixture
def log_events() -> Iterator[ListHandler]:
    with capture("options_bot.execution.risk.slippage_budget") as handler:
        yield handler


def make_budget(**kwargs: object) -> tuple[SlippageBudget, MemoryAuditSink]:
    sink = MemoryAuditSink()
    audit = AuditLogger(clock=lambda: datetime(2015, 12, 23, 15, 0, tzinfo=UTC), sinks=[sink])
    budget = SlippageBudget(**{"max_slippage_per_trade_pct": 1.0, "max_slippage_per_session_usd": 100.0,
                               "alert_threshold_pct": 0.5, **kwargs},  # type: ignore[arg-type]
                            audit_logger=audit, session_date=DAY_1)
    return budget, sink


def test_paying_more_than_mid_on_a_buy_is_positive_slippage_in_pct_and_usd():
    budget, _ = make_budget()
    result = budget.check_slippage(2.00, 2.01, 3, "o-1", MULTIPLIER)
    assert result.slippage_pct == pytest.approx(0.5)
    assert result.slippage_usd == pytest.approx(3.0)
    assert result.session_total == pytest.approx(3.0)
    assert result.within_trade_limit and not result.breached and not result.reduce_only


def test_receiving_less_than_mid_on_a_sell_is_positive_slippage():
    budget, _ = make_budget()
    result = budget.check_slippage(2.00, 1.99, -2, "o-1", MULTIPLIER)
    assert result.slippage_pct == pytest.approx(0.5)
    assert result.slippage_usd == pytest.approx(2.0)


def test_the_multiplier_comes_from_the_caller():
    budget, _ = make_budget()
    assert budget.check_slippage(2.00, 2.01, 1, "o-1", 10.0).slippage_usd == pytest.approx(0.1)


def test_price_improvement_is_negative_and_does_not_refill_the_budget():
    budget, _ = make_budget()
    budget.check_slippage(2.00, 2.01, 10, "o-1", MULTIPLIER)
    improved = budget.check_slippage(2.00, 1.95, 10, "o-2", MULTIPLIER)
    assert improved.slippage_pct == pytest.approx(-2.5)
    assert improved.slippage_usd == pytest.approx(-50.0)
    assert improved.session_total == pytest.approx(10.0)
    assert not improved.breached


def test_a_trade_over_the_per_trade_limit_breaches_logs_audits_and_latches_reduce_only(log_events):
    budget, sink = make_budget()
    result = budget.check_slippage(1.00, 1.02, 1, "o-7", MULTIPLIER)
    assert not result.within_trade_limit and result.breached and result.reduce_only
    assert budget.reduce_only
    assert "SLIPPAGE_BUDGET_EXCEEDED" in log_events.events(logging.WARNING)
    [entry] = sink.entries
    assert entry.action is AuditAction.SLIPPAGE_BUDGET_BREACH
    assert entry.resource_id == "o-7"
    assert entry.after_state == {"reduce_only": True, "session_total": pytest.approx(2.0)}
    assert "exceeds" in (entry.reason or "")


def test_the_session_total_breaches_the_session_limit_even_when_each_trade_is_within_limits():
    budget, sink = make_budget()
    first = budget.check_slippage(10.00, 10.05, 10, "o-1", MULTIPLIER)  # 0.5%, $50
    second = budget.check_slippage(10.00, 10.05, 10, "o-2", MULTIPLIER)  # $100: at the limit
    third = budget.check_slippage(10.00, 10.01, 1, "o-3", MULTIPLIER)  # $101
    assert not first.breached and not second.breached
    assert third.within_trade_limit and third.breached
    assert "session slippage" in (third.reason or "")
    assert sink.actions() == [AuditAction.SLIPPAGE_BUDGET_BREACH]


def test_an_alert_threshold_crossing_is_logged_without_a_breach(log_events):
    budget, sink = make_budget()
    result = budget.check_slippage(1.00, 1.008, 1, "o-1", MULTIPLIER)
    assert result.alert and not result.breached
    assert log_events.events() == ["SLIPPAGE_ALERT"]
    assert sink.entries == []


def test_reduce_only_stays_latched_after_good_fills_until_the_next_session():
    budget, _ = make_budget()
    budget.check_slippage(1.00, 1.05, 1, "o-1", MULTIPLIER)
    assert budget.check_slippage(1.00, 1.00, 1, "o-2", MULTIPLIER).reduce_only
    assert budget.start_session(DAY_2)
    assert not budget.reduce_only
    assert budget.session_total == 0.0
    assert budget.session_date == DAY_2


def test_starting_the_current_session_again_does_not_clear_a_breach():
    budget, _ = make_budget()
    budget.check_slippage(1.00, 1.05, 1, "o-1", MULTIPLIER)
    assert not budget.start_session(DAY_1)
    assert budget.reduce_only


def test_a_session_must_be_a_date_that_does_not_go_back():
    budget, _ = make_budget()
    with pytest.raises(InvalidSlippageInputError, match="before"):
        budget.start_session(date(2015, 12, 22))
    with pytest.raises(InvalidSlippageInputError, match="date"):
        budget.start_session(datetime(2015, 12, 24, tzinfo=UTC))  # type: ignore[arg-type]


@pytest.mark.parametrize(("expected", "actual", "quantity", "multiplier", "message"), [
    (math.nan, 1.0, 1, 100.0, "expected_price"),
    (0.0, 1.0, 1, 100.0, "expected_price must be > 0"),
    (1.0, math.inf, 1, 100.0, "actual_price"),
    (1.0, -0.1, 1, 100.0, "actual_price must be >= 0"),
    (1.0, 1.0, 0, 100.0, "quantity"),
    (1.0, 1.0, 1.5, 100.0, "quantity"),
    (1.0, 1.0, 1, 0.0, "multiplier"),
    (1.0, 1.0, 1, math.nan, "multiplier"),
])
def test_bad_inputs_raise_a_value_error_and_change_nothing(expected, actual, quantity, multiplier, message):
    budget, _ = make_budget()
    budget.check_slippage(1.00, 1.001, 1, "o-0", MULTIPLIER)
    with pytest.raises(InvalidSlippageInputError, match=message) as info:
        budget.check_slippage(expected, actual, quantity, "o-1", multiplier)
    assert isinstance(info.value, ValueError)
    assert budget.session_total == pytest.approx(0.1)
    assert not budget.reduce_only


@pytest.mark.parametrize(("kwargs", "parameter"), [
    ({"max_slippage_per_trade_pct": 0.0}, "max_slippage_per_trade_pct"),
    ({"max_slippage_per_trade_pct": math.nan}, "max_slippage_per_trade_pct"),
    ({"max_slippage_per_session_usd": -1.0}, "max_slippage_per_session_usd"),
    ({"max_slippage_per_session_usd": "1000"}, "max_slippage_per_session_usd"),
    ({"alert_threshold_pct": -0.1}, "alert_threshold_pct"),
    ({"alert_threshold_pct": 2.0}, "alert_threshold_pct"),
])
def test_a_bad_limit_is_a_configuration_error_naming_the_parameter(kwargs, parameter):
    with pytest.raises(ConfigurationError) as info:
        make_budget(**kwargs)
    assert info.value.parameter == parameter


def test_the_snapshot_reports_the_session_state():
    budget, _ = make_budget()
    budget.check_slippage(1.00, 1.05, 1, "o-1", MULTIPLIER)
    snapshot = budget.to_dict()
    assert snapshot["session_date"] == "2015-12-23"
    assert snapshot["reduce_only"] is True
    assert snapshot["session_total_usd"] == pytest.approx(5.0)
    assert snapshot["remaining_usd"] == pytest.approx(95.0)


fills = st.lists(st.tuples(st.floats(0.05, 50.0), st.floats(-0.05, 0.05), st.integers(-20, 20).filter(bool)),
                 max_size=25)


@given(fills=fills)
def test_the_session_total_never_decreases_within_a_session(fills):
    budget = SlippageBudget(1.0, 100.0, 0.5, session_date=DAY_1)
    totals = [budget.session_total]
    for mid, move, qty in fills:
        totals.append(budget.check_slippage(mid, max(0.0, mid * (1 + move)), qty, "o", MULTIPLIER).session_total)
    assert all(later >= earlier for earlier, later in itertools.pairwise(totals))


@given(fills=fills)
def test_a_breach_latches_reduce_only_until_the_next_session(fills):
    budget = SlippageBudget(1.0, 100.0, 0.5, session_date=DAY_1)
    breached = False
    for mid, move, qty in fills:
        result = budget.check_slippage(mid, max(0.0, mid * (1 + move)), qty, "o", MULTIPLIER)
        breached = breached or result.breached
        assert budget.reduce_only == breached == result.reduce_only
    budget.start_session(DAY_2)
    assert not budget.reduce_only
    assert budget.session_total == 0.0
