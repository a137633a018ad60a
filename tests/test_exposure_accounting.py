"""Working orders count: nothing closes twice, nothing strands, the gateway sees what is pending
(regressions of a review of the order paths)."""

from __future__ import annotations

from datetime import timedelta

from execution.trading_bot import TradingBot
from models.bot_config import BotConfig, Right
from models.market_data import ContractQuote
from models.orders import OrderPurpose
from models.risk_limits import RiskLimits
from tests.test_trading_bot import EXPIRY, NOW, FakeBroker, candidates, fill, make_bot

HOT = ContractQuote("P700", Right.PUT, 700.0, EXPIRY, 15.0, 15.2, 100, 0.3, -0.30)  # the short put rallied


def test_a_working_buy_back_from_a_person_stops_the_bot_closing_the_same_contracts_again() -> None:
    bot, broker = make_bot(entry_quantity="2", order_style="market")
    bot.on_market(NOW, 750.0, {}, candidates())
    fill(bot, broker.requests[0], -2, 5.0)
    bot.submit_external("REQ1", candidates()[0], 2, None, "user:jane", "human")  # working, not filled
    bot.on_market(NOW + timedelta(minutes=1), 740.0, {"P700": HOT})  # stop-loss level
    assert [r.purpose for r in broker.requests] == [OrderPurpose.ENTRY, OrderPurpose.EXTERNAL]


def test_an_order_lean_refuses_before_it_exists_does_not_cover_the_position_forever() -> None:
    bot, broker = make_bot(entry_quantity="1", order_style="market")
    bot.on_market(NOW, 750.0, {}, candidates())
    fill(bot, broker.requests[0], -1, 5.0)
    broker.submit = lambda request: (broker.requests.append(request), [0])[1]  # order id 0: no event follows
    bot.on_market(NOW + timedelta(minutes=1), 740.0, {"P700": HOT})
    assert bot.executor.active() == []
    broker.submit = lambda request: (broker.requests.append(request), [len(broker.requests)])[1]
    bot.on_market(NOW + timedelta(days=1), 740.0, {"P700": HOT})  # a new day: the stop-loss goes out again
    assert [r.purpose for r in broker.requests[1:]] == [OrderPurpose.STOP_LOSS, OrderPurpose.STOP_LOSS]
    assert bot.executor.active()[0].request.purpose == OrderPurpose.STOP_LOSS


def test_requests_from_agents_are_reduce_only_while_the_bot_is() -> None:
    bot, broker = make_bot(entry_enabled="false")
    bot.on_market(NOW, 750.0, {})
    bot.record_failure("on_data", RuntimeError("boom"))  # entries suspended until a person looks
    call = ContractQuote("C800", Right.CALL, 800.0, EXPIRY, 5.0, 5.2, 100, 0.3, 0.30)
    tracked = bot.submit_external("OPEN", call, -1, None, "agent:seven", "ai_agent")
    assert tracked.rejected and "circuit_breaker" in tracked.rejection and broker.requests == []


def test_resting_orders_count_toward_the_greek_limits() -> None:
    bot = TradingBot(BotConfig.from_parameters({"entry_enabled": "false"}.get), FakeBroker(),
                     limits=RiskLimits(max_abs_vega=500.0, max_abs_dollar_delta=1e9))
    bot.on_market(NOW, 750.0, {})
    first = ContractQuote("P700", Right.PUT, 700.0, EXPIRY, 5.0, 5.2, 100, 0.3, -0.30, 0.001, -50, 0.8, -0.1)
    second = ContractQuote("P690", Right.PUT, 690.0, EXPIRY, 3.0, 3.2, 100, 0.3, -0.20, 0.001, -40, 0.8, -0.1)
    resting = bot.submit_external("A", first, 5, 5.0, "agent:a", "ai_agent")  # +400 USD per vol point
    refused = bot.submit_external("B", second, 5, 3.0, "agent:a", "ai_agent")  # +400 more: 800 > 500
    assert not resting.rejected and refused.rejected and "vega" in refused.rejection
