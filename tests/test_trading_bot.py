"""The bot's book follows order events (partial fills included) and its rules act once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from execution.trading_bot import TradingBot
from models.audit import AuditAction
from models.bot_config import BotConfig, Right
from models.market_data import ContractQuote, PortfolioView
from models.orders import OrderRequest, OrderState, OrderUpdate
from utils.audit_logger import AuditLogger, MemoryAuditSink
from utils.logging_config import missing_fields

NOW = datetime(2016, 1, 4, 10, 0)
EXPIRY = date(2016, 2, 5)


class FakeBroker:
    def __init__(self) -> None:
        self.requests: list[OrderRequest] = []

    def submit(self, request: OrderRequest) -> list[int]:
        self.requests.append(request)
        return [len(self.requests)]

    def cancel(self, order_id: int) -> bool:
        return False

    def portfolio(self) -> PortfolioView:
        return PortfolioView(100_000.0, 100_000.0, 0.0, 0.0)

    def equity(self) -> float:
        return 100_000.0

    def contract_multiplier(self, symbol: str) -> float:
        return 100.0


def candidates() -> list[ContractQuote]:
    return [ContractQuote("P700", Right.PUT, 700.0, EXPIRY, 5.0, 5.2, 100, 0.3, -0.30)]


def fill(bot: TradingBot, request: OrderRequest, quantity: int, price: float, state=OrderState.FILLED,
         fee: float = 0.65) -> None:
    bot.on_order_update(OrderUpdate(1, request.client_id, request.symbol, state, price, quantity, fee, NOW))


def make_bot(**params: str) -> tuple[TradingBot, FakeBroker]:
    broker = FakeBroker()
    return TradingBot(BotConfig.from_parameters(params.get), broker), broker


def test_an_entry_fill_opens_a_short_position_with_the_contract_multiplier():
    bot, broker = make_bot(entry_quantity="3")
    bot.on_market(NOW, 750.0, {}, candidates())
    fill(bot, broker.requests[0], -3, 5.0)
    (position,) = bot.book.open_positions()
    assert position.quantity == -3 and position.side == "short" and position.multiplier == 100.0
    position.mark_price = 4.0
    assert position.unrealized_pnl == pytest.approx((4.0 - 5.0) * -3 * 100)  # short gains on decay


def test_partial_fills_average_the_entry_price():
    bot, broker = make_bot(entry_quantity="4")
    bot.on_market(NOW, 750.0, {}, candidates())
    request = broker.requests[0]
    fill(bot, request, -1, 5.0, OrderState.PARTIALLY_FILLED)
    assert not bot.wants_candidates()  # the entry is still pending: no second entry
    fill(bot, request, -3, 6.0)
    (position,) = bot.book.open_positions()
    assert position.quantity == -4 and position.entry_price == pytest.approx((5.0 + 18.0) / 4)
    assert position.fees == pytest.approx(1.30)


def test_the_expiry_guard_closes_once_and_realises_the_pnl():
    bot, broker = make_bot(exit_dte="5")
    bot.on_market(NOW, 750.0, {}, candidates())
    fill(bot, broker.requests[0], -1, 5.0)
    late = datetime(2016, 2, 1, 10, 0)  # 4 days to expiry
    bot.on_market(late, 750.0, {})
    bot.on_market(late, 750.0, {})
    closes = [r for r in broker.requests if r.purpose.value == "expiry_guard"]
    assert len(closes) == 1 and closes[0].quantity == 1
    fill(bot, closes[0], 1, 2.0)
    position = bot.book.positions["P00001"]
    assert position.status.value == "closed" and position.realized_pnl == pytest.approx(300.0)
    assert bot.counters["positions_closed"] == 1


def test_a_fill_through_zero_closes_the_position_and_reports_the_rest_of_an_unknown_order():
    bot, broker = make_bot(entry_quantity="1")
    bot.on_market(NOW, 750.0, {}, candidates())
    fill(bot, broker.requests[0], -1, 5.0)
    bot.on_order_update(OrderUpdate(9, None, "P700", OrderState.FILLED, 4.0, 2, 0.0, NOW))
    assert bot.book.open_positions() == []  # the closing part is booked, as LEAN booked it
    assert bot.book.positions["P00001"].realized_pnl == pytest.approx(100.0)
    assert bot.counters["unmatched_events"] == 1  # the +1 beyond zero belongs to no bot order


def test_an_external_order_through_zero_closes_and_opens_a_new_position() -> None:
    bot, broker = make_bot(entry_quantity="2")
    bot.on_market(NOW, 750.0, {}, candidates())
    fill(bot, broker.requests[0], -2, 5.0)
    tracked = bot.submit_external("REQ1", candidates()[0], 5, None, "user:jane", "human")
    bot.on_order_update(OrderUpdate(tracked.lean_order_ids[0], tracked.request.client_id, "P700",
                                    OrderState.FILLED, 5.1, 5, 1.0, NOW))
    (position,) = bot.book.open_positions()
    assert position.quantity == 3 and position.id == "P00002" and bot.counters["unmatched_events"] == 0
    assert position.fees == pytest.approx(0.6)  # the fee split by contracts: 3 of 5


def test_a_fill_for_an_unknown_order_is_counted_not_booked():
    bot, _ = make_bot()
    bot.on_order_update(OrderUpdate(42, None, "X", OrderState.FILLED, 1.0, 1, 0.0, NOW))
    assert bot.book.positions == {} and bot.counters["unmatched_events"] == 1


@pytest.mark.parametrize("price", [float("nan"), -1.0])
def test_a_fill_with_a_bad_price_leaves_the_position_as_it_was(price):
    bot, broker = make_bot()
    bot.on_market(NOW, 750.0, {}, candidates())
    fill(bot, broker.requests[0], -1, 5.0)
    bot.on_order_update(OrderUpdate(2, None, "P700", OrderState.FILLED, price, 1, 0.0, NOW))
    position = bot.book.open_positions()[0]
    assert position.quantity == -1 and position.entry_price == 5.0


def test_a_rejected_entry_is_counted_and_frees_the_entry_rule():
    bot, broker = make_bot()
    bot.on_market(NOW, 750.0, {}, candidates())
    bot.on_order_update(OrderUpdate(1, broker.requests[0].client_id, "P700", OrderState.INVALID, 0.0, 0, 0.0,
                                    NOW, message="Insufficient buying power"))
    assert bot.counters["orders_rejected"] == 1 and bot.wants_candidates()


def test_a_component_failure_suspends_new_entries():
    bot, _ = make_bot()
    bot.record_failure("on_data", RuntimeError("boom"))
    assert not bot.wants_candidates() and bot.counters["component_failures"] == 1


def audited_bot(**params: str) -> tuple[TradingBot, FakeBroker, MemoryAuditSink]:
    broker, sink = FakeBroker(), MemoryAuditSink()
    bot = TradingBot(BotConfig.from_parameters({"order_style": "market", **params}.get), broker,
                     AuditLogger(clock=lambda: NOW.replace(tzinfo=UTC), sinks=[sink]))
    return bot, broker, sink


def test_bad_fills_are_logged_audited_and_leave_the_book_consistent(caplog: pytest.LogCaptureFixture):
    bot, broker, sink = audited_bot()
    bot.on_market(NOW, 750.0, {}, candidates())
    fill(bot, broker.requests[0], -3, 5.0)
    bot.on_order_update(OrderUpdate(77, None, "UNKNOWN", OrderState.FILLED, 1.0, 1, 0.0, NOW))
    bot.on_order_update(OrderUpdate(78, None, "P700", OrderState.FILLED, float("nan"), 1, 0.0, NOW))
    bot.on_order_update(OrderUpdate(79, None, "P700", OrderState.FILLED, 5.0, 1, float("inf"), NOW))  # bad fee
    (position,) = bot.book.open_positions()
    assert position.quantity == -3 and position.entry_price == 5.0
    assert sink.actions().count(AuditAction.ORDER_EVENT_UNMATCHED) == 3
    assert [r.getMessage() for r in caplog.records].count("FILL_UNMATCHED") == 3


def test_a_fill_beyond_the_order_quantity_is_refused_by_the_order() -> None:
    bot, broker, sink = audited_bot()
    bot.on_market(NOW, 750.0, {}, candidates())
    request = broker.requests[0]
    bot.on_order_update(OrderUpdate(1, request.client_id, "P700", OrderState.FILLED, 5.0, -4, 0.0, NOW))
    assert bot.book.positions == {} and AuditAction.ORDER_EVENT_UNMATCHED in sink.actions()


def test_a_held_contract_missing_from_the_chain_is_reported_once_a_day(caplog: pytest.LogCaptureFixture):
    bot, broker, sink = audited_bot()
    bot.on_market(NOW, 750.0, {}, candidates())
    fill(bot, broker.requests[0], -3, 5.0)
    for minute in range(3):
        bot.on_market(NOW.replace(minute=minute + 1), 750.0, {})
    assert sink.actions().count(AuditAction.QUOTE_MISSING) == 1
    assert [r.getMessage() for r in caplog.records].count("HELD_CONTRACT_NOT_IN_CHAIN") == 1
    assert bot.book.open_positions()[0].quantity == -3


def test_one_correlation_id_follows_the_trade_from_submit_to_close() -> None:
    bot, broker, sink = audited_bot(exit_dte="5")
    bot.on_market(NOW, 750.0, {}, candidates())
    fill(bot, broker.requests[0], -3, 5.0)
    late = datetime(2016, 2, 1, 10, 0)
    bot.on_market(late, 750.0, {"P700": candidates()[0]})
    fill(bot, broker.requests[1], 3, 2.0)
    story = [(e.action, e.correlation_id) for e in sink.entries if e.resource_type in ("order", "trade", "position")]
    assert {cid for _, cid in story} == {broker.requests[0].client_id}
    assert [a for a, _ in story] == [AuditAction.ORDER_SUBMIT, AuditAction.ORDER_FILL, AuditAction.TRADE_OPEN,
                                     AuditAction.EXPIRY_CLOSE, AuditAction.ORDER_SUBMIT, AuditAction.ORDER_FILL,
                                     AuditAction.TRADE_CLOSE]


def test_a_slippage_breach_turns_the_bot_reduce_only_until_the_next_session() -> None:
    bot, broker, sink = audited_bot(slippage_max_trade_pct="0.01", slippage_alert_pct="0.0")
    bot.on_market(NOW, 750.0, {}, candidates())
    fill(bot, broker.requests[0], -3, 4.0)  # sold 1.1 below the 5.1 mid: > 1 %
    assert bot.reduce_only and AuditAction.SLIPPAGE_BUDGET_BREACH in sink.actions()
    bot.book.mark_closed(bot.book.open_positions()[0])  # flat again, but still reduce-only today
    assert not bot.wants_candidates()
    bot.on_market(NOW + timedelta(days=1), 750.0, {})
    assert bot.wants_candidates()


def test_required_log_fields_are_present_for_every_event_the_bot_emits(caplog: pytest.LogCaptureFixture):
    bot, broker, _ = audited_bot(exit_dte="5")
    bot.on_market(NOW, 750.0, {}, candidates())
    fill(bot, broker.requests[0], -3, 5.0)
    bot.on_market(datetime(2016, 2, 1, 10, 0), 750.0, {"P700": candidates()[0]})
    fill(bot, broker.requests[1], 3, 2.0)
    bot.on_order_update(OrderUpdate(5, "C999", "P700", OrderState.INVALID, 0.0, 0, 0.0, NOW, message="no"))
    bot.record_failure("on_data", RuntimeError("boom"))
    seen = {r.getMessage() for r in caplog.records}
    assert {"TRADE_OPENED", "TRADE_CLOSED", "ORDER_SUBMITTED", "ORDER_FILLED", "ORDER_REJECTED",
            "COMPONENT_FAILED"} <= seen
    for record in caplog.records:
        assert not missing_fields(record.getMessage(), vars(record)), record.getMessage()
