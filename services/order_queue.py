"""The sidecar's side of the order inbox: durable enqueue with idempotency, and read-back.

``enqueue`` publishes the request with ``write_request_atomically`` (fsync'd file, hard-link
publish that never replaces) before the API answers 202. The request id is derived from the
idempotency key, so the inbox file *is* the idempotency record: it survives a crash or a kill -9
of the sidecar, and a repeated key finds the first request (a different payload under the same key
is a conflict, never a second order). ``load`` tells a missing request from an unreadable one (torn,
malformed, a directory, another request's content), which ``record`` shows as ``unreadable``; the
order list pages from services/order_index.py.

Blocking file I/O: call ``enqueue`` from a worker thread (the API does, via anyio).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.order_index import OrderIndex
from utils.logging_config import get_logger
from utils.order_inbox import (
    INBOX_PREFIX,
    INBOX_TMP_PREFIX,
    InboxFormatError,
    InboxOutcome,
    InboxRequest,
    inbox_key,
    outcome_key,
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


class RequestUnreadable(Exception):
    """The request id is in the inbox, but its file cannot be read (torn, malformed, not a file): it is
    quarantined, and its idempotency key cannot be used again."""

    def __init__(self, request_id: str, error: str) -> None:
        super().__init__(f"inbox request {request_id} is unreadable ({error}); it is quarantined: use a new "
                         "idempotency key")
        self.request_id = request_id
        self.error = error


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
        self.index = OrderIndex(self.storage_root / INBOX_PREFIX, INBOX_PREFIX, self.load)

    # -- writing ------------------------------------------------------------------------------
    def enqueue(self, request: InboxRequest, strict_payload: bool = True) -> EnqueueResult:
        created = write_request_atomically(self.storage_root, request)
        if created:
            self._remember(request)
            self.index.add(request)
            logger.info("INBOX_REQUEST_WRITTEN", extra={"request_id": request.request_id,
                                                        "action": request.action.value, "actor": request.actor})
            return EnqueueResult(request, True)
        existing, error = self.load(request.request_id)
        if existing is None:
            raise RequestUnreadable(request.request_id, error or "vanished after it was written")
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
        """The request, or None when it is not in the inbox or cannot be read."""
        return self.load(request_id)[0]

    def load(self, request_id: str) -> tuple[InboxRequest | None, str | None]:
        """(request, None); (None, None) when not in the inbox; (None, why) when the file cannot be read
        (torn, malformed, nested too deep, not UTF-8, a directory, or another request's content).
        A storage fault other than these (EIO, EACCES) raises ``OSError``."""
        with self._lock:
            cached = self._cache.get(request_id)
        if cached is not None:
            return cached, None
        path = self.storage_root / inbox_key(request_id)
        try:
            request = read_request(path.read_bytes())
        except FileNotFoundError:
            return None, None
        except (IsADirectoryError, InboxFormatError) as exc:
            logger.error("INBOX_REQUEST_UNREADABLE", extra={"request_id": request_id, "error": str(exc)[:300]})
            return None, str(exc)[:300]
        if request.request_id != request_id:
            logger.error("INBOX_REQUEST_MISFILED", extra={"request_id": request_id, "holds": request.request_id})
            return None, f"the file holds request {request.request_id}"
        self._remember(request)
        return request, None

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
        request, request_error = self.load(request_id)
        if request is None and request_error is None:
            return None
        outcome, error = self.get_outcome(request_id)
        if outcome is not None:
            state = outcome.status.value
            outcome_doc: dict[str, Any] | None = {
                "status": state, "reasons": list(outcome.reasons), "order_ids": list(outcome.order_ids),
                "processed_at": outcome.processed_at.isoformat(), "extra": outcome.extra}
        else:
            state, outcome_doc = ("unreadable" if error or request_error else "queued"), None
        if request_error is not None:
            state = "unreadable"  # whatever the outcome says: the request itself cannot be read
        return {"request_id": request_id, "state": state, "request": request.to_dict() if request else None,
                "outcome": outcome_doc, "outcome_error": error, "request_error": request_error}

    def page(self, offset: int, limit: int, action: str | None = None) -> tuple[int, list[dict[str, Any]]]:
        """Newest first, from the index (services/order_index.py): reads only the page's files."""
        total, ids = self.index.page(offset, limit, action)
        items = [self.record(request_id) for request_id in ids]
        return total, [item for item in items if item is not None]
