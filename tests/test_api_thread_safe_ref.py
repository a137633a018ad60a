"""Seed 3.3 / 9.2: ThreadSafeRef — set once, get with timeout, access context."""

from __future__ import annotations

import threading

import pytest

from api.thread_safe_ref import ThreadSafeRef


def test_set_and_get() -> None:
    ref: ThreadSafeRef[str] = ThreadSafeRef("test")
    ref.set("value")
    assert ref.get() == "value"


def test_double_set_raises() -> None:
    ref: ThreadSafeRef[str] = ThreadSafeRef("test")
    ref.set("value1")
    with pytest.raises(RuntimeError, match="already initialized"):
        ref.set("value2")
    assert ref.get() == "value1"


def test_get_before_set_times_out() -> None:
    ref: ThreadSafeRef[str] = ThreadSafeRef("test")
    with pytest.raises(RuntimeError, match="not initialized within"):
        ref.get(timeout=0.05)


def test_get_waits_for_a_set_from_another_thread() -> None:
    ref: ThreadSafeRef[str] = ThreadSafeRef("test")
    started = threading.Event()

    def setter() -> None:
        started.wait()
        ref.set("late")

    thread = threading.Thread(target=setter)
    thread.start()
    started.set()
    assert ref.get(timeout=5.0) == "late"
    thread.join()


def test_concurrent_access_is_serialised() -> None:
    ref: ThreadSafeRef[dict[str, int]] = ThreadSafeRef("test")
    ref.set({"counter": 0})
    errors: list[BaseException] = []
    barrier = threading.Barrier(20)

    def increment() -> None:
        try:
            barrier.wait()
            for _ in range(200):
                with ref.access() as value:
                    assert value is not None
                    current = value["counter"]
                    value["counter"] = current + 1
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=increment) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert ref.get()["counter"] == 4000


def test_none_cannot_be_set_and_a_cleared_ref_does_not_hand_out_a_stale_value() -> None:
    ref: ThreadSafeRef[str] = ThreadSafeRef("test")
    with pytest.raises(ValueError):
        ref.set(None)  # type: ignore[arg-type]
    ref.set("value")
    assert ref.clear() == "value"
    with pytest.raises(RuntimeError, match="cleared"):
        ref.get(timeout=0.01)
    assert ref.get_or_none() is None
