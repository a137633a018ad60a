"""Edges of the pre-trade gateway's rules (models/pre_trade_rules.py) that the mutation run showed untested:
results that cannot be changed, the exact exempt set of a reducing order, insane orders, reasons of the
breaker check, equity below $1, prices and multipliers of exactly 0 or infinite, sums over several legs."""

from __future__ import annotations

import math
from dataclasses import FrozenInstanceError, replace
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from models.orders import OrderPurpose, OrderRequest
from models.pre_trade_rules import (
    EXPOSURE_CHECKS,
    CheckName,
    CheckResult,
    PreTradeContext,
    check_breaker,
    check_greek,
    check_loss,
    check_open_positions,
    check_order_value,
    check_position_size,
    check_sanity,
    contract_value,
    evaluate,
    leg_reduces,
)
from models.risk_limits import RiskLimits
from models.trading_state import TradingState

NOW = datetime(2016, 1, 4, 15, 0, tzinfo=UTC)


def ctx(**changes: Any) -> PreTradeContext:
    base = PreTradeContext(now=NOW, portfolio_value=100_000.0, positions={}, prices={"A": 2.0, "B": 2.0},
                           multipliers={"A": 100.0, "B": 100.0}, open_positions=0, orders_today=0,
                           recent_order_times=(), portfolio_dollar_delta=0.0, portfolio_vega=0.0,
                           dollar_delta_per_contract={"A": 10.0, "B": 10.0}, vega_per_contract={"A": 1.0, "B": 1.0},
                           session_start_equity=100_000.0, equity_high_watermark=100_000.0,
                           trading_state=TradingState.ACTIVE)
    return replace(base, **changes)


def leg(symbol: Any, quantity: Any) -> OrderRequest:
    return OrderRequest("c1", cast(str, symbol), cast(int, quantity), OrderPurpose.ENTRY)


def test_results_and_contexts_cannot_be_changed_after_the_fact() -> None:
    result = evaluate((leg("A", 1),), ctx(), RiskLimits())
    with pytest.raises(FrozenInstanceError):
        result.approved = False  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        result.checks[0].passed = False  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        ctx().open_positions = 5  # type: ignore[misc]


def test_a_reducing_order_is_exempt_from_exactly_the_exposure_checks() -> None:
    result = evaluate((leg("A", 1),), ctx(positions={"A": -2}), RiskLimits())
    assert result.approved and result.reduces_exposure
    exempt = [c.name for c in result.checks if c.reason == "exempt: order reduces exposure"]
    assert exempt == [n.value for n in EXPOSURE_CHECKS] and len(exempt) == len(CheckName) - 2
    assert CheckName.ORDER_SANITY.value not in exempt and CheckName.CIRCUIT_BREAKER.value not in exempt


def test_an_insane_order_is_refused_and_never_called_reducing() -> None:
    for legs in ((), (leg("A", 0),), (leg("A", True),), (leg("A", 1.0),), (leg(123, 1),), (leg("  ", 1),)):
        result = evaluate(legs, ctx(positions={"A": -2}), RiskLimits())
        assert not result.approved and result.reduces_exposure is False
        assert [c.name for c in result.checks] == [CheckName.ORDER_SANITY.value]
    assert check_sanity((leg("A", 1),)).passed


def test_the_breaker_check_says_what_each_state_lets_through() -> None:
    reducing = check_breaker(ctx(trading_state=TradingState.REDUCING), False, True)
    assert not reducing.passed and reducing.reason.endswith("exposure-reducing orders only (reduce-only)")
    halted_closes = check_breaker(ctx(trading_state=TradingState.HALTED), False, True)
    assert halted_closes.reason.endswith("exposure-reducing orders only (reduce-only)")
    halted = check_breaker(ctx(trading_state=TradingState.HALTED), True, False)
    assert not halted.passed and halted.reason == "state halted: no new orders"


def test_an_equity_below_one_dollar_is_still_measured() -> None:
    loss = check_loss(CheckName.DAILY_LOSS, 0.5, 0.49, 0.1, "session start equity")
    assert loss.passed and loss.current_value == pytest.approx(0.02)
    size = check_position_size({"A": 1}, ctx(portfolio_value=0.5, prices={"A": 0.001}, multipliers={"A": 1.0}), 1.0)
    assert size.passed and size.current_value == pytest.approx(0.002)


@pytest.mark.parametrize(("price", "multiplier"), [(0.0, 100.0), (2.0, 0.0), (math.inf, 100.0), (2.0, math.inf),
                                                   (math.nan, 100.0), (-1.0, 100.0)])
def test_a_contract_without_a_usable_price_or_multiplier_has_no_value(price: float, multiplier: float) -> None:
    assert contract_value("A", ctx(prices={"A": price}, multipliers={"A": multiplier})) is None


def test_order_value_adds_every_adding_leg() -> None:
    result = check_order_value({"A": 2, "B": -3}, ctx(), 10_000.0)
    assert result.passed and result.current_value == pytest.approx(1_000.0)  # (2 + 3) x 2.0 x 100


def test_the_position_size_names_the_last_of_two_equal_legs() -> None:
    result = check_position_size({"A": 1, "B": 1}, ctx(), 1.0)
    assert "position B share" in result.reason


def test_an_over_limit_figure_the_order_leaves_unchanged_passes() -> None:
    unchanged = check_greek(CheckName.VEGA, {"A": 1}, {"A": 0.0}, 6_000.0, 5_000.0)
    assert unchanged.passed and "not worse" in unchanged.reason
    worse = check_greek(CheckName.VEGA, {"A": 1}, {"A": 1.0}, 6_000.0, 5_000.0)
    assert not worse.passed


def test_a_contract_with_working_orders_that_net_to_zero_is_already_open() -> None:
    context = ctx(working_symbols=frozenset({"A"}), pending={}, open_positions=1)
    assert check_open_positions({"A": 1}, context, 1).current_value == 1


def test_check_results_carry_their_figures() -> None:
    check = CheckResult("x", True, "ok", 1.0, 2.0)
    assert (check.current_value, check.limit_value) == (1.0, 2.0)


@pytest.mark.parametrize(("position", "quantity", "reduces"), [
    (2, -2, True), (2, -1, True), (1, -1, True), (-1, 1, True), (-2, 1, True), (-2, 2, True),
    (2, -3, False), (-2, 3, False), (2, -4, False), (0, 1, False), (0, -1, False), (2, 0, False), (2, 1, False)])
def test_a_leg_reduces_only_towards_zero_and_never_through_it(position: int, quantity: int, reduces: bool) -> None:
    assert leg_reduces(position, quantity) is reduces
