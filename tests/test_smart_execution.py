from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from execution.smart_execution import (
    InvalidFillError,
    InvalidQuoteError,
    RepricingPolicy,
    WorkingOrder,
    combo_net_quote,
    is_credit_order,
    next_limit_price,
    reprice_due,
    update_average_fill_price,
)
from models.exceptions import ConfigurationError, PositionSizingError


def make_order(quantity: int = 20, **kwargs: object) -> WorkingOrder:
    return WorkingOrder(client_id="o-1", symbol="GOOG 151224C00750000", quantity=quantity,
                        expected_price=1.0, **kwargs)  # type: ignore[arg-type]


# -- fills ---------------------------------------------------------------------------------------

def test_two_equal_partial_fills_average_to_their_midpoint():
    order = make_order(20)
    update_average_fill_price(order, 100.0, 10)
    assert update_average_fill_price(order, 110.0, 10) == pytest.approx(105.0)
    assert order.filled_quantity == 20
    assert order.is_filled


def test_unequal_partial_fills_are_weighted_by_quantity():
    order = make_order(30)
    update_average_fill_price(order, 100.0, 20)
    assert update_average_fill_price(order, 120.0, 10) == pytest.approx(106.6667, abs=1e-4)
    assert order.average_fill_price == pytest.approx(320.0 / 3)


def test_sell_fills_average_over_absolute_quantities_and_keep_the_sign():
    order = make_order(-30)
    update_average_fill_price(order, 2.0, -10)
    average = update_average_fill_price(order, 2.6, -20)
    assert average == pytest.approx(2.4)
    assert order.filled_quantity == -30
    assert order.remaining_quantity == 0


def test_any_object_with_the_two_attributes_can_be_filled():
    @dataclass
    class Bare:
        filled_quantity: int = 0
        average_fill_price: float = 0.0

    bare = Bare()
    update_average_fill_price(bare, 1.0, 3)
    assert update_average_fill_price(bare, 2.0, 1) == pytest.approx(1.25)
    with pytest.raises(InvalidFillError, match="opposite sign"):
        update_average_fill_price(bare, 2.0, -1)


@pytest.mark.parametrize(("price", "quantity", "message"), [
    (math.nan, 5, "finite"),
    (math.inf, 5, "finite"),
    (-0.01, 5, ">= 0"),
    (1.0, 0, "zero"),
    (1.0, 2.5, "whole"),
    (1.0, math.nan, "whole"),
    (1.0, -5, "opposite sign"),
    (1.0, 11, "over-fill"),
    ("1.0", 5, "number"),
])
def test_a_bad_fill_is_refused_and_leaves_the_order_unchanged(price, quantity, message):
    order = make_order(20)
    update_average_fill_price(order, 1.5, 10)
    with pytest.raises(InvalidFillError, match=message):
        update_average_fill_price(order, price, quantity)
    assert (order.filled_quantity, order.average_fill_price) == (10, 1.5)


def test_a_bad_fill_is_a_position_sizing_error_and_a_value_error():
    with pytest.raises(PositionSizingError):
        update_average_fill_price(make_order(1), 1.0, 2)
    with pytest.raises(ValueError):
        update_average_fill_price(make_order(1), math.nan, 1)


def test_a_zero_price_fill_is_accepted():
    order = make_order(2)
    update_average_fill_price(order, 0.0, 1)
    assert update_average_fill_price(order, 0.10, 1) == pytest.approx(0.05)


fills = st.lists(st.tuples(st.floats(min_value=0.0, max_value=5000.0, allow_nan=False),
                           st.integers(min_value=1, max_value=500)), min_size=1, max_size=30)


@given(fills=fills, sell=st.booleans())
def test_average_equals_quantity_weighted_mean_for_any_fill_sequence(fills, sell):
    sign = -1 if sell else 1
    order = make_order(sign * sum(q for _, q in fills))
    for price, qty in fills:
        update_average_fill_price(order, price, sign * qty)
    expected = sum(p * q for p, q in fills) / sum(q for _, q in fills)
    assert order.average_fill_price == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert order.filled_quantity == order.quantity


