"""LEAN's own example algorithms, unmodified, on LEAN's GOOG sample data reproduce the statistics
LEAN reports for them (../shared/lean-examples/expected-statistics.json, from the ExpectedStatistics
of their C# twins): Total Orders and Total Fees exactly, End Equity within $1, and every other
statistic LEAN lists there that the harness computes."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from harness.lean_run import run_lean
from tests.lean_data_paths import LEAN_DATA, LEAN_EXAMPLES, needs_lean_data, needs_lean_examples

pytestmark = [needs_lean_data, needs_lean_examples]
VENDORED = Path(__file__).resolve().parent / "lean_examples"  # more of LEAN's examples (see its README)
EXAMPLES = [(LEAN_EXAMPLES, "BasicTemplateOptionsAlgorithm"),
            (LEAN_EXAMPLES, "OptionExerciseAssignRegressionAlgorithm"),
            (VENDORED, "OptionChainProviderAlgorithm"), (VENDORED, "BasicTemplateOptionsFilterUniverseAlgorithm"),
            (VENDORED, "OptionChainIncludeWeeklysByDefaultRegressionAlgorithm"),
            (VENDORED, "OptionChainConsistencyRegressionAlgorithm"),
            (VENDORED, "OptionFilterReturnsNullRegressionAlgorithm"),
            (VENDORED, "ComboOrderTicketDemoAlgorithm"), (VENDORED, "OptionChainFullDataRegressionAlgorithm"),
            (VENDORED, "OptionChainApisConsistencyRegressionAlgorithm")]
# LEAN option examples on this GOOG data that do not run on the harness yet: the LEAN API each still
# misses (strict: when one starts to pass, move it to EXAMPLES)
NOT_YET = {
    "BasicTemplateOptionEquityStrategyAlgorithm": "OptionStrategies (strategy factory methods) and buy(strategy, n)",
    "BasicTemplateOptionStrategyAlgorithm": "OptionStrategies and sell(strategy, n)",
    "OptionAssignmentRegressionAlgorithm": "trade_builder / TradeDirection, and LEAN's early-assignment model "
    "(DefaultOptionAssignmentModel) for the deep in-the-money short options",
    "OptionUniverseHistoryRegressionAlgorithm": "history(OptionUniverse, ..., flatten=True) of universe data",
    "OptionUniverseFilterGreeksRegressionAlgorithm": "OptionFilterUniverse Greek and IV filters (delta, gamma, ...)",
    "NullBuyingPowerOptionBullCallSpreadAlgorithm": "set_security_initializer and the null buying power model",
    "NullMarginMultipleOrdersRegressionAlgorithm": "portfolio.set_positions (SecurityPositionGroupModel.Null)",
}
# surveyed but not runnable on the sample: OptionChainsMultipleFullDataRegressionAlgorithm adds the SPX
# index and its options (add_index), whose data the GOOG sample does not hold

# the yardstick of the issue, plus every other statistic the harness computes
YARDSTICK = ("Total Orders", "Total Fees", "End Equity")
KNOWN_DIFFERENCES = {
    "BasicTemplateOptionsFilterUniverseAlgorithm": "Drawdown 0.300% vs LEAN 0.800%, Portfolio Turnover 14.87% vs "
    "15.08%, Sharpe Ratio 0 vs 12.688: the portfolio value with the expired, not yet delisted call held at the "
    "end of 2015-12-24 differs (the harness marks it at its last quote mid, 0.825)",
}


def _expected(folder: Path, name: str) -> dict[str, str]:
    return json.loads((folder / "expected-statistics.json").read_text())[name]


def assert_matches_lean(statistics: dict[str, str], expected: dict[str, str]) -> None:
    assert statistics["Total Orders"] == expected["Total Orders"]
    assert statistics["Total Fees"] == expected["Total Fees"]
    assert abs(float(statistics["End Equity"]) - float(expected["End Equity"])) <= 1.0


@pytest.mark.parametrize(("folder", "name"), EXAMPLES, ids=[n for _, n in EXAMPLES])
def test_lean_example_matches_leans_orders_fees_and_end_equity(folder: Path, name: str, tmp_path: Path) -> None:
    run = run_lean(folder / f"{name}.py", LEAN_DATA, tmp_path / "storage")

    assert_matches_lean(run.statistics, _expected(folder, name))


@pytest.mark.parametrize(("folder", "name"), [
    pytest.param(f, n, marks=pytest.mark.xfail(strict=True, reason=KNOWN_DIFFERENCES[n])) if n in KNOWN_DIFFERENCES
    else (f, n) for f, n in EXAMPLES], ids=[n for _, n in EXAMPLES])
def test_lean_example_matches_every_other_statistic_lean_lists(folder: Path, name: str, tmp_path: Path) -> None:
    statistics = run_lean(folder / f"{name}.py", LEAN_DATA, tmp_path / "storage").statistics
    expected = _expected(folder, name)

    compared = {k: (statistics[k], v) for k, v in expected.items() if k in statistics and k not in YARDSTICK}
    assert len(compared) >= 4
    assert {k: ours for k, (ours, _) in compared.items()} == {k: lean for k, (_, lean) in compared.items()}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=f"needs {r}"))
                                  for n, r in sorted(NOT_YET.items())])
def test_lean_example_not_yet_supported_matches_lean(name: str, tmp_path: Path) -> None:
    run = run_lean(VENDORED / f"{name}.py", LEAN_DATA, tmp_path / "storage")

    assert_matches_lean(run.statistics, _expected(VENDORED, name))


def test_exercise_and_assignment_events_follow_leans_default_exercise_model(tmp_path: Path) -> None:
    """Common/Orders/OptionExercise/DefaultExerciseModel.cs and Engine/TransactionHandlers/
    BrokerageTransactionHandler.cs: on the next tradable day after expiry
    the option fills at 0 (the short ITM one flagged is_assignment, both is_in_the_money) and the
    underlying is delivered at the strike; the assignment also reaches on_assignment_order_event."""
    run = run_lean(LEAN_EXAMPLES / "OptionExerciseAssignRegressionAlgorithm.py", LEAN_DATA, tmp_path / "s")
    algorithm = run.engine.algorithm
    fills = run.engine.brokerage.fill_records

    exercise = [f for f in fills if f.time.date().isoformat() == "2015-12-28"]
    options = [f for f in exercise if f.exercise_itm is not None]
    shares = [f for f in exercise if f.symbol == "GOOG"]
    assert {f.price for f in options} == {0.0} and all(f.in_the_money for f in options)
    assert sorted((f.quantity, f.price) for f in shares) == [(-100, 745.0), (100, 747.5)]
    assert algorithm._assigned_option is True
    assert algorithm.portfolio["GOOG"].quantity == 0
    assert str(exercise[0].time) == "2015-12-28 09:30:00"  # delisted on the next tradable day, not at 16:00 on 12-24
    assert any("IsAssignment: True" in line for line in run.result.logs)


def test_market_on_close_fills_at_the_early_close(tmp_path: Path) -> None:
    """FillModel.MarketOnCloseFill waits for the next market close after the order: 13:00 on
    2015-12-24 (market-hours database early close), at the bid bar's close."""
    run = run_lean(LEAN_EXAMPLES / "BasicTemplateOptionsAlgorithm.py", LEAN_DATA, tmp_path / "s")
    [_, close] = run.engine.brokerage.fill_records

    assert str(close.time) == "2015-12-24 13:00:00" and close.quantity == -1
    assert run.result.slices == 210  # 09:31 .. 13:00, one slice per minute bar end


