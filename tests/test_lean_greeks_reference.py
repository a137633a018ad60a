"""The harness's LEAN Greeks against LEAN's own reference values, with LEAN's own tolerances.

Source: QuantConnect/Lean master 24863901deffa9ec7985e21ef8fbdb0258efb9e4 (2026-08):

- ``Tests/Indicators/{ImpliedVolatility,Delta,Gamma,Vega,Theta,Rho}Tests.cs``
  ``ComparesAgainstExternalData2``: QuantLib reference values for SPY 450 strike contracts priced at
  2023-08-01 10:00, expiring 60 or 180 days later; IV from Black-Scholes, the Greek from
  Black-Scholes (European) or the CRR tree (American). Tolerances are the ones LEAN asserts.
- ``Tests/TestData/greeksindicator/american/third_party_1_greeks.csv`` (vendored unchanged as
  ``tests/lean_reference/third_party_1_greeks.csv``) run as LEAN's ``ComparesAgainstExternalData``
  does: each contract with its mirror, the forward tree (LEAN's default for American options),
  skipping the last row, relative tolerance ``errorRate`` with absolute floor ``errorMargin``
  (LEAN's test cases: IV 8 %, delta 3 %, gamma 12 %, vega 20 % / 2e-4, theta 60 % / 1.5e-3).
  The reference is a third-party model, hence LEAN's loose tolerances; LEAN's exact arithmetic is
  checked by ``tests/test_lean_greeks_math.py`` (the tree and root finder against transcriptions
  of LEAN's loops).
- ``ImpliedVolatilityTests.SetSmoothingFunction``: the default mirror smoothing (IV of the
  out-of-the-money contract of the pair).

Here the indicators' rounding (7 decimals) and time to expiry (settlement = the option market's
close on the expiry day, or the trading day before) are the harness's, from LEAN's market-hours
database in the sample data.
"""

from __future__ import annotations

import csv
import math
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from harness.lean_enums import OptionRight
from harness.lean_implied_vol import implied_volatility, smooth
from harness.lean_option_math import PricingModel, greeks
from harness.lean_price_model import LeanPriceModel, settlement
from harness.lean_rates import ConstantRate
from harness.lean_symbols import Symbol
from harness.market_hours import ExchangeHours, load_exchange_hours
from tests.lean_data_paths import LEAN_DATA, needs_lean_data

pytestmark = needs_lean_data

REFERENCE = datetime(2023, 8, 1, 10, 0)  # OptionBaseIndicatorTests._reference
THIRD_PARTY = Path(__file__).parent / "lean_reference" / "third_party_1_greeks.csv"
CALL, PUT = OptionRight.CALL, OptionRight.PUT
EUROPEAN, AMERICAN = "european", "american"


@pytest.fixture(scope="module")
def hours() -> ExchangeHours:
    return load_exchange_hours(LEAN_DATA / "market-hours" / "market-hours-database.json", "Option")


def spy(right: OptionRight, strike: float, expiry: datetime) -> Symbol:
    """As LEAN's tests create it: the expiry keeps its time of day (SecurityIdentifier caches the
    DateTime it was given), which moves the settlement (see the settlement test)."""
    return Symbol.create_option("SPY", "usa", None, right, strike, expiry)


def single_indicator(greek: str, hours: ExchangeHours, price: float, spot: float, right: OptionRight, days: int,
                     style: str, r: float, q: float) -> float:
    """One of LEAN's Greek indicators built without a mirror, ``ivModel: BlackScholes`` and
    ``optionModel`` Black-Scholes (European) or CRR (American), updated once at REFERENCE."""
    symbol = spy(right, 450.0, REFERENCE + timedelta(days=days))
    t = (settlement(symbol, hours) - REFERENCE).total_seconds() / 86400 / 365
    is_call = right == CALL
    iv = np.round(np.nan_to_num(implied_volatility(PricingModel.BLACK_SCHOLES, price, spot, 450.0, t, r, q,
                                                    is_call)), 7)
    if greek == "iv":
        return float(iv[0])
    model = PricingModel.BLACK_SCHOLES if style == EUROPEAN else PricingModel.BINOMIAL_CRR
    return float(np.round(greeks(model, iv, spot, 450.0, t, r, q, is_call)[greek], 7)[0])


