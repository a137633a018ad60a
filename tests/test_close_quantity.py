"""calculate_close_quantity (seed 3.1 as settled by issue 3): the rule, the seed table, properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from execution.bot_managed_positions import calculate_close_quantity
from models.exceptions import PositionSizingError

SEED_TABLE = [
    ((1, 0.30), 0), ((1, 1.00), 1), ((10, 0.30), 3), ((100, 0.25), 25), ((1, 0.10), 0), ((1, 0.50), 0),
    ((2, 0.50), 1), ((3, 0.33), 1), ((5, 0.20), 1), ((10, 0.10), 1), ((1, 0.60), 0), ((3, 0.90), 2),
    ((0, 0.5), 0), ((15, 0.10), 1),
]


@pytest.mark.parametrize(("args", "expected"), SEED_TABLE, ids=[f"{a[0]}x{a[1]}" for a, _ in SEED_TABLE])
def test_the_seed_table_holds(args: tuple[int, float], expected: int) -> None:
    assert calculate_close_quantity(*args) == expected


def test_one_lot_at_30pct_skips_instead_of_closing_all() -> None:
    assert calculate_close_quantity(1, 0.30) == 0


@pytest.mark.parametrize(("quantity", "take", "expected"), [(25, 0.14, 3), (50, 0.07, 3), (50, 0.55, 27)])
def test_a_half_rounds_down_even_when_the_float_product_is_a_hair_above_it(quantity: int, take: float,
                                                                           expected: int) -> None:
    assert quantity * take > expected + 0.5  # e.g. 25 x 0.14 is 3.5000000000000004 in floats
    assert calculate_close_quantity(quantity, take) == expected


def test_a_partial_level_never_closes_the_whole_position() -> None:
    assert calculate_close_quantity(3, 0.99) == 2
    assert calculate_close_quantity(2, 0.80) == 1


def test_min_close_above_the_target_skips_the_level() -> None:
    assert calculate_close_quantity(10, 0.30, min_close=4) == 0
    assert calculate_close_quantity(10, 0.30, min_close=3) == 3


@pytest.mark.parametrize(("quantity", "take", "min_close"), [
    (-1, 0.5, 1), (1, 0.0, 1), (1, -0.1, 1), (1, 1.01, 1), (1, float("nan"), 1), (1.5, 0.5, 1),
    (True, 0.5, 1), (1, 0.5, 0), (1, "0.5", 1),
])
def test_out_of_range_inputs_raise_a_value_error(quantity: object, take: object, min_close: object) -> None:
    with pytest.raises(PositionSizingError) as raised:
        calculate_close_quantity(quantity, take, min_close)  # type: ignore[arg-type]
    assert isinstance(raised.value, ValueError)


@given(st.integers(0, 100_000), st.floats(0.0001, 0.9999))
def test_a_partial_level_closes_at_least_zero_and_less_than_the_position(quantity: int, take: float) -> None:
    result = calculate_close_quantity(quantity, take)
    assert 0 <= result < max(quantity, 1)
    assert result == 0 or result < quantity


@given(st.integers(1, 100_000), st.floats(0.0001, 0.9999))
def test_the_result_is_the_nearest_contract_or_a_skip(quantity: int, take: float) -> None:
    result = calculate_close_quantity(quantity, take)
    target = quantity * take
    if result:
        assert abs(result - target) <= 0.5 + 1e-6 or result == quantity - 1


@given(st.integers(0, 100_000))
def test_take_all_closes_everything(quantity: int) -> None:
    assert calculate_close_quantity(quantity, 1.0) == quantity
