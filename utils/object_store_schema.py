"""Object Store keys and JSON schemas shared by the algorithm, the sidecar and research.ipynb.

This module is the only place that names an Object Store key or defines what a stored document
looks like. LEAN's key rule (Engine/Storage/LocalObjectStore.cs) allows at most one dot and no
colon, so versions live *inside* documents (``schema_version``), never in key names.

Parsing is strict about what a reader needs (required fields and their types) and lenient about
what it does not know (extra fields are ignored), so a newer writer does not break an older
reader of the same ``schema_version``.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from models.exceptions import SnapshotFormatError
from utils.json_fields import require_field

SCHEMA_VERSION = 1
STATE_KIND = "options_bot_state"

KEY_ROOT = "options_bot"
STATE_KEY = f"{KEY_ROOT}/state.json"
# Series the algorithm plots to LEAN (equity, portfolio Greeks, slippage, state), kept for reports.
CHARTS_KEY = f"{KEY_ROOT}/charts.json"

# LEAN's LocalObjectStore path rule, verbatim.
LEAN_KEY_PATTERN = re.compile(r"^\.?[a-zA-Z0-9\\/_#\-\$= ]+\.?[a-zA-Z0-9]*$")

EQUITY_HISTORY_LIMIT = 2_000

# The audit trail: one folder per UTC day of algorithm time, written in numbered chunks so that
# one append never rewrites the day (``save`` replaces a whole value; LEAN has no append).
AUDIT_PREFIX = f"{KEY_ROOT}/audit"
_AUDIT_CHUNK_KEY = re.compile(r"^" + re.escape(AUDIT_PREFIX) + r"/(\d{4}-\d{2}-\d{2})/chunk_(\d{6})\.jsonl$")


def audit_day_prefix(day: date) -> str:
    return f"{AUDIT_PREFIX}/{day.isoformat()}/"


def audit_chunk_key(day: date, sequence: int) -> str:
    """``options_bot/audit/2015-12-23/chunk_000001.jsonl`` — one dot, as LEAN's key rule needs."""
    if not 0 <= sequence <= 999_999:
        raise ValueError(f"audit chunk sequence out of range: {sequence}")
    return f"{audit_day_prefix(day)}chunk_{sequence:06d}.jsonl"


def parse_audit_chunk_key(key: str) -> tuple[date, int] | None:
    """(day, sequence) of an audit chunk key, None for any other key."""
    match = _AUDIT_CHUNK_KEY.match(key.replace("\\", "/"))
    if match is None:
        return None
    try:
        return date.fromisoformat(match.group(1)), int(match.group(2))
    except ValueError:
        return None


def store_keys(store: Any) -> list[str]:
    """Every key of an Object Store (LEAN's ``ObjectStore.keys``, an ICollection through pythonnet,
    or the harness's list), as ``a/b/c.json`` strings."""
    return [str(key).replace("\\", "/") for key in list(store.keys)]


def is_valid_key(key: str) -> bool:
    """True when LEAN's Object Store accepts ``key``."""
    return bool(LEAN_KEY_PATTERN.match(key)) and key.count("/") <= 100 and key.count("\\") <= 100


@dataclass(frozen=True)
class PositionSnapshot:
    """One bot-managed position as stored in the state snapshot."""

    id: str
    symbol: str
    underlying: str
    right: str  # "call" | "put"
    strike: float
    expiry: str  # ISO date
    side: str  # "long" | "short"
    quantity: int  # contracts, signed: negative for short
    entry_price: float
    mark_price: float | None
    multiplier: float
    unrealized_pnl: float
    realized_pnl: float
    fees: float
    opened_at: str  # ISO datetime, algorithm time
    status: str  # "open" | "closing" | "closed"
    # Greeks per contract (LEAN conventions) and position-level figures; None before the first refresh
    delta: float | None = None
    gamma: float | None = None
    theta: float | None = None
    vega: float | None = None
    rho: float | None = None
    iv: float | None = None
    dollar_delta: float | None = None
    daily_theta_decay: float | None = None
    greeks_source: str | None = None  # "market" | "calculated"
    greeks_updated_at: str | None = None
    correlation_id: str | None = None
    ladder_levels_done: list[int] | None = None  # profit-taking levels taken (0-based), for a restart
    roll_history: list[dict[str, str]] | None = None


@dataclass(frozen=True)
class EquitySummary:
    total_portfolio_value: float
    cash: float
    unrealized_profit: float
    total_fees: float


@dataclass(frozen=True)
class ChainContract:
    """One contract of the snapshot's option chain slice (None: not known)."""

    symbol: str
    right: str  # "call" | "put"
    strike: float
    expiry: str  # ISO date
    bid: float | None
    ask: float | None
    mark: float | None  # mid of a two-sided quote
    delta: float | None  # per share, signed
    vega: float | None  # per 1 % of volatility (LEAN's unit)
    iv: float | None
    open_interest: int | None
    greeks_source: str | None = None  # "market" (LEAN's) | "calculated" (Black-Scholes from the mid)


