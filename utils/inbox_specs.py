"""What an inbox request asks for (utils/order_inbox.py carries them): ``OrderSpec`` (one option
contract, bought or sold: a ``submit``) and ``RollSpec`` (a whole bot-managed position moved to a
later expiry and/or another strike as one combo order: a ``roll``). Stdlib only; both validate
themselves on construction and raise ``InboxFormatError`` for anything out of contract."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from models.exceptions import TradingError
from utils.json_fields import has_forbidden_characters, require_field

TICKER_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{0,5}(\.[A-Z])?$")
POSITION_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_QUANTITY, MAX_TEXT = 10_000, 2_000
MAX_NET_PRICE = 1_000_000.0
RIGHTS, SIDES, ORDER_TYPES, HELD_SIDES = ("call", "put"), ("buy", "sell"), ("market", "limit"), ("long", "short")
_NUMBER, _OPTIONAL_NUMBER = (int, float), (int, float, type(None))
_ORDER_FIELDS: dict[str, type | tuple[type, ...]] = {
    "underlying": str, "right": str, "strike": _NUMBER, "side": str, "quantity": int, "order_type": str,
    "limit_price": _OPTIONAL_NUMBER, "confidence": _OPTIONAL_NUMBER, "reasoning": str}
_ROLL_FIELDS: dict[str, type | tuple[type, ...]] = {
    "position_id": str, "underlying": str, "right": str, "strike": _NUMBER, "side": str, "quantity": int,
    "new_strike": _NUMBER, "order_type": str, "limit_price": _OPTIONAL_NUMBER, "confidence": _OPTIONAL_NUMBER,
    "reasoning": str}


class InboxFormatError(TradingError, ValueError):
    """An inbox request or outcome is torn, malformed or violates the contract."""


def require(doc: dict[str, Any], name: str, kinds: type | tuple[type, ...], where: str) -> Any:
    return require_field(doc, name, kinds, where, InboxFormatError)


def one_of(value: str, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise InboxFormatError(f"{where}: must be one of {list(allowed)}, got {value!r}")
    return value


def check_text(value: str | None, where: str, required: bool) -> None:
    if (value is None and required) or (value is not None and (not value.strip() or len(value) > MAX_TEXT)):
        raise InboxFormatError(f"{where}: required, 1..{MAX_TEXT} characters and not blank")
    if value is not None and has_forbidden_characters(value, multiline=True):
        raise InboxFormatError(f"{where}: control characters and lone surrogates are not allowed")


def _strike_and_quantity(strike: float, quantity: int, where: str) -> None:
    if not (math.isfinite(strike) and strike > 0):
        raise InboxFormatError(f"{where}.strike: must be a positive finite number")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 < quantity <= MAX_QUANTITY:
        raise InboxFormatError(f"{where}.quantity: must be an integer in 1..{MAX_QUANTITY}")


def _confidence_and_reasoning(confidence: float | None, reasoning: str, where: str) -> None:
    if confidence is not None and not (math.isfinite(confidence) and 0.0 <= confidence <= 1.0):
        raise InboxFormatError(f"{where}.confidence: must be between 0 and 1")
    check_text(reasoning, f"{where}.reasoning", required=True)


def _date(raw: dict[str, Any], name: str, where: str) -> date:
    text = require(raw, name, str, where)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InboxFormatError(f"{where}.{name}: not an ISO date: {text!r}") from None


def _floats(values: dict[str, Any], names: tuple[str, ...], where: str) -> None:
    for name in names:
        try:
            values[name] = None if values[name] is None else float(values[name])
        except OverflowError:
            raise InboxFormatError(f"{where}.{name}: not a finite number") from None


@dataclass(frozen=True)
class OrderSpec:
    """What a ``submit`` request asks for: one option contract, bought or sold."""

    underlying: str
    right: str  # call | put
    strike: float
    expiry: date
    side: str  # buy | sell
    quantity: int  # contracts, > 0
    order_type: str  # market | limit
    limit_price: float | None
    confidence: float | None  # 0..1, the agent's own confidence (required for ai_agent)
    reasoning: str  # why, for the audit trail

    def __post_init__(self) -> None:
        if not TICKER_PATTERN.match(self.underlying):
            raise InboxFormatError(f"order.underlying: not a ticker: {self.underlying!r}")
        one_of(self.right, RIGHTS, "order.right")
        one_of(self.side, SIDES, "order.side")
        one_of(self.order_type, ORDER_TYPES, "order.order_type")
        _strike_and_quantity(self.strike, self.quantity, "order")
        price = self.limit_price
        if (self.order_type == "limit") != (price is not None) or (price is not None and not (
                math.isfinite(price) and price > 0)):
            raise InboxFormatError("order.limit_price: a limit order needs a positive limit price, a market order none")
        _confidence_and_reasoning(self.confidence, self.reasoning, "order")

    def to_dict(self) -> dict[str, Any]:
        return {**{f.name: getattr(self, f.name) for f in fields(self)}, "expiry": self.expiry.isoformat()}

    @classmethod
    def from_dict(cls, raw: Any) -> OrderSpec:
        if not isinstance(raw, dict):
            raise InboxFormatError("order: expected an object")
        expiry = _date(raw, "expiry", "order")
        values = {name: require(raw, name, kinds, "order") for name, kinds in _ORDER_FIELDS.items()}
        _floats(values, ("strike", "limit_price", "confidence"), "order")
        return cls(expiry=expiry, **values)


@dataclass(frozen=True)
class RollSpec:
    """What a ``roll`` request asks for: the whole position ``position_id`` (which holds ``quantity``
    contracts of the named contract, ``side`` long or short) closed and the same side opened at
    ``new_expiry``/``new_strike``, as ONE combo order. ``limit_price`` is the combo's net price per
    unit (LEAN: sum of ratio x price; negative = a credit); a market roll has none."""

    position_id: str
    underlying: str
    right: str  # call | put (the new contract has the same right)
    strike: float  # the held contract
    expiry: date
    side: str  # the held position: long | short
    quantity: int  # contracts held: a roll moves the whole position
    new_strike: float
    new_expiry: date
    order_type: str  # market | limit
    limit_price: float | None
    confidence: float | None
    reasoning: str

    def __post_init__(self) -> None:
        if not isinstance(self.position_id, str) or not POSITION_ID_PATTERN.match(self.position_id):
            raise InboxFormatError(f"roll.position_id: must match {POSITION_ID_PATTERN.pattern}")
        if not TICKER_PATTERN.match(self.underlying):
            raise InboxFormatError(f"roll.underlying: not a ticker: {self.underlying!r}")
        one_of(self.right, RIGHTS, "roll.right")
        one_of(self.side, HELD_SIDES, "roll.side")
        one_of(self.order_type, ORDER_TYPES, "roll.order_type")
        _strike_and_quantity(self.strike, self.quantity, "roll")
        _confidence_and_reasoning(self.confidence, self.reasoning, "roll")
        if not (math.isfinite(self.new_strike) and self.new_strike > 0):
            raise InboxFormatError("roll.new_strike: must be a positive finite number")
        if self.new_expiry < self.expiry:
            raise InboxFormatError(f"roll.new_expiry: {self.new_expiry} is before the held expiry {self.expiry}")
        if self.new_expiry == self.expiry and self.new_strike == self.strike:
            raise InboxFormatError("roll: the new contract is the held one (change the expiry or the strike)")
        price = self.limit_price
        if (self.order_type == "limit") != (price is not None) or (price is not None and not (
                math.isfinite(price) and price != 0 and abs(price) <= MAX_NET_PRICE)):
            raise InboxFormatError("roll.limit_price: a limit roll needs a non-zero net price (negative = credit), "
                                   "a market roll none")

    def _leg(self, strike: float, expiry: date, closing: bool) -> OrderSpec:
        buys = (self.side == "short") == closing  # a short position is bought back and sold again
        return OrderSpec(self.underlying, self.right, strike, expiry, "buy" if buys else "sell", self.quantity,
                         "market", None, self.confidence, self.reasoning)

    def closing_leg(self) -> OrderSpec:
        """The held contract, taken off (as a single-contract order: for previews and lookups)."""
        return self._leg(self.strike, self.expiry, closing=True)

    def opening_leg(self) -> OrderSpec:
        return self._leg(self.new_strike, self.new_expiry, closing=False)

    def to_dict(self) -> dict[str, Any]:
        return {**{f.name: getattr(self, f.name) for f in fields(self)}, "expiry": self.expiry.isoformat(),
                "new_expiry": self.new_expiry.isoformat()}

    @classmethod
    def from_dict(cls, raw: Any) -> RollSpec:
        if not isinstance(raw, dict):
            raise InboxFormatError("roll: expected an object")
        dates = {name: _date(raw, name, "roll") for name in ("expiry", "new_expiry")}
        values = {name: require(raw, name, kinds, "roll") for name, kinds in _ROLL_FIELDS.items()}
        _floats(values, ("strike", "new_strike", "limit_price", "confidence"), "roll")
        return cls(**dates, **values)
