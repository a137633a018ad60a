"""Vectorised Black-Scholes Greeks and implied volatility (models/option_greeks.py, issue 3).

Checked three ways: against finite differences of our own price, against the harness's
independent pricer (harness/pricing.py), and against identities (put-call parity, bounds).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.pricing import price_chain
from models.option_greeks import (
    IV_HIGH,
    IV_LOW,
    ContractGreeks,
    GreeksArrays,
    bs_delta,
    bs_greeks,
    bs_price,
    greeks_from_mid,
    implied_volatility,
    implied_volatility_vectorised,
    theta_per_day,
)

FloatFn = Callable[[np.ndarray], np.ndarray]


def grid() -> tuple[np.ndarray, ...]:
    """Every combination of right x strike x expiry x vol x rate around spot 100."""
    calls, strikes, years, vols, rates = np.meshgrid(
        [True, False], [60.0, 80.0, 95.0, 100.0, 105.0, 120.0, 150.0], [0.02, 0.1, 0.5, 2.0],
        [0.1, 0.3, 0.8], [0.0, 0.05], indexing="ij")
    return calls.ravel(), strikes.ravel(), years.ravel(), vols.ravel(), rates.ravel()


def first_derivative(f: FloatFn, x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Central difference with one Richardson step: error O(h^4) + rounding O(eps / h)."""
    def central(step: np.ndarray) -> np.ndarray:
        return (f(x + step) - f(x - step)) / (2.0 * step)
    return (4.0 * central(h / 2.0) - central(h)) / 3.0


def second_derivative(f: FloatFn, x: np.ndarray, h: np.ndarray) -> np.ndarray:
    def central(step: np.ndarray) -> np.ndarray:
        return (f(x + step) - 2.0 * f(x) + f(x - step)) / (step * step)
    return (4.0 * central(h / 2.0) - central(h)) / 3.0


# --- Greeks against finite differences of the price ------------------------------------------
# Tolerance: absolute 1e-6 (prices are of order 1..50, Greeks up to ~100); the FD error with these
# steps is ~1e-9, so a wrong term (e.g. a missing discount factor, ~1e-3 and up) cannot pass.

FD_TOL = 1e-6


def test_delta_and_gamma_match_finite_differences_in_spot():
    calls, strikes, years, vols, rates = grid()
    spot = np.full(calls.shape, 100.0)
    greeks = bs_greeks(calls, spot, strikes, years, rates, vols)

    def price(s: np.ndarray) -> np.ndarray:
        return bs_greeks(calls, s, strikes, years, rates, vols).price

    width = spot * vols * np.sqrt(years)  # the scale on which the price curves in spot
    delta_fd = first_derivative(price, spot, 0.02 * width)
    gamma_fd = second_derivative(price, spot, 0.05 * width)

    np.testing.assert_allclose(greeks.delta, delta_fd, rtol=0, atol=FD_TOL)
    np.testing.assert_allclose(greeks.gamma, gamma_fd, rtol=0, atol=FD_TOL)


def test_vega_matches_finite_differences_in_vol():
    calls, strikes, years, vols, rates = grid()
    greeks = bs_greeks(calls, 100.0, strikes, years, rates, vols)

    vega_fd = first_derivative(lambda v: bs_greeks(calls, 100.0, strikes, years, rates, v).price,
                               vols, vols * 0.005)

    np.testing.assert_allclose(greeks.vega, vega_fd, rtol=0, atol=FD_TOL)


def test_theta_is_minus_the_annual_rate_of_change_with_time_to_expiry():
    calls, strikes, years, vols, rates = grid()
    greeks = bs_greeks(calls, 100.0, strikes, years, rates, vols)

    d_price_d_t = first_derivative(lambda t: bs_greeks(calls, 100.0, strikes, t, rates, vols).price,
                                   years, years * 0.005)

    np.testing.assert_allclose(greeks.theta, -d_price_d_t, rtol=0, atol=FD_TOL)
    np.testing.assert_allclose(greeks.theta_per_day, greeks.theta / 365.0, rtol=1e-15)
    np.testing.assert_allclose(theta_per_day(greeks.theta), greeks.theta / 365.0, rtol=1e-15)


def test_rho_matches_finite_differences_in_rate():
    calls, strikes, years, vols, rates = grid()
    greeks = bs_greeks(calls, 100.0, strikes, years, rates, vols)

    rho_fd = first_derivative(lambda r: bs_greeks(calls, 100.0, strikes, years, r, vols).price,
                              rates, np.full(rates.shape, 1e-3))

    np.testing.assert_allclose(greeks.rho, rho_fd, rtol=0, atol=FD_TOL)


