"""Benchmarks of the foundation (printed figures, no pass/fail):

1. Harness throughput: slices per second over 20 trading days at minute resolution, with the
   option filter sized so the chain the algorithm sees holds about 200 contracts.
2. `make backtest` end to end: wall time of the default run (21 days) in a fresh process.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.runner import run  # noqa: E402


def harness_throughput(repeats: int = 3) -> None:
    rates, chain_sizes = [], []
    for i in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            # 8 strikes each side x 2 rights x expiries within 45 days ~ 200 contracts
            engine, result = run(days=20, start=None, seed=7 + i, storage=Path(tmp),
                                 overrides={"filter_strikes": "8", "filter_max_dte": "45"})
            chain = next(iter(engine._chains.values()))
            chain_sizes.append(len(chain))
            rates.append(result.slices / result.elapsed_seconds)
    print(f"harness: 20 trading days x 390 minute slices, chain of ~{statistics.mean(chain_sizes):.0f} contracts")
    print(f"  slices/second: median {statistics.median(rates):,.0f} (runs: {', '.join(f'{r:,.0f}' for r in rates)})")


def backtest_wall_time() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "harness.runner", "--fresh", "--storage", tmp,
                        "--log-file", str(Path(tmp) / "log.txt")], cwd=ROOT, check=True, capture_output=True)
        elapsed = time.perf_counter() - started
    print(f"make backtest (default 21 days, new process, set-up excluded): {elapsed:.2f} s wall")


if __name__ == "__main__":
    harness_throughput()
    backtest_wall_time()
