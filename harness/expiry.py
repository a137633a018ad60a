"""Option expiry in the harness brokerage.

``exercise_delisted`` is LEAN's rule (used when replaying LEAN data): a contract is delisted on
the next tradable day after its expiry and exercised or assigned through an OptionExercise order
[Common/Orders/OptionExercise/DefaultExerciseModel.cs, Engine/TransactionHandlers/
BrokerageTransactionHandler.cs], on LEAN data and on the synthetic market alike.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from harness.brokerage_host import BrokerageHost
from harness.lean_enums import FINAL_STATUSES, OptionRight, OrderStatus, OrderType, SecurityType
from harness.lean_orders import Order, OrderEvent
from harness.lean_securities import SecurityPortfolioManager
from harness.lean_symbols import Symbol
from harness.statistics import FillRecord


class ExpiryHandling(BrokerageHost):
    """Mixed into ``HarnessBrokerage``; uses its order book, events and fills."""

    _portfolio: SecurityPortfolioManager
    _clock: Callable[[], datetime]
    orders: dict[int, Order]
    fill_count: int
    fill_records: list[FillRecord]
    on_assignment: Callable[[OrderEvent], None] | None

    def cancel(self, order_id: int) -> bool:
        raise NotImplementedError

    def _fill(self, order: Order, quantity: float, price: float, message: str = "",
              is_assignment: bool = False, charge_fee: bool = True) -> None:
        raise NotImplementedError

    def _event(self, order: Order, status: OrderStatus, fill_price: float = 0.0,
               fill_quantity: float = 0.0, fee: float = 0.0, message: str = "",
               is_assignment: bool = False, is_in_the_money: bool = False,
               symbol: Symbol | None = None) -> OrderEvent:
        raise NotImplementedError

    def _emit(self, event: OrderEvent) -> None:
        raise NotImplementedError

    # -- expiry ----------------------------------------------------------------------------
    def exercise_delisted(self, day: date, hours: Any) -> None:
        """LEAN's expiry: a contract expiring on day D is delisted on the next tradable day,
        where an OptionExercise order for the whole holding is filled by the exercise model
        [Common/Orders/OptionExercise/DefaultExerciseModel.cs]: the option at 0 (flagged
        ``is_in_the_money``; ``is_assignment`` when short and in the money) and, in the money
        (auto-exercise at intrinsic >= $0.01 on the underlying's last close), ±100 x quantity
        shares of the underlying at the strike. Exercise and assignment are free of fees."""
        market = self._market()
        for security in list(self._securities.values()):
            symbol, held = security.symbol, security.holdings.quantity
            if symbol.security_type != SecurityType.OPTION or held == 0:
                continue
            expiry = symbol.id.date.date()
            if expiry >= day or hours.next_trading_day(expiry) > day:
                continue
            for order in self.orders.values():
                if order.symbol == symbol and order.status not in FINAL_STATUSES:
                    self.cancel(order.id)
            in_the_money = market.intrinsic(symbol) >= 0.01
            is_assignment = in_the_money and held < 0
            order = self._new_order(symbol, -held, OrderType.OPTION_EXERCISE, "Automatic exercise")
            order.status = OrderStatus.SUBMITTED
            tag = ("Automatic Assignment" if is_assignment else "Automatic Exercise") if in_the_money else "OTM"
            itm = market.intrinsic(symbol) * abs(held) * security.symbol_properties.contract_multiplier
            self._exercise_fill(order, symbol, -held, 0.0, tag, is_assignment, in_the_money, done=not in_the_money,
                                itm_amount=itm)
            if in_the_money and symbol.underlying is not None:
                multiplier = security.symbol_properties.contract_multiplier
                sign = 1 if symbol.id.option_right == OptionRight.CALL else -1
                shares = sign * held * multiplier
                message = "Option Assignment" if is_assignment else "Option Exercise"
                self._exercise_fill(order, symbol.underlying, shares, symbol.id.strike_price, message,
                                    False, True, done=True)

    def _exercise_fill(self, order: Order, symbol: Symbol, quantity: float, price: float, message: str,
                       is_assignment: bool, in_the_money: bool, done: bool, itm_amount: float | None = None) -> None:
        security = self._securities[symbol]
        multiplier = security.symbol_properties.contract_multiplier
        security.holdings._apply_fill(quantity, price, 0.0)
        self._portfolio._track(security.holdings)
        self._portfolio.cash -= quantity * price * multiplier
        if symbol == order.symbol:
            order._filled_quantity += quantity
        order.status = OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED
        self.fill_count += 1
        self.fill_records.append(FillRecord(self._clock(), symbol.value, quantity, price, multiplier, 0.0,
                                            itm_amount, in_the_money))
        event = self._event(order, OrderStatus.FILLED, price, quantity, 0.0, message, is_assignment,
                            in_the_money, symbol)
        self._emit(event)
        if is_assignment and self.on_assignment is not None:
            self.on_assignment(event)
