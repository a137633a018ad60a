"""Rebuild the audit trail, in order, from either sink.

- ``read_object_store_trail(store)``: the algorithm's chunks through the Object Store API.
- ``read_storage_folder_trail(root)``: the same chunks straight from a LEAN ``storage`` folder
  (what the sidecar and research.ipynb see on disk).
- ``read_file_trail(audit_dir)``: the sidecar's ``audit_YYYY-MM-DD.jsonl`` files.

Order: by day, then chunk number, then line. A torn last line (a writer caught mid-write; LEAN's
flush is not atomic) is skipped and counted in ``torn``; a malformed line anywhere else is
skipped, counted in ``corrupt`` and logged, so one bad record never hides the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from models.audit import AuditEntry
from utils.audit_sinks import AUDIT_FILE_PREFIX, TextObjectStore
from utils.logging_config import get_logger
from utils.object_store_schema import AUDIT_PREFIX, parse_audit_chunk_key, store_keys

logger = get_logger(__name__)


@dataclass
class AuditTrail:
    entries: list[AuditEntry] = field(default_factory=list)
    torn: list[str] = field(default_factory=list)  # where a torn last line was skipped
    corrupt: list[str] = field(default_factory=list)  # where a malformed line was skipped

    def parse(self, text: str, where: str) -> None:
        lines = text.split("\n")
        complete = text.endswith("\n")
        if complete:
            lines.pop()  # the empty string after the final newline
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                self.entries.append(AuditEntry.from_json(line))
            except ValueError as exc:
                location = f"{where}:{number}"
                if number == len(lines) and not complete:
                    self.torn.append(location)
                    logger.warning("AUDIT_TORN_LINE_SKIPPED", extra={"where": location})
                else:
                    self.corrupt.append(location)
                    logger.error("AUDIT_CORRUPT_LINE_SKIPPED", extra={"where": location, "error": str(exc)})


def _in_range(day: date, start: date | None, end: date | None) -> bool:
    return (start is None or day >= start) and (end is None or day <= end)


def read_object_store_trail(store: TextObjectStore, start: date | None = None,
                            end: date | None = None) -> AuditTrail:
    chunks = []
    for key in store_keys(store):
        parsed = parse_audit_chunk_key(key)
        if parsed is not None and _in_range(parsed[0], start, end):
            chunks.append((parsed, key))
    trail = AuditTrail()
    for _, key in sorted(chunks):
        trail.parse(store.read(key), key)
    return trail


def read_storage_folder_trail(storage_root: str | Path, start: date | None = None,
                              end: date | None = None) -> AuditTrail:
    root = Path(storage_root)
    chunks = []
    audit_root = root / AUDIT_PREFIX
    if audit_root.is_dir():
        for path in audit_root.rglob("chunk_*.jsonl"):
            key = path.relative_to(root).as_posix()
            parsed = parse_audit_chunk_key(key)
            if parsed is not None and _in_range(parsed[0], start, end):
                chunks.append((parsed, path))
    trail = AuditTrail()
    for _, path in sorted(chunks):
        trail.parse(_read_text(path), str(path))
    return trail


def audit_file_day(path: Path) -> date | None:
    stem = path.name.removesuffix(".jsonl")
    if not stem.startswith(AUDIT_FILE_PREFIX):
        return None
    try:
        return date.fromisoformat(stem[len(AUDIT_FILE_PREFIX):])
    except ValueError:
        return None


def audit_files(audit_dir: str | Path) -> Iterable[tuple[date, Path]]:
    folder = Path(audit_dir)
    if not folder.is_dir():
        return []
    dated = [(audit_file_day(p), p) for p in folder.glob(f"{AUDIT_FILE_PREFIX}*.jsonl")]
    return sorted((d, p) for d, p in dated if d is not None)


def read_file_trail(audit_dir: str | Path, start: date | None = None,
                    end: date | None = None) -> AuditTrail:
    trail = AuditTrail()
    for day, path in audit_files(audit_dir):
        if _in_range(day, start, end):
            trail.parse(_read_text(path), str(path))
    return trail


def _read_text(path: Path) -> str:
    # errors="replace": a torn multi-byte character must not hide the lines before it.
    return path.read_text(encoding="utf-8", errors="replace")
