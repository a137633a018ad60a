"""Orders tied to the exchange session in the harness brokerage, with LEAN's backtest rules.

- Market on close [FillModel.cs MarketOnCloseFill; Common/Orders/MarketOnCloseOrder.cs;
  Algorithm/QCAlgorithm.Trading.cs PreOrderChecksImpl]: refused (no order, no event) when placed
  later than the next close less ``MarketOnCloseOrder.submission_time_buffer`` (15.5 minutes);
  fills at the first slice at or after that close, at the bar's close on the order's side.
- Market on open [FillModel.cs MarketOnOpenFill; PreOrderChecksImpl]: refused while the market
  is open (regular hours); fills at the first in-session slice after the order, never on the bar
  it was placed in. LEAN fills at that bar's open on the order's side; the harness keeps no quote
  bar opens and fills at the bar's bid/ask close (a known approximation).
- A market order placed while the exchange is closed (before the open, after the close and at
  the closing bar's end itself: sessions are [open, close)) becomes a market-on-open order
  [QCAlgorithm.Trading.cs MarketOrder].

The synthetic market has no exchange hours: none of these time rules apply there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from harness.lean_enums import OrderType
from harness.lean_orders import MarketOnCloseOrder, Order, OrderTicket
from harness.lean_securities import SecurityManager
from harness.lean_symbols import Symbol


class SessionOrders:
    """Mixed into ``HarnessBrokerage``; uses its order book, checks and fills."""

    _securities: SecurityManager
    _market: Callable[[], Any]
    _clock: Callable[[], datetime]
    market_close_after: Callable[[datetime], datetime] | None

    def _pre_check_reason(self, symbol: Symbol, quantity: float) -> str | None:
        raise NotImplementedError

    def _refused(self, symbol: Symbol, quantity: float, kind: OrderType, tag: str, reason: str) -> OrderTicket:
        raise NotImplementedError

    def _new_order(self, symbol: Symbol, quantity: float, kind: OrderType, tag: str,
                   limit: float | None = None) -> Order:
        raise NotImplementedError

    def _submit(self, order: Order) -> None:
        raise NotImplementedError

    def _ticket(self, order: Order) -> OrderTicket:
        raise NotImplementedError

    def _side_price(self, order: Order) -> float:
        raise NotImplementedError

    def _fill_with_script(self, order: Order, price: float) -> None:
        raise NotImplementedError

    def _hours(self, symbol: Symbol) -> Any:
        security = self._securities.get(symbol)
        return None if security is None else getattr(security, "_hours", None)

    def _exchange_closed(self, symbol: Symbol) -> bool:
        hours = self._hours(symbol)
        return hours is not None and not hours.is_open(self._clock())

    def _session_order(self, symbol: Symbol, quantity: float, kind: OrderType, tag: str,
                       too_early_or_late: str | None) -> OrderTicket:
        reason = self._pre_check_reason(symbol, quantity) or too_early_or_late
        if reason:
            return self._refused(symbol, quantity, kind, tag, reason)
        order = self._new_order(symbol, quantity, kind, tag)
        self._submit(order)
        return self._ticket(order)

    # -- market on close -------------------------------------------------------------------
    def market_on_close_order(self, symbol: Symbol, quantity: float, tag: str) -> OrderTicket:
        too_late = self._market_on_close_too_late(symbol) if symbol in self._securities else None
        return self._session_order(symbol, quantity, OrderType.MARKET_ON_CLOSE, tag, too_late)

    def _market_on_close_too_late(self, symbol: Symbol) -> str | None:
        """IsWithinMarketOnCloseSubmissionBuffer: later than the next close less the buffer
        (15:44:30 on a regular day, 12:44:30 on an early close)."""
        hours = self._hours(symbol)
        if hours is None:
            return None
        now = self._clock()
        buffer = MarketOnCloseOrder.submission_time_buffer
        if now > hours.next_market_close(now) - buffer:
            return (f"MarketOnClose orders must be placed within {buffer} before market close. Override this TimeSpan "
                    "buffer by setting Orders.MarketOnCloseOrder.SubmissionTimeBuffer in QCAlgorithm.Initialize().")
        return None

    def _work_market_on_close(self, order: Order) -> None:
        close_after = self.market_close_after
        if close_after is None or self._clock() < close_after(order.time):
            return
        self._fill_with_script(order, self._side_price(order))

    # -- market on open --------------------------------------------------------------------
    def market_on_open_order(self, symbol: Symbol, quantity: float, tag: str) -> OrderTicket:
        hours = self._hours(symbol)
        during = hours is not None and hours.is_open(self._clock())
        reason = "Cannot submit a MarketOnOpen order while the market is open." if during else None
        return self._session_order(symbol, quantity, OrderType.MARKET_ON_OPEN, tag, reason)

    def _work_market_on_open(self, order: Order) -> None:
        hours = self._hours(order.symbol)
        now = self._clock()
        if hours is None or now <= order.time or not hours.is_open(now):
            return  # never on the bar it was placed in; only while the regular session is open
        if hours.is_open(order.time) and order.time.date() == now.date():
            return  # placed during the session: wait for the next day's open
        self._fill_with_script(order, self._side_price(order))
