"""The sidecar's side of the order inbox: durable enqueue with idempotency, and read-back.

``enqueue`` publishes the request with ``write_request_atomically`` (fsync'd file, hard-link
publish that never replaces) before the API answers 202. The request id is derived from the
idempotency key, so the inbox file *is* the idempotency record: it survives a crash or a kill -9
of the sidecar, and a repeated key finds the first request (a different payload under the same key
is a conflict, never a second order).

Blocking file I/O: call ``enqueue`` from a worker thread (the API does, via anyio).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from utils.logging_config import get_logger
from utils.order_inbox import (
    INBOX_PREFIX,
    INBOX_TMP_PREFIX,
    InboxFormatError,
    InboxOutcome,
    InboxRequest,
    inbox_key,
    outcome_key,
    parse_inbox_key,
    read_outcome,
    read_request,
    write_request_atomically,
)

logger = get_logger(__name__)


class IdempotencyConflict(Exception):
    """The idempotency key was used before for a different request."""

    def __init__(self, existing: InboxRequest) -> None:
        super().__init__(f"idempotency key already used for a different request ({existing.request_id})")
        self.existing = existing


@dataclass(frozen=True)
class EnqueueResult:
    request: InboxRequest
    created: bool  # False: the idempotency key was seen before; ``request`` is the first one


class OrderQueue:
    def __init__(self, storage_root: str | Path, max_cached: int = 10_000) -> None:
        self.storage_root = Path(storage_root)
        self._cache: OrderedDict[str, InboxRequest] = OrderedDict()
        self._max_cached = max_cached
        self._lock = threading.Lock()

    # -- writing ------------------------------------------------------------------------------
    def enqueue(self, request: InboxRequest, strict_payload: bool = True) -> EnqueueResult:
        created = write_request_atomically(self.storage_root, request)
        if created:
            self._remember(request)
            logger.info("INBOX_REQUEST_WRITTEN", extra={"request_id": request.request_id,
                                                        "action": request.action.value, "actor": request.actor})
            return EnqueueResult(request, True)
        existing = self.get_request(request.request_id)
        if existing is None:
            raise InboxFormatError(f"inbox request {request.request_id} exists but cannot be read")
        if strict_payload and existing.payload() != request.payload():
            raise IdempotencyConflict(existing)
        logger.info("INBOX_REQUEST_REPLAYED", extra={"request_id": request.request_id,
                                                     "action": existing.action.value})
        return EnqueueResult(existing, False)

    def remove_stale_temporaries(self, max_age_seconds: float = 300.0) -> int:
        """Delete temp files left by a writer that died between write and publish (e.g. kill -9)."""
        folder = self.storage_root / INBOX_TMP_PREFIX
        if not folder.is_dir():
            return 0
        cutoff, removed = time.time() - max_age_seconds, 0
        for path in folder.glob("*.tmp"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                logger.debug("INBOX_TEMP_ALREADY_GONE", extra={"path": str(path)})
        if removed:
            logger.warning("INBOX_STALE_TEMPORARIES_REMOVED", extra={"count": removed, "folder": str(folder)})
        return removed

    def _remember(self, request: InboxRequest) -> None:
        with self._lock:
            self._cache[request.request_id] = request
            while len(self._cache) > self._max_cached:
                self._cache.popitem(last=False)

    # -- reading ------------------------------------------------------------------------------
    def get_request(self, request_id: str) -> InboxRequest | None:
        with self._lock:
            cached = self._cache.get(request_id)
        if cached is not None:
            return cached
        path = self.storage_root / inbox_key(request_id)
        try:
            request = read_request(path.read_bytes())
        except FileNotFoundError:
            return None
        except InboxFormatError as exc:
            logger.error("INBOX_REQUEST_UNREADABLE", extra={"request_id": request_id, "error": str(exc)})
            return None
        self._remember(request)
        return request

    def get_outcome(self, request_id: str) -> tuple[InboxOutcome | None, str | None]:
        """(outcome, None), (None, None) when not answered yet, (None, error) when torn/malformed."""
        path = self.storage_root / outcome_key(request_id)
        try:
            return read_outcome(path.read_bytes()), None
        except FileNotFoundError:
            return None, None
        except InboxFormatError as exc:
            logger.warning("INBOX_OUTCOME_UNREADABLE", extra={"request_id": request_id, "error": str(exc)})
            return None, str(exc)

    def record(self, request_id: str) -> dict[str, Any] | None:
        request = self.get_request(request_id)
        if request is None:
            return None
        outcome, error = self.get_outcome(request_id)
        if outcome is not None:
            state = outcome.status.value
            outcome_doc: dict[str, Any] | None = {
                "status": state, "reasons": list(outcome.reasons), "order_ids": list(outcome.order_ids),
                "processed_at": outcome.processed_at.isoformat(), "extra": outcome.extra}
        else:
            state, outcome_doc = ("unreadable" if error else "queued"), None
        return {"request_id": request_id, "state": state, "request": request.to_dict(),
                "outcome": outcome_doc, "outcome_error": error}

    def request_ids(self) -> list[str]:
        folder = self.storage_root / INBOX_PREFIX
        if not folder.is_dir():
            return []
        ids = []
        for path in folder.iterdir():
            request_id = parse_inbox_key(f"{INBOX_PREFIX}{path.name}")
            if request_id is not None:
                ids.append(request_id)
        return ids

    def page(self, offset: int, limit: int, action: str | None = None) -> tuple[int, list[dict[str, Any]]]:
        """Newest first."""
        requests = [r for r in (self.get_request(i) for i in self.request_ids()) if r is not None]
        if action is not None:
            requests = [r for r in requests if r.action.value == action]
        requests.sort(key=lambda r: (r.submitted_at, r.request_id), reverse=True)
        items = [self.record(r.request_id) for r in requests[offset:offset + limit]]
        return len(requests), [item for item in items if item is not None]
