"""Market data the bot's decisions read, copied out of LEAN objects once per use."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from models.bot_config import Right


class ContractQuote(NamedTuple):
    """One option contract's quote. The Greeks and ``iv`` are 0.0 when LEAN has none yet (LEAN
    conventions, QLOptionPriceModel: per share of the underlying, theta annual, vega and rho per 1 %).

    A NamedTuple (immutable, and several times cheaper to build than a frozen dataclass): the
    adapter builds one per held contract per slice."""

    symbol: str
    right: Right
    strike: float
    expiry: date
    bid: float
    ask: float
    open_interest: float = 0.0
    iv: float = 0.0
    delta: float = 0.0
    gamma: float = 0.0
    theta: float = 0.0
    vega: float = 0.0
    rho: float = 0.0

    @property
    def mid(self) -> float:
        return (self.bid + self.ask) / 2.0

    @property
    def has_market_greeks(self) -> bool:
        """LEAN's Greeks are 0 until both the option and its underlying have prices."""
        return self.iv > 0.0 and self.delta != 0.0 and math.isfinite(self.delta) and math.isfinite(self.iv)

    @property
    def has_two_sided_quote(self) -> bool:
        return self.bid > 0.0 and self.ask >= self.bid and math.isfinite(self.ask)

    @property
    def spread_pct(self) -> float:
        """(ask - bid) / mid; infinite without a two-sided quote."""
        mid = self.mid
        return (self.ask - self.bid) / mid if self.has_two_sided_quote and mid > 0 else float("inf")

    def days_to_expiry(self, today: date) -> int:
        return (self.expiry - today).days


@dataclass(frozen=True)
class PortfolioView:
    """The account figures the snapshot reports, read from LEAN's portfolio."""

    total_portfolio_value: float
    cash: float
    unrealized_profit: float
    total_fees: float
