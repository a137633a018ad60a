"""main.py (the bot) backtests on LEAN's GOOG sample data for its default period (config.json:
2015-12-23..28) through the LEAN-data replay, as `lean backtest .` would on a `lean init`
workspace: three trading days (Christmas is a holiday, 12-24 closes at 13:00), an entry, no crash,
and LEAN's statistics in the result."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from harness.lean_run import run_lean, write_result
from harness.runner import REPO_ROOT, load_algorithm_class, load_parameters
from tests.lean_data_paths import LEAN_DATA, needs_lean_data

pytestmark = needs_lean_data


def test_main_py_backtests_the_default_period_on_lean_data(tmp_path: Path) -> None:
    parameters = load_parameters(REPO_ROOT / "config.json")
    run = run_lean(load_algorithm_class(), LEAN_DATA, tmp_path / "storage", parameters)
    write_result(run, tmp_path / "result.json")
    result = json.loads((tmp_path / "result.json").read_text())

    assert [d for d, _ in run.result.equity_curve] == [date(2015, 12, 23), date(2015, 12, 24), date(2015, 12, 28)]
    assert run.result.slices == 390 + 210 + 390
    assert int(result["statistics"]["Total Orders"]) >= 1 and result["orders"]
    assert any("TRADE_OPENED" in line for line in run.result.logs)
    assert not any(" ERROR " in line for line in run.result.logs)
    assert run.engine.brokerage.refusals == []  # never a zero-limit combo or an order without data
    assert result["equity"][0][1] == 100000.0 and len(result["equity"]) == 7  # start + 12-23..28 midnights
    assert any("20151223_quote.zip" in w for w in result["warnings"])  # missing in the sample: skipped


def test_the_result_file_carries_the_bots_charts_and_statistics_as_leans_does(tmp_path: Path) -> None:
    """LEAN's result JSON: ``charts`` (what ``plot`` drew), ``runtimeStatistics`` (``set_runtime_statistic``)
    and the summary statistics set at the end merged into ``statistics`` beside LEAN's own."""
    run = run_lean(load_algorithm_class(), LEAN_DATA, tmp_path / "storage", load_parameters(REPO_ROOT / "config.json"))
    write_result(run, tmp_path / "result.json")
    result = json.loads((tmp_path / "result.json").read_text())

    assert {"Portfolio", "Greeks", "Trading State"} <= set(result["charts"])
    equity = result["charts"]["Portfolio"]["series"]
    assert any(series["values"] for series in equity.values())
    assert {"Open Positions", "Net Delta", "Trading State"} <= set(result["runtimeStatistics"])
    assert "Total Orders" in result["statistics"] and "Slippage Spent (last session)" in result["statistics"]
