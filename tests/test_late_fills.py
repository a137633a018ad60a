"""Late fills (issue 13, fault 11): LEAN books a fill it reports after CANCELED, whoever sent the
order — this run or a previous one — and whatever its purpose; the bot books it too, so its book
equals the account. A fill no position takes becomes a bot-managed position, audited as a late fill
of the order with its purpose (execution/positions/fill_booking.py)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import cast

from execution.session.reconcile import Decision, OpenOrder
from execution.session.state_restore import RestoreReport
from execution.trading_bot import TradingBot
from models.bot_config import BotConfig
from models.orders import OrderPurpose, OrderState, OrderUpdate
from tests.test_money_path_faults import (
    P650,
    SPIKED,
    Broker,
    new_bot,
    short_two,
    stop_loss_working,
    working_roll,
)
from tests.test_trading_bot import NOW, candidates
from utils.audit_logger import AuditLogger, MemoryAuditSink
from utils.object_store_schema import parse_state_snapshot

P700 = candidates()[0]


def event(bot: TradingBot, order_id: int, client_id: str | None, symbol: str, state: OrderState,
          quantity: int = 0, price: float = 0.0, at: datetime = NOW) -> None:
    bot.on_order_update(OrderUpdate(order_id, client_id, symbol, state, price, quantity, 0.65 * abs(quantity), at))


def late_positions(bot: TradingBot, sink: MemoryAuditSink) -> dict[str, dict[str, object]]:
    """Position id -> the metadata of its ``late_fill`` audit entry."""
    return {e.resource_id: dict(e.metadata or {}) for e in sink.entries if e.reason == "late_fill"}


def audited(broker: Broker, **params: str) -> tuple[TradingBot, MemoryAuditSink]:
    sink = MemoryAuditSink()
    return TradingBot(BotConfig.from_parameters(params.get), broker, AuditLogger(lambda: NOW, [sink])), sink


def restarted(bot: TradingBot, broker: Broker, held: dict[str, int], orders: list[OpenOrder],
              **params: str) -> tuple[TradingBot, MemoryAuditSink, RestoreReport]:
    saved = parse_state_snapshot(bot.snapshot(NOW, "live").to_json())
    fresh, sink = audited(broker, **params)
    fresh.run_id = "r2"
    report = fresh.restore(saved, lambda p: held.get(p.symbol), NOW, orders)
    return fresh, sink, report


def test_a_previous_runs_cancelled_exit_filling_late_closes_the_position_and_books_the_rest() -> None:
    bot, broker, stop = stop_loss_working()  # short 3 P700; the stop (+3) is working as LEAN order 2
    flip = OpenOrder(2, "P700", 4, stop.client_id, P700)  # LEAN works +4: it would flip the position
    fresh, sink, _ = restarted(bot, broker, {"P700": -3}, [flip], stop_loss_pct="1.0")
    assert broker.cancelled == [2]
    event(fresh, 2, stop.client_id, "P700", OrderState.CANCELED)
    event(fresh, 2, stop.client_id, "P700", OrderState.FILLED, 4, 10.5)  # after CANCELED: LEAN books +4
    closed = fresh.book.positions["P00001"]
    assert closed.quantity == 0 and closed.realized_pnl == (5.0 - 10.5) * 3 * 100
    (rest,) = fresh.book.open_positions()
    assert rest.quantity == 1 and fresh.ledger.held() == {"P700": 1}  # the account: -3 + 4
    assert late_positions(fresh, sink)[rest.id]["purpose"] == "stop_loss"
    assert fresh.counters["unmatched_events"] == 0


def test_a_previous_runs_roll_legs_filling_late_move_the_position_to_the_new_contract() -> None:
    bot, broker = short_two()
    working_roll(bot)  # P700 +2 / P650 -2 working as LEAN orders 11 and 12 (roll R00001)
    legs = [OpenOrder(11, "P700", 2, "R00001", P700), OpenOrder(12, "P650", -2, "R00001", P650)]
    fresh, sink, _ = restarted(bot, broker, {"P700": -2}, legs)
    assert sorted(broker.cancelled) == [11, 12]
    for order_id, symbol in ((11, "P700"), (12, "P650")):
        event(fresh, order_id, "R00001", symbol, OrderState.CANCELED)
    event(fresh, 12, "R00001", "P650", OrderState.FILLED, -2, 2.1)  # late, the new leg first
    event(fresh, 11, "R00001", "P700", OrderState.FILLED, 2, 5.0)
    (moved,) = fresh.book.open_positions()
    assert moved.symbol == "P650" and moved.quantity == -2 and fresh.ledger.held() == {"P650": -2}
    assert late_positions(fresh, sink)[moved.id]["purpose"] == "roll"
    assert fresh.book.positions["P00001"].quantity == 0 and fresh.counters["unmatched_events"] == 0


def test_a_previous_runs_order_on_an_unknown_contract_stays_unmatched_and_audited() -> None:
    bot, broker, _ = stop_loss_working()
    fresh, sink, _ = restarted(bot, broker, {"P700": -3}, [OpenOrder(7, "P640", -1, "C000099")])  # no contract data
    event(fresh, 7, "C000099", "P640", OrderState.CANCELED)
    event(fresh, 7, "C000099", "P640", OrderState.FILLED, -1, 1.5)
    assert fresh.counters["unmatched_events"] == 1
    (entry,) = [e for e in sink.entries if e.action.value == "order.event_unmatched"]
    assert "no contract data" in (entry.reason or "")


def test_a_close_filling_late_after_its_replacement_closed_the_position_opens_the_rest() -> None:
    """This run: the stop (+3) fills 1, is repriced (cancel, then +2 replaces it), the replacement
    fills 2 (flat), then the first order reports +2 more after CANCELED: the account is long 2."""
    bot, sink = audited(Broker(), entry_quantity="3", stop_loss_pct="1.0")
    broker = cast(Broker, bot.broker)
    bot.on_market(NOW, 750.0, {}, candidates())
    event(bot, 1, broker.requests[0].client_id, "P700", OrderState.FILLED, -3, 5.0)
    bot.on_market(NOW + timedelta(minutes=1), 750.0, {"P700": SPIKED})
    (stop,) = [r for r in broker.requests if r.purpose is OrderPurpose.STOP_LOSS]
    event(bot, 2, stop.client_id, "P700", OrderState.PARTIALLY_FILLED, 1, 10.5)
    bot.on_market(NOW + timedelta(minutes=5), 750.0, {"P700": SPIKED})  # reprice: cancel order 2
    event(bot, 2, stop.client_id, "P700", OrderState.CANCELED)
    replacement = broker.requests[-1]
    assert replacement.purpose is OrderPurpose.STOP_LOSS and replacement.quantity == 2
    event(bot, 3, stop.client_id, "P700", OrderState.FILLED, 2, 10.6)
    assert bot.book.open_positions() == []
    event(bot, 2, stop.client_id, "P700", OrderState.FILLED, 2, 10.5)  # late
    (rest,) = bot.book.open_positions()
    assert rest.quantity == 2 and bot.ledger.held() == {"P700": 2}
    assert late_positions(bot, sink)[rest.id] == {**late_positions(bot, sink)[rest.id], "purpose": "stop_loss",
                                                  "previous_run": False}
    assert bot.counters["unmatched_events"] == 0


def test_a_flagged_order_of_someone_else_that_no_position_takes_stays_unmatched() -> None:
    bot, broker = new_bot()
    fresh, _, report = restarted(bot, broker, {}, [OpenOrder(8, "P700", -1, None, P700)])
    assert [d.decision for d in report.orders] == [Decision.FLAG]
    event(fresh, 8, None, "P700", OrderState.FILLED, -1, 5.0)
    assert fresh.book.positions == {} and fresh.counters["unmatched_events"] == 1
def test_a_roll_close_leg_filling_late_after_the_repair_closed_the_position_is_booked() -> None:
    """A roll's close leg fills 1 of 2, the roll times out, its legs are cancelled, the repair closes
    the last contract; then the close leg reports +1 more after CANCELED (LEAN books it: long 1)."""
    bot, broker = short_two()
    working_roll(bot)
    event(bot, 11, "R00001", "P700", OrderState.PARTIALLY_FILLED, 1, 5.0)
    bot.on_market(NOW + timedelta(minutes=10), 750.0, {"P700": P700})  # timeout: both legs cancelled
    for order_id, symbol in ((11, "P700"), (12, "P650")):
        event(bot, order_id, "R00001", symbol, OrderState.CANCELED)
    (repair,) = [r for r in broker.requests if r.purpose is OrderPurpose.ROLL]
    assert repair.quantity == 1
    event(bot, len(broker.requests), repair.client_id, "P700", OrderState.FILLED, 1, 5.1)
    assert bot.book.open_positions() == []
    event(bot, 11, "R00001", "P700", OrderState.FILLED, 1, 5.0)  # late: -2 + 1 + 1 + 1 = +1
    assert bot.ledger.held() == {"P700": 1} and bot.counters["unmatched_events"] == 0





def test_a_fill_the_bot_cannot_book_is_held_as_a_flagged_holding_the_limits_see() -> None:
    bot, _ = short_two()  # short 2 P700
    event(bot, 99, None, "P700", OrderState.FILLED, 5, 4.0)  # someone else's order buys 5: the account is long 3
    assert bot.book.open_for_symbol("P700") is None  # the bot's short is closed by the first 2
    assert bot.counters["unmatched_events"] == 1
    assert bot.ledger.held() == {"P700": 3}  # the other 3 are in the ledger: the limits count them
    saved = parse_state_snapshot(bot.snapshot(NOW, "live").to_json())
    [flagged] = saved.risk["flagged_holdings"]
    assert flagged["symbol"] == "P700" and flagged["quantity"] == 3 and flagged["decision"] == "flag"


def test_a_refused_first_fill_leaves_no_empty_position_and_a_strict_json_snapshot() -> None:
    bot, broker = new_bot(entry_quantity="2")
    bot.on_market(NOW, 750.0, {}, candidates())
    request = broker.requests[0]
    event(bot, 1, request.client_id, request.symbol, OrderState.FILLED, -2, math.nan)  # a fill the bot refuses
    assert bot.book.positions == {} and bot.counters["unmatched_events"] == 1
    assert bot.ledger.held() == {request.symbol: -2}  # what LEAN booked is still seen (flagged)
    saved = parse_state_snapshot(bot.snapshot(NOW, "live").to_json())  # strict JSON: no NaN price
    assert saved.risk["flagged_holdings"][0]["price"] == 0.0
