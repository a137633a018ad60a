"""Audit trail records (seed 8.1/8.3): what happened, who did it, to what, and why.

One ``AuditEntry`` is one JSON Lines record with exactly the seed's fields. Entries the algorithm
writes carry the algorithm's clock (LEAN's ``utc_time``; the harness clock offline), never the wall
clock, so a backtest of 2015 writes 2015 entries: the clock is supplied by whoever creates the
entry. Only a caller that gives none gets the seed's default, the wall clock in UTC. No I/O here.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any


class AuditAction(Enum):
    """Types of auditable actions; the value is what the JSON record stores."""

    # Trading
    TRADE_OPEN = "trade.open"
    TRADE_CLOSE = "trade.close"
    TRADE_MODIFY = "trade.modify"
    PROFIT_TAKE = "trade.profit_take"
    PROFIT_TAKE_SKIPPED = "trade.profit_take_skipped"
    STOP_LOSS = "trade.stop_loss"
    EXPIRY_CLOSE = "trade.expiry_close"
    QUOTE_MISSING = "trade.quote_missing"

    # Orders
    ORDER_SUBMIT = "order.submit"
    ORDER_CANCEL = "order.cancel"
    ORDER_MODIFY = "order.modify"
    ORDER_FILL = "order.fill"
    ORDER_REJECT = "order.reject"
    ORDER_EVENT_UNMATCHED = "order.event_unmatched"

    # Rolls (one correlation id follows every order of a roll)
    ROLL_START = "roll.start"
    ROLL_LEG_FILL = "roll.leg_fill"
    ROLL_COMPLETE = "roll.complete"
    ROLL_FAIL = "roll.fail"

    # Risk
    RISK_OVERRIDE = "risk.override"
    RISK_LIMIT_CHANGE = "risk.limit_change"
    RISK_CHECK_FAILED = "risk.check_failed"
    SLIPPAGE_BUDGET_BREACH = "risk.slippage_budget_breach"
    CIRCUIT_BREAKER_TRIP = "risk.circuit_breaker_trip"
    CIRCUIT_BREAKER_RESET = "risk.circuit_breaker_reset"
    CIRCUIT_BREAKER_STATE_CHANGE = "risk.circuit_breaker_state_change"

    # Configuration
    CONFIG_CHANGE = "config.change"
    STRATEGY_ENABLE = "config.strategy_enable"
    STRATEGY_DISABLE = "config.strategy_disable"

    # Authentication
    AUTH_LOGIN = "auth.login"
    AUTH_LOGOUT = "auth.logout"
    AUTH_FAILED = "auth.failed"

    # System
    SYSTEM_START = "system.start"
    SYSTEM_STOP = "system.stop"
    MANUAL_INTERVENTION = "system.manual_intervention"
    COMPONENT_FAILURE = "system.component_failure"
    AUDIT_RETENTION = "system.audit_retention"
    STATE_RESTORE = "system.state_restore"

    # AI agents (MCP server): every tool call, and each step of a proposal
    AGENT_TOOL_CALL = "agent.tool_call"
    PROPOSAL_CREATE = "proposal.create"
    PROPOSAL_APPROVE = "proposal.approve"
    PROPOSAL_REJECT = "proposal.reject"
    PROPOSAL_CANCEL = "proposal.cancel"


_ids = random.SystemRandom()
_id_bits = random.Random(_ids.getrandbits(128))


def new_entry_id() -> str:
    """A random (version 4) UUID string. Drawn from a PRNG seeded from the OS once per process:
    ids must be unique, not secret, and ``uuid.uuid4`` (one syscall each) is a third of the cost
    of an audit append."""
    h = f"{(_id_bits.getrandbits(128) & ~(0xF << 76) | (4 << 76)) & ~(0x3 << 62) | (0x2 << 62):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False, default=str)

ACTOR_TYPES = frozenset({"system", "human", "ai_agent"})

# The seed's JSON Lines fields, in the seed's order (8.3).
AUDIT_FIELDS = ("id", "timestamp", "action", "description", "actor", "actor_type", "resource_type",
                "resource_id", "before_state", "after_state", "reason", "ip_address", "session_id",
                "correlation_id", "metadata")


def format_timestamp(moment: datetime) -> str:
    """UTC ISO-8601 with a ``Z`` suffix, as in the seed's sample records."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    elif moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat().replace("+00:00", "Z")