# (price, spot, right, days, reference) rows of LEAN's ComparesAgainstExternalData2 cases
CASES = [(23.753, 450.0, CALL, 60), (35.830, 450.0, PUT, 60), (33.928, 470.0, CALL, 60), (6.428, 470.0, PUT, 60),
         (3.219, 430.0, CALL, 60), (47.701, 430.0, PUT, 60), (16.528, 450.0, CALL, 180), (21.784, 450.0, PUT, 180),
         (35.207, 470.0, CALL, 180), (0.409, 470.0, PUT, 180), (2.642, 430.0, CALL, 180), (27.772, 430.0, PUT, 180)]
IV_REFERENCE = [0.309, 0.515, 0.279, 0.205, 0.133, 0.545, 0.097, 0.207, 0.140, 0.055, 0.057, 0.177]
# greek -> (r, q, tolerance, European references, American references)
GREEK_REFERENCE = {
    "delta": (0.0403, 0.0, 0.0017,
              [0.546, -0.446, 0.693, -0.260, 0.243, -0.526, 0.632, -0.417, 0.765, -0.052, 0.263, -0.556],
              [0.546, -0.446, 0.693, -0.260, 0.243, -0.526, 0.632, -0.417, 0.765, -0.052, 0.264, -0.556]),
    "gamma": (0.0403, 0.0, 0.0005,
              [0.0071, 0.0042, 0.0067, 0.0083, 0.0136, 0.0042, 0.0128, 0.0059, 0.0070, 0.0057, 0.0193, 0.0073],
              [0.0071, 0.0042, 0.0067, 0.0083, 0.0136, 0.0042, 0.0129, 0.0059, 0.0070, 0.0058, 0.0193, 0.0073]),
    "vega": (0.053, 0.0153, 0.0072,
             [0.7215, 0.7195, 0.6705, 0.6181, 0.5429, 0.6922, 1.1932, 1.2263, 1.0370, 0.3528, 0.9707, 1.1816],
             [0.7206, 0.7189, 0.6791, 0.6290, 0.5690, 0.6921, 1.1958, 1.2248, 1.0459, 0.4350, 1.0122, 1.1852]),
    "theta_per_day": (0.0403, 0.0, 0.0042,
                      [-0.2092, -0.2835, -0.1858, -0.0918, -0.0712, -0.2852, -0.0601, -0.0483, -0.0733, -0.0027,
                       -0.0274, -0.0297],
                      [-0.2095, -0.2838, -0.1886, -0.0936, -0.0682, -0.2859, -0.0603, -0.0483, -0.0730, -0.0035,
                       -0.0265, -0.0300]),
    "rho": (0.053, 0.0153, 0.017,
            [0.3628, -0.3885, 0.4761, -0.2119, 0.1652, -0.4498, 1.2862, -1.0337, 1.5558, -0.1235, 0.5326, -1.3178],
            [0.3628, -0.3884, 0.4761, -0.2119, 0.1648, -0.4498, 1.2861, -1.0336, 1.5558, -0.1230, 0.5306, -1.3180]),
}


@pytest.mark.parametrize(("case", "reference"), list(zip(CASES, IV_REFERENCE, strict=True)))
def test_implied_volatility_matches_leans_reference_values(hours: ExchangeHours, case: tuple, reference: float) -> None:
    """ImpliedVolatilityTests.ComparesAgainstExternalData2 (r 5.3 %, q 1.53 %, tolerance 0.0036)."""
    assert single_indicator("iv", hours, *case, EUROPEAN, 0.053, 0.0153) == pytest.approx(reference, abs=0.0036)


