"""LEAN's order objects: Leg, GroupOrderManager, Order, OrderTicket, OrderEvent, OrderFee, CashAmount,
OrderField and OrderExtensions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from harness.lean_enums import FINAL_STATUSES, OrderDirection, OrderField, OrderStatus, OrderType
from harness.lean_symbols import Symbol


@dataclass(frozen=True)
class CashAmount:
    amount: float
    currency: str = "USD"


@dataclass(frozen=True)
class OrderFee:
    value: CashAmount

    @staticmethod
    def zero() -> OrderFee:
        return OrderFee(CashAmount(0.0))


class Leg:
    """One leg of a combo order: a symbol and its ratio (``quantity``) per unit of the combo."""

    def __init__(self, symbol: Symbol, quantity: int, order_price: float | None = None) -> None:
        self.symbol = symbol
        self.quantity = quantity
        self.order_price = order_price

    @staticmethod
    def create(symbol: Any, quantity: int, limit_price: float | None = None) -> Leg:
        if not isinstance(symbol, Symbol):
            symbol = getattr(symbol, "symbol", symbol)
        if not isinstance(symbol, Symbol):
            raise TypeError(f"Leg.create needs a Symbol, got {type(symbol).__name__}")
        if int(quantity) != quantity or quantity == 0:
            raise ValueError("Leg.create: the ratio must be a non-zero whole number")
        return Leg(symbol, int(quantity), limit_price)


@dataclass
class GroupOrderManager:
    """What the legs of one combo order share [Common/Orders/GroupOrderManager.cs]: the group's
    quantity and, for a combo limit order, its one net limit price (an update of any leg's
    limit price changes it for the whole group)."""

    id: int
    count: int
    quantity: float
    limit_price: float = 0.0
    order_ids: list[int] = field(default_factory=list)

    @property
    def direction(self) -> OrderDirection:
        return OrderDirection.BUY if self.quantity > 0 else OrderDirection.SELL

    @property
    def absolute_quantity(self) -> float:
        return abs(self.quantity)


@dataclass
class Order:
    """What ``transactions.get_order_by_id`` returns."""

    id: int
    symbol: Symbol
    quantity: float
    type: OrderType
    time: datetime
    tag: str = ""
    _limit_price: float | None = None  # a limit order's, or a combo leg limit order's own
    group_order_manager: GroupOrderManager | None = None  # combo orders share one
    status: OrderStatus = OrderStatus.NEW
    _filled_quantity: float = 0.0
    _fill_value: float = 0.0  # sum(price * qty) of fills, for the average

    @property
    def direction(self) -> OrderDirection:
        return OrderDirection.BUY if self.quantity > 0 else OrderDirection.SELL

    @property
    def _group_id(self) -> int | None:
        return None if self.group_order_manager is None else self.group_order_manager.id

    @property
    def _remaining(self) -> float:
        return self.quantity - self._filled_quantity

    @property
    def _is_open(self) -> bool:
        return self.status not in FINAL_STATUSES


class MarketOnCloseOrder:
    """LEAN's static submission buffer [Common/Orders/MarketOnCloseOrder.cs]: a market-on-close
    order must be placed at least this long before the close (15.5 minutes by default, so with
    minute data the 15:45 slice is already too late); an algorithm may change it in initialize."""

    DEFAULT_SUBMISSION_TIME_BUFFER = timedelta(minutes=15.5)
    submission_time_buffer = DEFAULT_SUBMISSION_TIME_BUFFER


@dataclass(frozen=True)
class OrderResponse:
    """What ``ticket.cancel()`` returns in LEAN (Common/Orders/OrderResponse.cs)."""

    order_id: int
    is_success: bool
    error_message: str = ""

    @property
    def is_error(self) -> bool:
        return not self.is_success


class UpdateOrderFields:
    """What ``ticket.update`` takes: the fields to change (None keeps the order's value)."""

    def __init__(self, quantity: float | None = None, limit_price: float | None = None,
                 tag: str | None = None) -> None:
        self.quantity = quantity
        self.limit_price = limit_price
        self.tag = tag


@dataclass
class UpdateOrderRequest:
    """One ``ticket.update`` call as the ticket records it (``ticket.update_requests``), with the
    response it got [Common/Orders/UpdateOrderRequest.cs]."""

    time: datetime
    order_id: int
    quantity: float | None
    limit_price: float | None
    tag: str | None
    response: OrderResponse | None = None


class OrderExtensions:
    """LEAN's status helpers [Common/Orders/OrderExtensions.cs]."""

    @staticmethod
    def is_open(status: OrderStatus) -> bool:
        return status not in FINAL_STATUSES

    @staticmethod
    def is_closed(status: OrderStatus) -> bool:
        return status in FINAL_STATUSES

    @staticmethod
    def is_fill(status: OrderStatus) -> bool:
        return status in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED)

    @staticmethod
    def is_limit_order(order_type: OrderType) -> bool:
        return order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.LIMIT_IF_TOUCHED)

    @staticmethod
    def is_stop_order(order_type: OrderType) -> bool:
        return order_type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)


