from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from execution.risk.circuit_breaker import CircuitBreaker, TradingState
from execution.risk.pre_trade_validator import (
    CheckName,
    OrderCounter,
    PreTradeContext,
    PreTradeValidator,
    ValidationResult,
    leg_reduces,
)
from models.audit import AuditAction
from models.exceptions import OrderValidationError
from models.orders import OrderKind, OrderPurpose, OrderRequest
from models.risk_limits import RiskLimits
from tests.log_capture import ListHandler, capture
from utils.audit_logger import AuditLogger, MemoryAuditSink

T0 = datetime(2015, 12, 23, 15, 0, tzinfo=UTC)
A, B = "GOOG  160115P00700000", "GOOG  160219P00700000"
# Generous limits: each test tightens only the limit it is about.
LOOSE = RiskLimits(max_position_size_pct=1.0, max_single_order_value=1e9, max_daily_orders=1000,
                   max_orders_per_minute=1000, max_open_positions=100, max_abs_dollar_delta=1e9,
                   max_abs_vega=1e9, max_daily_loss_pct=0.5, max_drawdown_pct=0.5)


@pytest.fixture
def events() -> Iterator[ListHandler]:
    with capture("options_bot.execution.risk.pre_trade_validator") as handler:
        yield handler


def order(symbol: str, quantity: int, client_id: str = "c1", **kwargs: Any) -> OrderRequest:
    return OrderRequest(client_id=client_id, symbol=symbol, quantity=quantity, purpose=OrderPurpose.ENTRY,
                        **kwargs)


def context(**overrides: Any) -> PreTradeContext:
    values: dict[str, Any] = dict(
        now=T0, portfolio_value=100_000.0, positions={}, prices={A: 10.0, B: 12.0},
        multipliers={A: 100.0, B: 100.0}, open_positions=0, orders_today=0, recent_order_times=(),
        portfolio_dollar_delta=0.0, portfolio_vega=0.0, dollar_delta_per_contract={A: -1000.0, B: -1500.0},
        vega_per_contract={A: 50.0, B: 80.0}, session_start_equity=100_000.0,
        equity_high_watermark=100_000.0, trading_state=TradingState.ACTIVE)
    values.update(overrides)
    if "positions" in overrides and "open_positions" not in overrides:
        values["open_positions"] = sum(1 for q in values["positions"].values() if q)
    return PreTradeContext(**values)


def validator(limits: RiskLimits = LOOSE, **changes: Any) -> tuple[PreTradeValidator, MemoryAuditSink]:
    sink = MemoryAuditSink()
    return PreTradeValidator(replace(limits, **changes), AuditLogger(clock=lambda: T0, sinks=[sink])), sink


def check(result: ValidationResult, name: CheckName):
    return next(c for c in result.checks if c.name == name.value)


def outcome(name: CheckName, orders: OrderRequest | list[OrderRequest], ctx: PreTradeContext,
            **changes: Any) -> bool:
    gateway, _ = validator(**changes)
    return check(gateway.validate(orders, ctx), name).passed


# -- exposure classification ------------------------------------------------------------------
@pytest.mark.parametrize(("position", "quantity", "reduces"), [
    (5, -2, True), (5, -5, True), (-3, 1, True), (-3, 3, True),
    (5, -6, False), (5, 1, False), (0, -1, False), (-3, -1, False), (-3, 4, False)])
def test_a_leg_reduces_only_when_it_shrinks_the_position_without_flipping(position, quantity, reduces):
    assert leg_reduces(position, quantity) is reduces


def test_a_roll_close_plus_open_adds_exposure():
    gateway, _ = validator()

    result = gateway.validate([order(A, -5, "close"), order(B, 5, "open")], context(positions={A: 5}))

    assert result.approved and not result.reduces_exposure


def test_several_legs_that_all_shrink_positions_reduce_exposure():
    gateway, _ = validator()

    result = gateway.validate([order(A, -1, "a"), order(B, 2, "b")], context(positions={A: 5, B: -2}))

    assert result.reduces_exposure


def test_working_orders_count_so_a_second_close_that_would_flip_adds_exposure():
    gateway, _ = validator()

    result = gateway.validate(order(A, -1), context(positions={A: 2}, pending={A: -2}))

    assert not result.reduces_exposure


# -- boundaries of each limit (just under / at / just over); caps are inclusive ---------------------
@pytest.mark.parametrize(("quantity", "passes"), [(9, True), (10, True), (11, False)])
def test_position_size_cap_of_ten_percent(quantity, passes):
    assert outcome(CheckName.POSITION_SIZE, order(A, quantity), context(), max_position_size_pct=0.10) is passes


