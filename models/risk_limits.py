"""Single source of truth for every risk limit (seed 5.1). DO NOT DUPLICATE THESE VALUES ELSEWHERE.

The defaults live only in the ``RiskLimits`` field defaults below. A limit is taken, in this order,
from:

1. the LEAN parameter (config.json "parameters", read with ``get_parameter``), named as the
   environment variable in lower case: ``risk_max_daily_loss_pct``, ``risk_max_position_pct``, ...
2. the environment variable (``RISK_*``; the seed's Appendix D names ``RISK_MAX_POSITION_PCT``,
   ``RISK_MAX_ORDER_VALUE`` and ``RISK_MAX_DAILY_LOSS_PCT`` are kept),
3. the default.

A missing or empty value means "not given here". Every value is checked for type and range; a bad
one raises ``ConfigurationError`` naming the parameter or variable it came from (or the field,
when a ``RiskLimits`` is built directly).

``RISK_LIMITS`` is built from the environment at import. A malformed ``RISK_*`` variable therefore
fails the import with a ``ConfigurationError`` that names the variable: a limit the operator set
and we could not read is never silently replaced by a default.

Boundary semantics (shared by the gateway and the circuit breaker): a *cap* on exposure or on
order flow is inclusive (a value exactly at the limit passes); a *loss trigger* fires when the
limit is reached (a loss exactly at the limit trips). Both compare with ``LIMIT_TOLERANCE`` so
that float rounding does not move the boundary.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from models.exceptions import ConfigurationError

LIMIT_TOLERANCE = 1e-9  # relative; see within_limit / limit_reached
_TICKER = re.compile(r"^[A-Z][A-Z0-9]{0,5}(\.[A-Z])?$")
NO_SYMBOLS = "-"  # parameter/env value meaning "block no symbols"


def within_limit(value: float, limit: float) -> bool:
    """Inclusive cap: ``value <= limit`` up to float rounding."""
    return value <= limit + LIMIT_TOLERANCE * max(1.0, abs(limit))


def limit_reached(value: float, limit: float) -> bool:
    """Loss trigger: ``value >= limit`` up to float rounding."""
    return value >= limit - LIMIT_TOLERANCE * max(1.0, abs(limit))


@dataclass(frozen=True)
class _Spec:
    field: str
    env: str
    kind: str  # "float" | "int" | "bool" | "symbols"
    minimum: float = 0.0
    maximum: float = 0.0
    exclusive_minimum: bool = True
    help: str = ""

    @property
    def parameter(self) -> str:
        return self.env.lower()

    def accepted(self) -> str:
        if self.kind == "bool":
            return "true or false"
        if self.kind == "symbols":
            return f"comma-separated upper-case tickers, or '{NO_SYMBOLS}' for none"
        low = "above" if self.exclusive_minimum else "from"
        return f"{'an integer' if self.kind == 'int' else 'a number'} {low} {self.minimum:g} up to {self.maximum:g}"


SPECS: tuple[_Spec, ...] = (
    _Spec("max_position_size_pct", "RISK_MAX_POSITION_PCT", "float", 0.0, 1.0,
          help="market value of one contract position / portfolio value"),
    _Spec("max_single_order_value", "RISK_MAX_ORDER_VALUE", "float", 0.0, 1e12,
          help="USD value of the exposure-adding legs of one order"),
    _Spec("max_daily_orders", "RISK_MAX_DAILY_ORDERS", "int", 1, 100_000, False,
          help="orders per exchange session after which exposure-adding orders are refused"),
    _Spec("max_daily_loss_pct", "RISK_MAX_DAILY_LOSS_PCT", "float", 0.0, 1.0,
          help="loss vs the session's start equity that halts trading"),
    _Spec("max_drawdown_pct", "RISK_MAX_DRAWDOWN_PCT", "float", 0.0, 1.0,
          help="fall from the equity high watermark that halts trading"),
    _Spec("max_consecutive_losses", "RISK_MAX_CONSECUTIVE_LOSSES", "int", 1, 1000, False,
          help="losing closes in a row that switch trading to reducing-only"),
    _Spec("blocked_symbols", "RISK_BLOCKED_SYMBOLS", "symbols",
          help="underlyings (or contracts) no exposure may be added in"),
    _Spec("max_open_positions", "RISK_MAX_OPEN_POSITIONS", "int", 1, 10_000, False,
          help="contract positions held at once"),
    _Spec("max_orders_per_minute", "RISK_MAX_ORDERS_PER_MINUTE", "int", 1, 10_000, False,
          help="exposure-adding order rate over a sliding 60 s window (algorithm time)"),
    _Spec("max_abs_dollar_delta", "RISK_MAX_ABS_DOLLAR_DELTA", "float", 0.0, 1e12,
          help="|portfolio dollar delta| (USD per 1.00 move of the underlyings x price)"),
    _Spec("max_abs_vega", "RISK_MAX_ABS_VEGA", "float", 0.0, 1e12,
          help="|portfolio vega| in USD per one volatility point"),
    _Spec("daily_loss_clears_next_session", "RISK_DAILY_LOSS_CLEARS_NEXT_SESSION", "bool",
          help="a daily-loss halt clears by itself at the next exchange session"),
    _Spec("halted_allows_closes", "RISK_HALTED_ALLOWS_CLOSES", "bool",
          help="exposure-reducing orders (stops, closes) still pass when HALTED"),
)
_BY_FIELD = {spec.field: spec for spec in SPECS}


@dataclass(frozen=True)
class RiskLimits:
    """Immutable risk limits configuration. The field defaults are the only defaults."""

    # Position sizing and order flow
    max_position_size_pct: float = 0.25  # 25% of portfolio value per contract position
    max_single_order_value: float = 50_000.0
    max_daily_orders: int = 100
    # Loss limits (circuit breaker)
    max_daily_loss_pct: float = 0.03
    max_drawdown_pct: float = 0.10
    max_consecutive_losses: int = 5
    # Blocked underlyings / contracts
    blocked_symbols: frozenset[str] = frozenset({"GME", "AMC", "BBBY"})
    # Portfolio shape
    max_open_positions: int = 10
    max_orders_per_minute: int = 10
    max_abs_dollar_delta: float = 100_000.0
    max_abs_vega: float = 5_000.0
    # Circuit-breaker behaviour
    daily_loss_clears_next_session: bool = True
    halted_allows_closes: bool = True

    def __post_init__(self) -> None:
        for spec in SPECS:
            object.__setattr__(self, spec.field, _check(spec, getattr(self, spec.field), spec.field))

    # -- constructors --------------------------------------------------------------------------
    @classmethod
    def from_parameters(cls, lookup: Callable[[str], str | None],
                        environ: Mapping[str, str] | None = None) -> RiskLimits:
        """Parameter (``lookup(name)``, e.g. LEAN's ``get_parameter``) > ``RISK_*`` env > default."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in SPECS:
            raw, source = lookup(spec.parameter), spec.parameter
            if raw is None or not raw.strip():
                raw, source = env.get(spec.env), spec.env
            if raw is None or not raw.strip():
                continue
            values[spec.field] = _parse(spec, raw, source)
        return cls(**values)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RiskLimits:
        """The seed's API: ``RISK_*`` environment variables over the defaults."""
        return cls.from_parameters(lambda _name: None, environ)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> RiskLimits:
        """Back from ``as_dict`` (the snapshot's ``risk.limits``); keys it does not know are
        ignored (a newer writer), a missing one takes its default, a bad value raises ValueError."""
        known = {item.name for item in fields(cls)}
        values = {k: v for k, v in doc.items() if k in known}
        if "blocked_symbols" in values:
            raw = values["blocked_symbols"]
            if not isinstance(raw, list | tuple) or not all(isinstance(s, str) for s in raw):
                raise ValueError(f"blocked_symbols must be a list of tickers, got {raw!r}")
            values["blocked_symbols"] = frozenset(raw)
        try:
            return cls(**values)
        except TypeError as exc:
            raise ValueError(str(exc)) from exc

    # -- export --------------------------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view for the state snapshot (blocked symbols as a sorted list)."""
        out: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            out[item.name] = sorted(value) if isinstance(value, frozenset) else value
        return out

    def as_parameters(self) -> dict[str, str]:
        """The limits as LEAN parameter strings (``risk_*`` names); round-trips ``from_parameters``."""
        out: dict[str, str] = {}
        for spec in SPECS:
            value = getattr(self, spec.field)
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, frozenset):
                text = ",".join(sorted(value)) or NO_SYMBOLS
            else:
                text = repr(value)
            out[spec.parameter] = text
        return out


