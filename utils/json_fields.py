"""Strict field access for the JSON documents the Object Store carries (snapshot, inbox)."""

from __future__ import annotations

import math
from typing import Any


def require_field(doc: dict[str, Any], name: str, kinds: type | tuple[type, ...], where: str,
                  error: type[Exception]) -> Any:
    """``doc[name]`` when it is there and of ``kinds`` (a bool is not a number; a float must be
    finite); otherwise ``error`` naming ``where.name``."""
    if name not in doc:
        raise error(f"{where}: missing field '{name}'")
    value = doc[name]
    allowed = kinds if isinstance(kinds, tuple) else (kinds,)
    if isinstance(value, bool) and bool not in allowed:
        raise error(f"{where}.{name}: expected {allowed}, got a boolean")
    if not isinstance(value, allowed):
        raise error(f"{where}.{name}: expected {allowed}, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise error(f"{where}.{name}: not a finite number")
    return value
