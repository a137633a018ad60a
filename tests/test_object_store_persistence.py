"""The harness's Object Store buffers and limits like LEAN's LocalObjectStore
[Engine/Storage/LocalObjectStore.cs, Common/Packets/Controls.cs: PersistenceIntervalSeconds 5,
StorageFileCount 10,000, StorageLimit 10 GiB]."""

from __future__ import annotations

from pathlib import Path

from harness.engine import HarnessEngine
from harness.object_store import ObjectStore


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_save_is_cached_and_reaches_the_file_after_the_persistence_interval(tmp_path: Path) -> None:
    clock = _Clock()
    store = ObjectStore(tmp_path, persist_interval_seconds=5.0, clock=clock)

    store.save("bot/state.json", "v1")
    on_disk_at_once = (tmp_path / "bot/state.json").exists()
    clock.now = 4.9
    store._tick()
    on_disk_before_5s = (tmp_path / "bot/state.json").exists()
    clock.now = 5.0
    store._tick()

    assert not on_disk_at_once and not on_disk_before_5s
    assert store.read("bot/state.json") == "v1" and "bot/state.json" in store.keys  # readable from the cache
    assert (tmp_path / "bot/state.json").read_text() == "v1"


def test_persist_writes_every_pending_change(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path, persist_interval_seconds=5.0, clock=_Clock())
    store.save("a.json", "1")
    store.save("a.json", "2")
    store.save("b.json", "3")

    store._persist()

    assert (tmp_path / "a.json").read_text() == "2" and (tmp_path / "b.json").read_text() == "3"


def test_a_save_beyond_the_file_quota_is_refused_and_reported_not_raised(tmp_path: Path) -> None:
    errors: list[str] = []
    store = ObjectStore(tmp_path, max_files=2, on_error=errors.append)

    results = [store.save("a.json", "1"), store.save("b.json", "2"), store.save("c.json", "3"),
               store.save("a.json", "replaced")]

    assert results == [True, True, False, True]  # replacing a key does not add a file
    assert not (tmp_path / "c.json").exists()
    assert len(errors) == 1 and "limit for files" in errors[0] and "c.json" in errors[0]


def test_a_save_beyond_the_size_quota_is_refused(tmp_path: Path) -> None:
    errors: list[str] = []
    store = ObjectStore(tmp_path, max_size=10, on_error=errors.append)

    assert store.save("a.json", "12345") is True
    assert store.save("b.json", "123456") is False
    assert "storage capacity limit" in errors[0]


def test_the_engine_uses_leans_defaults(tmp_path: Path) -> None:
    from harness.qc_algorithm import QCAlgorithm

    engine = HarnessEngine(QCAlgorithm, {}, tmp_path)

    store = engine.object_store
    assert (store._interval, store.max_files, store.max_size) == (5.0, 10_000, 10 * 1024**3)
