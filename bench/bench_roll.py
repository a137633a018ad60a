"""Benchmark of one roll decision (issue 4), printed figures, no pass/fail:

``should_roll`` + ``find_roll_target`` for a short put due to roll, over a 400-contract chain
(10 expiries x 20 strikes x 2 rights, Black-Scholes priced with a bid/ask spread), median µs per
decision, in two cases: LEAN's Greeks present on every quote, and no Greeks at all (every
candidate's delta solved from its mid by our vectorised Black-Scholes).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from execution.bot_managed_positions import BotManagedPosition  # noqa: E402
from execution.rolls.roll_rules import should_roll  # noqa: E402
from execution.rolls.roll_target import RollTarget, find_roll_target  # noqa: E402
from models.bot_config import Right  # noqa: E402
from models.market_data import ContractQuote  # noqa: E402
from models.option_greeks import bs_greeks  # noqa: E402
from models.roll_config import RollConfig  # noqa: E402

TODAY = date(2016, 1, 4)
SPOT = 750.0
RATE = 0.01
REPEATS = 2000


def osi(underlying: str, expiry: date, right: Right, strike: float) -> str:
    return f"{underlying:<6}{expiry:%y%m%d}{'C' if right == Right.CALL else 'P'}{round(strike * 1000):08d}"


def chain(with_greeks: bool) -> list[ContractQuote]:
    quotes: list[ContractQuote] = []
    for week in range(10):
        expiry = TODAY + timedelta(days=5 + 7 * week)
        years = (expiry - TODAY).days / 365.0
        for right in (Right.PUT, Right.CALL):
            strikes = np.arange(SPOT - 100.0, SPOT + 100.0, 10.0)
            g = bs_greeks(right == Right.CALL, SPOT, strikes, years, RATE, 0.3)
            for k, price, delta in zip(strikes.tolist(), g.price.tolist(), g.delta.tolist(), strict=True):
                half = max(0.05, 0.03 * price)  # Python floats, as the LEAN adapter builds them
                quotes.append(ContractQuote(osi("GOOG", expiry, right, k), right, k, expiry,
                                            max(0.05, price - half), price + half, 500.0,
                                            0.3 if with_greeks else 0.0, delta if with_greeks else 0.0))
    return quotes


def median_us(fn: Callable[[], object], repeats: int = REPEATS) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def main() -> None:
    config = RollConfig(credit_only=True)
    held = next(q for q in chain(True) if q.right == Right.PUT and q.expiry == TODAY + timedelta(days=5)
                and q.strike == SPOT - 50.0)
    position = BotManagedPosition(id="P00001", symbol=held.symbol, underlying="GOOG", right=Right.PUT,
                                  strike=held.strike, expiry=held.expiry, multiplier=100.0,
                                  opened_at=datetime(2015, 12, 1), quantity=-3, entry_price=4.0,
                                  mark_price=held.mid, underlying_price=SPOT)
    for label, with_greeks in (("LEAN Greeks on every quote", True), ("no Greeks (deltas from mids)", False)):
        quotes = chain(with_greeks)
        assert len(quotes) == 400

        def decide(quotes: list[ContractQuote] = quotes) -> object:
            decision = should_roll(position, held, TODAY, config, spot=SPOT)
            assert decision.should_roll
            return find_roll_target(position, quotes, SPOT, TODAY, config, held, risk_free_rate=RATE)

        result = decide()
        assert isinstance(result, RollTarget), result
        rules_us = median_us(lambda: should_roll(position, held, TODAY, config, spot=SPOT))
        total_us = median_us(decide)
        print(f"roll decision, 400-contract chain, {label}: median {total_us:,.1f} µs per decision "
              f"(should_roll alone {rules_us:.1f} µs)")
        print(f"  -> {result.symbol}, delta {result.delta:+.3f} ({result.delta_source}), DTE {result.dte}, "
              f"{result.qualified} of 400 qualified, net mid {result.net_mid:+.2f} per share")


if __name__ == "__main__":
    main()
