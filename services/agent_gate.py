"""One policy, two doors: what an agent's order gets before it reaches the inbox, whether it comes as
an MCP proposal or through the REST order queue (``actor_type`` ai_agent).

``evaluate`` runs the pre-trade gateway's own rules on the latest snapshot (services/risk_precheck.py,
services/gateway_dry_run.py) and the trading-state rule (models/agent_policy.py: HALTED refuses all but
closes, REDUCING refuses added exposure), and builds the preview: limit, credit/debit, exposure and
Greeks after, headroom per limit.
The algorithm's pre-trade gateway checks every request again and stays the authority.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from models.agent_policy import state_refusal
from services.gateway_dry_run import DryRun
from services.risk_precheck import precheck, trading_state
from utils.object_store_schema import StateSnapshot
from utils.order_inbox import OrderSpec


@dataclass(frozen=True)
class Evaluation:
    violations: list[str]
    warnings: list[str]
    trading_state: str
    adds_exposure: bool
    preview: dict[str, Any] = field(default_factory=dict)
    premium_at_risk: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"passed": not self.violations, "violations": self.violations, "warnings": self.warnings,
                "trading_state": self.trading_state, "adds_exposure": self.adds_exposure}


def _preview(order: OrderSpec, snapshot: StateSnapshot, run: DryRun) -> tuple[dict[str, Any], float | None]:
    price, multiplier = run.price, run.multiplier
    cash = None if price is None else round(-run.quantity * price * multiplier, 2)
    premium = None if price is None else round(abs(order.quantity * price * multiplier), 2)
    after = run.after
    preview = {"contract": run.symbol, "limit_price": order.limit_price, "price_used": price,
               "order_type": order.order_type, "multiplier": multiplier, "cash_flow": cash,
               "credit_debit": None if cash is None else ("credit" if cash > 0 else "debit"),
               "position_after": after.get("position"), "open_positions_after": after.get("open_positions"),
               "dollar_delta_after": after.get("dollar_delta"), "vega_after": after.get("vega"),
               "headroom": run.headroom, "checks": [asdict(c) for c in run.result.checks],
               "underlying_price": snapshot.underlying_price, "as_of": snapshot.algorithm_time.isoformat()}
    return preview, premium


def evaluate(order: OrderSpec, snapshot: StateSnapshot | None, snapshot_status: str,
             legs: Sequence[OrderSpec] = ()) -> Evaluation:
    """The gateway's rules on the snapshot (services/risk_precheck.py) plus the agent state rule and the
    preview; ``legs`` (a roll's other leg) are checked with ``order`` as one unit."""
    checked = precheck(order, snapshot, snapshot_status, legs)
    violations, warnings = list(checked.violations), list(checked.warnings)
    if snapshot is None or checked.dry_run is None:
        return Evaluation(violations, warnings, "unknown", True)
    run = checked.dry_run
    state, adding = trading_state(snapshot), not run.result.reduces_exposure
    refusal = state_refusal(state, adding)
    if refusal is not None:  # the agent policy's own rule, also when the gateway's breaker check said it
        violations.append(refusal)
    preview, premium = _preview(order, snapshot, run)
    if preview["dollar_delta_after"] is None:
        warnings.append("Greeks after the order unknown: the snapshot holds no Greeks for this contract")
    return Evaluation(violations, warnings, state, adding, preview, premium)
