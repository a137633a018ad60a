"""Extended market hours on the LEAN-data replay (GOOG sample data), as LEAN does them.

- Data: ``add_equity(..., extended_market_hours=True)`` keeps the equity's pre- and post-market
  bars (04:00-20:00 in ``market-hours/market-hours-database.json``), fill-forward included;
  without it they are dropped [Engine/DataFeeds/Enumerators/SubscriptionFilterEnumerator.cs:
  ``IsOpen(bar.Time, bar.EndTime, config.ExtendedMarketHours)``; FillForwardEnumerator.cs;
  Common/Securities/SecurityExchangeHours.cs GetMarketHours: an early close drops the post-market].
  Options have no extended segments: no chain outside the regular session.
- Orders [Algorithm/QCAlgorithm.Trading.cs MarketOrder: ``Exchange.ExchangeOpen`` is the regular
  session, so a market order in the pre/post-market becomes MarketOnOpen, with or without the
  extended subscription; Common/Orders/Fills/EquityFillModel.cs MarketOnOpenFill: the first
  regular bar's open; EquityFillModel.LimitFill: ``IsExchangeOpen(asset, subscription's
  ExtendedMarketHours)``, Low < limit -> the limit, or the bar's Open on a favourable gap].
"""

from __future__ import annotations

import textwrap
from datetime import datetime, time

import pytest

from harness.lean_enums import OrderStatus, OrderType
from harness.lean_run import run_lean
from tests.lean_data_paths import LEAN_DATA, needs_lean_data

pytestmark = needs_lean_data

ALGORITHM = textwrap.dedent('''
    from AlgorithmImports import *


    class ExtendedHours(QCAlgorithm):
        def initialize(self):
            self.set_start_date(2015, 12, 23)
            self.set_end_date(2015, 12, 24)
            self.set_cash(100000)
            self.goog = self.add_equity("GOOG", Resolution.MINUTE, extended_market_hours=EXTENDED).symbol
            option = self.add_option("GOOG", Resolution.MINUTE)
            option.set_filter(lambda u: u.strikes(-1, 1).expiration(0, 30))
            self.bars = {}
            self.chains = {}
            self.tickets = {}

        def on_data(self, slice):
            bar = slice.bars.get(self.goog)
            if bar is not None:
                self.bars[self.time] = (bar.open, bar.high, bar.low, bar.close, bar.volume)
            self.chains[self.time] = len(slice.option_chains)
            stamp = f"{self.time:%d %H:%M}"
            if stamp == "23 08:00":
                self.tickets["market 08:00"] = self.market_order(self.goog, 1)
                self.tickets["limit 08:00"] = self.limit_order(self.goog, 1, 753.5)
            elif stamp == "23 16:00":
                self.tickets["market 16:00"] = self.market_order(self.goog, 1)
                self.tickets["limit 16:00"] = self.limit_order(self.goog, -1, 750.35)
            elif stamp == "23 17:00":
                self.tickets["market 17:00"] = self.market_order(self.goog, 1)
''')


def _run(tmp_path, extended: bool):
    path = tmp_path / f"extended_{extended}.py"
    path.write_text(ALGORITHM.replace("EXTENDED", str(extended)), encoding="utf-8")
    return run_lean(path, LEAN_DATA, tmp_path / f"store_{extended}")


@pytest.fixture(scope="module")
def extended_run(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("extended"), True)


@pytest.fixture(scope="module")
def regular_run(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("regular"), False)


