"""Restart faults of issue 13's kind found after its twelve (restart on the same or the next day,
orders of a previous run, assignment events as LEAN sends them), one scenario each: every one
failed before its fix."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from execution.session.reconcile import Decision, OpenOrder
from execution.trading_bot import TradingBot
from models.orders import OrderState, OrderUpdate
from tests.test_money_path_faults import Broker, assigned, new_bot
from tests.test_trading_bot import NOW
from utils.audit_logger import AuditLogger, MemoryAuditSink
from utils.object_store_schema import parse_state_snapshot


def test_assigned_shares_restored_the_morning_after_are_still_closed_at_that_session() -> None:
    """Restart drill shape: assigned on day 1 (close due at day 2's first slice); the algorithm
    restarts on day 2 before it: the restored shares keep their assignment day, so the close goes
    out that morning, not a day later."""
    bot, broker = assigned("close", 1)
    morning = NOW.replace(hour=9, minute=30) + timedelta(days=1)
    saved = parse_state_snapshot(bot.snapshot(morning, "live").to_json())
    fresh, _ = new_bot(broker, entry_quantity="3", assignment_action="close")
    fresh.restore(saved, lambda p: None, morning, [], {"GOOG": 300}.get)
    fresh.on_market(morning + timedelta(minutes=1), 690.0, {})
    assert [r.quantity for r in broker.requests if r.symbol == "GOOG"] == [-300]


def test_a_previous_runs_share_sale_still_cancelling_is_not_sent_again_until_it_is_gone() -> None:
    """The old run's close of the assigned shares is working at the restart: reconciliation cancels
    it (an assignment close is not adopted), but until LEAN confirms, it can still fill; a second
    sale sent meanwhile could leave the account short 300 shares."""
    bot, broker = assigned("close", 1)
    day2 = NOW.replace(hour=9, minute=31) + timedelta(days=1)
    bot.on_market(day2, 690.0, {})
    (sale,) = [r for r in broker.requests if r.symbol == "GOOG"]
    later = day2 + timedelta(minutes=5)
    saved = parse_state_snapshot(bot.snapshot(later, "live").to_json())
    fresh, _ = new_bot(broker, entry_quantity="3", assignment_action="close")
    report = fresh.restore(saved, lambda p: None, later, [OpenOrder(7, "GOOG", -300, sale.client_id)],
                           {"GOOG": 300}.get)
    assert [d.decision for d in report.orders] == [Decision.CANCEL] and broker.cancelled == [7]
    fresh.on_market(later + timedelta(minutes=1), 690.0, {})
    assert [r.client_id for r in broker.requests if r.symbol == "GOOG"] == [sale.client_id]  # not yet
    fresh.on_order_update(OrderUpdate(7, sale.client_id, "GOOG", OrderState.CANCELED, 0.0, 0, 0.0, later))
    fresh.on_market(later + timedelta(minutes=2), 690.0, {})
    assert [r.quantity for r in broker.requests if r.symbol == "GOOG"] == [-300, -300]  # now the new one



def _oversold(action: str, audit: AuditLogger | None = None) -> tuple[TradingBot, Broker, datetime]:
    """300 assigned shares, the old run's sale of 300 working; while the bot was down someone sold
    100 (LEAN holds 200, the restore manages 200); the old sale, cancelled by the restart, still
    fills -300 after CANCELED: LEAN books it all, so the account is short 100 shares."""
    bot, broker = assigned("close", 1)
    day2 = NOW.replace(hour=9, minute=31) + timedelta(days=1)
    bot.on_market(day2, 690.0, {})
    (sale,) = [r for r in broker.requests if r.symbol == "GOOG"]
    later = day2 + timedelta(minutes=5)
    saved = parse_state_snapshot(bot.snapshot(later, "live").to_json())
    fresh, _ = new_bot(broker, audit=audit, entry_quantity="3", assignment_action=action)
    fresh.restore(saved, lambda p: None, later, [OpenOrder(7, "GOOG", -300, sale.client_id)], {"GOOG": 200}.get)
    fresh.on_order_update(OrderUpdate(7, sale.client_id, "GOOG", OrderState.CANCELED, 0.0, 0, 0.0, later))
    fresh.on_order_update(OrderUpdate(7, sale.client_id, "GOOG", OrderState.FILLED, 690.0, -300, 2.0, later))
    return fresh, broker, later


@pytest.mark.parametrize("action", ["close", "hold"])
def test_an_assigned_share_sale_larger_than_the_shares_held_books_the_excess_as_a_short_stock_position(
        action: str) -> None:
    bot, broker, later = _oversold(action)
    assert bot.ledger.held() == {"GOOG": -100}  # as LEAN booked it: never dropped
    stock = bot.assignments.stocks["GOOG"]
    assert stock.quantity == -100 and stock.cost == 690.0 and stock.origin == "excess_fill"
    assert stock.realized_pnl == pytest.approx((690.0 - 700.0) * 200)
    assert bot.counters["unmatched_events"] == 0
    (saved,) = bot.snapshot(later, "live").risk["stock_positions"]
    assert saved["quantity"] == -100 and saved["origin"] == "excess_fill"
    sent = len(broker.requests)
    bot.on_market(later + timedelta(minutes=1), 690.0, {})  # bought back at once, whatever the action
    assert [(r.symbol, r.quantity) for r in broker.requests[sent:]] == [("GOOG", 100)]


def test_the_excess_of_a_share_sale_is_audited_with_its_quantity() -> None:
    sink = MemoryAuditSink()
    _oversold("close", AuditLogger(lambda: NOW, [sink]))
    (opened,) = [e for e in sink.entries if e.reason == "excess_fill"]
    assert opened.action.value == "trade.open" and opened.metadata is not None
    assert opened.metadata["shares"] == -100 and opened.resource_id == "GOOG"
