"""Where a report's facts come from: an Object Store folder (LEAN's ``storage/``: the state
snapshot, the audit trail and the charts the algorithm sampled) and/or a result file (JSON with
LEAN-named ``statistics``, ``charts``, ``runtimeStatistics``, an equity series, ``orders``).

Bad input never crashes a report: a missing or torn file, a NaN, an unknown shape becomes a line in
``RunData.problems`` (logged as ``REPORT_INPUT_PROBLEM``) and the report is built from the rest.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from models.audit import AuditAction, AuditEntry
from models.exceptions import SnapshotFormatError
from utils.audit_reader import AuditTrail, read_object_store_trail, read_storage_folder_trail
from utils.audit_sinks import TextObjectStore
from utils.logging_config import get_logger
from utils.object_store_schema import CHARTS_KEY, STATE_KEY, StateSnapshot, parse_state_snapshot

logger = get_logger(__name__)

Series = list[tuple[datetime, float]]


@dataclass
class RunData:
    """Everything a report reads, whatever it came from."""

    snapshot: StateSnapshot | None = None
    entries: list[AuditEntry] = field(default_factory=list)
    equity: Series = field(default_factory=list)
    start_equity: float | None = None
    series: dict[str, Series] = field(default_factory=dict)  # sampled charts: net_delta, theta...
    lean_statistics: dict[str, str] = field(default_factory=dict)  # as a result file reports them
    runtime_statistics: dict[str, str] = field(default_factory=dict)
    risk_free_rate: float = 0.0
    sources: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        logger.warning("REPORT_INPUT_PROBLEM", extra={"problem": text})
        self.problems.append(text)


def _time(value: Any) -> datetime | None:
    """An ISO string or a Unix time (seconds, LEAN's chart x) as an aware UTC datetime."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return datetime.fromtimestamp(float(value), UTC)
        if isinstance(value, str):
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def parse_points(raw: Any) -> tuple[Series, int]:
    """Points of a series in any of the shapes we meet: ``[[t, v], ...]``, LEAN's candlestick
    ``[[t, o, h, l, c], ...]`` (close is used), ``[{"x": t, "y": v}]`` or ``{"time": .., "value": ..}``.
    Returns the points and how many were dropped (bad time or non-finite value)."""
    points: Series = []
    dropped = 0
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, list | tuple) and len(item) >= 2:
            moment, value = _time(item[0]), item[-1]
        elif isinstance(item, dict):
            moment = _time(item.get("x", item.get("time")))
            value = item.get("y", item.get("value", item.get("close")))
        else:
            moment, value = None, None
        if moment is None or isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            dropped += 1
            continue
        points.append((moment, float(value)))
    return sorted(points, key=lambda p: p[0]), dropped


def load_storage(folder: Path, data: RunData | None = None) -> RunData:
    """The snapshot, audit trail and sampled charts the algorithm wrote to ``folder``."""
    data = data or RunData()
    data.sources.append(f"Object Store folder {folder}")
    if not folder.is_dir():
        data.problem(f"{folder}: no such folder (run `make backtest` first, or name the storage folder)")
        return data
    state, charts = folder / STATE_KEY, folder / CHARTS_KEY
    _apply_snapshot(_read(state), str(state), data)
    _apply_trail(read_storage_folder_trail(folder), str(folder), data)
    if charts.is_file():
        _apply_charts(_read(charts), str(charts), data)
    return data


def load_object_store(store: TextObjectStore, data: RunData | None = None) -> RunData:
    """The same keys through an Object Store API (``QuantBook().object_store`` in LEAN research)."""
    data = data or RunData()
    data.sources.append("Object Store (API)")
    _apply_snapshot(store.read(STATE_KEY) if store.contains_key(STATE_KEY) else None, STATE_KEY, data)
    _apply_trail(read_object_store_trail(store), "the Object Store", data)
    if store.contains_key(CHARTS_KEY):
        _apply_charts(store.read(CHARTS_KEY), CHARTS_KEY, data)
    return data


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None


def _apply_snapshot(text: str | None, where: str, data: RunData) -> None:
    if text is None:
        data.problem(f"{where}: no state snapshot; equity and parameters come from elsewhere or are missing")
        return
    try:
        snap = parse_state_snapshot(text)
    except SnapshotFormatError as exc:
        data.problem(f"{where}: unreadable snapshot ({exc})")
        return
    data.snapshot = snap
    data.equity = data.equity or [(t if t.tzinfo else t.replace(tzinfo=UTC), v)
                                  for t, v in snap.equity_history if math.isfinite(v)]
    data.start_equity = data.start_equity or _float(snap.parameters.get("cash"))
    data.risk_free_rate = _float(snap.parameters.get("risk_free_rate")) or 0.0


