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
        if self.kind == "dates":
            return "dates as YYYY-MM-DD separated by commas, or - for none"
        if self.kind == "ladder":
            return "levels 'gain:take,...' such as 0.50:0.30,0.80:0.50 (gains rising, takes in (0, 1])"
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
    ParameterSpec("entry_quantity", "int", "3", 1, 1000, help="contracts per entry"),
    ParameterSpec("entry_max_spread_pct", "float", "0.25", 0.001, 2.0,
                  help="max (ask-bid)/mid of the chosen contract"),
    ParameterSpec("exit_dte", "int", "5", 0, 365,
                  help="expiry guard: close a position at or below this many days to expiry"),
    ParameterSpec("risk_free_rate", "float", "0.01", 0.0, 0.2,
                  help="annual rate for our own Black-Scholes when LEAN has no Greeks"),
    ParameterSpec("snapshot_minutes", "int", "30", 1, 1440, help="state snapshot interval"),
    ParameterSpec("inbox_poll_minutes", "int", "5", 0, 1440,
                  help="how often the Object Store inbox of sidecar requests is read (0: never)"),
    ParameterSpec("audit_retention_days", "int", "90", 1, 3650,
                  help="audit trail days kept in the Object Store (older chunks are deleted)"),
    ParameterSpec("profit_ladder", "ladder", "0.50:0.30,0.80:0.50",
                  help="profit-taking levels 'gain:take,...': at +gain of the entry premium close "
                       "take of the contracts held (take 1 closes all); each level fires once"),
    ParameterSpec("stop_loss_pct", "float", "1.0", 0.0, 20.0,
                  help="close everything when the loss reaches this fraction of the entry premium "
                       "(0 switches the stop-loss off)"),
    ParameterSpec("min_close_contracts", "int", "1", 1, 1000,
                  help="a profit-taking level that would close fewer contracts is skipped"),
    ParameterSpec("assignment_action", "choice", "close", choices=("close", "hold"),
                  help="shares an assignment delivers: close (at the next session, through the gateway) "
                       "or hold (the wheel)"),
    ParameterSpec("order_style", "choice", "limit", choices=("limit", "market"),
                  help="limit: at mid, repriced toward the far side, then market"),
    ParameterSpec("reprice_seconds", "int", "60", 1, 3600, help="wait before each reprice"),
    ParameterSpec("reprice_max_attempts", "int", "3", 0, 20,
                  help="reprices before falling back to a market order"),
    ParameterSpec("slippage_max_trade_pct", "float", "0.15", 0.001, 1.0,
                  help="per-fill slippage against the mid at order time, as a fraction"),
    ParameterSpec("slippage_max_session_usd", "float", "1000", 1.0, 1_000_000.0,
                  help="slippage per session (exchange day) before the bot turns reduce-only"),
    ParameterSpec("slippage_alert_pct", "float", "0.10", 0.0, 1.0,
                  help="per-fill slippage that is logged as an alert"),
    ParameterSpec("manage_order", "choice", "exits_first", choices=("exits_first", "rolls_first"),
                  help="exits_first: ladder, stop-loss and expiry guard, then rolls for what no exit is "
                       "closing; rolls_first (thetagang): rolls, then exits for what did not roll"),
    ParameterSpec("entry_put_day", "choice", "any", choices=("any", "red", "green"),
                  help="write/buy puts only on a red day (not above the previous close), a green one, or any"),
    ParameterSpec("entry_call_day", "choice", "any", choices=("any", "red", "green"),
                  help="calls only on a green day (not below the previous close), a red one, or any"),
    ParameterSpec("entry_min_move_pct", "float", "0", 0.0, 1.0,
                  help="enter only after |price - previous close| >= this fraction of the close (0: off)"),
    ParameterSpec("entry_min_move_sigma", "float", "0", 0.0, 10.0,
                  help="or >= this many daily sigmas (std of daily log returns; wins over the pct; 0: off)"),
    ParameterSpec("entry_sigma_days", "int", "30", 3, 1000, help="daily closes for the sigma"),
    ParameterSpec("entry_blackout_dates", "dates", "-",
                  help="no entries on these dates, YYYY-MM-DD,... (earnings, events; '-': none)"),
    ParameterSpec("entry_buying_power_pct", "float", "0", 0.0, 1.0,
                  help="size entries at this share of equity (0: entry_quantity); never above "
                       "entry_quantity or the risk limits"),
)

LadderLevel = tuple[float, float]  # (gain as a fraction of the entry premium, fraction to take)


def parse_ladder(text: str) -> tuple[LadderLevel, ...]:
    """'0.5:0.3,1.0:0.5' -> ((0.5, 0.3), (1.0, 0.5)); gains strictly rising, takes in (0, 1]."""
    levels: list[LadderLevel] = []
    if not text.strip():
        return ()
    for part in text.split(","):
        gain_text, sep, take_text = part.strip().partition(":")
        if not sep:
            raise ValueError(f"level {part.strip()!r} is not gain:take")
        gain, take = float(gain_text), float(take_text)
        if not (math.isfinite(gain) and 0 < gain <= 100):
            raise ValueError(f"gain {gain_text.strip()} is outside (0, 100]")
        if not (math.isfinite(take) and 0 < take <= 1):
            raise ValueError(f"take {take_text.strip()} is outside (0, 1]")
        if levels and gain <= levels[-1][0]:
            raise ValueError("gains must rise from level to level")
        levels.append((gain, take))
    return tuple(levels)

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
    if spec.kind == "dates":
        if text in ("", "-"):
            return ()
        try:
            return tuple(sorted({date.fromisoformat(part.strip()) for part in text.split(",")}))
        except ValueError:
            raise bad from None
    if spec.kind == "ladder":
        try:
            return parse_ladder(text)
        except ValueError as exc:
            raise ConfigurationError(spec.name, f"got {raw!r}: {exc}; expected {spec.accepted()}") from None
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
    inbox_poll_minutes: int
    audit_retention_days: int
    profit_ladder: tuple[LadderLevel, ...]
    stop_loss_pct: float
    min_close_contracts: int
    assignment_action: str
    order_style: str
    reprice_seconds: int
    reprice_max_attempts: int
    slippage_max_trade_pct: float
    slippage_max_session_usd: float
    slippage_alert_pct: float
    manage_order: str = "exits_first"
    entry_put_day: str = "any"
    entry_call_day: str = "any"
    entry_min_move_pct: float = 0.0
    entry_min_move_sigma: float = 0.0
    entry_sigma_days: int = 30
    entry_blackout_dates: tuple[date, ...] = ()
    entry_buying_power_pct: float = 0.0

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
        if self.entry_side == OptionSide.SELL and any(gain >= 1 for gain, _ in self.profit_ladder):
            raise ConfigurationError(
                "profit_ladder", "a short option gains at most 100 % of its premium (at a price of "
                f"0): every gain must be below 1 when entry_side is sell, got {self.as_parameters()['profit_ladder']}")
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
            elif spec.kind == "ladder":
                value = ",".join(f"{gain:g}:{take:g}" for gain, take in value)
            elif spec.kind == "dates":
                value = ",".join(d.isoformat() for d in value) or "-"
            elif isinstance(value, bool):
                value = "true" if value else "false"
            out[spec.name] = str(value)
        return out


def parameter_spec(name: str) -> ParameterSpec:
    return _SPECS[name]
