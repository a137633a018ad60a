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
    STOP_MARKET = 2
    STOP_LIMIT = 3
    MARKET_ON_OPEN = 4
    MARKET_ON_CLOSE = 5
    OPTION_EXERCISE = 6
    LIMIT_IF_TOUCHED = 7
    COMBO_MARKET = 8
    COMBO_LIMIT = 9
    COMBO_LEG_LIMIT = 10
    TRAILING_STOP = 11


class OrderField(IntEnum):
    LIMIT_PRICE = 0
    STOP_PRICE = 1
    TRIGGER_PRICE = 2
    TRAILING_AMOUNT = 3
    TRAILING_AS_PERCENTAGE = 4


class DataNormalizationMode(IntEnum):
    RAW = 0
    ADJUSTED = 1
    SPLIT_ADJUSTED = 2
    TOTAL_RETURN = 3
    FORWARD_PANAMA_CANAL = 4
    BACKWARDS_PANAMA_CANAL = 5
    BACKWARDS_RATIO = 6
    SCALED_RAW = 7


FINAL_STATUSES = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.INVALID})
