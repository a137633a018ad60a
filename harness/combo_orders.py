"""Combo orders in the harness brokerage, with LEAN's backtest semantics.

- Submission as QCAlgorithm.SubmitComboOrder [Algorithm/QCAlgorithm.Trading.cs]: leg ratios that
  share a common factor throw; every leg passes the pre-order checks before any becomes an order
  (the first that fails ends it with its own invalid ticket alone); the legs share one
  ``GroupOrderManager``. A leg with an ``order_price`` makes that leg (and the ones after it) a
  combo leg limit order with its own limit price.
- Fills as FillModel [Common/Orders/Fills/FillModel.cs]: ComboLimitFill compares the legs' net
  bar price with the group's one limit price; ComboLegLimitFill fills every leg at its own limit
  rule (LimitFill on the leg's ask or bid bar) and only when all legs fill on the same bar.
- Cancel and update as BacktestingBrokerage [Brokerages/Backtesting/BacktestingBrokerage.cs] and
  the order types [Common/Orders/ComboLimitOrder.cs, ComboLegLimitOrder.cs]: cancelling one leg
  cancels the whole group; a limit-price update of a combo limit leg moves the group's limit, of a
  combo leg limit leg that leg's own.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from harness.lean_enums import OrderStatus, OrderType
from harness.lean_orders import GroupOrderManager, Leg, Order, OrderEvent, OrderTicket
from harness.lean_securities import SecurityManager, SecurityPortfolioManager
from harness.lean_symbols import Symbol


def round_to_tick(price: float, tick: float) -> float:
    """BrokerageTransactionHandler.RoundOrderPrice: the nearest multiple of the minimum price
    variation (Math.Round: halves to even), as LEAN does to every limit price it accepts."""
    if tick <= 0:
        return price
    return round(round(price / tick) * tick, 10)


class ComboOrders:
    """Mixed into ``HarnessBrokerage``; uses its order book, checks, events and fills."""

    _securities: SecurityManager
    _portfolio: SecurityPortfolioManager
    _market: Callable[[], Any]
    _emit: Callable[[OrderEvent], None]
    orders: dict[int, Order]
    _next_group: int

    def _pre_check_reason(self, symbol: Symbol, quantity: float) -> str | None:
        raise NotImplementedError

    def _refused(self, symbol: Symbol, quantity: float, kind: OrderType, tag: str, reason: str) -> OrderTicket:
        raise NotImplementedError

    def _new_order(self, symbol: Symbol, quantity: float, kind: OrderType, tag: str,
                   limit: float | None = None) -> Order:
        raise NotImplementedError

    def _invalid_reason(self, order: Order) -> str | None:
        raise NotImplementedError

    def _margin_reason(self, orders: list[Order]) -> str | None:
        raise NotImplementedError

    def _submit(self, order: Order) -> None:
        raise NotImplementedError

    def _event(self, order: Order, status: OrderStatus, *args: Any, **kwargs: Any) -> OrderEvent:
        raise NotImplementedError

    def _ticket(self, order: Order) -> OrderTicket:
        raise NotImplementedError

    def _fill_with_script(self, order: Order, price: float) -> None:
        raise NotImplementedError

    def _tick(self, symbol: Symbol) -> float:
        return self._securities[symbol].symbol_properties.minimum_price_variation

    # -- submission ------------------------------------------------------------------------
    def combo_order(self, legs: list[Leg], quantity: int, limit_price: float | None,
                    tag: str) -> list[OrderTicket]:
        if not legs:
            raise ValueError("A combo order needs at least one leg")
        divisor = math.gcd(*(abs(int(leg.quantity)) for leg in legs))
        if divisor != 1:  # QCAlgorithm.CheckComboOrderSizing
            raise ValueError("The global combo quantity should be used to increase or reduce the size of the order, "
                             "while the leg quantities should be used to specify the ratio of the order. The combo "
                             f"order quantities should be reduced from {quantity}x("
                             + ", ".join(f"{leg.quantity} {leg.symbol}" for leg in legs) + ") to "
                             f"{quantity * divisor}x(" + ", ".join(f"{leg.quantity // divisor} {leg.symbol}"
                                                                  for leg in legs) + ").")
        if limit_price is not None and limit_price == 0:
            # QCAlgorithm.Trading.cs ComboLimitOrder: ArgumentException before any order exists
            raise ValueError("ComboLimitOrder requires a limit price")
        kind = OrderType.COMBO_MARKET if limit_price is None else OrderType.COMBO_LIMIT
        plan: list[tuple[Leg, OrderType, float | None]] = []
        for leg in legs:  # QCAlgorithm.SubmitComboOrder: the first leg that fails the pre-order
            # checks ends it with that leg's invalid ticket alone; no leg becomes an order
            leg_limit = None
            if leg.order_price is not None:  # a limit price per leg (and for the legs after it, as LEAN)
                kind, leg_limit = OrderType.COMBO_LEG_LIMIT, float(leg.order_price)
            elif kind == OrderType.COMBO_LEG_LIMIT:
                leg_limit = plan[-1][2]
            reason = self._pre_check_reason(leg.symbol, leg.quantity * quantity)
            if reason:
                return [self._refused(leg.symbol, leg.quantity * quantity, kind, tag, reason)]
            plan.append((leg, kind, leg_limit))
        manager = GroupOrderManager(self._next_group, len(legs), quantity, limit_price or 0.0)
        self._next_group += 1
        orders = []
        for leg, leg_kind, leg_limit in plan:
            if leg_limit is not None:
                leg_limit = round_to_tick(leg_limit, self._tick(leg.symbol))
            order = self._new_order(leg.symbol, leg.quantity * quantity, leg_kind, tag, leg_limit)
            order.group_order_manager = manager
            manager.order_ids.append(order.id)
            orders.append(order)
        if limit_price is not None:  # the net limit, to the smallest tick of the legs
            manager.limit_price = round_to_tick(limit_price, min(self._tick(o.symbol) for o in orders))
        reasons = [r for r in (self._invalid_reason(o) for o in orders) if r] or self._group_buying_power(orders)
        if reasons:  # LEAN rejects the whole group when one leg is invalid
            for order in orders:
                order.status = OrderStatus.INVALID
                self._emit(self._event(order, OrderStatus.INVALID, message="; ".join(reasons)))
        else:
            for order in orders:
                self._submit(order)
        return [self._ticket(o) for o in orders]

    def _group_buying_power(self, orders: list[Order]) -> list[str]:
        """The legs together: the cash for every buy that opens or adds must be there at once,
        and the margin of the legs, netted with each other and the holdings, must fit."""
        cost = 0.0
        for order in orders:
            held = self._securities[order.symbol].holdings.quantity
            if order.quantity > 0 and held >= 0:
                multiplier = self._securities[order.symbol].symbol_properties.contract_multiplier
                cost += self._market().quote(order.symbol)[1] * order.quantity * multiplier
        if cost > self._portfolio.cash:
            return [f"Insufficient buying power: combo cost {cost:.2f} exceeds cash {self._portfolio.cash:.2f}"]
        margin = self._margin_reason(orders)
        return [margin] if margin else []

    def _group_of(self, order: Order) -> list[Order]:
        manager = order.group_order_manager
        if manager is None:
            return [order]
        return [self.orders[i] for i in manager.order_ids if i in self.orders]

    # -- fills -----------------------------------------------------------------------------
    def _work_combo(self, legs: list[Order]) -> None:
        if legs[0].type == OrderType.COMBO_LEG_LIMIT:
            self._work_combo_leg_limit(legs)
        else:
            self._work_combo_limit(legs)

    def _work_combo_limit(self, legs: list[Order]) -> None:
        """FillModel.ComboLimitFill: each leg's bar on its own side (ask bar for a buy leg, bid
        bar for a sell leg); a combo bought uses every leg's Low, one sold every leg's High; the
        ratio-weighted sum must be strictly below (buy) or above (sell) the limit; every leg then
        fills at that Low/High."""
        manager = legs[0].group_order_manager
        assert manager is not None
        buy = manager.quantity > 0
        market = self._market()
        prices = []
        for order in sorted(legs, key=lambda o: o.id):
            if max(market.quote(order.symbol)) <= 0:
                return  # a leg without a bar yet
            high, low = market.bar_range(order.symbol, order.quantity > 0)
            prices.append((order, low if buy else high))
        net = sum(price * order.quantity / manager.quantity for order, price in prices)
        if (buy and net < manager.limit_price) or (not buy and net > manager.limit_price):
            for order, price in prices:
                self._fill_with_script(order, price)

    def _work_combo_leg_limit(self, legs: list[Order]) -> None:
        """FillModel.ComboLegLimitFill: every leg by LimitFill with its own limit (a buy leg when
        its ask bar's Low is strictly below the limit, at min(High, limit); a sell leg when its
        bid bar's High is strictly above, at max(Low, limit)); no leg fills unless all do."""
        market = self._market()
        fills = []
        for order in sorted(legs, key=lambda o: o.id):
            limit = order._limit_price
            if limit is None or max(market.quote(order.symbol)) <= 0:
                return
            high, low = market.bar_range(order.symbol, order.quantity > 0)
            if order.quantity > 0 and low < limit:
                fills.append((order, min(high, limit)))
            elif order.quantity < 0 and high > limit:
                fills.append((order, max(low, limit)))
            else:
                return
        for order, price in fills:
            self._fill_with_script(order, price)
