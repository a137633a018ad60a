"""What a person watching the bot is told: audit entries and snapshot states turned into notifications.

Pure rules, no I/O (``api/notifications.py`` delivers them). Each notification has a ``key``: the
same key within the dedupe window is sent once (a breaker that reports the same trip on every
slice, a stale snapshot seen on every poll). Kinds:

* ``circuit_breaker`` - a trip or a state change of the circuit breaker (failure / warning);
* ``stop_loss`` - a stop-loss close of a position (warning);
* ``assignment`` - an option assigned or exercised (warning);
* ``fill`` - an order filled, fully or in part (info);
* ``roll_failed``, ``component_failure`` - the bot could not do what it meant to (failure);
* ``approval_pending`` - a request that waits for a person (an agent's proposal) (warning);
* ``stale_snapshot`` / ``snapshot_recovered`` - the algorithm's state stopped / resumed updating;
* ``sidecar_error`` - the sidecar itself logged an error (``api/notifications.py`` builds these).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.audit import AuditEntry

INFO, WARNING, FAILURE = "info", "warning", "failure"


@dataclass(frozen=True)
class Notification:
    kind: str
    key: str  # deduplication key
    title: str
    body: str
    severity: str  # info | warning | failure


def _state(entry: AuditEntry, name: str) -> Any:
    for source in (entry.after_state, entry.metadata, entry.before_state):
        if isinstance(source, dict) and source.get(name) is not None:
            return source[name]
    return None


def _where(entry: AuditEntry) -> str:
    return f"{entry.resource_type} {entry.resource_id}" + (f" (correlation {entry.correlation_id})"
                                                          if entry.correlation_id else "")


def _breaker(entry: AuditEntry) -> Notification:
    state = _state(entry, "state") or "tripped"
    trigger = _state(entry, "trigger") or entry.reason or "unknown"
    return Notification("circuit_breaker", f"breaker:{entry.action.value}:{state}:{trigger}",
                        f"Circuit breaker: {state}", f"{entry.description}. Trigger: {trigger}.",
                        FAILURE if str(state).lower() == "halted" else WARNING)


def _is_assignment(entry: AuditEntry) -> bool:
    return "assign" in entry.action.value or "exercise" in entry.action.value or \
        _state(entry, "is_assignment") is True


def notification_for_entry(entry: AuditEntry) -> Notification | None:
    """The notification an audit entry deserves, or None (most entries are not news)."""
    action = entry.action.value
    if _is_assignment(entry):
        return Notification("assignment", f"assignment:{entry.id}", "Option assigned or exercised",
                            f"{entry.description} - {_where(entry)}", WARNING)
    if action in ("risk.circuit_breaker_trip", "risk.circuit_breaker_state_change"):
        return _breaker(entry)
    if action == "trade.stop_loss":
        return Notification("stop_loss", f"stop_loss:{entry.resource_id}", "Stop-loss",
                            f"{entry.description} - {_where(entry)}", WARNING)
    if action == "order.fill":
        return Notification("fill", f"fill:{entry.id}", "Order filled", f"{entry.description} - {_where(entry)}",
                            INFO)
    if action == "roll.fail":
        return Notification("roll_failed", f"roll_failed:{entry.resource_id}", "Roll failed",
                            f"{entry.description}. {entry.reason or ''}".strip(), FAILURE)
    if action == "system.component_failure":
        return Notification("component_failure", f"component_failure:{entry.resource_id}:{entry.reason}",
                            f"Component failure: {entry.resource_id}", f"{entry.description}: {entry.reason}",
                            FAILURE)
    if action == "proposal.create":
        return Notification("approval_pending", f"approval:{entry.resource_id}", "Agent proposal waiting",
                            f"{entry.description} - approve or reject it on the dashboard (unless the agent's "
                            f"budget approves it) - {_where(entry)}", WARNING)
    return None


def notification_for_snapshot(status: str, previous: str | None, age_seconds: float | None) -> Notification | None:
    """A stale (or torn, missing, unreadable) snapshot after a fresh one, and its recovery."""
    bad = {"stale", "torn", "missing", "unreadable"}
    if status in bad and previous not in bad:
        age = "" if age_seconds is None else f" (last good one is {age_seconds:.0f} s old)"
        return Notification("stale_snapshot", f"snapshot:{status}", "Algorithm state is not updating",
                            f"The state snapshot is {status}{age}: the algorithm may have stopped.", FAILURE)
    if status == "fresh" and previous in bad:
        return Notification("snapshot_recovered", "snapshot:fresh", "Algorithm state is updating again",
                            "The state snapshot is fresh again.", INFO)
    return None
