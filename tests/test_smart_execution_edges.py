"""Fills and limit pricing edges the mutation run showed untested (issue 13): 1-contract orders,
fills at $0 and orders without a quantity, worthless options, the exact credit floor, a short
repricing schedule, tiny ticks."""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass

import pytest

from execution.smart_execution import (
    InvalidFillError,
    RepricingPolicy,
    WorkingOrder,
    combo_net_quote,
    is_credit_order,
    next_limit_price,
    update_average_fill_price,
)


@dataclass
class FillRecord:
    """An order record without a quantity (``FillableOrder``): the fills say which way it goes."""

    filled_quantity: int = 0
    average_fill_price: float = 0.0


def order(quantity: int) -> WorkingOrder:
    return WorkingOrder(client_id="o-1", symbol="GOOG 151224C00750000", quantity=quantity, expected_price=1.0)


def test_a_one_contract_buy_is_a_buy_and_a_one_contract_sell_a_sell() -> None:
    assert order(1).is_buy and not order(-1).is_buy


def test_a_record_without_a_quantity_takes_its_direction_from_its_first_fill() -> None:
    sold = FillRecord()
    assert update_average_fill_price(sold, 0.0, -2) == 0.0  # a worthless option sold at $0
    assert (sold.filled_quantity, sold.average_fill_price) == (-2, 0.0)
    assert update_average_fill_price(sold, 0.3, -1) == pytest.approx(0.1)
    bought = FillRecord()
    update_average_fill_price(bought, 1.0, 1)
    assert bought.filled_quantity == 1


def test_a_fill_quantity_of_true_is_refused() -> None:
    with pytest.raises(InvalidFillError):
        update_average_fill_price(order(1), 1.0, True)


@pytest.mark.parametrize(("quantity", "fill", "side"), [(1, -1, "(buy)"), (-1, 1, "(sell)")])
def test_a_fill_against_the_order_names_the_orders_side(quantity: int, fill: int, side: str) -> None:
    with pytest.raises(InvalidFillError, match=re.escape(side)):
        update_average_fill_price(order(quantity), 1.0, fill)


def test_a_policy_cannot_be_changed_after_it_was_checked() -> None:
    policy = RepricingPolicy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.max_attempts = 0  # type: ignore[misc]


def test_selling_at_a_mid_of_zero_is_a_credit_that_never_goes_to_market() -> None:
    assert is_credit_order(False, 0.0, 0.0)
    # a worthless option: the order rests at one tick, it is never sold at market for nothing
    assert next_limit_price(RepricingPolicy(max_attempts=2), False, 0.0, 0.0, attempt=5) == 0.01


def test_a_credit_whose_market_price_is_exactly_the_credit_floor_goes_to_market() -> None:
    policy = RepricingPolicy(max_attempts=2)
    # a combo bought for a net credit: far side (ask) -0.01 is exactly the one-tick floor
    assert next_limit_price(policy, True, -0.05, -0.01, attempt=2) is None
    assert next_limit_price(policy, False, 0.01, 0.05, attempt=2) is None  # the same for a sell


def test_past_the_last_attempt_a_credit_that_cannot_go_to_market_rests_at_the_floor() -> None:
    policy = RepricingPolicy(step_fraction=0.25, max_attempts=2)
    # sell: bid 0 breaks the 0.01 floor; at attempt 2 the order is at the far side, pulled back to the floor
    assert next_limit_price(policy, False, 0.0, 0.10, attempt=1) == 0.04  # mid 0.05, a quarter of the way to 0
    assert next_limit_price(policy, False, 0.0, 0.10, attempt=2) == 0.01


def test_a_limit_that_rounds_to_zero_is_a_positive_zero_whatever_the_tick() -> None:
    price = next_limit_price(RepricingPolicy(), True, -2e-11, 1e-11, attempt=0, tick=1e-11)
    assert price == 0.0 and math.copysign(1.0, price) == 1.0


def test_the_net_quote_of_a_vertical_spread() -> None:
    assert combo_net_quote([(1, 1.0, 1.2), (-1, 0.4, 0.5)]) == pytest.approx((0.5, 0.8))
    assert combo_net_quote([(-1, 0.4, 0.5)]) == pytest.approx((-0.5, -0.4))
