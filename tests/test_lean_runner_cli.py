"""`python -m harness.runner --algorithm FILE --data DIR --result FILE` on LEAN's sample data, and
LEAN's rule for broken data files mid-run: a warning naming the file and the day, the file
skipped, the backtest finished (never a crash)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from harness.lean_run import run_lean
from harness.runner import lean_data_folder, main
from tests.lean_data_paths import LEAN_DATA, LEAN_EXAMPLES, needs_lean_data, needs_lean_examples

pytestmark = [needs_lean_data, needs_lean_examples]
EXAMPLE = LEAN_EXAMPLES / "BasicTemplateOptionsAlgorithm.py"


def test_the_cli_runs_a_lean_algorithm_file_and_writes_leans_statistics(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    result = tmp_path / "result.json"

    code = main(["--algorithm", str(EXAMPLE), "--data", str(LEAN_DATA), "--result", str(result),
                 "--storage", str(tmp_path / "storage"), "--log-file", str(tmp_path / "log.txt")])

    printed = capsys.readouterr().out
    written = json.loads(result.read_text())
    assert code == 0 and "replaying LEAN data" in printed and "Total Orders" in printed
    assert written["statistics"]["Total Orders"] == "2" and written["statistics"]["Total Fees"] == "$2.00"
    assert [o["status"] for o in written["orders"]] == ["FILLED", "FILLED"]
    assert written["equity"][0] == ["2015-12-24T00:00:00", 100000.0]


def test_the_cli_refuses_a_folder_that_is_not_lean_data(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="not a LEAN data folder"):
        main(["--algorithm", str(EXAMPLE), "--data", str(tmp_path), "--storage", str(tmp_path / "s")])


def test_make_backtest_replays_lean_data_only_when_lean_json_points_at_it(tmp_path: Path) -> None:
    (tmp_path / "lean.json").write_text(json.dumps({"data-folder": "data"}))
    assert lean_data_folder(tmp_path / "lean.json") is None
    (tmp_path / "data").symlink_to(LEAN_DATA)
    assert lean_data_folder(tmp_path / "lean.json") == LEAN_DATA.resolve()


def _copy_with_broken_quote_zip(tmp_path: Path) -> Path:
    """LEAN's sample data (symlinked) with the 2015-12-24 option quote zip corrupted."""
    root = tmp_path / "data"
    for item in LEAN_DATA.iterdir():
        if item.name != "option":
            (root / item.name).parent.mkdir(parents=True, exist_ok=True)
            (root / item.name).symlink_to(item)
    (root / "option" / "usa").mkdir(parents=True)
    (root / "option" / "usa" / "universes").symlink_to(LEAN_DATA / "option" / "usa" / "universes")
    minute = root / "option" / "usa" / "minute" / "goog"
    minute.mkdir(parents=True)
    for item in (LEAN_DATA / "option" / "usa" / "minute" / "goog").iterdir():
        if item.name == "20151224_quote_american.zip":
            (minute / item.name).write_bytes(item.read_bytes()[:5000])  # truncated: not a zip any more
        else:
            (minute / item.name).symlink_to(item)
    assert not zipfile.is_zipfile(minute / "20151224_quote_american.zip")
    return root


def test_a_corrupt_zip_mid_run_is_skipped_with_a_warning_and_the_backtest_finishes(tmp_path: Path) -> None:
    data = _copy_with_broken_quote_zip(tmp_path)

    run = run_lean(EXAMPLE, data, tmp_path / "storage")

    warnings = [line for line in run.result.logs if "WARNING" in line]
    assert any("20151224_quote_american.zip" in w and "2015-12-24" in w for w in warnings)
    assert run.result.slices == 210  # the day still ran, on trades only
    assert run.statistics["Start Equity"] == "100000"
