"""A grid of config.json parameters, each combination an offline backtest in its own process.

    python -m harness.sweep --param entry_target_delta=0.2:0.4:0.1 --param stop_loss_pct=0.5,1.0
                            [--days 21] [--seed 7] [--jobs 2] [--rank "Sharpe Ratio"] [--out backtests/sweep.csv]

A value list is ``a,b,c``; a range is ``min:max:step`` (both ends included), which is exactly what
``lean optimize --parameter NAME MIN MAX STEP`` takes, so the same grid runs in LEAN's optimizer
(the command is printed). Each run has its own Object Store folder; its statistics come from the
options report (LEAN's definitions). The table is ranked by --rank (highest first; "Drawdown"
lowest first) and written as CSV. A progress bar shows on a terminal, one line per quarter otherwise.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO

# Imported before harness.runner puts harness/ on sys.path, where harness/calendar.py would shadow
# the standard library's calendar that pandas (the reports) imports.
import pandas  # noqa: F401

from harness.runner import REPO_ROOT, load_parameters
from utils.logging_config import get_logger

logger = get_logger(__name__)

RANK_COLUMNS = ("Sharpe Ratio", "Sortino Ratio", "Calmar Ratio", "Compounding Annual Return", "Net Profit",
                "Drawdown", "Profit Factor", "Win Rate")
LOWER_IS_BETTER = {"Drawdown"}


def parse_values(spec: str) -> list[str]:
    """``a,b,c`` or ``min:max:step`` (inclusive, decimal arithmetic: 0.1 steps stay exact)."""
    if ":" not in spec:
        values = [v.strip() for v in spec.split(",") if v.strip()]
        if not values:
            raise ValueError(f"no values in {spec!r}")
        return values
    try:
        low, high, step = (Decimal(part) for part in spec.split(":"))
    except (InvalidOperation, ValueError):
        raise ValueError(f"range {spec!r} must be min:max:step numbers") from None
    if step <= 0 or high < low:
        raise ValueError(f"range {spec!r} needs step > 0 and max >= min")
    count = int((high - low) / step) + 1
    if count > 1000:
        raise ValueError(f"range {spec!r} has {count} values (at most 1000)")
    return [str((low + step * i).normalize()) for i in range(count)]


def grid(specs: dict[str, str]) -> list[dict[str, str]]:
    names = list(specs)
    return [dict(zip(names, combo, strict=True))
            for combo in itertools.product(*(parse_values(specs[n]) for n in names))]


def lean_optimize_command(specs: dict[str, str], target: str) -> str | None:
    """The equivalent ``lean optimize`` (ranges only: LEAN's grid takes min/max/step)."""
    if not specs or any(":" not in spec for spec in specs.values()):
        return None
    parameters = " ".join(f"--parameter {name} {' '.join(spec.split(':'))}" for name, spec in specs.items())
    direction = "min" if target in LOWER_IS_BETTER else "max"
    return (f'lean optimize . --strategy "Grid Search" --target "{target}" --target-direction {direction} '
            f"{parameters}")


def run_one(overrides: dict[str, str], days: int, seed: int) -> dict[str, Any]:
    """One backtest (in a worker process) and its statistics."""
    from harness.runner import run
    from reports.report import build_report
    from reports.sources import load_storage

    with tempfile.TemporaryDirectory(prefix="sweep_") as folder:
        storage = Path(folder) / "storage"
        try:
            run(days, None, seed, storage, overrides)
        except (SystemExit, Exception) as exc:  # a bad combination is a row, not the end of the sweep
            logger.exception("SWEEP_RUN_FAILED", extra={"parameters": overrides})
            return {**overrides, "error": f"{type(exc).__name__}: {exc}"}
        report = build_report(load_storage(storage))
    stats, trades = report.statistics, report.trade_summary
    return {**overrides, "Sharpe Ratio": stats.sharpe_ratio, "Sortino Ratio": stats.sortino_ratio,
            "Calmar Ratio": stats.calmar_ratio, "Compounding Annual Return": stats.compounding_annual_return,
            "Net Profit": stats.net_profit, "Drawdown": stats.drawdown, "Trades": trades["closed trades"],
            "Win Rate": trades["win rate"], "Profit Factor": trades["profit factor"], "Fees": trades["fees"],
            "error": ""}


class Progress:
    def __init__(self, total: int, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self.total, self.stream, self.width, self.done, self._quarter = total, stream, width, 0, -1

    def step(self) -> None:
        self.done += 1
        fraction = self.done / self.total if self.total else 1.0
        if self.stream.isatty():
            filled = int(self.width * fraction)
            end = "\n" if self.done >= self.total else ""
            self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} runs{end}")
        elif int(fraction * 4) > self._quarter:
            self._quarter = int(fraction * 4)
            self.stream.write(f"sweep: {self.done}/{self.total} runs\n")
        self.stream.flush()


def rank(rows: list[dict[str, Any]], column: str) -> list[dict[str, Any]]:
    def key(row: dict[str, Any]) -> float:
        value = row.get(column)
        if row.get("error") or not isinstance(value, int | float) or math.isnan(value):
            return math.inf  # failed runs last
        return value if column in LOWER_IS_BETTER else -value
    return sorted(rows, key=key)


def sweep(specs: dict[str, str], days: int, seed: int, jobs: int, progress: Progress | None = None) -> list[dict]:
    combos = grid(specs)
    rows = []
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(run_one, combo, days, seed) for combo in combos]
        for future in as_completed(futures):
            rows.append(future.result())
            if progress is not None:
                progress.step()
    return rows


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["rank", *columns])
        writer.writeheader()
        for number, row in enumerate(rows, start=1):
            writer.writerow({"rank": number, **row})


def format_table(rows: list[dict[str, Any]], names: list[str], limit: int = 20) -> str:
    columns = [*names, "Sharpe Ratio", "Net Profit", "Drawdown", "Trades", "Win Rate", "Profit Factor"]
    lines = ["  ".join(["#", *columns])]
    for number, row in enumerate(rows[:limit], start=1):
        if row.get("error"):
            lines.append(f"{number}  " + "  ".join(str(row.get(n, "")) for n in names) + f"  failed: {row['error']}")
            continue
        cells = [str(row.get(c)) if c in names else f"{row.get(c, math.nan):.3f}" for c in columns]
        lines.append("  ".join([str(number), *cells]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.sweep", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--param", action="append", default=[], metavar="NAME=SPEC", required=True,
                        help="a config.json parameter and its values: a,b,c or min:max:step (repeatable)")
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=2, help="parallel processes (default 2)")
    parser.add_argument("--rank", default="Sharpe Ratio", choices=RANK_COLUMNS)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "backtests" / "sweep.csv")
    args = parser.parse_args(argv)
    known = load_parameters(REPO_ROOT / "config.json")
    specs: dict[str, str] = {}
    for item in args.param:
        name, sep, spec = item.partition("=")
        if not sep or not name.strip():
            parser.error(f"--param needs NAME=SPEC, got {item!r}")
        if name.strip() not in known and not name.strip().startswith(("risk_", "roll_")):
            parser.error(f"{name.strip()!r} is not a config.json parameter")
        specs[name.strip()] = spec
    try:
        total = len(grid(specs))
    except ValueError as exc:
        parser.error(str(exc))
    rows = rank(sweep(specs, args.days, args.seed, args.jobs, Progress(total)), args.rank)
    write_csv(rows, args.out)
    print(format_table(rows, list(specs)))
    print(f"ranked by {args.rank}; {len(rows)} runs written to {args.out}")
    command = lean_optimize_command(specs, args.rank)
    if command:
        print(f"in LEAN: {command}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
