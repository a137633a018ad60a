"""The gateway context the algorithm publishes in its snapshot (``risk.gateway_context``), read back.

``models.pre_trade_rules.context_to_dict`` writes it; this reads it for the sidecar's dry run
(services/gateway_dry_run.py) with the strict field access the other Object Store documents use
(utils/json_fields.py): a ValueError naming the field on anything malformed or out of range.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from models.pre_trade_rules import PreTradeContext
from models.trading_state import TradingState
from utils.json_fields import require_field

WHERE = "gateway context"


def _get(doc: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    return require_field(doc, key, kind, WHERE, ValueError)


def _finite(value: Any, what: str) -> float:
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"{WHERE}: {what} is out of range") from None
    if not math.isfinite(number):
        raise ValueError(f"{WHERE}: {what} is not finite")
    return number


def _number(doc: dict[str, Any], key: str) -> float:
    if doc.get(key) is None:
        return math.nan  # written for a non-finite figure: fails the checks that need it
    return _finite(_get(doc, key, (int, float)), key)


def _count(doc: dict[str, Any], key: str) -> int:
    value = _get(doc, key, int)
    if not 0 <= value <= 10**9:
        raise ValueError(f"{WHERE}: {key} must be >= 0, got {value!r}")
    return value


def _map(doc: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> dict[str, Any]:
    raw: Mapping[Any, Any] = _get(doc, key, dict)
    for name, value in raw.items():
        if not isinstance(name, str) or isinstance(value, bool) or not isinstance(value, kind):
            raise ValueError(f"{WHERE}: {key}[{name!r}] is {value!r}")
        if isinstance(value, int | float):
            _finite(value, f"{key}[{name!r}]")
    return dict(raw)


def context_from_dict(doc: Any) -> PreTradeContext:
    """The context back from its JSON form; ValueError naming the field on anything malformed."""
    if not isinstance(doc, dict):
        raise ValueError(f"{WHERE} must be an object, got {type(doc).__name__}")
    raw_recent, working = _get(doc, "recent_order_times", list), _get(doc, "working_symbols", list)
    if not all(isinstance(t, str) for t in raw_recent + working):
        raise ValueError(f"{WHERE}: recent_order_times and working_symbols must be strings")
    try:
        state = TradingState(_get(doc, "trading_state", str))
        now = datetime.fromisoformat(_get(doc, "now", str))
        recent = [datetime.fromisoformat(t) for t in raw_recent]
    except ValueError as exc:
        raise ValueError(f"{WHERE}: {exc}") from exc
    if any((t.tzinfo is None) != (now.tzinfo is None) for t in recent):
        raise ValueError(f"{WHERE}: recent_order_times and now mix naive and time-zone-aware times")
    return PreTradeContext(
        now=now, portfolio_value=_number(doc, "portfolio_value"), positions=_map(doc, "positions", int),
        prices=_map(doc, "prices", (int, float)), multipliers=_map(doc, "multipliers", (int, float)),
        open_positions=_count(doc, "open_positions"), orders_today=_count(doc, "orders_today"),
        recent_order_times=recent, portfolio_dollar_delta=_number(doc, "portfolio_dollar_delta"),
        portfolio_vega=_number(doc, "portfolio_vega"),
        dollar_delta_per_contract=_map(doc, "dollar_delta_per_contract", (int, float)),
        vega_per_contract=_map(doc, "vega_per_contract", (int, float)),
        session_start_equity=_number(doc, "session_start_equity"),
        equity_high_watermark=_number(doc, "equity_high_watermark"), trading_state=state,
        underlyings=_map(doc, "underlyings", str), pending=_map(doc, "pending", int),
        working_symbols=frozenset(working))
