"""The vectorised port of LEAN's pricing arithmetic against plain transcriptions of LEAN's loops.

- ``Indicators/OptionGreekIndicatorsHelper.cs`` ``BinomialTheoreticalPrice`` (with
  ``CRRTheoreticalPrice`` / ``ForwardTreeTheoreticalPrice``): transcribed below statement by
  statement; the harness runs it for all contracts at once, sums put trees in closed form and skips
  nodes whose value is known (zeros, exercised), so it must give the same number. Tolerance:
  1e-12 relative (numpy's vectorised ``power`` and the closed-form sum may differ from the scalar
  loop by a few ulps per node; a modelling difference shows at 1e-4 or more).
- MathNet ``Brent.TryFindRoot`` (LEAN's root finder for implied volatility): transcribed below;
  the harness steps every contract together, so roots must be bit-identical.
- ``InterestRateProvider`` and ``DividendYieldProvider`` (``Common/Data/``) on small files.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest

from harness.lean_disk import LeanDataFolder
from harness.lean_implied_vol import brent, implied_volatility
from harness.lean_option_math import STEPS, PricingModel, black_price, greeks, tree_price
from harness.lean_price_model import LeanPriceModel
from harness.lean_rates import DividendYieldProvider, InterestRateProvider
from harness.market_hours import ExchangeHours, load_exchange_hours
from tests.lean_data_paths import LEAN_DATA, needs_lean_data


# -- LEAN's loops, transcribed (OptionGreekIndicatorsHelper.cs) ---------------------------------
def _binomial(dt: float, p: float, up: float, r: float, spot: float, strike: float, call: bool) -> float:
    def intrinsic(price: float) -> float:
        return max(0.0, price - strike if call else strike - price)
    values = [0.0] * (STEPS + 1)
    exercise = [0.0] * (2 * STEPS)
    for i in range(2 * STEPS if call else STEPS + 1):
        if i < STEPS + 1:
            values[i] = intrinsic(spot * math.pow(up, 2 * i - STEPS))
        if call:
            exercise[i] = intrinsic(spot * math.pow(up, i - STEPS))
    factor = math.exp(-r * dt)
    factor_a, factor_b = factor * (1 - p), factor * p
    for period in range(STEPS - 1, -1, -1):
        for i in range(period + 1):
            value = values[i] * factor_a + values[i + 1] * factor_b
            values[i] = value if not call else max(value, exercise[2 * i - period + STEPS])
    return values[0]


def lean_forward_tree(vol: float, spot: float, strike: float, t: float, r: float, q: float, call: bool) -> float:
    dt = t / STEPS
    discount = math.exp((r - q) * dt)
    up, down = math.exp(vol * math.sqrt(dt)) * discount, math.exp(-vol * math.sqrt(dt)) * discount
    if up - down == 0:
        up, down = 1.0001, 0.9999
    return _binomial(dt, (discount - down) / (up - down), up, r, spot, strike, call)


def lean_crr(vol: float, spot: float, strike: float, t: float, r: float, q: float, call: bool) -> float:
    dt = t / STEPS
    up = math.exp(vol * math.sqrt(dt))
    up = 1.0001 if up == 1 else up
    down = 1 / up
    return _binomial(dt, (math.exp((r - q) * dt) - down) / (up - down), up, r, spot, strike, call)


# -- MathNet's Brent.TryFindRoot, transcribed -----------------------------------------------------
def mathnet_brent(f, lower: float, upper: float, accuracy: float, max_iterations: int = 100) -> float | None:
    def almost_equal_relative(a: float, b: float, diff: float, maximum: float) -> bool:
        if math.isinf(a) or math.isinf(b):
            return a == b
        if math.isnan(a) or math.isnan(b):
            return False
        if abs(a) < 2.0**-53 or abs(b) < 2.0**-53:
            return abs(diff) < maximum
        if (a == 0 and abs(b) < maximum) or (b == 0 and abs(a) < maximum):
            return True
        return abs(diff) < maximum * max(abs(a), abs(b))

    def sign(x: float) -> int:
        if math.isnan(x):
            raise ArithmeticError("Math.Sign(NaN)")
        return int(x > 0) - int(x < 0)

    try:
        f_min, f_max = f(lower), f(upper)
        f_root, d, e, root, x_mid = f_max, 0.0, 0.0, upper, math.nan
        if sign(f_min) == sign(f_max):
            return None
        for _ in range(max_iterations + 1):
            if sign(f_root) == sign(f_max):
                upper, f_max = lower, f_min
                e = d = root - lower
            if abs(f_max) < abs(f_root):
                lower, root, upper = root, upper, root
                f_min, f_root, f_max = f_root, f_max, f_root
            x_acc = 2.0**-52 * abs(root) + 0.5 * accuracy
            x_mid_old, x_mid = x_mid, (upper - root) / 2.0
            if abs(x_mid) <= x_acc or almost_equal_relative(f_root, 0, f_root, accuracy):
                return root
            if x_mid == x_mid_old:
                return None
            if abs(e) >= x_acc and abs(f_min) > abs(f_root):
                s = f_root / f_min
                if almost_equal_relative(lower, upper, lower - upper, 10 * 2.0**-53):
                    p, q = 2.0 * x_mid * s, 1.0 - s
                else:
                    q, r = f_min / f_max, f_root / f_max
                    p = s * (2.0 * x_mid * q * (q - r) - (root - lower) * (r - 1.0))
                    q = (q - 1.0) * (r - 1.0) * (s - 1.0)
                if p > 0.0:
                    q = -q
                p = abs(p)
                if 2.0 * p < min(3.0 * x_mid * q - abs(x_acc * q), abs(e * q)):
                    e, d = d, p / q
                else:
                    d = e = x_mid
            else:
                d = e = x_mid
            lower, f_min = root, f_root
            root += d if abs(d) > x_acc else (x_acc if x_mid >= 0 else -x_acc)
            f_root = f(root)
        return None
    except ArithmeticError:
        return None


def _contracts(n: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    vol, spot = rng.uniform(0.0, 1.2, n), rng.uniform(400, 900, n)
    strike, t = spot * rng.uniform(0.6, 1.5, n), rng.uniform(0.0, 0.6, n)
    r, q = rng.choice([0.0, 0.01, 0.055, -0.005], n), rng.choice([0.0, 0.0153, 0.08], n)
    vol[:4], t[4:8] = 0.0, 0.0  # LEAN's flat-tree and at-expiry branches
    # with vol 0 and r != q LEAN's flat tree has an up-probability outside [0, 1]: its values then
    # grow like 1e17 and amplify rounding (LEAN's own loop disagrees with itself under reordering)
    r[:4] = q[:4]
    return vol, spot, strike, t, r, q


@pytest.mark.parametrize(("model", "loop"), [(PricingModel.FORWARD_TREE, lean_forward_tree),
                                             (PricingModel.BINOMIAL_CRR, lean_crr)])
@pytest.mark.parametrize("rights", ["calls", "puts", "mixed"])
def test_tree_prices_equal_leans_loop(model: PricingModel, loop, rights: str) -> None:
    vol, spot, strike, t, r, q = _contracts(300 if rights == "calls" else 120, seed=len(rights))
    is_call = {"calls": np.ones(len(vol), bool), "puts": np.zeros(len(vol), bool),
               "mixed": np.arange(len(vol)) % 3 == 0}[rights]
    dt = t / STEPS
    up = np.exp(vol * np.sqrt(dt))
    up = np.where(up == 1, 1.0001, up)  # CRRTheoreticalPrice's flat-tree step
    crr_probability = (np.exp((r - q) * dt) - 1 / up) / (up - 1 / up)
    # a CRR probability outside [0, 1] (vol * sqrt(dt) < |r - q| dt) makes LEAN's tree blow up
    # (values ~1e100, rounding amplified): not a price anyone reads, left out of the comparison
    sane = (crr_probability >= 0) & (crr_probability <= 1) if model == PricingModel.BINOMIAL_CRR else vol >= 0
    args = (vol[sane], spot[sane], strike[sane], t[sane], r[sane], q[sane], is_call[sane])
    got = tree_price(model, *args)
    want = np.array([loop(*row) for row in zip(*args, strict=True)])
    assert len(want) > 100
    assert got == pytest.approx(want, rel=1e-12, abs=1e-12 * spot.max())


def test_one_contract_and_a_batch_give_the_same_tree_price() -> None:
    vol, spot, strike, t, r, q = _contracts(200, seed=7)
    is_call = np.ones(200, bool)
    batch = tree_price(PricingModel.FORWARD_TREE, vol, spot, strike, t, r, q, is_call)
    alone = [tree_price(PricingModel.FORWARD_TREE, *a, True)[0] for a in zip(vol, spot, strike, t, r, q, strict=True)]
    assert batch.tolist() == alone  # grouping rows never changes a number


def test_brent_steps_exactly_as_mathnet() -> None:
    rng = np.random.default_rng(3)
    centres, accuracies = rng.uniform(-1, 2, 40), rng.choice([1e-2, 1e-4, 1e-8], 40)

    def g(x: float, c: float) -> float:
        return math.tanh(3 * (x - c)) + 0.1 * (x - c) ** 3

    expected = [mathnet_brent(lambda x, c=c: g(x, c), -2.0, 3.0, a) for c, a in zip(centres, accuracies, strict=True)]
    for n in (1, 2, 40):  # the scalar path (one row) and the vectorised one
        got = brent(lambda x, rows: np.array([g(float(v), centres[i]) for v, i in zip(x, rows, strict=True)]),
                    np.full(n, -2.0), np.full(n, 3.0), accuracies[:n])
        assert got.tolist() == expected[:n]


def test_brent_has_no_root_where_mathnet_throws() -> None:
    flat = brent(lambda x, rows: np.ones(len(x)), np.zeros(3), np.ones(3), np.full(3, 1e-4))
    nan = brent(lambda x, rows: np.where(x > 0.5, np.nan, x - 0.7), np.zeros(2), np.ones(2), np.full(2, 1e-4))
    assert np.isnan(flat).all() and np.isnan(nan).all()


@pytest.mark.parametrize("model", [PricingModel.BLACK_SCHOLES, PricingModel.FORWARD_TREE, PricingModel.BINOMIAL_CRR])
def test_implied_volatility_follows_leans_calculate_iv(model: PricingModel) -> None:
    """``ImpliedVolatility.CalculateIV``: Brent on [1e-7, 4] with accuracy max(1e-4, 1e-4 price),
    for trees inside [0.5, 1.5] x the Black-Scholes IV; the root as Convert.ToDecimal keeps it."""
    rng = np.random.default_rng(11)
    n = 30
    spot, strike = np.full(n, 750.0), rng.uniform(650, 850, n)
    t, r, q, is_call = rng.uniform(2 / 365, 0.5, n), 0.01, 0.0, rng.random(n) < 0.5
    vol = rng.uniform(0.15, 0.6, n)
    price = tree_price(model, vol, spot, strike, t, r, q, is_call) if model != PricingModel.BLACK_SCHOLES \
        else black_price(vol, spot, strike, t, r, q, is_call)
    got = implied_volatility(model, price, spot, strike, t, r, q, is_call)
    for k in range(n):
        def excess(v: float, m: PricingModel = model, k: int = k) -> float:
            args = (v, spot[k], strike[k], t[k], r, q, bool(is_call[k]))
            return float(black_price(*args)) - price[k] if m == PricingModel.BLACK_SCHOLES else \
                float(tree_price(m, *args)[0]) - price[k]
        accuracy = max(1e-4, 1e-4 * price[k])
        lower, upper = 1e-7, 4.0
        if model != PricingModel.BLACK_SCHOLES:
            guess = implied_volatility(PricingModel.BLACK_SCHOLES, price[k], spot[k], strike[k], t[k], r, q,
                                       is_call[k])[0]
            lower, upper = max(lower, guess * 0.5), min(upper, guess * 1.5)
        want = mathnet_brent(excess, lower, upper, accuracy)
        assert want is not None and got[k] == float(f"{want:.15g}")
        assert abs(got[k] - vol[k]) < 0.01  # and it is the volatility that priced the contract


def test_no_implied_volatility_at_or_after_expiry_or_below_intrinsic() -> None:
    got = implied_volatility(PricingModel.FORWARD_TREE, [5.0, 5.0, 0.5], 750.0, [750.0, 750.0, 700.0],
                             [0.0, -0.01, 0.1], 0.01, 0.0, [True, True, True])
    assert np.isnan(got).all()  # no price at expiry; a call under its intrinsic value has no volatility


def test_greek_units_are_leans() -> None:
    """Vega and rho per 1 point, theta per day (Black-Scholes closed forms, Delta/Vega/Theta/Rho.cs)."""
    s, k, t, r, q, vol = 100.0, 100.0, 0.5, 0.05, 0.0, 0.2
    g = greeks(PricingModel.BLACK_SCHOLES, vol, s, k, t, r, q, True)
    d1 = (math.log(s / k) + (r - q + vol * vol / 2) * t) / (vol * math.sqrt(t))
    d2 = d1 - vol * math.sqrt(t)
    n = lambda x: 0.5 * math.erfc(-x / math.sqrt(2))  # noqa: E731
    pdf = math.exp(-d1 * d1 / 2) / math.sqrt(2 * math.pi)
    assert g["delta"][0] == pytest.approx(n(d1), rel=1e-12)
    assert g["vega"][0] == pytest.approx(s * math.sqrt(t) * pdf / 100, rel=1e-12)
    assert g["rho"][0] == pytest.approx(k * t * math.exp(-r * t) * n(d2) / 100, rel=1e-12)
    annual = -s * vol * pdf / (2 * math.sqrt(t)) - r * k * math.exp(-r * t) * n(d2)
    assert g["theta_per_day"][0] == pytest.approx(annual / 365, rel=1e-12)


def test_tree_greeks_are_leans_finite_differences() -> None:
    """Delta.cs / Gamma.cs / Vega.cs / Theta.cs / Rho.cs for the forward tree, on LEAN's loop."""
    vol, s, k, t, r, q = 0.3, 750.0, 760.0, 20 / 365, 0.01, 0.0
    g = greeks(PricingModel.FORWARD_TREE, vol, s, k, t, r, q, True)
    price = lean_forward_tree(vol, s, k, t, r, q, True)
    dt = t / STEPS
    up = math.exp(vol * math.sqrt(dt)) * math.exp((r - q) * dt)
    down = math.exp(-vol * math.sqrt(dt)) * math.exp((r - q) * dt)
    delta = (lean_forward_tree(vol, s * up, k, t, r, q, True) - lean_forward_tree(vol, s * down, k, t, r, q, True)) \
        / (s * up - s * down)
    gu = math.exp(vol * math.sqrt(dt))
    s_up, s_down = s * gu * gu, s / gu / gu
    f_up, f_down = lean_forward_tree(vol, s_up, k, t, r, q, True), lean_forward_tree(vol, s_down, k, t, r, q, True)
    gamma = ((f_up - price) / (s_up - s) - (price - f_down) / (s - s_down)) * 2 / (s_up - s_down)
    vega = (lean_forward_tree(vol + 0.01, s, k, t, r, q, True) - price) / 0.01 / 100
    theta = (lean_forward_tree(vol, s, k, t - 2 * dt, r, q, True) - price) * 0.5 / dt / 365
    rho = (lean_forward_tree(vol, s, k, t, r + 0.0001, q, True) - price) / 0.0001 / 100
    want = {"delta": delta, "gamma": gamma, "vega": vega, "theta_per_day": theta, "rho": rho}
    for name, value in want.items():
        assert g[name][0] == pytest.approx(value, rel=1e-8, abs=1e-10), name  # differences of near-equal prices


