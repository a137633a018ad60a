"""What the brokerage's mixins (expiry.py, combo_orders.py, session_orders.py) use of ``HarnessBrokerage``.

Declared once here, defined in ``HarnessBrokerage`` (brokerage.py). As the mixins' common base this class
comes after all of them in the method resolution order, so its stubs never shadow a real method.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.lean_enums import OrderType
from harness.lean_orders import Order, OrderTicket
from harness.lean_securities import SecurityManager
from harness.lean_symbols import Symbol


class BrokerageHost:
    _securities: SecurityManager
    _market: Callable[[], Any]

    def _new_order(self, symbol: Symbol, quantity: float, kind: OrderType, tag: str,
                   limit: float | None = None) -> Order:
        raise NotImplementedError

    def _pre_check_reason(self, symbol: Symbol, quantity: float) -> str | None:
        raise NotImplementedError

    def _refused(self, symbol: Symbol, quantity: float, kind: OrderType, tag: str, reason: str) -> OrderTicket:
        raise NotImplementedError

    def _submit(self, order: Order) -> None:
        raise NotImplementedError

    def _ticket(self, order: Order) -> OrderTicket:
        raise NotImplementedError