def parameter_name(field_name: str) -> str:
    """config.json parameter name of a ``RiskLimits`` field (``risk_max_position_pct``...)."""
    return _BY_FIELD[field_name].parameter


def env_name(field_name: str) -> str:
    return _BY_FIELD[field_name].env


def _parse(spec: _Spec, raw: str, source: str) -> Any:
    text = raw.strip()
    bad = ConfigurationError(source, f"got {raw!r}; expected {spec.accepted()}")
    if spec.kind == "bool":
        if text.lower() not in ("true", "false"):
            raise bad
        return text.lower() == "true"
    if spec.kind == "symbols":
        if text == NO_SYMBOLS:
            return frozenset()
        symbols = [part.strip().upper() for part in text.split(",")]
        if any(not _TICKER.match(symbol) for symbol in symbols):
            raise bad
        return frozenset(symbols)
    try:
        value: float = int(text) if spec.kind == "int" else float(text)
    except ValueError:
        raise bad from None
    return _check(spec, value, source)


def _check(spec: _Spec, value: Any, name: str) -> Any:
    """Type and range check of one value; returns it normalised (ints as floats for floats)."""
    wrong = ConfigurationError(name, f"got {value!r}; expected {spec.accepted()}")
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise wrong
        return value
    if spec.kind == "symbols":
        if not isinstance(value, frozenset) or not all(
                isinstance(s, str) and _TICKER.match(s) for s in value):
            raise wrong
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise wrong
    if spec.kind == "int" and not isinstance(value, int):
        raise wrong
    if not math.isfinite(value):
        raise wrong
    too_low = value <= spec.minimum if spec.exclusive_minimum else value < spec.minimum
    if too_low or value > spec.maximum:
        raise wrong
    return float(value) if spec.kind == "float" else value


# Global instance (seed 5.1 API). Raises ConfigurationError at import on a malformed RISK_* variable.
RISK_LIMITS = RiskLimits.from_env()