class OrderTicket:
    """The handle ``market_order`` / ``limit_order`` return (one per leg for combos); one per
    order, so its ``update_requests`` last. A ticket LEAN refused before the order existed
    (QCAlgorithm pre-order checks) has order id 0."""

    def __init__(self, order: Order, cancel: Callable[[int], bool],
                 update: Callable[[int, UpdateOrderFields], str | None] | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self._order = order
        self._cancel = cancel
        self._update = update
        self._clock = clock
        self.update_requests: list[UpdateOrderRequest] = []

    @property
    def order_id(self) -> int:
        return self._order.id

    @property
    def symbol(self) -> Symbol:
        return self._order.symbol

    @property
    def status(self) -> OrderStatus:
        return self._order.status

    @property
    def tag(self) -> str:
        return self._order.tag

    @property
    def quantity(self) -> float:
        return self._order.quantity

    @property
    def order_type(self) -> OrderType:
        return self._order.type

    @property
    def time(self) -> datetime:
        return self._order.time

    def get(self, field: OrderField) -> float:
        """OrderTicket.Get [Common/Orders/OrderTicket.cs]: a combo limit leg answers the group's
        limit price, a combo leg limit or limit order its own; a field the order type does not
        have throws (ArgumentException)."""
        if field != OrderField.LIMIT_PRICE:
            raise ValueError(f"Unable to get field {field.name} on order of type {self._order.type.name}")
        manager = self._order.group_order_manager
        if self._order.type == OrderType.COMBO_LIMIT and manager is not None:
            return manager.limit_price
        if self._order.type in (OrderType.LIMIT, OrderType.COMBO_LEG_LIMIT) and self._order._limit_price is not None:
            return self._order._limit_price
        raise ValueError(f"Unable to get field {field.name} on order of type {self._order.type.name}")

    @property
    def quantity_filled(self) -> float:
        return self._order._filled_quantity

    @property
    def average_fill_price(self) -> float:
        filled = self._order._filled_quantity
        return self._order._fill_value / filled if filled else 0.0

    def update(self, fields: UpdateOrderFields) -> OrderResponse:
        """LEAN's OrderTicket.Update: the request is recorded on the ticket (even when refused),
        the answer is an OrderResponse; an error when the order is not open."""
        request = UpdateOrderRequest(self._clock() if self._clock else self._order.time, self._order.id,
                                     fields.quantity, fields.limit_price, fields.tag)
        self.update_requests.append(request)
        error = "the order cannot be updated" if self._update is None else self._update(self._order.id, fields)
        request.response = OrderResponse(self._order.id, error is None, error or "")
        return request.response

    def update_limit_price(self, limit_price: float, tag: str | None = None) -> OrderResponse:
        return self.update(UpdateOrderFields(limit_price=limit_price, tag=tag))

    def update_quantity(self, quantity: float, tag: str | None = None) -> OrderResponse:
        return self.update(UpdateOrderFields(quantity=quantity, tag=tag))

    def update_tag(self, tag: str) -> OrderResponse:
        return self.update(UpdateOrderFields(tag=tag))

    def cancel(self, tag: str | None = None) -> OrderResponse:
        """LEAN's OrderTicket.Cancel: an OrderResponse, ``is_success`` when the cancel was taken."""
        done = self._cancel(self._order.id) if self._order.id > 0 else False
        return OrderResponse(self._order.id, done, "" if done else "the order is not open")


@dataclass
class OrderEvent:
    """One state change of one order. Combo orders produce one event per leg."""

    order_id: int
    symbol: Symbol
    utc_time: datetime
    status: OrderStatus
    direction: OrderDirection
    fill_price: float = 0.0
    fill_quantity: float = 0.0
    quantity: float = 0.0
    order_fee: OrderFee = field(default_factory=OrderFee.zero)
    is_assignment: bool = False
    message: str = ""
    limit_price: float | None = None
    ticket: OrderTicket | None = None
    is_in_the_money: bool = False

    def __str__(self) -> str:
        """LEAN's OrderEvent.ToString shape."""
        text = (f"Time: {self.utc_time:%Y-%m-%d %H:%M:%S} OrderID: {self.order_id} EventID: 0 "
                f"Symbol: {self.symbol} Status: {self.status.name.title().replace('_', '')} "
                f"Quantity: {self.quantity:g}")
        if self.fill_quantity:
            text += (f" FillQuantity: {self.fill_quantity:g} FillPrice: {self.fill_price:g} USD "
                     f"OrderFee: {self.order_fee.value.amount:g} USD")
        if self.is_assignment:
            text += " IsAssignment: True"
        if self.message:
            text += f" Message: {self.message}"
        return text


class RegressionTestException(Exception):
    """Raised by LEAN's regression algorithms when an expectation fails."""
