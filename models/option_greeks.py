"""Our own vectorised Black-Scholes: prices, Greeks and implied volatility.

Used when LEAN has no Greeks for a contract yet (its Greeks are zero until both the option and
the underlying have prices). Arrays in, arrays out; scalars work too. Vega is per 1.00 of
volatility. Time is in years (calendar days / 365).

- ``bs_price`` / ``bs_delta`` / ``bs_vega`` / ``implied_volatility``: the first, minimal API (used
  by the entry rule); time floored at one minute.
- ``bs_greeks``: price + delta, gamma, theta (annual), vega, rho in one pass, with explicit
  expiry / zero-volatility handling; ``implied_volatility_vectorised``: its IV solver;
  ``greeks_from_mid``: the scalar convenience for one held contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

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


# --- Full Greeks (issue 3) -------------------------------------------------------------------
#
# European Black-Scholes with a continuously compounded risk-free rate and NO dividends (US equity
# options are American; for calls on non-dividend payers that changes nothing, for puts the
# early-exercise premium is ignored, as in LEAN's own Black-Scholes model). Units follow LEAN:
# theta is per YEAR (theta_per_day = theta / 365), vega per 1.00 of volatility, rho per 1.00 of
# rate. Rights are chosen per element by a boolean array (True = call).

DAYS_PER_YEAR = 365.0
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)
_PRICE_EPS = 8.0 * np.finfo(np.float64).eps  # relative rounding noise of a computed price


class GreeksArrays(NamedTuple):
    """Prices and Greeks, one element per option (numpy arrays of the broadcast shape)."""

    price: FloatArray
    delta: FloatArray
    gamma: FloatArray
    theta: FloatArray  # per year, like LEAN's greeks.theta
    vega: FloatArray  # per 1.00 of volatility
    rho: FloatArray  # per 1.00 of rate

    @property
    def theta_per_day(self) -> FloatArray:
        return theta_per_day(self.theta)


@dataclass(frozen=True)
class ContractGreeks:
    """Greeks of one contract, from the volatility its mid price implies, in LEAN's units
    (QLOptionPriceModel): theta per year, vega and rho per 1 percentage point (bs_greeks / 100),
    so that they mix with the Greeks LEAN's chain reports."""

    iv: float
    delta: float
    gamma: float
    theta: float  # per year
    theta_per_day: float
    vega: float  # per 1 % of volatility
    rho: float  # per 1 % of rate


def theta_per_day(theta: ArrayLike) -> FloatArray:
    """Annual theta (LEAN's convention) to theta per calendar day."""
    return np.asarray(theta, dtype=np.float64) / DAYS_PER_YEAR


def _core(sign: FloatArray, s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray,
          v: FloatArray) -> GreeksArrays:
    """All Greeks for t > 0 and vol > 0; sign is +1 for calls, -1 for puts.

    sign, s, k, t, v must already share one shape (r may be smaller). Puts use N(-d) directly (not
    parity) so out-of-the-money puts keep their relative precision. The arithmetic is done in place
    in a few buffers: with 100k options, allocating a fresh array per step costs as much as the
    maths (page faults), so each buffer is reused once its value is no longer needed.
    """
    sqrt_t = np.sqrt(t)
    vol_sqrt_t = v * sqrt_t
    d1 = np.log(s / k)
    buf = v * v
    buf *= 0.5
    buf += r
    buf *= t
    d1 += buf
    d1 /= vol_sqrt_t
    n2 = np.subtract(d1, vol_sqrt_t, out=buf)  # d2
    n2 *= sign
    ndtr(n2, out=n2)  # N(sign d2)
    n1 = sign * d1
    ndtr(n1, out=n1)  # N(sign d1)
    sk_n2 = np.multiply(t, -r)
    np.exp(sk_n2, out=sk_n2)
    sk_n2 *= k
    sk_n2 *= sign
    sk_n2 *= n2  # sign K e^{-rt} N(sign d2)
    s_pdf = np.multiply(d1, d1, out=d1)
    s_pdf *= -0.5
    np.exp(s_pdf, out=s_pdf)
    s_pdf *= _INV_SQRT_2PI
    s_pdf *= s  # S n(d1)
    price = s * n1
    price *= sign
    price -= sk_n2
    delta = np.multiply(n1, sign, out=n1)
    gamma = s * vol_sqrt_t
    gamma *= s
    np.divide(s_pdf, gamma, out=gamma)
    theta = s_pdf * v
    theta /= sqrt_t
    theta *= -0.5
    rate_term = np.multiply(sk_n2, r, out=n2)
    theta -= rate_term
    vega = np.multiply(s_pdf, sqrt_t, out=s_pdf)
    rho = np.multiply(sk_n2, t, out=sk_n2)
    return GreeksArrays(price=price, delta=delta, gamma=gamma, theta=theta, vega=vega, rho=rho)


