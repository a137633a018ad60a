"""LEAN's Greeks on the LEAN-data replay (GOOG sample data): an algorithm reading its chain gets
LEAN's default model's IV and Greeks (``harness/lean_price_model.py``), computed only for what it
reads, and the bot (main.py) books them as market Greeks.

Follows ``Indicators/IndicatorBasedOptionPriceModel.cs`` (no result only without prices or after
expiry: no first-minute zeroing) and ``Common/Data/Market/OptionContract.cs`` (``LastPrice`` is the
last trade bar's close, 0 without one).
"""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path
from typing import cast

import numpy as np
import pytest

from execution.bot_managed_positions import GreeksSource
from harness.lean_data import QuoteBook
from harness.lean_price_model import LazyGreeks, LeanPriceModel
from harness.lean_run import run_lean
from harness.lean_symbols import Symbol
from harness.runner import REPO_ROOT, load_algorithm_class, load_parameters
from tests.lean_data_paths import LEAN_DATA, needs_lean_data

pytestmark = needs_lean_data

READER = textwrap.dedent('''
    from datetime import time
    from AlgorithmImports import *


    class GreeksReader(QCAlgorithm):
        def initialize(self):
            self.set_start_date(2015, 12, 24)
            self.set_end_date(2015, 12, 24)
            self.set_cash(100000)
            option = self.add_option("GOOG", Resolution.MINUTE)
            option.set_filter(lambda u: u.strikes(-4, 4).expiration(0, 60))
            self.symbol = option.symbol
            self.rows = []

        def on_data(self, slice):
            if self.time.time() not in (time(9, 31), time(11, 0), time(12, 59)):
                return
            chain = slice.option_chains.get(self.symbol)
            for contract in chain or []:
                g = contract.greeks
                self.rows.append((self.time, contract.symbol, contract.right, contract.strike, contract.expiry,
                                  contract.bid_price, contract.ask_price, contract.last_price,
                                  contract.underlying_last_price, contract.implied_volatility, g.delta, g.gamma,
                                  g.vega, g.theta, g.theta_per_day, g.rho, contract.theoretical_price))
''')


