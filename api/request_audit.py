"""Each acknowledged request's sidecar audit entry (ORDER_SUBMIT, ORDER_CANCEL, MANUAL_INTERVENTION),
written exactly once: by the call that stored the request, or by a replay of its idempotency key when
that call stored it but could not audit it (killed, or the audit folder refused the write).

``ensure`` is blocking (it may look the entry up in the audit index): call it from a worker thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from models.audit import AuditAction
from services.audit_index import SIDECAR, AuditIndex

MAX_REMEMBERED = 100_000


class RequestAudit:
    def __init__(self, index: AuditIndex) -> None:
        self._index = index
        self._lock = threading.Lock()
        self._written: set[tuple[str, str]] = set()

    def ensure(self, correlation_id: str, action: AuditAction, write: Callable[[], object],
               new_request: bool = False) -> bool:
        """Call ``write`` unless the sidecar trail already holds ``action`` for ``correlation_id``
        (not looked up for a ``new_request``, just stored by this call: it cannot have one, and a write
        must not wait for the audit index). True when it wrote; ``write``'s error (``AuditWriteError``)
        propagates and nothing is marked."""
        marker = (correlation_id, action.value)
        with self._lock:
            if marker in self._written:
                return False
            if not new_request and self._index.has_entry(correlation_id, action.value, SIDECAR):
                self._written.add(marker)
                return False
            write()
            if len(self._written) >= MAX_REMEMBERED:
                self._written.clear()  # bounded memory: later checks fall back to the index (a dict lookup)
            self._written.add(marker)
        return True
