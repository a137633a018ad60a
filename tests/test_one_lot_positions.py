"""1-contract positions, a premium of 0 and ids after a restore (issue 13: the mutation run showed
these untested in execution/bot_managed_positions.py)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from execution.bot_managed_positions import BotManagedPosition, PositionBook
from models.bot_config import Right

NOW = datetime(2016, 1, 4, 10, 0)


def one_lot(quantity: int, entry: float = 2.0, mark: float | None = 3.0) -> BotManagedPosition:
    return BotManagedPosition("P00001", "P700", "GOOG", Right.PUT, 700.0, date(2016, 2, 5), 100.0, NOW,
                              quantity=quantity, entry_price=entry, mark_price=mark, gamma=0.02)


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
