"""Proposals: an agent's order, previewed and waiting for a decision until it expires.

One JSON file per proposal (``<dir>/<id>.json``, written once: temp file + rename) and at most one
decision per proposal (``<dir>/<id>.decision.json``, created with O_EXCL): the first approve,
reject, cancel or budget decision wins in every process (the stdio server and the sidecar share the
folder), so a replayed approval is refused. An approval names the ``order_digest`` it saw in the
preview; a different digest (the order changed) is refused, and so is an expired proposal.

The proposal's correlation id is the inbox request id it will have once approved, so one id runs
proposal -> approval -> inbox request -> orders -> fills.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from models.agent_policy import BudgetUse
from utils.logging_config import get_logger
from utils.order_inbox import OrderSpec, RollSpec, derive_request_id

logger = get_logger(__name__)

PENDING, APPROVED, REJECTED, CANCELLED, EXPIRED = "pending", "approved", "rejected", "cancelled", "expired"


class ProposalRefused(Exception):
    """A decision that cannot be taken; ``status`` is the HTTP status that says why."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def order_digest(order: OrderSpec) -> str:
    return hashlib.sha256(json.dumps(order.to_dict(), sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Proposal:
    proposal_id: str
    agent: str  # agent name; the audit actor is agent:<name>
    kind: str  # open | close | roll
    order: OrderSpec
    created_at: datetime
    expires_at: datetime
    precheck: dict[str, Any]
    preview: dict[str, Any]
    premium_at_risk: float
    legs: tuple[OrderSpec, ...] = ()  # a roll's opening leg (previewed beside ``order``, its closing leg)
    digest: str = field(default="")
    roll: RollSpec | None = None  # a roll: queued as ONE roll request (one combo order), not as its legs

    @property
    def request_id(self) -> str:
        return derive_request_id(f"proposal:{self.proposal_id}")

    @property
    def correlation_id(self) -> str:
        return self.request_id

    def to_dict(self) -> dict[str, Any]:
        return {"proposal_id": self.proposal_id, "agent": self.agent, "kind": self.kind,
                "order": self.order.to_dict(), "legs": [leg.to_dict() for leg in self.legs],
                "created_at": self.created_at.isoformat(), "expires_at": self.expires_at.isoformat(),
                "precheck": self.precheck, "preview": self.preview, "premium_at_risk": self.premium_at_risk,
                "order_digest": self.digest, "correlation_id": self.correlation_id,
                "roll": None if self.roll is None else self.roll.to_dict()}

    @staticmethod
    def from_dict(doc: dict[str, Any]) -> Proposal:
        return Proposal(
            proposal_id=doc["proposal_id"], agent=doc["agent"], kind=doc["kind"],
            order=OrderSpec.from_dict(doc["order"]), legs=tuple(OrderSpec.from_dict(x) for x in doc["legs"]),
            created_at=datetime.fromisoformat(doc["created_at"]), expires_at=datetime.fromisoformat(doc["expires_at"]),
            precheck=doc["precheck"], preview=doc["preview"], premium_at_risk=float(doc["premium_at_risk"]),
            digest=doc["order_digest"], roll=None if doc.get("roll") is None else RollSpec.from_dict(doc["roll"]))


def new_proposal(agent: str, kind: str, order: OrderSpec, now: datetime, ttl_seconds: float,
                 precheck: dict[str, Any], preview: dict[str, Any], premium_at_risk: float,
                 legs: tuple[OrderSpec, ...] = (), roll: RollSpec | None = None) -> Proposal:
    parts = [order_digest(o) for o in (order, *legs)]
    if roll is not None:  # the approval binds the combo's terms too (position, net limit)
        parts.append(hashlib.sha256(json.dumps(roll.to_dict(), sort_keys=True, default=str).encode()).hexdigest())
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()
    return Proposal(proposal_id="prop_" + secrets.token_hex(12), agent=agent, kind=kind, order=order, legs=legs,
                    created_at=now, expires_at=now + timedelta(seconds=ttl_seconds), precheck=precheck,
                    preview=preview, premium_at_risk=premium_at_risk, digest=digest, roll=roll)


class ProposalStore:
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def _path(self, proposal_id: str, suffix: str = "") -> Path:
        if not (proposal_id.startswith("prop_") and proposal_id[5:].isalnum() and len(proposal_id) <= 64):
            raise ProposalRefused(f"not a proposal id: {proposal_id[:80]!r}", 404)
        return self.folder / f"{proposal_id}{suffix}.json"

    def save(self, proposal: Proposal) -> None:
        path = self._path(proposal.proposal_id)
        temp = path.with_suffix(".tmp")
        temp.write_text(json.dumps(proposal.to_dict(), default=str), encoding="utf-8")
        os.replace(temp, path)

    def get(self, proposal_id: str) -> Proposal:
        path = self._path(proposal_id)
        try:
            return Proposal.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise ProposalRefused(f"no proposal {proposal_id}", 404) from None
        except (ValueError, KeyError, TypeError) as exc:
            logger.error("PROPOSAL_UNREADABLE", extra={"path": str(path), "error": str(exc)})
            raise ProposalRefused(f"proposal {proposal_id} is unreadable", 409) from None

    def newest(self, scan: int = 1000) -> Iterator[Proposal]:
        """Stored proposals, newest file first (at most ``scan``; unreadable ones are logged, skipped)."""
        paths = [p for p in self.folder.glob("prop_*.json") if not p.name.endswith(".decision.json")]
        paths.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for path in paths[:scan]:
            try:
                yield self.get(path.stem)
            except ProposalRefused as exc:
                logger.warning("PROPOSAL_SKIPPED", extra={"path": str(path), "error": str(exc)})

    def decision(self, proposal_id: str) -> dict[str, Any] | None:
        try:
            return json.loads(self._path(proposal_id, ".decision").read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def status(self, proposal: Proposal, now: datetime) -> str:
        decided = self.decision(proposal.proposal_id)
        if decided is not None:
            return str(decided["status"])
        return EXPIRED if now >= proposal.expires_at else PENDING

    def decide(self, proposal: Proposal, status: str, by: str, now: datetime, digest: str | None = None,
               reason: str | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Record the one decision for a pending proposal (first writer wins, across processes)."""
        if status == APPROVED and digest != proposal.digest:
            raise ProposalRefused("the order changed since the preview (order_digest differs): refused", 409)
        if now >= proposal.expires_at and status != CANCELLED:
            raise ProposalRefused(f"proposal {proposal.proposal_id} expired at {proposal.expires_at.isoformat()}", 410)
        record = {"status": status, "by": by, "at": now.isoformat(), "reason": reason, **(extra or {})}
        path = self._path(proposal.proposal_id, ".decision")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            earlier = self.decision(proposal.proposal_id) or {}
            raise ProposalRefused(f"proposal {proposal.proposal_id} was already {earlier.get('status', 'decided')}"
                                  f" by {earlier.get('by', '?')}: refused", 409) from None
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle)
        logger.info("PROPOSAL_DECIDED", extra={"proposal_id": proposal.proposal_id, "status": status, "by": by})
        return record

    @contextmanager
    def budget_lock(self, agent: str) -> Iterator[None]:
        """Held while an agent's budget is read and spent: across threads and processes (flock)."""
        with self._lock, (self.folder / f".budget-{agent}.lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def budget_use(self, agent: str, day: datetime) -> BudgetUse:
        """What the agent's autonomous (budget-approved) proposals used on ``day`` (UTC)."""
        orders, premium = 0, 0.0
        paths = list(self.folder.glob("prop_*.decision.json"))
        for path in paths:
            try:
                decided = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                logger.warning("PROPOSAL_DECISION_UNREADABLE", extra={"path": str(path), "error": str(exc)})
                continue
            if decided.get("by") != f"budget:{agent}" or decided.get("status") != APPROVED:
                continue
            if datetime.fromisoformat(decided["at"]).astimezone(UTC).date() != day.astimezone(UTC).date():
                continue
            orders += 1
            premium += float(decided.get("premium_at_risk", 0.0))
        return BudgetUse(orders=orders, premium=premium)
