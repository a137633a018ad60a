"""A roll whose net mid rounds to 0.00 is never sent as a zero-limit combo: LEAN's
combo_limit_order throws ArgumentException("ComboLimitOrder requires a limit price") for a limit
of exactly 0 [Algorithm/QCAlgorithm.Trading.cs], and the harness does the same."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pytest

from execution.rolls.roll_manager import Roll, RollManager
from harness.brokerage import HarnessBrokerage
from harness.lean_orders import Leg
from harness.lean_symbols import Symbol


class _Gateway:
    def __init__(self) -> None:
        self.limits: list[float | None] = []

    def submit_combo(self, legs: Any, ratios: Any, quantity: int, limit: float | None, now: datetime) -> Any:
        self.limits.append(limit)
        return SimpleNamespace(accepted=True, order_ids=(1, 2))


@pytest.mark.parametrize("net_mid", [0.0, 0.004, -0.004])
def test_a_roll_at_a_net_mid_of_zero_is_sent_one_cent_of_debit(net_mid: float) -> None:
    gateway = _Gateway()
    manager = RollManager(SimpleNamespace(notes=()), SimpleNamespace(gateway=gateway))  # type: ignore[arg-type]
    target = SimpleNamespace(close_symbol="OLD", close_ratio=1, symbol="NEW", open_ratio=-1, quantity=2,
                             to_dict=lambda: {})
    roll = Roll("R1", "P1", target, datetime(2015, 12, 24, 10, 0))  # type: ignore[arg-type]

    manager._send(roll, datetime(2015, 12, 24, 10, 0), round(net_mid, 2))

    assert gateway.limits == [0.01]


def test_a_roll_at_a_real_price_or_at_market_is_sent_unchanged() -> None:
    gateway = _Gateway()
    manager = RollManager(SimpleNamespace(notes=()), SimpleNamespace(gateway=gateway))  # type: ignore[arg-type]
    target = SimpleNamespace(close_symbol="OLD", close_ratio=1, symbol="NEW", open_ratio=-1, quantity=2,
                             to_dict=lambda: {})
    roll = Roll("R1", "P1", target, datetime(2015, 12, 24, 10, 0))  # type: ignore[arg-type]

    manager._send(roll, datetime(2015, 12, 24, 10, 0), -1.25)
    manager._send(roll, datetime(2015, 12, 24, 10, 0), None)

    assert gateway.limits == [-1.25, None]


def test_the_harness_throws_like_lean_on_a_zero_limit_combo() -> None:
    brokerage = HarnessBrokerage.__new__(HarnessBrokerage)
    leg = Leg.create(Symbol._create_equity("GOOG"), 1)

    with pytest.raises(ValueError, match="ComboLimitOrder requires a limit price"):
        brokerage.combo_order([leg], 1, 0.0, "")
