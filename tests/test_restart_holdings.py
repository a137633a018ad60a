"""Restart against LEAN's whole Portfolio (issue 13): holdings the snapshot does not explain, and
order events LEAN delivers before the first slice, through the restart drill (harness/restart.py).

A live LEAN restart loads the brokerage's holdings and open orders after ``initialize()``; an
order of the previous run may have filled while no instance ran (LEAN books it, nobody hears of
it), a person may have traded, and LEAN may deliver order events on its brokerage thread before
the first slice (``Engine/Setup/BrokerageSetupHandler.cs`` loads holdings and open orders, then
the transaction handler starts). After the restore the exposure ledger equals the account, every
difference is audited, and what the bot cannot explain is flagged and left alone."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from execution.session.holdings import Holding
from execution.session.reconcile import OpenOrder
from execution.trading_bot import TradingBot
from harness.engine import HarnessEngine
from harness.fill_script import PartialFill
from harness.lean_enums import SecurityType
from harness.runner import main
from models.orders import OrderState, OrderUpdate
from tests.test_late_fills import P700
from tests.test_money_path_faults import Broker, new_bot, short_two, stop_loss_working
from tests.test_restart_drill import RESTART, account, drilled
from tests.test_trading_bot import NOW, candidates
from utils.audit_logger import AuditLogger, MemoryAuditSink
from utils.object_store_schema import STATE_KEY, parse_state_snapshot

MARKET = {"order_style": "market"}  # the entry fills 1 of 3 at once; the rest stays open (script)
DOWN_AT = datetime(2015, 12, 23, 9, 35)


def _one_of_three(engine: HarnessEngine) -> None:
    engine.brokerage.script.add(lambda order: order.tag.startswith("bot:C"), PartialFill(0.5, remainder="never"))


def _fill_the_entry(engine: HarnessEngine) -> None:
    brokerage = engine.brokerage
    (order,) = [o for o in brokerage.orders.values() if o._is_open and o.tag.startswith("bot:C")]
    brokerage._hold_open.discard(order.id)
    brokerage._fill(order, order._remaining, brokerage._side_price(order))


def audit_entries(engine: HarnessEngine) -> list[dict[str, Any]]:
    store = engine.object_store
    return [json.loads(line) for key in store.keys if "audit" in str(key) for line in store.read(key).splitlines()]


def test_an_entry_that_filled_while_the_bot_was_down_becomes_its_bot_managed_position(tmp_path: Path) -> None:
    engine, drill = drilled(tmp_path, [DOWN_AT], days=1, configure=_one_of_three, overrides=MARKET,
                            while_down=_fill_the_entry)
    (record,) = drill.restarts
    assert record.resized == [] or "managed -1" in record.resized[0]  # the snapshot knew 1 of the 3
    (adopted,) = record.holdings
    assert adopted["decision"] == "adopt" and adopted["purpose"] == "entry" and adopted["quantity"] == -2
    bot = engine.algorithm.adapter.bot
    assert bot.ledger.held() == account(engine) and bot.flagged == []
    assert bot.counters["unmatched_events"] == 0
    (position,) = [p for p in bot.book.positions.values() if p.symbol == adopted["symbol"]]
    assert position.correlation_id == adopted["client_id"]  # one position: the entry's, grown to -3
    audited = [e for e in audit_entries(engine) if e["resource_type"] == "holding"]
    assert [e["metadata"]["decision"] for e in audited] == ["adopt"]


def _someone_trades(engine: HarnessEngine) -> None:
    """While no instance runs, a person buys 10 shares and sells a call the bot never trades."""
    securities = engine.algorithm.securities
    shares = next(s for s in securities if s.security_type == SecurityType.EQUITY)
    call = next(s for s in securities if s.security_type == SecurityType.OPTION and "C00700000" in s.value)
    engine.brokerage.market_order(shares, 10, tag="manual")
    engine.brokerage.market_order(call, -1, tag="")


def test_a_persons_trades_while_the_bot_was_down_are_flagged_audited_and_left_alone(tmp_path: Path) -> None:
    engine, drill = drilled(tmp_path, [RESTART], days=1, while_down=_someone_trades)
    (record,) = drill.restarts
    flagged = {h["symbol"]: h["quantity"] for h in record.holdings if h["decision"] == "flag"}
    assert flagged == {"GOOG": 10, "GOOG  151224C00700000": -1}
    assert record.count_holdings("adopt") == 0
    assert "holdings 0 adopted, 2 flagged" in drill.summary_lines()[0]
    bot = engine.algorithm.adapter.bot
    assert bot.ledger.held() == account(engine)  # the ledger (risk limits) sees them ...
    assert not set(flagged) & {p.symbol for p in bot.book.positions.values()}  # ... the bot does not manage them
    after = [o for o in engine.brokerage.orders.values() if o.tag.startswith("bot:") and o.time >= RESTART]
    assert not [o for o in after if o.symbol.value in flagged]  # left alone
    snapshot = json.loads(engine.object_store.read(STATE_KEY))
    assert {h["symbol"] for h in snapshot["risk"]["flagged_holdings"]} == set(flagged)
    audited = [e for e in audit_entries(engine) if e["resource_type"] == "holding"]
    assert sorted(e["resource_id"] for e in audited) == sorted(flagged)
    assert all(e["metadata"]["decision"] == "flag" and e["reason"] for e in audited)


def test_an_order_event_before_the_first_slice_is_booked_once_after_the_restore(tmp_path: Path) -> None:
    """LEAN delivers the rest of the entry's fill between initialize() and the first slice; its
    holdings already include it. Booking it then, and again by reconciling with those holdings,
    left the book and the account apart (and the early save overwrote the previous run's snapshot)."""
    engine, drill = drilled(tmp_path, [DOWN_AT], days=1, configure=_one_of_three, overrides=MARKET,
                            before_first_slice=_fill_the_entry)
    (record,) = drill.restarts
    assert record.restored == ["P00001"] and record.holdings == []
    bot = engine.algorithm.adapter.bot
    assert bot.ledger.held() == account(engine) and bot.counters["unmatched_events"] == 0
    assert bot.breaker.session_start_equity == 100_000.0  # the previous run's session came back, not a new one
    entry = next(o for o in engine.brokerage.orders.values() if o.tag.startswith("bot:C"))
    assert bot.book.positions["P00001"].symbol == entry.symbol.value
    assert [p.id for p in bot.book.positions.values() if p.symbol == entry.symbol.value][:1] == ["P00001"]
    assert not [e for e in audit_entries(engine) if e["reason"] == "late_fill"]  # booked into P00001, once


def test_the_runner_prints_the_holdings_a_restart_flagged(tmp_path: Path, capsys: Any) -> None:
    assert main(["--days", "1", "--storage", str(tmp_path / "s"), "--fresh", "--restart-at", "2015-12-23T12:00",
                 "--log-file", str(tmp_path / "log.txt")]) == 0
    assert "holdings 0 adopted, 0 flagged" in capsys.readouterr().out


# -- the same rules on the bot, with LEAN-shaped inputs ------------------------------------------
def _restarted(bot: TradingBot, broker: Broker, held: dict[str, int], orders: list[OpenOrder] | None = None,
               early: list[OrderUpdate] | None = None, **params: str) -> tuple[TradingBot, MemoryAuditSink, Any]:
    saved = parse_state_snapshot(bot.snapshot(NOW, "live").to_json())
    sink = MemoryAuditSink()
    fresh, _ = new_bot(broker, audit=AuditLogger(lambda: NOW, [sink]), **params)
    lean = [Holding(s, q, 5.0, P700 if s == "P700" else None, "GOOG") for s, q in held.items()]
    report = fresh.restore(saved, lambda p: held.get(p.symbol), NOW, orders or [], holdings=lean, early=early or [])
    return fresh, sink, report


def test_a_stop_fill_delivered_before_the_restore_closes_the_restored_position_once() -> None:
    """The previous run's stop (+3, LEAN order 2) fills; LEAN delivers the event before the first
    slice, its holdings already flat. Booked before the restore, then reconciled against those
    holdings, it left the book long 3 with the account flat."""
    bot, broker, stop = stop_loss_working()
    fill_event = OrderUpdate(2, stop.client_id, "P700", OrderState.FILLED, 10.5, 3, 1.95, NOW, contract=P700)
    fresh, _, report = _restarted(bot, broker, {}, early=[fill_event], stop_loss_pct="1.0")
    assert report.restored == ["P00001"] and [d.decision.value for d in report.orders] == ["adopt"]
    position = fresh.book.positions["P00001"]
    assert position.quantity == 0 and position.realized_pnl == pytest.approx((5.0 - 10.5) * 3 * 100)
    assert fresh.ledger.held() == {} and fresh.counters["unmatched_events"] == 0


def test_lean_holding_more_than_the_snapshot_that_no_order_explains_is_flagged_not_managed() -> None:
    bot, broker = short_two()  # -2 P700, nothing working
    fresh, sink, report = _restarted(bot, broker, {"P700": -3})
    assert fresh.book.positions["P00001"].quantity == -2
    assert [(d.decision.value, d.quantity) for d in report.holdings] == [("flag", -1)]
    assert fresh.ledger.held() == {"P700": -3}  # the account; the risk limits see all of it
    (entry,) = [e for e in sink.entries if e.resource_type == "holding"]
    assert entry.metadata is not None and entry.metadata["quantity"] == -1 and entry.reason


def test_lean_holding_less_than_the_snapshot_is_managed_at_leans_size_and_audited() -> None:
    bot, broker = short_two()
    fresh, sink, report = _restarted(bot, broker, {"P700": -1})
    assert fresh.book.positions["P00001"].quantity == -1 and report.holdings == []
    assert report.resized == ["P00001: saved -2, LEAN -1, managed -1"]
    (restored,) = [e for e in sink.entries if e.resource_id == "state"]
    assert restored.metadata is not None and restored.metadata["resized"] == report.resized


def test_a_holding_of_the_other_sign_is_flagged_and_the_position_never_flips() -> None:
    bot, broker = short_two()
    fresh, _, report = _restarted(bot, broker, {"P700": 1})
    assert report.conflicts == ["P00001"] and fresh.book.open_positions() == []
    assert [(d.decision.value, d.quantity) for d in report.holdings] == [("flag", 1)]
    assert fresh.ledger.held() == {"P700": 1} and fresh.entries_suspended
    fresh.on_market(NOW, 750.0, {"P700": P700}, candidates())
    assert not [r for r in broker.requests[1:] if r.symbol == "P700"]  # left alone: nothing sent on it
