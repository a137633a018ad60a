"""The roll knobs (issue 4), read from LEAN parameters named ``roll_*`` and validated in one place.

Mirrors ``models.bot_config``: every value in config.json is a string; ``RollConfig.from_parameters``
takes ``lookup(name) -> str | None`` (``QCAlgorithm.get_parameter`` in LEAN, a dict's ``get`` in
tests), parses each ``roll_*`` value, and a missing or empty one takes the default listed in
``ROLL_PARAMETERS``. Each dataclass field is its parameter name without the ``roll_`` prefix.

Validation lives in ``__post_init__``, so ``RollConfig(...)`` and ``dataclasses.replace`` are
checked exactly like parsed parameters: a value out of range, or two values that contradict each
other, raise ``ConfigurationError`` naming the parameter (``roll_...``) and what it accepts.

Switches: ``roll_pnl`` 0 and ``roll_max_dte`` 0 turn those rules off; ``roll_put_strike_cap`` is
``premium`` (new strike <= old strike + premium received, the issue's rule), ``profit`` (thetagang's
rule: old strike + the profit still in the position, never below the old strike, never above it
when the put is in the money) or ``off``. The roll economics (``roll_min_credit``,
``roll_min_credit_pct``, ``roll_max_debit``, ``roll_max_debit_pct``, issue 19) take a number or
``off``. ``roll_close_if_unable_to_roll`` is ``never | always | profitable``; the old boolean values
still parse ("true" -> always, "false" -> never); ``RollConfig.notes`` says so, and the roll manager
logs each note as ROLL_PARAMETER_LEGACY_VALUE (models/ does no logging).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum, StrEnum
from typing import Any

from models.bot_config import ParameterSpec, Right
from models.exceptions import ConfigurationError

PREFIX = "roll_"


class PutStrikeCap(StrEnum):
    PREMIUM = "premium"  # new strike <= old strike + premium received per share
    PROFIT = "profit"  # thetagang: old strike + max(0, premium received - cost to close)
    OFF = "off"


class CloseIfUnable(StrEnum):
    """What a position due to roll does when no contract qualifies (``roll_close_if_unable_to_roll``)."""

    NEVER = "never"  # hold it (the expiry guard still protects it)
    ALWAYS = "always"  # close it whatever its P&L
    PROFITABLE = "profitable"  # thetagang: close only at P&L > 0 inside the roll DTE window


class TargetChoice(StrEnum):
    """How the roll target is picked among the contracts that pass every criterion."""

    CLOSEST_DELTA = "closest_delta"  # |delta| nearest roll_target_delta, then the nearest expiry
    SOONEST_EXPIRY = "soonest_expiry"  # thetagang: soonest expiry, highest |delta| <= target (fallback below)


LEGACY_CLOSE_IF_UNABLE = {"true": CloseIfUnable.ALWAYS, "false": CloseIfUnable.NEVER}
_CHOICES: dict[str, type[StrEnum]] = {"roll_put_strike_cap": PutStrikeCap,
                                      "roll_close_if_unable_to_roll": CloseIfUnable,
                                      "roll_target_choice": TargetChoice}

ROLL_PARAMETERS: tuple[ParameterSpec, ...] = (
    ParameterSpec("roll_enabled", "bool", "true", help="roll bot-managed positions to a later expiry"),
    ParameterSpec("roll_dte", "int", "10", 0, 365,
                  help="roll when days to expiry <= this (and P&L >= roll_min_pnl)"),
    ParameterSpec("roll_pnl", "float", "0.9", 0.0, 1.0,
                  help="or roll when P&L >= this fraction of the maximum profit (0 switches it off)"),
    ParameterSpec("roll_min_pnl", "float", "0.0", -100.0, 1.0,
                  help="never roll (by DTE or P&L) below this P&L; -1 allows a loss of 100 % of the premium"),
    ParameterSpec("roll_max_dte", "int", "0", 0, 1000,
                  help="never roll a position with more days to expiry than this (0 switches it off)"),
    ParameterSpec("roll_put_itm", "bool", "true", help="roll puts that are in the money"),
    ParameterSpec("roll_call_itm", "bool", "true", help="roll calls that are in the money"),
    ParameterSpec("roll_put_always_when_itm", "bool", "false",
                  help="roll an in-the-money put whatever its DTE and P&L (roll_max_dte still applies)"),
    ParameterSpec("roll_call_always_when_itm", "bool", "false",
                  help="roll an in-the-money call whatever its DTE and P&L (roll_max_dte still applies)"),
    ParameterSpec("roll_credit_only", "bool", "false",
                  help="a short position rolls only for a net credit at the far side of both legs"),
    ParameterSpec("roll_close_if_unable_to_roll", "choice", "profitable", choices=tuple(c.value for c in CloseIfUnable),
                  help="due to roll and no contract qualifies: never = hold; always = close; profitable = close "
                       "only at P&L > 0 with DTE inside the roll window (roll_max_dte when set, else roll_dte); "
                       "the old true/false mean always/never"),
    ParameterSpec("roll_min_credit", "float_off", "off", 0.0, 1000.0,
                  help="a short roll must collect at least this net credit per share at the price it works at"),
    ParameterSpec("roll_min_credit_pct", "float_off", "off", 0.0, 10.0,
                  help="a short roll must collect at least this fraction of the premium received"),
    ParameterSpec("roll_max_debit", "float_off", "off", 0.0, 1000.0,
                  help="a short roll pays at most this net debit per share at the price it works at"),
    ParameterSpec("roll_max_debit_pct", "float_off", "0.5", 0.0, 10.0,
                  help="a short roll pays at most this fraction of the premium received as a net debit"),
    ParameterSpec("roll_atm_is_itm", "bool", "false",
                  help="count an at-the-money option (strike = spot) as in the money (thetagang does)"),
    ParameterSpec("roll_target_choice", "choice", "closest_delta", choices=tuple(c.value for c in TargetChoice),
                  help="closest_delta = |delta| nearest the target; soonest_expiry = thetagang's soonest expiry "
                       "with the highest |delta| <= target, falling back to the lowest |delta| above it"),
    ParameterSpec("roll_target_min_dte", "int", "21", 1, 1000, help="new contract: fewest days to expiry"),
    ParameterSpec("roll_target_max_dte", "int", "60", 1, 1000, help="new contract: most days to expiry"),
    ParameterSpec("roll_target_delta", "float", "0.30", 0.01, 0.99, help="new contract: |delta| wanted"),
    ParameterSpec("roll_min_open_interest", "int", "0", 0, 100_000_000,
                  help="new contract: least open interest"),
    ParameterSpec("roll_max_spread_pct", "float", "0.25", 0.001, 2.0,
                  help="new contract: largest (ask - bid) / mid"),
    ParameterSpec("roll_put_strike_cap", "choice", "premium", choices=tuple(c.value for c in PutStrikeCap),
                  help="short put: premium = new strike <= old strike + premium received; profit = "
                       "thetagang's cap; off"),
    ParameterSpec("roll_call_strike_floor", "bool", "true", help="short call: new strike >= old strike"),
    ParameterSpec("roll_market_fallback", "bool", "true",
                  help="after the limit reprices, send the roll as a combo market order"),
    ParameterSpec("roll_leg_timeout_seconds", "int", "300", 1, 86_400,
                  help="a leg still unfilled this long after the other filled is repaired"),
)

_SPECS = {spec.name: spec for spec in ROLL_PARAMETERS}


def roll_parameter_spec(name: str) -> ParameterSpec:
    return _SPECS[name]


def _accepted(spec: ParameterSpec) -> str:
    if spec.kind == "float_off":
        return f"off or a number from {spec.minimum:g} to {spec.maximum:g}"
    if spec.name == "roll_close_if_unable_to_roll":
        return spec.accepted() + " (legacy: true = always, false = never)"
    return spec.accepted()


def _parse(spec: ParameterSpec, raw: str) -> Any:
    """One LEAN parameter string to its typed value (range checks happen in ``__post_init__``)."""
    text = raw.strip()
    bad = ConfigurationError(spec.name, f"got {raw!r}; expected {_accepted(spec)}")
    if spec.kind == "float_off" and text.lower() == "off":
        return None
    if spec.kind == "int":
        try:
            return int(text)
        except ValueError:
            raise bad from None
    if spec.kind in ("float", "float_off"):
        try:
            return float(text)
        except ValueError:
            raise bad from None
    if spec.kind == "bool":
        if text.lower() not in ("true", "false"):
            raise bad
        return text.lower() == "true"
    if spec.name == "roll_close_if_unable_to_roll" and text.lower() in LEGACY_CLOSE_IF_UNABLE:
        return LEGACY_CLOSE_IF_UNABLE[text.lower()]
    if text.lower() not in spec.choices:
        raise bad
    return _CHOICES[spec.name](text.lower())


def _check_value(spec: ParameterSpec, value: Any) -> None:
    bad = ConfigurationError(spec.name, f"got {value!r}; expected {_accepted(spec)}")
    if spec.kind == "float_off" and value is None:
        return
    if spec.kind in ("int", "float", "float_off"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad
        if spec.kind == "int" and not isinstance(value, int):
            raise bad
        assert spec.minimum is not None and spec.maximum is not None
        if not (math.isfinite(value) and spec.minimum <= value <= spec.maximum):
            raise bad
    elif spec.kind == "bool":
        if not isinstance(value, bool):
            raise bad
    elif not isinstance(value, _CHOICES[spec.name]):
        raise bad


@dataclass(frozen=True)
class RollConfig:
    """When to roll and what to roll into. Defaults are those of ``ROLL_PARAMETERS``."""

    enabled: bool = True
    dte: int = 10
    pnl: float = 0.9
    min_pnl: float = 0.0
    max_dte: int = 0
    put_itm: bool = True
    call_itm: bool = True
    put_always_when_itm: bool = False
    call_always_when_itm: bool = False
    credit_only: bool = False
    close_if_unable_to_roll: CloseIfUnable = CloseIfUnable.PROFITABLE
    min_credit: float | None = None  # per share; None = off
    min_credit_pct: float | None = None  # of the premium received
    max_debit: float | None = None
    max_debit_pct: float | None = 0.5
    atm_is_itm: bool = False
    target_choice: TargetChoice = TargetChoice.CLOSEST_DELTA
    target_min_dte: int = 21
    target_max_dte: int = 60
    target_delta: float = 0.30
    min_open_interest: int = 0
    max_spread_pct: float = 0.25
    put_strike_cap: PutStrikeCap = PutStrikeCap.PREMIUM
    call_strike_floor: bool = True
    market_fallback: bool = True
    leg_timeout_seconds: int = 300

    def __post_init__(self) -> None:
        legacy = self.close_if_unable_to_roll
        if isinstance(legacy, bool):  # the old boolean field: True = always, False = never
            object.__setattr__(self, "close_if_unable_to_roll", CloseIfUnable.ALWAYS if legacy else CloseIfUnable.NEVER)
        for spec in ROLL_PARAMETERS:
            _check_value(spec, getattr(self, spec.name.removeprefix(PREFIX)))
        self._check_relations()

    @classmethod
    def from_parameters(cls, lookup: Callable[[str], str | None]) -> RollConfig:
        """Build the config from ``lookup(name) -> str | None``; ``None`` or "" means the default."""
        values: dict[str, Any] = {}
        notes: list[str] = []
        for spec in ROLL_PARAMETERS:
            raw = lookup(spec.name)
            text = spec.default if raw is None or raw == "" else raw
            values[spec.name.removeprefix(PREFIX)] = value = _parse(spec, text)
            if spec.name == "roll_close_if_unable_to_roll" and text.strip().lower() in LEGACY_CLOSE_IF_UNABLE:
                notes.append(f"{spec.name}={text.strip()} is the old boolean form, read as {value.value!r}; "
                             f"write one of {', '.join(spec.choices)} (the default is now {spec.default!r})")
        config = cls(**values)
        object.__setattr__(config, "_notes", tuple(notes))  # not a field: every field is a parameter
        return config

    @property
    def notes(self) -> tuple[str, ...]:
        """Parameters ``from_parameters`` read in a legacy form (for a warning in the log)."""
        notes: tuple[str, ...] = getattr(self, "_notes", ())
        return notes

    def _check_relations(self) -> None:
        if self.target_min_dte > self.target_max_dte:
            raise ConfigurationError(
                "roll_target_min_dte",
                f"{self.target_min_dte} exceeds roll_target_max_dte {self.target_max_dte}")
        if self.target_min_dte <= self.dte:
            raise ConfigurationError(
                "roll_target_min_dte",
                f"{self.target_min_dte} must exceed roll_dte {self.dte}, or the new contract would be "
                "due to roll again at once")
        if self.max_dte and self.max_dte < self.dte:
            raise ConfigurationError(
                "roll_max_dte", f"{self.max_dte} is below roll_dte {self.dte} (0 switches roll_max_dte off)")
        if self.pnl > 0 and self.min_pnl > self.pnl:
            raise ConfigurationError(
                "roll_min_pnl", f"{self.min_pnl:g} exceeds roll_pnl {self.pnl:g}: the P&L rule could never fire")
        for right, itm, always in ((Right.PUT, self.put_itm, self.put_always_when_itm),
                                   (Right.CALL, self.call_itm, self.call_always_when_itm)):
            if always and not itm:
                raise ConfigurationError(
                    f"roll_{right.value}_always_when_itm",
                    f"true contradicts roll_{right.value}_itm false (set roll_{right.value}_itm true)")

    def itm_allowed(self, right: Right) -> bool:
        """Whether an in-the-money position of this right may roll at all."""
        return self.put_itm if right == Right.PUT else self.call_itm

    def always_when_itm(self, right: Right) -> bool:
        return self.put_always_when_itm if right == Right.PUT else self.call_always_when_itm

    @property
    def close_window_dte(self) -> int:
        """The DTE at or below which ``profitable`` may close: roll_max_dte when set, else roll_dte."""
        return self.max_dte or self.dte

    def min_net_credit(self, premium: float) -> float:
        """The least net credit per share a short roll may work at (negative: the largest debit),
        the strictest of the four economics knobs; -inf when all are off (``roll_credit_only`` is a
        criterion of its own, at the far side)."""
        floors = [-math.inf]
        if self.min_credit is not None:
            floors.append(self.min_credit)
        if self.min_credit_pct is not None:
            floors.append(self.min_credit_pct * premium)
        if self.max_debit is not None:
            floors.append(-self.max_debit)
        if self.max_debit_pct is not None:
            floors.append(-self.max_debit_pct * premium)
        return max(floors)

    @property
    def leg_timeout(self) -> timedelta:
        return timedelta(seconds=self.leg_timeout_seconds)

    def as_parameters(self) -> dict[str, str]:
        """The config as LEAN parameter strings (for config.json, the snapshot and round trips)."""
        out: dict[str, str] = {}
        for spec in ROLL_PARAMETERS:
            value = getattr(self, spec.name.removeprefix(PREFIX))
            if isinstance(value, bool):
                out[spec.name] = "true" if value else "false"
            elif isinstance(value, Enum):
                out[spec.name] = str(value.value)
            elif value is None:
                out[spec.name] = "off"
            else:
                out[spec.name] = str(value)
        return out
