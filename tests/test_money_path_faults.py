"""The money-path faults of issue 13, one scenario each: every one failed before its fix.

Restart scenarios go through the state snapshot as the Object Store holds it (to_json, then
parse_state_snapshot), into a fresh bot, as a live LEAN restart does (a new ``initialize()``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from execution.risk.circuit_breaker import TradingState, Trigger
from execution.rolls.roll_manager import Roll
from execution.rolls.roll_target import RollTarget
from execution.session.reconcile import Decision, OpenOrder
from execution.trading_bot import TradingBot
from harness.runner import run
from models.bot_config import BotConfig, Right
from models.exceptions import TradingError
from models.market_data import ContractQuote, PortfolioView
from models.orders import OrderPurpose, OrderRequest, OrderState, OrderUpdate
from models.risk_limits import RiskLimits
from services.risk_precheck import precheck, trading_state
from tests.test_trading_bot import EXPIRY, NOW, FakeBroker, candidates, fill
from utils.audit_logger import AuditLogger
from utils.object_store_schema import parse_state_snapshot
from utils.order_inbox import OrderSpec

P650 = ContractQuote("P650", Right.PUT, 650.0, EXPIRY, 2.0, 2.2, 100, 0.3, -0.15)


class Broker(FakeBroker):
    """The test broker with an equity that moves, combos and cancels."""

    def __init__(self, equity: float = 100_000.0) -> None:
        super().__init__()
        self.value = equity
        self.combos: list[tuple[str, list[tuple[str, int]], int]] = []
        self.cancelled: list[int] = []

    def equity(self) -> float:
        return self.value

    def portfolio(self) -> PortfolioView:
        return PortfolioView(self.value, self.value, 0.0, 0.0)

    def submit_combo(self, client_id: str, legs: list[tuple[str, int]], quantity: int,
                     limit_price: float | None) -> list[int]:
        self.combos.append((client_id, legs, quantity))
        return [900 + 2 * len(self.combos), 901 + 2 * len(self.combos)]

    def cancel(self, order_id: int) -> bool:
        self.cancelled.append(order_id)
        return True


def new_bot(broker: Broker | None = None, limits: RiskLimits | None = None, audit: AuditLogger | None = None,
            **params: str) -> tuple[TradingBot, Broker]:
    broker = broker or Broker()
    return TradingBot(BotConfig.from_parameters(params.get), broker, audit, limits=limits), broker


def restart(bot: TradingBot, broker: Broker, held: dict[str, int], now: datetime,
            **params: str) -> TradingBot:
    """A fresh bot (new initialize) that takes back what the last snapshot saved."""
    saved = parse_state_snapshot(bot.snapshot(now, "live").to_json())
    fresh, _ = new_bot(broker, bot.limits, **params)
    fresh.restore(saved, lambda p: held.get(p.symbol), now)
    return fresh


def short_two(**params: str) -> tuple[TradingBot, Broker]:
    bot, broker = new_bot(entry_quantity="2", **params)
    bot.on_market(NOW, 750.0, {}, candidates())
    fill(bot, broker.requests[0], -2, 5.0)
    return bot, broker


# -- fault 1 ----------------------------------------------------------------------------------
def test_fault1_a_same_day_restart_keeps_the_daily_loss_halt_and_its_baseline() -> None:
    bot, broker = new_bot(limits=RiskLimits(max_daily_loss_pct=0.02))
    bot.on_market(NOW, 750.0, {})
    broker.value = 97_000.0
    bot.on_market(NOW + timedelta(minutes=5), 750.0, {})
    assert bot.breaker.state is TradingState.HALTED
    later = NOW + timedelta(minutes=30)
    fresh = restart(bot, broker, {}, later)
    fresh.on_market(later, 750.0, {})
    assert fresh.breaker.state is TradingState.HALTED
    assert [t.trigger for t in fresh.breaker.active_trips] == [Trigger.DAILY_LOSS]
    assert fresh.breaker.session_start_equity == 100_000.0  # not the restart's 97,000
    fresh.on_market(NOW + timedelta(days=1), 750.0, {})  # the next session clears it (the default rule)
    assert fresh.breaker.state is TradingState.ACTIVE and fresh.breaker.session_start_equity == 97_000.0


# -- fault 2 ----------------------------------------------------------------------------------
def working_roll(bot: TradingBot) -> Roll:
    position = bot.book.open_for_symbol("P700")
    assert position is not None
    target = RollTarget(P650, "P700", 1, -1, 2, -3.0, -2.8, 100.0, -0.15, "market", 40, 3, "test")
    roll = Roll("R00001", position.id, target, NOW, order_ids=[11, 12])
    bot.rolls.rolls[roll.roll_id] = roll
    return roll


def test_fault2_a_working_roll_leg_counts_so_a_further_buy_is_not_a_close() -> None:
    bot, broker = short_two()
    working_roll(bot)  # buying back the 2 contracts held
    assert bot.ledger.exposure("P700") == 0 and bot.ledger.exposure("P650") == -2
    bot.breaker.halt(NOW, "ops", "human", "test")
    before = len(broker.requests)
    result = bot.gateway.submit(OrderRequest("X1", "P700", 2, OrderPurpose.EXTERNAL), NOW)
    assert not result.accepted and len(broker.requests) == before  # +2 more would make the account long 2
    assert "circuit_breaker" in [c.name for c in result.validation.failed]
    assert bot.covered(bot.book.open_positions()[0]) == 2  # and no close is sent for what the roll closes


# -- fault 7 ----------------------------------------------------------------------------------
def test_fault7_a_working_entry_counts_against_max_open_positions() -> None:
    bot, broker = new_bot(limits=RiskLimits(max_open_positions=1), entry_quantity="1")
    bot.on_market(NOW, 750.0, {}, candidates())  # the entry is working, not filled
    assert len(broker.requests) == 1
    tracked = bot.submit_external("REQ1", P650, -1, None, "user:jane", "human")
    assert tracked.rejected and "open_positions" in tracked.rejection
    assert len(broker.requests) == 1


# -- fault 8 ----------------------------------------------------------------------------------
def test_fault8_a_restart_keeps_the_latches_the_order_count_and_the_slippage_spent() -> None:
    bot, broker = new_bot(slippage_max_trade_pct="0.01", slippage_alert_pct="0.0", entry_quantity="2")
    bot.on_market(NOW, 750.0, {}, candidates())
    fill(bot, broker.requests[0], -2, 4.0)  # sold 1.1 below the 5.1 mid: the budget is breached
    bot.record_failure("test", RuntimeError("boom"))
    spent, orders = bot.slippage.session_total, bot.gateway.counter.orders_today
    assert spent > 0 and orders == 1 and bot.slippage.reduce_only
    later = NOW + timedelta(hours=1)
    fresh = restart(bot, broker, {"P700": -2}, later, slippage_max_trade_pct="0.01", slippage_alert_pct="0.0")
    fresh.on_market(later, 750.0, {})
    assert fresh.entries_suspended and fresh.slippage.reduce_only and fresh.reduce_only
    assert fresh.slippage.session_total == spent and fresh.gateway.counter.orders_today == orders
    assert not fresh.wants_candidates()


def test_fault8_a_torn_session_fails_safe_with_entries_suspended() -> None:
    bot, broker = new_bot()
    bot.on_market(NOW, 750.0, {})
    saved = bot.snapshot(NOW, "live")
    session = dict(saved.risk["session"])
    session["orders"] = {"session_date": "2016-01-04", "orders_today": "many"}
    fresh, _ = new_bot(broker)
    report = fresh.restore(replace(saved, risk={**saved.risk, "session": session}), lambda p: None, NOW)
    assert report.session_problems and fresh.entries_suspended
    assert fresh.session.trading_state is TradingState.REDUCING


# -- fault 12 ---------------------------------------------------------------------------------
def test_fault12_the_snapshot_and_the_sidecar_precheck_say_reducing_when_the_gateway_does() -> None:
    bot, _ = new_bot()
    bot.on_market(NOW, 750.0, {})
    bot.record_failure("test", RuntimeError("boom"))  # entries suspended: the gateway is REDUCING
    snapshot = bot.snapshot(NOW, "live")
    assert snapshot.risk["trading_state"] == "reducing" and bot.breaker.state is TradingState.ACTIVE
    assert trading_state(snapshot) == "reducing"
    order = OrderSpec("GOOG", "put", 650.0, date(2016, 2, 5), "sell", 1, "market", None, None, "test")
    assert precheck(order, snapshot, "fresh").violations


def test_fault12_an_untouched_bot_is_active_everywhere() -> None:
    bot, _ = new_bot()
    bot.on_market(NOW, 750.0, {})
    snapshot = bot.snapshot(NOW, "live")
    assert snapshot.risk["trading_state"] == "active" and trading_state(snapshot) == "active"


def test_the_ledger_counts_an_order_being_replaced_until_its_cancel_is_confirmed() -> None:
    bot, broker = short_two(reprice_seconds="60")
    quote = candidates()[0]
    bot.on_market(NOW + timedelta(days=28), 750.0, {"P700": quote})  # the expiry guard closes
    (close,) = [r for r in broker.requests if r.purpose is OrderPurpose.EXPIRY_GUARD]
    assert bot.ledger.pending() == {"P700": 2}
    bot.on_market(NOW + timedelta(days=28, minutes=2), 750.0, {"P700": quote})  # reprice: cancel sent
    assert bot.ledger.pending() == {"P700": 2}  # the old order can still fill until CANCELED
    bot.on_order_update(OrderUpdate(2, close.client_id, "P700", OrderState.CANCELED, 0.0, 0, 0.0, NOW))
    assert bot.ledger.pending() == {"P700": 2} and len(broker.requests) == 3  # the replacement only


# -- fault 6 ----------------------------------------------------------------------------------
class RefusingOnce(Broker):
    """LEAN refuses the first stop-loss before it exists (no data yet: order id 0, no event)."""

    def submit(self, request: OrderRequest) -> list[int]:
        self.requests.append(request)
        refused = request.purpose is OrderPurpose.STOP_LOSS and not any(
            r.purpose is OrderPurpose.STOP_LOSS for r in self.requests[:-1])
        return [] if refused else [len(self.requests)]


def test_fault6_a_refused_stop_loss_is_retried_after_a_back_off_the_same_day() -> None:
    bot, broker = new_bot(RefusingOnce(), entry_quantity="2", stop_loss_pct="1.0")
    bot.on_market(NOW, 750.0, {}, candidates())
    fill(bot, broker.requests[0], -2, 5.0)
    spiked = ContractQuote("P700", Right.PUT, 700.0, EXPIRY, 10.4, 10.6, 100, 0.3, -0.5)  # a 100 % loss
    stops = lambda: [r for r in broker.requests if r.purpose is OrderPurpose.STOP_LOSS]  # noqa: E731
    bot.on_market(NOW + timedelta(minutes=1), 750.0, {"P700": spiked})
    assert len(stops()) == 1 and bot.counters["stop_losses"] == 0  # refused
    bot.on_market(NOW + timedelta(minutes=2), 750.0, {"P700": spiked})
    assert len(stops()) == 1  # not every minute
    bot.on_market(NOW + timedelta(minutes=7), 750.0, {"P700": spiked})
    assert len(stops()) == 2 and stops()[1].quantity == 2 and bot.counters["stop_losses"] == 1


# -- fault 9 ----------------------------------------------------------------------------------
def test_fault9_roll_fills_are_charged_to_the_slippage_budget() -> None:
    bot, _ = short_two()
    roll = working_roll(bot)
    roll.expected = {"P700": 5.1, "P650": 2.1}
    spent = bot.slippage.session_total
    bot.on_order_update(OrderUpdate(11, "R00001", "P700", OrderState.FILLED, 5.6, 2, 1.3, NOW))
    assert bot.slippage.session_total - spent == pytest.approx(0.5 * 2 * 100)  # bought 0.50 above the mid
    bot.on_order_update(OrderUpdate(12, "R00001", "P650", OrderState.FILLED, 2.1, -2, 1.3, NOW))
    assert bot.slippage.session_total - spent == pytest.approx(100.0)  # sold at the mid: nothing more
    assert bot.counters["rolls_completed"] == 1


# -- fault 11 ---------------------------------------------------------------------------------
def test_fault11_a_fill_after_the_cancel_is_booked() -> None:
    bot, broker = new_bot(entry_quantity="2")
    bot.on_market(NOW, 750.0, {}, candidates())
    entry = broker.requests[0]
    bot.on_order_update(OrderUpdate(1, entry.client_id, "P700", OrderState.CANCELED, 0.0, 0, 0.0, NOW))
    assert bot.ledger.pending() == {}
    bot.on_order_update(OrderUpdate(1, entry.client_id, "P700", OrderState.FILLED, 5.0, -2, 1.3, NOW))
    (position,) = bot.book.open_positions()
    assert position.quantity == -2 and bot.counters["unmatched_events"] == 0


# -- fault 3 ----------------------------------------------------------------------------------
def stop_loss_working() -> tuple[TradingBot, Broker, OrderRequest]:
    bot, broker = new_bot(entry_quantity="3", stop_loss_pct="1.0")
    bot.on_market(NOW, 750.0, {}, candidates())
    fill(bot, broker.requests[0], -3, 5.0)
    bot.on_market(NOW + timedelta(minutes=1), 750.0, {"P700": SPIKED})
    (stop,) = [r for r in broker.requests if r.purpose is OrderPurpose.STOP_LOSS]
    return bot, broker, stop


SPIKED = ContractQuote("P700", Right.PUT, 700.0, EXPIRY, 10.4, 10.6, 100, 0.3, -0.5)


def test_fault3_a_restart_adopts_the_working_close_instead_of_sending_it_again() -> None:
    bot, broker, stop = stop_loss_working()
    later = NOW + timedelta(minutes=3)
    saved = parse_state_snapshot(bot.snapshot(later, "live").to_json())
    fresh, _ = new_bot(broker, entry_quantity="3", stop_loss_pct="1.0")
    old = OpenOrder(2, "P700", 3, stop.client_id)  # LEAN still works the stop (order id 2)
    report = fresh.restore(saved, lambda p: -3, later, [old])
    assert [d.decision for d in report.orders] == [Decision.ADOPT]
    sent = len(broker.requests)
    fresh.on_market(later, 750.0, {"P700": SPIKED})
    fresh.on_market(later + timedelta(minutes=10), 750.0, {"P700": SPIKED})
    assert len(broker.requests) == sent  # the stop is not sent a second time
    fresh.on_order_update(OrderUpdate(2, stop.client_id, "P700", OrderState.FILLED, 10.5, 3, 1.95, later))
    assert fresh.book.open_positions() == [] and fresh.ledger.pending() == {}  # flat, like the account


def test_fault3_old_orders_the_bot_cannot_continue_are_cancelled_and_counted_until_final() -> None:
    bot, broker, stop = stop_loss_working()
    saved = parse_state_snapshot(bot.snapshot(NOW, "live").to_json())
    fresh, _ = new_bot(broker, stop_loss_pct="1.0")
    orders = [OpenOrder(7, "P650", -1, "C000099"), OpenOrder(8, "P700", 3, None),
              OpenOrder(2, "P700", 4, stop.client_id)]  # unknown entry; not ours; a close that would flip
    report = fresh.restore(saved, lambda p: -3, NOW, orders)
    assert {d.order.order_id: d.decision for d in report.orders} == {
        7: Decision.CANCEL, 8: Decision.FLAG, 2: Decision.CANCEL}
    assert sorted(broker.cancelled) == [2, 7]
    assert fresh.ledger.pending() == {"P650": -1, "P700": 7}
    fresh.on_order_update(OrderUpdate(7, "C000099", "P650", OrderState.CANCELED, 0.0, 0, 0.0, NOW))
    assert fresh.ledger.pending() == {"P700": 7}


# -- fault 5 ----------------------------------------------------------------------------------
def assigned(action: str, option_sign: int, audit: AuditLogger | None = None) -> tuple[TradingBot, Broker]:
    """Short 3 puts at 5.00, assigned as LEAN's DefaultExerciseModel sends it: the option leg at 0
    with is_assignment, then 300 shares at the 700 strike under the same order id."""
    bot, broker = new_bot(audit=audit, entry_quantity="3", assignment_action=action)
    bot.on_market(NOW, 750.0, {}, candidates())
    fill(bot, broker.requests[0], -3, 5.0, fee=1.95)
    at = NOW + timedelta(hours=6)
    bot.on_order_update(OrderUpdate(50, None, "P700", OrderState.FILLED, 0.0, 3 * option_sign, 0.0, at,
                                    is_assignment=True, message="Automatic Assignment"))
    bot.on_order_update(OrderUpdate(50, None, "GOOG", OrderState.FILLED, 700.0, 300, 0.0, at,
                                    message="Option Assignment"))
    return bot, broker


@pytest.mark.parametrize("option_sign", [1, -1])  # the option leg closes the holding whatever its sign
def test_fault5_an_assignment_keeps_the_premium_and_books_the_shares(option_sign: int) -> None:
    bot, _ = assigned("close", option_sign)
    position = bot.book.positions["P00001"]
    assert position.status.value == "closed" and position.realized_pnl == pytest.approx(1500.0)
    assert bot.counters["unmatched_events"] == 0
    assert bot.ledger.held() == {"GOOG": 300}
    (stock,) = bot.snapshot(NOW, "live").risk["stock_positions"]
    assert stock["quantity"] == 300 and stock["cost"] == 700.0 and stock["from_position"] == "P00001"


def test_fault5_close_sells_the_shares_at_the_next_session_through_the_gateway() -> None:
    bot, broker = assigned("close", 1)
    bot.on_market(NOW + timedelta(hours=6, minutes=1), 750.0, {})
    assert not [r for r in broker.requests if r.symbol == "GOOG"]  # not in the session of the assignment
    bot.on_market(NOW + timedelta(days=1), 690.0, {})
    (sell,) = [r for r in broker.requests if r.symbol == "GOOG"]
    assert sell.quantity == -300 and sell.purpose is OrderPurpose.ASSIGNMENT
    fill(bot, sell, -300, 690.0, fee=1.5)
    assert bot.ledger.held() == {} and bot.assignments.stocks["GOOG"].realized_pnl == pytest.approx(-3000.0)


def test_fault5_hold_keeps_the_shares() -> None:
    bot, broker = assigned("hold", 1)
    bot.on_market(NOW + timedelta(days=1), 690.0, {})
    assert not [r for r in broker.requests if r.symbol == "GOOG"] and bot.ledger.held() == {"GOOG": 300}


# -- fault 10 ---------------------------------------------------------------------------------
def test_fault10_a_held_contract_outside_the_chain_is_quoted_from_its_security(tmp_path: Path) -> None:
    engine, _ = run(days=1, start=None, seed=7, storage=tmp_path, overrides={})
    adapter = engine.algorithm.adapter
    held = adapter.bot.book.held_symbols
    assert held
    quotes = adapter._held_quotes(None)  # no chain holds it: LEAN keeps a held contract's security subscribed
    assert set(held) <= set(quotes) and all(quotes[s].has_two_sided_quote for s in held)


# -- fault 4 ----------------------------------------------------------------------------------
def test_fault4_rolling_into_a_contract_already_held_merges_into_that_position() -> None:
    bot, _ = short_two()
    other = bot.manager.open_position(P650, 100.0, NOW, "C-other")
    bot.manager.apply_fill(other, -1, 2.0, 0.65, NOW)  # P650 is held already: -1
    working_roll(bot)  # P700 -2 rolls into P650
    bot.on_order_update(OrderUpdate(11, "R00001", "P700", OrderState.FILLED, 5.0, 2, 1.3, NOW))
    bot.on_order_update(OrderUpdate(12, "R00001", "P650", OrderState.FILLED, 2.1, -2, 1.3, NOW))
    (position,) = bot.book.open_positions()
    assert position.id == other.id and position.quantity == -3  # the account holds -3 P650: so does the book
    assert position.roll_history[-1]["roll_id"] == "R00001" and bot.counters["unmatched_events"] == 0


def test_fault4_a_second_open_position_on_one_contract_is_refused_by_the_book() -> None:
    bot, _ = short_two()
    with pytest.raises(TradingError):
        bot.manager.open_position(candidates()[0], 100.0, NOW, "C-dup")
    assert [p.quantity for p in bot.book.open_positions()] == [-2]


def test_fault11_the_replaced_order_filling_after_its_replacement_went_out_is_booked() -> None:
    """Found by the property test: LEAN books both the old order's late fill and the replacement's."""
    bot, broker = new_bot(entry_quantity="3", reprice_seconds="60")
    bot.on_market(NOW, 750.0, {}, candidates())
    entry = broker.requests[0]
    bot.on_order_update(OrderUpdate(1, entry.client_id, "P700", OrderState.PARTIALLY_FILLED, 5.1, -1, 0.65, NOW))
    bot.on_market(NOW + timedelta(minutes=2), 750.0, {"P700": candidates()[0]})  # reprice: cancel order 1
    bot.on_order_update(OrderUpdate(1, entry.client_id, "P700", OrderState.CANCELED, 0.0, 0, 0.0, NOW))
    assert broker.requests[1].quantity == -2  # the replacement, LEAN order 2
    bot.on_order_update(OrderUpdate(2, entry.client_id, "P700", OrderState.PARTIALLY_FILLED, 5.0, -1, 0.65, NOW))
    bot.on_order_update(OrderUpdate(1, entry.client_id, "P700", OrderState.FILLED, 5.1, -2, 1.3, NOW))  # late
    (position,) = bot.book.open_positions()
    assert position.quantity == -4 and bot.counters["unmatched_events"] == 0  # as LEAN booked it
    assert 2 in broker.cancelled and bot.ledger.pending() == {}  # no further exposure from the replacement


def test_fault5_assigned_shares_survive_a_restart_reconciled_with_lean() -> None:
    bot, broker = assigned("close", 1)
    later = NOW + timedelta(hours=6, minutes=5)
    saved = parse_state_snapshot(bot.snapshot(later, "live").to_json())
    fresh, _ = new_bot(broker, entry_quantity="3", assignment_action="close")
    report = fresh.restore(saved, lambda p: None, later, [], {"GOOG": 300}.get)
    assert fresh.ledger.held() == {"GOOG": 300} and fresh.assignments.stocks["GOOG"].cost == 700.0
    assert report.resized == []
    fresh.on_market(NOW + timedelta(days=1), 690.0, {})
    assert [r.quantity for r in broker.requests if r.symbol == "GOOG"] == [-300]  # closed once, by the new bot
    other, _ = new_bot(broker, assignment_action="close")
    report = other.restore(saved, lambda p: None, later, [], {"GOOG": 200}.get)  # LEAN holds fewer: the smaller
    assert other.ledger.held() == {"GOOG": 200} and report.resized == ["GOOG: saved 300 shares, LEAN 200, managed 200"]
