"""LEAN's option pricing formulas, vectorised over contracts: what its Greeks indicators compute.

A port of ``Indicators/OptionGreekIndicatorsHelper.cs`` (Black-Scholes, Cox-Ross-Rubinstein and
forward binomial trees of 200 steps) and of the ``CalculateGreek`` methods of
``Indicators/Delta.cs``, ``Gamma.cs``, ``Vega.cs``, ``Theta.cs`` and ``Rho.cs``, with LEAN's quirks
kept on purpose, because the harness must report what LEAN reports:

- the trees place node ``i`` of level ``k`` at ``spot * up ** (2i - k)`` even in the forward tree,
  where ``down != 1 / up``;
- in the trees only calls are exercised early ("no advantage for American put option to exercise
  early"): a put's tree value is its discounted expected payoff, which is summed in closed form
  here (the same number as LEAN's backward induction, to rounding);
- ``d1`` is 10 when ``vol * sqrt(t)`` is 0; Black-Scholes theta and gamma use at least 1 % vol;
- units: delta per 1.00 of the underlying, gamma per 1.00, vega per 1 volatility point (÷ 100),
  rho per 1 rate point (÷ 100), theta per calendar day (÷ 365);
- a Greek that is not finite is 0 (LEAN's ``Convert.ToDecimal`` throws, the indicator keeps its
  previous value, 0 for the fresh indicators the price model builds).

Every function takes numpy arrays (one slot per contract, broadcastable) and ``is_call`` booleans.
"""

from __future__ import annotations

from enum import Enum

import numpy as np
from numpy.typing import NDArray
from scipy.special import gammaln, ndtr

STEPS = 200  # OptionGreekIndicatorsHelper.Steps
_LOG_CHOOSE = gammaln(STEPS + 1) - gammaln(np.arange(STEPS + 1) + 1) - gammaln(STEPS - np.arange(STEPS + 1) + 1)
_SQRT_2PI = np.sqrt(2.0 * np.pi)
GROUP_ROWS = 128  # a large induction batch runs as groups of about this many rows with similar bands

Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]
Values = Floats | float  # an array (one slot per contract) or one number for all
Flags = Bools | bool


class PricingModel(Enum):
    """LEAN's ``OptionPricingModelType`` values used by its indicators."""

    BLACK_SCHOLES = "BlackScholes"
    BINOMIAL_CRR = "BinomialCoxRossRubinstein"
    FORWARD_TREE = "ForwardTree"


def _density(x: Floats) -> Floats:
    return np.exp(-0.5 * x * x) / _SQRT_2PI


def d1_d2(spot: Values, strike: Values, t: Values, r: Values, q: Values, vol: Values) -> tuple[Floats, Floats]:
    """``CalculateD1``/``CalculateD2``: d1 is 10 where ``vol * sqrt(t)`` is 0."""
    sqrt_t = np.sqrt(np.maximum(0.0, t))
    denominator = vol * sqrt_t
    numerator = np.log(spot / strike) + (r - q + 0.5 * vol * vol) * t
    with np.errstate(divide="ignore", invalid="ignore"):
        d1 = np.where(denominator == 0, 10.0, numerator / np.where(denominator == 0, 1.0, denominator))
    return d1, d1 - vol * sqrt_t


def black_price(vol: Values, spot: Values, strike: Values, t: Values, r: Values, q: Values, is_call: Flags) -> Floats:
    """``BlackTheoreticalPrice``."""
    d1, d2 = d1_d2(spot, strike, t, r, q, vol)
    carry, discount = np.exp(-q * t), np.exp(-r * t)
    call = spot * carry * ndtr(d1) - strike * discount * ndtr(d2)
    put = strike * discount * ndtr(-d2) - spot * carry * ndtr(-d1)
    return np.where(is_call, call, put)


