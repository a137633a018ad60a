"""The default entry rule: when flat, open one option at a target |delta| and days to expiry.

The expiry closest to ``entry_target_dte`` inside [entry_min_dte, entry_max_dte] wins (the nearer
one on a tie); inside it, the contract whose |delta| is closest to ``entry_target_delta`` (the
lower strike on a tie). Delta comes from LEAN when it has one, else from our Black-Scholes with
LEAN's implied volatility, else with the volatility implied by the mid price.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

import numpy as np

from models.bot_config import BotConfig, OptionSide, Right
from models.market_data import ContractQuote
from models.option_greeks import bs_delta, implied_volatility

EXPIRY_TIME = time(16, 0)
SECONDS_PER_YEAR = 365.0 * 24 * 3600


@dataclass(frozen=True)
class EntryDecision:
    quote: ContractQuote
    quantity: int  # signed contracts
    delta: float
    delta_source: str  # "market" | "calculated"
    days_to_expiry: int


def years_to_expiry(expiry: date, now: datetime) -> float:
    """Year fraction from ``now`` (exchange time) to 16:00 on the expiry date."""
    seconds = (datetime.combine(expiry, EXPIRY_TIME) - now.replace(tzinfo=None)).total_seconds()
    return max(seconds, 60.0) / SECONDS_PER_YEAR


def _deltas(quotes: Sequence[ContractQuote], spot: float, now: datetime,
            rate: float) -> tuple[list[float], list[str]]:
    deltas = [q.delta for q in quotes]
    sources = ["market" if q.delta != 0.0 else "calculated" for q in quotes]
    missing = [i for i, q in enumerate(quotes) if q.delta == 0.0]
    if missing and spot > 0:
        sub = [quotes[i] for i in missing]
        strikes = np.array([q.strike for q in sub])
        years = np.array([years_to_expiry(q.expiry, now) for q in sub])
        calls = np.array([q.right == Right.CALL for q in sub])
        given_iv = np.array([q.iv for q in sub])
        solved = implied_volatility(np.array([q.mid for q in sub]), spot, strikes, years, rate, calls)
        vol = np.where(given_iv > 0, given_iv, solved)
        computed = bs_delta(spot, strikes, years, vol, rate, calls)
        for j, i in enumerate(missing):
            deltas[i] = float(computed[j])
    return deltas, sources


def choose_entry(config: BotConfig, quotes: Sequence[ContractQuote], spot: float, now: datetime,
                 rate: float) -> EntryDecision | None:
    today = now.date()
    usable = [q for q in quotes
              if q.right == config.entry_right
              and config.entry_min_dte <= q.days_to_expiry(today) <= config.entry_max_dte
              and q.has_two_sided_quote and q.spread_pct <= config.entry_max_spread_pct]
    if not usable:
        return None
    expiry = min({q.expiry for q in usable},
                 key=lambda e: (abs((e - today).days - config.entry_target_dte), e))
    series = [q for q in usable if q.expiry == expiry]
    deltas, sources = _deltas(series, spot, now, rate)
    ranked = [(abs(abs(d) - config.entry_target_delta), q.strike, i)
              for i, (q, d) in enumerate(zip(series, deltas, strict=True)) if math.isfinite(d)]
    if not ranked:
        return None
    _, _, best = min(ranked)
    sign = 1 if config.entry_side == OptionSide.BUY else -1
    return EntryDecision(series[best], sign * config.entry_quantity, deltas[best], sources[best],
                         (expiry - today).days)
