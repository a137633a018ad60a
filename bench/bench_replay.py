"""Benchmark of the LEAN-data replay (printed figures, no pass/fail; goal <= 5 s per day):

main.py over the GOOG day of LEAN's sample data with the full chain (2015-12-24: 2,192 option
contracts in the day's zips, 210 minute slices as the market closes at 13:00; ../shared/lean-data),
of which only the contracts the algorithm's filter selects are read: wall and CPU time, data points
per second and how many contract evaluations of LEAN's Greeks model the reads cost
(``harness/lean_price_model.py``); plus the same day with the widest filter the bot accepts (most
of the chain read), and the full day 2015-12-23 (390 slices) on which main.py looks at its chain
every minute because it never enters (the adapter reads Greeks only for the contracts the entry
rule could pick, and for the snapshot's chain slice every snapshot_minutes).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.runner import install_fake_lean, load_algorithm_class, load_parameters  # noqa: E402

install_fake_lean()

from harness.lean_run import run_lean  # noqa: E402

DATA = ROOT.parent / "shared" / "lean-data"
DAY = "2015-12-24"


def one_day(label: str, overrides: dict[str, str], day: str = DAY) -> None:
    parameters = load_parameters(ROOT / "config.json")
    parameters.update({"start_date": day, "end_date": day, **overrides})
    with tempfile.TemporaryDirectory() as tmp:
        started, cpu = time.perf_counter(), time.process_time()
        run = run_lean(load_algorithm_class(), DATA, Path(tmp), parameters)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    market = run.engine.market()
    points = market.data_points
    print(f"{label}: {day}, {run.result.slices} slices, {len(market.listed):,} contracts listed, "
          f"{len(market._subscribed):,} read, {run.engine.greeks.evaluated:,} Greeks evaluations")
    print(f"  wall time {wall:.2f} s, CPU {cpu:.2f} s (goal <= 5 s/day), {points:,} data points, "
          f"{points / wall:,.0f} points/s")


def main() -> int:
    if not (DATA / "option" / "usa" / "minute" / "goog").is_dir():
        print(f"skipped: LEAN sample data not found at {DATA}")
        return 0
    one_day("main.py, default filter", {})
    one_day("main.py, widest filter", {"filter_strikes": "100", "filter_max_dte": "365"})
    one_day("main.py, full day, chain looked at every minute", {}, "2015-12-23")
    return 0


if __name__ == "__main__":
    sys.exit(main())