@pytest.mark.parametrize("greek", sorted(GREEK_REFERENCE))
@pytest.mark.parametrize("style", [EUROPEAN, AMERICAN])
def test_greeks_match_leans_reference_values(hours: ExchangeHours, greek: str, style: str) -> None:
    """Delta/Gamma/Vega/Theta/RhoTests.ComparesAgainstExternalData2, all 12 contracts per style."""
    r, q, tolerance, european, american = GREEK_REFERENCE[greek]
    expected = european if style == EUROPEAN else american
    got = [single_indicator(greek, hours, *case, style, r, q) for case in CASES]
    assert got == pytest.approx(expected, abs=tolerance)


def _third_party_rows() -> list[list[str]]:
    rows = list(csv.reader(THIRD_PARTY.read_text(encoding="utf-8").splitlines()))
    return rows[3:-1]  # LEAN: Skip(3) header lines, SkipLast(1) (deep ITM: IV barely moves the price)


# Greek -> (call column, put column, LEAN's errorRate, errorMargin) of ComparesAgainstExternalData
THIRD_PARTY_COLUMNS = {"iv": (7, 6, 0.08, 1e-4), "delta": (9, 8, 0.03, 1e-4), "gamma": (11, 10, 0.12, 1e-4),
                       "vega": (13, 12, 0.2, 2e-4), "theta_per_day": (15, 14, 0.6, 1.5e-3)}


@pytest.mark.parametrize("greek", sorted(THIRD_PARTY_COLUMNS))
def test_forward_tree_with_mirror_matches_leans_third_party_data(hours: ExchangeHours, greek: str) -> None:
    """The production path (``LeanPriceModel.evaluate``: forward tree, mirror contract, smoothing,
    rounding) on LEAN's third-party American data, with each row's rate and dividend yield."""
    call_column, put_column, error_rate, error_margin = THIRD_PARTY_COLUMNS[greek]
    rows = _third_party_rows()
    assert len(rows) == 15
    for row in rows:
        expiry = datetime.strptime(row[1], "%d/%m/%Y %H:%M:%S")
        now = datetime.strptime(row[3], "%d/%m/%Y %H:%M:%S")
        call, put = spy(CALL, float(row[2]), expiry), spy(PUT, float(row[2]), expiry)
        prices = {call: float(row[5]), put: float(row[4])}
        model = LeanPriceModel(hours, ConstantRate(float(row[-2])), ConstantRate(float(row[-1])))
        values = model.evaluate(now, [call, put], prices.__getitem__, float(row[-4]), lambda s: True)
        got = values["theta"] / 365 if greek == "theta_per_day" else values[greek]
        for value, column in zip(got, (call_column, put_column), strict=True):
            expected = float(row[column])
            assert value == pytest.approx(expected, abs=max(error_rate * abs(expected), error_margin)), (row[:4], greek)


@pytest.mark.parametrize(("price", "mirror_price", "spot", "right", "reference"), [
    (23.753, 27.651, 450.0, CALL, 0.309), (33.928, 5.564, 470.0, CALL, 0.191), (47.701, 10.213, 430.0, PUT, 0.247)])
def test_default_smoothing_takes_the_out_of_the_money_contracts_iv(hours: ExchangeHours, price: float,
                                                                   mirror_price: float, spot: float,
                                                                   right: OptionRight, reference: float) -> None:
    """ImpliedVolatilityTests.SetSmoothingFunction (Black-Scholes, r 5.3 %, q 1.53 %, tolerance 0.0025):
    an in-the-money contract reports its mirror's IV."""
    expiry = REFERENCE + timedelta(days=60)
    symbol = spy(right, 450.0, expiry)
    t = (settlement(symbol, hours) - REFERENCE).total_seconds() / 86400 / 365
    own, other = (implied_volatility(PricingModel.BLACK_SCHOLES, p, spot, 450.0, t, 0.053, 0.0153, c)[0]
                  for p, c in ((price, right == CALL), (mirror_price, right != CALL)))
    iv = smooth(np.array([own]), np.array([other]), np.array([450.0]), np.array([spot]), np.array([right == CALL]))
    assert float(iv[0]) == pytest.approx(reference, abs=0.0025)
    in_the_money = (right == CALL and spot > 450) or (right == PUT and spot < 450)
    assert float(iv[0]) == (other if in_the_money else own)