# --- Identities and the independent reference ------------------------------------------------

def test_put_call_parity_holds_for_price_delta_gamma_and_vega():
    _, strikes, years, vols, rates = grid()
    call = bs_greeks(True, 100.0, strikes, years, rates, vols)
    put = bs_greeks(False, 100.0, strikes, years, rates, vols)

    np.testing.assert_allclose(call.price - put.price, 100.0 - strikes * np.exp(-rates * years),
                               rtol=0, atol=1e-11)
    np.testing.assert_allclose(call.delta - put.delta, 1.0, rtol=0, atol=1e-14)
    np.testing.assert_allclose(call.gamma, put.gamma, rtol=1e-14, atol=0)
    np.testing.assert_allclose(call.vega, put.vega, rtol=1e-14, atol=0)


def test_every_greek_agrees_with_the_harness_pricer():
    rng = np.random.default_rng(11)
    strikes = rng.uniform(500, 1000, 400)
    years = rng.uniform(0.01, 2.0, 400)
    vols = rng.uniform(0.05, 1.5, 400)
    calls = rng.random(400) < 0.5
    reference = price_chain(750.0, strikes, years, vols, 0.02, calls)

    ours = bs_greeks(calls, 750.0, strikes, years, 0.02, vols)

    for name in GreeksArrays._fields:
        np.testing.assert_allclose(getattr(ours, name), getattr(reference, name), rtol=1e-9, atol=1e-9,
                                   err_msg=name)


def test_bs_greeks_agrees_with_the_first_price_and_delta_functions():
    calls, strikes, years, vols, _ = grid()
    ours = bs_greeks(calls, 100.0, strikes, years, 0.05, vols)

    np.testing.assert_allclose(ours.price, bs_price(100.0, strikes, years, vols, 0.05, calls), atol=1e-11)
    np.testing.assert_allclose(ours.delta, bs_delta(100.0, strikes, years, vols, 0.05, calls), atol=1e-14)


def test_scalars_broadcast_against_arrays():
    greeks = bs_greeks(np.array([True, False]), 100.0, np.array([[90.0], [110.0]]), 0.25, 0.01, 0.2)

    assert all(field.shape == (2, 2) for field in greeks)
    assert greeks.delta[0, 0] > 0 > greeks.delta[0, 1]


# --- Expired, zero-vol and invalid inputs -----------------------------------------------------

def test_expired_options_are_worth_intrinsic_with_unit_delta_in_the_money_and_no_other_greeks():
    calls = np.array([True, True, True, False, False, False])
    strikes = np.array([90.0, 100.0, 110.0, 90.0, 100.0, 110.0])

    with np.errstate(all="raise"):  # no NaN/overflow warnings may leak
        greeks = bs_greeks(calls, 100.0, strikes, np.array([0.0, -0.1, 0.0, 0.0, 0.0, -1.0]), 0.05, 0.3)

    np.testing.assert_array_equal(greeks.price, [10.0, 0.0, 0.0, 0.0, 0.0, 10.0])
    np.testing.assert_array_equal(greeks.delta, [1.0, 0.0, 0.0, 0.0, 0.0, -1.0])
    for name in ("gamma", "theta", "vega", "rho"):
        np.testing.assert_array_equal(getattr(greeks, name), 0.0, err_msg=name)


def test_zero_vol_is_the_deterministic_limit_of_the_closed_form():
    calls = np.array([True, True, False, False])
    strikes = np.array([90.0, 110.0, 90.0, 110.0])

    with np.errstate(all="raise"):
        flat = bs_greeks(calls, 100.0, strikes, 0.5, 0.05, 0.0)
    almost_flat = bs_greeks(calls, 100.0, strikes, 0.5, 0.05, 1e-6)

    for name in GreeksArrays._fields:
        np.testing.assert_allclose(getattr(flat, name), getattr(almost_flat, name), atol=1e-9, err_msg=name)
    assert flat.delta.tolist() == [1.0, 0.0, 0.0, -1.0]
    assert np.all(flat.gamma == 0.0) and np.all(flat.vega == 0.0)


def test_zero_vol_with_zero_rate_has_the_expiry_price_delta_and_theta():
    greeks = bs_greeks(np.array([True, False]), 100.0, 90.0, 0.5, 0.0, 0.0)

    assert greeks.price.tolist() == [10.0, 0.0]
    assert greeks.delta.tolist() == [1.0, 0.0]
    assert greeks.theta.tolist() == [0.0, 0.0]
    assert greeks.rho.tolist() == [45.0, 0.0]  # d/dr of S - K e^{-rt} stays t K at r = 0


