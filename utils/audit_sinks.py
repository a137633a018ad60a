"""Where audit entries are stored.

``ObjectStoreAuditSink`` (the algorithm): LEAN's Object Store has no append and ``save`` replaces
a whole value, so a day is split into numbered chunks
(``options_bot/audit/<YYYY-MM-DD>/chunk_<NNNNNN>.jsonl``, keys from utils/object_store_schema.py).
Entries are buffered; a flush rewrites only the open chunk, which holds at most
``chunk_entries`` lines, so the cost of an append does not grow with the day. A full chunk is
sealed and never written again. A failed save keeps the buffer for the next flush.

``FileAuditSink`` (the sidecar): ``logs/audit/audit_YYYY-MM-DD.jsonl``, append-only, one line per
entry, thread-safe.
"""

from __future__ import annotations

import threading
from datetime import UTC, date
from pathlib import Path
from typing import Protocol

from models.audit import AuditEntry
from models.exceptions import AuditWriteError
from utils.error_handling import retry
from utils.logging_config import get_logger
from utils.object_store_schema import audit_chunk_key, audit_day_prefix, parse_audit_chunk_key, store_keys

logger = get_logger(__name__)

DEFAULT_CHUNK_ENTRIES = 500
AUDIT_FILE_PREFIX = "audit_"


class TextObjectStore(Protocol):
    """The part of LEAN's ``ObjectStore`` the audit sink and reader use."""

    def save(self, path: str, text: str) -> bool: ...

    def read(self, path: str) -> str: ...

    def contains_key(self, path: str) -> bool: ...

    @property
    def keys(self) -> object: ...


def audit_day(entry: AuditEntry) -> date:
    return entry.timestamp.astimezone(UTC).date()


class ObjectStoreAuditSink:
    def __init__(self, store: TextObjectStore, chunk_entries: int = DEFAULT_CHUNK_ENTRIES) -> None:
        if chunk_entries < 1:
            raise ValueError(f"chunk_entries must be >= 1, got {chunk_entries}")
        self._store = store
        self._chunk_entries = chunk_entries
        self._day: date | None = None
        self._sequence = 0
        self._lines: list[str] = []  # the open chunk: already saved lines + buffered ones
        self._dirty = False
        self.saves = 0

    @property
    def buffered(self) -> bool:
        return self._dirty

    def write(self, entry: AuditEntry) -> None:
        day = audit_day(entry)
        if day != self._day:
            if self._dirty:
                self.flush()
            self._day, self._sequence, self._lines = day, self._next_sequence(day), []
        self._lines.append(entry.to_json())
        self._dirty = True
        if len(self._lines) >= self._chunk_entries:
            self.flush()

    def flush(self) -> None:
        """Save the open chunk. Raises ``AuditWriteError`` (buffer kept) when the store refuses."""
        if not self._dirty or self._day is None:
            return
        key = audit_chunk_key(self._day, self._sequence)
        text = "\n".join(self._lines) + "\n"
        try:
            saved = self._save(key, text)
        except Exception as exc:
            raise AuditWriteError(f"audit chunk {key} not saved: {exc}") from exc
        if not saved:
            raise AuditWriteError(f"audit chunk {key} not saved: the Object Store returned False")
        self.saves += 1
        self._dirty = False
        if len(self._lines) >= self._chunk_entries:
            self._sequence, self._lines = self._sequence + 1, []

    @retry(max_attempts=3, delay=0.01, max_delay=0.05)
    def _save(self, key: str, text: str) -> bool:
        return bool(self._store.save(key, text))

    def _next_sequence(self, day: date) -> int:
        """After a restart, continue after the chunks already stored for ``day``."""
        prefix = audit_day_prefix(day)
        sequences = []
        for key in store_keys(self._store):
            if not key.startswith(prefix):
                continue
            parsed = parse_audit_chunk_key(key)
            if parsed is not None:
                sequences.append(parsed[1])
        return max(sequences) + 1 if sequences else 1


def audit_file_name(day: date) -> str:
    return f"{AUDIT_FILE_PREFIX}{day.isoformat()}.jsonl"


class FileAuditSink:
    """Append-only JSON Lines files, one per UTC day: ``<audit_dir>/audit_YYYY-MM-DD.jsonl``."""

    def __init__(self, audit_dir: str | Path = "logs/audit") -> None:
        self.audit_dir = Path(audit_dir)
        self.audit_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def write(self, entry: AuditEntry) -> None:
        path = self.audit_dir / audit_file_name(audit_day(entry))
        line = entry.to_json() + "\n"
        with self._lock:
            try:
                with path.open("a", encoding="utf-8") as handle:
                    handle.write(line)
            except OSError as exc:
                raise AuditWriteError(f"audit file {path} not written: {exc}") from exc

    def flush(self) -> None:
        return None  # every write is already on disk (the file is closed after each line)
