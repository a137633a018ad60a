"""Issue 19: manage_order = exits_first | rolls_first (execution/rolls/step_order.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from execution.rolls.step_order import due_for_roll
from harness.runner import run
from models.audit import AuditAction
from models.bot_config import BotConfig
from models.exceptions import ConfigurationError
from models.orders import OrderPurpose
from models.roll_config import RollConfig
from tests.test_position_manager import NOW, SYMBOL, manager, open_short, quote
from utils.audit_reader import read_storage_folder_trail


def test_manage_order_parses_and_defaults_to_exits_first():
    assert BotConfig.from_parameters({}.get).manage_order == "exits_first"
    assert BotConfig.from_parameters({"manage_order": "rolls_first"}.get).manage_order == "rolls_first"
    with pytest.raises(ConfigurationError, match=r"manage_order.*exits_first, rolls_first"):
        BotConfig.from_parameters({"manage_order": "whatever"}.get)


def test_a_position_waiting_for_its_roll_gets_no_ladder_or_expiry_guard_but_the_stop_loss():
    pm, sink = manager(profit_ladder="0.50:0.30", exit_dte="5", stop_loss_pct="1.0")
    position = open_short(pm, quantity=10, price=10.0)
    pm.refresh(NOW, 750.0, {SYMBOL: quote(4.0)})  # +60 %: the ladder would fire

    assert pm.decide_exits(NOW, {}, {position.id}) == [] and AuditAction.PROFIT_TAKE not in sink.actions()
    pm.refresh(NOW, 750.0, {SYMBOL: quote(21.0)})  # -110 %: the stop-loss fires even so
    (stop,) = pm.decide_exits(NOW, {}, {position.id})
    assert stop.purpose == OrderPurpose.STOP_LOSS and stop.quantity == 10


def test_due_for_roll_lists_what_the_rules_roll_and_skips_what_was_attempted_today():
    pm, _ = manager()
    position = open_short(pm, quantity=2, price=10.0)
    position.mark_price = 0.5  # +95 %: roll_pnl 0.9 fires
    config = RollConfig()
    today = NOW.date()

    assert due_for_roll([position], {}, today, config, 750.0, lambda _: False) == {position.id}
    assert due_for_roll([position], {}, today, config, 750.0, lambda _: True) == set()
    assert due_for_roll([position], {}, today, RollConfig(enabled=False), 750.0, lambda _: False) == set()
    position.mark_price = 9.0
    assert due_for_roll([position], {}, today - timedelta(days=40), config, 750.0, lambda _: False) == set()


def run_order(tmp_path: Path, order: str):
    # the ladder and the P&L roll trigger at the same gain: the order decides which acts
    overrides = {"manage_order": order, "profit_ladder": "0.2:0.5", "roll_pnl": "0.2"}
    engine, _ = run(days=21, start=None, seed=7, storage=tmp_path, overrides=overrides)
    return engine.algorithm.adapter.bot, read_storage_folder_trail(tmp_path).entries


def test_exits_first_takes_profit_and_rolls_what_is_left(tmp_path: Path) -> None:
    bot, _ = run_order(tmp_path, "exits_first")

    assert bot.counters["profit_takes"] >= 1 and bot.counters["rolls_completed"] >= 1
    first = next(r for r in bot.rolls.rolls.values() if r.phase.value == "completed")
    assert first.target.quantity < 3  # part was closed by the ladder before the roll


def test_rolls_first_rolls_every_contract_and_the_ladder_waits(tmp_path: Path) -> None:
    bot, trail = run_order(tmp_path, "rolls_first")

    assert bot.counters["profit_takes"] == 0 and bot.counters["rolls_completed"] >= 1
    assert not [e for e in trail if e.action == AuditAction.PROFIT_TAKE]  # nothing audited that never went out
    first = next(r for r in bot.rolls.rolls.values() if r.phase.value == "completed")
    assert first.target.quantity == 3  # entry_quantity: the whole position rolled