def test_non_positive_spot_or_strike_gives_nan_without_warnings():
    with np.errstate(all="raise"):
        greeks = bs_greeks(True, np.array([0.0, 100.0, -5.0, np.nan]), np.array([100.0, 0.0, 100.0, 100.0]),
                           0.5, 0.01, 0.2)

    for field in greeks:
        assert np.isnan(field).all()


# --- Implied volatility -----------------------------------------------------------------------

def test_implied_volatility_round_trips_the_vol_over_a_grid():
    calls, strikes, years, vols, rates = grid()
    greeks = bs_greeks(calls, 100.0, strikes, years, rates, vols)
    # Where vega is tiny, float64 prices cannot pin the vol down to 1e-6: the vol moves the price
    # by less than its rounding. Keep the options where 1e-6 of vol is visible in the price.
    identifiable = greeks.vega * 1e-6 > 1e3 * np.finfo(float).eps * 100.0

    solved = implied_volatility_vectorised(calls, greeks.price, 100.0, strikes, years, rates)

    assert identifiable.sum() > 0.8 * calls.size
    np.testing.assert_allclose(solved[identifiable], vols[identifiable], rtol=0, atol=1e-6)


def test_implied_volatility_round_trips_random_chains_and_extreme_vols():
    rng = np.random.default_rng(5)
    n = 20_000
    calls = rng.random(n) < 0.5
    strikes = rng.uniform(50, 200, n)
    years = rng.uniform(1 / 365, 3.0, n)
    vols = rng.uniform(IV_LOW * 10, IV_HIGH * 0.99, n)
    greeks = bs_greeks(calls, 100.0, strikes, years, 0.03, vols)
    identifiable = greeks.vega * 1e-6 > 1e3 * np.finfo(float).eps * 100.0

    solved = implied_volatility_vectorised(calls, greeks.price, 100.0, strikes, years, 0.03)

    assert identifiable.sum() > 0.5 * n
    np.testing.assert_allclose(solved[identifiable], vols[identifiable], rtol=0, atol=1e-6)


def test_vectorised_iv_equals_the_first_implied_volatility_function():
    rng = np.random.default_rng(3)
    strikes = rng.uniform(500, 1000, 2000)
    years = rng.uniform(2 / 365, 1.5, 2000)
    vols = rng.uniform(0.08, 1.5, 2000)
    calls = rng.random(2000) < 0.5
    prices = price_chain(750.0, strikes, years, vols, 0.01, calls)
    # the first solver stops at a price error of 1e-8, i.e. a vol error of 1e-8 / vega
    both_precise = prices.vega > 0.05

    old = implied_volatility(prices.price, 750.0, strikes, years, 0.01, calls)
    new = implied_volatility_vectorised(calls, prices.price, 750.0, strikes, years, 0.01)

    assert both_precise.sum() > 1500
    np.testing.assert_allclose(new[both_precise], old[both_precise], rtol=0, atol=1e-6)


@pytest.mark.parametrize(("is_call", "price", "why"), [
    (True, 9.0, "below intrinsic 10 (and below spot - discounted strike)"),
    (True, 100.0, "at the upper bound: a call is worth less than the spot"),
    (True, 120.0, "above the spot"),
    (False, 0.0, "zero for an out-of-the-money put: no vol > 0 gives that"),
    (False, -1.0, "negative"),
    (False, 95.0, "above the discounted strike"),
    (True, float("nan"), "NaN price"),
])
def test_prices_outside_no_arbitrage_bounds_give_nan(is_call: bool, price: float, why: str):
    with np.errstate(all="raise"):
        iv = implied_volatility_vectorised(is_call, price, 100.0, 90.0, 0.5, 0.02)

    assert np.isnan(iv), why


def test_prices_needing_a_vol_outside_the_search_bounds_give_nan():
    too_high = bs_greeks(True, 100.0, 100.0, 0.5, 0.02, IV_HIGH * 1.2).price
    too_low = bs_greeks(True, 100.0, 100.0, 0.5, 0.02, IV_LOW * 0.5).price

    iv = implied_volatility_vectorised(True, np.array([too_high, too_low]), 100.0, 100.0, 0.5, 0.02)

    assert np.isnan(iv).all()


def test_iv_is_nan_for_expired_or_invalid_contracts():
    iv = implied_volatility_vectorised(True, 5.0, np.array([100.0, 100.0, 0.0, 100.0]),
                                       np.array([100.0, 100.0, 100.0, -1.0]),
                                       np.array([0.0, -0.5, 0.5, 0.5]), 0.02)

    assert np.isnan(iv).all()


# --- The scalar convenience for one held contract ---------------------------------------------

