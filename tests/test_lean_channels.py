"""The algorithm reports through LEAN's own channels (execution/lean_channels.py) and the harness
records them as LEAN does (harness/lean_charts.py, after Algorithm/QCAlgorithm.Plotting.cs)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from itertools import pairwise

import pytest

from harness.lean_charts import ChartRecorder, recorder_of
from harness.qc_algorithm import QCAlgorithm
from harness.runner import run
from utils.object_store_schema import CHARTS_KEY, STATE_KEY, parse_state_snapshot


@pytest.fixture(scope="module")
def harness_run(tmp_path_factory):
    storage = tmp_path_factory.mktemp("channels") / "storage"
    engine, result = run(days=3, start=None, seed=7, storage=storage, overrides={})
    return engine, result, storage


def test_the_run_plots_equity_greeks_slippage_and_state_at_most_hourly(harness_run):
    engine, _, _ = harness_run
    charts = recorder_of(engine.algorithm).charts

    assert set(charts) == {"Portfolio", "Greeks", "Slippage", "Trading State"}
    assert set(charts["Greeks"]) == {"Net Delta", "Theta per Day", "Vega"}
    times = [t for t, _ in charts["Portfolio"]["Equity"]]
    assert len(times) >= 3 * 6  # a point an hour over three sessions (one of them closes at 13:00)
    assert min((b - a).total_seconds() for a, b in pairwise(times)) >= 3600
    assert {v for _, v in charts["Trading State"]["State"]} <= {0.0, 1.0, 2.0}


def test_runtime_statistics_show_the_last_snapshot(harness_run):
    engine, _, storage = harness_run
    snapshot = parse_state_snapshot((storage / STATE_KEY).read_text(encoding="utf-8"))
    runtime = recorder_of(engine.algorithm).runtime_statistics

    assert runtime["Open Positions"] == str(sum(1 for p in snapshot.positions if p.quantity))
    assert runtime["Net Delta"] == f"{snapshot.portfolio_greeks['net_delta']:.1f}"
    assert runtime["Theta/Day"] == f"{snapshot.portfolio_greeks['daily_theta']:.2f}"
    assert runtime["Trading State"] == snapshot.risk["trading_state"]
    assert "Slippage Spent" in runtime


def test_summary_statistics_at_the_end_carry_the_bots_counters(harness_run):
    engine, _, _ = harness_run
    counters = engine.algorithm.adapter.bot.counters
    summary = recorder_of(engine.algorithm).summary_statistics

    assert summary["Positions Opened"] == str(counters["positions_opened"])
    assert summary["Stop Losses"] == str(counters["stop_losses"])
    assert summary["Rolls"] == str(counters["rolls_completed"])


def test_the_plotted_series_are_kept_in_the_object_store_for_reports(harness_run):
    engine, _, storage = harness_run
    stored = json.loads((storage / CHARTS_KEY).read_text(encoding="utf-8"))["series"]
    plotted = recorder_of(engine.algorithm).charts

    assert [v for _, v in stored["net_delta"]] == [v for _, v in plotted["Greeks"]["Net Delta"]]
    assert len(stored["equity"]) == len(plotted["Portfolio"]["Equity"])


def test_result_sections_have_leans_shape():
    recorder = ChartRecorder()
    moment = datetime(2016, 1, 4, 15, 0, tzinfo=UTC)
    recorder.plot(moment, "Greeks", "Vega", -86.5)
    recorder.set_runtime_statistic("Net Delta", 12.5)
    recorder.set_summary_statistic("Rolls", 1)

    sections = recorder.result_sections()

    assert sections["charts"]["Greeks"]["series"]["Vega"]["values"] == [[1451919600, -86.5]]  # 2016-01-04 15:00Z
    assert sections["runtimeStatistics"] == {"Net Delta": "12.5"}
    assert sections["statistics"] == {"Rolls": "1"}


def test_reserved_chart_series_and_statistic_names_raise_as_in_lean():
    recorder = ChartRecorder()
    moment = datetime(2016, 1, 4, tzinfo=UTC)
    with pytest.raises(ValueError, match="reserved series name"):
        recorder.plot(moment, "Strategy Equity", "Equity", 1.0)
    with pytest.raises(ValueError, match="reserved chart name"):
        recorder.plot(moment, "Exposure", "Anything", 1.0)
    with pytest.raises(ValueError, match="reserved statistic name"):
        recorder.set_summary_statistic("42", "x")


def test_a_failing_chart_never_stops_trading(tmp_path, monkeypatch):
    def broken(self, chart, series, value):
        raise RuntimeError("chart service down")

    monkeypatch.setattr(QCAlgorithm, "plot", broken)
    engine, result = run(days=2, start=None, seed=7, storage=tmp_path / "s", overrides={})

    assert engine.algorithm.adapter.bot.counters["positions_opened"] >= 1
    assert any("LEAN_CHANNELS_FAILED" in line for line in result.logs)
    assert recorder_of(engine.algorithm).runtime_statistics  # the rest still reported


def test_a_live_restart_continues_the_stored_series_and_a_torn_file_starts_afresh(tmp_path):
    storage = tmp_path / "live"
    run(days=1, start=None, seed=7, storage=storage, overrides={}, live_mode=True)
    first = json.loads((storage / CHARTS_KEY).read_text(encoding="utf-8"))["series"]["equity"]
    restarted, _ = run(days=1, start=datetime(2015, 12, 24).date(), seed=7, storage=storage, overrides={},
                       live_mode=True)
    stored = json.loads((storage / CHARTS_KEY).read_text(encoding="utf-8"))["series"]["equity"]
    plotted = recorder_of(restarted.algorithm).charts["Portfolio"]["Equity"]

    assert stored[:len(first)] == first and len(stored) == len(first) + len(plotted)
    assert stored[-1][0].startswith("2015-12-24")

    (storage / CHARTS_KEY).write_text('{"series": {"equity": [["2015', encoding="utf-8")
    again, result = run(days=1, start=datetime(2015, 12, 28).date(), seed=7, storage=storage, overrides={},
                        live_mode=True)
    stored = json.loads((storage / CHARTS_KEY).read_text(encoding="utf-8"))["series"]["equity"]
    assert len(stored) == len(recorder_of(again.algorithm).charts["Portfolio"]["Equity"])
    assert any("LEAN_CHANNELS_FAILED" in line for line in result.logs)
