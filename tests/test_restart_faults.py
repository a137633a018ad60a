"""Restart faults of issue 13's kind found after its twelve (restart on the same or the next day,
orders of a previous run, assignment events as LEAN sends them), one scenario each: every one
failed before its fix."""

from __future__ import annotations

from datetime import timedelta

from execution.session.reconcile import Decision, OpenOrder
from models.orders import OrderState, OrderUpdate
from tests.test_money_path_faults import assigned, new_bot
from tests.test_trading_bot import NOW
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
