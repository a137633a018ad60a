"""Strict field access for the JSON documents the Object Store carries (snapshot, inbox)."""

from __future__ import annotations

import math
import re
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


_CONTROL_OR_SURROGATE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")  # free text may hold \t and \n


def has_forbidden_characters(value: str, multiline: bool = False) -> bool:
    """True when ``value`` holds a control character or a lone surrogate (unencodable in UTF-8);
    ``multiline`` free text may hold tabs and newlines."""
    return (_CONTROL_IN_TEXT if multiline else _CONTROL_OR_SURROGATE).search(value) is not None