@given(order_qty=st.integers(1, 200), fills=st.lists(st.integers(1, 100), max_size=20), sell=st.booleans())
def test_filled_quantity_never_exceeds_the_order_quantity(order_qty, fills, sell):
    sign = -1 if sell else 1
    order = make_order(sign * order_qty)
    for qty in fills:
        before = (order.filled_quantity, order.average_fill_price)
        try:
            update_average_fill_price(order, 1.0, sign * qty)
        except InvalidFillError:
            assert (order.filled_quantity, order.average_fill_price) == before
        assert abs(order.filled_quantity) <= order_qty
        assert order.filled_quantity * sign >= 0


# -- repricing -----------------------------------------------------------------------------------

POLICY = RepricingPolicy(step_fraction=0.25, delay=timedelta(seconds=30), max_attempts=5)


def test_a_buy_starts_at_mid_and_walks_to_the_ask_then_goes_market():
    prices = [next_limit_price(POLICY, True, 1.00, 1.40, attempt) for attempt in range(6)]
    assert prices == [1.20, 1.25, 1.30, 1.35, 1.40, None]


def test_a_sell_starts_at_mid_and_walks_to_the_bid_then_goes_market():
    prices = [next_limit_price(POLICY, False, 1.00, 1.40, attempt) for attempt in range(6)]
    assert prices == [1.20, 1.15, 1.10, 1.05, 1.00, None]


def test_limits_round_to_the_tick_toward_the_passive_side():
    assert next_limit_price(POLICY, True, 3.00, 3.25, 0, tick=0.05) == 3.10  # mid 3.125
    assert next_limit_price(POLICY, False, 3.00, 3.25, 0, tick=0.05) == 3.15


def test_a_sell_of_a_worthless_option_never_goes_to_zero_or_to_market():
    policy = RepricingPolicy(max_attempts=3)
    prices = [next_limit_price(policy, False, 0.0, 0.04, attempt) for attempt in range(6)]
    assert prices[0] == 0.02
    assert all(p is not None and p >= 0.01 for p in prices)
    assert prices[-1] == 0.01


def test_a_sell_rests_at_the_configured_credit_floor():
    policy = RepricingPolicy(max_attempts=2, min_credit=0.50)
    assert next_limit_price(policy, False, 0.20, 1.00, 1) == 0.50
    assert next_limit_price(policy, False, 0.20, 1.00, 2) == 0.50  # market would sell at 0.20


def test_a_net_credit_combo_bought_as_a_negative_price_stays_a_credit():
    # quote of one unit: -1.10 / -0.10, mid -0.60 -> a credit; the ask (-0.10) is still a credit
    prices = [next_limit_price(POLICY, True, -1.10, -0.10, a) for a in range(6)]
    assert prices == [-0.60, -0.48, -0.35, -0.23, -0.10, None]
    # an ask above zero would flip it into a debit: capped at -0.01, never market
    flipped = [next_limit_price(POLICY, True, -0.60, 0.20, a) for a in range(7)]
    assert flipped[:2] == [-0.20, -0.10]
    assert all(p is not None and p <= -0.01 for p in flipped)


def test_a_net_debit_combo_sold_as_a_negative_price_may_pay_up_to_the_bid():
    assert not is_credit_order(False, -1.00, -0.60)
    prices = [next_limit_price(POLICY, False, -1.00, -0.60, a) for a in range(6)]
    assert prices == [-0.80, -0.85, -0.90, -0.95, -1.00, None]


def test_the_caller_can_pin_a_zero_mid_combo_as_a_credit():
    assert next_limit_price(POLICY, True, -0.10, 0.10, 0) == 0.0
    assert next_limit_price(POLICY, True, -0.10, 0.10, 0, credit=True) == -0.01


def test_combo_net_quote_pays_the_ask_of_long_legs_and_gets_the_bid_of_short_legs():
    # long 1 call 2.00/2.20, short 2 calls 0.90/1.00
    assert combo_net_quote([(1, 2.00, 2.20), (-2, 0.90, 1.00)]) == pytest.approx((0.0, 0.40))
    with pytest.raises(InvalidQuoteError):
        combo_net_quote([])
    with pytest.raises(InvalidQuoteError, match="ratio"):
        combo_net_quote([(0, 1.0, 1.1)])


