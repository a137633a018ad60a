"""LEAN's default fee model for US equities and equity options."""

from __future__ import annotations

from dataclasses import dataclass

from harness.lean_enums import OrderType, SecurityType
from harness.lean_orders import Order


@dataclass(frozen=True)
class FeeModel:
    """LEAN's default for US equities and equity options, ``InteractiveBrokersFeeModel``
    [Common/Orders/Fees/InteractiveBrokersFeeModel.cs]: options $0.65 a contract at a premium
    of $0.10 or more, $0.50 from $0.05, $0.25 below (the order's price: its limit, else the bid
    or ask), at least $1 an order; equities $0.005 a share, at least $1, at most 0.5 % of the
    trade value; option exercise and assignment are free."""

    per_contract: float | None = None  # a flat option rate instead of IB's tiers (tests)
    per_share: float = 0.005
    min_per_order: float = 1.0
    max_equity_rate: float = 0.005
    option_tiers: tuple[tuple[float, float], ...] = ((0.10, 0.65), (0.05, 0.50), (0.0, 0.25))

    def option_rate(self, premium: float) -> float:
        if self.per_contract is not None:
            return self.per_contract
        return next(rate for floor, rate in self.option_tiers if premium >= floor or floor == 0.0)

    def order_fee(self, order: Order, quantity: float, price: float, premium: float | None = None) -> float:
        """The fee LEAN charges for ``quantity`` of ``order`` at ``price``; an option's tier
        comes from ``premium`` (``potential_order_price``), else the limit price or ``price``."""
        if order.type == OrderType.OPTION_EXERCISE:
            return 0.0
        if order.symbol.security_type == SecurityType.OPTION:
            if premium is None:
                premium = order._limit_price if order._limit_price is not None else price
            return max(abs(quantity) * self.option_rate(premium), self.min_per_order)
        fee = max(abs(quantity) * self.per_share, self.min_per_order)
        return min(fee, self.max_equity_rate * abs(quantity) * price) if price > 0 else fee

    def fee(self, order: Order, fill_quantity: float, first_fill: bool, price: float = 1.0,
            premium: float | None = None) -> float:
        """The fee of this fill: the order pays its whole fee once in total (split over fills)."""
        before = 0.0 if first_fill else self.order_fee(order, order._filled_quantity, price, premium)
        return self.order_fee(order, order._filled_quantity + fill_quantity, price, premium) - before


def potential_order_price(order: Order, bid: float, ask: float) -> float:
    """InteractiveBrokersFeeModel.GetPotentialOrderPrice [Common/Orders/Fees/
    InteractiveBrokersFeeModel.cs], the premium that picks an option's fee tier: a combo limit
    leg's group limit (the net price, so a credit is below $0.05), a limit or combo leg limit
    order's own limit, and for market-type orders the bid when buying and the ask when selling."""
    manager = order.group_order_manager
    if order.type == OrderType.COMBO_LIMIT and manager is not None:
        return manager.limit_price
    if order._limit_price is not None:
        return order._limit_price
    if order.type in (OrderType.MARKET, OrderType.MARKET_ON_CLOSE, OrderType.MARKET_ON_OPEN, OrderType.COMBO_MARKET):
        return bid if order.quantity > 0 else ask
    return 0.0
