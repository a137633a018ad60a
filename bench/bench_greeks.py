"""Benchmark of our Black-Scholes Greeks (models/option_greeks.py), printed figures:

1. price + 5 Greeks (bs_greeks) for 100,000 random options: µs per option, target <= 0.15 µs.
2. vectorised implied volatility for the same 100,000 options: µs per option.
3. greeks_from_mid for one contract (IV solve + Greeks): µs per call.
4. accuracy: max |analytic - finite difference| per Greek over a strike/expiry/vol/rate grid, and
   max |solved IV - true vol| over the options whose price pins the vol down to 1e-6.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.option_greeks import bs_greeks, greeks_from_mid, implied_volatility_vectorised  # noqa: E402

N = 100_000
TARGET_US = 0.15
RATE = 0.03


def random_options(n: int, seed: int = 1) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    return (rng.random(n) < 0.5, rng.uniform(50, 150, n), rng.uniform(50, 200, n),
            rng.uniform(1 / 365, 2.0, n), rng.uniform(0.05, 1.5, n))


def median_seconds(fn: Callable[[], object], repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def bench_greeks() -> None:
    calls, spot, strikes, years, vols = random_options(N)
    bs_greeks(calls, spot, strikes, years, RATE, vols)  # warm-up
    median, times = median_seconds(lambda: bs_greeks(calls, spot, strikes, years, RATE, vols), 15)
    per_option = median / N * 1e6
    verdict = "meets" if per_option <= TARGET_US else "MISSES"
    print(f"bs_greeks, price + 5 Greeks, {N:,} options: median {median * 1e3:.2f} ms "
          f"(min {min(times) * 1e3:.2f}, max {max(times) * 1e3:.2f}) = {per_option:.3f} µs/option "
          f"-> {verdict} the <= {TARGET_US} µs target")


def bench_iv() -> None:
    calls, spot, strikes, years, vols = random_options(N)
    prices = bs_greeks(calls, spot, strikes, years, RATE, vols).price
    median, _ = median_seconds(lambda: implied_volatility_vectorised(calls, prices, spot, strikes, years, RATE), 5)
    solved = implied_volatility_vectorised(calls, prices, spot, strikes, years, RATE)
    vega = bs_greeks(calls, spot, strikes, years, RATE, vols).vega
    identifiable = vega * 1e-6 > 1e3 * np.finfo(float).eps * (spot + strikes)
    print(f"implied_volatility_vectorised, {N:,} options: median {median * 1e3:.1f} ms = "
          f"{median / N * 1e6:.3f} µs/option; {np.isnan(solved).sum():,} NaN "
          f"({np.isnan(solved[identifiable]).sum()} among the {identifiable.sum():,} whose price pins the vol "
          f"to 1e-6; max |error| there {np.max(np.abs(solved - vols)[identifiable]):.1e})")


def bench_greeks_from_mid() -> None:
    mid = float(bs_greeks(False, 750.0, 700.0, 30 / 365, 0.01, 0.35).price)
    calls = 2000
    median, _ = median_seconds(lambda: [greeks_from_mid(False, mid, 750.0, 700.0, 30 / 365, 0.01)
                                        for _ in range(calls)], 5)
    print(f"greeks_from_mid, one contract: {median / calls * 1e6:.1f} µs/call")


def richardson(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, h: np.ndarray, order: int) -> np.ndarray:
    def central(step: np.ndarray) -> np.ndarray:
        if order == 1:
            return (f(x + step) - f(x - step)) / (2.0 * step)
        return (f(x + step) - 2.0 * f(x) + f(x - step)) / (step * step)
    return (4.0 * central(h / 2.0) - central(h)) / 3.0


def accuracy() -> None:
    calls, strikes, years, vols, rates = (a.ravel() for a in np.meshgrid(
        [True, False], np.linspace(60, 150, 19), [0.02, 0.1, 0.25, 0.5, 1.0, 2.0],
        [0.1, 0.2, 0.3, 0.5, 0.8], [0.0, 0.02, 0.05], indexing="ij"))
    spot = np.full(calls.shape, 100.0)
    g = bs_greeks(calls, spot, strikes, years, rates, vols)
    width = spot * vols * np.sqrt(years)
    fd = {
        "delta": richardson(lambda s: bs_greeks(calls, s, strikes, years, rates, vols).price, spot, 0.02 * width, 1),
        "gamma": richardson(lambda s: bs_greeks(calls, s, strikes, years, rates, vols).price, spot, 0.05 * width, 2),
        "theta": -richardson(lambda t: bs_greeks(calls, spot, strikes, t, rates, vols).price, years, 0.005 * years, 1),
        "vega": richardson(lambda v: bs_greeks(calls, spot, strikes, years, rates, v).price, vols, 0.005 * vols, 1),
        "rho": richardson(lambda r: bs_greeks(calls, spot, strikes, years, r, vols).price, rates,
                          np.full(rates.shape, 1e-3), 1),
    }
    errors = ", ".join(f"{name} {np.max(np.abs(getattr(g, name) - value)):.1e}" for name, value in fd.items())
    print(f"max |analytic - finite difference| over {calls.size:,} grid options: {errors}")

    solved = implied_volatility_vectorised(calls, g.price, spot, strikes, years, rates)
    identifiable = g.vega * 1e-6 > 1e3 * np.finfo(float).eps * (spot + strikes)
    print(f"IV round trip: max |solved - true vol| {np.max(np.abs(solved - vols)[identifiable]):.1e} "
          f"over {identifiable.sum():,} identifiable grid options "
          f"({np.isnan(solved[identifiable]).sum()} NaN among them)")


if __name__ == "__main__":
    bench_greeks()
    bench_iv()
    bench_greeks_from_mid()
    accuracy()
