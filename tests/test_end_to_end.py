"""Run main.py's algorithm through the harness and check what a user would: it traded, it got
fills, and the snapshot it wrote parses with the shared schema."""

from __future__ import annotations

import pytest

from harness.runner import run
from models.audit import AuditAction
from models.exceptions import ConfigurationError
from utils.audit_reader import read_storage_folder_trail
from utils.object_store_schema import STATE_KEY, parse_state_snapshot


def test_a_few_days_open_a_position_receive_fills_and_write_a_parsable_snapshot(tmp_path):
    engine, result = run(days=4, start=None, seed=7, storage=tmp_path / "storage", overrides={})

    counters = engine.algorithm.adapter.bot.counters
    assert counters["positions_opened"] >= 1
    assert result.fills >= 1 and counters["fills"] == result.fills
    assert result.slices == 4 * 390
    snapshot = parse_state_snapshot((tmp_path / "storage" / STATE_KEY).read_text())
    assert snapshot.ticker == "GOOG" and snapshot.mode == "backtest"
    assert snapshot.algorithm_time.year == 2015  # the algorithm's clock, not the wall clock
    assert snapshot.positions
    for position in snapshot.positions:  # the bot's book matches LEAN's portfolio, contract by contract
        held = engine.algorithm.portfolio[engine.algorithm.adapter.broker.symbol(position.symbol)]
        assert held.quantity == position.quantity
        assert position.greeks_source in ("market", "calculated")
    assert snapshot.equity.total_portfolio_value == pytest.approx(result.end_equity)


def test_the_audit_trail_follows_each_trade_with_one_correlation_id(tmp_path):
    engine, _ = run(days=4, start=None, seed=7, storage=tmp_path / "storage", overrides={})

    trail = read_storage_folder_trail(tmp_path / "storage")
    assert not trail.torn and not trail.corrupt
    actions = [e.action for e in trail.entries]
    assert actions[0] == AuditAction.SYSTEM_START and actions[-1] == AuditAction.SYSTEM_STOP
    assert all(e.timestamp.year == 2015 for e in trail.entries)  # algorithm time, not the wall clock
    opens = [e for e in trail.entries if e.action == AuditAction.TRADE_OPEN]
    assert opens
    for opened in opens:
        story = [e.action for e in trail.entries if e.correlation_id == opened.correlation_id]
        assert story[0] == AuditAction.ORDER_SUBMIT and AuditAction.ORDER_FILL in story
    bot = engine.algorithm.adapter.bot
    closes = [e for e in trail.entries if e.action == AuditAction.TRADE_CLOSE]
    assert len(opens) == bot.counters["positions_opened"] and len(closes) == bot.counters["positions_closed"]


def test_the_expiry_guard_closes_and_the_bot_reopens_over_a_month(tmp_path):
    engine, _ = run(days=21, start=None, seed=7, storage=tmp_path / "s", overrides={})

    bot = engine.algorithm.adapter.bot
    counters = bot.counters
    assert counters["positions_closed"] >= 1
    assert counters["positions_opened"] == counters["positions_closed"] + len(bot.book.open_positions())
    assert counters["component_failures"] == 0 and counters["unmatched_events"] == 0


def test_an_invalid_parameter_stops_initialize_naming_it(tmp_path):
    with pytest.raises(ConfigurationError, match="entry_target_delta"):
        run(days=1, start=None, seed=1, storage=tmp_path, overrides={"entry_target_delta": "2"})


def test_same_seed_same_result(tmp_path):
    _, first = run(days=3, start=None, seed=11, storage=tmp_path / "a", overrides={})
    _, second = run(days=3, start=None, seed=11, storage=tmp_path / "b", overrides={})
    assert first.end_equity == second.end_equity and first.fills == second.fills


def test_a_month_takes_partial_profits_and_the_book_matches_lean_every_day(tmp_path):
    checks: list[str] = []
    holder: dict[str, object] = {}

    def compare(day: int, total: int) -> None:  # after each trading day: bot's book == LEAN's portfolio
        engine = holder["engine"]
        adapter = engine.algorithm.adapter  # type: ignore[attr-defined]
        for key in {p.symbol for p in adapter.bot.book.positions.values()}:
            bot_quantity = sum(p.quantity for p in adapter.bot.book.open_positions() if p.symbol == key)
            lean_quantity = engine.algorithm.portfolio[adapter.broker.symbol(key)].quantity  # type: ignore[attr-defined]
            if bot_quantity != lean_quantity:
                checks.append(f"day {day}: {key} bot {bot_quantity} LEAN {lean_quantity}")

    from harness import runner as harness_runner

    original = harness_runner.HarnessEngine.__init__

    def remember(self, *args, **kwargs):  # capture the engine so the daily hook can read it
        original(self, *args, **kwargs)
        holder["engine"] = self

    harness_runner.HarnessEngine.__init__ = remember  # type: ignore[method-assign]
    try:
        engine, _ = run(days=21, start=None, seed=4, storage=tmp_path / "s", overrides={}, on_day=compare)
    finally:
        harness_runner.HarnessEngine.__init__ = original  # type: ignore[method-assign]
    bot = engine.algorithm.adapter.bot
    assert checks == []
    assert bot.counters["profit_takes"] >= 2 and bot.counters["unmatched_events"] == 0
    trail = read_storage_folder_trail(tmp_path / "s")
    assert sum(e.action == AuditAction.PROFIT_TAKE for e in trail.entries) == bot.counters["profit_takes"]
    running: dict[str, int] = {}  # per contract, fill by fill: a close never exceeds what is held
    for entry in (e for e in trail.entries if e.action == AuditAction.ORDER_FILL):
        key, quantity = entry.metadata["symbol"], entry.metadata["fill_quantity"]
        before = running.get(key, 0)
        after = before + quantity
        assert before == 0 or after == 0 or (after > 0) == (before > 0), f"{key} flipped: {before} -> {after}"
        running[key] = after
    held = {k: v for k, v in running.items() if v}
    assert held == {p.symbol: p.quantity for p in bot.book.open_positions()}