@pytest.mark.parametrize(("quantity", "passes"), [(1, True), (2, True), (3, False)])
def test_position_size_counts_the_contracts_already_held(quantity, passes):
    ctx = context(positions={A: 8})
    assert outcome(CheckName.POSITION_SIZE, order(A, quantity), ctx, max_position_size_pct=0.10) is passes


@pytest.mark.parametrize(("quantity", "passes"), [(4, True), (5, True), (6, False)])
def test_single_order_value_cap(quantity, passes):
    assert outcome(CheckName.ORDER_VALUE, order(A, -quantity), context(), max_single_order_value=5_000.0) is passes


@pytest.mark.parametrize(("limit", "passes"), [(4_801.0, True), (4_800.0, True), (4_799.0, False)])
def test_a_rolls_order_value_is_the_value_of_its_opening_leg(limit, passes):
    legs = [order(A, -5, "close"), order(B, 4, "open")]  # 4 x 12.00 x 100 = 4,800
    assert outcome(CheckName.ORDER_VALUE, legs, context(positions={A: 5}), max_single_order_value=limit) is passes


@pytest.mark.parametrize(("orders_today", "passes"), [(8, True), (9, True), (10, False)])
def test_daily_order_count_the_tenth_order_of_ten_passes(orders_today, passes):
    assert outcome(CheckName.DAILY_ORDERS, order(A, 1), context(orders_today=orders_today),
                   max_daily_orders=10) is passes


@pytest.mark.parametrize(("in_last_minute", "passes"), [(1, True), (2, True), (3, False)])
def test_order_rate_per_sliding_minute(in_last_minute, passes):
    recent = tuple(T0 - timedelta(seconds=10 * (i + 1)) for i in range(in_last_minute))
    assert outcome(CheckName.ORDER_RATE, order(A, 1), context(recent_order_times=recent),
                   max_orders_per_minute=3) is passes


def test_orders_sixty_seconds_old_or_more_leave_the_rate_window():
    recent = (T0 - timedelta(seconds=60), T0 - timedelta(seconds=61), T0 - timedelta(seconds=59))
    assert outcome(CheckName.ORDER_RATE, order(A, 1), context(recent_order_times=recent), max_orders_per_minute=2)


@pytest.mark.parametrize(("held", "passes"), [({"X": 1}, True), ({"X": 1, "Y": 1}, True),
                                              ({"X": 1, "Y": 1, "Z": 1}, False)])
def test_open_positions_cap_of_three(held, passes):
    assert outcome(CheckName.OPEN_POSITIONS, order(A, 1), context(positions=held),
                   max_open_positions=3) is passes


def test_adding_to_a_held_position_or_rolling_at_the_position_cap_passes():
    ctx = context(positions={A: 1, "X": 1})
    assert outcome(CheckName.OPEN_POSITIONS, order(A, 1), ctx, max_open_positions=2)
    assert outcome(CheckName.OPEN_POSITIONS, [order(A, -1, "c"), order(B, 1, "o")], ctx, max_open_positions=2)


@pytest.mark.parametrize(("quantity", "passes"), [(1, True), (2, True), (3, False)])
def test_dollar_delta_cap_on_the_projected_portfolio(quantity, passes):
    ctx = context(portfolio_dollar_delta=-3_000.0)  # each long A adds -1,000
    assert outcome(CheckName.DOLLAR_DELTA, order(A, quantity), ctx, max_abs_dollar_delta=5_000.0) is passes


def test_an_order_that_lowers_an_over_limit_dollar_delta_passes():
    ctx = context(portfolio_dollar_delta=-7_000.0)
    assert outcome(CheckName.DOLLAR_DELTA, order(A, -1), ctx, max_abs_dollar_delta=5_000.0)  # -> -6,000


@pytest.mark.parametrize(("quantity", "passes"), [(1, True), (2, True), (3, False)])
def test_vega_cap_on_the_projected_portfolio(quantity, passes):
    ctx = context(portfolio_vega=100.0)  # each long A adds 50
    assert outcome(CheckName.VEGA, order(A, quantity), ctx, max_abs_vega=200.0) is passes


@pytest.mark.parametrize(("equity", "passes"), [(97_001.0, True), (97_000.0, False), (96_999.0, False)])
def test_daily_loss_blocks_new_exposure_once_reached(equity, passes):
    assert outcome(CheckName.DAILY_LOSS, order(A, 1), context(portfolio_value=equity),
                   max_daily_loss_pct=0.03) is passes


