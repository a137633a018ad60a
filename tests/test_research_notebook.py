"""research.ipynb runs headless against a harness run's Object Store folder and its result file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from harness.lean_charts import recorder_of
from harness.runner import run

ROOT = Path(__file__).resolve().parent.parent


def test_the_notebook_shows_positions_and_equity_of_the_latest_run(tmp_path, monkeypatch):
    storage = tmp_path / "storage"
    engine, _ = run(days=3, start=None, seed=5, storage=storage, overrides={})
    symbol = next(iter(engine.algorithm.adapter.bot.book.positions.values())).symbol
    result = tmp_path / "result.json"  # LEAN's result sections as the harness records them
    result.write_text(json.dumps(recorder_of(engine.algorithm).result_sections()), encoding="utf-8")
    monkeypatch.setenv("OBJECT_STORE_DIR", str(storage))
    monkeypatch.setenv("RESULT_FILE", str(result))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(ROOT / "research.ipynb", as_version=4)

    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()

    text = "\n".join(str(output) for cell in notebook.cells for output in cell.get("outputs", []))
    assert "mode=backtest" in text and "ticker=GOOG" in text
    assert symbol in text
    assert "trading state: active" in text and "trade.open" in text and "torn lines skipped: 0" in text
    assert "equity points" in text
    assert "Error" not in text
    # the options report: LEAN statistics, tables and every figure, from the folder and the result file
    assert f"report from Object Store folder {storage}; result file {result}; input problems: 0" in text
    assert "Sharpe Ratio" in text and "Calmar Ratio" in text
    assert "P&L by exit reason" in text and "win_rate" in text and "profit_factor" in text
    (listed,) = re.findall(r"figures: ([a-z_, ]+)", text)
    figures = listed.split(", ")
    assert {"equity", "drawdown", "greeks"} <= set(figures)  # Greeks over time from the plotted series
    images = [o for cell in notebook.cells for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= len(figures)
