"""Audit model, logger, Object Store / file sinks and the reader (issue 6)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest

from harness.object_store import ObjectStore
from models.audit import AUDIT_FIELDS, AuditAction, AuditEntry
from models.exceptions import AuditWriteError
from utils.audit_logger import AuditLogger, MemoryAuditSink
from utils.audit_reader import read_file_trail, read_object_store_trail, read_storage_folder_trail
from utils.audit_sinks import FileAuditSink, ObjectStoreAuditSink
from utils.object_store_schema import audit_chunk_key, is_valid_key

T0 = datetime(2015, 12, 23, 14, 31, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


def test_entry_has_exactly_the_seed_fields_in_order_and_round_trips() -> None:
    entry = AuditEntry(timestamp=T0, action=AuditAction.TRADE_OPEN, description="Opened",
                       actor="agent:momentum", actor_type="ai_agent", resource_type="trade",
                       resource_id="P00001", after_state={"quantity": 1}, correlation_id="C1",
                       metadata={"strategy": "short_put"})
    record = json.loads(entry.to_json())
    assert tuple(record) == AUDIT_FIELDS
    assert record["timestamp"] == "2015-12-23T14:31:00Z"
    assert record["action"] == "trade.open"
    assert AuditEntry.from_json(entry.to_json()) == entry


def test_entry_refuses_naive_timestamp_and_unknown_actor_type() -> None:
    with pytest.raises(ValueError, match="time-zone aware"):
        AuditEntry(timestamp=datetime(2015, 12, 23), action=AuditAction.SYSTEM_START, description="",
                   actor="system", actor_type="system", resource_type="system", resource_id="x")
    with pytest.raises(ValueError, match="actor_type"):
        AuditEntry(timestamp=T0, action=AuditAction.SYSTEM_START, description="", actor="system",
                   actor_type="robot", resource_type="system", resource_id="x")


@pytest.mark.parametrize("broken", [
    "{}", '{"id": 1}', "[1, 2]", "not json",
])
def test_from_json_names_what_is_wrong(broken: str) -> None:
    with pytest.raises(ValueError, match="audit record"):
        AuditEntry.from_json(broken)


def test_from_dict_rejects_unknown_action() -> None:
    record = AuditEntry(timestamp=T0, action=AuditAction.SYSTEM_START, description="", actor="system",
                        actor_type="system", resource_type="system", resource_id="x").to_dict()
    record["action"] = "trade.teleport"
    with pytest.raises(ValueError, match="unknown action"):
        AuditEntry.from_dict(record)


def test_logger_stamps_entries_with_the_algorithm_clock_not_the_wall_clock() -> None:
    sink = MemoryAuditSink()
    audit = AuditLogger(clock=Clock(), sinks=[sink])
    entry = audit.log(AuditAction.SYSTEM_START, "start", resource_type="algorithm", resource_id="bot")
    assert entry.timestamp == T0
    assert sink.entries == [entry]


def test_correlation_context_follows_every_entry_inside_it_and_explicit_id_wins() -> None:
    sink = MemoryAuditSink()
    audit = AuditLogger(clock=Clock(), sinks=[sink])
    with audit.correlation_context("ROLL-1"):
        audit.log_order_submit("C1", "GOOG  160115P00750000", -1, "limit", "roll")
        audit.log_order_submit("C2", "GOOG  160219P00750000", 1, "limit", "roll")
        audit.log_order_submit("C3", "X", 1, "market", "entry", correlation_id="OTHER")
    audit.log_order_submit("C4", "X", 1, "market", "entry")
    assert [e.correlation_id for e in sink.entries] == ["ROLL-1", "ROLL-1", "OTHER", None]


def test_a_failing_sink_does_not_stop_the_others_and_the_entry_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def write(self, entry: AuditEntry) -> None:
            raise OSError("disk full")

        def flush(self) -> None:
            raise OSError("disk full")

    good = MemoryAuditSink()
    audit = AuditLogger(clock=Clock(), sinks=[Broken(), good])
    entry = audit.log(AuditAction.CIRCUIT_BREAKER_TRIP, "trip", resource_type="circuit_breaker",
                      resource_id="main")
    assert good.entries == [entry]
    assert audit.write_failures == 2  # the write, then the flush a critical action forces
    failed = [r for r in caplog.records if r.getMessage() == "AUDIT_WRITE_FAILED"]
    assert failed and entry.id in failed[0].entry  # type: ignore[attr-defined]


def make_entry(clock: Clock, n: int) -> AuditEntry:
    return AuditEntry(timestamp=clock(), action=AuditAction.ORDER_FILL, description=f"fill {n}",
                      actor="system", actor_type="system", resource_type="order", resource_id=f"C{n}")


def test_object_store_sink_keys_follow_leans_rule_and_chunks_seal_at_capacity(tmp_path) -> None:
    store, clock = ObjectStore(tmp_path), Clock()
    sink = ObjectStoreAuditSink(store, chunk_entries=3)
    for n in range(7):
        sink.write(make_entry(clock, n))
    sink.flush()
    keys = [k for k in store.keys if "/audit/" in k]
    assert keys == [audit_chunk_key(T0.date(), s) for s in (1, 2, 3)]
    assert all(is_valid_key(k) for k in keys)
    assert [len(store.read(k).splitlines()) for k in keys] == [3, 3, 1]


def test_object_store_sink_writes_nothing_until_flushed_then_only_the_open_chunk(tmp_path) -> None:
    store, clock = ObjectStore(tmp_path), Clock()
    sink = ObjectStoreAuditSink(store, chunk_entries=100)
    for n in range(250):
        sink.write(make_entry(clock, n))
    saves_before = sink.saves  # two full chunks sealed on the way
    sink.write(make_entry(clock, 250))
    sink.flush()
    assert saves_before == 2
    assert sink.saves == 3
    assert len(store.read(audit_chunk_key(T0.date(), 3)).splitlines()) == 51


def test_object_store_sink_starts_a_new_day_in_its_own_folder(tmp_path) -> None:
    store, clock = ObjectStore(tmp_path), Clock()
    sink = ObjectStoreAuditSink(store)
    sink.write(make_entry(clock, 1))
    clock.advance(days=1)
    sink.write(make_entry(clock, 2))
    sink.flush()
    trail = read_object_store_trail(store)
    assert [e.resource_id for e in trail.entries] == ["C1", "C2"]
    assert store.contains_key(audit_chunk_key(T0.date() + timedelta(days=1), 1))


def test_restarted_sink_continues_after_the_chunks_already_stored(tmp_path) -> None:
    clock = Clock()
    first = ObjectStoreAuditSink(ObjectStore(tmp_path))
    first.write(make_entry(clock, 1))
    first.flush()
    second = ObjectStoreAuditSink(ObjectStore(tmp_path))  # a new process, same storage folder
    second.write(make_entry(clock, 2))
    second.flush()
    trail = read_storage_folder_trail(tmp_path)
    assert [e.resource_id for e in trail.entries] == ["C1", "C2"]


def test_failed_save_keeps_the_buffer_and_the_next_flush_writes_it(tmp_path) -> None:
    class FlakyStore(ObjectStore):
        fail = True

        def save(self, path: str, text: str) -> bool:
            return False if self.fail else super().save(path, text)

    store, clock = FlakyStore(tmp_path), Clock()
    sink = ObjectStoreAuditSink(store)
    sink.write(make_entry(clock, 1))
    with pytest.raises(AuditWriteError, match="returned False"):
        sink.flush()
    store.fail = False
    sink.write(make_entry(clock, 2))
    sink.flush()
    assert [e.resource_id for e in read_object_store_trail(store).entries] == ["C1", "C2"]


def test_critical_actions_flush_immediately(tmp_path) -> None:
    store = ObjectStore(tmp_path)
    sink = ObjectStoreAuditSink(store)
    audit = AuditLogger(clock=Clock(), sinks=[sink])
    audit.log_order_submit("C1", "X", 1, "market", "entry")
    assert not read_storage_folder_trail(tmp_path).entries
    audit.log_circuit_breaker_trip("daily_loss_pct", 0.031, 0.03)
    actions = [e.action for e in read_storage_folder_trail(tmp_path).entries]
    assert actions == [AuditAction.ORDER_SUBMIT, AuditAction.CIRCUIT_BREAKER_TRIP]


def test_reader_skips_a_torn_last_line_and_reports_a_corrupt_middle_line(tmp_path) -> None:
    store, clock = ObjectStore(tmp_path), Clock()
    sink = ObjectStoreAuditSink(store)
    for n in range(3):
        sink.write(make_entry(clock, n))
    sink.flush()
    key = audit_chunk_key(T0.date(), 1)
    lines = store.read(key).splitlines()
    torn = "\n".join([lines[0], "{garbage", lines[2], lines[2][:40]])  # no final newline: torn
    (tmp_path / key).write_text(torn, encoding="utf-8")
    trail = read_storage_folder_trail(tmp_path)
    assert [e.resource_id for e in trail.entries] == ["C0", "C2"]
    assert len(trail.torn) == 1 and trail.torn[0].endswith(":4")
    assert len(trail.corrupt) == 1 and trail.corrupt[0].endswith(":2")


def test_file_sink_appends_one_line_per_entry_per_day(tmp_path) -> None:
    clock = Clock()
    sink = FileAuditSink(tmp_path / "logs" / "audit")
    audit = AuditLogger(clock=clock, sinks=[sink])
    audit.log_order_submit("C1", "X", 1, "market", "entry")
    clock.advance(days=1)
    audit.log_order_submit("C2", "X", 1, "market", "entry")
    files = sorted(p.name for p in (tmp_path / "logs" / "audit").iterdir())
    assert files == ["audit_2015-12-23.jsonl", "audit_2015-12-24.jsonl"]
    assert [e.resource_id for e in read_file_trail(tmp_path / "logs" / "audit").entries] == ["C1", "C2"]


def test_file_sink_is_thread_safe_no_line_is_lost_or_interleaved(tmp_path) -> None:
    sink = FileAuditSink(tmp_path)
    audit = AuditLogger(clock=Clock(), sinks=[sink])

    def work(worker: int) -> None:
        for n in range(200):
            audit.log_order_submit(f"W{worker}-{n}", "X" * 200, 1, "market", "entry")

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    trail = read_file_trail(tmp_path)
    assert len(trail.entries) == 800 and not trail.corrupt and not trail.torn
    assert len({e.resource_id for e in trail.entries}) == 800


def test_reader_filters_by_day_range(tmp_path) -> None:
    clock = Clock()
    audit = AuditLogger(clock=clock, sinks=[FileAuditSink(tmp_path)])
    for n in range(3):
        audit.log_order_submit(f"C{n}", "X", 1, "market", "entry")
        clock.advance(days=1)
    day2 = (T0 + timedelta(days=1)).date()
    assert [e.resource_id for e in read_file_trail(tmp_path, start=day2, end=day2).entries] == ["C1"]