def tree_price(model: PricingModel, vol: Values, spot: Values, strike: Values, t: Values, r: Values, q: Values,
               is_call: Flags) -> Floats:
    """``CRRTheoreticalPrice`` / ``ForwardTreeTheoreticalPrice`` with 200 steps."""
    vol, spot, strike, t, r, q, is_call = (np.atleast_1d(a) for a in np.broadcast_arrays(
        vol, spot, strike, t, r, q, np.asarray(is_call, dtype=bool)))
    dt = t / STEPS
    if model == PricingModel.BINOMIAL_CRR:
        up = np.exp(vol * np.sqrt(dt))
        up = np.where(up == 1, 1.0001, up)
        down = 1 / up
        with np.errstate(divide="ignore", invalid="ignore"):
            prob_up = (np.exp((r - q) * dt) - down) / (up - down)
    else:
        discount = np.exp((r - q) * dt)
        vol_sqrt_dt = vol * np.sqrt(dt)
        up = np.exp(vol_sqrt_dt) * discount
        down = np.exp(-vol_sqrt_dt) * discount
        flat = up - down == 0
        up, down = np.where(flat, 1.0001, up), np.where(flat, 0.9999, down)
        prob_up = (discount - down) / (up - down)
    return _binomial(dt, prob_up, up, r, spot, strike, is_call)


def _binomial(dt: Floats, prob_up: Floats, up: Floats, r: Floats, spot: Floats, strike: Floats,
              is_call: Bools) -> Floats:
    """``BinomialTheoreticalPrice``: calls by backward induction with early exercise, puts as the
    discounted expected payoff (LEAN's put induction has no exercise step, so it is that sum)."""
    factor = np.exp(-r * dt)
    factor_down, factor_up = factor * (1 - prob_up), factor * prob_up
    out = np.zeros(spot.shape)
    closed = ~is_call & (factor_down > 0) & (factor_up > 0)
    if closed.any():
        out[closed] = _put_sum(factor_down[closed], factor_up[closed], up[closed], spot[closed], strike[closed])
    rest = ~closed
    if rest.any():
        out[rest] = _induction(factor_down[rest], factor_up[rest], up[rest], spot[rest], strike[rest], is_call[rest])
    return out


def _put_sum(factor_down: Floats, factor_up: Floats, up: Floats, spot: Floats, strike: Floats) -> Floats:
    i = np.arange(STEPS + 1)
    prices = spot[:, None] * np.power(up[:, None], 2 * i - STEPS)
    payoff = np.maximum(0.0, strike[:, None] - prices)
    log_weight = _LOG_CHOOSE + i * np.log(factor_up)[:, None] + (STEPS - i) * np.log(factor_down)[:, None]
    return (np.exp(log_weight) * payoff).sum(axis=1)