def _degenerate(out: GreeksArrays, sign: FloatArray, s: FloatArray, k: FloatArray, t: FloatArray,
                r: FloatArray, v: FloatArray) -> GreeksArrays:
    """Overwrite the elements the closed form cannot take.

    - spot or strike not > 0, or any NaN input: every field NaN.
    - t <= 0 (expired): intrinsic value, delta +1/-1 strictly in the money else 0, other Greeks 0.
    - vol <= 0, t > 0: the zero-volatility limit, i.e. intrinsic value against the discounted
      strike; delta +1/-1 where that is in the money, gamma = vega = 0, theta and rho those of
      the deterministic payoff S - K e^{-rt} (theta is 0 when rate = 0; rho is t K e^{-rt}).
    """
    bad = ~((s > 0) & (k > 0)) | np.isnan(t) | np.isnan(v) | np.isnan(r)
    expired = ~bad & (t <= 0)
    flat = ~bad & ~expired & (v <= 0)
    k_disc = np.where(expired, k, k * np.exp(-r * np.where(expired, 0.0, t)))
    itm = sign * (s - k_disc) > 0
    limit = GreeksArrays(
        price=np.where(itm, sign * (s - k_disc), 0.0),
        delta=np.where(itm, sign, 0.0),
        gamma=np.zeros(itm.shape),
        theta=np.where(flat & itm, -sign * r * k_disc, 0.0),
        vega=np.zeros(itm.shape),
        rho=np.where(flat & itm, sign * t * k_disc, 0.0),
    )
    use_limit = expired | flat
    return GreeksArrays(*(np.where(bad, np.nan, np.where(use_limit, lim, reg))
                          for lim, reg in zip(limit, out, strict=True)))


def bs_greeks(right_is_call: ArrayLike, spot: ArrayLike, strike: ArrayLike, t_years: ArrayLike,
              rate: ArrayLike, vol: ArrayLike) -> GreeksArrays:
    """Black-Scholes price, delta, gamma, theta (annual), vega and rho, vectorised.

    Every argument is an array or a scalar; they broadcast together. No Python loop: about 0.1 µs
    per option for 100k options (bench/bench_greeks.py). Degenerate inputs: see ``_degenerate``.
    """
    sign = np.asarray(right_is_call, dtype=bool) * 2.0 - 1.0  # +1 call, -1 put
    s, k, t, r, v = _arrays(spot, strike, t_years, rate, vol)
    shape = np.broadcast_shapes(sign.shape, s.shape, k.shape, t.shape, v.shape, r.shape)
    # views with every axis (at least one, so that in-place ufuncs get arrays, not scalars)
    sign, s, k, t, v = (np.broadcast_to(a, shape or (1,)) for a in (sign, s, k, t, v))
    with np.errstate(all="ignore"):
        out = _core(sign, s, k, t, r, v)
        regular = (t > 0) & (v > 0) & (s > 0) & (k > 0) & ~np.isnan(r)
        if not regular.all():
            out = _degenerate(out, sign, s, k, t, r, v)
    return out if shape else GreeksArrays(*(field.reshape(()) for field in out))


