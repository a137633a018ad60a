"""The algorithm's knobs, read from LEAN parameters (config.json) and validated in one place.

Every value in config.json "parameters" is a string (LEAN's rule). ``BotConfig.from_parameters``
takes a lookup function (``QCAlgorithm.get_parameter`` in LEAN, a dict's ``get`` in tests), parses
each value, checks its range and raises ``ConfigurationError`` naming the parameter and the
accepted range. A missing parameter takes the default listed in ``PARAMETERS``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import Enum, StrEnum
from typing import Any

from models.exceptions import ConfigurationError

TICKER_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{0,5}(\.[A-Z])?$")


class OptionSide(StrEnum):
    """Whether the entry rule buys (long premium) or sells (short premium) the option."""

    BUY = "buy"
    SELL = "sell"


class Right(StrEnum):
    CALL = "call"
    PUT = "put"


@dataclass(frozen=True)
class ParameterSpec:
    """One config.json parameter: its type, default and accepted range or choices."""

    name: str
    kind: str  # "int" | "float" | "bool" | "date" | "ticker" | "choice"
    default: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    help: str = ""

    def accepted(self) -> str:
        if self.kind in ("int", "float"):
            return f"a number from {self.minimum:g} to {self.maximum:g}"
        if self.kind == "bool":
            return "true or false"
        if self.kind == "date":
            return "a date as YYYY-MM-DD"
        if self.kind == "ticker":
            return "an upper-case ticker such as GOOG, SPY or BRK.B"
        return "one of " + ", ".join(self.choices)


PARAMETERS: tuple[ParameterSpec, ...] = (
    ParameterSpec("ticker", "ticker", "GOOG", help="underlying equity"),
    ParameterSpec("start_date", "date", "2015-12-23", help="backtest start"),
    ParameterSpec("end_date", "date", "2015-12-28", help="backtest end (inclusive)"),
    ParameterSpec("cash", "float", "100000", 1_000, 1_000_000_000, help="starting cash, USD"),
    ParameterSpec("filter_strikes", "int", "10", 1, 100, help="strikes each side of spot"),
    ParameterSpec("filter_min_dte", "int", "0", 0, 1000, help="chain filter: min days"),
    ParameterSpec("filter_max_dte", "int", "180", 1, 1000, help="chain filter: max days"),
    ParameterSpec("entry_enabled", "bool", "true", help="open positions by the entry rule"),
    ParameterSpec("entry_right", "choice", "put", choices=("put", "call")),
    ParameterSpec("entry_side", "choice", "sell", choices=("sell", "buy")),
    ParameterSpec("entry_target_delta", "float", "0.30", 0.01, 0.99, help="|delta| wanted"),
    ParameterSpec("entry_target_dte", "int", "30", 1, 1000, help="days to expiry wanted"),
    ParameterSpec("entry_min_dte", "int", "7", 0, 1000, help="nearest expiry allowed"),
    ParameterSpec("entry_max_dte", "int", "60", 1, 1000, help="farthest expiry allowed"),
    ParameterSpec("entry_quantity", "int", "1", 1, 1000, help="contracts per entry"),
    ParameterSpec("entry_max_spread_pct", "float", "0.25", 0.001, 2.0,
                  help="max (ask-bid)/mid of the chosen contract"),
    ParameterSpec("exit_dte", "int", "5", 0, 365,
                  help="expiry guard: close a position at or below this many days to expiry"),
    ParameterSpec("risk_free_rate", "float", "0.01", 0.0, 0.2,
                  help="annual rate for our own Black-Scholes when LEAN has no Greeks"),
    ParameterSpec("snapshot_minutes", "int", "30", 1, 1440, help="state snapshot interval"),
)

_SPECS = {spec.name: spec for spec in PARAMETERS}


def _parse(spec: ParameterSpec, raw: str) -> Any:
    text = raw.strip()
    bad = ConfigurationError(spec.name, f"got {raw!r}; expected {spec.accepted()}")
    if spec.kind in ("int", "float"):
        try:
            value: float = int(text) if spec.kind == "int" else float(text)
        except ValueError:
            raise bad from None
        if not math.isfinite(value):
            raise bad
        assert spec.minimum is not None and spec.maximum is not None
        if not spec.minimum <= value <= spec.maximum:
            raise bad
        return value
    if spec.kind == "bool":
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise bad
        return lowered == "true"
    if spec.kind == "date":
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise bad from None
    if spec.kind == "ticker":
        if not TICKER_PATTERN.match(text):
            raise bad
        return text
    if text.lower() not in spec.choices:
        raise bad
    return text.lower()


@dataclass(frozen=True)
class BotConfig:
    ticker: str
    start_date: date
    end_date: date
    cash: float
    filter_strikes: int
    filter_min_dte: int
    filter_max_dte: int
    entry_enabled: bool
    entry_right: Right
    entry_side: OptionSide
    entry_target_delta: float
    entry_target_dte: int
    entry_min_dte: int
    entry_max_dte: int
    entry_quantity: int
    entry_max_spread_pct: float
    exit_dte: int
    risk_free_rate: float
    snapshot_minutes: int

    @classmethod
    def from_parameters(cls, lookup: Callable[[str], str | None]) -> BotConfig:
        """Build the config from ``lookup(name) -> str | None``; ``None`` means "use the default"."""
        values: dict[str, Any] = {}
        for spec in PARAMETERS:
            raw = lookup(spec.name)
            values[spec.name] = _parse(spec, spec.default if raw is None or raw == "" else raw)
        values["entry_right"] = Right(values["entry_right"])
        values["entry_side"] = OptionSide(values["entry_side"])
        config = cls(**values)
        config._check_relations()
        return config

    def _check_relations(self) -> None:
        if self.end_date < self.start_date:
            raise ConfigurationError(
                "end_date", f"{self.end_date} is before start_date {self.start_date}")
        if self.filter_min_dte > self.filter_max_dte:
            raise ConfigurationError(
                "filter_min_dte", f"{self.filter_min_dte} exceeds filter_max_dte {self.filter_max_dte}")
        if self.entry_min_dte > self.entry_max_dte:
            raise ConfigurationError(
                "entry_min_dte", f"{self.entry_min_dte} exceeds entry_max_dte {self.entry_max_dte}")
        if not self.entry_min_dte <= self.entry_target_dte <= self.entry_max_dte:
            raise ConfigurationError(
                "entry_target_dte",
                f"{self.entry_target_dte} is outside entry_min_dte..entry_max_dte "
                f"({self.entry_min_dte}..{self.entry_max_dte})")
        if self.exit_dte >= self.entry_min_dte and self.entry_enabled:
            raise ConfigurationError(
                "exit_dte",
                f"{self.exit_dte} must be below entry_min_dte {self.entry_min_dte}, or every new "
                "position would be closed by the expiry guard at once")

    def as_parameters(self) -> dict[str, str]:
        """The config as LEAN parameter strings (for the snapshot and for round-trip tests)."""
        out: dict[str, str] = {}
        for spec in PARAMETERS:
            value = getattr(self, spec.name)
            if isinstance(value, Enum):
                value = value.value
            elif isinstance(value, bool):
                value = "true" if value else "false"
            out[spec.name] = str(value)
        return out


def parameter_spec(name: str) -> ParameterSpec:
    return _SPECS[name]
