"""Harness semantics that follow a named LEAN source file (the issue's list of differences):
IB fees [Common/Orders/Fees/InteractiveBrokersFeeModel.cs], combo limit fills on each leg's bar
[Common/Orders/Fills/FillModel.cs ComboLimitFill], combo ratio sizing [Algorithm/QCAlgorithm.Trading.cs
CheckComboOrderSizing], OrderTicket.cancel's OrderResponse [Common/Orders/OrderTicket.cs]."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from harness.brokerage import FeeModel, HarnessBrokerage
from harness.lean_enums import OptionRight, OrderStatus, OrderType
from harness.lean_orders import Leg, Order, OrderEvent
from harness.lean_securities import Security, SecurityManager, SecurityPortfolioManager, SymbolProperties
from harness.lean_symbols import Symbol

NOW = datetime(2015, 12, 24, 10, 0)
GOOG = Symbol._create_equity("GOOG")
LONG = Symbol.create_option(GOOG, "usa", None, OptionRight.CALL, 750.0, datetime(2016, 1, 15))
SHORT = Symbol.create_option(GOOG, "usa", None, OptionRight.CALL, 760.0, datetime(2016, 1, 15))


def _order(symbol: Symbol, quantity: float, limit: float | None = None) -> Order:
    return Order(1, symbol, quantity, OrderType.LIMIT if limit else OrderType.MARKET, NOW, "", limit)


@pytest.mark.parametrize(("premium", "per_contract"), [(0.04, 0.25), (0.05, 0.50), (0.099, 0.50), (0.10, 0.65),
                                                       (12.0, 0.65)])
def test_ib_option_fee_depends_on_the_premium(premium: float, per_contract: float) -> None:
    assert FeeModel().order_fee(_order(LONG, 10), 10, premium) == pytest.approx(10 * per_contract)


def test_ib_option_fee_has_a_one_dollar_minimum_and_uses_the_limit_price_as_premium() -> None:
    assert FeeModel().order_fee(_order(LONG, 1), 1, 12.0) == 1.0
    assert FeeModel().order_fee(_order(LONG, 10, limit=0.04), 10, 12.0) == pytest.approx(2.5)


def test_ib_equity_fee_is_half_a_cent_a_share_between_one_dollar_and_half_a_percent() -> None:
    fees = FeeModel()
    assert fees.order_fee(_order(GOOG, 100), 100, 750.0) == 1.0
    assert fees.order_fee(_order(GOOG, 1000), 1000, 750.0) == pytest.approx(5.0)
    assert fees.order_fee(_order(GOOG, 100), 100, 1.0) == pytest.approx(0.5)  # capped at 0.5 % of $100


def test_option_exercise_is_free() -> None:
    order = Order(1, LONG, -1, OrderType.OPTION_EXERCISE, NOW)
    assert FeeModel().order_fee(order, -1, 0.0) == 0.0


class _Bars:
    """A market with one quote and one minute bar (high, low) per contract side."""

    spot = 755.0

    def __init__(self, bars: dict[tuple[Symbol, bool], tuple[float, float]]) -> None:
        self.bars = bars

    def quote(self, symbol: Symbol) -> tuple[float, float]:
        return (self.bars[(symbol, False)][0], self.bars[(symbol, True)][0])

    def bar_range(self, symbol: Symbol, buy: bool) -> tuple[float, float]:
        return self.bars[(symbol, buy)]

    def intrinsic(self, symbol: Symbol) -> float:
        return 0.0


def _brokerage(market: Any) -> tuple[HarnessBrokerage, list[OrderEvent]]:
    securities = SecurityManager()
    for symbol in (LONG, SHORT):
        securities[symbol] = Security(symbol, SymbolProperties(100.0, 0.01), lambda s=symbol: market.quote(s))
    events: list[OrderEvent] = []
    portfolio = SecurityPortfolioManager(securities)
    return HarnessBrokerage(securities, portfolio, lambda: market, lambda: NOW, lambda: NOW, events.append), events


BARS = {(LONG, True): (5.2, 4.8), (LONG, False): (5.0, 4.6),  # (high, low) of ask / bid bars
        (SHORT, True): (2.3, 2.0), (SHORT, False): (2.1, 1.9)}


@pytest.mark.parametrize(("limit", "fills"), [(2.9, False), (2.91, True)])
def test_a_bought_combo_fills_strictly_below_the_limit_on_each_legs_bar_low(limit: float, fills: bool) -> None:
    brokerage, events = _brokerage(_Bars(BARS))
    brokerage.combo_order([Leg.create(LONG, 1), Leg.create(SHORT, -1)], 2, limit, "")

    brokerage.on_slice()  # net = 4.8 (long's ask-bar low) - 1.9 (short's bid-bar low) = 2.9

    filled = sorted((e.symbol.value, e.fill_quantity, e.fill_price) for e in events if e.status == OrderStatus.FILLED)
    assert filled == ([(LONG.value, 2, 4.8), (SHORT.value, -2, 1.9)] if fills else [])


@pytest.mark.parametrize(("limit", "fills"), [(2.7, False), (2.69, True)])
def test_a_sold_combo_fills_strictly_above_the_limit_on_each_legs_bar_high(limit: float, fills: bool) -> None:
    brokerage, events = _brokerage(_Bars(BARS))
    brokerage.combo_order([Leg.create(LONG, 1), Leg.create(SHORT, -1)], -1, limit, "")

    brokerage.on_slice()  # the long leg is sold (bid bar), the short one bought (ask bar): 5.0 - 2.3 = 2.7

    filled = sorted((e.symbol.value, e.fill_quantity, e.fill_price) for e in events if e.status == OrderStatus.FILLED)
    assert filled == ([(LONG.value, -1, 5.0), (SHORT.value, 1, 2.3)] if fills else [])


def test_combo_leg_ratios_with_a_common_factor_throw() -> None:
    brokerage, _ = _brokerage(_Bars(BARS))

    with pytest.raises(ValueError, match="should be reduced from 1x"):
        brokerage.combo_order([Leg.create(LONG, 2), Leg.create(SHORT, -2)], 1, 2.5, "")


def test_a_ticket_updates_an_open_limit_order_and_then_it_fills_at_the_new_limit() -> None:
    """OrderTicket.Update / UpdateOrderFields [Common/Orders/OrderTicket.cs]: an OrderResponse,
    an UpdateSubmitted event, the new limit price used from the next slice on."""
    from harness.lean_orders import UpdateOrderFields

    market = _Bars(BARS)
    brokerage, events = _brokerage(market)
    ticket = brokerage.limit_order(LONG, 1, 4.0, "")  # the ask is 5.2: not marketable
    brokerage.on_slice()

    response = ticket.update(UpdateOrderFields(limit_price=5.5, tag="repriced"))
    brokerage.on_slice()

    assert response.is_success and ticket.tag == "repriced"
    assert [e.status for e in events] == [OrderStatus.SUBMITTED, OrderStatus.UPDATE_SUBMITTED, OrderStatus.FILLED]
    assert ticket.update_limit_price(6.0).is_success is False  # filled: no longer open


def test_open_order_tickets_are_listed_by_the_transaction_manager() -> None:
    from harness.lean_securities import SecurityTransactionManager

    brokerage, _ = _brokerage(_Bars(BARS))
    working = brokerage.limit_order(LONG, 1, 4.0, "")
    brokerage.market_order(SHORT, -1, "")  # fills at once
    transactions = SecurityTransactionManager(brokerage.orders, brokerage._ticket)

    assert [t.order_id for t in transactions.get_open_order_tickets()] == [working.order_id]
    assert transactions.get_open_order_tickets(SHORT) == []


@pytest.mark.parametrize(("limit", "fill_price"), [(4.8, None), (4.81, 4.81), (9.0, 5.2)])
def test_an_option_buy_limit_fills_when_the_ask_bars_low_is_strictly_below_it(limit: float,
                                                                               fill_price: float | None) -> None:
    """FillModel.LimitFill [Common/Orders/Fills/FillModel.cs]: Low < limit, at min(High, limit)."""
    brokerage, events = _brokerage(_Bars(BARS))  # LONG's ask bar: high 5.2, low 4.8
    brokerage.limit_order(LONG, 1, limit, "")

    brokerage.on_slice()

    assert [e.fill_price for e in events if e.status == OrderStatus.FILLED] == ([] if fill_price is None
                                                                               else [fill_price])


@pytest.mark.parametrize(("limit", "fill_price"), [(2.1, None), (2.09, 2.09), (1.0, 1.9)])
def test_an_option_sell_limit_fills_when_the_bid_bars_high_is_strictly_above_it(limit: float,
                                                                                fill_price: float | None) -> None:
    brokerage, events = _brokerage(_Bars(BARS))  # SHORT's bid bar: high 2.1, low 1.9
    brokerage.limit_order(SHORT, -1, limit, "")

    brokerage.on_slice()

    assert [e.fill_price for e in events if e.status == OrderStatus.FILLED] == ([] if fill_price is None
                                                                               else [fill_price])
