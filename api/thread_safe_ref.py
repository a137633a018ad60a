"""Seed 3.3: a thread-safe, set-once reference (instead of module-level mutable globals).

``set`` once (a second set raises), ``get(timeout)`` waits until it is set, ``access()`` holds the
lock for a compound read-modify-write. The sidecar keeps its services in one of these on
``app.state`` so request handlers (event loop) and worker threads see one consistent object.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from utils.logging_config import get_logger

logger = get_logger(__name__)

T = TypeVar("T")


class ThreadSafeRef(Generic[T]):
    """Thread-safe reference wrapper with an initialisation guarantee."""

    def __init__(self, name: str) -> None:
        self._value: T | None = None
        self._lock = threading.RLock()
        self._name = name
        self._initialized = threading.Event()

    @property
    def name(self) -> str:
        return self._name

    def set(self, value: T) -> None:
        if value is None:
            raise ValueError(f"{self._name}: cannot be set to None")
        with self._lock:
            if self._value is not None:
                raise RuntimeError(f"{self._name} already initialized")
            self._value = value
            self._initialized.set()
        logger.info("REF_INITIALIZED", extra={"ref": self._name})

    def get(self, timeout: float = 5.0) -> T:
        if not self._initialized.wait(timeout):
            raise RuntimeError(f"{self._name} not initialized within {timeout}s")
        with self._lock:
            if self._value is None:
                raise RuntimeError(f"{self._name} was cleared")
            return self._value

    def get_or_none(self) -> T | None:
        with self._lock:
            return self._value

    def clear(self) -> T | None:
        """Drop the value (shutdown); a later ``get`` raises instead of returning a stale object."""
        with self._lock:
            value, self._value = self._value, None
        return value

    @contextmanager
    def access(self) -> Iterator[T | None]:
        """Hold the lock for extended access (compound updates of the referenced object)."""
        with self._lock:
            yield self._value
