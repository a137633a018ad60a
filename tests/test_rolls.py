"""Rolls in the harness (issue 4): one combo order of two legs, followed leg by leg, by roll_id."""

from __future__ import annotations

from pathlib import Path

from execution.risk.circuit_breaker import TradingState
from harness.brokerage import PartialFill
from harness.engine import HarnessEngine
from harness.runner import run
from models.audit import AuditAction
from utils.audit_reader import read_storage_folder_trail

DAYS, SEED = 21, 7  # the default market: an entry around 30 DTE reaches roll_dte 10 in mid-January


def roll_story(storage: Path, roll_id: str) -> list[AuditAction]:
    return [e.action for e in read_storage_folder_trail(storage).entries if e.correlation_id == roll_id]


def test_the_default_backtest_rolls_one_position_into_a_later_expiry_as_one_combo(tmp_path: Path) -> None:
    engine, _ = run(days=DAYS, start=None, seed=SEED, storage=tmp_path, overrides={})
    bot = engine.algorithm.adapter.bot
    (roll,) = [r for r in bot.rolls.rolls.values() if r.phase.value == "completed"]
    old = bot.book.positions[roll.position_id]
    assert roll.new_position_id is not None
    new = bot.book.positions[roll.new_position_id]
    assert new.expiry > old.expiry and new.right == old.right
    assert -roll.close_goal == roll.open_goal == new.quantity or new.status.value == "closed"
    assert new.roll_history and new.roll_history[-1]["roll_id"] == roll.roll_id
    legs = [o for o in engine.brokerage.orders.values() if o.tag == f"bot:{roll.roll_id}"]
    groups = {o._group_id for o in legs}
    assert len(legs) % 2 == 0 and None not in groups  # combo orders only, two legs each
    story = roll_story(tmp_path, roll.roll_id)
    assert story[0] == AuditAction.ROLL_START and AuditAction.ROLL_COMPLETE in story
    last_leg = max(i for i, action in enumerate(story) if action == AuditAction.ROLL_LEG_FILL)
    assert story.count(AuditAction.ROLL_LEG_FILL) >= 2 and story.index(AuditAction.ROLL_COMPLETE) > last_leg
    assert old.realized_pnl != 0 and bot.counters["rolls_completed"] == 1


def _half_fill_the_new_leg(engine: HarnessEngine) -> None:
    engine.brokerage.script.add(lambda order: order.tag.startswith("bot:R") and order.quantity < 0,
                                PartialFill(0.5, remainder="never"), uses=10)


def test_a_leg_that_fills_only_in_part_is_repaired_and_trading_turns_reduce_only(tmp_path: Path) -> None:
    engine, _ = run(days=DAYS, start=None, seed=SEED, storage=tmp_path, overrides={},
                    configure=_half_fill_the_new_leg)
    bot = engine.algorithm.adapter.bot
    failed = [r for r in bot.rolls.rolls.values() if r.phase.value == "failed"]
    assert failed
    roll = failed[0]
    old = bot.book.positions[roll.position_id]
    assert old.quantity == 0  # the rest of the old contract was closed, nothing flipped
    assert bot.breaker.state is TradingState.REDUCING
    story = roll_story(tmp_path, roll.roll_id)
    assert AuditAction.ROLL_FAIL in story and AuditAction.ROLL_LEG_FILL in story
    trail = read_storage_folder_trail(tmp_path).entries
    trips = [e.after_state["trigger"] for e in trail if e.action == AuditAction.CIRCUIT_BREAKER_TRIP and e.after_state]
    assert "roll_leg_failed" in trips


def test_no_target_with_close_if_unable_closes_the_position(tmp_path: Path) -> None:
    window = {"roll_target_min_dte": "400", "roll_target_max_dte": "500"}  # nothing listed that far
    engine, _ = run(days=DAYS, start=None, seed=SEED, storage=tmp_path,
                    overrides={**window, "roll_close_if_unable_to_roll": "true"})
    bot = engine.algorithm.adapter.bot
    trail = read_storage_folder_trail(tmp_path).entries
    no_target = [e for e in trail if e.action == AuditAction.ROLL_FAIL and e.reason == "ROLL_NO_TARGET"]
    assert no_target and no_target[0].metadata["then"] == "close"
    closes = [e for e in trail if e.action == AuditAction.TRADE_CLOSE and e.reason == "roll"]
    assert closes and bot.counters["rolls_completed"] == 0


def test_no_target_without_close_if_unable_holds_and_the_expiry_guard_still_protects(tmp_path: Path) -> None:
    window = {"roll_target_min_dte": "400", "roll_target_max_dte": "500"}
    run(days=DAYS, start=None, seed=SEED, storage=tmp_path,
        overrides={**window, "roll_close_if_unable_to_roll": "false"})
    trail = read_storage_folder_trail(tmp_path).entries
    no_target = [e for e in trail if e.action == AuditAction.ROLL_FAIL and e.reason == "ROLL_NO_TARGET"]
    assert no_target and no_target[0].metadata["then"] == "hold"
    assert not [e for e in trail if e.action == AuditAction.TRADE_CLOSE and e.reason == "roll"]
    assert any(e.action == AuditAction.EXPIRY_CLOSE for e in trail)


def test_a_roll_the_gateway_refuses_is_audited_and_the_position_stays(tmp_path: Path) -> None:
    overrides = {"risk_max_order_value": "4000", "profit_ladder": "0.95:0.5"}  # entries fit, the new leg not
    engine, _ = run(days=DAYS, start=None, seed=SEED, storage=tmp_path, overrides=overrides)
    bot = engine.algorithm.adapter.bot
    (refused,) = [r for r in bot.rolls.rolls.values()][:1]
    assert refused.phase.value == "failed" and refused.close_filled == 0
    story = [e for e in read_storage_folder_trail(tmp_path).entries if e.correlation_id == refused.roll_id]
    assert [e.action for e in story][:2] == [AuditAction.ROLL_START, AuditAction.ROLL_FAIL]
    assert "order_value" in (story[1].reason or "")
    assert AuditAction.ROLL_LEG_FILL not in [e.action for e in story]  # nothing was sent