@pytest.mark.parametrize(("equity", "passes"), [(108_001.0, True), (108_000.0, False), (107_999.0, False)])
def test_drawdown_blocks_new_exposure_once_reached(equity, passes):
    ctx = context(portfolio_value=equity, equity_high_watermark=120_000.0, session_start_equity=equity)
    assert outcome(CheckName.DRAWDOWN, order(A, 1), ctx, max_drawdown_pct=0.10) is passes


def test_a_blocked_underlying_refuses_new_exposure_in_any_of_its_contracts():
    assert not outcome(CheckName.BLOCKED_SYMBOL, order(A, 1), context(), blocked_symbols=frozenset({"GOOG"}))
    assert not outcome(CheckName.BLOCKED_SYMBOL, order("OPT1", 1), context(underlyings={"OPT1": "GME"}))
    assert outcome(CheckName.BLOCKED_SYMBOL, order(A, 1), context(), blocked_symbols=frozenset({"GME"}))


# -- circuit-breaker states ---------------------------------------------------------------------
@pytest.mark.parametrize(("state", "closes", "quantity", "approved"), [
    (TradingState.REDUCING, True, 1, False), (TradingState.REDUCING, False, -1, True),
    (TradingState.HALTED, True, 1, False), (TradingState.HALTED, True, -1, True),
    (TradingState.HALTED, False, -1, False)])
def test_the_trading_state_decides_which_orders_pass(state, closes, quantity, approved):
    gateway, _ = validator(halted_allows_closes=closes)

    result = gateway.validate(order(A, quantity), context(positions={A: 2}, trading_state=state))

    assert result.approved is approved


def test_a_cancel_passes_even_when_halted_with_closes_disabled():
    gateway, _ = validator(halted_allows_closes=False)

    assert gateway.validate_cancel("c9", context(trading_state=TradingState.HALTED)).approved


def test_a_stop_loss_close_passes_with_every_exposure_limit_breached():
    gateway, _ = validator(RiskLimits(max_position_size_pct=0.01, max_daily_orders=1, max_orders_per_minute=1,
                                      max_open_positions=1, max_abs_dollar_delta=1.0, max_abs_vega=1.0,
                                      max_single_order_value=1.0, blocked_symbols=frozenset({"GOOG"})))
    ctx = context(positions={A: 50, B: 5}, orders_today=99, recent_order_times=(T0,) * 5,
                  portfolio_dollar_delta=-57_500.0, portfolio_vega=2_900.0, portfolio_value=80_000.0,
                  trading_state=TradingState.REDUCING)

    result = gateway.validate(order(A, -50, position_id="p1"), ctx)

    assert result.approved and result.reduces_exposure
    assert all(c.passed for c in result.checks)


# -- fail closed on missing data, and sanity --------------------------------------------------------
def test_missing_price_or_greek_estimates_fail_an_adding_order():
    gateway, _ = validator()
    ctx = context(prices={}, dollar_delta_per_contract={B: 1.0})

    result = gateway.validate(order(A, 1), ctx)

    assert not result.approved
    assert {c.name for c in result.failed} == {"order_value", "position_size", "dollar_delta"}


@pytest.mark.parametrize("legs", [
    [], [order(A, 0)], [order(A, 1, kind=OrderKind.LIMIT)], [order(A, 1, "a"), order(A, -1, "b")]])
def test_malformed_orders_fail_the_sanity_check(legs):
    gateway, _ = validator()

    result = gateway.validate(legs, context())

    assert not result.approved and result.failed[0].name == "order_sanity"


# -- rejection: logging and audit -----------------------------------------------------------------
def test_a_rejection_is_logged_with_the_seed_fields_and_audited_once(events):
    gateway, sink = validator(max_position_size_pct=0.05, max_abs_vega=100.0)

    result = gateway.validate(order(A, 10, position_id="pos-1"), context(), actor="agent:x", actor_type="ai_agent")

    warnings = [r for r in events.records if r.getMessage() == "RISK_LIMIT_EXCEEDED"]
    assert {r.limit_type for r in warnings} == {"position_size", "vega"}
    record = next(r for r in warnings if r.limit_type == "position_size")
    assert record.levelno == logging.WARNING and record.action_taken == "order_rejected"
    assert record.current_value == pytest.approx(0.10) and record.limit_value == 0.05
    assert record.position_id == "pos-1"
    assert sink.actions() == [AuditAction.RISK_CHECK_FAILED]
    entry = sink.entries[0]
    assert entry.actor == "agent:x" and entry.resource_id == "c1" and entry.reason == result.reason
    assert [c["name"] for c in entry.metadata["failed_checks"]] == ["position_size", "vega"]
    json.loads(entry.to_json())


