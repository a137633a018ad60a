"""Run main.py's algorithm (or any LEAN algorithm file) offline and print a summary.

    python -m harness.runner [--days 21] [--start 2015-12-23] [--seed 7] [--storage storage]
                             [--param name=value ...] [--fresh] [--log-file backtests/harness.log]
    python -m harness.runner --algorithm FILE --data DIR [--result FILE]

With --data (or when lean.json's data-folder holds LEAN data) the run replays LEAN's on-disk
data and prints LEAN's statistics; otherwise it runs on the seeded synthetic market.

Parameters come from config.json like in LEAN; --start/--days set start_date/end_date, --param
overrides any other. The Object Store is the --storage folder (LEAN's local store is storage/ too).
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

REPO_ROOT = Path(__file__).resolve().parent.parent
HARNESS_DIR = Path(__file__).resolve().parent


def install_fake_lean() -> None:
    """Make ``from AlgorithmImports import *`` resolve to the harness (never at the repo root)."""
    for path in (str(REPO_ROOT), str(HARNESS_DIR)):
        if path not in sys.path:
            sys.path.insert(0, path)


install_fake_lean()

from harness.engine import HarnessEngine, RunResult  # noqa: E402
from harness.lean_run import format_statistics, has_lean_data, run_lean, write_result  # noqa: E402
from harness.market import MarketConfig  # noqa: E402
from harness.qc_algorithm import QCAlgorithm  # noqa: E402
from harness.restart import drill_setup  # noqa: E402
from harness.trading_calendar import trading_days  # noqa: E402


def load_parameters(config_path: Path) -> dict[str, str]:
    config = json.loads(config_path.read_text(encoding="utf-8"))
    parameters = config.get("parameters", {})
    if not all(isinstance(v, str) for v in parameters.values()):
        raise SystemExit(f"{config_path}: every value in 'parameters' must be a string (LEAN rule)")
    return dict(parameters)


def load_algorithm_class(main_path: Path = REPO_ROOT / "main.py") -> type[QCAlgorithm]:
    """The QCAlgorithm subclass *defined* in main.py (LEAN's rule), loaded as module ``main``."""
    spec = importlib.util.spec_from_file_location("main", main_path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {main_path}")
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules["main"] = module
    spec.loader.exec_module(module)
    found = [obj for obj in vars(module).values()
             if inspect.isclass(obj) and issubclass(obj, QCAlgorithm) and obj is not QCAlgorithm
             and obj.__module__ == "main"]
    if len(found) != 1:
        raise SystemExit(f"{main_path} must define exactly one QCAlgorithm subclass, found {len(found)}")
    return found[0]


class ProgressBar:
    """A progress bar on stderr, shown only once a run has taken more than ``delay`` seconds."""

    def __init__(self, stream: TextIO = sys.stderr, delay: float = 2.0, width: int = 30) -> None:
        self._stream, self._delay, self._width = stream, delay, width
        self._started = time.perf_counter()
        self._shown = False
        self._last_quarter = -1

    def __call__(self, done: int, total: int) -> None:
        if time.perf_counter() - self._started < self._delay and done < total:
            return
        if not self._shown and done >= total:
            return  # finished before the delay: nothing to show
        self._shown = True
        fraction = done / total if total else 1.0
        if self._stream.isatty():
            filled = int(self._width * fraction)
            bar = "#" * filled + "." * (self._width - filled)
            end = "\n" if done >= total else ""
            self._stream.write(f"\r[{bar}] {done}/{total} days{end}")
        elif int(fraction * 4) > self._last_quarter:
            self._last_quarter = int(fraction * 4)
            self._stream.write(f"progress: {done}/{total} trading days\n")
        self._stream.flush()


def run(days: int, start: date | None, seed: int, storage: Path, overrides: dict[str, str],
        config_path: Path = REPO_ROOT / "config.json", fresh: bool = False,
        market: MarketConfig | None = None,
        on_day: Callable[[int, int], None] | None = None,
        configure: Callable[[HarnessEngine], None] | None = None,
        **engine_args: Any) -> tuple[HarnessEngine, RunResult]:
    parameters = load_parameters(config_path)
    parameters.update(overrides)
    first = start or date.fromisoformat(parameters.get("start_date", "2015-12-23"))
    calendar = trading_days(first, days)
    parameters["start_date"] = calendar[0].isoformat()
    parameters["end_date"] = calendar[-1].isoformat()
    if fresh and storage.exists():
        shutil.rmtree(storage)
    market_config = replace(market or MarketConfig(), seed=seed)
    engine = HarnessEngine(load_algorithm_class(), parameters, storage, market_config=market_config,
                           on_day=on_day, **engine_args)
    if configure is not None:  # tests: script fills or rejections before the run starts
        configure(engine)
    return engine, engine.run()


def _trading_state(bot: Any) -> str:
    breaker = getattr(bot, "breaker", None)
    if breaker is None:
        return "n/a"
    trips = ", ".join(t.trigger.value for t in breaker.active_trips)
    return f"{breaker.state.value}" + (f" (tripped: {trips})" if trips else "")


def summary(engine: HarnessEngine, result: RunResult) -> str:
    counters = getattr(getattr(engine.algorithm, "adapter", None), "bot", None)
    counts = getattr(counters, "counters", {}) if counters is not None else {}
    pnl = result.end_equity - result.start_equity
    lines = [
        "Offline harness backtest (synthetic market)",
        f"  period            {result.start} .. {result.end} ({result.trading_days} trading days)",
        f"  slices            {result.slices:,} ({result.slices / max(result.elapsed_seconds, 1e-9):,.0f} per second)",
        f"  orders            {result.orders} (bot submitted {counts.get('orders_submitted', 0)}, "
        f"rejected by LEAN {counts.get('orders_rejected', 0)}, by the risk gateway "
        f"{counts.get('risk_rejections', 0)})",
        f"  fills             {result.fills}",
        f"  fees              {result.fees:,.2f}",
        f"  start equity      {result.start_equity:,.2f}",
        f"  end equity        {result.end_equity:,.2f} ({pnl:+,.2f})",
        f"  positions opened  {counts.get('positions_opened', 0)}",
        f"  positions closed  {counts.get('positions_closed', 0)}",
        f"  management        {counts.get('profit_takes', 0)} profit-takes, {counts.get('stop_losses', 0)} "
        f"stop-losses, {counts.get('expiry_closes', 0)} expiry closes, {counts.get('rolls_completed', 0)} rolls",
        f"  trading state     {_trading_state(counters)}",
        f"  object store      {len(result.keys_written)} keys written to {engine.object_store._root} "
        f"(state: options_bot/state.json, audit: options_bot/audit/<day>/chunk_*.jsonl)",
        f"  elapsed           {result.elapsed_seconds:.1f} s",
    ]
    return "\n".join(lines)


def _parse_overrides(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"--param needs name=value, got {item!r}")
        out[name.strip()] = value
    return out


def lean_data_folder(lean_json: Path = REPO_ROOT / "lean.json") -> Path | None:
    """lean.json's data-folder when it holds LEAN data (a `lean init` workspace), else None."""
    try:
        folder = json.loads(lean_json.read_text(encoding="utf-8")).get("data-folder", "data")
    except (OSError, ValueError):
        return None
    path = (lean_json.parent / folder).resolve()
    return path if has_lean_data(path) else None


def run_on_lean_data(args: argparse.Namespace, data: Path | None) -> int:
    if data is None or not has_lean_data(data):
        raise SystemExit(f"--data {data}: not a LEAN data folder (needs market-hours/ and equity/usa/minute/)")
    parameters: dict[str, str] = {}
    algorithm = args.algorithm
    if algorithm is None or algorithm.resolve() == (REPO_ROOT / "main.py").resolve():
        parameters = load_parameters(REPO_ROOT / "config.json")
        algorithm = load_algorithm_class()
    parameters.update(_parse_overrides(args.param))
    if args.fresh and args.storage.exists():
        shutil.rmtree(args.storage)
    drill_args, drills = drill_setup(args.restart_at)
    run = run_lean(algorithm, data, args.storage, parameters, **drill_args)
    name = getattr(algorithm, "name", getattr(algorithm, "__name__", str(algorithm)))
    print(f"Offline harness backtest of {name} replaying LEAN data from {data}")
    print(f"  period {run.result.start} .. {run.result.end}, {run.result.slices:,} slices, "
          f"{run.engine.market().data_points:,} data points, {run.result.elapsed_seconds:.1f} s")
    for warning in run.engine.data.warnings:
        print(f"  warning: {warning}")
    print(format_statistics(run.statistics))
    args.log_file.parent.mkdir(parents=True, exist_ok=True)
    args.log_file.write_text("\n".join(run.result.logs) + "\n", encoding="utf-8")
    print(f"  log  {args.log_file} ({len(run.result.logs)} lines)")
    for drill in drills:
        print("\n".join(drill.summary_lines()))
    if args.result is not None:
        write_result(run, args.result)
        print(f"  result  {args.result}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make backtest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=21, help="trading days to run (default 21)")
    parser.add_argument("--start", type=date.fromisoformat, default=None,
                        help="first day, YYYY-MM-DD (default: config.json start_date)")
    parser.add_argument("--seed", type=int, default=7, help="synthetic market seed (default 7)")
    parser.add_argument("--storage", type=Path, default=REPO_ROOT / "storage",
                        help="Object Store folder (default storage/)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="override a config.json parameter (repeatable)")
    parser.add_argument("--fresh", action="store_true", help="empty the storage folder first")
    parser.add_argument("--restart-at", type=datetime.fromisoformat, action="append", default=[],
                        metavar="YYYY-MM-DDTHH:MM", help="restart drill (live mode): stop the algorithm at this "
                        "algorithm time and start a new instance, as a live LEAN restart does (repeatable)")
    parser.add_argument("--log-file", type=Path, default=REPO_ROOT / "backtests" / "harness.log",
                        help="where the algorithm's log goes (default backtests/harness.log)")
    parser.add_argument("--algorithm", type=Path, default=None,
                        help="any LEAN Python algorithm file (default: main.py with config.json)")
    parser.add_argument("--data", type=Path, default=None,
                        help="LEAN data folder to replay (default: lean.json's data-folder when it "
                             "holds LEAN data, else the synthetic market)")
    parser.add_argument("--result", type=Path, default=None, help="write LEAN's statistics, orders "
                        "and equity series to this JSON file")
    args = parser.parse_args(argv)
    data = args.data if args.data is not None else lean_data_folder()
    if args.algorithm is not None or data is not None:
        return run_on_lean_data(args, data)
    if not 1 <= args.days <= 2520:
        parser.error("--days must be between 1 and 2520")
    if args.result is not None:
        parser.error("--result needs LEAN data (--data DIR, or lean.json's data-folder): the synthetic "
                     "market's run is summarised on the terminal and in the Object Store")
    drill_args, drills = drill_setup(args.restart_at)
    engine, result = run(args.days, args.start, args.seed, args.storage,
                         _parse_overrides(args.param), fresh=args.fresh, on_day=ProgressBar(), **drill_args)
    args.log_file.parent.mkdir(parents=True, exist_ok=True)
    args.log_file.write_text("\n".join(result.logs) + "\n", encoding="utf-8")
    print("(synthetic market: no LEAN data in lean.json's data-folder; pass --data DIR to replay one)")
    print(summary(engine, result))
    for drill in drills:
        print("\n".join(drill.summary_lines()))
    print(f"  log               {args.log_file} ({len(result.logs)} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
