"""research.ipynb runs headless against a harness run's Object Store folder."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

from harness.runner import run

ROOT = Path(__file__).resolve().parent.parent


def test_the_notebook_shows_positions_and_equity_of_the_latest_run(tmp_path, monkeypatch):
    storage = tmp_path / "storage"
    engine, _ = run(days=3, start=None, seed=5, storage=storage, overrides={})
    symbol = next(iter(engine.algorithm.adapter.bot.book.positions.values())).symbol
    monkeypatch.setenv("OBJECT_STORE_DIR", str(storage))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(ROOT / "research.ipynb", as_version=4)

    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()

    text = "\n".join(str(output) for cell in notebook.cells for output in cell.get("outputs", []))
    assert "mode=backtest" in text and "ticker=GOOG" in text
    assert symbol in text
    assert "trading state: active" in text and "trade.open" in text and "torn lines skipped: 0" in text
    assert "equity points" in text
    assert "Error" not in text