def test_an_approved_order_writes_no_audit_entry():
    gateway, sink = validator()

    assert gateway.validate(order(A, 1), context()).approved
    assert sink.entries == []


def test_raise_if_rejected_raises_order_validation_error_with_the_reasons():
    gateway, _ = validator(max_open_positions=1)
    result = gateway.validate(order(A, 1), context(positions={"X": 1}))

    with pytest.raises(OrderValidationError, match="open_positions"):
        result.raise_if_rejected()
    assert json.loads(json.dumps(result.as_dict()))["approved"] is False


# -- order counter ------------------------------------------------------------------------------
def test_order_counter_resets_daily_at_a_new_session_and_keeps_a_sixty_second_window():
    counter = OrderCounter()
    counter.start_session(T0.date())
    counter.record(T0)
    counter.record(T0 + timedelta(seconds=30))

    counter.start_session((T0 + timedelta(days=1)).date())

    assert counter.orders_today == 0
    assert counter.recent(T0 + timedelta(seconds=60)) == (T0 + timedelta(seconds=30),)


# -- property: random order streams and price paths through the gateway and the breaker -------------
PROP_SYMBOLS: tuple[str, ...] = ("AAA 1", "AAA 2", "AAA 3", "AAA 4")
BASE_DELTA = (800.0, -600.0, 1_200.0, -900.0)  # USD delta of one long contract at the start price
BASE_VEGA = (60.0, 80.0, 40.0, 100.0)
PROP_LIMITS = RiskLimits(max_position_size_pct=0.03, max_single_order_value=2_500.0, max_daily_orders=6,
                         max_daily_loss_pct=0.01, max_drawdown_pct=0.02, max_consecutive_losses=2,
                         blocked_symbols=frozenset(), max_open_positions=3, max_orders_per_minute=3,
                         max_abs_dollar_delta=6_000.0, max_abs_vega=800.0)

QUANTITIES = (-4, -3, -2, -1, 1, 2, 3, 4)
single_order = st.tuples(st.just("single"), st.integers(0, 3), st.sampled_from(QUANTITIES), st.just(0))
close_order = st.tuples(st.just("close"), st.integers(0, 3), st.integers(1, 4), st.just(0))
roll_order = st.tuples(st.just("roll"), st.integers(0, 3), st.integers(1, 4), st.integers(0, 3))
step_minutes = st.one_of(st.just(0), st.just(0), st.integers(1, 3), st.integers(0, 900))  # half: same minute
steps = st.lists(st.tuples(step_minutes, st.lists(st.floats(-0.4, 0.4), min_size=4, max_size=4),
                           st.one_of(single_order, close_order, roll_order), st.integers(0, 30)),
                 min_size=5, max_size=80)


