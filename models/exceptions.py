"""The project's error hierarchy. Every error the bot raises on purpose is a ``TradingError``."""

from __future__ import annotations


class TradingError(Exception):
    """Base class of every error the bot raises on purpose."""


class ConfigurationError(TradingError, ValueError):
    """A parameter (config.json, environment) is missing, malformed or out of range.

    ``parameter`` names the offending setting so that the message tells the user what to fix.
    """

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"parameter '{parameter}': {message}")
        self.parameter = parameter


class SnapshotFormatError(TradingError, ValueError):
    """A state snapshot read from the Object Store does not match the shared schema."""


class PositionSizingError(TradingError, ValueError):
    """A close or open quantity cannot be computed from the inputs (negative, NaN, out of range)."""


class OrderValidationError(TradingError):
    """An order was refused before it reached the broker (pre-trade gateway, circuit breaker)."""


class RollExecutionError(TradingError):
    """A roll could not be placed or did not complete (a leg rejected, cancelled or unfilled)."""


class PositionPersistenceError(TradingError):
    """State or audit records could not be written to (or read back from) storage."""


class AuditWriteError(PositionPersistenceError):
    """An audit sink could not write; the entries stay buffered until a write succeeds."""