@pytest.mark.parametrize(("bid", "ask", "attempt", "tick"), [
    (math.nan, 1.0, 0, 0.01), (1.0, math.inf, 0, 0.01), (1.2, 1.0, 0, 0.01), (1.0, 1.2, -1, 0.01),
    (1.0, 1.2, 0, 0.0), (1.0, 1.2, 1.5, 0.01),
])
def test_unpriceable_inputs_are_refused(bid, ask, attempt, tick):
    with pytest.raises(InvalidQuoteError):
        next_limit_price(POLICY, True, bid, ask, attempt, tick=tick)


@pytest.mark.parametrize(("kwargs", "parameter"), [
    ({"step_fraction": 0.0}, "step_fraction"), ({"step_fraction": 1.5}, "step_fraction"),
    ({"delay": timedelta(0)}, "delay"), ({"delay": 30}, "delay"),
    ({"max_attempts": 0}, "max_attempts"), ({"max_attempts": 2.0}, "max_attempts"),
    ({"min_credit": -0.1}, "min_credit"), ({"min_credit": math.nan}, "min_credit"),
])
def test_a_bad_policy_names_the_parameter(kwargs, parameter):
    with pytest.raises(ConfigurationError) as info:
        RepricingPolicy(**kwargs)
    assert info.value.parameter == parameter


def test_reprice_is_due_once_the_delay_has_passed_on_the_algorithm_clock():
    submitted = datetime(2015, 12, 23, 15, 0, tzinfo=UTC)
    assert not reprice_due(POLICY, submitted, submitted + timedelta(seconds=29))
    assert reprice_due(POLICY, submitted, submitted + timedelta(seconds=30))
    with pytest.raises(InvalidQuoteError):
        reprice_due(POLICY, submitted, datetime(2015, 12, 23, 15, 1))


quotes = st.tuples(st.floats(-50, 50, allow_nan=False), st.floats(0, 10, allow_nan=False))
policies = st.builds(RepricingPolicy, step_fraction=st.floats(0.01, 1.0), max_attempts=st.integers(1, 12),
                     min_credit=st.sampled_from([0.0, 0.05, 0.25]))
ticks = st.sampled_from([0.01, 0.05, 0.10])


def credit_floor(policy: RepricingPolicy, tick: float) -> float:
    """The least a credit order receives: max(min_credit, tick), on the tick grid."""
    return math.ceil(round(max(policy.min_credit, tick) / tick, 9)) * tick


@given(policy=policies, quote=quotes, is_buy=st.booleans(), tick=ticks)
def test_repricing_is_monotone_toward_the_far_side_and_never_crosses_it(policy, quote, is_buy, tick):
    bid, ask = quote[0], quote[0] + quote[1]
    prices = [next_limit_price(policy, is_buy, bid, ask, a, tick=tick) for a in range(policy.max_attempts + 3)]
    limits = [p for p in prices if p is not None]
    direction = 1 if is_buy else -1
    assert all(direction * (later - earlier) >= -1e-9 for earlier, later in itertools.pairwise(limits))
    far = ask if is_buy else bid
    assert all(direction * (far - p) >= -1e-9 for p in limits)


@given(policy=policies, quote=quotes, is_buy=st.booleans(), tick=ticks)
def test_repricing_never_flips_a_credit_into_a_debit(policy, quote, is_buy, tick):
    bid, ask = quote[0], quote[0] + quote[1]
    assume(is_credit_order(is_buy, bid, ask))
    floor = credit_floor(policy, tick)
    for attempt in range(policy.max_attempts + 3):
        price = next_limit_price(policy, is_buy, bid, ask, attempt, tick=tick)
        if price is None:  # market: the far side itself must still be a credit of at least the floor
            price = ask if is_buy else bid
        cash_received = -price if is_buy else price
        assert cash_received >= floor - 1e-9


@given(policy=policies, quote=quotes, is_buy=st.booleans(), tick=ticks)
def test_repricing_reaches_market_after_max_attempts_unless_that_would_flip_a_credit(policy, quote, is_buy, tick):
    bid, ask = quote[0], quote[0] + quote[1]
    for attempt in range(policy.max_attempts):
        assert next_limit_price(policy, is_buy, bid, ask, attempt, tick=tick) is not None
    final = next_limit_price(policy, is_buy, bid, ask, policy.max_attempts, tick=tick)
    far = ask if is_buy else bid
    floor = credit_floor(policy, tick)
    market_breaks_credit = is_credit_order(is_buy, bid, ask) and (-far if is_buy else far) < floor - 1e-9
    assert (final is None) != market_breaks_credit
