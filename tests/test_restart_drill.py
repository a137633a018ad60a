"""The restart drill (harness/restart.py): a live restart mid-run, as LEAN does it — the brokerage
keeps holdings, cash and working orders, the Object Store keeps its files, a new instance runs a
fresh initialize(). After any number of restarts the bot's book equals the account."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from harness.brokerage import PartialFill
from harness.engine import HarnessEngine
from harness.lean_enums import OrderStatus
from harness.restart import Drill, Hook, drill_setup
from harness.runner import main, run

RESTART = datetime(2015, 12, 23, 12, 0)


def account(engine: HarnessEngine) -> dict[str, int]:
    portfolio = engine.algorithm.portfolio
    return {str(h._security.symbol.value): round(h.quantity) for h in portfolio._holdings()}


def drilled(tmp_path: Path, moments: list[datetime], days: int = 3, while_down: Hook | None = None,
            before_first_slice: Hook | None = None, **kwargs: object) -> tuple[HarnessEngine, Drill]:
    args, drills = drill_setup(moments, while_down, before_first_slice)
    configure = kwargs.pop("configure", None)

    def both(engine: HarnessEngine) -> None:
        if callable(configure):
            configure(engine)
        args["configure"](engine)

    overrides = kwargs.pop("overrides", {})
    engine, _ = run(days=days, start=None, seed=7, storage=tmp_path, overrides=overrides, live_mode=True,
                    configure=both, **kwargs)  # type: ignore[arg-type]
    return engine, drills[0]


def test_two_restarts_keep_the_position_and_the_book_equals_the_account(tmp_path: Path) -> None:
    engine, drill = drilled(tmp_path, [RESTART, datetime(2015, 12, 24, 10, 30)])
    assert [r.at for r in drill.restarts] == [RESTART, datetime(2015, 12, 24, 10, 30)]
    assert drill.restarts[0].restored and not drill.restarts[0].conflicts
    bot = engine.algorithm.adapter.bot
    assert bot.ledger.held() == account(engine)
    assert bot.counters["unmatched_events"] == 0


def _hold_the_entry_open(engine: HarnessEngine) -> None:
    engine.brokerage.script.add(lambda order: order.tag.startswith("bot:C"), PartialFill(0.5, remainder="never"))


def test_an_entry_working_at_the_restart_is_cancelled_before_anything_is_sent(tmp_path: Path) -> None:
    engine, drill = drilled(tmp_path, [datetime(2015, 12, 23, 9, 32)], days=1, configure=_hold_the_entry_open)
    (record,) = drill.restarts
    assert record.count("cancel") == 1 and record.orders[0]["purpose"] == "entry"
    bot = engine.algorithm.adapter.bot
    assert bot.ledger.held() == account(engine) and bot.ledger.pending() == {}
    assert not [o for o in engine.brokerage.orders.values() if o._is_open and o.tag.startswith("bot:C")]


def test_fault1_through_the_drill_a_daily_loss_halt_survives_a_same_day_restart(tmp_path: Path) -> None:
    args, drills = drill_setup([RESTART])
    engine, _ = run(days=1, start=None, seed=7, storage=tmp_path, live_mode=True,
                    overrides={"risk_max_daily_loss_pct": "0.0005"}, configure=args["configure"])
    (record,) = drills[0].restarts
    bot = engine.algorithm.adapter.bot
    assert record.trading_state == "halted" and bot.breaker.state.value == "halted"
    assert bot.breaker.session_start_equity == pytest.approx(100_000.0)  # not the equity at the restart


def test_the_runner_prints_what_each_restart_reconciled(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--days", "1", "--storage", str(tmp_path / "s"), "--fresh", "--restart-at", "2015-12-23T12:00",
                 "--log-file", str(tmp_path / "log.txt")]) == 0
    out = capsys.readouterr().out
    assert "restart           2015-12-23 12:00: positions 1 restored" in out


def test_the_drill_refuses_a_backtest(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="live mode"):
        run(days=1, start=None, seed=7, storage=tmp_path, overrides={},
            configure=lambda engine: Drill(engine, [RESTART]).install())


def _entry_fills_after_its_cancel(engine: HarnessEngine) -> None:
    engine.brokerage.script.add(lambda order: order.tag.startswith("bot:C"), PartialFill(0.0, remainder="after_cancel"))


def test_a_late_fill_of_the_previous_runs_cancelled_entry_becomes_a_bot_managed_position(tmp_path: Path) -> None:
    """Issue 13, fault 11 across a restart: reconciliation cancels the old run's entry, LEAN reports
    its fill after CANCELED and books it; the new instance books it too, as a late fill of that entry."""
    engine, drill = drilled(tmp_path, [datetime(2015, 12, 23, 9, 32)], days=1, configure=_entry_fills_after_its_cancel)
    (record,) = drill.restarts
    (cancelled,) = [o for o in record.orders if o["decision"] == "cancel"]
    assert cancelled["purpose"] == "entry" and cancelled["remaining"] != 0
    old = engine.brokerage.orders[cancelled["lean_order_id"]]
    assert old.status == OrderStatus.FILLED and round(old._filled_quantity) == cancelled["remaining"]  # LEAN booked it
    bot = engine.algorithm.adapter.bot
    assert bot.ledger.held() == account(engine) and bot.counters["unmatched_events"] == 0
    (late,) = [p for p in bot.book.positions.values() if p.correlation_id == cancelled["client_id"]]
    assert late.quantity == cancelled["remaining"]
    store = engine.object_store
    audit = [json.loads(line) for key in store.keys if "audit" in str(key) for line in store.read(key).splitlines()]
    (opened,) = [e for e in audit if e["reason"] == "late_fill"]
    assert opened["action"] == "trade.open" and opened["resource_id"] == late.id
    assert opened["metadata"]["purpose"] == "entry" and opened["metadata"]["previous_run"] is True
