"""Logging set-up shared by every part of the bot (seed section 7).

Modules log with ``logger = get_logger(__name__)`` and an UPPER_SNAKE event name as the message,
with the event's fields in ``extra=``. Inside LEAN, ``LeanLogHandler`` forwards each record to
the algorithm's own log (``debug``/``log``/``error`` by level) so it shows up in LEAN's output;
LEAN throttles its log, so DEBUG stays out of it unless asked for. Elsewhere (sidecar, harness
log file) ``StructuredFormatter`` writes one JSON object per record.

``REQUIRED_FIELDS`` lists the fields each event must carry (seed 7.3); tests hold every emitter
to it.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO, Any, Protocol

ROOT_LOGGER = "options_bot"

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "taskName"}


# Seed 7.3: the fields each event must carry in ``extra=`` (more are welcome).
REQUIRED_FIELDS: dict[str, frozenset[str]] = {
    "TRADE_OPENED": frozenset({"trade_id", "symbol", "side", "quantity", "price", "order_id"}),
    "TRADE_CLOSED": frozenset({"trade_id", "symbol", "quantity", "price", "order_id", "realized_pnl"}),
    "ORDER_SUBMITTED": frozenset({"order_id", "symbol", "quantity", "order_type"}),
    "ORDER_FILLED": frozenset({"order_id", "fill_price", "fill_quantity", "remaining_quantity"}),
    "ORDER_REJECTED": frozenset({"order_id", "symbol", "reason"}),
    "RISK_LIMIT_EXCEEDED": frozenset({"limit_type", "current_value", "limit_value", "action_taken",
                                      "position_id"}),
    "COMPONENT_FAILED": frozenset({"component", "operation", "error", "error_type", "recoverable",
                                   "context"}),
    "RETRY_ATTEMPT": frozenset({"function", "attempt", "next_delay", "error"}),
    "RETRY_EXHAUSTED": frozenset({"function", "attempts", "error"}),
}


def missing_fields(event: str, fields: dict[str, Any]) -> frozenset[str]:
    """The required fields of ``event`` that ``fields`` lacks (empty for unlisted events)."""
    return REQUIRED_FIELDS.get(event, frozenset()) - fields.keys()


class StructuredFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, event, source location and the extras.

    The time is the record's creation time; inside LEAN the algorithm's own time is carried by
    the events that need it (audit entries, snapshots).
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "module": record.module,
            "function": record.funcName,
            "line": record.lineno,
        }
        for key, value in record_fields(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


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


def configure_logging(handler: logging.Handler | None = None, level: int | str = logging.INFO,
                      structured: bool = True, stream: IO[str] | None = None) -> logging.Logger:
    """Route the project's logs to ``handler`` (replacing a previous one of the same type).

    Without a handler, logs go to ``stream`` (stdout) as JSON (``structured``) or as plain text.
    """
    if handler is None:
        handler = logging.StreamHandler(stream or sys.stdout)
        handler.setFormatter(StructuredFormatter() if structured else logging.Formatter(
            "%(asctime)s | %(levelname)-8s | %(name)s | %(message)s"))
    root = logging.getLogger(ROOT_LOGGER)
    for old in [h for h in root.handlers if type(h) is type(handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    root.propagate = False
    return root
