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
  [QCAlgorithm.Trading.cs MarketOrder: ``security.Exchange.ExchangeOpen`` is the regular session],
  also during the pre- and post-market of an equity subscribed with extended hours.
- Market on open fills on the first bar that starts in the regular session (09:30-09:31 at
  09:31, never on a pre-market bar); an equity at that trade bar's open [EquityFillModel.cs
  MarketOnOpenFill].
- Limit orders [FillModel.cs LimitFill, EquityFillModel.cs LimitFill, IsExchangeOpen]: looked at
  only while the exchange is open, in its extended hours when the security's subscription has
  them (an equity added with ``extended_market_hours=True``), or while its last bar (ending now)
  was; never on a bar that ended at or before the order (stale). An equity's limit fills on its
  trade bar: a buy when Low < limit, at the limit or at the Open when the bar opened below it (a
  sell mirrored). Options never have extended hours. Combo limits check only staleness
  (FillModel.ComboLimitFill): outside the options' session their last bar is the close's.

The synthetic market has no exchange hours: none of these time rules apply there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from harness.brokerage_host import BrokerageHost
from harness.lean_enums import OrderType
from harness.lean_orders import MarketOnCloseOrder, Order, OrderTicket
from harness.lean_symbols import Symbol

MINUTE = timedelta(minutes=1)


class SessionOrders(BrokerageHost):
    """Mixed into ``HarnessBrokerage``; uses its order book, checks and fills."""

    _clock: Callable[[], datetime]
    market_close_after: Callable[[datetime], datetime] | None

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
        if hours is None or now <= order.time or self._bar_end(order.symbol) != now or not hours.is_open(now - MINUTE):
            return  # never on the bar it was placed in; only on a bar of the regular session
        if hours.is_open(order.time) and order.time.date() == now.date():
            return  # placed during the session: wait for the next day's open
        bar = self._equity_trade_bar(order.symbol)
        self._fill_with_script(order, self._side_price(order) if bar is None else bar[0])

    # -- the fill models' exchange-hours and staleness checks ---------------------------------
    def _equity_trade_bar(self, symbol: Symbol) -> tuple[float, ...] | None:
        """(open, high, low, close, volume) of the equity's current trade bar on LEAN data."""
        market = self._market()
        if symbol != getattr(market, "underlying", None) or not hasattr(market, "equity_bar"):
            return None
        return market.equity_bar()

    def _bar_end(self, symbol: Symbol) -> datetime | None:
        """End time of the security's last bar on LEAN data (None on the synthetic market)."""
        market = self._market()
        if not hasattr(market, "option_bar_end"):
            return None
        if symbol == market.underlying:
            start = market.equity_bar_start()
            return None if start is None else start + MINUTE
        return market.option_bar_end()

    def _limit_may_fill(self, order: Order) -> bool:
        """FillModel.IsExchangeOpen(asset, subscription's extended hours) and the stale-data check
        of LimitFill (``prices.EndTime <= order.Time``: no fill)."""
        hours = self._hours(order.symbol)
        bar_end = self._bar_end(order.symbol)
        if hours is None or bar_end is None:
            return True
        now = self._clock()
        extended = getattr(self._securities[order.symbol], "_extended_market_hours", False)
        exchange_open = hours.is_open(now, extended) or (now <= bar_end and hours.is_open(bar_end - MINUTE, extended))
        return exchange_open and bar_end > order.time

    def _combo_may_fill(self, legs: list[Order]) -> bool:
        """FillModel.ComboLimitFill/ComboLegLimitFill's stale-data check: no leg's bar older than
        the order (``prices.EndTime < order.Time``)."""
        for leg in legs:
            bar_end = self._bar_end(leg.symbol)
            if bar_end is not None and bar_end < leg.time:
                return False
        return True
