"""Order handling of the harness (harness/brokerage.py) driven through HarnessEngine, with the LEAN
backtest semantics of DESIGN.md sections 3 and 5: fills at bid/ask, fees, portfolio, limit and
combo orders, the fill script (Reject / PartialFill), invalid orders and expiry settlement.

Each test runs a tiny QCAlgorithm over 2016-01-04 (the market's seed is fixed), acting on chosen
slices and recording every OrderEvent with the algorithm time it arrived at.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness.brokerage import FeeModel, PartialFill, Reject
from harness.engine import HarnessEngine
from harness.lean_enums import OptionRight, OrderDirection, OrderStatus
from harness.lean_orders import Leg, OrderEvent, OrderTicket
from harness.market import MarketConfig
from harness.qc_algorithm import QCAlgorithm

FIRST_DAY = date(2016, 1, 4)
WEEKLY = date(2016, 1, 8)  # the nearest expiry listed on FIRST_DAY
CALL, PUT = OptionRight.CALL, OptionRight.PUT
Step = Callable[["ChainAlgorithm", Any], None]


class ChainAlgorithm(QCAlgorithm):
    """GOOG options expiring within 10 days; runs ``steps[n]`` on the n-th slice (1-based, counted
    over the whole run) and records events, as (algorithm time, event), in ``self.events``."""

    steps: dict[int, Step] = {}
    end: date = FIRST_DAY
    cash: float = 100_000.0

    def initialize(self) -> None:
        self.set_start_date(FIRST_DAY)
        self.set_end_date(self.end)
        self.set_cash(self.cash)
        option = self.add_option("GOOG")
        option.set_filter(lambda u: u.strikes(-30, 30).expiration(0, 10))
        self.option_symbol = option.symbol
        self.events: list[tuple[datetime, OrderEvent]] = []
        self.slice_count = 0
        self.seen: dict[str, Any] = {}
        self.tickets: list[OrderTicket] = []

    def on_order_event(self, order_event: OrderEvent) -> None:
        self.events.append((self.time, order_event))

    def on_data(self, slice: Any) -> None:
        self.slice_count += 1
        chain = slice.option_chains.get(self.option_symbol)
        assert chain is not None and len(chain) > 0
        step = self.steps.get(self.slice_count)
        if step is not None:
            step(self, chain)
        if "watch" in self.seen:
            self.seen.setdefault("watched", []).append((self.time, self.seen["watch"](self, chain)))

    # helpers for the steps
    def statuses(self) -> list[OrderStatus]:
        return [e.status for _, e in self.events]


def scripted(steps: dict[int, Step], *, end: date = FIRST_DAY,
             cash: float = 100_000.0) -> type[ChainAlgorithm]:
    return type("ScriptedAlgorithm", (ChainAlgorithm,), {"steps": steps, "end": end, "cash": cash})


def run(tmp_path: Path, algorithm: type[ChainAlgorithm], *, market: MarketConfig | None = None,
        fees: FeeModel | None = None,
        configure: Callable[[HarnessEngine], None] | None = None) -> tuple[HarnessEngine, ChainAlgorithm]:
    engine = HarnessEngine(algorithm, parameters={}, storage_dir=tmp_path,
                           market_config=market or MarketConfig(seed=1), fees=fees)
    if configure is not None:
        configure(engine)
    engine.run()
    assert isinstance(engine.algorithm, ChainAlgorithm)
    return engine, engine.algorithm


def contract(chain: Any, right: OptionRight, strike: float, expiry: date = WEEKLY) -> Any:
    for c in chain:
        if c.right == right and c.strike == strike and c.expiry.date() == expiry:
            return c
    raise AssertionError(f"no {right.name} {strike} {expiry} in the chain")


def fills(algo: ChainAlgorithm) -> list[OrderEvent]:
    return [e for _, e in algo.events if e.status in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED)]


def fee_of(event: OrderEvent) -> float:
    return event.order_fee.value.amount


# -- market orders ------------------------------------------------------------------------------
def _buy_atm_call(algo: ChainAlgorithm, chain: Any) -> None:
    call = contract(chain, CALL, 750)
    algo.seen.update(symbol=call.symbol, bid=call.bid_price, ask=call.ask_price,
                     events_before=len(algo.events))
    algo.tickets.append(algo.market_order(call.symbol, 1))
    algo.seen["statuses_after_call"] = algo.statuses()


def test_market_buy_fills_at_the_ask_inside_the_market_order_call(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _buy_atm_call}))

    assert algo.seen["events_before"] == 0
    assert algo.seen["statuses_after_call"] == [OrderStatus.SUBMITTED, OrderStatus.FILLED]
    [fill] = fills(algo)
    assert fill.fill_price == algo.seen["ask"]
    assert fill.fill_quantity == 1
    assert fill.direction == OrderDirection.BUY
    assert fill.symbol == algo.seen["symbol"]
    [ticket] = algo.tickets
    assert ticket.status == OrderStatus.FILLED
    assert ticket.quantity_filled == 1
    assert ticket.average_fill_price == algo.seen["ask"]
    assert fill.order_id == ticket.order_id


def _sell_atm_put(algo: ChainAlgorithm, chain: Any) -> None:
    put = contract(chain, PUT, 750)
    algo.seen.update(bid=put.bid_price, ask=put.ask_price)
    algo.tickets.append(algo.market_order(put.symbol, -1))
    algo.seen["statuses_after_call"] = algo.statuses()


def test_market_sell_fills_at_the_bid_inside_the_market_order_call(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _sell_atm_put}))

    assert algo.seen["statuses_after_call"] == [OrderStatus.SUBMITTED, OrderStatus.FILLED]
    [fill] = fills(algo)
    assert fill.fill_price == algo.seen["bid"]
    assert fill.fill_price < algo.seen["ask"]
    assert fill.fill_quantity == -1
    assert fill.direction == OrderDirection.SELL


def test_market_order_events_carry_the_time_of_the_slice(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({5: _buy_atm_call}))

    times = {t for t, _ in algo.events}
    assert times == {datetime(2016, 1, 4, 9, 35)}
    # 09:35 New York (EST) is 14:35 UTC
    assert {e.utc_time for _, e in algo.events} == {datetime(2016, 1, 4, 14, 35)}


# -- fees ---------------------------------------------------------------------------------------
def _buy_calls(quantity: int) -> Step:
    def step(algo: ChainAlgorithm, chain: Any) -> None:
        call = contract(chain, CALL, 750)
        algo.seen.update(ask=call.ask_price, cash_before=algo.portfolio.cash)
        algo.tickets.append(algo.market_order(call.symbol, quantity))
        algo.seen["cash_after"] = algo.portfolio.cash
    return step


@pytest.mark.parametrize(("quantity", "fee"), [(1, 1.00), (2, 1.30), (3, 1.95), (10, 6.50)])
def test_fee_is_per_contract_with_a_per_order_minimum(tmp_path: Path, quantity: int, fee: float) -> None:
    engine, algo = run(tmp_path, scripted({1: _buy_calls(quantity)}))

    [fill] = fills(algo)
    assert fee_of(fill) == pytest.approx(fee)
    expected_cash = algo.seen["cash_before"] - quantity * algo.seen["ask"] * 100 - fee
    assert algo.seen["cash_after"] == pytest.approx(expected_cash)
    assert algo.portfolio.total_fees == pytest.approx(fee)
    assert engine.brokerage.fees_paid == pytest.approx(fee)


def test_a_custom_fee_model_is_used(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _buy_calls(3)}), fees=FeeModel(per_contract=0.5, min_per_order=2.0))

    [fill] = fills(algo)
    assert fee_of(fill) == pytest.approx(2.0)


def test_fee_of_a_sale_is_also_charged(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _sell_atm_put}))

    [fill] = fills(algo)
    assert fee_of(fill) == pytest.approx(1.00)
    assert algo.portfolio.cash == pytest.approx(100_000 + algo.seen["bid"] * 100 - 1.00)


def _partial_two_lot(engine: HarnessEngine) -> None:
    engine.brokerage.script.add(lambda order: True, PartialFill(0.5))


def test_an_order_filled_in_parts_pays_the_per_order_fee_once(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _buy_calls(2)}), configure=_partial_two_lot)

    assert [e.status for e in fills(algo)] == [OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED]
    assert sum(fee_of(e) for e in fills(algo)) == pytest.approx(max(0.65 * 2, 1.00))


# -- portfolio ----------------------------------------------------------------------------------
def _buy_two_then_sell_one(algo: ChainAlgorithm, chain: Any) -> None:
    call = contract(chain, CALL, 750)
    security = algo.securities[call.symbol]
    if algo.slice_count == 1:
        algo.seen.update(symbol=call.symbol, ask=call.ask_price)
        algo.market_order(call.symbol, 2)
        holding = algo.portfolio[call.symbol]
        algo.seen.update(
            cash_1=algo.portfolio.cash, quantity_1=holding.quantity, average_1=holding.average_price,
            price_1=security.price, bid_1=call.bid_price, holdings_value_1=holding.holdings_value,
            unrealized_1=holding.unrealized_profit, total_1=algo.portfolio.total_portfolio_value,
            invested_1=algo.portfolio.invested)
    else:
        algo.seen.update(bid_2=call.bid_price, cash_before_2=algo.portfolio.cash)
        algo.market_order(call.symbol, -1)
        holding = algo.portfolio[call.symbol]
        algo.seen.update(
            cash_2=algo.portfolio.cash, quantity_2=holding.quantity, average_2=holding.average_price,
            price_2=security.price, net_profit_2=holding.net_profit,
            total_2=algo.portfolio.total_portfolio_value)


def test_cash_and_holdings_after_a_buy(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _buy_two_then_sell_one, 2: _buy_two_then_sell_one}))
    seen = algo.seen
    ask, mid = seen["ask"], seen["price_1"]

    assert seen["cash_1"] == pytest.approx(100_000 - 2 * ask * 100 - 1.30)
    assert seen["quantity_1"] == 2
    assert seen["average_1"] == pytest.approx(ask)
    assert seen["invested_1"] is True
    assert mid == pytest.approx((seen["bid_1"] + ask) / 2)
    assert seen["holdings_value_1"] == pytest.approx(2 * mid * 100)
    assert seen["total_1"] == pytest.approx(seen["cash_1"] + 2 * mid * 100)
    assert seen["unrealized_1"] < 0  # bought at the ask: worth less than paid right away


def test_cash_and_holdings_after_selling_part_of_a_position(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _buy_two_then_sell_one, 2: _buy_two_then_sell_one}))
    seen = algo.seen

    assert seen["cash_2"] == pytest.approx(seen["cash_before_2"] + seen["bid_2"] * 100 - 1.00)
    assert seen["quantity_2"] == 1
    assert seen["average_2"] == pytest.approx(seen["ask"])  # unchanged when a position shrinks
    assert seen["net_profit_2"] == pytest.approx((seen["bid_2"] - seen["ask"]) * 100)
    assert seen["total_2"] == pytest.approx(seen["cash_2"] + 1 * seen["price_2"] * 100)


@pytest.mark.xfail(strict=True, reason=(
    "BUG: lean_securities.SecurityHolding.unrealized_profit values the position at the mid price "
    "without fees; LEAN's UnrealizedProfit is TotalCloseProfit(): the bid (long) or ask (short) "
    "less the fee of the closing market order"))
def test_unrealized_profit_is_what_closing_at_market_now_would_make(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _buy_two_then_sell_one, 2: _buy_two_then_sell_one}))
    seen = algo.seen

    closing_fee = max(0.65 * 2, 1.00)
    assert seen["unrealized_1"] == pytest.approx((seen["bid_1"] - seen["ask"]) * 2 * 100 - closing_fee)


def test_a_short_sale_adds_the_premium_to_cash_and_holds_a_negative_quantity(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _sell_atm_put}))

    [_, fill] = [e for _, e in algo.events]
    holding = algo.portfolio[fill.symbol]
    assert holding.quantity == -1
    assert holding.average_price == pytest.approx(algo.seen["bid"])
    assert algo.portfolio.total_portfolio_value == pytest.approx(
        algo.portfolio.cash + holding.quantity * algo.securities[fill.symbol].price * 100)


# -- limit orders -------------------------------------------------------------------------------
def _watch_put(algo: ChainAlgorithm, chain: Any) -> float:
    return contract(chain, PUT, 750).ask_price


def _cheap_put_limit(algo: ChainAlgorithm, chain: Any) -> None:
    put = contract(chain, PUT, 750)
    limit = round(0.25 * put.ask_price, 2)
    algo.seen.update(limit=limit, ask_at_order=put.ask_price, watch=_watch_put)
    algo.tickets.append(algo.limit_order(put.symbol, 1, limit))
    algo.seen["statuses_after_call"] = algo.statuses()


RALLY = MarketConfig(seed=1, shocks=((datetime(2016, 1, 4, 11, 0), 0.10),))  # +10% at 11:00


def test_limit_order_does_not_fill_until_crossed_then_fills_on_that_slice(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _cheap_put_limit}), market=RALLY)
    limit = algo.seen["limit"]
    watched = algo.seen["watched"]  # (time, put ask) from each slice's on_data, placing slice included

    assert algo.seen["statuses_after_call"] == [OrderStatus.SUBMITTED]
    crossing = [(t, ask) for t, ask in watched[1:] if ask <= limit]
    assert crossing, "the rally should have made the put cheap enough"
    first_time, first_ask = crossing[0]
    assert first_time > datetime(2016, 1, 4, 9, 32)  # some slices went by without a fill
    [(fill_time, fill)] = [(t, e) for t, e in algo.events if e.status == OrderStatus.FILLED]
    assert fill_time == first_time
    assert fill.fill_price == first_ask
    assert fill.fill_price <= limit
    assert algo.tickets[0].status == OrderStatus.FILLED


def _marketable_limit_buy(algo: ChainAlgorithm, chain: Any) -> None:
    call = contract(chain, CALL, 750)
    algo.seen.update(watch=lambda a, c: contract(c, CALL, 750).ask_price)
    algo.tickets.append(algo.limit_order(call.symbol, 1, call.ask_price + 5.0))
    algo.seen["statuses_after_call"] = algo.statuses()
    algo.seen["open_orders"] = len(algo.transactions.get_open_orders())


def test_marketable_limit_order_fills_on_the_next_slice_not_inside_the_call(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _marketable_limit_buy}))

    assert algo.seen["statuses_after_call"] == [OrderStatus.SUBMITTED]
    assert algo.seen["open_orders"] == 1
    [(fill_time, fill)] = [(t, e) for t, e in algo.events if e.status == OrderStatus.FILLED]
    assert fill_time == datetime(2016, 1, 4, 9, 32)
    second_slice_ask = algo.seen["watched"][1][1]
    assert fill.fill_price == second_slice_ask
    assert algo.transactions.get_open_orders() == []


def _limit_never_reached(algo: ChainAlgorithm, chain: Any) -> None:
    call = contract(chain, CALL, 750)
    algo.tickets.append(algo.limit_order(call.symbol, 1, 0.01))


def test_limit_order_below_the_market_stays_open(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _limit_never_reached}))

    assert algo.statuses() == [OrderStatus.SUBMITTED]
    assert algo.tickets[0].status == OrderStatus.SUBMITTED
    assert len(algo.transactions.get_open_orders()) == 1


def _sell_limit_above_the_market(algo: ChainAlgorithm, chain: Any) -> None:
    put = contract(chain, PUT, 750)
    algo.tickets.append(algo.limit_order(put.symbol, -1, put.bid_price * 4 + 50))


def test_sell_limit_above_the_bid_does_not_fill(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _sell_limit_above_the_market}))

    assert algo.statuses() == [OrderStatus.SUBMITTED]


# -- combo orders -------------------------------------------------------------------------------
def _bull_call_spread(algo: ChainAlgorithm, chain: Any) -> tuple[Any, Any]:
    return contract(chain, CALL, 750), contract(chain, CALL, 760)


def _combo_market(algo: ChainAlgorithm, chain: Any) -> None:
    long_leg, short_leg = _bull_call_spread(algo, chain)
    algo.seen.update(long_ask=long_leg.ask_price, short_bid=short_leg.bid_price,
                     long_symbol=long_leg.symbol, short_symbol=short_leg.symbol)
    legs = [Leg.create(long_leg.symbol, 1), Leg.create(short_leg.symbol, -1)]
    algo.tickets.extend(algo.combo_market_order(legs, 2))
    algo.seen["statuses_after_call"] = algo.statuses()


def test_combo_market_order_returns_one_ticket_per_leg(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _combo_market}))

    assert len(algo.tickets) == 2
    assert [t.symbol for t in algo.tickets] == [algo.seen["long_symbol"], algo.seen["short_symbol"]]
    assert [t.quantity for t in algo.tickets] == [2, -2]
    assert len({t.order_id for t in algo.tickets}) == 2
    assert all(t.status == OrderStatus.FILLED for t in algo.tickets)


def test_combo_market_order_produces_one_filled_event_per_leg(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _combo_market}))

    filled = [e for _, e in algo.events if e.status == OrderStatus.FILLED]
    assert len(filled) == 2
    by_symbol = {e.symbol: e for e in filled}
    long_fill, short_fill = by_symbol[algo.seen["long_symbol"]], by_symbol[algo.seen["short_symbol"]]
    assert (long_fill.fill_quantity, long_fill.fill_price) == (2, algo.seen["long_ask"])
    assert (short_fill.fill_quantity, short_fill.fill_price) == (-2, algo.seen["short_bid"])
    assert {e.order_id for e in filled} == {t.order_id for t in algo.tickets}
    assert OrderStatus.FILLED in algo.seen["statuses_after_call"]  # filled inside the call
    assert algo.portfolio[algo.seen["long_symbol"]].quantity == 2
    assert algo.portfolio[algo.seen["short_symbol"]].quantity == -2


def _spread_net(chain: Any) -> float:
    long_leg, short_leg = contract(chain, CALL, 750), contract(chain, CALL, 760)
    return long_leg.ask_price - short_leg.bid_price


def _combo_limit(limit_from_net: Callable[[float], float]) -> Step:
    def step(algo: ChainAlgorithm, chain: Any) -> None:
        long_leg, short_leg = _bull_call_spread(algo, chain)
        net = _spread_net(chain)
        limit = round(limit_from_net(net), 2)
        algo.seen.update(net=net, limit=limit, watch=lambda a, c: (
            _spread_net(c), contract(c, CALL, 750).ask_price, contract(c, CALL, 760).bid_price))
        legs = [Leg.create(long_leg.symbol, 1), Leg.create(short_leg.symbol, -1)]
        algo.tickets.extend(algo.combo_limit_order(legs, 1, limit))
        algo.seen["statuses_after_call"] = algo.statuses()
    return step


SELL_OFF = MarketConfig(seed=1, shocks=((datetime(2016, 1, 4, 11, 0), -0.10),))  # -10% at 11:00


def test_combo_limit_order_fills_all_legs_on_the_slice_the_net_price_crosses(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _combo_limit(lambda net: net * 0.3)}), market=SELL_OFF)
    limit = algo.seen["limit"]
    watched = algo.seen["watched"]

    assert algo.seen["statuses_after_call"] == [OrderStatus.SUBMITTED, OrderStatus.SUBMITTED]
    crossing = [(t, quotes) for t, quotes in watched[1:] if quotes[0] <= limit]
    assert crossing, "the sell-off should have made the spread cheap enough"
    first_time, (_, long_ask, short_bid) = crossing[0]
    assert first_time > datetime(2016, 1, 4, 9, 32)
    filled = [(t, e) for t, e in algo.events if e.status == OrderStatus.FILLED]
    assert len(filled) == 2
    assert {t for t, _ in filled} == {first_time}
    assert sorted((e.fill_quantity, e.fill_price) for _, e in filled) == [(-1, short_bid), (1, long_ask)]


def test_combo_limit_order_below_the_net_price_fills_no_leg(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _combo_limit(lambda net: 0.05)}))

    assert min(quotes[0] for _, quotes in algo.seen["watched"]) > algo.seen["limit"]  # never crossed
    assert algo.statuses() == [OrderStatus.SUBMITTED, OrderStatus.SUBMITTED]
    assert all(t.status == OrderStatus.SUBMITTED for t in algo.tickets)


def test_marketable_combo_limit_order_fills_both_legs_on_the_next_slice(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _combo_limit(lambda net: net + 2.0)}))

    assert algo.seen["statuses_after_call"] == [OrderStatus.SUBMITTED, OrderStatus.SUBMITTED]
    filled = [(t, e) for t, e in algo.events if e.status == OrderStatus.FILLED]
    assert len(filled) == 2
    assert {t for t, _ in filled} == {datetime(2016, 1, 4, 9, 32)}


def _combo_too_big_for_cash(algo: ChainAlgorithm, chain: Any) -> None:
    first, second = contract(chain, CALL, 650), contract(chain, CALL, 655)
    algo.seen["costs"] = (first.ask_price * 100, second.ask_price * 100, algo.portfolio.cash)
    legs = [Leg.create(first.symbol, 1), Leg.create(second.symbol, 1)]
    algo.tickets.extend(algo.combo_market_order(legs, 1))


def test_combo_that_the_cash_cannot_cover_is_rejected_as_a_whole(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _combo_too_big_for_cash}, cash=15_000.0))
    first_cost, second_cost, cash = algo.seen["costs"]
    assert first_cost < cash and second_cost < cash < first_cost + second_cost  # the scenario

    assert [t.status for t in algo.tickets] == [OrderStatus.INVALID, OrderStatus.INVALID]
    assert not fills(algo)


# -- the fill script ----------------------------------------------------------------------------
def _reject_everything_once(engine: HarnessEngine) -> None:
    engine.brokerage.script.add(lambda order: True, Reject("Simulated: no liquidity"))


def _two_market_buys(algo: ChainAlgorithm, chain: Any) -> None:
    call = contract(chain, CALL, 750)
    algo.tickets.append(algo.market_order(call.symbol, 1))
    algo.seen["cash_after_first"] = algo.portfolio.cash
    algo.tickets.append(algo.market_order(call.symbol, 1))


def test_reject_makes_the_order_invalid_with_the_reason_in_the_message(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _two_market_buys}), configure=_reject_everything_once)

    first, second = algo.tickets
    assert first.status == OrderStatus.INVALID
    first_events = [e for _, e in algo.events if e.order_id == first.order_id]
    assert [e.status for e in first_events] == [OrderStatus.INVALID]
    assert first_events[0].message == "Simulated: no liquidity"
    assert algo.seen["cash_after_first"] == 100_000
    assert second.status == OrderStatus.FILLED  # the directive was for one use


def _partial_half(remainder: str) -> Callable[[HarnessEngine], None]:
    def configure(engine: HarnessEngine) -> None:
        engine.brokerage.script.add(lambda order: order.quantity == 4, PartialFill(0.5, remainder=remainder))
    return configure


def _buy_four(algo: ChainAlgorithm, chain: Any) -> None:
    call = contract(chain, CALL, 750)
    algo.seen.update(ask_1=call.ask_price, watch=lambda a, c: contract(c, CALL, 750).ask_price)
    algo.tickets.append(algo.market_order(call.symbol, 4))
    algo.seen["statuses_after_call"] = algo.statuses()


def test_partial_fill_fills_part_now_and_the_rest_on_the_next_slice(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _buy_four}), configure=_partial_half("next_slice"))

    assert algo.seen["statuses_after_call"] == [OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED]
    part, rest = [(t, e) for t, e in algo.events if e.fill_quantity]
    assert part[1].status == OrderStatus.PARTIALLY_FILLED
    assert (part[0], part[1].fill_quantity, part[1].fill_price) == (
        datetime(2016, 1, 4, 9, 31), 2, algo.seen["ask_1"])
    assert rest[1].status == OrderStatus.FILLED
    assert (rest[0], rest[1].fill_quantity, rest[1].fill_price) == (
        datetime(2016, 1, 4, 9, 32), 2, algo.seen["watched"][1][1])
    assert algo.tickets[0].quantity_filled == 4
    assert algo.portfolio[algo.tickets[0].symbol].quantity == 4


def _buy_four_then_cancel(algo: ChainAlgorithm, chain: Any) -> None:
    if algo.slice_count == 1:
        _buy_four(algo, chain)
        return
    algo.seen["status_before_cancel"] = algo.tickets[0].status
    algo.seen["events_before_cancel"] = len(algo.events)
    algo.seen["cancelled"] = algo.tickets[0].cancel()
    algo.seen["cancelled_again"] = algo.tickets[0].cancel()


def test_partial_fill_with_remainder_never_stays_open_until_cancelled(tmp_path: Path) -> None:
    steps = {1: _buy_four_then_cancel, 30: _buy_four_then_cancel}
    _, algo = run(tmp_path, scripted(steps), configure=_partial_half("never"))

    assert algo.seen["status_before_cancel"] == OrderStatus.PARTIALLY_FILLED
    assert algo.seen["events_before_cancel"] == 2  # SUBMITTED, PARTIALLY_FILLED: nothing for 29 slices
    # OrderTicket.Cancel returns an OrderResponse in LEAN (Common/Orders/OrderTicket.cs)
    assert algo.seen["cancelled"].is_success is True
    assert algo.seen["cancelled_again"].is_success is False
    assert algo.statuses() == [OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED, OrderStatus.CANCELED]
    cancel_time, _ = algo.events[-1]
    assert cancel_time == datetime(2016, 1, 4, 10, 0)
    assert algo.tickets[0].status == OrderStatus.CANCELED
    assert algo.tickets[0].quantity_filled == 2
    assert algo.portfolio[algo.tickets[0].symbol].quantity == 2


def test_partial_fill_with_remainder_after_cancel_fills_the_rest_after_the_canceled_event(tmp_path: Path) -> None:
    """A live brokerage can report a fill after CANCELED; LEAN applies it to the portfolio all the
    same (``HandleOrderEvents`` in Engine/TransactionHandlers/BrokerageTransactionHandler.cs)."""
    steps = {1: _buy_four_then_cancel, 30: _buy_four_then_cancel}
    _, algo = run(tmp_path, scripted(steps), configure=_partial_half("after_cancel"))

    assert algo.statuses() == [OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED, OrderStatus.CANCELED,
                               OrderStatus.FILLED]
    (cancel_time, _), (late_time, late) = algo.events[-2:]
    assert late_time == cancel_time + timedelta(minutes=1) and late.fill_quantity == 2
    assert algo.portfolio[algo.tickets[0].symbol].quantity == 4


def test_an_unknown_partial_fill_remainder_is_refused() -> None:
    with pytest.raises(ValueError, match="remainder"):
        PartialFill(0.5, remainder="later")


def _marketable_limit_for_four(algo: ChainAlgorithm, chain: Any) -> None:
    call = contract(chain, CALL, 750)
    algo.tickets.append(algo.limit_order(call.symbol, 4, call.ask_price + 5.0))


def test_partial_fill_of_a_limit_order_applies_when_crossed(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _marketable_limit_for_four}), configure=_partial_half("next_slice"))

    timed = [(t, e.status, e.fill_quantity) for t, e in algo.events]
    assert timed == [
        (datetime(2016, 1, 4, 9, 31), OrderStatus.SUBMITTED, 0),
        (datetime(2016, 1, 4, 9, 32), OrderStatus.PARTIALLY_FILLED, 2),
        (datetime(2016, 1, 4, 9, 33), OrderStatus.FILLED, 2),
    ]


# -- invalid orders -----------------------------------------------------------------------------
def _order_quantity(quantity: float) -> Step:
    def step(algo: ChainAlgorithm, chain: Any) -> None:
        call = contract(chain, CALL, 750)
        algo.tickets.append(algo.market_order(call.symbol, quantity))
    return step


@pytest.mark.parametrize("quantity", [0, -0.5])
def test_order_for_zero_or_less_than_one_contract_is_refused_before_it_exists(tmp_path: Path, quantity: float) -> None:
    """QCAlgorithm.PreOrderChecksImpl [Algorithm/QCAlgorithm.Trading.cs]: zero quantity or less
    than the lot size gives an invalid ticket (order id 0), no OrderEvent and no order."""
    engine, algo = run(tmp_path, scripted({1: _order_quantity(quantity)}))

    assert algo.events == []
    assert algo.tickets[0].status == OrderStatus.INVALID and algo.tickets[0].order_id == 0
    assert engine.brokerage.orders == {} and engine.brokerage.refusals
    assert algo.portfolio.cash == 100_000


@pytest.mark.parametrize("quantity", [1.5])
def test_order_for_a_fraction_of_a_contract_is_invalid(tmp_path: Path, quantity: float) -> None:
    _, algo = run(tmp_path, scripted({1: _order_quantity(quantity)}))

    [(_, event)] = algo.events
    assert event.status == OrderStatus.INVALID
    assert event.message
    assert algo.tickets[0].status == OrderStatus.INVALID
    assert algo.portfolio.cash == 100_000
    assert not algo.portfolio.invested


def test_order_the_cash_cannot_cover_is_invalid(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _order_quantity(1000)}))

    [(_, event)] = algo.events
    assert event.status == OrderStatus.INVALID
    assert "buying power" in event.message.lower()


def _combo_with_a_bad_ratio_leg(algo: ChainAlgorithm, chain: Any) -> None:
    long_leg, short_leg = _bull_call_spread(algo, chain)
    legs = [Leg.create(long_leg.symbol, 1), Leg.create(short_leg.symbol, -1)]
    algo.tickets.extend(algo.combo_market_order(legs, 0))


def test_combo_with_an_invalid_leg_is_rejected_as_a_whole(tmp_path: Path) -> None:
    """QCAlgorithm.SubmitComboOrder [Algorithm/QCAlgorithm.Trading.cs] pre-checks every leg before
    any order exists; the first failing leg (zero quantity here) returns its invalid ticket alone."""
    engine, algo = run(tmp_path, scripted({1: _combo_with_a_bad_ratio_leg}))

    assert [t.status for t in algo.tickets] == [OrderStatus.INVALID]
    assert algo.tickets[0].order_id == 0
    assert algo.statuses() == [] and engine.brokerage.orders == {}


# -- expiry -------------------------------------------------------------------------------------
def _open_expiring_positions(algo: ChainAlgorithm, chain: Any) -> None:
    positions = {
        "long_itm_call": (contract(chain, CALL, 650), 1),
        "long_otm_call": (contract(chain, CALL, 850), 1),
        "short_itm_put": (contract(chain, PUT, 850), -1),
        "short_otm_put": (contract(chain, PUT, 650), -1),
    }
    algo.seen["symbols"] = {name: c.symbol for name, (c, _) in positions.items()}
    for c, quantity in positions.values():
        algo.tickets.append(algo.market_order(c.symbol, quantity))
    algo.seen["watch"] = lambda a, c: {name: a.portfolio[s].quantity for name, s in a.seen["symbols"].items()}


NEXT_TRADING_DAY = date(2016, 1, 11)  # the Monday after the WEEKLY expiry


def _watch_spot(algo: ChainAlgorithm, chain: Any) -> None:
    _open_expiring_positions(algo, chain)
    quantities = algo.seen["watch"]
    algo.seen["watch"] = lambda a, c: (quantities(a, c), c.underlying.price)


def _expiry_events(algo: ChainAlgorithm) -> list[tuple[datetime, OrderEvent]]:
    return [(t, e) for t, e in algo.events if e.order_id not in {tk.order_id for tk in algo.tickets}]


def test_expiring_options_are_exercised_and_assigned_at_the_open_of_the_next_trading_day(tmp_path: Path) -> None:
    """LEAN delists an option on the next tradable day after expiry; the exercise model
    [Common/Orders/OptionExercise/DefaultExerciseModel.cs] fills it at 0 (is_in_the_money; the short
    ITM one is_assignment) and delivers 100 shares per contract at the strike when in the money."""
    _, algo = run(tmp_path, scripted({1: _watch_spot}, end=NEXT_TRADING_DAY))
    assert all(t.status == OrderStatus.FILLED for t in algo.tickets)
    closes = [price for moment, (_, price) in algo.seen["watched"] if moment.date() == WEEKLY]
    spot = closes[-1]
    assert 650 < spot < 850  # the scenario: ITM/OTM as named
    symbols = algo.seen["symbols"]
    events = _expiry_events(algo)

    options = {e.symbol: (t, e) for t, e in events if e.symbol in symbols.values()}
    assert set(options) == set(symbols.values())
    for name, symbol in symbols.items():
        moment, event = options[symbol]
        assert moment == datetime(2016, 1, 11, 9, 30), name
        assert event.status == OrderStatus.FILLED and event.fill_price == 0.0, name
        assert event.is_in_the_money is ("_itm_" in name), name
        assert event.is_assignment is (name == "short_itm_put"), name
        assert algo.portfolio[symbol].quantity == 0, name
    shares = sorted((e.fill_quantity, e.fill_price) for _, e in events if e.symbol not in symbols.values())
    assert shares == [(100, 650.0), (100, 850.0)]  # long call exercised; short put assigned (buys at 850)
    assert algo.portfolio["GOOG"].quantity == 200
    [(held_at_close, _)] = [w for t, w in algo.seen["watched"] if t == datetime(2016, 1, 8, 16, 0)]
    assert held_at_close == {"long_itm_call": 1, "long_otm_call": 1, "short_itm_put": -1, "short_otm_put": -1}


def test_exercise_and_assignment_move_the_strike_into_shares_without_fees(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _open_expiring_positions}, end=NEXT_TRADING_DAY))
    ticket_ids = {t.order_id for t in algo.tickets}
    fees_before = sum(fee_of(e) for e in fills(algo) if e.order_id in ticket_ids)
    premium = sum(-e.fill_quantity * e.fill_price * 100 for e in fills(algo) if e.order_id in ticket_ids)

    assert all(fee_of(e) == 0 for e in fills(algo) if e.order_id not in ticket_ids)
    assert algo.portfolio.cash == pytest.approx(100_000 + premium - fees_before - 650 * 100 - 850 * 100)
    assert algo.portfolio.total_fees == pytest.approx(fees_before)
    assert [s.value for s, sec in algo.securities.items() if sec.holdings.quantity] == ["GOOG"]


def test_an_option_is_still_held_on_its_expiry_day(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _long_weekly_call}, end=WEEKLY))

    assert algo.statuses() == [OrderStatus.SUBMITTED, OrderStatus.FILLED]
    assert algo.portfolio[algo.tickets[0].symbol].quantity == 1


def _long_weekly_call(algo: ChainAlgorithm, chain: Any) -> None:
    algo.tickets.append(algo.market_order(contract(chain, CALL, 750).symbol, 1))


def test_an_option_is_not_settled_before_its_expiry_day(tmp_path: Path) -> None:
    _, algo = run(tmp_path, scripted({1: _long_weekly_call}, end=date(2016, 1, 7)))

    assert algo.statuses() == [OrderStatus.SUBMITTED, OrderStatus.FILLED]
    assert algo.portfolio[algo.tickets[0].symbol].quantity == 1
