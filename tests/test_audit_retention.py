"""Audit retention for both sinks (issue 6): old days go, recent days stay, failures are isolated."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from harness.object_store import ObjectStore
from models.audit import AuditAction, AuditEntry
from models.exceptions import ConfigurationError
from utils.audit_logger import AuditLogger, MemoryAuditSink
from utils.audit_retention import cleanup_old_audit_chunks, cleanup_old_audit_files, retention_cutoff
from utils.audit_sinks import FileAuditSink, ObjectStoreAuditSink, audit_file_name

TODAY = date(2016, 3, 31)


def entry_on(day: date) -> AuditEntry:
    return AuditEntry(timestamp=datetime(day.year, day.month, day.day, 15, tzinfo=UTC),
                      action=AuditAction.ORDER_SUBMIT, description="x", actor="system",
                      actor_type="system", resource_type="order", resource_id=day.isoformat())


def test_cutoff_keeps_today_and_the_retention_window() -> None:
    assert retention_cutoff(TODAY, 90) == TODAY - timedelta(days=90)


@pytest.mark.parametrize("days", [0, -1, 1.5, True])
def test_retention_days_must_be_a_positive_integer(days: object) -> None:
    with pytest.raises(ConfigurationError, match="audit_retention_days"):
        retention_cutoff(TODAY, days)  # type: ignore[arg-type]


def test_file_retention_deletes_only_days_before_the_cutoff_and_audits_itself(tmp_path) -> None:
    sink = FileAuditSink(tmp_path)
    cutoff = TODAY - timedelta(days=90)
    for day in (cutoff - timedelta(days=1), cutoff, TODAY):
        sink.write(entry_on(day))
    (tmp_path / "notes.txt").write_text("not an audit file")
    memory = MemoryAuditSink()
    report = cleanup_old_audit_files(tmp_path, TODAY, 90, audit=AuditLogger(lambda: datetime(
        2016, 3, 31, tzinfo=UTC), [memory]))
    assert report.deleted == [str(tmp_path / audit_file_name(cutoff - timedelta(days=1)))]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        audit_file_name(cutoff), audit_file_name(TODAY), "notes.txt"]
    assert memory.actions() == [AuditAction.AUDIT_RETENTION]
    assert memory.entries[0].metadata["deleted"] == report.deleted


def test_a_file_that_cannot_be_deleted_is_logged_and_the_others_still_go(tmp_path, monkeypatch,
                                                                         caplog) -> None:
    sink = FileAuditSink(tmp_path)
    old_days = [TODAY - timedelta(days=200 + i) for i in range(3)]
    for day in old_days:
        sink.write(entry_on(day))
    stuck = tmp_path / audit_file_name(old_days[1])
    real_unlink = type(stuck).unlink

    def unlink(self, missing_ok: bool = False) -> None:
        if self == stuck:
            raise PermissionError("read-only")
        real_unlink(self, missing_ok)

    monkeypatch.setattr(type(stuck), "unlink", unlink)
    report = cleanup_old_audit_files(tmp_path, TODAY, 90)
    assert report.failed == [str(stuck)]
    assert len(report.deleted) == 2
    assert [p.name for p in tmp_path.iterdir()] == [stuck.name]
    assert any(r.getMessage() == "AUDIT_CLEANUP_FAILED" for r in caplog.records)


def test_object_store_retention_deletes_old_chunk_keys_only(tmp_path) -> None:
    store = ObjectStore(tmp_path)
    sink = ObjectStoreAuditSink(store)
    for day in (TODAY - timedelta(days=120), TODAY - timedelta(days=10)):
        sink.write(entry_on(day))
    sink.flush()
    store.save("options_bot/state.json", "{}")
    report = cleanup_old_audit_chunks(store, TODAY, 90)
    assert report.deleted == ["options_bot/audit/2015-12-02/chunk_000001.jsonl"]
    assert store.keys == ["options_bot/audit/2016-03-21/chunk_000001.jsonl", "options_bot/state.json"]