def _induction(factor_down: Floats, factor_up: Floats, up: Floats, spot: Floats, strike: Floats,
               is_call: Bools) -> Floats:
    """LEAN's backward induction (puts only get here when a weight is not positive): calls take
    the larger of holding and exercising at every node, puts never exercise.

    Two regions of LEAN's loop are known without running it, so each level computes only the band
    between them (with the same floating-point operations on the nodes it computes):

    - zeros: for calls with ``up > 1``, a node whose last-level descendants all pay nothing is 0;
    - exercise: node i of level p sits at ``j = 2i - p + n`` among the exercise values ``E``. If
      ``E[j] >= fd * E[j-1] + fu * E[j+1]`` for every ``j >= J``, then (by induction from the last
      level, whose values are ``E``) every node with ``2i >= J - 1`` takes ``E[j]``.

    Large batches are split into groups of rows with similar bands."""
    n = STEPS
    nodes = spot[:, None] * np.power(up[:, None], np.arange(2 * n + 1) - n)  # column j: spot * up ** (j - n)
    exercise = np.where(is_call[:, None], np.maximum(0.0, nodes - strike[:, None]), -np.inf)
    with np.errstate(invalid="ignore"):
        holds = exercise[:, 1:-1] >= factor_down[:, None] * exercise[:, :-2] + factor_up[:, None] * exercise[:, 2:]
    failing = np.where(holds.all(axis=1), 0, 2 * n - 1 - np.argmin(holds[:, ::-1], axis=1))  # last j failing
    exercised_from = (failing + 1) // 2  # the first i with 2i >= J - 1, J = failing + 1
    zeros_below = np.zeros(len(spot), dtype=int)
    calls_up = is_call & (up > 1)
    if calls_up.any():  # first paying last-level node: spot * up ** (2i - n) > strike
        with np.errstate(divide="ignore", invalid="ignore"):
            first = np.floor((np.log(strike / spot) / np.log(up) + n) / 2).astype(int) - 1
        zeros_below = np.where(calls_up, np.clip(first, 0, n), 0)  # one node of margin below the exact index
    values = np.maximum(0.0, np.where(is_call[:, None], nodes[:, ::2] - strike[:, None],
                                      strike[:, None] - nodes[:, ::2]))  # the last level
    groups = min(16, len(spot) // GROUP_ROWS)
    if groups < 2:
        return _induction_rows(values, factor_down, factor_up, exercise, int(zeros_below.min()),
                               int(exercised_from.max()))
    order = np.argsort(exercised_from, kind="stable")
    out = np.empty(len(spot))
    for g in np.array_split(order, groups):
        out[g] = _induction_rows(values[g], factor_down[g], factor_up[g], exercise[g], int(zeros_below[g].min()),
                                 int(exercised_from[g].max()))
    return out


def _induction_rows(values: Floats, factor_down: Floats, factor_up: Floats, exercise: Floats, zeros_below: int,
                    exercised_from: int) -> Floats:
    """The induction over nodes ``zeros_below - (n - p) <= i < exercised_from`` of each level p;
    ``values`` starts as the last level. Node-major copies keep each level's slice contiguous, and
    preallocated buffers keep the per-level cost to four ufunc calls."""
    n = STEPS
    v = np.ascontiguousarray(values.T)  # row i: node i of every contract
    even, odd = np.ascontiguousarray(exercise[:, 0::2].T), np.ascontiguousarray(exercise[:, 1::2].T)
    hold, up_part = np.empty_like(v), np.empty_like(v)
    for period in range(n - 1, -1, -1):
        low = zeros_below - n + period
        low = low if low > 0 else 0
        high = exercised_from - 1 if exercised_from <= period else period
        h = (n - period) >> 1  # node i of this level is exercise row 2i + (n - period)
        level = odd if (n - period) & 1 else even
        if low <= high:
            width = high + 1 - low
            a, b = hold[:width], up_part[:width]
            np.multiply(v[low:high + 1], factor_down, out=a)
            np.multiply(v[low + 1:high + 2], factor_up, out=b)
            np.add(a, b, out=a)
            np.maximum(a, level[low + h:high + 1 + h], out=v[low:high + 1])
        if exercised_from <= period:  # the exercised child the next level reads
            v[exercised_from] = level[exercised_from + h]
    return v[0].copy()


def theoretical_price(model: PricingModel, vol: Values, spot: Values, strike: Values, t: Values, r: Values,
                      q: Values, is_call: Flags) -> Floats:
    """``ImpliedVolatility.CalculateTheoreticalPrice``: 0 at or after expiry."""
    vol, spot, strike, t, r, q, is_call = (np.atleast_1d(a) for a in np.broadcast_arrays(
        vol, spot, strike, t, r, q, np.asarray(is_call, dtype=bool)))
    live = t > 0
    out = np.zeros(spot.shape)
    if live.any():
        args = (vol[live], spot[live], strike[live], t[live], r[live], q[live], is_call[live])
        out[live] = black_price(*args) if model == PricingModel.BLACK_SCHOLES else tree_price(model, *args)
    return out


def _finite(values: Floats) -> Floats:
    return np.where(np.isfinite(values), values, 0.0)


def _safe_divide(numerator: Floats, denominator: Floats) -> Floats:
    """``OptionGreekIndicatorsHelper.Divide``: 0 where the denominator is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator != 0, numerator / np.where(denominator != 0, denominator, 1.0), 0.0)


def greeks(model: PricingModel, iv: Values, spot: Values, strike: Values, t: Values, r: Values, q: Values,
           is_call: Flags) -> dict[str, Floats]:
    """Delta, gamma, vega, theta per day and rho as LEAN's indicators compute them (not yet
    rounded), one slot per contract. ``t`` must be >= 0 (LEAN reports 0 before calling them)."""
    iv, spot, strike, t, r, q = (np.atleast_1d(np.array(a, dtype=float))
                                 for a in np.broadcast_arrays(iv, spot, strike, t, r, q))
    is_call = np.broadcast_to(np.asarray(is_call, dtype=bool), spot.shape)
    if model == PricingModel.BLACK_SCHOLES:
        return _black_greeks(iv, spot, strike, t, r, q, is_call)
    return _tree_greeks(model, iv, spot, strike, t, r, q, is_call)


def _black_greeks(iv: Floats, spot: Floats, strike: Floats, t: Floats, r: Floats, q: Floats,
                  is_call: Bools) -> dict[str, Floats]:
    d1, d2 = d1_d2(spot, strike, t, r, q, iv)
    carry, discount = np.exp(-q * t), np.exp(-r * t)
    sqrt_t = np.sqrt(t)
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma = _density(-d1) / spot / np.maximum(iv, 0.01) / sqrt_t
        theta = -spot * np.maximum(iv, 0.01) * _density(d1) * carry * 0.5 / sqrt_t
    n1 = np.where(is_call, ndtr(d1), -ndtr(-d1))
    n2 = np.where(is_call, -ndtr(d2), ndtr(-d2))
    theta = theta + q * spot * n1 * carry + r * strike * discount * n2
    rho = np.where(is_call, strike * t * discount * ndtr(d2), -strike * t * discount * ndtr(-d2)) / 100
    return {"delta": _finite(n1 * carry), "gamma": _finite(gamma),
            "vega": _finite(spot * sqrt_t * _density(d1) * carry / 100), "theta_per_day": _finite(theta / 365),
            "rho": _finite(rho)}


def _tree_greeks(model: PricingModel, iv: Floats, spot: Floats, strike: Floats, t: Floats, r: Floats, q: Floats,
                 is_call: Bools) -> dict[str, Floats]:
    """Finite differences on the tree: all eight tree prices of every contract in one batch."""
    n = len(spot)
    dt = t / STEPS
    crr_up = np.exp(iv * np.sqrt(dt))
    if model == PricingModel.BINOMIAL_CRR:
        delta_up = np.where(crr_up == 1, 1.00001, crr_up)
        delta_down = 1 / delta_up  # sD = S / upFactor
    else:
        discount = np.exp((r - q) * dt)
        delta_up = crr_up * discount
        delta_up = np.where(delta_up == 1, 1.00001, delta_up)
        delta_down = np.exp(-iv * np.sqrt(dt)) * discount
        delta_down = np.where(delta_down == 1, 0.99999, delta_down)
    gamma_up = np.where(crr_up == 1, 1.0001, crr_up)
    s_up, s_down = spot * delta_up, spot * delta_down
    g_up, g_down = spot * gamma_up * gamma_up, spot / gamma_up / gamma_up
    # rows: price, delta up/down, gamma up/down, vega bump, theta (t - 2 dt), rho bump
    vols = np.concatenate([iv, iv, iv, iv, iv, iv + 0.01, iv, iv])
    spots = np.concatenate([spot, s_up, s_down, g_up, g_down, spot, spot, spot])
    times = np.concatenate([t] * 6 + [t - 2 * dt, t])
    rates = np.concatenate([r] * 7 + [r + 0.0001])
    prices = tree_price(model, vols, spots, np.tile(strike, 8), times, rates, np.tile(q, 8),
                        np.tile(is_call, 8)).reshape(8, n)
    price, f_up, f_down, fg_up, fg_down, f_vol, f_time, f_rate = prices
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma_high = (fg_up - price) / (g_up - spot)
        gamma_low = (price - fg_down) / (spot - g_down)
        theta = (f_time - price) * 0.5 / dt / 365
    return {"delta": _finite(_safe_divide(f_up - f_down, s_up - s_down)),
            "gamma": _finite(_safe_divide((gamma_high - gamma_low) * 2, g_up - g_down)),
            "vega": _finite((f_vol - price) / 0.01 / 100), "theta_per_day": _finite(theta),
            "rho": _finite((f_rate - price) / 0.0001 / 100)}
