"""LEAN enums the bot uses, with LEAN's member names and integer values (quantconnect-stubs)."""

from __future__ import annotations

from enum import IntEnum


class Resolution(IntEnum):
    TICK = 0
    SECOND = 1
    MINUTE = 2
    HOUR = 3
    DAILY = 4


class OptionRight(IntEnum):
    CALL = 0
    PUT = 1


class OptionStyle(IntEnum):
    AMERICAN = 0
    EUROPEAN = 1


class Market:
    """Market names (QuantConnect.Market); the harness simulates US equity options only."""

    USA = "usa"


class OrderDirection(IntEnum):
    BUY = 0
    SELL = 1
    HOLD = 2


class OrderStatus(IntEnum):
    NEW = 0
    SUBMITTED = 1
    PARTIALLY_FILLED = 2
    FILLED = 3
    CANCELED = 5
    NONE = 6
    INVALID = 7
    CANCEL_PENDING = 8
    UPDATE_SUBMITTED = 9


class SecurityType(IntEnum):
    BASE = 0
    EQUITY = 1
    OPTION = 2


class OrderType(IntEnum):
    MARKET = 0
    LIMIT = 1
    OPTION_EXERCISE = 6
    COMBO_MARKET = 9
    COMBO_LIMIT = 10


FINAL_STATUSES = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.INVALID})
