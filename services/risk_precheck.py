"""Risk pre-check of a submitted order: the pre-trade gateway's own rules, dry-run on the latest snapshot.

Advisory: the algorithm's pre-trade gateway is the authority and checks every request again on
live data. The sidecar spares an agent or a person a round trip for an order the gateway would
refuse as of the snapshot: ``precheck`` runs the gateway's rules (models/pre_trade_rules.py) on the
exposure the algorithm published (services/gateway_dry_run.py) and reports the failed checks as
violations, and what it had to estimate or could not check as warnings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from services.gateway_dry_run import DryRun, dry_run
from utils.object_store_schema import StateSnapshot
from utils.order_inbox import OrderSpec


@dataclass(frozen=True)
class PrecheckResult:
    violations: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: DryRun | None = None  # the gateway's checks, when a snapshot was there to run them on


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


def adds_exposure(order: OrderSpec, snapshot: StateSnapshot) -> bool:
    """The gateway's definition (held + working orders; a flip or a larger position adds)."""
    return not dry_run(order, snapshot, trading_state(snapshot)).result.reduces_exposure


def precheck(order: OrderSpec, snapshot: StateSnapshot | None, snapshot_status: str,
             legs: Sequence[OrderSpec] = ()) -> PrecheckResult:
    """``legs``: a roll's other leg, checked with ``order`` as one unit (as the gateway checks a combo)."""
    if snapshot is None:
        return PrecheckResult(warnings=["no state snapshot yet: risk limits not pre-checked (the algorithm decides)"])
    violations: list[str] = []
    warnings: list[str] = []
    if snapshot_status != "fresh":
        warnings.append(f"state snapshot is {snapshot_status}: pre-check used the last good one")
    today: date = snapshot.algorithm_time.date()
    for spec in (order, *legs):
        if spec.expiry < today:
            violations.append(f"expiry {spec.expiry.isoformat()} is before the algorithm's date {today}")
    run = dry_run(order, snapshot, trading_state(snapshot), legs)
    violations += run.violations
    warnings += run.notes
    return PrecheckResult(violations, warnings, run)