def test_scheduled_events_follow_the_early_close(tmp_path: Path) -> None:
    """Time rules use the market-hours database: before_market_close(10) on 2015-12-24 is 12:50."""
    from harness.qc_algorithm import QCAlgorithm

    class BeforeClose(QCAlgorithm):
        def initialize(self) -> None:
            self.set_start_date(2015, 12, 23)
            self.set_end_date(2015, 12, 24)
            equity = self.add_equity("GOOG")
            self.fired: list[str] = []
            self.schedule.on(self.date_rules.every_day(equity.symbol),
                             self.time_rules.before_market_close(equity.symbol, 10),
                             lambda: self.fired.append(f"{self.time:%Y-%m-%d %H:%M}"))

    run = run_lean(BeforeClose, LEAN_DATA, tmp_path / "s")

    assert run.engine.algorithm.fired == ["2015-12-23 15:50", "2015-12-24 12:50"]


def test_slice_bars_hold_the_equitys_minute_trade_bar_iterated_as_key_value_pairs(tmp_path: Path) -> None:
    """slice.bars on LEAN data: the equity's trade bar of the minute (open .. close, volume, bar
    start and end), fill-forward bars at the last close with volume 0; iterating gives kvp."""
    from harness.qc_algorithm import QCAlgorithm

    class Bars(QCAlgorithm):
        def initialize(self) -> None:
            self.set_start_date(2015, 12, 24)
            self.set_end_date(2015, 12, 24)
            self.add_equity("GOOG")
            self.seen: list[tuple] = []

        def on_data(self, slice) -> None:
            for kvp in slice.bars:
                bar = kvp.value
                self.seen.append((kvp.key.value, bar.time, bar.end_time, bar.open, bar.close, bar.volume))

    algorithm = run_lean(Bars, LEAN_DATA, tmp_path / "s").engine.algorithm

    first = algorithm.seen[0]
    assert first[:3] == ("GOOG", datetime(2015, 12, 24, 9, 30), datetime(2015, 12, 24, 9, 31))
    assert first[3:] == (749.55, 748.54, 11492.0)  # LEAN's 09:30 bar: 7495500 .. 7485400, 11,492 shares
    assert len(algorithm.seen) == 210
