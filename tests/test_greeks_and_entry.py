from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pytest

from execution.positions.entry_rule import choose_entry, years_to_expiry
from harness.pricing import price_chain
from models.bot_config import BotConfig, Right
from models.market_data import ContractQuote
from models.option_greeks import bs_delta, bs_price, implied_volatility


def test_our_black_scholes_agrees_with_the_harness_pricer():
    strikes = np.array([600.0, 700.0, 750.0, 800.0, 900.0])
    years = np.array([0.02, 0.1, 0.25, 0.5, 1.0])
    vol = np.array([0.2, 0.3, 0.25, 0.4, 0.6])
    calls = np.array([True, False, True, False, True])
    reference = price_chain(750.0, strikes, years, vol, 0.01, calls)
    assert np.allclose(bs_price(750.0, strikes, years, vol, 0.01, calls), reference.price, atol=1e-9)
    assert np.allclose(bs_delta(750.0, strikes, years, vol, 0.01, calls), reference.delta, atol=1e-9)


def test_implied_volatility_recovers_the_volatility_that_priced_the_option():
    rng = np.random.default_rng(3)
    strikes = rng.uniform(500, 1000, 500)
    years = rng.uniform(2 / 365, 1.5, 500)
    vol = rng.uniform(0.08, 1.5, 500)
    calls = rng.random(500) < 0.5
    reference = price_chain(750.0, strikes, years, vol, 0.01, calls)
    solved = implied_volatility(reference.price, 750.0, strikes, years, 0.01, calls)
    meaningful = reference.vega > 0.5  # where vega is tiny, a price cannot pin the volatility down
    assert meaningful.sum() > 300
    assert np.allclose(solved[meaningful], vol[meaningful], atol=1e-5)


def test_implied_volatility_is_nan_for_a_price_below_intrinsic():
    assert np.isnan(implied_volatility(np.array([1.0]), 750.0, 700.0, 0.1, 0.01, True)[0])


def quote(strike: float, expiry: date, delta: float, right: Right = Right.PUT, bid: float = 5.0,
          ask: float = 5.2) -> ContractQuote:
    return ContractQuote(f"GOOG {expiry:%y%m%d}{right.value[0].upper()}{strike:08.0f}", right, strike, expiry,
                         bid, ask, 100, 0.3 if delta else 0.0, delta)


NOW = datetime(2016, 1, 4, 10, 0)
CONFIG = BotConfig.from_parameters({}.get)


def test_the_entry_picks_the_expiry_nearest_the_target_then_the_delta_nearest_the_target():
    near, target, far = date(2016, 1, 22), date(2016, 2, 5), date(2016, 2, 26)
    quotes = [quote(700, near, -0.30), quote(700, target, -0.20), quote(710, target, -0.31),
              quote(720, target, -0.40), quote(700, far, -0.30), quote(700, target, 0.3, Right.CALL)]
    decision = choose_entry(CONFIG, quotes, 750.0, NOW, 0.01)
    assert decision is not None
    assert decision.quote.strike == 710 and decision.quote.expiry == target
    assert decision.quantity == -CONFIG.entry_quantity and decision.delta_source == "market"


def test_without_lean_greeks_the_entry_computes_delta_itself():
    expiry = date(2016, 2, 5)
    years = years_to_expiry(expiry, NOW)
    strikes = np.arange(650.0, 760.0, 10.0)
    prices = price_chain(750.0, strikes, np.full(strikes.shape, years), np.full(strikes.shape, 0.3), 0.01,
                         np.zeros(strikes.shape, dtype=bool))
    quotes = [ContractQuote(f"P{k:.0f}", Right.PUT, k, expiry, p - 0.05, p + 0.05)
              for k, p in zip(strikes, prices.price, strict=True)]
    decision = choose_entry(CONFIG, quotes, 750.0, NOW, 0.01)
    expected = strikes[np.argmin(np.abs(np.abs(prices.delta) - 0.30))]
    assert decision is not None and decision.delta_source == "calculated"
    assert decision.quote.strike == expected
    assert decision.delta == pytest.approx(prices.delta[strikes == expected][0], abs=0.01)


def test_no_entry_when_every_candidate_is_too_wide_or_outside_the_window():
    wide = quote(700, date(2016, 2, 5), -0.3, bid=1.0, ask=3.0)
    too_near = quote(700, date(2016, 1, 8), -0.3)
    no_bid = quote(700, date(2016, 2, 5), -0.3, bid=0.0)
    assert choose_entry(CONFIG, [wide, too_near, no_bid], 750.0, NOW, 0.01) is None
