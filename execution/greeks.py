"""Our own vectorised Black-Scholes: price, delta, vega and implied volatility.

Used when LEAN has no Greeks for a contract yet (its Greeks are zero until both the option and
the underlying have prices). Arrays in, arrays out; scalars work too. Vega is per 1.00 of
volatility. Time is in years (calendar days / 365).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

MIN_YEARS = 1.0 / (365.0 * 24 * 60)  # one minute
IV_LOW, IV_HIGH = 1e-4, 5.0

FloatArray = NDArray[np.float64]


def _d1_d2(spot: FloatArray, strike: FloatArray, years: FloatArray, vol: FloatArray,
           rate: float) -> tuple[FloatArray, FloatArray]:
    vol_sqrt_t = vol * np.sqrt(years)
    d1 = (np.log(spot / strike) + (rate + 0.5 * vol * vol) * years) / vol_sqrt_t
    return d1, d1 - vol_sqrt_t


def _arrays(*values: ArrayLike) -> list[FloatArray]:
    return [np.asarray(v, dtype=np.float64) for v in values]


def bs_price(spot: ArrayLike, strike: ArrayLike, years: ArrayLike, vol: ArrayLike, rate: float,
             is_call: ArrayLike) -> FloatArray:
    s, k, t, v = _arrays(spot, strike, years, vol)
    t = np.maximum(t, MIN_YEARS)
    d1, d2 = _d1_d2(s, k, t, v, rate)
    discount = np.exp(-rate * t)
    call = s * ndtr(d1) - k * discount * ndtr(d2)
    return np.where(np.asarray(is_call, dtype=bool), call, call - s + k * discount)


def bs_delta(spot: ArrayLike, strike: ArrayLike, years: ArrayLike, vol: ArrayLike, rate: float,
             is_call: ArrayLike) -> FloatArray:
    s, k, t, v = _arrays(spot, strike, years, vol)
    d1, _ = _d1_d2(s, k, np.maximum(t, MIN_YEARS), v, rate)
    n = ndtr(d1)
    return np.where(np.asarray(is_call, dtype=bool), n, n - 1.0)


def bs_vega(spot: ArrayLike, strike: ArrayLike, years: ArrayLike, vol: ArrayLike, rate: float) -> FloatArray:
    s, k, t, v = _arrays(spot, strike, years, vol)
    t = np.maximum(t, MIN_YEARS)
    d1, _ = _d1_d2(s, k, t, v, rate)
    return s * np.exp(-0.5 * d1 * d1) / np.sqrt(2.0 * np.pi) * np.sqrt(t)


def implied_volatility(price: ArrayLike, spot: ArrayLike, strike: ArrayLike, years: ArrayLike,
                       rate: float, is_call: ArrayLike, tol: float = 1e-8,
                       max_iter: int = 100) -> FloatArray:
    """Volatility that reproduces ``price``; NaN where no volatility in [1e-4, 5] does.

    Newton steps kept inside a per-option bisection bracket, so it converges where Newton alone
    would overshoot (deep in or out of the money, near expiry).
    """
    p, s, k, t = np.broadcast_arrays(*_arrays(price, spot, strike, years))
    call = np.broadcast_to(np.asarray(is_call, dtype=bool), p.shape)
    t = np.maximum(t, MIN_YEARS)
    lo = np.full(p.shape, IV_LOW)
    hi = np.full(p.shape, IV_HIGH)
    low_price = bs_price(s, k, t, lo, rate, call)
    high_price = bs_price(s, k, t, hi, rate, call)
    solvable = np.isfinite(p) & (p >= low_price - tol) & (p <= high_price + tol)
    sigma = np.full(p.shape, 0.3)
    done = ~solvable
    for _ in range(max_iter):
        diff = bs_price(s, k, t, sigma, rate, call) - p
        done |= np.abs(diff) < tol
        if done.all():
            break
        hi = np.where(diff > 0, sigma, hi)
        lo = np.where(diff <= 0, sigma, lo)
        vega = bs_vega(s, k, t, sigma, rate)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = sigma - diff / vega
        inside = (newton > lo) & (newton < hi) & np.isfinite(newton)
        sigma = np.where(done, sigma, np.where(inside, newton, 0.5 * (lo + hi)))
    return np.where(solvable & done, sigma, np.nan)
