"""Black-Scholes-Merton prices and Greeks for the synthetic market (vectorised, numpy + erf).

This is the harness's own pricer, written separately from models/option_greeks.py on purpose: tests
check the bot's Greeks against it, so the two must not share code. Theta is annual (as LEAN
reports it); vega and rho are per 1.00 change of volatility / rate (the market divides them by 100 for LEAN's
per-1 % convention, Common/Securities/Option/QLOptionPriceModel.cs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import erf

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _cdf(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + erf(x / _SQRT2))


def _pdf(x: np.ndarray) -> np.ndarray:
    return _INV_SQRT_2PI * np.exp(-0.5 * x * x)


@dataclass
class PricedChain:
    price: np.ndarray
    delta: np.ndarray
    gamma: np.ndarray
    theta: np.ndarray
    vega: np.ndarray
    rho: np.ndarray


def price_chain(spot: float, strike: np.ndarray, years: np.ndarray, vol: np.ndarray,
                rate: float, is_call: np.ndarray) -> PricedChain:
    """European prices and Greeks; ``years`` is floored at one minute to keep d1 finite."""
    t = np.maximum(years, 1.0 / (365.0 * 24 * 60))
    sqrt_t = np.sqrt(t)
    vol_sqrt_t = vol * sqrt_t
    d1 = (np.log(spot / strike) + (rate + 0.5 * vol * vol) * t) / vol_sqrt_t
    d2 = d1 - vol_sqrt_t
    discount = np.exp(-rate * t)
    nd1, nd2 = _cdf(d1), _cdf(d2)
    pdf_d1 = _pdf(d1)
    call = spot * nd1 - strike * discount * nd2
    put = call - spot + strike * discount
    price = np.where(is_call, call, put)
    delta = np.where(is_call, nd1, nd1 - 1.0)
    gamma = pdf_d1 / (spot * vol_sqrt_t)
    vega = spot * pdf_d1 * sqrt_t
    decay = -spot * pdf_d1 * vol / (2.0 * sqrt_t)
    theta_call = decay - rate * strike * discount * nd2
    theta_put = decay + rate * strike * discount * (1.0 - nd2)
    theta = np.where(is_call, theta_call, theta_put)
    rho = np.where(is_call, strike * t * discount * nd2, -strike * t * discount * (1.0 - nd2))
    return PricedChain(price, delta, gamma, theta, vega, rho)
