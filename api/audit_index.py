"""The audit trail as the sidecar serves it: the algorithm's Object Store chunks plus the
sidecar's own JSON Lines files, parsed once per file version and filtered per query.

- ``query`` filters by time range, action, correlation id and source, and pages the result.
- ``poll_new`` returns entries that appeared since the last poll (for the WebSocket push); its
  first call only takes stock of what is already there.
Parsing reuses utils/audit_reader.AuditTrail (a torn last line is skipped, not fatal).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from models.audit import AuditEntry
from utils.audit_reader import AuditTrail, audit_files
from utils.logging_config import get_logger
from utils.object_store_schema import AUDIT_PREFIX, parse_audit_chunk_key

logger = get_logger(__name__)

ALGORITHM = "algorithm"
SIDECAR = "sidecar"


@dataclass(frozen=True)
class SourcedEntry:
    source: str
    entry: AuditEntry

    def to_dict(self) -> dict[str, object]:
        return {"source": self.source, **self.entry.to_dict()}


@dataclass(frozen=True)
class AuditPage:
    total: int
    offset: int
    limit: int
    items: list[SourcedEntry]


class AuditIndex:
    def __init__(self, storage_root: str | Path, audit_dir: str | Path, max_cached_files: int = 512) -> None:
        self._storage_root = Path(storage_root)
        self._audit_dir = Path(audit_dir)
        self._max_cached = max_cached_files
        self._cache: OrderedDict[Path, tuple[tuple[int, int], tuple[AuditEntry, ...]]] = OrderedDict()
        self._seen: dict[Path, tuple[tuple[int, int], frozenset[str]]] | None = None
        self._lock = threading.Lock()

    # -- files --------------------------------------------------------------------------------
    def _files(self, start: date | None = None, end: date | None = None) -> Iterator[tuple[date, str, Path]]:
        chunks = []
        audit_root = self._storage_root / AUDIT_PREFIX
        if audit_root.is_dir():
            for path in audit_root.glob("*/chunk_*.jsonl"):
                parsed = parse_audit_chunk_key(path.relative_to(self._storage_root).as_posix())
                if parsed is not None:
                    chunks.append((parsed, path))
        for (day, _), path in sorted(chunks):
            if (start is None or day >= start) and (end is None or day <= end):
                yield day, ALGORITHM, path
        for day, path in audit_files(self._audit_dir):
            if (start is None or day >= start) and (end is None or day <= end):
                yield day, SIDECAR, path

    @staticmethod
    def _signature(path: Path) -> tuple[int, int] | None:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def _entries(self, path: Path, signature: tuple[int, int]) -> tuple[AuditEntry, ...]:
        with self._lock:
            cached = self._cache.get(path)
            if cached is not None and cached[0] == signature:
                self._cache.move_to_end(path)
                return cached[1]
        trail = AuditTrail()
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            logger.error("AUDIT_FILE_READ_FAILED", extra={"path": str(path), "error": str(exc)})
            return ()
        trail.parse(text, str(path))
        entries = tuple(trail.entries)
        with self._lock:
            self._cache[path] = (signature, entries)
            self._cache.move_to_end(path)
            while len(self._cache) > self._max_cached:
                self._cache.popitem(last=False)
        return entries

    # -- queries ------------------------------------------------------------------------------
    def query(self, *, start: datetime | None = None, end: datetime | None = None, action: str | None = None,
              correlation_id: str | None = None, source: str | None = None, offset: int = 0,
              limit: int = 100) -> AuditPage:
        """Entries in time order (algorithm and sidecar trails merged), filtered, one page."""
        matches: list[SourcedEntry] = []
        for _, origin, path in self._files(start.date() if start else None, end.date() if end else None):
            if source is not None and origin != source:
                continue
            signature = self._signature(path)
            if signature is None:
                continue
            for entry in self._entries(path, signature):
                if start is not None and entry.timestamp < start:
                    continue
                if end is not None and entry.timestamp > end:
                    continue
                if action is not None and entry.action.value != action:
                    continue
                if correlation_id is not None and entry.correlation_id != correlation_id:
                    continue
                matches.append(SourcedEntry(origin, entry))
        matches.sort(key=lambda item: item.entry.timestamp)
        return AuditPage(total=len(matches), offset=offset, limit=limit, items=matches[offset:offset + limit])

    def has_entry(self, correlation_id: str, action: str, source: str) -> bool:
        return self.query(correlation_id=correlation_id, action=action, source=source, limit=1).total > 0

    def poll_new(self) -> list[SourcedEntry]:
        """Entries written since the previous call; the first call returns none (takes stock)."""
        priming = self._seen is None
        previous = self._seen or {}
        current: dict[Path, tuple[tuple[int, int], frozenset[str]]] = {}
        fresh: list[SourcedEntry] = []
        for _, origin, path in self._files():
            signature = self._signature(path)
            if signature is None:
                continue
            known = previous.get(path)
            if known is not None and known[0] == signature:
                current[path] = known
                continue
            entries = self._entries(path, signature)
            seen_ids = known[1] if known else frozenset()
            if not priming:
                fresh.extend(SourcedEntry(origin, e) for e in entries if e.id not in seen_ids)
            current[path] = (signature, frozenset(e.id for e in entries))
        self._seen = current
        fresh.sort(key=lambda item: item.entry.timestamp)
        return fresh
