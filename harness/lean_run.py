"""Run any LEAN Python algorithm file over LEAN's on-disk data and report LEAN's statistics.

    python -m harness.runner --algorithm FILE --data DIR [--result FILE]

The algorithm file is loaded as LEAN does (its QCAlgorithm subclass, ``from AlgorithmImports
import *`` resolving to the harness); parameters come from a ``config.json`` beside it when
there is one. The result JSON holds ``statistics`` (LEAN's names and formats), ``orders``
(one row per order with its fills) and the daily ``equity`` series.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from harness.engine import RunResult
from harness.lean_charts import recorder_of
from harness.qc_algorithm import QCAlgorithm
from harness.replay_engine import ReplayEngine
from harness.statistics import daily_points, daily_turnover, lean_statistics


def load_algorithm_file(path: Path, module_name: str | None = None) -> type[QCAlgorithm]:
    """The QCAlgorithm subclass defined in ``path`` (the last one when a file defines several,
    LEAN's loader takes the algorithm class named like the file first)."""
    name = module_name or path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    found = [obj for obj in vars(module).values()
             if inspect.isclass(obj) and issubclass(obj, QCAlgorithm) and obj is not QCAlgorithm
             and obj.__module__ == name]
    if not found:
        raise SystemExit(f"{path} defines no QCAlgorithm subclass")
    named = [cls for cls in found if cls.__name__ == path.stem]
    return named[0] if named else found[-1]


def has_lean_data(folder: Path, ticker: str = "") -> bool:
    """True when ``folder`` looks like a LEAN data folder (market hours and minute equity data)."""
    hours = folder / "market-hours" / "market-hours-database.json"
    minute = folder / "equity" / "usa" / "minute"
    if not hours.is_file() or not minute.is_dir():
        return False
    return (minute / ticker.lower()).is_dir() if ticker else any(minute.iterdir())


@dataclass
class LeanRun:
    engine: ReplayEngine
    result: RunResult
    statistics: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        orders = []
        for order in self.engine.brokerage.orders.values():
            orders.append({"id": order.id, "symbol": order.symbol.value, "type": order.type.name,
                           "quantity": order.quantity, "status": order.status.name,
                           "time": order.time.isoformat(), "tag": order.tag,
                           "filled_quantity": order._filled_quantity,
                           "average_fill_price": (order._fill_value / order._filled_quantity
                                                  if order._filled_quantity else 0.0)})
        recorded = recorder_of(self.engine.algorithm).result_sections()  # what the algorithm plotted and set
        return {"statistics": {**self.statistics, **recorded["statistics"]},
                "runtimeStatistics": recorded["runtimeStatistics"], "charts": recorded["charts"], "orders": orders,
                "equity": [[moment.isoformat(), value] for moment, value in self._equity()],
                "fills": [{"time": f.time.isoformat(), "symbol": f.symbol, "quantity": f.quantity,
                           "price": f.price, "fee": f.fee} for f in self.engine.brokerage.fill_records],
                "warnings": self.engine.data.warnings}

    def _equity(self) -> list[tuple[datetime, float]]:
        closes = dict(self.result.equity_curve)
        return daily_points(self.result.start, self.result.end, self.result.start_equity, closes)


def run_lean(algorithm: Path | type[QCAlgorithm], data: Path, storage: Path,
             parameters: dict[str, str] | None = None,
             configure: Callable[[ReplayEngine], None] | None = None, **engine_args: Any) -> LeanRun:
    """``configure(engine)`` runs before the replay starts (the restart drill installs itself there)."""
    cls = algorithm if isinstance(algorithm, type) else load_algorithm_file(Path(algorithm))
    engine = ReplayEngine(cls, parameters or {}, storage, data, **engine_args)
    if configure is not None:
        configure(engine)
    result = engine.run()
    start = result.start
    end = engine.algorithm.end_date.date() if engine.algorithm.end_date.date() >= start else result.end
    closes: dict[date, float] = dict(result.equity_curve)
    fills = engine.brokerage.fill_records
    equity = daily_points(start, end, result.start_equity, closes)
    statistics = lean_statistics(result.start_equity, equity, fills, result.orders, result.fees,
                                 daily_turnover(start, end, fills, closes), engine.data.risk_free_rate)
    return LeanRun(engine, result, statistics)


def format_statistics(statistics: dict[str, str]) -> str:
    width = max(len(k) for k in statistics)
    return "\n".join(f"  {name:<{width}}  {value}" for name, value in statistics.items())


def write_result(run: LeanRun, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(run.to_json(), indent=2), encoding="utf-8")
