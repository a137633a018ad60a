"""Combo orders, order updates and market-on-close timing in the harness, each as the LEAN source it
cites: ComboLegLimitFill [Common/Orders/Fills/FillModel.cs], ComboLegLimitOrder / ComboLimitOrder
argument checks [Algorithm/QCAlgorithm.Trading.cs], group cancel [Brokerages/Backtesting/
BacktestingBrokerage.cs CancelOrder], limit updates [Common/Orders/ComboLimitOrder.cs,
ComboLegLimitOrder.cs ApplyUpdateOrderRequest], price rounding [Engine/TransactionHandlers/
BrokerageTransactionHandler.cs RoundOrderPrices], the fee tier's premium [Common/Orders/Fees/
InteractiveBrokersFeeModel.cs GetPotentialOrderPrice] and the market-on-close cut-off
[Common/Orders/MarketOnCloseOrder.cs SubmissionTimeBuffer, QCAlgorithm.Trading.cs PreOrderChecksImpl]."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from harness.lean_enums import OrderField, OrderStatus, OrderType
from harness.lean_orders import Leg, MarketOnCloseOrder, OrderExtensions, UpdateOrderFields
from harness.lean_securities import SecurityTransactionManager
from harness.market_hours import ExchangeHours, Segment
from harness.qc_algorithm import QCAlgorithm
from tests.test_lean_semantics import BARS, LONG, SHORT, _Bars, _brokerage

# (high, low) of the ask bar (True) and the bid bar (False):
# LONG ask 5.2/4.8, bid 5.0/4.6; SHORT ask 2.3/2.0, bid 2.1/1.9


def _leg(symbol, ratio: int, price: float) -> Leg:
    return Leg.create(symbol, ratio, price)


@pytest.mark.parametrize(("long_limit", "short_limit", "fills"), [
    (4.81, 2.09, [("LONG", 2, 4.81), ("SHORT", -2, 2.09)]),  # both cross: each at its own limit
    (9.00, 1.00, [("LONG", 2, 5.2), ("SHORT", -2, 1.9)]),  # far through: the bar's High (buy) / Low (sell)
    (4.80, 1.00, []),  # the buy leg's Low is not strictly below its limit: no leg fills
    (9.00, 2.10, []),  # the sell leg's High is not strictly above its limit: no leg fills
])
def test_a_combo_leg_limit_order_fills_every_leg_by_its_own_limit_or_none(long_limit, short_limit, fills) -> None:
    brokerage, events = _brokerage(_Bars(BARS))
    tickets = brokerage.combo_order([_leg(LONG, 1, long_limit), _leg(SHORT, -1, short_limit)], 2, None, "")

    brokerage.on_slice()

    names = {LONG.value: "LONG", SHORT.value: "SHORT"}
    filled = sorted((names[e.symbol.value], e.fill_quantity, e.fill_price) for e in events
                    if e.status == OrderStatus.FILLED)
    assert filled == fills
    assert {t.order_type for t in tickets} == {OrderType.COMBO_LEG_LIMIT}
    assert [t.get(OrderField.LIMIT_PRICE) for t in tickets] == [long_limit, short_limit]


def test_leg_limit_prices_are_rounded_to_the_contracts_tick_when_submitted() -> None:
    brokerage, _ = _brokerage(_Bars(BARS))

    tickets = brokerage.combo_order([_leg(LONG, 1, 4.8049), _leg(SHORT, -1, 2.0951)], 1, None, "")

    assert [t.get(OrderField.LIMIT_PRICE) for t in tickets] == [4.80, 2.10]


def test_combo_leg_limit_order_needs_a_price_on_every_leg_and_combo_limit_order_none() -> None:
    algorithm = QCAlgorithm()  # both checks throw before anything reaches the brokerage

    with pytest.raises(ValueError, match="requires a limit price for each leg"):
        algorithm.combo_leg_limit_order([_leg(LONG, 1, 4.9), Leg.create(SHORT, -1)], 1)
    with pytest.raises(ValueError, match="requires a limit price for each leg"):
        algorithm.combo_leg_limit_order([_leg(LONG, 1, 4.9), _leg(SHORT, -1, 0)], 1)
    with pytest.raises(ValueError, match="does not support limit prices for individual legs"):
        algorithm.combo_limit_order([_leg(LONG, 1, 4.9), Leg.create(SHORT, -1)], 1, 2.5)


def test_cancelling_one_leg_cancels_the_whole_combo_and_a_second_cancel_fails() -> None:
    brokerage, events = _brokerage(_Bars(BARS))
    first, second = brokerage.combo_order([Leg.create(LONG, 1), Leg.create(SHORT, -1)], 1, 1.0, "")

    response = first.cancel()

    assert response.is_success
    assert [(e.order_id, e.status) for e in events if e.status == OrderStatus.CANCELED] == [
        (first.order_id, OrderStatus.CANCELED), (second.order_id, OrderStatus.CANCELED)]
    assert second.cancel().is_success is False  # already canceled: no new event
    assert len([e for e in events if e.status == OrderStatus.CANCELED]) == 2


def test_a_limit_update_on_one_combo_limit_leg_moves_the_groups_net_limit() -> None:
    brokerage, events = _brokerage(_Bars(BARS))
    first, second = brokerage.combo_order([Leg.create(LONG, 1), Leg.create(SHORT, -1)], 1, 2.5, "")
    brokerage.on_slice()  # net 4.8 - 1.9 = 2.9 is not below 2.5

    response = first.update(UpdateOrderFields(limit_price=2.9149, tag="Update #1"))
    brokerage.on_slice()

    assert response.is_success and len(first.update_requests) == 1 and second.update_requests == []
    assert second.get(OrderField.LIMIT_PRICE) == 2.91  # the group's limit, rounded to the tick
    assert [e.status for e in events if e.order_id == first.order_id] == [
        OrderStatus.SUBMITTED, OrderStatus.UPDATE_SUBMITTED, OrderStatus.FILLED]


def test_a_leg_limit_update_changes_only_that_leg_and_a_refused_update_is_still_recorded() -> None:
    brokerage, _ = _brokerage(_Bars(BARS))
    first, second = brokerage.combo_order([_leg(LONG, 1, 4.0), _leg(SHORT, -1, 3.0)], 1, None, "")

    assert first.update(UpdateOrderFields(limit_price=4.5)).is_success
    assert (first.get(OrderField.LIMIT_PRICE), second.get(OrderField.LIMIT_PRICE)) == (4.5, 3.0)

    first.cancel()
    refused = first.update(UpdateOrderFields(limit_price=4.6))
    assert refused.is_success is False and len(first.update_requests) == 2
    assert first.update_requests[-1].response == refused


def test_a_market_order_has_no_limit_price_field() -> None:
    brokerage, _ = _brokerage(_Bars(BARS))
    ticket = brokerage.market_order(LONG, 1, "")

    with pytest.raises(ValueError, match="LIMIT_PRICE"):
        ticket.get(OrderField.LIMIT_PRICE)


def test_the_transaction_manager_filters_orders_and_tickets_and_sums_what_is_left_to_fill() -> None:
    brokerage, _ = _brokerage(_Bars(BARS))
    working = brokerage.limit_order(LONG, 3, 4.0, "")
    brokerage.market_order(SHORT, -1, "")
    transactions = SecurityTransactionManager(brokerage.orders, brokerage._ticket)

    filled = transactions.get_orders(lambda o: o.status == OrderStatus.FILLED)
    assert [o.symbol for o in filled] == [SHORT]
    assert len(transactions.get_order_tickets()) == 2
    assert transactions.get_order_tickets(lambda t: t.quantity > 0)[0] is working  # one ticket per order
    assert transactions.get_open_orders_remaining_quantity() == 3
    assert OrderExtensions.is_open(working.status) and not OrderExtensions.is_open(OrderStatus.FILLED)
    with pytest.raises(TypeError):
        transactions.get_open_order_tickets(42)  # type: ignore[arg-type]


def test_the_option_fee_tier_uses_the_combo_net_limit_and_the_bid_for_a_market_buy() -> None:
    brokerage, events = _brokerage(_Bars({**BARS, (LONG, False): (0.09, 0.08), (LONG, True): (0.12, 0.11)}))

    brokerage.market_order(LONG, 10, "")  # fills at the ask 0.12, but the tier's premium is the bid 0.09
    brokerage.combo_order([Leg.create(LONG, 1), Leg.create(SHORT, -1)], -10, -3.0, "")  # net limit < 0.05
    brokerage.on_slice()

    fees = [e.order_fee.value.amount for e in events if e.status == OrderStatus.FILLED]
    assert fees == [pytest.approx(5.0), pytest.approx(2.5), pytest.approx(2.5)]


def test_a_call_debit_spread_needs_no_margin_while_a_ratio_spread_needs_the_short_calls() -> None:
    """harness/margin.py: LEAN's position groups charge a spread no more than it can lose."""
    brokerage, events = _brokerage(_Bars(BARS))
    brokerage._portfolio.cash = 2_000.0  # the 750 call's 520 debit fits; 20 % margin on a short 760 call does not
    assert brokerage.market_order(SHORT, -1, "").status == OrderStatus.INVALID

    events.clear()
    brokerage.combo_order([Leg.create(LONG, 1), Leg.create(SHORT, -2)], 1, None, "")  # net short calls: unbounded
    assert {e.status for e in events} == {OrderStatus.INVALID}

    events.clear()
    brokerage.combo_order([Leg.create(LONG, 1), Leg.create(SHORT, -1)], 1, None, "")  # worst case at expiry: 0
    assert [e.status for e in events].count(OrderStatus.FILLED) == 2


