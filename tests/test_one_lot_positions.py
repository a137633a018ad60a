"""1-contract positions, premiums at or under $1, fills at $0, multi-contract closes and ids after
a restore (issue 13: the mutation run showed these untested in execution/bot_managed_positions.py)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from execution.bot_managed_positions import BotManagedPosition, FillRejected, PositionBook, calculate_close_quantity
from models.bot_config import Right

NOW = datetime(2016, 1, 4, 10, 0)


def one_lot(quantity: int, entry: float = 2.0, mark: float | None = 3.0) -> BotManagedPosition:
    return BotManagedPosition("P00001", "P700", "GOOG", Right.PUT, 700.0, date(2016, 2, 5), 100.0, NOW,
                              quantity=quantity, entry_price=entry, mark_price=mark, gamma=0.02)


def flat() -> BotManagedPosition:
    """A position as the bot creates it on its entry's first fill: nothing held yet."""
    return one_lot(0, entry=0.0, mark=None)


def test_a_long_one_lot_gains_when_the_mark_rises_and_a_short_one_loses() -> None:
    long, short = one_lot(1), one_lot(-1)
    assert long.side == "long" and short.side == "short"
    assert long.pnl_pct == pytest.approx(0.5) and short.pnl_pct == pytest.approx(-0.5)
    assert long.unrealized_pnl == pytest.approx(100.0) and short.unrealized_pnl == pytest.approx(-100.0)
    assert long.position_gamma == pytest.approx(2.0)
    assert long.days_to_expiry(date(2016, 2, 1)) == 4


def test_a_premium_of_zero_has_no_pnl_percentage() -> None:
    assert one_lot(1, entry=0.0).pnl_pct is None


def test_ids_continue_after_the_highest_restored_and_never_go_back() -> None:
    book = PositionBook()
    book.continue_after(5)
    assert book.new_id() == "P00006"
    book.continue_after(3)
    assert book.new_id() == "P00007"


def test_a_premium_under_one_dollar_has_a_pnl_percentage() -> None:
    assert one_lot(1, entry=0.5, mark=0.75).pnl_pct == pytest.approx(0.5)
    assert one_lot(-1, entry=1.0, mark=0.25).pnl_pct == pytest.approx(0.75)


def test_position_gamma_scales_with_the_contracts_held() -> None:
    assert one_lot(-3).position_gamma == pytest.approx(-6.0)  # 0.02 x -3 contracts x 100


@pytest.mark.parametrize(("held", "fill"), [(1, -2), (-1, 2), (2, -3)])
def test_a_fill_that_would_flip_a_position_is_refused_and_changes_nothing(held: int, fill: int) -> None:
    position = one_lot(held)
    with pytest.raises(FillRejected):
        position.apply_fill(fill, 1.0, 0.65, NOW)
    assert (position.quantity, position.entry_price, position.realized_pnl) == (held, 2.0, 0.0)


@pytest.mark.parametrize("quantity", [1, -1, 3, -3])
def test_the_first_fill_opens_the_position_at_the_fill_price_without_realised_pnl(quantity: int) -> None:
    position = flat()
    assert position.apply_fill(quantity, 1.25, 0.65, NOW) == 0.0
    assert (position.quantity, position.entry_price, position.realized_pnl) == (quantity, 1.25, 0.0)
    assert position.side == ("long" if quantity > 0 else "short") and position.status.value == "open"


def test_closing_a_one_lot_short_at_zero_keeps_the_whole_premium_and_closes_it() -> None:
    position = one_lot(-1, entry=2.0)
    assert position.apply_fill(1, 0.0, 0.0, NOW) == pytest.approx(200.0)  # a worthless option bought back at $0
    assert position.quantity == 0 and position.status.value == "closed" and position.closed_at == NOW


def test_closing_a_one_lot_long_realises_the_difference() -> None:
    position = one_lot(1, entry=2.0)
    assert position.apply_fill(-1, 2.5, 0.65, NOW) == pytest.approx(50.0)
    assert position.realized_pnl == pytest.approx(50.0) and position.status.value == "closed"


def test_adding_one_contract_averages_the_entry_price_and_realises_nothing() -> None:
    position = one_lot(2, entry=2.0)
    assert position.apply_fill(1, 3.5, 0.65, NOW) == 0.0
    assert position.quantity == 3 and position.entry_price == pytest.approx(2.5)


def test_a_multi_contract_partial_close_keeps_the_entry_price_of_what_is_left() -> None:
    position = one_lot(-3, entry=2.0)
    assert position.apply_fill(2, 0.5, 1.30, NOW) == pytest.approx(300.0)  # 1.50 x 2 contracts x 100
    assert (position.quantity, position.entry_price, position.status.value) == (-1, 2.0, "open")
    assert position.fees == pytest.approx(1.30)


@pytest.mark.parametrize("quantity", [1, -1, 4, -4])
def test_a_closed_position_keeps_the_side_it_had(quantity: int) -> None:
    position = one_lot(quantity)
    position.apply_fill(-quantity, 1.0, 0.65, NOW)
    assert position.quantity == 0 and position.side == ("long" if quantity > 0 else "short")


@pytest.mark.parametrize(("held", "take_pct", "closes"), [(10250, 0.55, 5637), (42_238_650, 0.55, 23_231_257)])
def test_a_half_rounds_down_however_many_contracts_are_held(held: int, take_pct: float, closes: int) -> None:
    # 10250 x 0.55 is 5637.500000000001 in floats (5637.5 exactly): still a half
    assert calculate_close_quantity(held, take_pct) == closes