# -- rates ----------------------------------------------------------------------------------------
def test_interest_rate_provider_carries_the_last_rate_forward(tmp_path: Path) -> None:
    path = tmp_path / "interest-rate.csv"
    path.write_text("DATE,PCREDIT8\n2003-01-09,2.25\nnot-a-date,9\n2015-12-17,1.00\n\n2016-12-15,1.25\n")
    rates = InterestRateProvider(path, today=date(2020, 1, 1))
    assert rates.get_interest_rate(datetime(2015, 12, 24, 10, 0)) == pytest.approx(0.01)
    assert rates.get_interest_rate(date(2015, 12, 17)) == pytest.approx(0.01)
    assert rates.get_interest_rate(date(2015, 12, 16)) == pytest.approx(0.0225)
    assert rates.get_interest_rate(date(2001, 5, 1)) == pytest.approx(0.0225)  # before the file: its first rate
    assert rates.get_interest_rate(date(1990, 1, 1)) == pytest.approx(0.0225)  # before 1998: 1998-01-01's
    assert rates.get_interest_rate(date(2030, 1, 1)) == pytest.approx(0.0125)  # after today: today's
    assert InterestRateProvider(tmp_path / "missing.csv").get_interest_rate(date(2015, 1, 1)) == 0.01


@needs_lean_data
def test_dividend_yield_from_factor_file_events() -> None:
    """DividendYieldProvider: dividends of the 350 days up to the latest one, split-adjusted, over
    the price; GOOG's factor file has only splits (yield 0)."""
    hours: ExchangeHours = load_exchange_hours(LEAN_DATA / "market-hours" / "market-hours-database.json", "Equity")
    rows = [(date(2014, 1, 2), 0.98, 1.0, 100.0),   # dividend: round(100 - 100 * 0.98 / 0.99, 3) = 1.01
            (date(2014, 6, 2), 0.99, 1.0, 110.0),   # dividend: round(110 - 110 * 0.99 / 1.0, 3) = 1.1
            (date(2014, 9, 2), 1.0, 0.5, 120.0),    # split 0.5 / 1 (a 2:1 split)
            (date(2050, 12, 31), 1.0, 1.0, 0.0)]
    provider = DividendYieldProvider(rows, hours)
    assert [e.dividend for e in provider.events] == [pytest.approx(1.01), pytest.approx(1.1), None]
    assert provider.get_dividend_yield(date(2014, 1, 2), 50.0) == 0.0  # no event yet (dated the next trading day)
    assert provider.get_dividend_yield(date(2014, 6, 10), 50.0) == pytest.approx((1.1 + 1.01) / 50.0)
    # after the split the latest event is the split: the June dividend ends the window, and both
    # dividends count per post-split share (x 0.5)
    assert provider.get_dividend_yield(date(2014, 12, 1), 50.0) == pytest.approx((1.1 + 1.01) * 0.5 / 50.0)
    goog = DividendYieldProvider(LeanDataFolder(LEAN_DATA).factor_rows("GOOG"), hours)
    assert goog.get_dividend_yield(datetime(2015, 12, 24, 10, 0), 750.0) == 0.0


