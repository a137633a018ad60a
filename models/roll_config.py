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
when the put is in the money) or ``off``.
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
    ParameterSpec("roll_close_if_unable_to_roll", "bool", "false",
                  help="close the position when it is due to roll and no contract qualifies"),
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


def _parse(spec: ParameterSpec, raw: str) -> Any:
    """One LEAN parameter string to its typed value (range checks happen in ``__post_init__``)."""
    text = raw.strip()
    bad = ConfigurationError(spec.name, f"got {raw!r}; expected {spec.accepted()}")
    if spec.kind == "int":
        try:
            return int(text)
        except ValueError:
            raise bad from None
    if spec.kind == "float":
        try:
            return float(text)
        except ValueError:
            raise bad from None
    if spec.kind == "bool":
        if text.lower() not in ("true", "false"):
            raise bad
        return text.lower() == "true"
    if text.lower() not in spec.choices:
        raise bad
    return PutStrikeCap(text.lower())


def _check_value(spec: ParameterSpec, value: Any) -> None:
    bad = ConfigurationError(spec.name, f"got {value!r}; expected {spec.accepted()}")
    if spec.kind in ("int", "float"):
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
    elif not isinstance(value, PutStrikeCap):
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
    close_if_unable_to_roll: bool = False
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
        for spec in ROLL_PARAMETERS:
            _check_value(spec, getattr(self, spec.name.removeprefix(PREFIX)))
        self._check_relations()

    @classmethod
    def from_parameters(cls, lookup: Callable[[str], str | None]) -> RollConfig:
        """Build the config from ``lookup(name) -> str | None``; ``None`` or "" means the default."""
        values: dict[str, Any] = {}
        for spec in ROLL_PARAMETERS:
            raw = lookup(spec.name)
            values[spec.name.removeprefix(PREFIX)] = _parse(spec, spec.default if raw is None or raw == "" else raw)
        return cls(**values)

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
            else:
                out[spec.name] = str(value)
        return out