def test_settlement_is_the_option_close_of_the_expiry_day_or_the_trading_day_before(hours: ExchangeHours) -> None:
    """OptionSymbol.GetSettlementDateTime: 2023-09-30 is a Saturday -> Friday 16:00 (also for
    LEAN's test symbols expiring at 10:00 that day); GOOG's 2015-12-24 expiry settles at the 13:00
    early close. An expiry given at 23:59 is past the day's close: the next close is days away,
    so LEAN limits it to midnight (what LEAN's third-party test symbols get)."""
    assert settlement(spy(CALL, 450.0, datetime(2023, 9, 30)), hours) == datetime(2023, 9, 29, 16, 0)
    assert settlement(spy(CALL, 450.0, datetime(2023, 9, 30, 10, 0)), hours) == datetime(2023, 9, 29, 16, 0)
    assert settlement(spy(CALL, 450.0, datetime(2024, 2, 9)), hours) == datetime(2024, 2, 9, 16, 0)
    assert settlement(spy(CALL, 450.0, datetime(2024, 2, 9, 23, 59)), hours) == datetime(2024, 2, 10)
    goog = Symbol.create_option("GOOG", "usa", None, PUT, 750.0, datetime(2015, 12, 24))
    assert settlement(goog, hours) == datetime(2015, 12, 24, 13, 0)


def test_an_expired_contract_or_a_missing_price_has_no_result(hours: ExchangeHours) -> None:
    """IndicatorBasedOptionPriceModel.Evaluate: None (all 0) after the expiry date, or when the
    contract or the underlying has no price; otherwise a result, even in the first minute."""
    call, put = spy(CALL, 450.0, datetime(2023, 9, 29)), spy(PUT, 450.0, datetime(2023, 9, 29))
    model = LeanPriceModel(hours, ConstantRate(0.05), ConstantRate(0.0))
    prices = {call: 10.0, put: 8.0}
    live = model.evaluate(datetime(2023, 8, 1, 9, 31), [call, put], prices.__getitem__, 450.0, lambda s: True)
    assert all(live[k][0] != 0 and live[k][1] != 0 for k in ("iv", "delta", "gamma", "vega", "theta"))
    expired = model.evaluate(datetime(2023, 9, 30, 10, 0), [call], prices.__getitem__, 450.0, lambda s: True)
    no_spot = model.evaluate(datetime(2023, 8, 1, 10, 0), [call], prices.__getitem__, 0.0, lambda s: True)
    no_quote = model.evaluate(datetime(2023, 8, 1, 10, 0), [call], {call: 0.0, put: 8.0}.__getitem__, 450.0,
                              lambda s: True)
    for result in (expired, no_spot, no_quote):
        assert all(float(v[0]) == 0.0 for v in result.values())


def test_on_the_expiry_day_after_the_close_greeks_are_zero_but_before_it_they_are_not(hours: ExchangeHours) -> None:
    """OptionGreeksIndicatorBase: a Greek is 0 when the time to expiry is negative; at 15:00 on
    the expiry day it is still computed (DeltaTests.CanComputeOnExpirationDate)."""
    call = spy(CALL, 450.0, datetime(2024, 12, 6))
    model = LeanPriceModel(hours, ConstantRate(0.0403), ConstantRate(0.0))
    before = model.evaluate(datetime(2024, 12, 6, 15, 0), [call], {call: 2.0}.__getitem__, 450.0, lambda s: False)
    after = model.evaluate(datetime(2024, 12, 6, 16, 30), [call], {call: 2.0}.__getitem__, 450.0, lambda s: False)
    assert before["delta"][0] != 0 and before["iv"][0] > 0
    assert after["delta"][0] == 0 and after["gamma"][0] == 0 and math.isclose(after["iv"][0], 0.0)
