"""What LEAN records from ``plot``, ``set_runtime_statistic`` and ``set_summary_statistic``
(``Algorithm/QCAlgorithm.Plotting.cs``), and the same sections LEAN writes in its result JSON:
``charts`` (chart -> series -> ``values`` of ``[unix seconds, value]``), ``runtimeStatistics`` and
``statistics`` (the user's summary statistics beside LEAN's own).

LEAN semantics kept: a point is stamped with the algorithm's UTC time; reserved chart and series
names raise (``TryGetChartSeries``); a summary statistic named 0..100 is reserved
(``SetSummaryStatistic``); numbers become invariant-culture strings.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

# QCAlgorithm.Plotting.cs ReservedChartSeriesNames: an empty list reserves the whole chart.
RESERVED_CHART_SERIES: dict[str, tuple[str, ...]] = {
    "Strategy Equity": ("Equity", "Return"),
    "Capacity": ("Strategy Capacity",),
    "Drawdown": ("Equity Drawdown",),
    "Benchmark": ("Benchmark",),
    "Assets Sales Volume": (),
    "Exposure": (),
    "Portfolio Margin": (),
    "Portfolio Turnover": ("Portfolio Turnover",),
}


def _invariant(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return str(value)


class ChartRecorder:
    def __init__(self) -> None:
        self.charts: dict[str, dict[str, list[tuple[datetime, float]]]] = {}
        self.runtime_statistics: dict[str, str] = {}
        self.summary_statistics: dict[str, str] = {}

    def plot(self, utc_time: datetime, chart: str, series: str, value: float) -> None:
        reserved = RESERVED_CHART_SERIES.get(chart)
        if reserved is not None and not reserved:
            raise ValueError(f"'{chart}' is a reserved chart name.")
        if reserved is not None and series in reserved:
            raise ValueError(f"'{series}' is a reserved series name for chart '{chart}'.")
        self.charts.setdefault(chart, {}).setdefault(series, []).append((utc_time, float(value)))

    def set_runtime_statistic(self, name: str, value: Any) -> None:
        self.runtime_statistics[name] = _invariant(value)

    def set_summary_statistic(self, name: str, value: Any) -> None:
        if name.strip().isdigit() and 0 <= int(name) <= 100:
            raise ValueError(f"'{name}' is a reserved statistic name.")
        self.summary_statistics[name] = _invariant(value)

    def result_sections(self) -> dict[str, Any]:
        """``charts``, ``runtimeStatistics`` and ``statistics`` as LEAN's result JSON has them."""
        charts = {}
        for chart, series in self.charts.items():
            charts[chart] = {"name": chart, "series": {
                name: {"name": name, "values": [[int(t.replace(tzinfo=t.tzinfo or UTC).timestamp()), v]
                                                for t, v in points]}
                for name, points in series.items()}}
        return {"charts": charts, "runtimeStatistics": dict(self.runtime_statistics),
                "statistics": dict(self.summary_statistics)}


def recorder_of(algorithm: Any) -> ChartRecorder:
    """The charts and statistics a harness QCAlgorithm recorded (kept private on the algorithm:
    every public member of the fake must exist in LEAN)."""
    recorder = getattr(algorithm, "_lean_charts", None)
    if not isinstance(recorder, ChartRecorder):
        raise TypeError(f"{type(algorithm).__name__} is not a harness QCAlgorithm")
    return recorder