class SimulatedPortfolio:
    def __init__(self) -> None:
        self.cash = 100_000.0
        self.prices = {s: 5.0 + i for i, s in enumerate(PROP_SYMBOLS)}
        self.start_prices = dict(self.prices)
        self.positions = dict.fromkeys(PROP_SYMBOLS, 0)
        self.flows = dict.fromkeys(PROP_SYMBOLS, 0.0)

    def equity(self) -> float:
        return self.cash + sum(q * self.prices[s] * 100.0 for s, q in self.positions.items())

    def greeks_per_contract(self) -> tuple[dict[str, float], dict[str, float]]:
        scale = {s: self.prices[s] / self.start_prices[s] for s in PROP_SYMBOLS}
        return ({s: BASE_DELTA[i] * scale[s] for i, s in enumerate(PROP_SYMBOLS)},
                {s: BASE_VEGA[i] * scale[s] for i, s in enumerate(PROP_SYMBOLS)})

    def totals(self, positions: dict[str, int]) -> tuple[float, float, int]:
        delta, vega = self.greeks_per_contract()
        return (sum(q * delta[s] for s, q in positions.items()), sum(q * vega[s] for s, q in positions.items()),
                sum(1 for q in positions.values() if q))

    def legs(self, kind: str, index: int, size: int, other: int) -> list[OrderRequest]:
        symbol, held = PROP_SYMBOLS[index], self.positions[PROP_SYMBOLS[index]]
        if kind == "single" or (kind != "single" and held == 0):
            return [order(symbol, size if kind == "single" else -size, "s")]
        if kind == "close":
            return [order(symbol, -held if size >= abs(held) else -size * (1 if held > 0 else -1), "c")]
        legs = [order(symbol, -held, "close")]
        if other != index:
            legs.append(order(PROP_SYMBOLS[other], size * (1 if held > 0 else -1), "open"))
        return legs

    def fill(self, legs: list[OrderRequest]) -> list[float]:
        """Fill at the current price; return the realised P&L of every position closed to zero."""
        closed = []
        for leg in legs:
            before = self.positions[leg.symbol]
            flow = -leg.quantity * self.prices[leg.symbol] * 100.0
            self.cash += flow
            self.positions[leg.symbol] = after = before + leg.quantity
            self.flows[leg.symbol] += flow
            if after == 0:
                closed.append(self.flows[leg.symbol])
                self.flows[leg.symbol] = 0.0
            elif before != 0 and (after > 0) != (before > 0):
                self.flows[leg.symbol] = -after * self.prices[leg.symbol] * 100.0
        return closed


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=steps, halted_allows_closes=st.booleans())
def test_random_orders_and_prices_never_push_the_portfolio_beyond_a_limit(script, halted_allows_closes):
    limits = replace(PROP_LIMITS, halted_allows_closes=halted_allows_closes)
    audit = AuditLogger(clock=lambda: T0, sinks=[MemoryAuditSink()])
    gateway, breaker = PreTradeValidator(limits, audit), CircuitBreaker(limits, audit)
    sim, counter, now = SimulatedPortfolio(), OrderCounter(), T0
    adding_today = 0
    for minutes, moves, (kind, index, size, other), incident in script:
        now += timedelta(minutes=minutes)
        if breaker.session_date != now.date():
            breaker.start_session(now.date(), sim.equity())
            counter.start_session(now.date())
            adding_today = 0
        for symbol, move in zip(PROP_SYMBOLS, moves, strict=True):
            sim.prices[symbol] = max(0.05, sim.prices[symbol] * (1.0 + move))
        breaker.on_equity(now, sim.equity())
        if incident == 0 and breaker.state is not TradingState.ACTIVE:
            breaker.reset("user:risk-desk", "human", "property test reset")
        elif incident == 1:
            breaker.on_slippage_budget_breach(now, 600.0, 500.0)
        elif incident == 2:
            breaker.on_roll_leg_failed(now, "roll-x", "leg rejected")
        legs = sim.legs(kind, index, size, other)
        equity, before = sim.equity(), dict(sim.positions)
        delta_before, vega_before, open_before = sim.totals(before)
        per_delta, per_vega = sim.greeks_per_contract()
        ctx = PreTradeContext(
            now=now, portfolio_value=equity, positions=before, prices=dict(sim.prices),
            multipliers=dict.fromkeys(PROP_SYMBOLS, 100.0), open_positions=open_before,
            orders_today=counter.orders_today, recent_order_times=counter.recent(now),
            portfolio_dollar_delta=delta_before, portfolio_vega=vega_before, dollar_delta_per_contract=per_delta,
            vega_per_contract=per_vega, session_start_equity=breaker.session_start_equity or equity,
            equity_high_watermark=breaker.high_watermark or equity, trading_state=breaker.state)

        result = gateway.validate(legs, ctx)

        event(f"state {breaker.state.value}")
        if not result.approved:
            for failed in result.failed:
                event(f"rejected by {failed.name}")
            continue
        event("approved, reduces exposure" if result.reduces_exposure else "approved, adds exposure")
        if breaker.state is not TradingState.ACTIVE:
            assert result.reduces_exposure, "only exposure-reducing orders pass REDUCING/HALTED"
            assert breaker.state is TradingState.REDUCING or halted_allows_closes
        if not result.reduces_exposure:
            adding_today += 1
            assert adding_today <= limits.max_daily_orders
            assert len(ctx.recent_order_times) + 1 <= limits.max_orders_per_minute
        for realized in sim.fill(legs):
            breaker.on_position_closed(now, realized)
        counter.record(now)
        delta_after, vega_after, open_after = sim.totals(sim.positions)
        assert open_after <= limits.max_open_positions
        for symbol, held in sim.positions.items():
            grew = abs(held) > abs(before[symbol]) or (held * before[symbol] < 0)
            if result.reduces_exposure:
                assert abs(held) <= abs(before[symbol]) and held * before[symbol] >= 0
            elif grew:
                assert abs(held) * sim.prices[symbol] * 100.0 / equity <= limits.max_position_size_pct + 1e-9
        if not result.reduces_exposure:
            assert abs(delta_after) <= limits.max_abs_dollar_delta + 1e-6 or abs(delta_after) <= abs(delta_before)
            assert abs(vega_after) <= limits.max_abs_vega + 1e-6 or abs(vega_after) <= abs(vega_before)
