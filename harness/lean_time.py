"""LEAN's time-zone helpers the examples use: ``Extensions.convert_from_utc`` /
``convert_to_utc`` [Common/Extensions.cs] and a security's ``exchange`` (SecurityExchange:
``time_zone``, ``hours``). US equities and options trade in New York time."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")


class Extensions:
    @staticmethod
    def convert_from_utc(time: datetime, to: tzinfo, strict: bool = False) -> datetime:
        """A naive UTC time as the naive local time of ``to``."""
        return time.replace(tzinfo=UTC).astimezone(to).replace(tzinfo=None)

    @staticmethod
    def convert_to_utc(time: datetime, from_: tzinfo, strict: bool = False) -> datetime:
        return time.replace(tzinfo=from_).astimezone(UTC).replace(tzinfo=None)


class SecurityExchange:
    """``security.exchange``: the exchange's time zone and hours (market-hours database)."""

    def __init__(self, hours: Any, time_zone: tzinfo = NEW_YORK) -> None:
        self.hours = hours
        self.time_zone = time_zone
