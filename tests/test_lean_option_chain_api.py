"""``option_chain(symbol)`` and ``option_chain_provider`` on LEAN's universe files, and the market
order / market-on-open rules at the session edges, as the LEAN sources they cite."""

from __future__ import annotations

from datetime import datetime

from harness.lean_enums import OrderStatus, OrderType
from harness.lean_run import run_lean
from harness.qc_algorithm import QCAlgorithm
from tests.lean_data_paths import LEAN_DATA, needs_lean_data

pytestmark = needs_lean_data


class ChainAt(QCAlgorithm):
    """Reads both chain APIs in initialize (2015-12-28 00:00: after the 12-25 holiday)."""

    def initialize(self) -> None:
        self.set_start_date(2015, 12, 28)
        self.set_end_date(2015, 12, 28)
        goog = self.add_equity("GOOG").symbol
        self.chain = self.option_chain(goog, flatten=True)
        self.listed = self.option_chain_provider.get_option_contract_list(goog, self.time)


def test_option_chain_reads_the_universe_file_of_the_trading_day_before(tmp_path) -> None:
    """QCAlgorithm.OptionChain / GetChainsData [Algorithm/QCAlgorithm.cs] and
    BacktestingChainProvider.GetSymbols [Engine/DataFeeds/BacktestingChainProvider.cs]: the latest
    universe data that has ended (the 12-24 file on 12-28), without expired contracts, both APIs
    giving the same contracts in Symbol order; a contract carries the file's close, IV and Greeks."""
    algorithm = run_lean(ChainAt, LEAN_DATA, tmp_path / "s").engine.algorithm
    chain, listed = algorithm.chain, algorithm.listed

    assert chain.contracts.keys() == listed == sorted(listed) and len(listed) == 2016  # every row of the 12-24 file
    assert chain.underlying.price == 748.40  # the 12-24 file's underlying row
    first = chain.contracts[listed[0]]  # GOOG 151231C00450000: close 298.30, IV 1.7405772, delta 0.9915959
    assert (first.strike, first.bid_price, first.ask_price, first.last_price) == (450.0, 298.3, 298.3, 298.3)
    assert (first.implied_volatility, first.greeks.delta, first.id.strike_price) == (1.7405772, 0.9915959, 450.0)
    frame = chain.data_frame
    assert frame.index.names == ["symbol"] and frame.loc[(listed[0],)].impliedvolatility == 1.7405772


class LateOrders(QCAlgorithm):
    """Buys the stock at 15:44 and 15:45 with market-on-close orders and at the 16:00 slice with a
    market order, on 2015-12-23; holds through 12-24."""

    def initialize(self) -> None:
        self.set_start_date(2015, 12, 23)
        self.set_end_date(2015, 12, 24)
        self.goog = self.add_equity("GOOG").symbol
        self.tickets: dict[str, object] = {}

    def on_data(self, slice) -> None:
        stamp = f"{self.time:%d %H:%M}"
        if stamp == "23 15:44":
            self.tickets["moc 15:44"] = self.market_on_close_order(self.goog, 1)
        elif stamp == "23 15:45":
            self.tickets["moc 15:45"] = self.market_on_close_order(self.goog, 1)
        elif stamp == "23 16:00":
            self.tickets["market 16:00"] = self.market_order(self.goog, 1)
        elif stamp == "24 10:00":
            self.tickets["moo 10:00"] = self.market_on_open_order(self.goog, 1)


def test_market_on_close_cut_off_and_market_orders_after_the_close_become_market_on_open(tmp_path) -> None:
    """QCAlgorithm.Trading.cs: an MOC order after close - 15.5 min is refused (no order); a
    market order at 16:00 (the exchange is closed) is a MarketOnOpen order that fills at the next
    open; a MarketOnOpen order during the session is refused [FillModel.cs MarketOnOpenFill]."""
    run = run_lean(LateOrders, LEAN_DATA, tmp_path / "s")
    tickets = run.engine.algorithm.tickets
    orders = run.engine.brokerage.orders

    assert tickets["moc 15:44"].status == OrderStatus.FILLED
    assert tickets["moc 15:45"].order_id == 0 and tickets["moc 15:45"].status == OrderStatus.INVALID
    moo = orders[tickets["market 16:00"].order_id]
    assert moo.type == OrderType.MARKET_ON_OPEN and moo.status == OrderStatus.FILLED
    fills = {f.time: f for f in run.engine.brokerage.fill_records}
    assert datetime(2015, 12, 24, 9, 31) in fills  # the first bar of the next session
    assert tickets["moo 10:00"].order_id == 0
    assert len(orders) == 2
