"""``python -m harness.sweep``: a grid of config.json parameters, run in parallel, ranked."""

from __future__ import annotations

import csv
import io
import math

import pytest

from harness.sweep import Progress, grid, lean_optimize_command, main, parse_values, rank


def test_values_are_lists_or_inclusive_decimal_ranges():
    assert parse_values("put, call") == ["put", "call"]
    assert parse_values("0.2:0.4:0.1") == ["0.2", "0.3", "0.4"]  # no 0.30000000000000004
    assert parse_values("1:3:1") == ["1", "2", "3"]
    for bad in ("", "0.4:0.2:0.1", "1:2:0", "a:b:c"):
        with pytest.raises(ValueError):
            parse_values(bad)


def test_the_grid_is_every_combination():
    combos = grid({"entry_target_delta": "0.2:0.3:0.1", "entry_right": "put,call,put"})
    assert len(combos) == 2 * 3
    assert {"entry_target_delta": "0.3", "entry_right": "call"} in combos


def test_ranges_translate_to_lean_optimize():
    command = lean_optimize_command({"entry_target_delta": "0.2:0.4:0.05", "stop_loss_pct": "0.5:1.5:0.5"},
                                    "Sharpe Ratio")
    assert command == ('lean optimize . --strategy "Grid Search" --target "Sharpe Ratio" --target-direction max '
                       "--parameter entry_target_delta 0.2 0.4 0.05 --parameter stop_loss_pct 0.5 1.5 0.5")
    assert "--target-direction min" in lean_optimize_command({"exit_dte": "3:5:1"}, "Drawdown")
    assert lean_optimize_command({"entry_right": "put,call"}, "Sharpe Ratio") is None  # LEAN's grid is numeric


def test_ranking_puts_failures_last_and_drawdown_lowest_first():
    rows = [{"p": "a", "Drawdown": 0.2, "error": ""}, {"p": "b", "Drawdown": math.nan, "error": "boom"},
            {"p": "c", "Drawdown": 0.1, "error": ""}]
    assert [r["p"] for r in rank(rows, "Drawdown")] == ["c", "a", "b"]


def test_progress_is_quiet_lines_off_a_terminal():
    stream = io.StringIO()
    progress = Progress(4, stream)
    for _ in range(4):
        progress.step()
    assert stream.getvalue().splitlines() == ["sweep: 1/4 runs", "sweep: 2/4 runs", "sweep: 3/4 runs",
                                              "sweep: 4/4 runs"]


def test_a_sweep_runs_each_combination_in_parallel_and_writes_a_ranked_table(tmp_path, capsys):
    out = tmp_path / "sweep.csv"

    assert main(["--param", "entry_quantity=1:2:1", "--days", "2", "--jobs", "2", "--out", str(out)]) == 0

    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert sorted(r["entry_quantity"] for r in rows) == ["1", "2"]
    assert [r["rank"] for r in rows] == ["1", "2"]
    assert all(r["error"] == "" for r in rows)
    sharpe = [float(r["Sharpe Ratio"]) for r in rows]
    assert sharpe == sorted(sharpe, reverse=True)
    printed = capsys.readouterr().out
    assert "ranked by Sharpe Ratio; 2 runs" in printed
    assert "in LEAN: lean optimize . --strategy" in printed and "--parameter entry_quantity 1 2 1" in printed


def test_an_unknown_parameter_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["--param", "no_such_knob=1,2"])
    assert "not a config.json parameter" in capsys.readouterr().err
