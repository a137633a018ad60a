"""Logging set-up shared by every part of the bot.

Modules log with ``logger = get_logger(__name__)`` and an UPPER_SNAKE event name as the message,
with the event's fields in ``extra=``. Inside LEAN, ``LeanLogHandler`` forwards each record to
the algorithm's own log (``debug``/``log``/``error`` by level) so it shows up in LEAN's output.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

ROOT_LOGGER = "options_bot"

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "taskName"}


class AlgorithmLog(Protocol):
    """The three logging methods of LEAN's QCAlgorithm that the handler needs."""

    def debug(self, message: str) -> Any: ...

    def log(self, message: str) -> Any: ...

    def error(self, message: str) -> Any: ...


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields a record was logged with (its ``extra=``)."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS and not k.startswith("_")}


def format_event(record: logging.LogRecord) -> str:
    """``EVENT_NAME key=value ...`` on one line, the form LEAN's log shows best."""
    fields = " ".join(f"{k}={v}" for k, v in sorted(record_fields(record).items()))
    text = record.getMessage()
    return f"{record.levelname} {text} {fields}".rstrip()


class LeanLogHandler(logging.Handler):
    """Forwards records to ``algorithm.debug / log / error`` by level."""

    def __init__(self, algorithm: AlgorithmLog, level: int = logging.INFO) -> None:
        super().__init__(level)
        self._sinks: dict[int, Callable[[str], Any]] = {
            logging.DEBUG: algorithm.debug,
            logging.INFO: algorithm.log,
            logging.ERROR: algorithm.error,
        }

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            sink = self._sinks[logging.ERROR]
        elif record.levelno >= logging.INFO:
            sink = self._sinks[logging.INFO]
        else:
            sink = self._sinks[logging.DEBUG]
        try:
            sink(format_event(record))
        except Exception:  # noqa: BLE001 - logging must never take the algorithm down
            self.handleError(record)


def get_logger(name: str) -> logging.Logger:
    """A logger below the project's root logger, so one handler set-up covers every module."""
    if name.startswith(ROOT_LOGGER):
        return logging.getLogger(name)
    return logging.getLogger(f"{ROOT_LOGGER}.{name}")


def configure_logging(handler: logging.Handler, level: int = logging.INFO) -> logging.Logger:
    """Route the project's logs to ``handler`` (replacing a previous one of the same type)."""
    root = logging.getLogger(ROOT_LOGGER)
    for old in [h for h in root.handlers if type(h) is type(handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    return root