def test_greeks_from_mid_returns_the_greeks_at_the_implied_vol():
    mid = float(bs_greeks(False, 750.0, 700.0, 30 / 365, 0.01, 0.35).price)

    result = greeks_from_mid(False, mid, 750.0, 700.0, 30 / 365, 0.01)

    assert isinstance(result, ContractGreeks)
    expected = bs_greeks(False, 750.0, 700.0, 30 / 365, 0.01, 0.35)
    assert result.iv == pytest.approx(0.35, abs=1e-9)
    assert result.delta == pytest.approx(float(expected.delta), abs=1e-9)
    assert result.gamma == pytest.approx(float(expected.gamma), abs=1e-9)
    assert result.theta == pytest.approx(float(expected.theta), abs=1e-7)
    assert result.theta_per_day == pytest.approx(result.theta / 365.0)
    assert result.vega == pytest.approx(float(expected.vega) / 100, abs=1e-9)  # LEAN: per 1 % of vol
    assert result.rho == pytest.approx(float(expected.rho) / 100, abs=1e-9)
    assert all(isinstance(value, float) for value in vars(result).values())


@pytest.mark.parametrize("mid", [0.0, -1.0, 1.0, float("nan"), 800.0])
def test_greeks_from_mid_is_none_when_no_vol_reproduces_the_mid(mid: float):
    # a 700 call with spot 750: intrinsic 50, so 0, -1 and 1 are below it; 800 is above the spot
    assert greeks_from_mid(True, mid, 750.0, 700.0, 30 / 365, 0.01) is None


def test_greeks_from_mid_is_none_for_an_expired_contract():
    assert greeks_from_mid(True, 51.0, 750.0, 700.0, 0.0, 0.01) is None


# --- Properties -------------------------------------------------------------------------------

option = st.fixed_dictionaries({
    "is_call": st.booleans(),
    "spot": st.floats(1.0, 5000.0),
    "moneyness": st.floats(0.3, 3.0),
    "years": st.floats(1 / (365 * 24), 5.0),
    "rate": st.floats(-0.01, 0.15),
    "vol": st.floats(0.01, 4.0),
})


@settings(max_examples=300, deadline=None)
@given(option)
def test_greeks_stay_within_their_theoretical_bounds(o: dict[str, float]):
    strike = o["spot"] * o["moneyness"]

    with np.errstate(all="raise"):
        g = bs_greeks(o["is_call"], o["spot"], strike, o["years"], o["rate"], o["vol"])

    disc_strike = strike * np.exp(-o["rate"] * o["years"])
    slack = 1e-12 * (o["spot"] + strike)
    if o["is_call"]:
        assert 0.0 <= g.delta <= 1.0
        assert max(o["spot"] - disc_strike, 0.0) - slack <= g.price <= o["spot"] + slack
        assert g.rho >= 0.0
    else:
        assert -1.0 <= g.delta <= 0.0
        assert max(disc_strike - o["spot"], 0.0) - slack <= g.price <= disc_strike + slack
        assert g.rho <= 0.0
    assert g.gamma >= 0.0 and g.vega >= 0.0
    assert all(np.isfinite(field) for field in g)


@settings(max_examples=200, deadline=None)
@given(option)
def test_iv_of_a_model_price_is_the_model_vol_or_nan_when_unidentifiable(o: dict[str, float]):
    strike = o["spot"] * o["moneyness"]
    g = bs_greeks(o["is_call"], o["spot"], strike, o["years"], o["rate"], o["vol"])

    iv = implied_volatility_vectorised(o["is_call"], g.price, o["spot"], strike, o["years"], o["rate"])

    # vol error ~ price rounding / vega; where that is within 1e-6 the solve must be that good
    if g.vega * 1e-6 > 1e3 * np.finfo(float).eps * (o["spot"] + strike):
        assert abs(iv - o["vol"]) <= 1e-6
    else:
        assert np.isnan(iv) or IV_LOW <= iv <= IV_HIGH


def test_batch_greeks_from_mids_match_the_one_contract_call() -> None:
    from models.option_greeks import greeks_from_mid, greeks_from_mids

    calls, mids, strikes, years = [True, False, False], [12.0, 8.0, 10.0], [750.0, 720.0, 800.0], [0.1, 0.2, 0.1]
    batch = greeks_from_mids(calls, mids, 740.0, strikes, years, 0.01)
    single = [greeks_from_mid(c, m, 740.0, k, t, 0.01) for c, m, k, t in zip(calls, mids, strikes, years, strict=True)]
    assert batch[2] is None and single[2] is None  # below intrinsic (60): no volatility reproduces it
    assert batch[:2] == single[:2] and all(g is not None for g in batch[:2])
