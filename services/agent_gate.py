"""One policy, two doors: what an agent's order gets before it reaches the inbox, whether it comes as
an MCP proposal or through the REST order queue (``actor_type`` ai_agent).

``evaluate`` runs the sidecar's risk pre-check (services/risk_precheck.py, the RISK_PRECHECK rules) and the
trading-state rule (models/agent_policy.py: HALTED refuses all but closes, REDUCING refuses added
exposure), and builds the preview: limit, credit/debit, exposure and Greeks after, headroom per limit.
The algorithm's pre-trade gateway checks every request again and stays the authority.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from models.agent_policy import state_refusal
from services.risk_precheck import adds_exposure, precheck, trading_state
from utils.object_store_schema import PositionSnapshot, StateSnapshot
from utils.order_inbox import OrderSpec

DEFAULT_MULTIPLIER = 100.0


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


def same_contract(p: PositionSnapshot, order: OrderSpec) -> bool:
    return (p.underlying == order.underlying and p.right == order.right and abs(p.strike - order.strike) < 1e-9
            and p.expiry == order.expiry.isoformat() and p.status != "closed")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _preview(order: OrderSpec, snapshot: StateSnapshot) -> tuple[dict[str, Any], float | None]:
    held = next((p for p in snapshot.positions if same_contract(p, order)), None)
    multiplier = held.multiplier if held else next(
        (p.multiplier for p in snapshot.positions if p.underlying == order.underlying), DEFAULT_MULTIPLIER)
    price = order.limit_price if order.limit_price is not None else (held.mark_price if held else None)
    signed = order.quantity if order.side == "buy" else -order.quantity
    cash = None if price is None else round(-signed * price * multiplier, 2)
    premium = None if price is None else round(abs(order.quantity * price * multiplier), 2)
    greeks = dict(snapshot.portfolio_greeks)
    dd_now, vega_now = _number(greeks.get("dollar_delta")) or 0.0, _number(greeks.get("vega")) or 0.0
    dd_after = vega_after = None
    if held is not None and held.quantity and held.dollar_delta is not None and held.vega is not None:
        dd_after = round(dd_now + held.dollar_delta / held.quantity * signed, 2)
        vega_after = round(vega_now + held.vega * multiplier * signed, 2)
    open_now = sum(1 for p in snapshot.positions if p.status != "closed")
    held_after = (held.quantity if held else 0) + signed
    open_after = open_now + (1 if held is None else 0) - (1 if held is not None and held_after == 0 else 0)
    limits = snapshot.risk.get("limits") if isinstance(snapshot.risk.get("limits"), dict) else {}
    headroom: dict[str, float | None] = {}
    for name, value in (("max_single_order_value", premium), ("max_open_positions", float(open_after)),
                        ("max_abs_dollar_delta", None if dd_after is None else abs(dd_after)),
                        ("max_abs_vega", None if vega_after is None else abs(vega_after))):
        limit = _number(limits.get(name))
        headroom[name] = None if limit is None or value is None else round(limit - value, 2)
    preview = {"limit_price": price, "order_type": order.order_type, "multiplier": multiplier,
               "cash_flow": cash, "credit_debit": None if cash is None else ("credit" if cash > 0 else "debit"),
               "position_after": held_after, "open_positions_after": open_after,
               "dollar_delta_after": dd_after, "vega_after": vega_after, "headroom": headroom,
               "underlying_price": snapshot.underlying_price, "as_of": snapshot.algorithm_time.isoformat()}
    return preview, premium


def evaluate(order: OrderSpec, snapshot: StateSnapshot | None, snapshot_status: str) -> Evaluation:
    checked = precheck(order, snapshot, snapshot_status)
    violations, warnings = list(checked.violations), list(checked.warnings)
    if snapshot is None:
        return Evaluation(violations, warnings, "unknown", True)
    state, adding = trading_state(snapshot), adds_exposure(order, snapshot)
    refusal = state_refusal(state, adding)
    if refusal is not None and not any("trading is" in v for v in violations):
        violations.append(refusal)
    preview, premium = _preview(order, snapshot)
    if preview["dollar_delta_after"] is None:
        warnings.append("Greeks after the order unknown: the snapshot holds no Greeks for this contract")
    return Evaluation(violations, warnings, state, adding, preview, premium)

