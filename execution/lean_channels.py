"""LEAN's own reporting channels, fed from the state snapshot the adapter builds anyway.

- ``plot``: charts "Portfolio" (equity), "Greeks" (net delta, theta per day, vega), "Slippage"
  (USD spent this session) and "Trading State" (0 active, 1 reducing, 2 halted), sampled at most
  every ``min_minutes`` (60 by default: about 7 points a trading day, 1,800 a year per series,
  under LEAN's 4,000 points per series in a backtest). "Strategy Equity" is LEAN's own, reserved.
- ``set_runtime_statistic``: open positions, net delta, theta per day, slippage spent, trading
  state (the banner of a live algorithm), refreshed with every snapshot.
- ``set_summary_statistic``: the run's counters and final state, once at the end.

The same series are kept in the Object Store (``CHARTS_KEY``) for the options report, written on
each new day and at the end, so a report can draw Greeks over time from a storage folder alone.
A failure here is logged and never stops trading.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from utils.audit_sinks import TextObjectStore
from utils.logging_config import get_logger
from utils.object_store_schema import CHARTS_KEY, StateSnapshot

logger = get_logger(__name__)

STATE_LEVELS = {"active": 0, "reducing": 1, "halted": 2}
# (chart, series, key in the stored series)
SERIES = (("Portfolio", "Equity", "equity"), ("Greeks", "Net Delta", "net_delta"),
          ("Greeks", "Theta per Day", "daily_theta"), ("Greeks", "Vega", "vega"),
          ("Slippage", "Spent USD", "slippage_usd"), ("Trading State", "State", "trading_state"))
MAX_STORED_POINTS = 20_000  # per series in CHARTS_KEY (about 11 years at 7 points a day)


def sample_values(snapshot: StateSnapshot) -> dict[str, float]:
    """The plotted values of one snapshot, by stored-series key."""
    greeks = snapshot.portfolio_greeks
    state = str(snapshot.risk.get("trading_state", "active"))
    return {
        "equity": float(snapshot.equity.total_portfolio_value),
        "net_delta": float(greeks.get("net_delta", 0.0)),
        "daily_theta": float(greeks.get("daily_theta", 0.0)),
        "vega": float(greeks.get("vega", 0.0)),
        "slippage_usd": float(snapshot.slippage.get("session_total_usd", 0.0)),
        "trading_state": float(STATE_LEVELS.get(state, -1)),
    }


class ReportingAlgorithm(Protocol):
    """The part of LEAN's QCAlgorithm used here (pyright checks LEAN's stubs against it where
    lean_adapter.py passes the algorithm in; no AlgorithmImports needed in this module)."""

    def plot(self, chart: str, series: str, value: float) -> None: ...

    def set_runtime_statistic(self, name: str, value: str) -> None: ...

    def set_summary_statistic(self, name: str, value: str) -> None: ...


class LeanChannels:
    def __init__(self, algorithm: ReportingAlgorithm, store: TextObjectStore, min_minutes: int = 60,
                 resume: bool = False) -> None:
        """``resume`` (live): continue the series a previous start stored, so a restart keeps them."""
        self._algorithm = algorithm
        self._store = store
        self._every = timedelta(minutes=min_minutes)
        self._last_plot: datetime | None = None
        self._stored_day: object = None
        self.series: dict[str, list[list[object]]] = {key: [] for _, _, key in SERIES}
        self.last_snapshot: StateSnapshot | None = None
        if resume:
            self._resume()

    def _resume(self) -> None:
        try:
            if not self._store.contains_key(CHARTS_KEY):
                return
            stored = json.loads(self._store.read(CHARTS_KEY)).get("series", {})
            for key, points in self.series.items():
                points.extend(p for p in stored.get(key, []) if isinstance(p, list) and len(p) == 2)
        except Exception:  # a torn or foreign file: start the series afresh, keep trading
            logger.exception("LEAN_CHANNELS_FAILED", extra={"stage": "resume", "key": CHARTS_KEY})
            self.series = {key: [] for _, _, key in SERIES}

    def on_snapshot(self, snapshot: StateSnapshot) -> None:
        """Runtime statistics always; a chart point when one is due; the stored series daily."""
        self.last_snapshot = snapshot
        try:
            self._runtime(snapshot)
            now = snapshot.algorithm_time
            if self._last_plot is None or now - self._last_plot >= self._every:
                self._last_plot = now
                self._plot(snapshot)
                if self._stored_day is not None and now.date() != self._stored_day:
                    self.store()
                self._stored_day = now.date()
        except Exception:
            logger.exception("LEAN_CHANNELS_FAILED", extra={"stage": "snapshot"})

    def _runtime(self, snapshot: StateSnapshot) -> None:
        greeks = snapshot.portfolio_greeks
        algorithm = self._algorithm
        algorithm.set_runtime_statistic("Open Positions", str(sum(1 for p in snapshot.positions if p.quantity)))
        algorithm.set_runtime_statistic("Net Delta", f"{float(greeks.get('net_delta', 0.0)):.1f}")
        algorithm.set_runtime_statistic("Theta/Day", f"{float(greeks.get('daily_theta', 0.0)):.2f}")
        spent = float(snapshot.slippage.get("session_total_usd", 0.0))
        algorithm.set_runtime_statistic("Slippage Spent", f"{spent:.2f}")
        algorithm.set_runtime_statistic("Trading State", str(snapshot.risk.get("trading_state", "n/a")))

    def _plot(self, snapshot: StateSnapshot) -> None:
        values = sample_values(snapshot)
        stamp = snapshot.algorithm_time.isoformat()
        for chart, series, key in SERIES:
            self._algorithm.plot(chart, series, values[key])
            points = self.series[key]
            points.append([stamp, values[key]])
            if len(points) > MAX_STORED_POINTS:
                del points[0]

    def store(self) -> bool:
        try:
            text = json.dumps({"schema_version": 1, "series": self.series}, allow_nan=False)
            return bool(self._store.save(CHARTS_KEY, text))
        except Exception:
            logger.exception("LEAN_CHANNELS_FAILED", extra={"stage": "store", "key": CHARTS_KEY})
            return False

    def on_end(self, counters: Mapping[Any, int], snapshot: StateSnapshot | None = None) -> None:
        """Summary statistics (LEAN's statistics table) and the stored series, once."""
        snapshot = snapshot or self.last_snapshot
        try:
            for name, label in (("positions_opened", "Positions Opened"), ("positions_closed", "Positions Closed"),
                                ("profit_takes", "Profit Takes"), ("stop_losses", "Stop Losses"),
                                ("expiry_closes", "Expiry Closes"), ("rolls_completed", "Rolls"),
                                ("risk_rejections", "Risk Rejections"), ("unmatched_events", "Unmatched Fills")):
                self._algorithm.set_summary_statistic(label, str(int(counters.get(name, 0))))
            if snapshot is not None:
                spent = float(snapshot.slippage.get("session_total_usd", 0.0))
                self._algorithm.set_summary_statistic("Slippage Spent (last session)", f"{spent:.2f}")
                self._algorithm.set_summary_statistic("Trading State", str(snapshot.risk.get("trading_state", "n/a")))
        except Exception:
            logger.exception("LEAN_CHANNELS_FAILED", extra={"stage": "end"})
        self.store()
