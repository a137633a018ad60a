"""QuantLib as an independent oracle for the harness's port of LEAN's pricing formulas
(``harness/lean_option_math.py``, ``harness/lean_implied_vol.py``).

- Black-Scholes price and Greeks against ``AnalyticEuropeanEngine``: the same closed forms, so
  1e-9 relative; LEAN's units (vega, rho per 1 point: QuantLib's / 100; theta per day: QuantLib's
  ``thetaPerDay``). One LEAN quirk kept: Gamma.cs leaves the dividend discount ``e^{-qT}`` out of
  the Black-Scholes gamma, so LEAN's gamma is QuantLib's x ``e^{qT}``.
- Black-Scholes implied volatility against QuantLib's (solved to 1e-12): LEAN stops its Brent search
  when the price error is under ``max(1e-4, 1e-4 x price)`` or the bracket is under half that
  (ImpliedVolatility.cs), so the two agree within that stopping rule, not more.
- LEAN's CRR tree (200 steps) against ``BinomialVanillaEngine(process, "crr", 200)``: an American
  call (LEAN exercises calls early) and a European put (LEAN's tree never exercises a put early —
  its American put is the European tree; QuantLib's American put is dearer, checked as such).
  QuantLib's CRR uses the first-order up-probability ``1/2 + (r - q - s^2/2) dt / (2 dx)`` where
  LEAN uses the exact ``(e^{(r-q)dt} - d)/(u - d)``: prices differ by ~1e-6 relative, so 5e-5.
  Greeks: LEAN bumps and reprices (Delta.cs: one tree step in spot; Gamma.cs: two; Theta.cs: two
  time steps) where QuantLib reads them off the tree's first nodes: delta within 2.5e-3, gamma
  within 8 %, theta within 10 %; vega and rho are bump-and-reprice on both sides, within 0.5 %.
- LEAN's forward tree equals its CRR tree when r = q (both then have u = e^{s sqrt(dt)} and the same
  probability), hence QuantLib's CRR too; with r != q it is LEAN-specific (its nodes sit at
  ``spot * up ** (2i - k)`` with a drifted ``up``), checked against LEAN's own data in
  ``tests/test_lean_greeks_reference.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.lean_implied_vol import implied_volatility
from harness.lean_option_math import PricingModel, black_price, greeks, tree_price

ql = pytest.importorskip("QuantLib")

TODAY = ql.Date(1, 8, 2023)
DAY_COUNT = ql.Actual365Fixed()
# spot, strike, days, vol, r, q, is_call
CONTRACTS = [(450.0, 450.0, 60, 0.30, 0.05, 0.0, True), (450.0, 470.0, 60, 0.25, 0.05, 0.0, True),
             (450.0, 430.0, 180, 0.20, 0.0403, 0.0, False), (750.0, 700.0, 30, 0.35, 0.01, 0.0, True),
             (750.0, 800.0, 10, 0.30, 0.01, 0.02, False), (750.0, 800.0, 10, 0.30, 0.0, 0.0, True),
             (100.0, 90.0, 365, 0.40, 0.03, 0.05, True), (100.0, 120.0, 90, 0.15, 0.02, 0.0, False)]


def _option(spot: float, strike: float, days: int, vol: float, r: float, q: float, is_call: bool, exercise: str,
            engine: str):
    ql.Settings.instance().evaluationDate = TODAY
    process = ql.BlackScholesMertonProcess(
        ql.QuoteHandle(ql.SimpleQuote(spot)),
        ql.YieldTermStructureHandle(ql.FlatForward(TODAY, q, DAY_COUNT)),
        ql.YieldTermStructureHandle(ql.FlatForward(TODAY, r, DAY_COUNT)),
        ql.BlackVolTermStructureHandle(ql.BlackConstantVol(TODAY, ql.NullCalendar(), vol, DAY_COUNT)))
    payoff = ql.PlainVanillaPayoff(ql.Option.Call if is_call else ql.Option.Put, strike)
    expiry = TODAY + days
    option = ql.VanillaOption(payoff, ql.AmericanExercise(TODAY, expiry) if exercise == "american"
                              else ql.EuropeanExercise(expiry))
    option.setPricingEngine(ql.AnalyticEuropeanEngine(process) if engine == "analytic"
                            else ql.BinomialVanillaEngine(process, "crr", 200))
    return option


@pytest.mark.parametrize("contract", CONTRACTS)
def test_black_scholes_price_and_greeks_equal_quantlibs_analytic_engine(contract: tuple) -> None:
    spot, strike, days, vol, r, q, is_call = contract
    t = days / 365
    option = _option(*contract, "european", "analytic")
    g = greeks(PricingModel.BLACK_SCHOLES, vol, spot, strike, t, r, q, is_call)
    assert float(black_price(vol, spot, strike, t, r, q, is_call)) == pytest.approx(option.NPV(), rel=1e-9)
    assert g["delta"][0] == pytest.approx(option.delta(), rel=1e-9)
    assert g["gamma"][0] == pytest.approx(option.gamma() * math.exp(q * t), rel=1e-9)
    assert g["vega"][0] == pytest.approx(option.vega() / 100, rel=1e-9)
    assert g["rho"][0] == pytest.approx(option.rho() / 100, rel=1e-9)
    assert g["theta_per_day"][0] == pytest.approx(option.thetaPerDay(), rel=1e-9)


@pytest.mark.parametrize("contract", CONTRACTS)
def test_black_scholes_implied_volatility_agrees_with_quantlib_within_leans_stopping_rule(contract: tuple) -> None:
    spot, strike, days, vol, r, q, is_call = contract
    t = days / 365
    option = _option(*contract, "european", "analytic")
    price = option.NPV()
    process = ql.BlackScholesMertonProcess(
        ql.QuoteHandle(ql.SimpleQuote(spot)), ql.YieldTermStructureHandle(ql.FlatForward(TODAY, q, DAY_COUNT)),
        ql.YieldTermStructureHandle(ql.FlatForward(TODAY, r, DAY_COUNT)),
        ql.BlackVolTermStructureHandle(ql.BlackConstantVol(TODAY, ql.NullCalendar(), 0.1, DAY_COUNT)))
    reference = option.impliedVolatility(price, process, 1e-12, 1000, 1e-7, 4.0)
    ours = float(implied_volatility(PricingModel.BLACK_SCHOLES, price, spot, strike, t, r, q, is_call)[0])
    accuracy = max(1e-4, 1e-4 * price)
    price_error = abs(float(black_price(ours, spot, strike, t, r, q, is_call)) - price)
    assert price_error < accuracy or abs(ours - reference) <= 0.5 * accuracy + 1e-12
    vega = option.vega()  # per 1.00 of volatility
    assert abs(ours - vol) <= 0.5 * accuracy + accuracy / vega and reference == pytest.approx(vol, abs=1e-9)


@pytest.mark.parametrize("contract", CONTRACTS)
def test_leans_crr_tree_matches_quantlibs_binomial_engine(contract: tuple) -> None:
    spot, strike, days, vol, r, q, is_call = contract
    t = days / 365
    # LEAN's tree exercises calls early and never puts: an American call, a European put
    option = _option(*contract, "american" if is_call else "european", "crr")
    ours = float(tree_price(PricingModel.BINOMIAL_CRR, vol, spot, strike, t, r, q, is_call)[0])
    assert ours == pytest.approx(option.NPV(), rel=5e-5)
    g = greeks(PricingModel.BINOMIAL_CRR, vol, spot, strike, t, r, q, is_call)
    assert g["delta"][0] == pytest.approx(option.delta(), abs=2.5e-3)
    assert g["gamma"][0] == pytest.approx(option.gamma(), rel=0.08)
    assert g["theta_per_day"][0] == pytest.approx(option.theta() / 365, rel=0.10)
    bumped_vol = _option(spot, strike, days, vol + 0.01, r, q, is_call, "american" if is_call else "european", "crr")
    bumped_rate = _option(spot, strike, days, vol, r + 0.0001, q, is_call, "american" if is_call else "european",
                          "crr")
    assert g["vega"][0] == pytest.approx((bumped_vol.NPV() - option.NPV()) / 0.01 / 100, rel=5e-3)
    assert g["rho"][0] == pytest.approx((bumped_rate.NPV() - option.NPV()) / 0.0001 / 100, rel=5e-3)
    if not is_call and r > q:  # LEAN's "American" put is the European tree: QuantLib's is dearer
        american = _option(*contract, "american", "crr").NPV()
        assert american > ours + 1e-3


@pytest.mark.parametrize("contract", [c for c in CONTRACTS if c[4] == c[5]] + [
    (450.0, 450.0, 60, 0.30, 0.0, 0.0, False), (750.0, 760.0, 3, 0.25, 0.01, 0.01, True)])
def test_leans_forward_tree_is_the_crr_tree_when_rates_match(contract: tuple) -> None:
    spot, strike, days, vol, r, q, is_call = contract
    t = days / 365
    forward = float(tree_price(PricingModel.FORWARD_TREE, vol, spot, strike, t, r, q, is_call)[0])
    crr = float(tree_price(PricingModel.BINOMIAL_CRR, vol, spot, strike, t, r, q, is_call)[0])
    assert forward == pytest.approx(crr, rel=1e-12)
    option = _option(*contract, "american" if is_call else "european", "crr")
    assert forward == pytest.approx(option.NPV(), rel=5e-5)
    bs = float(black_price(vol, spot, strike, t, r, q, is_call))
    assert math.isclose(forward, bs, rel_tol=0.01)  # 200 steps: within 1 % of the continuous price


def test_forward_tree_greeks_are_sane_against_black_scholes() -> None:
    """LEAN's default model on a GOOG-like chain (r 1 %, q 0): delta and vega within a few percent
    of Black-Scholes at the same volatility, signs as expected."""
    strikes = np.arange(700.0, 801.0, 10.0)
    for is_call in (True, False):
        tree = greeks(PricingModel.FORWARD_TREE, 0.3, 750.0, strikes, 30 / 365, 0.01, 0.0, is_call)
        bs = greeks(PricingModel.BLACK_SCHOLES, 0.3, 750.0, strikes, 30 / 365, 0.01, 0.0, is_call)
        assert tree["delta"] == pytest.approx(bs["delta"], abs=0.03)
        assert tree["vega"] == pytest.approx(bs["vega"], rel=0.05)
        assert (tree["gamma"] > 0).all() and (tree["vega"] > 0).all() and (tree["theta_per_day"] < 0).all()
        assert ((tree["delta"] > 0) if is_call else (tree["delta"] < 0)).all()