@needs_lean_data
def test_the_engines_models_from_a_data_folder_warn_or_name_the_bad_file(tmp_path: Path) -> None:
    """No interest-rate file: LEAN logs an error and uses 1 %, the harness warns. A factor file
    whose dividend cannot be resolved (price factor 0): LEAN throws, the harness names the file."""
    option_hours = load_exchange_hours(LEAN_DATA / "market-hours" / "market-hours-database.json", "Option")
    equity_hours = load_exchange_hours(LEAN_DATA / "market-hours" / "market-hours-database.json", "Equity")
    folder = LeanDataFolder(tmp_path)
    model = LeanPriceModel.from_data_folder(folder, "GOOG", option_hours, equity_hours)
    assert model.rates.get_interest_rate(date(2015, 12, 24)) == 0.01
    assert model.dividends.get_dividend_yield(date(2015, 12, 24), 750.0) == 0.0
    assert any("no interest rates" in w and "interest-rate.csv" in w for w in folder.warnings)
    factor_file = tmp_path / "equity" / "usa" / "factor_files" / "goog.csv"
    factor_file.parent.mkdir(parents=True)
    factor_file.write_text("20140327,0.99,1,100\n20150424,0,1,565.06\n20501231,1,1,0\n")
    with pytest.raises(ValueError, match=r"goog\.csv: price factor is zero after 2014-03-27"):
        LeanPriceModel.from_data_folder(LeanDataFolder(tmp_path), "GOOG", option_hours, equity_hours)
