"""The order inbox: requests from people and agents to the algorithm, and its answers. Stdlib only.

- ``options_bot/inbox/<request_id>.json``: one new key per request (``InboxRequest``), written once
  by the sidecar: temp file in ``options_bot/inbox_tmp/`` (no key the algorithm parses), fsync, then a
  hard link that never replaces an existing request, so an id is in the inbox at most once.
- ``options_bot/outbox/<request_id>.json``: the algorithm's outcome (``InboxOutcome``) via
  ``ObjectStore.save``; ``processing`` is saved before it acts, so a restart reconciles a claimed
  request instead of acting on it twice.

``derive_request_id(idempotency_key)``: the id is a pure function of the key (the file name is the
idempotency index). The algorithm uses LEAN's ObjectStore API only: ``pending_request_keys(store.keys)``,
``read_request(store.read(key))`` (``InboxFormatError`` for anything but a whole, valid request),
``store.save(outcome_key(id), outcome.to_json())``, in ``order_for_processing`` order.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from utils.inbox_specs import MAX_QUANTITY as MAX_QUANTITY
from utils.inbox_specs import MAX_TEXT as MAX_TEXT
from utils.inbox_specs import TICKER_PATTERN as TICKER_PATTERN
from utils.inbox_specs import InboxFormatError as InboxFormatError
from utils.inbox_specs import OrderSpec as OrderSpec
from utils.inbox_specs import RollSpec as RollSpec
from utils.inbox_specs import check_text, one_of, require
from utils.json_fields import has_forbidden_characters
from utils.object_store_schema import KEY_ROOT, is_valid_key

SCHEMA_VERSION = 1
REQUEST_KIND, OUTCOME_KIND = "options_bot_inbox_request", "options_bot_inbox_outcome"
INBOX_PREFIX, OUTBOX_PREFIX = f"{KEY_ROOT}/inbox/", f"{KEY_ROOT}/outbox/"
INBOX_TMP_PREFIX = f"{KEY_ROOT}/inbox_tmp/"  # temporary files: never parsed as requests

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_INBOX_KEY = re.compile(r"^" + re.escape(INBOX_PREFIX) + r"([A-Za-z0-9_-]{1,64})\.json$")
_OUTBOX_KEY = re.compile(r"^" + re.escape(OUTBOX_PREFIX) + r"([A-Za-z0-9_-]{1,64})\.json$")

# The same requests as LEAN live commands (``add_command``): the algorithm defines a command class of
# this name with one string attribute, LEAN_COMMAND_FIELD, and parses it with ``read_request``.
LEAN_COMMAND_TYPE, LEAN_COMMAND_FIELD = "OptionsBotInboxCommand", "request_json"


class InboxAction(StrEnum):
    SUBMIT = "submit"
    CANCEL = "cancel"
    HALT = "halt"
    RESUME = "resume"
    ROLL = "roll"  # one combo order: close a held position, open the same side later (RollSpec)


class OutcomeStatus(StrEnum):
    PROCESSING = "processing"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    DONE = "done"
    UNREADABLE = "unreadable"  # quarantined: the request file cannot be parsed; never acted on


ACTOR_TYPES = ("human", "ai_agent", "system")


def _checked_id(request_id: str) -> str:
    if not isinstance(request_id, str) or not REQUEST_ID_PATTERN.match(request_id):
        raise InboxFormatError(f"request_id must match {REQUEST_ID_PATTERN.pattern}, got {request_id!r:.80}")
    return request_id


def _key(prefix: str, request_id: str) -> str:
    key = f"{prefix}{_checked_id(request_id)}.json"
    if not is_valid_key(key):
        raise InboxFormatError(f"not a valid LEAN Object Store key: {key!r}")
    return key


def inbox_key(request_id: str) -> str:
    return _key(INBOX_PREFIX, request_id)


def outcome_key(request_id: str) -> str:
    return _key(OUTBOX_PREFIX, request_id)


def _match(pattern: re.Pattern[str], key: object) -> str | None:
    match = pattern.match(str(key).replace("\\", "/").lstrip("/"))
    return match.group(1) if match else None


def parse_inbox_key(key: object) -> str | None:
    """The request id of an inbox key, None for any other key."""
    return _match(_INBOX_KEY, key)


def parse_outcome_key(key: object) -> str | None:
    return _match(_OUTBOX_KEY, key)


def pending_request_keys(keys: Iterable[object]) -> list[str]:
    """Inbox keys whose request has no outcome in the outbox yet, sorted by key."""
    requests: dict[str, str] = {}
    answered: set[str] = set()
    for key in keys:
        request_id = parse_inbox_key(key)
        if request_id is not None:
            requests[request_id] = inbox_key(request_id)
            continue
        answered_id = parse_outcome_key(key)
        if answered_id is not None:
            answered.add(answered_id)
    return sorted(k for rid, k in requests.items() if rid not in answered)


def derive_request_id(idempotency_key: str, server_made: bool = False) -> str:
    """The request id for an idempotency key: the same key always names the same inbox file. Keys
    the sidecar makes itself (``server_made``) live in their own namespace: no client key can name them."""
    if not isinstance(idempotency_key, str) or not IDEMPOTENCY_KEY_PATTERN.match(idempotency_key):
        raise InboxFormatError(f"idempotency_key must match {IDEMPOTENCY_KEY_PATTERN.pattern}")
    namespace = b"server\x00" if server_made else b""  # a client key never holds a NUL byte
    return "req_" + hashlib.sha256(namespace + idempotency_key.encode("utf-8")).hexdigest()[:40]


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise InboxFormatError("datetimes in the inbox must be time-zone aware (UTC)")
    return moment.astimezone(UTC).isoformat()


def _parse_time(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise InboxFormatError(f"{where}: expected an ISO datetime string")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InboxFormatError(f"{where}: not an ISO datetime: {value!r}") from None
    if moment.tzinfo is None:
        raise InboxFormatError(f"{where}: datetime without a time zone: {value!r}")
    return moment.astimezone(UTC)


def _enum(kind: type[StrEnum], value: str, where: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise InboxFormatError(f"{where}: unknown {kind.__name__} {value!r}") from None


@dataclass(frozen=True)
class InboxRequest:
    """One request from a person or an agent. Immutable once it is in the inbox."""

    request_id: str
    idempotency_key: str
    submitted_at: datetime  # UTC wall clock of the sidecar
    actor: str
    actor_type: str  # human | ai_agent | system
    action: InboxAction
    order: OrderSpec | None = None  # submit
    target_request_id: str | None = None  # cancel
    reason: str | None = None  # halt / resume (optional for cancel)
    schema_version: int = SCHEMA_VERSION
    roll: RollSpec | None = None  # roll

    def __post_init__(self) -> None:
        _checked_id(self.request_id)
        if not IDEMPOTENCY_KEY_PATTERN.match(self.idempotency_key):
            raise InboxFormatError(f"idempotency_key must match {IDEMPOTENCY_KEY_PATTERN.pattern}")
        if self.submitted_at.tzinfo is None:
            raise InboxFormatError("submitted_at must be time-zone aware (UTC)")
        one_of(self.actor_type, ACTOR_TYPES, "actor_type")
        if not self.actor.strip() or len(self.actor) > 128 or has_forbidden_characters(self.actor):
            raise InboxFormatError("actor: must be 1..128 characters, no control characters")
        action = _enum(InboxAction, self.action, "action")
        if (action is InboxAction.SUBMIT) != (self.order is not None):
            raise InboxFormatError("order: required for submit and only for submit")
        if (action is InboxAction.CANCEL) != (self.target_request_id is not None):
            raise InboxFormatError("target_request_id: required for cancel and only for cancel")
        if self.target_request_id is not None:
            _checked_id(self.target_request_id)
        check_text(self.reason, "reason", required=action in (InboxAction.HALT, InboxAction.RESUME))
        if (action is InboxAction.ROLL) != (self.roll is not None):
            raise InboxFormatError("roll: required for roll and only for roll")
        if self.order is not None and self.actor_type == "ai_agent" and self.order.confidence is None:
            raise InboxFormatError("order.confidence: required when an AI agent submits")
        if self.roll is not None and self.actor_type == "ai_agent" and self.roll.confidence is None:
            raise InboxFormatError("roll.confidence: required when an AI agent asks for a roll")

    def to_dict(self) -> dict[str, Any]:
        doc = {"schema_version": self.schema_version, "kind": REQUEST_KIND, "request_id": self.request_id,
               "idempotency_key": self.idempotency_key, "submitted_at": _iso(self.submitted_at),
               "actor": self.actor, "actor_type": self.actor_type, "action": self.action.value,
               "order": self.order.to_dict() if self.order else None,
               "target_request_id": self.target_request_id, "reason": self.reason}
        if self.roll is not None:  # only then: the other kinds' documents are as they always were
            doc["roll"] = self.roll.to_dict()
        return doc

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)

    def payload(self) -> dict[str, Any]:
        """What the client asked for (no id, no time): equal payloads are the same request."""
        skip = ("request_id", "submitted_at", "schema_version", "kind")
        return {k: v for k, v in self.to_dict().items() if k not in skip}


@dataclass(frozen=True)
class InboxOutcome:
    """The algorithm's answer to one request (algorithm time)."""

    request_id: str
    status: OutcomeStatus
    processed_at: datetime
    reasons: tuple[str, ...] = ()
    order_ids: tuple[int, ...] = ()
    schema_version: int = SCHEMA_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _checked_id(self.request_id)
        OutcomeStatus(self.status)
        if self.processed_at.tzinfo is None:
            raise InboxFormatError("processed_at must be time-zone aware (UTC algorithm time)")

    def to_json(self) -> str:
        return json.dumps({"schema_version": self.schema_version, "kind": OUTCOME_KIND,
                           "request_id": self.request_id, "status": OutcomeStatus(self.status).value,
                           "processed_at": _iso(self.processed_at), "reasons": list(self.reasons),
                           "order_ids": list(self.order_ids), "extra": self.extra},
                          separators=(",", ":"), allow_nan=False)