def _price_vega(sign: FloatArray, s: FloatArray, k_disc: FloatArray, t: FloatArray,
                fwd_log: FloatArray, v: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Price and vega given log(S / (K e^{-rt})) (the part of d1 that does not move with vol)."""
    sqrt_t = np.sqrt(t)
    vol_sqrt_t = v * sqrt_t
    d1 = fwd_log / vol_sqrt_t + 0.5 * vol_sqrt_t
    price = sign * (s * ndtr(sign * d1) - k_disc * ndtr(sign * (d1 - vol_sqrt_t)))
    return price, s * _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1) * sqrt_t


def _take(mask: NDArray[np.bool_], *arrays: FloatArray) -> list[FloatArray]:
    return [a[mask] for a in arrays]


def implied_volatility_vectorised(right_is_call: ArrayLike, price: ArrayLike, spot: ArrayLike,
                                  strike: ArrayLike, t_years: ArrayLike, rate: ArrayLike, *,
                                  low: float = IV_LOW, high: float = IV_HIGH, vol_tol: float = 1e-12,
                                  max_iter: int = 100) -> FloatArray:
    """Black-Scholes implied volatility in [low, high]; NaN where none exists or inputs are invalid.

    NaN when: any input is NaN, spot/strike/t_years not > 0, the price is not strictly inside the
    no-arbitrage bounds (max(intrinsic vs discounted strike, 0), spot for a call / discounted strike
    for a put), or it needs a volatility outside [low, high], or the solve did not converge.

    Newton from the Manaster-Koehler start sigma0 = sqrt(2 |ln(S / K e^{-rt})| / t) (the inflection
    point of price in vol, from which Newton converges monotonically), kept inside a per-option
    bisection bracket; only the options still unresolved are recomputed on each iteration.
    """
    call = np.asarray(right_is_call, dtype=bool)
    arrays = np.broadcast_arrays(call, *_arrays(price, spot, strike, t_years, rate))
    shape = arrays[0].shape
    call = arrays[0].ravel()
    p, s, k, t, r = (np.asarray(a, dtype=np.float64).ravel() for a in arrays[1:])
    result = np.full(p.shape, np.nan)
    with np.errstate(all="ignore"):
        sign: FloatArray = np.where(call, 1.0, -1.0)
        k_disc = k * np.exp(-r * t)
        lower = np.maximum(sign * (s - k_disc), 0.0)
        upper = np.where(call, s, k_disc)
        ok = (s > 0) & (k > 0) & (t > 0) & (p > lower) & (p < upper)  # False for any NaN
        idx = np.flatnonzero(ok)
        sign, p, s, k_disc, t = _take(ok, sign, p, s, k_disc, t)
        fwd_log = np.log(s / k_disc)
        lo, hi = np.full(idx.shape, low), np.full(idx.shape, high)
        inside = (_price_vega(sign, s, k_disc, t, fwd_log, lo)[0] <= p) & (
            p <= _price_vega(sign, s, k_disc, t, fwd_log, hi)[0])
        idx = idx[inside]
        sign, p, s, k_disc, t, fwd_log, lo, hi = _take(inside, sign, p, s, k_disc, t, fwd_log, lo, hi)
        sigma = np.clip(np.sqrt(2.0 * np.abs(fwd_log) / t), low, high)
        price_tol = _PRICE_EPS * (s + k_disc)
        for _ in range(max_iter):
            if idx.size == 0:
                break
            model, vega = _price_vega(sign, s, k_disc, t, fwd_log, sigma)
            diff = model - p
            hi = np.where(diff > 0, sigma, hi)
            lo = np.where(diff < 0, sigma, lo)
            newton = sigma - diff / vega
            step = np.where((newton > lo) & (newton < hi), newton, 0.5 * (lo + hi))
            hit = np.abs(diff) <= price_tol
            done = hit | (np.abs(step - sigma) <= vol_tol) | (hi - lo <= vol_tol)
            result[idx[done]] = np.where(hit, sigma, step)[done]
            keep = ~done
            idx = idx[keep]
            sign, p, s, k_disc, t, fwd_log, lo, hi, price_tol, sigma = _take(
                keep, sign, p, s, k_disc, t, fwd_log, lo, hi, price_tol, step)
    return result.reshape(shape)


def greeks_from_mids(right_is_call: ArrayLike, mid: ArrayLike, spot: ArrayLike, strike: ArrayLike,
                     t_years: ArrayLike, rate: float) -> list[ContractGreeks | None]:
    """``greeks_from_mid`` for many contracts in one vectorised solve (one entry per contract;
    None where no volatility reproduces the mid). The position manager calls this once per slice
    for all held contracts LEAN has no Greeks for, so the cost does not grow per contract."""
    iv = np.atleast_1d(implied_volatility_vectorised(right_is_call, mid, spot, strike, t_years, rate))
    ok = np.isfinite(iv)
    g = bs_greeks(right_is_call, spot, strike, t_years, rate, np.where(ok, iv, 0.2))
    columns = [np.broadcast_to(np.atleast_1d(a), iv.shape) for a in (g.delta, g.gamma, g.theta, g.vega, g.rho)]
    out: list[ContractGreeks | None] = []
    for i in range(iv.shape[0]):
        if not ok[i]:
            out.append(None)
            continue
        delta, gamma, theta, vega, rho = (float(c[i]) for c in columns)
        out.append(ContractGreeks(iv=float(iv[i]), delta=delta, gamma=gamma, theta=theta,
                                  theta_per_day=theta / DAYS_PER_YEAR, vega=vega / 100.0, rho=rho / 100.0))
    return out


def greeks_from_mid(right_is_call: bool, mid: float, spot: float, strike: float, t_years: float,
                    rate: float) -> ContractGreeks | None:
    """Greeks of one held contract from the volatility its mid price implies.

    For contracts LEAN has no Greeks for yet (the caller marks them greeks_source="calculated").
    None when no volatility in [IV_LOW, IV_HIGH] reproduces ``mid`` (see
    ``implied_volatility_vectorised`` for when that happens).
    """
    return greeks_from_mids([right_is_call], [mid], [spot], [strike], [t_years], rate)[0]
