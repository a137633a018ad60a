"""Live restart (state_restore): positions and breaker trips come back, reconciled with LEAN."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from execution.risk.circuit_breaker import TradingState
from execution.trading_bot import TradingBot
from harness.runner import run
from models.audit import AuditAction
from models.bot_config import BotConfig
from models.orders import OrderRequest
from tests.test_trading_bot import FakeBroker
from utils.audit_logger import AuditLogger, MemoryAuditSink
from utils.object_store_schema import STATE_KEY, EquitySummary, PositionSnapshot, StateSnapshot

NOW = datetime(2016, 1, 5, 14, 31, tzinfo=UTC)
HALT = {"state": "halted", "consecutive_losses": 0, "high_watermark": 101_000.0, "active_trips": [
    {"trigger": "manual_halt", "value": 1.0, "threshold": 0.0, "state": "halted", "at": "2016-01-04T15:00:00+00:00",
     "detail": "user:ops: earnings"}]}


class Broker(FakeBroker):
    """The bot's test broker, refusing to trade: restoring must not send anything."""

    def submit(self, request: OrderRequest) -> list[int]:
        raise AssertionError("restoring must not trade")

    def submit_combo(self, *args: object) -> list[int]:
        raise AssertionError("restoring must not trade")


def saved(pid: str, symbol: str, quantity: int, status: str = "open") -> PositionSnapshot:
    return PositionSnapshot(id=pid, symbol=symbol, underlying="GOOG", right="put", strike=700.0,
                            expiry="2016-02-19", side="short", quantity=quantity, entry_price=5.0, mark_price=4.0,
                            multiplier=100.0, unrealized_pnl=0.0, realized_pnl=120.0, fees=1.3,
                            opened_at="2016-01-04T15:00:00", status=status, correlation_id=f"C-{pid}",
                            ladder_levels_done=[0], roll_history=[{"roll_id": "R00001", "from": "X", "to": symbol}])


def snapshot(positions: list[PositionSnapshot], breaker: dict | None = None) -> StateSnapshot:
    return StateSnapshot(algorithm_time=NOW, mode="live", ticker="GOOG", underlying_price=750.0,
                         equity=EquitySummary(100_000.0, 100_000.0, 0.0, 0.0), positions=positions, counters={},
                         parameters={}, risk={"circuit_breaker": breaker} if breaker else {})


def bot() -> tuple[TradingBot, MemoryAuditSink]:
    sink = MemoryAuditSink()
    return TradingBot(BotConfig.from_parameters({}.get), Broker(), AuditLogger(lambda: NOW, [sink])), sink


def test_open_positions_come_back_at_what_lean_holds_and_ids_continue() -> None:
    restored_bot, sink = bot()
    state = snapshot([saved("P00007", "A", -3), saved("P00008", "B", -2), saved("P00009", "C", 0, "closed")])
    held = {"A": -2, "B": -5}  # LEAN holds less of A (the bot manages 2) and more of B (the bot manages its 2)
    report = restored_bot.restore(state, lambda p: held.get(p.symbol), NOW)
    assert report.restored == ["P00007", "P00008"]
    quantities = {p.symbol: p.quantity for p in restored_bot.book.open_positions()}
    assert quantities == {"A": -2, "B": -2}
    assert restored_bot.book.positions["P00007"].correlation_id == "C-P00007"
    assert restored_bot.book.positions["P00007"].ladder_levels_done == {0}  # a taken level does not fire again
    assert restored_bot.book.positions["P00007"].roll_history[0]["roll_id"] == "R00001"
    assert restored_bot.book.new_id() == "P00010"
    assert sink.actions() == [AuditAction.STATE_RESTORE]


def test_a_contract_lean_does_not_hold_is_dropped_and_a_sign_conflict_suspends_entries() -> None:
    restored_bot, _ = bot()
    report = restored_bot.restore(snapshot([saved("P00001", "A", -1), saved("P00002", "B", -1)]),
                           lambda p: {"A": None, "B": 4}[p.symbol], NOW)
    assert report.dropped == ["P00001"] and report.conflicts == ["P00002"]
    assert restored_bot.book.open_positions() == [] and restored_bot.entries_suspended


def test_a_halt_survives_the_restart_until_a_person_resets_it() -> None:
    restored_bot, _ = bot()
    restored_bot.restore(snapshot([], HALT), lambda p: None, NOW)
    assert restored_bot.breaker.state is TradingState.HALTED and not restored_bot.wants_candidates()
    restored_bot.breaker.reset("user:ops", "human", "earnings out")
    assert restored_bot.breaker.state is TradingState.ACTIVE


def write_state(storage: Path, state: StateSnapshot) -> None:
    path = storage / STATE_KEY
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(state.to_json())


def test_live_mode_restores_the_breaker_and_a_backtest_ignores_an_old_snapshot(tmp_path: Path) -> None:
    write_state(tmp_path / "live", snapshot([saved("P00001", "GOOG  160219P00700000", -1)], HALT))
    write_state(tmp_path / "backtest", snapshot([saved("P00001", "GOOG  160219P00700000", -1)], HALT))
    live, _ = run(days=1, start=None, seed=7, storage=tmp_path / "live", overrides={}, live_mode=True)
    backtest, _ = run(days=1, start=None, seed=7, storage=tmp_path / "backtest", overrides={})
    live_bot, backtest_bot = live.algorithm.adapter.bot, backtest.algorithm.adapter.bot
    assert live_bot.breaker.state is TradingState.HALTED and live_bot.counters["positions_opened"] == 0
    assert live_bot.book.positions == {}  # the harness portfolio holds nothing: the saved position is dropped
    assert live_bot.run_id and backtest_bot.run_id == ""
    assert backtest_bot.counters["positions_opened"] >= 1