def select_run(entries: list[AuditEntry]) -> tuple[list[AuditEntry], str | None]:
    """The entries of the run to report on. The Object Store keeps every run's trail (a second
    backtest of the same days adds chunks beside the first), and the algorithm stamps each run's
    entries with its own ``session_id``: after a backtest, the last backtest run only; after live
    runs, every live run (restarts belong to the same deployment). Trails without session ids are
    returned whole."""
    starts = [e for e in entries if e.action == AuditAction.SYSTEM_START and e.session_id]
    if not starts:
        return entries, None
    last = max(starts, key=lambda e: (e.timestamp, entries.index(e)))
    mode = last.metadata.get("mode")
    keep = ({last.session_id} if mode != "live" else
            {e.session_id for e in starts if e.metadata.get("mode") == "live"})
    chosen = [e for e in entries if e.session_id in keep or not e.session_id]
    other = {e.session_id for e in starts} - keep
    note = (f"{len(other)} other run(s) in this folder left out (reporting the last {mode} run"
            f"{'s' if mode == 'live' else ''}; a fresh --storage folder avoids this)") if other else None
    return chosen, note


def _apply_trail(trail: AuditTrail, where: str, data: RunData) -> None:
    data.entries, note = select_run(trail.entries)
    if note:
        data.problem(note)
    for location in trail.torn:
        data.problem(f"torn audit line skipped at {location}")
    for location in trail.corrupt:
        data.problem(f"malformed audit line skipped at {location}")
    if not trail.entries:
        data.problem(f"{where}: no audit trail under options_bot/audit/")


def _apply_charts(text: str, where: str, data: RunData) -> None:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        data.problem(f"{where}: not JSON ({exc}); Greeks over time are missing")
        return
    series = raw.get("series", {}) if isinstance(raw, dict) else {}
    for name, points in series.items() if isinstance(series, dict) else []:
        parsed, dropped = parse_points(points)
        if dropped:
            data.problem(f"{where}: {dropped} bad points dropped from {name}")
        data.series[str(name)] = parsed


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _lean_equity(charts: Any) -> Any:
    """LEAN's ``charts["Strategy Equity"]["series"]["Equity"]["values"]``."""
    try:
        return charts["Strategy Equity"]["series"]["Equity"]["values"]
    except (KeyError, TypeError):
        return None


def load_result(path: Path, data: RunData | None = None) -> RunData:
    """A result file: LEAN's (``statistics``, ``runtimeStatistics``, ``charts``) or the harness's
    (the same names, plus ``equity`` as ``[[time, value], ...]``)."""
    data = data or RunData()
    data.sources.append(f"result file {path}")
    try:
        raw = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except FileNotFoundError:
        data.problem(f"{path}: no such result file")
        return data
    except json.JSONDecodeError as exc:
        data.problem(f"{path}: not JSON ({exc})")
        return data
    if not isinstance(raw, dict):
        data.problem(f"{path}: expected a JSON object")
        return data
    for name in ("statistics", "runtimeStatistics"):
        values = raw.get(name)
        if isinstance(values, dict):
            target = data.lean_statistics if name == "statistics" else data.runtime_statistics
            target.update({str(k): str(v) for k, v in values.items()})
    equity_raw = raw.get("equity") or raw.get("equity_curve") or _lean_equity(raw.get("charts"))
    points, dropped = parse_points(equity_raw)
    if dropped:
        data.problem(f"{path}: {dropped} bad equity points dropped")
    if points:
        data.equity = points
    start = _float(str(data.lean_statistics.get("Start Equity", "")).replace(",", "").replace("$", ""))
    data.start_equity = start or data.start_equity or (points[0][1] if points else None)
    charts = raw.get("charts")
    if isinstance(charts, dict):
        for chart in charts.values():
            for name, series in (chart.get("series", {}) if isinstance(chart, dict) else {}).items():
                values = series.get("values") if isinstance(series, dict) else series
                parsed, _ = parse_points(values)
                if parsed and name not in data.series and name != "Equity":
                    data.series[str(name)] = parsed
    return data