def _load(text: str | bytes, kind: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:  # torn, not UTF-8, nested too deep, an integer too long
        raise InboxFormatError(f"{kind}: not valid JSON (torn or malformed): {type(exc).__name__}: "
                               f"{str(exc)[:200]}") from None
    if not isinstance(doc, dict):
        raise InboxFormatError(f"{kind}: expected a JSON object")
    version = require(doc, "schema_version", int, kind)
    if version != SCHEMA_VERSION:
        raise InboxFormatError(f"{kind}: schema_version {version} is not supported (reader knows {SCHEMA_VERSION})")
    if doc.get("kind") != kind:
        raise InboxFormatError(f"{kind}: 'kind' must be {kind!r}")
    return doc


def read_request(text: str | bytes) -> InboxRequest:
    """Parse an inbox request; ``InboxFormatError`` for anything that is not a whole, valid one."""
    doc = _load(text, REQUEST_KIND)
    action = _enum(InboxAction, require(doc, "action", str, "request"), "request.action")
    order_raw = doc.get("order")
    try:
        return InboxRequest(
            request_id=require(doc, "request_id", str, "request"),
            idempotency_key=require(doc, "idempotency_key", str, "request"),
            submitted_at=_parse_time(doc.get("submitted_at"), "request.submitted_at"),
            actor=require(doc, "actor", str, "request"), actor_type=require(doc, "actor_type", str, "request"),
            action=action, order=None if order_raw is None else OrderSpec.from_dict(order_raw),
            target_request_id=require(doc, "target_request_id", (str, type(None)), "request"),
            reason=require(doc, "reason", (str, type(None)), "request"),
            roll=None if doc.get("roll") is None else RollSpec.from_dict(doc["roll"]))
    except (TypeError, AttributeError) as exc:
        raise InboxFormatError(f"request: malformed: {exc}") from None


def read_outcome(text: str | bytes) -> InboxOutcome:
    doc = _load(text, OUTCOME_KIND)
    status = _enum(OutcomeStatus, require(doc, "status", str, "outcome"), "outcome.status")
    reasons, order_ids = require(doc, "reasons", list, "outcome"), require(doc, "order_ids", list, "outcome")
    extra = require(doc, "extra", dict, "outcome") if "extra" in doc else {}
    if not all(isinstance(r, str) for r in reasons) or not all(
            isinstance(o, int) and not isinstance(o, bool) for o in order_ids):
        raise InboxFormatError("outcome: reasons must be strings and order_ids integers (LEAN order ids)")
    return InboxOutcome(request_id=require(doc, "request_id", str, "outcome"), status=status,
                        processed_at=_parse_time(doc.get("processed_at"), "outcome.processed_at"),
                        reasons=tuple(reasons), order_ids=tuple(order_ids), extra=extra)


def to_lean_command(request: InboxRequest) -> dict[str, str]:
    """The LEAN command payload (``{"$type": ..., "request_json": ...}``) carrying ``request``."""
    return {"$type": LEAN_COMMAND_TYPE, LEAN_COMMAND_FIELD: request.to_json()}


def order_for_processing(requests: Iterable[InboxRequest]) -> list[InboxRequest]:
    """The order in which the algorithm should act on pending requests: halt and resume first (a HALT
    is never queued behind orders), then by submission time."""
    controls = (InboxAction.HALT, InboxAction.RESUME)
    return sorted(requests, key=lambda r: (r.action not in controls, r.submitted_at, r.request_id))


def write_request_atomically(storage_root: str | Path, request: InboxRequest) -> bool:
    """Publish ``request`` under its inbox key, durably (fsync'd), whole, at most once. True when this
    call published it; False when the id was already in the inbox (that request is kept untouched)."""
    root = Path(storage_root)
    final = root / inbox_key(request.request_id)
    for folder in (final.parent, root / INBOX_TMP_PREFIX):
        folder.mkdir(parents=True, exist_ok=True)
    if final.exists():
        return False
    tmp, data = root / INBOX_TMP_PREFIX / f"{request.request_id}_{secrets.token_hex(8)}.tmp", request.to_json().encode()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, final)  # atomic and never replaces an existing request
        except FileExistsError:
            return False
        folder = os.open(final.parent, os.O_RDONLY)  # make the new directory entry durable too
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
        return True
    finally:
        tmp.unlink(missing_ok=True)
