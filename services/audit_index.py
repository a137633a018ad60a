"""The audit trail as the sidecar serves it: the algorithm's Object Store chunks plus the
sidecar's own JSON Lines files, indexed incrementally (services/audit_tail.py reads only what was
appended since the last poll) and queried without a scan.

The index keeps, per line, a sort key (timestamp in microseconds and arrival number) in sorted lists
per (source, action) and per correlation id, and where the line is (file, offset, length); a query
bisects the time range in the chosen list and reads back only its page. ``poll_new`` returns the
entries that appeared since the previous poll (for the WebSocket push); its first call takes stock.
"""

from __future__ import annotations

import bisect
import json
import sys
import threading
from array import array
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from models.audit import AuditEntry
from services.audit_tail import ALGORITHM, SIDECAR, AuditTail, TailedFile
from utils.logging_config import get_logger

logger = get_logger(__name__)

__all__ = ["ALGORITHM", "SIDECAR", "AuditIndex", "AuditPage", "SourcedEntry"]

_DECODER = json.JSONDecoder()
_EPOCH, _MICROSECOND = datetime(1970, 1, 1, tzinfo=UTC), timedelta(microseconds=1)
_SEQ = 10**10  # key = timestamp_us * _SEQ + arrival number: time order, then arrival order
ANY = "*"


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


def _micros(moment: datetime) -> int:
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return (moment - _EPOCH) // _MICROSECOND


class AuditIndex:
    def __init__(self, storage_root: str | Path, audit_dir: str | Path) -> None:
        self._tail = AuditTail(storage_root, audit_dir)
        self._file = array("l")  # per arrival number: file number, byte offset, length
        self._offset = array("q")
        self._length = array("l")
        self._micros = array("q")  # per arrival number: timestamp (µs since the epoch) and action
        self._action: list[str] = []
        self._pushed = 0  # arrival numbers below this were pushed (or taken stock of) by poll_new
        self._lists: dict[tuple[str, str], list[int]] = {}
        self._by_correlation: dict[str, list[int]] = {}
        self._primed = False
        self._lock = threading.Lock()

    # -- ingest -----------------------------------------------------------------------------------
    def _ingest(self) -> None:
        removed = self._tail.poll(self._add)
        if removed:
            self._forget({f.number for f in removed})

    def _add(self, tailed: TailedFile, offset: int, text: bytes) -> None:
        try:
            raw = _DECODER.decode(text.decode("utf-8"))
            micros = _micros(datetime.fromisoformat(raw["timestamp"]))
            action, correlation = sys.intern(str(raw["action"])), raw.get("correlation_id")
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            logger.error("AUDIT_CORRUPT_LINE_SKIPPED", extra={"where": f"{tailed.path}@{offset}",
                                                              "error": str(exc)[:200]})
            return
        arrival = len(self._file)
        self._file.append(tailed.number)
        self._offset.append(offset)
        self._length.append(len(text))
        self._micros.append(micros)
        self._action.append(action)
        key = micros * _SEQ + arrival
        origin = tailed.origin
        for name in ((ANY, ANY), (origin, ANY), (ANY, action), (origin, action)):
            entries = self._lists.setdefault(name, [])
            if not entries or entries[-1] < key:
                entries.append(key)
            else:
                bisect.insort(entries, key)
        if isinstance(correlation, str):
            bisect.insort(self._by_correlation.setdefault(correlation, []), key)

    def _forget(self, numbers: set[int]) -> None:
        """Files removed by retention: drop their lines (rare; one pass over the index)."""
        def kept(keys: list[int]) -> list[int]:
            return [k for k in keys if self._file[k % _SEQ] not in numbers]
        self._lists = {name: kept(keys) for name, keys in self._lists.items()}
        self._by_correlation = {c: ks for c, keys in self._by_correlation.items() if (ks := kept(keys))}
        logger.info("AUDIT_INDEX_FILES_DROPPED", extra={"files": len(numbers)})

    # -- reading back ---------------------------------------------------------------------------
    def _read(self, keys: list[int]) -> list[SourcedEntry]:
        """The entries behind ``keys``, read back from their files (one open per file)."""
        items: list[SourcedEntry] = []
        handles: dict[int, BinaryIO | None] = {}
        try:
            for key in keys:
                arrival = key % _SEQ
                tailed: TailedFile = self._tail.files[self._file[arrival]]
                if tailed.number not in handles:
                    handles[tailed.number] = self._open(tailed.path)
                handle = handles[tailed.number]
                if handle is None:
                    continue
                handle.seek(self._offset[arrival])
                text = handle.read(self._length[arrival])
                try:
                    items.append(SourcedEntry(tailed.origin, AuditEntry.from_json(text.decode("utf-8"))))
                except (ValueError, RecursionError) as exc:  # rewritten since it was indexed (a torn save)
                    logger.warning("AUDIT_LINE_CHANGED", extra={"path": str(tailed.path), "error": str(exc)[:200]})
        finally:
            for handle in handles.values():
                if handle is not None:
                    handle.close()
        return items

    @staticmethod
    def _open(path: Path) -> BinaryIO | None:
        try:
            return path.open("rb")
        except OSError as exc:  # removed by retention since the last poll
            logger.warning("AUDIT_FILE_READ_FAILED", extra={"path": str(path), "error": str(exc)})
            return None

    # -- queries --------------------------------------------------------------------------------
    def query(self, *, start: datetime | None = None, end: datetime | None = None, action: str | None = None,
              correlation_id: str | None = None, source: str | None = None, offset: int = 0,
              limit: int = 100) -> AuditPage:
        """Entries in time order (algorithm and sidecar trails merged), filtered, one page."""
        with self._lock:
            self._ingest()
            if correlation_id is not None:
                keys = [k for k in self._by_correlation.get(correlation_id, ())
                        if self._matches(k, action, source)]
            else:
                keys = self._lists.get((source or ANY, action or ANY), [])
            low = 0 if start is None else bisect.bisect_left(keys, _micros(start) * _SEQ)
            high = len(keys) if end is None else bisect.bisect_right(keys, (_micros(end) + 1) * _SEQ - 1)
            page = keys[low + offset:min(low + offset + limit, high)] if low + offset < high else []
            return AuditPage(total=max(high - low, 0), offset=offset, limit=limit, items=self._read(page))

    def _matches(self, key: int, action: str | None, source: str | None) -> bool:
        arrival = key % _SEQ
        if action is not None and self._action[arrival] != action:
            return False
        return source is None or self._tail.files[self._file[arrival]].origin == source

    def has_entry(self, correlation_id: str, action: str, source: str) -> bool:
        return self.query(correlation_id=correlation_id, action=action, source=source, limit=1).total > 0

    def prime(self) -> None:
        """Take stock of what is already there (``poll_new`` pushes only what comes after)."""
        with self._lock:
            self._prime_locked()

    def _prime_locked(self) -> bool:
        if self._primed:
            return False
        self._ingest()
        self._pushed, self._primed = len(self._file), True
        return True

    def poll_new(self) -> list[SourcedEntry]:
        """Entries written since the previous call; the first call returns none (takes stock)."""
        with self._lock:
            if self._prime_locked():
                return []
            self._ingest()
            first, self._pushed = self._pushed, len(self._file)
            return self._read(sorted(self._micros[a] * _SEQ + a for a in range(first, self._pushed)))
