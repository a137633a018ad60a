"""``python -m reports``: a harness run end to end, a result file, and bad input that must give
a clear message instead of a crash."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.runner import run
from reports.__main__ import main
from reports.sources import RunData, load_object_store, load_result, load_storage
from utils.object_store_schema import CHARTS_KEY, STATE_KEY


@pytest.fixture(scope="module")
def storage(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report_run") / "storage"
    run(days=8, start=None, seed=7, storage=folder, overrides={})
    return folder


def test_a_harness_run_gives_one_self_contained_html_and_pngs(storage, tmp_path, capsys):
    out = tmp_path / "report"

    assert main(["--storage", str(storage), "--out", str(out)]) == 0

    page = (out / "report.html").read_text(encoding="utf-8")
    assert f"report: {out / 'report.html'}" in capsys.readouterr().out
    assert re.findall(r"(?:src|href)=['\"](?!data:)", page) == []  # no external asset
    assert page.count("src='data:image/png;base64,") == 4  # equity, drawdown, Greeks, P&L by reason
    for name in ("equity", "drawdown", "greeks", "pnl_by_reason"):  # greeks: from the plotted series
        assert (out / f"{name}.png").read_bytes().startswith(b"\x89PNG")
    assert "Sharpe Ratio" in page and "Sortino Ratio" in page and "Calmar Ratio" in page
    assert "P&amp;L by exit reason" in page and "stop_loss" in page
    trades = (out / "trades.csv").read_text(encoding="utf-8")
    assert "GOOG" in trades


def test_the_report_agrees_with_the_bots_own_accounting(storage):
    from reports.report import build_report

    data = load_storage(storage)
    report = build_report(data)
    closes = [e for e in data.entries if e.action.value == "trade.close"]
    realized = sum((e.after_state or {}).get("realized_pnl", 0.0) for e in closes)
    gross_closed = sum(t.gross_pnl for t in report.ledger.trades if t.is_closed)
    assert closes and gross_closed == pytest.approx(realized, abs=0.05)
    assert report.statistics.end_equity == pytest.approx(data.snapshot.equity.total_portfolio_value)


def test_missing_snapshot_torn_audit_and_nan_charts_are_listed_not_fatal(storage, tmp_path, capsys):
    broken = tmp_path / "broken"
    audit = storage / "options_bot" / "audit"
    for chunk in audit.rglob("chunk_*.jsonl"):
        target = broken / chunk.relative_to(storage)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(chunk.read_text(encoding="utf-8"), encoding="utf-8")
    last = sorted(broken.rglob("chunk_*.jsonl"))[-1]
    last.write_text(last.read_text(encoding="utf-8") + '{"id": "torn', encoding="utf-8")
    (broken / CHARTS_KEY).write_text(json.dumps({"series": {"net_delta": [["2016-01-04T15:00:00Z", "NaN"],
                                                                          ["bad", 1.0]]}}), encoding="utf-8")

    assert main(["--storage", str(broken), "--out", str(tmp_path / "out")]) == 0

    err = capsys.readouterr().err
    assert f"{broken / STATE_KEY}: no state snapshot" in err
    assert "torn audit line skipped" in err
    assert "2 bad points dropped from net_delta" in err
    assert "Input problems" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


def test_a_missing_folder_and_a_bad_result_file_are_reported(tmp_path, capsys):
    bad = tmp_path / "result.json"
    bad.write_text("{not json", encoding="utf-8")
    assert main(["--storage", str(tmp_path / "nowhere"), "--result", str(bad), "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "no such folder" in err and "not JSON" in err


def test_a_result_file_with_leans_names_feeds_the_statistics(tmp_path):
    result = tmp_path / "result.json"
    equity = [[1451941200 + 86400 * i, 100_000 + 500 * i, 0, 0, 100_000 + 1000 * i] for i in range(4)]
    result.write_text(json.dumps({
        "statistics": {"Start Equity": "100000", "Sharpe Ratio": "1.5"},
        "charts": {"Strategy Equity": {"series": {"Equity": {"values": equity}}},
                   "Greeks": {"series": {"net_delta": {"values": [[1451941200, 12.5]]}}}}}), encoding="utf-8")

    data = load_result(result, RunData())

    assert data.lean_statistics["Sharpe Ratio"] == "1.5"
    assert [v for _, v in data.equity] == [100_000, 101_000, 102_000, 103_000]  # the close of each candle
    assert data.series["net_delta"][0][1] == 12.5
    assert data.start_equity == 100_000


def test_lean_research_reads_the_same_report_through_the_object_store_api(storage):
    from harness.object_store import ObjectStore  # the harness's LEAN ObjectStore over the folder
    from reports.report import build_report

    through_api = build_report(load_object_store(ObjectStore(storage)))
    from_folder = build_report(load_storage(storage))

    assert through_api.problems == [] and from_folder.problems == []
    assert through_api.statistics == from_folder.statistics
    assert through_api.trade_summary == from_folder.trade_summary
    assert through_api.series.keys() == from_folder.series.keys() and through_api.series["vega"]


def test_html_tables_keep_counts_as_integers_and_show_inf():
    import pandas as pd

    from reports.html import frame_html

    frame = pd.DataFrame({"count": [2], "pnl": [1085.0], "profit_factor": [float("inf")]},
                         index=pd.Index(["profit_take L1"], name="reason"))
    cells = re.findall(r"<td>([^<]*)</td>", frame_html(frame))
    assert cells == ["profit_take L1", "2", "1,085.00", "inf"]


def test_a_folder_holding_two_backtests_reports_the_last_run_only(tmp_path):
    from reports.report import build_report

    twice, once = tmp_path / "twice", tmp_path / "once"
    for folder in (twice, twice, once):  # the Object Store keeps the first run's audit chunks
        run(days=3, start=None, seed=7, storage=folder, overrides={})

    doubled, single = load_storage(twice), load_storage(once)

    assert len({e.session_id for e in doubled.entries}) == 1
    assert "1 other run(s) in this folder left out" in doubled.problems[0]
    assert build_report(doubled).trade_summary == build_report(single).trade_summary
    assert single.problems == []
