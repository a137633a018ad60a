"""LEAN's implied volatility (``Indicators/ImpliedVolatility.cs``), vectorised over contracts.

``CalculateIV`` solves ``theoretical_price(vol) = option price`` with MathNet's Brent root finder
(``Brent.FindRoot(f, lower, upper, accuracy, 100)``) on ``[1e-7, 4]`` with ``accuracy = max(1e-4,
1e-4 * price)``; for tree models the bracket is first narrowed to ``[0.5, 1.5] x`` the
Black-Scholes implied volatility (when that one is found). A failed solve (no sign change, no
convergence, a NaN) is "no value" (LEAN logs an error and returns null), reported here as NaN.

``brent`` is MathNet's ``Brent.TryFindRoot`` (Numerical Recipes' zbrent) run on every contract at
once: each iteration evaluates the pricing function once for the contracts still searching, so
the steps (and the root) are the ones LEAN takes for each contract on its own.

``smooth`` is the default smoothing of the indicator built with a mirror contract: the volatility
of the out-of-the-money one of the pair (a put above the strike uses the call's, a call below it the
put's), else whichever was found.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from harness.lean_option_math import Flags, PricingModel, Values, black_price, tree_price

Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]
Indexes = NDArray[np.intp]

DOUBLE_PRECISION = 2.0**-53  # MathNet Precision.DoublePrecision
POSITIVE_DOUBLE_PRECISION = 2.0**-52
DEFAULT_DOUBLE_ACCURACY = 10 * DOUBLE_PRECISION
MAX_ITERATIONS = 100
LOWER, UPPER = 1e-7, 4.0


def _almost_equal_relative(a: Floats, b: Floats, maximum_error: float | Floats) -> Bools:
    """MathNet ``AlmostEqualNormRelative(a, b, a - b, maximumError)``."""
    diff = np.abs(a - b)
    with np.errstate(invalid="ignore"):
        near_zero = (np.abs(a) < DOUBLE_PRECISION) | (np.abs(b) < DOUBLE_PRECISION)
        relative = diff < maximum_error * np.maximum(np.abs(a), np.abs(b))
        exact_zero = ((a == 0) & (np.abs(b) < maximum_error)) | ((b == 0) & (np.abs(a) < maximum_error))
        result = np.where(near_zero, diff < maximum_error, exact_zero | relative)
    infinite = np.isinf(a) | np.isinf(b)
    return np.where(infinite, a == b, result & ~(np.isnan(a) | np.isnan(b)))


def brent(f: Callable[[Floats, Indexes], Floats], lower: Floats, upper: Floats, accuracy: Floats,
          max_iterations: int = MAX_ITERATIONS) -> Floats:
    """Roots of ``f(x, rows)`` (``rows`` = the row indexes ``x`` belongs to), NaN where MathNet's
    ``Brent.FindRoot`` would throw (not bracketed, NaN, no convergence).

    Every row steps together (finished rows keep stepping on their frozen copy, harmlessly); ``f``
    is evaluated only for the rows still searching."""
    lo, hi, acc = (np.array(a, dtype=float) for a in (lower, upper, accuracy))
    n = len(lo)
    if n == 1:  # the same steps in plain floats: far fewer numpy calls per step
        return np.array([_brent_one(lambda x: f(np.array([x]), np.zeros(1, dtype=np.intp)).item(), lo.item(0),
                                    hi.item(0), acc.item(0), max_iterations)])
    rows = np.arange(n)
    both = f(np.concatenate([lo, hi]), np.concatenate([rows, rows]))  # one batch for both ends
    f_lo, f_hi = both[:n], both[n:]
    root, f_root = hi.copy(), f_hi.copy()
    d, e, mid = np.zeros(n), np.zeros(n), np.full(n, np.nan)
    result = np.full(n, np.nan)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        active = ~(np.isnan(f_lo) | np.isnan(f_hi) | (np.sign(f_lo) == np.sign(f_hi)))
        for _ in range(max_iterations + 1):
            active &= ~np.isnan(f_root)  # Math.Sign(NaN) throws
            if not active.any():
                break
            same = np.sign(f_root) == np.sign(f_hi)  # adjust bounds
            hi, f_hi = np.where(same, lo, hi), np.where(same, f_lo, f_hi)
            d, e = np.where(same, root - lo, d), np.where(same, root - lo, e)
            swap = np.abs(f_hi) < np.abs(f_root)
            lo, root, hi = np.where(swap, root, lo), np.where(swap, hi, root), np.where(swap, root, hi)
            f_lo, f_root, f_hi = (np.where(swap, f_root, f_lo), np.where(swap, f_hi, f_root),
                                  np.where(swap, f_root, f_hi))
            x_acc = POSITIVE_DOUBLE_PRECISION * np.abs(root) + 0.5 * acc  # convergence check
            mid_old, mid = mid, (hi - root) / 2.0
            converged = active & ((np.abs(mid) <= x_acc) | (np.abs(f_root) < acc))  # |f| < accuracy: MathNet's
            result[converged] = root[converged]                                   # AlmostEqualNormRelative(f, 0, f)
            active &= ~converged & (mid != mid_old)
            d, e = _step(lo, root, hi, f_lo, f_root, f_hi, d, e, mid, x_acc)
            lo, f_lo = root, f_root
            root = np.where(np.abs(d) > x_acc, root + d, root + np.where(mid >= 0, x_acc, -x_acc))
            f_root = f_root.copy()
            go = np.nonzero(active)[0]
            if len(go):
                f_root[go] = f(root[go], go)
    return result


def _brent_one(f: Callable[[float], float], lo: float, hi: float, acc: float, max_iterations: int) -> float:
    """``brent`` for one row, in plain floats (MathNet's loop as written)."""
    f_lo, f_hi = f(lo), f(hi)
    if math.isnan(f_lo) or math.isnan(f_hi) or _sign(f_lo) == _sign(f_hi):
        return math.nan
    root, f_root, d, e, mid = hi, f_hi, 0.0, 0.0, math.nan
    for _ in range(max_iterations + 1):
        if math.isnan(f_root):
            return math.nan
        if _sign(f_root) == _sign(f_hi):
            hi, f_hi = lo, f_lo
            d = e = root - lo
        if abs(f_hi) < abs(f_root):
            lo, root, hi = root, hi, root
            f_lo, f_root, f_hi = f_root, f_hi, f_root
        x_acc = POSITIVE_DOUBLE_PRECISION * abs(root) + 0.5 * acc
        mid_old, mid = mid, (hi - root) / 2.0
        if abs(mid) <= x_acc or abs(f_root) < acc:
            return root
        if mid == mid_old:
            return math.nan
        if abs(e) >= x_acc and abs(f_lo) > abs(f_root):
            s = f_root / f_lo
            if bool(_almost_equal_relative(np.array(lo), np.array(hi), DEFAULT_DOUBLE_ACCURACY)):
                p, q = 2.0 * mid * s, 1.0 - s
            else:
                q, r = f_lo / f_hi, f_root / f_hi
                p = s * (2.0 * mid * q * (q - r) - (root - lo) * (r - 1.0))
                q = (q - 1.0) * (r - 1.0) * (s - 1.0)
            if p > 0.0:
                q = -q
            p = abs(p)
            if 2.0 * p < min(3.0 * mid * q - abs(x_acc * q), abs(e * q)):
                e, d = d, p / q
            else:
                d = e = mid
        else:
            d = e = mid
        lo, f_lo = root, f_root
        root += d if abs(d) > x_acc else (x_acc if mid >= 0 else -x_acc)
        f_root = f(root)
    return math.nan


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def _step(lo: Floats, rt: Floats, hi: Floats, flo: Floats, frt: Floats, fhi: Floats, d: Floats, e: Floats,
          mid: Floats, x_acc: Floats) -> tuple[Floats, Floats]:
    """Inverse quadratic interpolation where it is accepted, else bisection: the new (d, e)."""
    s = frt / flo
    secant = _almost_equal_relative(lo, hi, DEFAULT_DOUBLE_ACCURACY)
    q0, r0 = flo / fhi, frt / fhi
    p = np.where(secant, 2.0 * mid * s, s * (2.0 * mid * q0 * (q0 - r0) - (rt - lo) * (r0 - 1.0)))
    q = np.where(secant, 1.0 - s, (q0 - 1.0) * (r0 - 1.0) * (s - 1.0))
    q = np.where(p > 0.0, -q, q)
    p = np.abs(p)
    accept = 2.0 * p < np.minimum(3.0 * mid * q - np.abs(x_acc * q), np.abs(e * q))
    use = (np.abs(e) >= x_acc) & (np.abs(flo) > np.abs(frt)) & accept
    return np.where(use, p / q, mid), np.where(use, d, mid)


def to_decimal(values: Floats) -> Floats:
    """``Convert.ToDecimal(double)``: 15 significant digits."""
    return np.array([float(f"{v:.15g}") if np.isfinite(v) else v for v in np.atleast_1d(values)])


def implied_volatility(model: PricingModel, price: Values, spot: Values, strike: Values, t: Values, r: Values,
                       q: Values, is_call: Flags) -> Floats:
    """``ImpliedVolatility.CalculateIV`` of each contract, NaN where LEAN finds none."""
    price, spot, strike, t, r, q = (np.atleast_1d(np.array(a, dtype=float))
                                    for a in np.broadcast_arrays(price, spot, strike, t, r, q))
    is_call = np.broadcast_to(np.asarray(is_call, dtype=bool), price.shape)
    accuracy = np.maximum(1e-4, 1e-4 * price)
    lower, upper = np.full(price.shape, LOWER), np.full(price.shape, UPPER)
    if model != PricingModel.BLACK_SCHOLES:
        guess = np.nan_to_num(implied_volatility(PricingModel.BLACK_SCHOLES, price, spot, strike, t, r, q, is_call))
        found = guess != 0
        lower = np.where(found, np.maximum(lower, guess * 0.5), lower)
        upper = np.where(found, np.minimum(upper, guess * 1.5), upper)

    # at or after expiry the model price is 0 whatever the volatility: never bracketed, no IV
    live = np.nonzero(t > 0)[0]
    s, k, tt, rr, qq, p = (a[live] for a in (spot, strike, t, r, q, price))
    c = is_call[live]

    def excess(vol: Floats, rows: Indexes) -> Floats:
        if model == PricingModel.BLACK_SCHOLES:
            return black_price(vol, s[rows], k[rows], tt[rows], rr[rows], qq[rows], c[rows]) - p[rows]
        return tree_price(model, vol, s[rows], k[rows], tt[rows], rr[rows], qq[rows], c[rows]) - p[rows]

    out = np.full(price.shape, np.nan)
    out[live] = to_decimal(brent(excess, lower[live], upper[live], accuracy[live]))
    return out


def smooth(own: Floats, mirror: Floats, strike: Floats, spot: Floats, is_call: Bools) -> Floats:
    """The indicator's IV from its contract's and its mirror's (NaN = not found): the default
    smoothing when both are found, else the one found, else 0."""
    use_mirror = (~is_call & (strike > spot)) | (is_call & (strike < spot))
    both = np.where(use_mirror, mirror, own)
    return np.where(~np.isnan(mirror), np.where(~np.isnan(own), both, mirror), np.nan_to_num(own))
