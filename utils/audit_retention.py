"""Audit retention (seed 8.4) for both sinks: delete days older than ``retention_days``.

``today`` is always given by the caller: the algorithm passes its own date (so a backtest of
2015 keeps 2015's trail), the sidecar passes the wall-clock date. Each deletion is logged; the
run as a whole is logged and audited (AUDIT_RETENTION). A failure on one file or key is logged
(AUDIT_CLEANUP_FAILED) and does not stop the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Protocol

from models.audit import AuditAction
from models.exceptions import ConfigurationError
from utils.audit_logger import AuditLogger
from utils.audit_reader import audit_files
from utils.logging_config import get_logger
from utils.object_store_schema import parse_audit_chunk_key, store_keys

logger = get_logger(__name__)

DEFAULT_RETENTION_DAYS = 90


class DeletableObjectStore(Protocol):
    def delete(self, path: str) -> bool: ...

    @property
    def keys(self) -> object: ...


@dataclass
class RetentionReport:
    cutoff: date
    deleted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def retention_cutoff(today: date, retention_days: int) -> date:
    """Days strictly before the returned date are deleted; ``today`` and the N days before stay."""
    if isinstance(retention_days, bool) or not isinstance(retention_days, int) or retention_days < 1:
        raise ConfigurationError("audit_retention_days", f"must be an integer >= 1, got {retention_days!r}")
    return today - timedelta(days=retention_days)


def _remove_all(items: list[tuple[str, Callable[[], object]]], report: RetentionReport,
                retention_days: int) -> None:
    for name, remove in items:
        try:
            remove()
        except Exception as exc:  # noqa: BLE001 - one failure is logged and must not stop the others
            report.failed.append(name)
            logger.error("AUDIT_CLEANUP_FAILED", extra={
                "target": name, "error": str(exc), "error_type": type(exc).__name__})
            continue
        report.deleted.append(name)
        logger.info("AUDIT_FILE_DELETED", extra={"target": name, "retention_days": retention_days})


def _finish(report: RetentionReport, sink: str, retention_days: int, audit: AuditLogger | None) -> RetentionReport:
    logger.info("AUDIT_RETENTION_COMPLETED", extra={
        "sink": sink, "cutoff": report.cutoff.isoformat(), "deleted": len(report.deleted),
        "failed": len(report.failed), "retention_days": retention_days})
    if audit is not None:
        audit.log(AuditAction.AUDIT_RETENTION,
                  f"Audit retention ({sink}): {len(report.deleted)} deleted, {len(report.failed)} failed",
                  resource_type="audit_trail", resource_id=sink,
                  metadata={"cutoff": report.cutoff.isoformat(), "retention_days": retention_days,
                            "deleted": report.deleted, "failed": report.failed})
    return report


def cleanup_old_audit_files(audit_dir: str | Path, today: date,
                            retention_days: int = DEFAULT_RETENTION_DAYS,
                            audit: AuditLogger | None = None) -> RetentionReport:
    """The sidecar's file sink: delete ``audit_YYYY-MM-DD.jsonl`` files older than the cutoff."""
    report = RetentionReport(retention_cutoff(today, retention_days))
    old = [(str(path), path.unlink) for day, path in audit_files(audit_dir) if day < report.cutoff]
    _remove_all(old, report, retention_days)
    return _finish(report, "file", retention_days, audit)


def cleanup_old_audits(audit_dir: str | Path = "logs/audit", retention_days: int = DEFAULT_RETENTION_DAYS) -> int:
    """The seed's entry point (8.4): ``cleanup_old_audit_files`` for today's UTC date (the wall
    clock: this is the sidecar's file sink, not the algorithm's). Returns how many files it deleted;
    the full report (cutoff, failures) is logged by ``cleanup_old_audit_files``."""
    return len(cleanup_old_audit_files(audit_dir, datetime.now(UTC).date(), retention_days).deleted)


def cleanup_old_audit_chunks(store: DeletableObjectStore, today: date,
                             retention_days: int = DEFAULT_RETENTION_DAYS,
                             audit: AuditLogger | None = None) -> RetentionReport:
    """The algorithm's Object Store sink: delete chunk keys of days older than the cutoff."""
    report = RetentionReport(retention_cutoff(today, retention_days))
    old: list[tuple[str, Callable[[], object]]] = []
    for key in sorted(store_keys(store)):
        parsed = parse_audit_chunk_key(key)
        if parsed is not None and parsed[0] < report.cutoff:
            old.append((key, _deleter(store, key)))
    _remove_all(old, report, retention_days)
    return _finish(report, "object_store", retention_days, audit)


def _deleter(store: DeletableObjectStore, key: str) -> Callable[[], object]:
    def delete() -> object:
        if not store.delete(key):
            raise OSError(f"Object Store refused to delete {key}")
        return True
    return delete