def parse_timestamp(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    if moment.tzinfo is None:
        raise ValueError(f"audit timestamp without a time zone: {text!r}")
    return moment.astimezone(UTC)


def _now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True)
class AuditEntry:
    """A single audit trail entry. Immutable: the trail is append-only.

    Fields are keyword-only, as in the seed (8.1): ``id`` defaults to a new UUID and
    ``timestamp`` to the wall clock in UTC. Inside the algorithm ``AuditLogger`` always passes the
    algorithm's clock; the default is for callers outside it (the sidecar, a person's script).
    """

    id: str = field(default_factory=new_entry_id)
    timestamp: datetime = field(default_factory=_now_utc)
    action: AuditAction
    description: str
    actor: str  # "system", "user:email", "agent:name"
    actor_type: str  # "system", "human", "ai_agent"
    resource_type: str  # "trade", "order", "position", "roll", "risk_limit", "circuit_breaker", ...
    resource_id: str
    before_state: dict[str, Any] | None = None
    after_state: dict[str, Any] | None = None
    reason: str | None = None
    ip_address: str | None = None
    session_id: str | None = None
    correlation_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.timestamp.tzinfo is None:
            raise ValueError("AuditEntry.timestamp must be time-zone aware (UTC algorithm time)")
        if self.actor_type not in ACTOR_TYPES:
            raise ValueError(f"AuditEntry.actor_type must be one of {sorted(ACTOR_TYPES)}, "
                             f"got {self.actor_type!r}")
        if not self.actor or not self.resource_type:
            raise ValueError("AuditEntry needs an actor and a resource_type")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "timestamp": format_timestamp(self.timestamp),
            "action": self.action.value,
            "description": self.description,
            "actor": self.actor,
            "actor_type": self.actor_type,
            "resource_type": self.resource_type,
            "resource_id": self.resource_id,
            "before_state": self.before_state,
            "after_state": self.after_state,
            "reason": self.reason,
            "ip_address": self.ip_address,
            "session_id": self.session_id,
            "correlation_id": self.correlation_id,
            "metadata": self.metadata,
        }

    def to_json(self) -> str:
        """One JSON Lines record (compact, no NaN: a NaN would make the line unreadable)."""
        return _ENCODER.encode(self.to_dict())

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> AuditEntry:
        """Rebuild an entry; ``ValueError`` names what is wrong with a malformed record."""
        if not isinstance(raw, dict):
            raise ValueError("audit record: expected a JSON object")
        missing = [name for name in AUDIT_FIELDS if name not in raw]
        if missing:
            raise ValueError(f"audit record: missing fields {missing}")
        for name in ("id", "timestamp", "action", "description", "actor", "actor_type",
                     "resource_type", "resource_id"):
            if not isinstance(raw[name], str):
                raise ValueError(f"audit record: '{name}' must be a string")
        for name in ("before_state", "after_state"):
            if raw[name] is not None and not isinstance(raw[name], dict):
                raise ValueError(f"audit record: '{name}' must be an object or null")
        if not isinstance(raw["metadata"], dict):
            raise ValueError("audit record: 'metadata' must be an object")
        try:
            action = AuditAction(raw["action"])
        except ValueError:
            raise ValueError(f"audit record: unknown action {raw['action']!r}") from None
        return cls(
            id=raw["id"], timestamp=parse_timestamp(raw["timestamp"]), action=action,
            description=raw["description"], actor=raw["actor"], actor_type=raw["actor_type"],
            resource_type=raw["resource_type"], resource_id=raw["resource_id"],
            before_state=raw["before_state"], after_state=raw["after_state"], reason=raw["reason"],
            ip_address=raw["ip_address"], session_id=raw["session_id"],
            correlation_id=raw["correlation_id"], metadata=raw["metadata"])

    @classmethod
    def from_json(cls, line: str) -> AuditEntry:
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"audit record is not JSON: {exc}") from None
        return cls.from_dict(raw)
