"""The one policy for AI agents' orders, whichever door they come through (MCP proposal or the REST
order queue with ``actor_type`` ai_agent). Pure: stdlib only, no I/O.

- ``state_refusal``: HALTED refuses everything but what reduces exposure (closes); REDUCING refuses
  what adds exposure. The algorithm's gateway checks this again (``execution.risk.circuit_breaker.permits``
  is the authority); this spares the agent a round trip and keeps a person from approving an order
  the algorithm would refuse.
- ``budget_refusals``: an agent's per-day budget in autonomous mode (orders, contracts per order,
  premium at risk, allowed actions and underlyings). Beyond budget the proposal needs a person.
- Agent identity: a name and the SHA-256 of its token (``hash_token``); the token itself is never
  stored. The audit actor is ``agent:<name>``.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from models.exceptions import ConfigurationError
from models.trading_state import STATE_NAMES, TradingState

AGENT_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
ACTIONS = ("open", "close", "roll")
HALTED_STATES = frozenset(name for name, state in STATE_NAMES.items() if state is TradingState.HALTED)
REDUCING_STATES = frozenset(name for name, state in STATE_NAMES.items() if state is TradingState.REDUCING)
DEFAULT_PROPOSAL_TTL_SECONDS = 120.0


class ApprovalMode(StrEnum):
    MANUAL = "manual"  # a person approves or rejects every proposal
    AUTONOMOUS = "autonomous"  # within the agent's budget it goes straight to the inbox


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", errors="surrogatepass")).hexdigest()


def actor_of(name: str) -> str:
    return f"agent:{name}"


@dataclass(frozen=True)
class AgentBudget:
    orders_per_day: int = 0
    contracts_per_order: int = 0
    premium_at_risk_per_day: float = 0.0  # USD
    allowed_actions: frozenset[str] = frozenset()
    allowed_underlyings: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AgentSpec:
    name: str
    token_sha256: str
    budget: AgentBudget = field(default_factory=AgentBudget)

    @property
    def actor(self) -> str:
        return actor_of(self.name)

    def owns(self, token: str) -> bool:
        return hmac.compare_digest(self.token_sha256, hash_token(token))


@dataclass(frozen=True)
class AgentPolicyConfig:
    approval_mode: ApprovalMode = ApprovalMode.MANUAL
    proposal_ttl_seconds: float = DEFAULT_PROPOSAL_TTL_SECONDS
    agents: tuple[AgentSpec, ...] = ()

    def agent_for_token(self, token: str | None) -> AgentSpec | None:
        """The agent whose token this is (every hash compared, constant time each)."""
        found = None
        for agent in self.agents:
            if token and agent.owns(token):
                found = agent
        return found

    def agent_named(self, name: str) -> AgentSpec | None:
        return next((a for a in self.agents if a.name == name), None)


@dataclass(frozen=True)
class BudgetUse:
    """What an agent has already spent today (UTC day of the sidecar)."""

    orders: int = 0
    premium: float = 0.0


def state_refusal(trading_state: str, adds_exposure: bool) -> str | None:
    state = trading_state.lower()
    if state in HALTED_STATES and adds_exposure:
        return "trading is HALTED: only closes are accepted"
    if state in REDUCING_STATES and adds_exposure:
        return "trading is REDUCING: orders that add exposure are refused"
    return None


def budget_refusals(budget: AgentBudget, used: BudgetUse, action: str, underlying: str, contracts: int,
                    premium_at_risk: float) -> list[str]:
    reasons: list[str] = []
    if action not in budget.allowed_actions:
        reasons.append(f"action {action!r} is not in the agent's allowed actions")
    if underlying not in budget.allowed_underlyings:
        reasons.append(f"underlying {underlying} is not in the agent's allowed underlyings")
    if used.orders + 1 > budget.orders_per_day:
        reasons.append(f"orders per day: {used.orders} used of {budget.orders_per_day}")
    if contracts > budget.contracts_per_order:
        reasons.append(f"contracts per order: {contracts} above {budget.contracts_per_order}")
    if used.premium + premium_at_risk > budget.premium_at_risk_per_day + 1e-9:
        reasons.append(f"premium at risk per day: {used.premium + premium_at_risk:,.2f} above "
                       f"{budget.premium_at_risk_per_day:,.2f}")
    return reasons


def _number(doc: Mapping[str, Any], name: str, where: str, integer: bool) -> Any:
    value = doc.get(name, 0)
    bad = isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int))
    if bad or not math.isfinite(value) or value < 0:
        raise ConfigurationError(f"{where}.{name}", f"expected a non-negative {'integer' if integer else 'number'}")
    return value


def _strings(doc: Mapping[str, Any], name: str, where: str, allowed: tuple[str, ...] | None = None) -> frozenset[str]:
    value = doc.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigurationError(f"{where}.{name}", "expected a list of strings")
    if allowed is not None and not set(value) <= set(allowed):
        raise ConfigurationError(f"{where}.{name}", f"expected a subset of {list(allowed)}")
    return frozenset(value)


def _agent(doc: Any, index: int) -> AgentSpec:
    where = f"agents[{index}]"
    if not isinstance(doc, dict):
        raise ConfigurationError(where, "expected an object")
    name, digest = doc.get("name"), doc.get("token_sha256")
    if not isinstance(name, str) or not AGENT_NAME.match(name):
        raise ConfigurationError(f"{where}.name", f"expected {AGENT_NAME.pattern}")
    if not isinstance(digest, str) or not SHA256_HEX.match(digest):
        raise ConfigurationError(f"{where}.token_sha256", "expected the token's SHA-256 as 64 lower-case hex digits")
    raw = doc.get("budget", {})
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{where}.budget", "expected an object")
    budget = AgentBudget(
        orders_per_day=_number(raw, "orders_per_day", f"{where}.budget", True),
        contracts_per_order=_number(raw, "contracts_per_order", f"{where}.budget", True),
        premium_at_risk_per_day=float(_number(raw, "premium_at_risk_per_day", f"{where}.budget", False)),
        allowed_actions=_strings(raw, "allowed_actions", f"{where}.budget", ACTIONS),
        allowed_underlyings=_strings(raw, "allowed_underlyings", f"{where}.budget"))
    return AgentSpec(name=name, token_sha256=digest, budget=budget)


def parse_policy_config(doc: Any) -> AgentPolicyConfig:
    """``{"approval_mode": "manual", "proposal_ttl_seconds": 120, "agents": [{"name", "token_sha256",
    "budget": {...}}]}``; a bad value raises ``ConfigurationError`` naming it."""
    if not isinstance(doc, dict):
        raise ConfigurationError("agent policy", "expected a JSON object")
    try:
        mode = ApprovalMode(doc.get("approval_mode", ApprovalMode.MANUAL.value))
    except ValueError:
        raise ConfigurationError("approval_mode", f"expected one of {[m.value for m in ApprovalMode]}") from None
    ttl = _number(doc, "proposal_ttl_seconds", "policy", False) or DEFAULT_PROPOSAL_TTL_SECONDS
    raw_agents = doc.get("agents", [])
    if not isinstance(raw_agents, list):
        raise ConfigurationError("agents", "expected a list")
    agents = tuple(_agent(item, i) for i, item in enumerate(raw_agents))
    names = [a.name for a in agents]
    if len(set(names)) != len(names):
        raise ConfigurationError("agents", "agent names must be unique")
    if len({a.token_sha256 for a in agents}) != len(agents):
        raise ConfigurationError("agents", "each agent needs its own token")
    return AgentPolicyConfig(approval_mode=mode, proposal_ttl_seconds=float(ttl), agents=agents)