REGULAR = ExchangeHours({d: (Segment(time(9, 30), time(16, 0), "market"),) for d in range(5)},
                        early_closes={date(2015, 12, 24): time(13, 0)})


@pytest.mark.parametrize(("now", "accepted"), [
    (datetime(2015, 12, 23, 15, 44), True), (datetime(2015, 12, 23, 15, 45), False),
    (datetime(2015, 12, 24, 12, 44), True), (datetime(2015, 12, 24, 12, 45), False),  # the 13:00 early close
    (datetime(2015, 12, 23, 16, 1), True),  # after the close: for the next day's close
])
def test_market_on_close_orders_are_refused_within_fifteen_and_a_half_minutes_of_the_close(now, accepted) -> None:
    brokerage, events = _brokerage(_Bars(BARS))
    brokerage._clock = lambda: now
    brokerage._securities[LONG]._hours = REGULAR

    ticket = brokerage.market_on_close_order(LONG, 1, "")

    assert (ticket.order_id > 0) is accepted
    if not accepted:  # refused before an order exists: no event, LEAN's message
        assert events == [] and ticket.status == OrderStatus.INVALID
        assert "MarketOnClose orders must be placed within" in brokerage.refusals[-1]


def test_the_market_on_close_buffer_can_be_changed(monkeypatch) -> None:
    monkeypatch.setattr(MarketOnCloseOrder, "submission_time_buffer", timedelta(minutes=5))
    brokerage, _ = _brokerage(_Bars(BARS))
    brokerage._clock = lambda: datetime(2015, 12, 23, 15, 50)
    brokerage._securities[LONG]._hours = REGULAR

    assert brokerage.market_on_close_order(LONG, 1, "").order_id > 0
