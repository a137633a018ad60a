"""Order handling of the harness, with LEAN backtest semantics.

- Market orders fill at once (inside the ``market_order`` call, as LEAN's synchronous backtest
  orders do): buys at the ask, sells at the bid. Every order first emits SUBMITTED.
- Limit orders are checked on each later slice before ``on_data``; they fill when crossed.
- Combo orders are one group of leg orders; each leg emits its own OrderEvents. A combo limit
  fills when the legs' net price crosses the single limit price.
- ``FillScript`` lets tests reject an order or fill part of it (the rest on the next slice, never,
  or after the order is cancelled), per order or per leg. A fill after CANCELED is what a live
  brokerage can report; LEAN still applies it to the portfolio (``HandleOrderEvents`` in
  ``Engine/TransactionHandlers/BrokerageTransactionHandler.cs`` finds the closed order and
  processes the fill).
- Pre-order checks as QCAlgorithm's (no security, zero quantity, no price yet): an invalid
  ticket with order id 0, no OrderEvent, no order.
- Fees: LEAN's Interactive Brokers model (``FeeModel``). Expiring options are exercised or
  assigned into shares on the next trading day (``harness/expiry.py``).
- Buying power is approximate: long premium must be covered by cash; short options need
  Reg-T-like margin (20% of the underlying less the out-of-the-money amount, at least 10%).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

from harness.combo_orders import ComboOrders, round_to_tick
from harness.expiry import ExpiryHandling
from harness.fees import FeeModel, potential_order_price
from harness.fill_script import FillScript, PartialFill, Reject
from harness.lean_enums import FINAL_STATUSES, OrderStatus, OrderType, SecurityType
from harness.lean_orders import (
    CashAmount,
    Order,
    OrderEvent,
    OrderFee,
    OrderTicket,
    UpdateOrderFields,
)
from harness.lean_securities import SecurityManager, SecurityPortfolioManager
from harness.lean_symbols import Symbol
from harness.margin import portfolio_margin
from harness.market import SyntheticMarket
from harness.session_orders import SessionOrders
from harness.statistics import FillRecord


class HarnessBrokerage(ExpiryHandling, ComboOrders, SessionOrders):
    def __init__(self, securities: SecurityManager, portfolio: SecurityPortfolioManager,
                 market: Callable[[], SyntheticMarket], clock: Callable[[], datetime],
                 utc_clock: Callable[[], datetime], emit: Callable[[OrderEvent], None],
                 fees: FeeModel | None = None) -> None:
        self._securities = securities
        self._portfolio = portfolio
        self._market = market
        self._clock = clock
        self._utc = utc_clock
        self._emit = emit
        self.fees = fees or FeeModel()
        self.script = FillScript()
        self.orders: dict[int, Order] = {}
        self._tickets: dict[int, OrderTicket] = {}
        self._next_id = 1
        self._next_group = 1
        self._hold_open: set[int] = set()  # partial fills whose remainder never fills
        self._fill_after_cancel: set[int] = set()  # orders whose remainder fills after their cancel
        self._late: list[int] = []  # cancelled orders whose remainder fills at the next slice
        self._partial_limits: dict[int, PartialFill] = {}
        self.fill_count = 0
        self.fees_paid = 0.0
        # LEAN data replay: next market close after a local time (market-on-close fills) and
        # the handler for assignments (QCAlgorithm.on_assignment_order_event)
        self.market_close_after: Callable[[datetime], datetime] | None = None
        self.fill_records: list[FillRecord] = []  # every fill, for LEAN's statistics
        self.refusals: list[str] = []  # orders refused by the pre-order checks (no order, no event)
        self.on_assignment: Callable[[OrderEvent], None] | None = None

    # -- submission ------------------------------------------------------------------------
    def _new_order(self, symbol: Symbol, quantity: float, kind: OrderType, tag: str,
                   limit: float | None = None) -> Order:
        order = Order(self._next_id, symbol, quantity, kind, self._clock(), tag or "", limit)
        self._next_id += 1
        self.orders[order.id] = order
        return order

    def _ticket(self, order: Order) -> OrderTicket:
        """The order's one ticket (it keeps the update requests); a refused order gets its own."""
        ticket = self._tickets.get(order.id) if order.id > 0 else None
        if ticket is None:
            ticket = OrderTicket(order, self.cancel, self.update, self._utc)
            if order.id > 0:
                self._tickets[order.id] = ticket
        return ticket

    def update(self, order_id: int, fields: UpdateOrderFields) -> str | None:
        """BrokerageTransactionHandler.HandleUpdateOrderRequest: an open order takes the new
        quantity, limit price (rounded to the tick) and tag and emits UPDATE_SUBMITTED; None when
        accepted, else the error message. A combo limit leg's limit price is the group's
        [Common/Orders/ComboLimitOrder.cs ApplyUpdateOrderRequest]."""
        order = self.orders.get(order_id)
        if order is None or order.status in FINAL_STATUSES:
            return "Unable to update order: it is filled, canceled or invalid"
        if fields.quantity is not None and (abs(fields.quantity) < abs(order._filled_quantity) or fields.quantity == 0):
            return "Unable to update order: the new quantity is below what is already filled"
        if fields.limit_price is not None:
            if order.type not in (OrderType.LIMIT, OrderType.COMBO_LIMIT, OrderType.COMBO_LEG_LIMIT):
                return "Unable to update the limit price of an order that is not a limit order"
            if not math.isfinite(fields.limit_price):
                return "Unable to update order: the limit price must be a finite number"
        if fields.quantity is not None:
            order.quantity = fields.quantity
        if fields.limit_price is not None:
            tick = self._tick(order.symbol)
            manager = order.group_order_manager
            if order.type == OrderType.COMBO_LIMIT and manager is not None:
                ticks = [self._tick(o.symbol) for o in self._group_of(order)]
                manager.limit_price = round_to_tick(fields.limit_price, min(ticks))
            else:
                order._limit_price = round_to_tick(fields.limit_price, tick)
        if fields.tag is not None:
            order.tag = fields.tag
        self._emit(self._event(order, OrderStatus.UPDATE_SUBMITTED))
        return None

    def _pre_check_reason(self, symbol: Symbol, quantity: float) -> str | None:
        """QCAlgorithm.PreOrderChecksImpl [Algorithm/QCAlgorithm.Trading.cs]: these refusals
        happen before an order exists: an invalid ticket with order id 0, no OrderEvent, and
        no order in the count."""
        security = self._securities.get(symbol)
        if security is None:
            return f"Security {symbol} is not in the algorithm's securities"
        if quantity == 0 or not math.isfinite(quantity):
            return "Unable to submit order with zero quantity"
        if abs(quantity) < 1:  # the lot size of US equities and equity options
            return f"Unable to submit order with quantity {quantity} below the lot size 1"
        if security.price == 0:
            return f"{symbol}: the security does not have an accurate price as it has not yet received a bar of data"
        return None

    def _refused(self, symbol: Symbol, quantity: float, kind: OrderType, tag: str, reason: str) -> OrderTicket:
        order = Order(0, symbol, quantity, kind, self._clock(), tag or "")
        order.status = OrderStatus.INVALID
        self.refusals.append(reason)
        return self._ticket(order)

    def _invalid_reason(self, order: Order) -> str | None:
        if order.symbol not in self._securities:
            return f"Security {order.symbol} is not in the algorithm's securities"
        if order.quantity == 0 or not math.isfinite(order.quantity):
            return "Order quantity must be a non-zero number"
        if order.symbol.security_type == SecurityType.OPTION and order.quantity != int(order.quantity):
            return "Option order quantity must be whole contracts"
        if order._limit_price is not None and not (math.isfinite(order._limit_price) and order._limit_price >= 0):
            return "Limit price must be a finite, non-negative number"
        bid, ask = self._market().quote(order.symbol)
        if bid <= 0 and ask <= 0 and self._securities[order.symbol].price <= 0:
            return f"No price for {order.symbol}: the security has no data yet"
        if order.group_order_manager is not None:
            return None  # a combo's buying power is checked for all its legs at once
        return self._buying_power_reason(order, bid, ask)

    def _margin_reason(self, orders: list[Order]) -> str | None:
        """The margin the orders add (``harness.margin``, legs of one expiry netted) must fit in
        the free margin: portfolio value less the margin of what is held."""
        held = {s.symbol: s.holdings.quantity for s in self._securities.values() if s.holdings.quantity}
        after = dict(held)
        for order in orders:
            after[order.symbol] = after.get(order.symbol, 0.0) + order.quantity
        spot = self._market().spot

        def multiplier(symbol: Symbol) -> float:
            return self._securities[symbol].symbol_properties.contract_multiplier

        used = portfolio_margin(held, spot, multiplier)
        needed = portfolio_margin(after, spot, multiplier) - used
        free = self._portfolio.total_portfolio_value - used
        if needed > 0 and needed > free:
            return f"Insufficient buying power: margin {needed:.2f} exceeds free margin {free:.2f}"
        return None

    def _buying_power_reason(self, order: Order, bid: float, ask: float) -> str | None:
        held = self._securities[order.symbol].holdings.quantity
        if held != 0 and (held > 0) != (order.quantity > 0) and abs(order.quantity) <= abs(held):
            return None  # reduces a position
        multiplier = self._securities[order.symbol].symbol_properties.contract_multiplier
        if order.quantity > 0:
            cost = ask * order.quantity * multiplier
            if cost > self._portfolio.cash:
                return (f"Insufficient buying power: order cost {cost:.2f} exceeds cash "
                        f"{self._portfolio.cash:.2f}")
            return None
        return self._margin_reason([order])

    def _event(self, order: Order, status: OrderStatus, fill_price: float = 0.0,
               fill_quantity: float = 0.0, fee: float = 0.0, message: str = "",
               is_assignment: bool = False, is_in_the_money: bool = False,
               symbol: Symbol | None = None) -> OrderEvent:
        return OrderEvent(order.id, symbol or order.symbol, self._utc(), status, order.direction, fill_price,
                          fill_quantity, order.quantity, OrderFee(CashAmount(fee)), is_assignment,
                          message, order._limit_price, self._ticket(order), is_in_the_money)

    def _submit(self, order: Order) -> None:
        reason = self._invalid_reason(order)
        directive = None if reason else self.script.take(order)
        if isinstance(directive, Reject):
            reason = directive.reason
        if reason:
            order.status = OrderStatus.INVALID
            self._emit(self._event(order, OrderStatus.INVALID, message=reason))
            return
        order.status = OrderStatus.SUBMITTED
        self._emit(self._event(order, OrderStatus.SUBMITTED))
        if isinstance(directive, PartialFill):  # applied at the first fill: now for market, when crossed for limit
            self._partial_limits[order.id] = directive
            if directive.remainder == "after_cancel":
                self._fill_after_cancel.add(order.id)
        if order.type in (OrderType.MARKET, OrderType.COMBO_MARKET):
            self._fill_with_script(order, self._side_price(order))

    def market_order(self, symbol: Symbol, quantity: float, tag: str) -> OrderTicket:
        """QCAlgorithm.MarketOrder: while the security's exchange is closed (also at the closing
        bar's end, 16:00 or an early close) the order becomes a MarketOnOpen order."""
        if self._exchange_closed(symbol):
            return self.market_on_open_order(symbol, quantity, tag)
        reason = self._pre_check_reason(symbol, quantity)
        if reason:
            return self._refused(symbol, quantity, OrderType.MARKET, tag, reason)
        order = self._new_order(symbol, quantity, OrderType.MARKET, tag)
        self._submit(order)
        return self._ticket(order)

    def limit_order(self, symbol: Symbol, quantity: float, limit_price: float, tag: str) -> OrderTicket:
        reason = self._pre_check_reason(symbol, quantity)
        if reason:
            return self._refused(symbol, quantity, OrderType.LIMIT, tag, reason)
        limit = round_to_tick(limit_price, self._tick(symbol)) if math.isfinite(limit_price) else limit_price
        order = self._new_order(symbol, quantity, OrderType.LIMIT, tag, limit)
        self._submit(order)
        return self._ticket(order)

    def cancel(self, order_id: int) -> bool:
        """BacktestingBrokerage.CancelOrder: the order, and every open leg of its combo group,
        turns CANCELED with one event each; False when the order is not open."""
        order = self.orders.get(order_id)
        if order is None or order.status in FINAL_STATUSES:
            return False
        for leg in self._group_of(order):
            if leg.status in FINAL_STATUSES:
                continue
            leg.status = OrderStatus.CANCELED
            self._hold_open.discard(leg.id)
            if leg.id in self._fill_after_cancel:
                self._late.append(leg.id)
            self._emit(self._event(leg, OrderStatus.CANCELED, message="Canceled by the algorithm"))
        return True

    # -- fills -----------------------------------------------------------------------------
    def _side_price(self, order: Order) -> float:
        """Buys at the ask, sells at the bid; without a quote, LEAN's best effort is the last
        price (an equity day without quote bars)."""
        bid, ask = self._market().quote(order.symbol)
        price = ask if order._remaining > 0 else max(bid, 0.0)
        if bid <= 0 and ask <= 0:
            price = self._securities[order.symbol].price if order.symbol in self._securities else 0.0
        return price

    def _fill(self, order: Order, quantity: float, price: float, message: str = "",
              is_assignment: bool = False, charge_fee: bool = True) -> None:
        first = order._filled_quantity == 0
        if charge_fee:
            bid, ask = self._market().quote(order.symbol)
            fee = self.fees.fee(order, quantity, first, price, potential_order_price(order, bid, ask))
        else:
            fee = 0.0
        security = self._securities[order.symbol]
        multiplier = security.symbol_properties.contract_multiplier
        security.holdings._apply_fill(quantity, price, fee)
        self._portfolio._track(security.holdings)
        self._portfolio.cash -= quantity * price * multiplier + fee
        order._filled_quantity += quantity
        order._fill_value += quantity * price
        done = abs(order._remaining) < 1e-9
        order.status = OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED
        self.fill_count += 1
        self.fees_paid += fee
        self.fill_records.append(FillRecord(self._clock(), order.symbol.value, quantity, price, multiplier, fee))
        self._emit(self._event(order, order.status, price, quantity, fee, message, is_assignment))

    def on_slice(self) -> None:
        """Work open orders against the new quotes (called before ``on_data``)."""
        late, self._late = self._late, []
        for order_id in late:  # filled after CANCELED: booked all the same, at the side's price
            order = self.orders[order_id]
            if abs(order._remaining) >= 1:
                self._fill(order, order._remaining, self._side_price(order))
        open_orders = [o for o in self.orders.values()
                       if o.status in (OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED)
                       and o.id not in self._hold_open and o.type != OrderType.OPTION_EXERCISE]
        groups: dict[int, list[Order]] = {}
        for order in open_orders:
            if order.type in (OrderType.COMBO_LIMIT, OrderType.COMBO_LEG_LIMIT) and order._group_id is not None:
                groups.setdefault(order._group_id, []).append(order)
            elif order.type == OrderType.LIMIT:
                self._work_limit(order)
            elif order.type == OrderType.MARKET_ON_CLOSE:
                self._work_market_on_close(order)
            elif order.type == OrderType.MARKET_ON_OPEN:
                self._work_market_on_open(order)
            else:  # remainder of a partially filled market order
                self._fill(order, order._remaining, self._side_price(order))
        for legs in groups.values():
            self._work_combo(legs)

    def _crossed(self, quantity: float, price: float, limit: float) -> bool:
        return price <= limit if quantity > 0 else price >= limit

    def _work_limit(self, order: Order) -> None:
        """Options: FillModel.LimitFill [Common/Orders/Fills/FillModel.cs] on the bar of the
        order's side: a buy fills when the ask bar's Low is strictly below the limit, at
        min(High, limit); a sell when the bid bar's High is strictly above it, at max(Low, limit)."""
        limit = order._limit_price
        assert limit is not None
        if order.symbol.security_type != SecurityType.OPTION:
            price = self._side_price(order)
            if price > 0 and self._crossed(order._remaining, price, limit):
                self._fill_with_script(order, price)
            return
        if max(self._market().quote(order.symbol)) <= 0:
            return
        high, low = self._market().bar_range(order.symbol, order._remaining > 0)
        if order._remaining > 0 and low < limit:
            self._fill_with_script(order, min(high, limit))
        elif order._remaining < 0 and high > limit:
            self._fill_with_script(order, max(low, limit))

    def _fill_with_script(self, order: Order, price: float) -> None:
        partial = self._partial_limits.pop(order.id, None)
        if partial is None:
            self._fill(order, order._remaining, price)
            return
        if partial.remainder in ("never", "after_cancel"):
            self._hold_open.add(order.id)
        part = math.floor(abs(order._remaining) * partial.fraction)
        if part > 0:
            self._fill(order, math.copysign(part, order._remaining), price)