@dataclass(frozen=True)
class OptionChainSlice:
    """Contracts around the money of the expiries the algorithm's chain filter sees, bounded in size
    (execution/session/chain_slice.py), as of ``as_of`` (UTC algorithm time)."""

    as_of: datetime
    underlying_price: float | None
    contracts: list[ChainContract]
    chain_size: int  # contracts in the filtered chain before the slice was cut

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": _iso(self.as_of), "underlying_price": self.underlying_price,
                "chain_size": self.chain_size, "contracts": [asdict(c) for c in self.contracts]}


@dataclass(frozen=True)
class StateSnapshot:
    algorithm_time: datetime  # UTC, the algorithm's clock
    mode: str  # "backtest" | "live"
    ticker: str
    underlying_price: float | None
    equity: EquitySummary
    positions: list[PositionSnapshot]
    counters: dict[str, int]
    parameters: dict[str, str]
    equity_history: list[tuple[datetime, float]] = field(default_factory=list)
    portfolio_greeks: dict[str, float] = field(default_factory=dict)
    slippage: dict[str, Any] = field(default_factory=dict)
    working_orders: list[dict[str, Any]] = field(default_factory=list)
    risk: dict[str, Any] = field(default_factory=dict)  # limits in force and the trading state
    schema_version: int = SCHEMA_VERSION
    option_chain: OptionChainSlice | None = None  # None: no chain read yet, or a writer older than the field

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "kind": STATE_KIND,
            "algorithm_time": _iso(self.algorithm_time),
            "mode": self.mode,
            "ticker": self.ticker,
            "underlying_price": self.underlying_price,
            "equity": asdict(self.equity),
            "equity_history": [[_iso(t), v] for t, v in self.equity_history[-EQUITY_HISTORY_LIMIT:]],
            "positions": [asdict(p) for p in self.positions],
            "counters": dict(self.counters),
            "parameters": dict(self.parameters),
            "portfolio_greeks": dict(self.portfolio_greeks),
            "slippage": dict(self.slippage),
            "working_orders": list(self.working_orders),
            "risk": dict(self.risk),
            "option_chain": None if self.option_chain is None else self.option_chain.to_dict(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def _require(doc: dict[str, Any], name: str, kinds: type | tuple[type, ...], where: str) -> Any:
    return require_field(doc, name, kinds, where, SnapshotFormatError)


def _parse_time(text: str, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SnapshotFormatError(f"{where}: not an ISO datetime: {text!r}") from None
    if moment.tzinfo is None:
        raise SnapshotFormatError(f"{where}: datetime without a time zone: {text!r}")
    return moment


_NUMBER = (int, float)
_POSITION_FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": str, "symbol": str, "underlying": str, "right": str, "strike": _NUMBER, "expiry": str,
    "side": str, "quantity": int, "entry_price": _NUMBER, "mark_price": (int, float, type(None)),
    "multiplier": _NUMBER, "unrealized_pnl": _NUMBER, "realized_pnl": _NUMBER, "fees": _NUMBER,
    "opened_at": str, "status": str,
}
_OPTIONAL_NUMBER = (int, float, type(None))
_POSITION_OPTIONAL: dict[str, type | tuple[type, ...]] = {
    "delta": _OPTIONAL_NUMBER, "gamma": _OPTIONAL_NUMBER, "theta": _OPTIONAL_NUMBER, "vega": _OPTIONAL_NUMBER,
    "rho": _OPTIONAL_NUMBER, "iv": _OPTIONAL_NUMBER, "dollar_delta": _OPTIONAL_NUMBER,
    "daily_theta_decay": _OPTIONAL_NUMBER, "greeks_source": (str, type(None)),
    "greeks_updated_at": (str, type(None)), "correlation_id": (str, type(None)),
    "ladder_levels_done": (list, type(None)), "roll_history": (list, type(None)),
}


def _parse_position(raw: Any, where: str) -> PositionSnapshot:
    if not isinstance(raw, dict):
        raise SnapshotFormatError(f"{where}: expected an object")
    values = {name: _require(raw, name, kinds, where) for name, kinds in _POSITION_FIELDS.items()}
    for name in ("strike", "entry_price", "multiplier", "unrealized_pnl", "realized_pnl", "fees"):
        values[name] = float(values[name])
    if values["mark_price"] is not None:
        values["mark_price"] = float(values["mark_price"])
    for name, kinds in _POSITION_OPTIONAL.items():  # added after the first release: optional
        value = _require(raw, name, kinds, where) if name in raw else None
        values[name] = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
    return PositionSnapshot(**values)


_CHAIN_FIELDS: dict[str, type | tuple[type, ...]] = {
    "symbol": str, "right": str, "strike": _NUMBER, "expiry": str, "bid": _OPTIONAL_NUMBER, "ask": _OPTIONAL_NUMBER,
    "mark": _OPTIONAL_NUMBER, "delta": _OPTIONAL_NUMBER, "vega": _OPTIONAL_NUMBER, "iv": _OPTIONAL_NUMBER,
    "open_interest": (int, type(None)),
}


def _parse_chain(raw: Any) -> OptionChainSlice | None:
    """The ``option_chain`` section; None when absent (a snapshot written before it existed)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise SnapshotFormatError("state.option_chain: expected an object or null")
    underlying = _require(raw, "underlying_price", _OPTIONAL_NUMBER, "state.option_chain")
    contracts = []
    for i, item in enumerate(_require(raw, "contracts", list, "state.option_chain")):
        where = f"state.option_chain.contracts[{i}]"
        if not isinstance(item, dict):
            raise SnapshotFormatError(f"{where}: expected an object")
        values = {name: _require(item, name, kinds, where) for name, kinds in _CHAIN_FIELDS.items()}
        for name in ("strike", "bid", "ask", "mark", "delta", "vega", "iv"):
            values[name] = None if values[name] is None else float(values[name])
        source = _require(item, "greeks_source", (str, type(None)), where) if "greeks_source" in item else None
        contracts.append(ChainContract(**values, greeks_source=source))
    return OptionChainSlice(
        as_of=_parse_time(_require(raw, "as_of", str, "state.option_chain"), "state.option_chain.as_of"),
        underlying_price=None if underlying is None else float(underlying), contracts=contracts,
        chain_size=_require(raw, "chain_size", int, "state.option_chain"))


def parse_state_snapshot(text: str | bytes) -> StateSnapshot:
    """Parse and validate a stored state snapshot; raise ``SnapshotFormatError`` if it is not one.

    A torn or half-written file (LEAN writes non-atomically) fails here rather than later.
    """
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SnapshotFormatError(f"state snapshot is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise SnapshotFormatError("state snapshot: expected a JSON object")
    version = _require(doc, "schema_version", int, "state")
    if version != SCHEMA_VERSION:
        raise SnapshotFormatError(
            f"state: schema_version {version} is not supported (this reader knows {SCHEMA_VERSION})")
    if doc.get("kind") != STATE_KIND:
        raise SnapshotFormatError(f"state: kind must be '{STATE_KIND}'")
    equity_raw = _require(doc, "equity", dict, "state")
    equity = EquitySummary(**{
        name: float(_require(equity_raw, name, _NUMBER, "state.equity"))
        for name in ("total_portfolio_value", "cash", "unrealized_profit", "total_fees")
    })
    positions_raw = _require(doc, "positions", list, "state")
    history_raw = doc.get("equity_history", [])
    if not isinstance(history_raw, list):
        raise SnapshotFormatError("state.equity_history: expected a list")
    history: list[tuple[datetime, float]] = []
    for i, point in enumerate(history_raw):
        if (not isinstance(point, list) or len(point) != 2 or not isinstance(point[0], str)
                or not isinstance(point[1], _NUMBER) or isinstance(point[1], bool)):
            raise SnapshotFormatError(f"state.equity_history[{i}]: expected [iso_time, value]")
        history.append((_parse_time(point[0], f"state.equity_history[{i}]"), float(point[1])))
    counters = _require(doc, "counters", dict, "state")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in counters.values()):
        raise SnapshotFormatError("state.counters: every counter must be an integer")
    parameters = _require(doc, "parameters", dict, "state")
    if not all(isinstance(v, str) for v in parameters.values()):
        raise SnapshotFormatError("state.parameters: every parameter must be a string (LEAN rule)")
    underlying = _require(doc, "underlying_price", (int, float, type(None)), "state")
    extras = {name: _require(doc, name, kind, "state") if name in doc else kind()
              for name, kind in (("portfolio_greeks", dict), ("slippage", dict), ("working_orders", list),
                                 ("risk", dict))}
    return StateSnapshot(
        schema_version=version,
        algorithm_time=_parse_time(_require(doc, "algorithm_time", str, "state"), "state.algorithm_time"),
        mode=_require(doc, "mode", str, "state"),
        ticker=_require(doc, "ticker", str, "state"),
        underlying_price=None if underlying is None else float(underlying),
        equity=equity,
        positions=[_parse_position(p, f"state.positions[{i}]") for i, p in enumerate(positions_raw)],
        counters=dict(counters),
        parameters=dict(parameters),
        equity_history=history,
        option_chain=_parse_chain(doc.get("option_chain")),
        **extras,
    )