def test_the_extended_subscription_sees_pre_and_post_market_bars_with_the_file_prices(extended_run) -> None:
    bars = extended_run.engine.algorithm.bars
    day1 = sorted(t for t in bars if t.date() == datetime(2015, 12, 23).date())
    # 20151223_trade.zip: first row 17940000 ms (04:59) 7524800 x10: emitted at 05:00; nothing before it
    assert day1[0] == datetime(2015, 12, 23, 5, 0) and bars[day1[0]] == (752.48, 752.48, 752.48, 752.48, 10)
    assert bars[datetime(2015, 12, 23, 8, 4)] == (753.0, 753.0, 753.0, 753.0, 122)  # the 08:03 row
    assert bars[datetime(2015, 12, 23, 8, 5)] == (753.0, 753.0, 753.0, 753.0, 0)  # fill-forward
    assert bars[datetime(2015, 12, 23, 16, 45)] == (750.4, 750.4, 750.4, 750.4, 822)  # the 16:44 row
    assert bars[datetime(2015, 12, 23, 18, 19)] == (749.44, 749.44, 749.44, 749.44, 1)  # last row, 18:18
    assert day1[-1] == datetime(2015, 12, 23, 20, 0) and bars[day1[-1]][3] == 749.44  # filled forward to 20:00
    # 12-24: fill-forward from 04:01 (the post-market close of 12-23); the 13:00 early close drops the post-market
    day2 = sorted(t for t in bars if t.date() == datetime(2015, 12, 24).date())
    assert day2[0] == datetime(2015, 12, 24, 4, 1) and bars[day2[0]][3] == 749.44
    assert day2[-1] == datetime(2015, 12, 24, 13, 0)
    chains = extended_run.engine.algorithm.chains
    outside = [t for t in chains if not time(9, 31) <= t.time() <= time(16, 0)]
    assert outside and all(chains[t] == 0 for t in outside)  # options: regular session only
    assert chains[datetime(2015, 12, 23, 10, 0)] == 1


def test_without_it_only_the_regular_session_is_replayed(regular_run) -> None:
    bars = regular_run.engine.algorithm.bars
    assert min(bars) == datetime(2015, 12, 23, 9, 31) and max(bars) == datetime(2015, 12, 24, 13, 0)
    assert all(time(9, 31) <= t.time() <= time(16, 0) for t in bars)
    assert bars[datetime(2015, 12, 23, 9, 31)][0] == 753.47  # the 09:30 row


def test_a_pre_market_market_order_is_market_on_open_and_a_limit_fills_in_the_pre_market(extended_run) -> None:
    engine = extended_run.engine
    tickets, orders = engine.algorithm.tickets, engine.brokerage.orders
    fills = {f.time: f for f in engine.brokerage.fill_records}
    moo = orders[tickets["market 08:00"].order_id]
    assert moo.type == OrderType.MARKET_ON_OPEN and moo.status == OrderStatus.FILLED
    assert fills[datetime(2015, 12, 23, 9, 31)].price == 753.47  # the 09:30 bar's open
    limit = orders[tickets["limit 08:00"].order_id]
    assert limit.status == OrderStatus.FILLED
    assert fills[datetime(2015, 12, 23, 8, 4)].price == 753.0  # 08:03 bar: Low 753 < 753.5, opened below it


def test_post_market_orders_with_the_extended_subscription(extended_run) -> None:
    engine = extended_run.engine
    tickets, orders = engine.algorithm.tickets, engine.brokerage.orders
    fills = {(f.time, f.quantity): f for f in engine.brokerage.fill_records}
    # the sell limit at 750.35 in the post-market: the 16:03 bar (O 750.19, H 750.45) crosses it, at the limit
    assert fills[(datetime(2015, 12, 23, 16, 4), -1)].price == 750.35
    for name in ("market 16:00", "market 17:00"):  # both MarketOnOpen, at 12-24's 09:30 bar open
        assert orders[tickets[name].order_id].type == OrderType.MARKET_ON_OPEN
        assert orders[tickets[name].order_id].status == OrderStatus.FILLED
    assert [f.price for f in engine.brokerage.fill_records if f.time == datetime(2015, 12, 24, 9, 31)] == [749.55] * 2


def test_without_it_the_close_orders_wait_for_the_next_session(regular_run) -> None:
    engine = regular_run.engine
    tickets, orders = engine.algorithm.tickets, engine.brokerage.orders
    assert set(tickets) == {"market 16:00", "limit 16:00"}  # no slice at 08:00 or 17:00
    limit = orders[tickets["limit 16:00"].order_id]
    assert limit.status == OrderStatus.FILLED  # not in the post-market: 12-24's 09:36 bar (H 750.70) crosses
    fill = next(f for f in engine.brokerage.fill_records if f.quantity == -1)
    assert (fill.time, fill.price) == (datetime(2015, 12, 24, 9, 37), 750.35)
    moo = orders[tickets["market 16:00"].order_id]
    assert moo.type == OrderType.MARKET_ON_OPEN
    assert [(f.time, f.price) for f in engine.brokerage.fill_records if f.quantity == 1] == [
        (datetime(2015, 12, 24, 9, 31), 749.55)]
