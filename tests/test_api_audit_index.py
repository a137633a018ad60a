"""The sidecar's audit index (issue 15): a poll reads only what was appended, queries page from the
index (time range, action, source, correlation id), and files that are torn, rewritten or removed
are handled without a rescan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from models.audit import AuditAction, AuditEntry
from services import audit_tail
from services.audit_index import AuditIndex
from utils.audit_logger import AuditLogger
from utils.audit_sinks import FileAuditSink

T0 = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)


def write_trail(audit_dir: Path, count: int, start: datetime = T0) -> list[AuditEntry]:
    moments = iter(start + timedelta(seconds=i) for i in range(count))
    audit = AuditLogger(clock=lambda: next(moments), sinks=[FileAuditSink(audit_dir)])
    actions = (AuditAction.ORDER_SUBMIT, AuditAction.AUTH_FAILED, AuditAction.ORDER_CANCEL)
    return [audit.log(actions[i % 3], f"entry {i}", resource_type="t", resource_id=str(i),
                      correlation_id=f"req_{i % 10}") for i in range(count)]


def test_a_poll_parses_only_the_lines_appended_since_the_last_one(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    write_trail(tmp_path / "audit", 500)
    index = AuditIndex(tmp_path / "storage", tmp_path / "audit")
    assert index.poll_new() == []  # takes stock
    parsed: list[str] = []
    original = AuditEntry.from_dict.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(AuditEntry, "from_dict", classmethod(lambda cls, raw: (parsed.append(raw["id"]),
                                                                                original(cls, raw))[1]))
    [new] = write_trail(tmp_path / "audit", 1, start=T0 + timedelta(hours=1))
    fresh = index.poll_new()
    assert [item.entry.id for item in fresh] == [new.id] and parsed == [new.id]
    parsed.clear()
    assert index.poll_new() == [] and parsed == []


def test_queries_filter_and_page_from_the_index(tmp_path: Path) -> None:
    entries = write_trail(tmp_path / "audit", 90)
    index = AuditIndex(tmp_path / "storage", tmp_path / "audit")
    everything = index.query(limit=500)
    assert everything.total == 90 and [i.entry.id for i in everything.items] == [e.id for e in entries]
    page = index.query(offset=10, limit=5)
    assert [i.entry.id for i in page.items] == [e.id for e in entries[10:15]] and page.total == 90
    window = index.query(start=T0 + timedelta(seconds=30), end=T0 + timedelta(seconds=39), limit=100)
    assert window.total == 10 and window.items[0].entry.id == entries[30].id
    submits = index.query(action="order.submit", limit=100)
    assert submits.total == 30 and {i.entry.action for i in submits.items} == {AuditAction.ORDER_SUBMIT}
    correlated = index.query(correlation_id="req_3", action="order.submit", source="sidecar", limit=100)
    expected = [e.id for e in entries if e.correlation_id == "req_3" and e.action is AuditAction.ORDER_SUBMIT]
    assert [i.entry.id for i in correlated.items] == expected and correlated.total == len(expected)
    assert index.query(source="algorithm").total == 0
    assert index.has_entry("req_3", "order.submit", "sidecar") and not index.has_entry("req_3", "order.fill",
                                                                                        "sidecar")


def test_a_torn_last_line_is_indexed_once_it_is_whole(tmp_path: Path) -> None:
    entries = write_trail(tmp_path / "audit", 3)
    index = AuditIndex(tmp_path / "storage", tmp_path / "audit")
    index.poll_new()
    path = next((tmp_path / "audit").glob("audit_*.jsonl"))
    line = AuditEntry(timestamp=T0 + timedelta(hours=2), action=AuditAction.ORDER_FILL, description="fill",
                      actor="system", actor_type="system", resource_type="order", resource_id="1").to_json() + "\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line[:25])
    assert index.poll_new() == [] and index.query().total == 3
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line[25:])
    assert [i.entry.description for i in index.poll_new()] == ["fill"] and index.query().total == 4
    assert entries[0].id == index.query(limit=1).items[0].entry.id


def test_a_corrupt_line_is_skipped_and_a_removed_file_leaves_the_index(tmp_path: Path) -> None:
    write_trail(tmp_path / "audit", 4)
    later = tmp_path / "audit" / "audit_2026-01-06.jsonl"
    later.write_text('{"not": "an entry"}\n')
    write_trail(tmp_path / "audit", 2, start=T0 + timedelta(days=1))
    index = AuditIndex(tmp_path / "storage", tmp_path / "audit")
    assert index.query().total == 6
    later.unlink()
    assert index.query().total == 4 and len(index.query(limit=10).items) == 4


def test_lines_that_span_read_blocks_are_indexed_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_tail, "READ_BLOCK", 97)  # far shorter than a line
    entries = write_trail(tmp_path / "audit", 25)
    index = AuditIndex(tmp_path / "storage", tmp_path / "audit")
    page = index.query(limit=100)
    assert page.total == 25 and [i.entry.id for i in page.items] == [e.id for e in entries]


def test_poison_audit_lines_and_a_directory_named_like_a_file_are_skipped(tmp_path: Path) -> None:
    entries = write_trail(tmp_path / "audit", 3)
    path = next((tmp_path / "audit").glob("audit_*.jsonl"))
    with path.open("ab") as handle:
        handle.write(b"[" * 100_000 + b"]" * 100_000 + b"\n" + b"\xff\xfe\n" + b"9" * 5000 + b"\n")
    (tmp_path / "audit" / "audit_2026-01-07.jsonl").mkdir()
    more = write_trail(tmp_path / "audit", 1, start=T0 + timedelta(minutes=5))
    index = AuditIndex(tmp_path / "storage", tmp_path / "audit")
    page = index.query(limit=100)
    assert [i.entry.id for i in page.items] == [e.id for e in [*entries, *more]]
