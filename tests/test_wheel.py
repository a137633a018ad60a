"""The wheel: assigned shares kept (assignment_action=hold) are covered by calls at or above their
cost basis; with ``close``, or fewer than 100 shares, the usual entry applies."""

from __future__ import annotations

from datetime import date, datetime

from execution.positions.assignment import StockPosition
from execution.positions.wheel import covered_call_plan
from models.bot_config import BotConfig, OptionSide, Right
from models.market_data import ContractQuote
from tests.test_trading_bot import NOW, make_bot

EXPIRY = date(2016, 2, 5)


def chain() -> list[ContractQuote]:
    """Calls from 700 to 760 (delta falling with the strike) and one put."""
    calls = [ContractQuote(f"C{k}", Right.CALL, float(k), EXPIRY, 4.0, 4.2, 100, 0.3, delta)
             for k, delta in ((700, 0.62), (710, 0.52), (720, 0.42), (730, 0.33), (740, 0.25), (760, 0.12))]
    return [*calls, ContractQuote("P700", Right.PUT, 700.0, EXPIRY, 5.0, 5.2, 100, 0.3, -0.30)]


def shares(quantity: int, cost: float) -> StockPosition:
    return StockPosition("GOOG", quantity, cost, "P00001", datetime(2016, 1, 2, 16, 0), date(2016, 1, 2))


def config(**params: str) -> BotConfig:
    return BotConfig.from_parameters({"assignment_action": "hold", **params}.get)


def test_held_shares_plan_one_call_per_hundred_at_or_above_the_cost_basis() -> None:
    plan = covered_call_plan(config(), [shares(350, 735.0)], chain())
    assert plan is not None and plan.contracts == 3 and plan.cost_basis == 735.0
    assert {q.strike for q in plan.candidates} == {740.0, 760.0}
    assert (plan.config.entry_right, plan.config.entry_side, plan.config.entry_quantity) == \
        (Right.CALL, OptionSide.SELL, 3)


def test_no_plan_with_close_with_fewer_than_100_shares_or_with_another_underlying() -> None:
    assert covered_call_plan(config(assignment_action="close"), [shares(300, 720.0)], chain()) is None
    assert covered_call_plan(config(), [shares(99, 720.0)], chain()) is None
    assert covered_call_plan(config(), [shares(-300, 720.0)], chain()) is None  # short shares: not covered
    other = StockPosition("AAPL", 300, 100.0, "P00002", datetime(2016, 1, 2, 16, 0), date(2016, 1, 2))
    assert covered_call_plan(config(), [other], chain()) is None


def test_the_bot_sells_covered_calls_instead_of_puts_while_it_holds_assigned_shares() -> None:
    bot, broker = make_bot(assignment_action="hold", entry_target_delta="0.30", entry_quantity="5")
    bot.assignments.stocks["GOOG"] = shares(300, 725.0)
    bot.on_market(NOW, 728.0, {}, chain())
    (request,) = broker.requests
    assert request.symbol == "C730" and request.quantity == -3  # delta 0.33, the closest above the cost basis
    bot.on_market(NOW, 728.0, {}, chain())
    assert len(broker.requests) == 1  # the working entry is not sent twice


def test_with_close_the_bot_keeps_its_usual_entry() -> None:
    bot, broker = make_bot(assignment_action="close", entry_quantity="2")
    bot.assignments.stocks["GOOG"] = shares(300, 725.0)
    bot.on_market(NOW, 728.0, {}, chain())
    assert [(r.symbol, r.quantity) for r in broker.requests if r.symbol.startswith("P")] == [("P700", -2)]
