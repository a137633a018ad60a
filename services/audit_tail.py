"""Incremental reading of the audit files the sidecar serves: the algorithm's Object Store chunks
(``options_bot/audit/<day>/chunk_<n>.jsonl``) and the sidecar's ``audit_YYYY-MM-DD.jsonl``.

``AuditTail.poll`` hands over only the complete lines appended since the last poll, with where each
one starts (file, byte offset) so that the index can read a line back without keeping it.
Folders are listed again only when their modification time changed. A file that shrank is being
rewritten (LEAN's save is not atomic): it is read again once it is back past what was read. A file
that disappeared (retention) is reported in ``removed``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from utils.audit_reader import audit_files
from utils.logging_config import get_logger
from utils.object_store_schema import AUDIT_PREFIX, parse_audit_chunk_key

logger = get_logger(__name__)

ALGORITHM = "algorithm"
SIDECAR = "sidecar"


@dataclass
class TailedFile:
    number: int
    path: Path
    origin: str
    offset: int = 0  # bytes consumed: complete lines only
    size: int = -1


LineSink = Callable[[TailedFile, int, bytes], None]  # (file, byte offset of the line, the line)
READ_BLOCK = 4 * 1024 * 1024  # bounded memory however much was appended


def _mtime(path: Path) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return None


class AuditTail:
    def __init__(self, storage_root: str | Path, audit_dir: str | Path) -> None:
        self._chunk_root = Path(storage_root) / AUDIT_PREFIX
        self._storage_root = Path(storage_root)
        self._audit_dir = Path(audit_dir)
        self.files: list[TailedFile] = []  # by number
        self._by_path: dict[Path, TailedFile] = {}
        self._folders: dict[Path, tuple[int | None, list[Path]]] = {}

    def poll(self, on_line: LineSink) -> list[TailedFile]:
        """Hand every complete line appended since the last poll to ``on_line(file, offset, text)``, in
        trail order, reading in blocks; return the files that disappeared."""
        paths = self._list()
        removed = [self._by_path.pop(path) for path in [p for p in self._by_path if p not in paths]]
        for path, origin in paths.items():
            tailed = self._by_path.get(path)
            if tailed is None:
                tailed = TailedFile(len(self.files), path, origin)
                self.files.append(tailed)
                self._by_path[path] = tailed
            self._read_new(tailed, on_line)
        return removed

    # -- listing ----------------------------------------------------------------------------------
    def _listing(self, folder: Path, lister: object) -> list[Path]:
        mtime = _mtime(folder)
        known = self._folders.get(folder)
        if known is not None and known[0] == mtime:
            return known[1]
        listed = [] if mtime is None else lister(folder)  # type: ignore[operator]
        self._folders[folder] = (mtime, listed)
        return listed

    def _list(self) -> dict[Path, str]:
        """Every audit file in trail order: chunks by (day, number), then the sidecar's by day."""
        found: dict[Path, str] = {}
        days = self._listing(self._chunk_root, lambda f: sorted(p for p in f.iterdir() if p.is_dir()))
        chunks = []
        for day in days:
            for path in self._listing(day, lambda f: list(f.glob("chunk_*.jsonl"))):
                parsed = parse_audit_chunk_key(path.relative_to(self._storage_root).as_posix())
                if parsed is not None:
                    chunks.append((parsed, path))
        for _, path in sorted(chunks):
            found[path] = ALGORITHM
        for path in self._listing(self._audit_dir, lambda f: [p for _, p in audit_files(f)]):
            found[path] = SIDECAR
        return found

    # -- reading ----------------------------------------------------------------------------------
    def _read_new(self, tailed: TailedFile, on_line: LineSink) -> None:
        try:
            size = os.stat(tailed.path).st_size
        except FileNotFoundError:
            return
        if size == tailed.size or size <= tailed.offset:
            tailed.size = size  # unchanged, or shrunk while being rewritten: wait until it is back
            return
        position, carry = tailed.offset, b""  # carry: the part of a line that the next block completes
        try:
            with tailed.path.open("rb") as handle:
                handle.seek(position)
                remaining = size - position
                while remaining > 0 and (block := handle.read(min(READ_BLOCK, remaining))):
                    remaining -= len(block)
                    data = carry + block
                    end = data.rfind(b"\n") + 1  # complete lines only: a torn last line waits until it is whole
                    start = 0
                    while start < end:
                        stop = data.index(b"\n", start)
                        if stop > start:
                            on_line(tailed, position + start, data[start:stop])
                        start = stop + 1
                    carry, position = data[end:], position + end
        except OSError as exc:
            logger.error("AUDIT_FILE_READ_FAILED", extra={"path": str(tailed.path), "error": str(exc)})
        tailed.offset, tailed.size = position, size
