"""Records what one module logs, at every level, whatever handlers the project root has."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def events(self, level: int | None = None) -> list[str]:
        return [r.getMessage() for r in self.records if level is None or r.levelno == level]


@contextmanager
def capture(logger_name: str) -> Iterator[ListHandler]:
    """Attach to the module's own logger (other tests may stop propagation at the project root)."""
    target = logging.getLogger(logger_name)
    handler, old_level = ListHandler(), target.level
    target.addHandler(handler)
    target.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        target.removeHandler(handler)
        target.setLevel(old_level)
