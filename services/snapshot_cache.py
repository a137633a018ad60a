"""The last good state snapshot, read from LEAN's Object Store folder.

LEAN flushes the store about every 5 s with a non-atomic write, so the file can be stale, torn or
missing for a moment. ``SnapshotCache.current()`` re-reads the file only when its (mtime, size,
inode) changed, keeps serving the last snapshot that parsed, and says how old it is and why it is
not fresh. Nothing here raises on a bad file: the API never answers 5xx for one.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.exceptions import SnapshotFormatError
from utils.logging_config import get_logger
from utils.object_store_schema import STATE_KEY, StateSnapshot, parse_state_snapshot

logger = get_logger(__name__)

_DUMPS = json.JSONEncoder(separators=(",", ":"), allow_nan=False, default=str).encode


@dataclass
class SnapshotView:
    """One good snapshot (or none yet) with pre-serialised sections, built once per version."""

    snapshot: StateSnapshot | None
    document: dict[str, Any] | None
    version: int
    file_mtime: float | None  # wall-clock time of the file that parsed
    _sections: dict[str, bytes] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def section(self, name: str, build: Callable[[dict[str, Any]], Any], empty: bytes = b"null") -> bytes:
        """``build(document)`` serialised to JSON, memoised for this version (``empty`` if none)."""
        cached = self._sections.get(name)
        if cached is not None:
            return cached
        data = empty if self.document is None else _DUMPS(build(self.document)).encode("utf-8")
        with self._lock:
            self._sections[name] = data
        return data


@dataclass(frozen=True)
class SnapshotStatus:
    view: SnapshotView
    status: str  # fresh | stale | torn | missing | unreadable | none
    error: str | None
    age_seconds: float | None

    @property
    def available(self) -> bool:
        return self.view.snapshot is not None

    def meta(self) -> dict[str, Any]:
        snap = self.view.snapshot
        return {
            "available": snap is not None,
            "status": self.status,
            "age_seconds": None if self.age_seconds is None else round(self.age_seconds, 3),
            "algorithm_time": None if snap is None else snap.algorithm_time.isoformat(),
            "snapshot_version": self.view.version,
            "error": self.error,
        }

    def meta_json(self) -> bytes:
        return _DUMPS(self.meta()).encode("utf-8")


class SnapshotCache:
    def __init__(self, storage_root: str | Path, stale_after_seconds: float = 30.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = Path(storage_root) / STATE_KEY
        self._stale_after = stale_after_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._signature: tuple[int, int, int] | None = None
        self._view = SnapshotView(snapshot=None, document=None, version=0, file_mtime=None)
        self._problem: tuple[str, str | None] = ("none", "no snapshot has been read yet")

    def current(self) -> SnapshotStatus:
        """The last good snapshot, after re-reading the file if it changed."""
        with self._lock:
            self._refresh_locked()
            view, (problem, error) = self._view, self._problem
        age = None if view.file_mtime is None else max(0.0, self._clock() - view.file_mtime)
        status = problem
        if problem == "fresh" and age is not None and age > self._stale_after:
            status = "stale"
        return SnapshotStatus(view=view, status=status, error=error, age_seconds=age)

    def _refresh_locked(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            if self._signature is not None or self._problem[0] != "missing":
                logger.warning("SNAPSHOT_MISSING", extra={"path": str(self.path)})
            self._signature = None
            self._problem = ("missing", f"{STATE_KEY} not found in the Object Store folder")
            return
        except OSError as exc:
            self._problem = ("unreadable", f"{type(exc).__name__}: {exc}")
            logger.error("SNAPSHOT_STAT_FAILED", extra={"path": str(self.path), "error": str(exc)})
            return
        signature = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if signature == self._signature:
            return
        self._signature = signature
        try:
            raw = self.path.read_bytes()
            snapshot = parse_state_snapshot(raw)
        except SnapshotFormatError as exc:
            self._problem = ("torn", str(exc))
            logger.warning("SNAPSHOT_TORN_SERVING_LAST_GOOD", extra={
                "path": str(self.path), "error": str(exc), "last_good_version": self._view.version})
            return
        except OSError as exc:
            self._signature = None  # try again on the next request
            self._problem = ("unreadable", f"{type(exc).__name__}: {exc}")
            logger.error("SNAPSHOT_READ_FAILED", extra={"path": str(self.path), "error": str(exc)})
            return
        self._view = SnapshotView(snapshot=snapshot, document=snapshot.to_dict(),
                                  version=self._view.version + 1, file_mtime=stat.st_mtime)
        self._problem = ("fresh", None)
        logger.debug("SNAPSHOT_LOADED", extra={"version": self._view.version, "bytes": len(raw)})