@pytest.fixture(scope="module")
def reader_run(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("greeks_reader")
    algorithm = folder / "greeks_reader.py"
    algorithm.write_text(READER, encoding="utf-8")
    return run_lean(algorithm, LEAN_DATA, folder / "storage")


def test_chain_contracts_have_sane_lean_greeks_from_the_first_minute(reader_run) -> None:
    rows = reader_run.engine.algorithm.rows
    times = sorted({r[0] for r in rows})
    assert times == [datetime(2015, 12, 24, 9, 31), datetime(2015, 12, 24, 11, 0), datetime(2015, 12, 24, 12, 59)]
    quoted = [r for r in rows if r[5] > 0 and r[6] > 0]
    assert len(quoted) >= 30
    # LEAN finds an IV for nearly every quoted contract; where it finds none (a same-day expiry one
    # minute before its 13:00 settlement, priced at intrinsic) its Greeks are those of volatility 0
    solved = [r for r in quoted if r[9] > 0]
    assert len(solved) >= 0.9 * len(quoted)
    for (_, symbol, right, _strike, _expiry, _bid, _ask, _last, spot, iv, delta, gamma, vega, theta, theta_day,
         _rho, theo) in solved:
        assert spot > 0 and iv < 4, symbol  # LEAN's bracket tops out at 400 %
        if right.name == "CALL":
            assert 0 < delta <= 1, symbol
        else:
            assert -1 <= delta < 0, symbol
        assert gamma > 0 and vega > 0 and theta < 0, symbol
        assert theta_day == pytest.approx(theta / 365, abs=1e-12)
        assert theo > 0
    first_minute = [r for r in quoted if r[0] == times[0]]
    assert first_minute and all(r[9] > 0 and r[10] != 0 for r in first_minute)  # no first-minute zeroing


def test_an_in_the_money_contract_reports_its_mirrors_iv(reader_run) -> None:
    """ImpliedVolatility's default smoothing: both contracts of a strike carry the out-of-the-money
    one's volatility (when both are found)."""
    rows = reader_run.engine.algorithm.rows
    pairs: dict[tuple, dict[str, float]] = {}
    for r in rows:
        pairs.setdefault((r[0], r[3], r[4]), {})[r[2].name] = r[9]
    matched = [p for p in pairs.values() if len(p) == 2 and p["CALL"] > 0 and p["PUT"] > 0]
    assert len(matched) >= 10
    assert all(p["CALL"] == p["PUT"] for p in matched)


def test_last_price_is_the_last_trade_not_a_model_price(reader_run) -> None:
    rows = reader_run.engine.algorithm.rows
    untraded = [r for r in rows if r[7] == 0 and r[5] > 0]
    assert untraded, "the sample has contracts quoted but not traded"
    assert all(r[10] != 0 for r in untraded)  # Greeks come from the quote (mid), not from trades
    traded = [r for r in rows if r[7] > 0]
    assert traded and all(r[7] != pytest.approx(r[16], abs=1e-9) for r in traded[:5])


def test_greeks_are_computed_only_for_the_contracts_read(reader_run) -> None:
    rows = reader_run.engine.algorithm.rows
    evaluated = reader_run.engine.greeks.evaluated
    assert evaluated > 0
    assert evaluated <= len(rows)  # three reads of the chain: nothing else was priced


def test_main_py_books_lean_greeks_as_market_greeks(tmp_path: Path) -> None:
    parameters = load_parameters(REPO_ROOT / "config.json")
    parameters.update({"start_date": "2015-12-24", "end_date": "2015-12-24"})
    run = run_lean(load_algorithm_class(), LEAN_DATA, tmp_path / "storage", parameters)
    bot = run.engine.algorithm.adapter.bot
    positions = bot.book.open_positions()
    assert positions, "the bot enters on 2015-12-24"
    for position in positions:
        assert position.greeks_source == GreeksSource.MARKET
        assert position.delta != 0 and position.iv > 0
    assert not any(" ERROR " in line for line in run.result.logs)


class _CountingModel:
    """Stands in for LeanPriceModel: records the batches it is asked to evaluate."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def evaluate(self, now: datetime, symbols: list[Symbol], price, spot, has_mirror) -> dict[str, np.ndarray]:
        self.batches.append([s.value for s in symbols])
        return {k: np.full(len(symbols), float(now.minute))
                for k in ("iv", "delta", "gamma", "vega", "theta", "rho", "theoretical")}


def test_lazy_greeks_cache_per_step_predict_repeat_reads_and_batch_a_scan() -> None:
    symbols = [Symbol._create_equity(f"C{i}") for i in range(10)]
    model = _CountingModel()
    lazy = LazyGreeks(cast(LeanPriceModel, model), lambda i: symbols[i], lambda: list(range(10)), lambda s: 1.0,
                      lambda: 100.0, lambda s: False)
    book = QuoteBook(10)
    lazy.attach(book)
    lazy.new_step(datetime(2015, 12, 24, 9, 31))
    book.ensure(2)
    book.ensure(2)
    assert model.batches == [["C2"]] and book.delta[2] == 31.0  # one evaluation per step and contract
    for minute in (32, 33, 34):
        lazy.new_step(datetime(2015, 12, 24, 9, minute))
        book.ensure(2)
        book.ensure(5)
    # from 9:34 on, 2 and 5 were read in each of the two previous steps: one batch for both
    assert model.batches[1:] == [["C2"], ["C5"], ["C2"], ["C5"], ["C2", "C5"]]
    assert book.delta[5] == 34.0
    lazy.new_step(datetime(2015, 12, 24, 9, 35))
    for row in (0, 1, 3, 4, 6):
        book.ensure(row)  # a scan: after three misses the rest of the chain comes in one batch
    assert model.batches[6:] == [["C0", "C2", "C5"], ["C1"], ["C3"], ["C4", "C6", "C7", "C8", "C9"]]
    stale = book
    lazy.attach(QuoteBook(10))
    stale.ensure(9)  # a view of yesterday's book keeps its values; nothing is computed for it
    assert len(model.batches) == 10
