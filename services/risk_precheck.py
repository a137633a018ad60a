"""Advisory risk pre-check of a submitted order against the latest snapshot's limits.

Advisory: the algorithm's pre-trade gateway is the authority and checks every request again. The
sidecar only spares an agent a round trip for an order that the limits in force would refuse. It
reads the limits from the snapshot's ``risk`` dict (``risk["limits"][field]`` or ``risk[field]``),
falling back to the ``risk_*`` LEAN parameters in the snapshot; what it cannot find it does not
check (and says so in a warning).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from utils.object_store_schema import StateSnapshot
from utils.order_inbox import OrderSpec

DEFAULT_MULTIPLIER = 100.0  # only for the estimate; the algorithm uses the security's multiplier
HALTED_STATES = frozenset({"halted", "tripped"})
# RiskLimits field -> LEAN parameter name (models/risk_limits.py SPECS)
PARAMETERS = {"blocked_symbols": "risk_blocked_symbols", "max_single_order_value": "risk_max_order_value",
              "max_open_positions": "risk_max_open_positions"}


@dataclass(frozen=True)
class PrecheckResult:
    violations: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _limit(snapshot: StateSnapshot, name: str) -> Any:
    limits = snapshot.risk.get("limits")
    if isinstance(limits, dict) and name in limits:
        return limits[name]
    if name in snapshot.risk:
        return snapshot.risk[name]
    raw = snapshot.parameters.get(PARAMETERS.get(name, ""), "")
    if not raw.strip():
        return None
    if name == "blocked_symbols":
        return [] if raw.strip() == "-" else [s.strip() for s in raw.split(",") if s.strip()]
    try:
        return float(raw)
    except ValueError:
        return None


def trading_state(snapshot: StateSnapshot) -> str:
    """``halted`` / ``reduce_only`` / ``active`` (or what the snapshot calls it), ``unknown``."""
    risk = snapshot.risk
    breaker = risk.get("circuit_breaker")
    state = risk.get("trading_state")  # the algorithm's effective state (what its gateway applies)
    if not (isinstance(state, str) and state) and isinstance(breaker, dict):
        state = breaker.get("state")
    if isinstance(state, str) and state:
        return state.lower()
    if risk.get("reduce_only") or risk.get("entries_suspended"):
        return "reduce_only"
    return "active" if risk else "unknown"


def _adds_exposure(order: OrderSpec, snapshot: StateSnapshot) -> bool:
    for p in snapshot.positions:
        same = (p.underlying == order.underlying and p.right == order.right and abs(p.strike - order.strike) < 1e-9
                and p.expiry == order.expiry.isoformat() and p.status != "closed")
        if same and ((order.side == "sell" and p.quantity > 0) or (order.side == "buy" and p.quantity < 0)):
            return abs(p.quantity) < order.quantity  # closing more than held opens the rest
    return True


adds_exposure = _adds_exposure  # the agent policy (mcp_servers/agent_gate.py) asks the same question


def precheck(order: OrderSpec, snapshot: StateSnapshot | None, snapshot_status: str) -> PrecheckResult:
    result = PrecheckResult()
    if snapshot is None:
        result.warnings.append("no state snapshot yet: risk limits not pre-checked (the algorithm decides)")
        return result
    if snapshot_status != "fresh":
        result.warnings.append(f"state snapshot is {snapshot_status}: pre-check used the last good one")
    today: date = snapshot.algorithm_time.date()
    if order.expiry < today:
        result.violations.append(f"expiry {order.expiry.isoformat()} is before the algorithm's date {today}")
    if not _adds_exposure(order, snapshot):
        return result
    state = trading_state(snapshot)
    if state in HALTED_STATES:
        result.violations.append(f"trading is {state} ({state.upper()}): no exposure-adding orders")
    elif state in ("reduce_only", "reducing"):
        result.violations.append(f"trading is {state} ({state.upper()}, reduce-only): no exposure-adding orders")
    blocked = _limit(snapshot, "blocked_symbols")
    if isinstance(blocked, list | tuple) and order.underlying in blocked:
        result.violations.append(f"{order.underlying} is a blocked symbol")
    max_open = _limit(snapshot, "max_open_positions")
    open_count = sum(1 for p in snapshot.positions if p.status != "closed")
    if isinstance(max_open, int | float) and open_count >= max_open:
        result.violations.append(f"{open_count} open positions: at the limit of {int(max_open)}")
    max_value = _limit(snapshot, "max_single_order_value")
    if isinstance(max_value, int | float):
        if order.limit_price is None:
            result.warnings.append("market order: order value not pre-checked (no price)")
        else:
            multiplier = next((p.multiplier for p in snapshot.positions if p.underlying == order.underlying),
                              DEFAULT_MULTIPLIER)
            value = order.limit_price * order.quantity * multiplier
            if value > max_value:
                result.violations.append(f"order value {value:,.2f} above the limit of {max_value:,.2f}")
    return result
