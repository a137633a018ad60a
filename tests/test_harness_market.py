"""The harness's synthetic option market (harness/market.py, harness/pricing.py) and the chain the
algorithm sees through LEAN's option filter (harness/lean_data.py)."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.engine import HarnessEngine
from harness.lean_data import OptionFilterUniverse
from harness.lean_enums import OptionRight, SecurityType
from harness.lean_symbols import SecurityIdentifier, Symbol
from harness.market import MINUTES_PER_DAY, MarketConfig, SyntheticMarket
from harness.pricing import price_chain
from harness.qc_algorithm import QCAlgorithm

MONDAY = date(2016, 1, 4)
TUESDAY = date(2016, 1, 5)
OPEN = time(9, 30)
GOOG = Symbol("GOOG", SecurityIdentifier(SecurityType.EQUITY, "GOOG"))


def new_market(seed: int = 1, **config: Any) -> SyntheticMarket:
    return SyntheticMarket(GOOG, MarketConfig(seed=seed, **config))


def minute(day: date, n: int) -> datetime:
    return datetime.combine(day, OPEN) + timedelta(minutes=n)


def play_day(market: SyntheticMarket, day: date, minutes: int = MINUTES_PER_DAY) -> list[float]:
    """Start ``day`` and advance ``minutes`` minutes; the underlying after each one."""
    market.start_day(day)
    path = []
    for n in range(1, minutes + 1):
        market.advance(minute(day, n))
        path.append(market.spot)
    return path


def record(seed: int) -> tuple[list[float], list[np.ndarray], list[np.ndarray]]:
    market = new_market(seed)
    spots: list[float] = []
    bids: list[np.ndarray] = []
    asks: list[np.ndarray] = []
    for day in (MONDAY, TUESDAY):
        market.start_day(day)
        for n in range(1, MINUTES_PER_DAY + 1):
            market.advance(minute(day, n))
            spots.append(market.spot)
            if n % 60 == 0:
                bids.append(market.book.bid.copy())
                asks.append(market.book.ask.copy())
        market.end_day()
    return spots, bids, asks


# -- determinism --------------------------------------------------------------------------------
def test_same_seed_gives_identical_underlying_paths_and_quotes() -> None:
    first, second = record(seed=1), record(seed=1)

    assert first[0] == second[0]
    assert all(np.array_equal(a, b) for a, b in zip(first[1], second[1], strict=True))
    assert all(np.array_equal(a, b) for a, b in zip(first[2], second[2], strict=True))


def test_different_seeds_give_different_paths_and_quotes() -> None:
    first, second = record(seed=1), record(seed=2)

    assert first[0] != second[0]
    assert not np.array_equal(first[1][-1], second[1][-1])


def test_underlying_starts_at_the_configured_price_and_moves() -> None:
    market = new_market(start_price=400.0)
    assert market.spot == 400.0

    path = play_day(market, MONDAY)

    assert len(set(path)) > MINUTES_PER_DAY // 2
    assert 300 < path[-1] < 500


def test_a_shock_jumps_the_underlying_at_its_time() -> None:
    shock_at = minute(MONDAY, 60)
    calm = play_day(new_market(), MONDAY)
    shocked = play_day(new_market(shocks=((shock_at, -0.2),)), MONDAY)

    assert shocked[:59] == calm[:59]
    assert shocked[59] == pytest.approx(calm[59] * 0.8)


# -- quotes -------------------------------------------------------------------------------------
def test_quotes_have_a_non_negative_bid_below_the_ask_all_day() -> None:
    market = new_market()
    market.start_day(MONDAY)

    for n in range(1, MINUTES_PER_DAY + 1):
        market.advance(minute(MONDAY, n))
        bid, ask = market.book.bid, market.book.ask
        assert (bid >= 0).all(), n
        assert (bid < ask).all(), n


def test_model_price_lies_between_bid_and_ask() -> None:
    market = new_market()
    play_day(market, MONDAY, minutes=30)
    book = market.book

    assert (book.bid <= book.last + 0.005).all()
    assert (book.last <= book.ask + 0.005).all()


def test_an_expired_contract_keeps_its_last_closing_quote() -> None:
    market = new_market()
    for day in (MONDAY, TUESDAY, date(2016, 1, 6), date(2016, 1, 7), date(2016, 1, 8)):
        play_day(market, day)
        market.end_day()
    symbol = next(s for s in market.index if s.id.date.date() == date(2016, 1, 8))
    closing = market.quote(symbol)

    market.start_day(date(2016, 1, 11))

    assert symbol not in {c.symbol for c in market.listed}
    assert market.quote(symbol) == closing
    assert market.quote(Symbol("NOPE", SecurityIdentifier(SecurityType.OPTION, "NOPE"))) == (0.0, 0.0)


def test_underlying_quote_is_a_cent_either_side_of_spot() -> None:
    market = new_market()
    play_day(market, MONDAY, minutes=5)

    bid, ask = market.quote(GOOG)

    assert bid == pytest.approx(market.spot - 0.01, abs=0.006)
    assert ask == pytest.approx(market.spot + 0.01, abs=0.006)


# -- listing ------------------------------------------------------------------------------------
def test_weekly_and_monthly_expiries_are_listed() -> None:
    market = new_market()

    listed = market.start_day(MONDAY)

    series = {(c.expiry, c.weekly) for c in listed}
    weeklies = {d for d, weekly in series if weekly}
    monthlies = {d for d, weekly in series if not weekly}
    assert weeklies == {date(2016, 1, 8), date(2016, 1, 22), date(2016, 1, 29), date(2016, 2, 5),
                        date(2016, 2, 12)}
    assert monthlies == {date(2016, 1, 15), date(2016, 2, 19), date(2016, 3, 18)}


def test_every_listed_strike_has_a_call_and_a_put() -> None:
    market = new_market()

    listed = market.start_day(MONDAY)

    calls = {(c.expiry, c.strike) for c in listed if c.right == OptionRight.CALL}
    puts = {(c.expiry, c.strike) for c in listed if c.right == OptionRight.PUT}
    assert calls == puts
    assert all(c.symbol.id.date.date() == c.expiry and c.symbol.id.strike_price == c.strike for c in listed)


def test_good_friday_weekly_expiry_is_listed_on_the_thursday_before() -> None:
    market = new_market()

    listed = market.start_day(date(2016, 3, 21))

    expiries = {c.expiry for c in listed}
    assert date(2016, 3, 24) in expiries
    assert date(2016, 3, 25) not in expiries


def test_strike_grid_of_an_expiry_stays_as_listed_when_the_underlying_moves() -> None:
    market = new_market(shocks=((minute(MONDAY, 10), 0.3),))
    play_day(market, MONDAY)
    before = sorted({c.strike for c in market.listed if c.expiry == date(2016, 1, 15)})
    market.end_day()

    market.start_day(TUESDAY)

    after = sorted({c.strike for c in market.listed if c.expiry == date(2016, 1, 15)})
    assert after == before
    assert before[0] == 750 - 30 * 5 and before[-1] == 750 + 30 * 5


# -- Greeks and IV ------------------------------------------------------------------------------
class GreeksRecorder(QCAlgorithm):
    def initialize(self) -> None:
        self.set_start_date(MONDAY)
        self.set_end_date(TUESDAY)
        option = self.add_option("GOOG")
        option.set_filter(lambda u: u.strikes(-1, 1).expiration(0, 10))
        self.option_symbol = option.symbol
        self.seen: dict[datetime, dict[str, float]] = {}

    def on_data(self, slice: Any) -> None:
        if self.time.time() not in (time(9, 31), time(9, 32)):
            return
        chain = slice.option_chains.get(self.option_symbol)
        call = next(c for c in chain if c.right == OptionRight.CALL)
        put = next(c for c in chain if c.right == OptionRight.PUT)
        self.seen[self.time] = {
            "iv": call.implied_volatility, "delta": call.greeks.delta, "gamma": call.greeks.gamma,
            "theta": call.greeks.theta, "vega": call.greeks.vega, "rho": call.greeks.rho,
            "put_delta": put.greeks.delta, "bid": call.bid_price, "ask": call.ask_price,
        }


def test_greeks_and_iv_are_zero_on_the_first_minute_of_each_day_and_set_later(tmp_path: Path) -> None:
    engine = HarnessEngine(GreeksRecorder, parameters={}, storage_dir=tmp_path,
                           market_config=MarketConfig(seed=1))

    engine.run()

    seen = engine.algorithm.seen  # type: ignore[attr-defined]
    greek_names = ("iv", "delta", "gamma", "theta", "vega", "rho", "put_delta")
    for day in (MONDAY, TUESDAY):
        first, second = seen[minute(day, 1)], seen[minute(day, 2)]
        assert all(first[name] == 0.0 for name in greek_names), day
        assert first["bid"] > 0 and first["ask"] > 0, day  # quotes are there from the first minute
        assert all(second[name] != 0.0 for name in greek_names), day
        assert 0 < second["delta"] < 1 and -1 < second["put_delta"] < 0, day
        assert second["gamma"] > 0 and second["vega"] > 0 and second["theta"] < 0, day
        assert 0.05 < second["iv"] < 1.0, day


def test_pricing_delta_matches_a_finite_difference_of_the_price() -> None:
    strike = np.array([700.0, 750.0, 800.0, 700.0, 750.0, 800.0])
    years = np.full(6, 30 / 365)
    vol = np.full(6, 0.27)
    is_call = np.array([True, True, True, False, False, False])
    h = 0.01

    base = price_chain(750.0, strike, years, vol, 0.01, is_call)
    up = price_chain(750.0 + h, strike, years, vol, 0.01, is_call)
    down = price_chain(750.0 - h, strike, years, vol, 0.01, is_call)

    assert np.allclose((up.price - down.price) / (2 * h), base.delta, atol=1e-5)
    assert np.allclose((up.delta - down.delta) / (2 * h), base.gamma, atol=1e-6)


def test_pricing_theta_is_annual_and_vega_per_unit_of_volatility() -> None:
    strike, vol, is_call = np.array([750.0]), np.array([0.27]), np.array([True])
    dt = 1e-4

    now = price_chain(750.0, strike, np.array([0.1]), vol, 0.01, is_call)
    later = price_chain(750.0, strike, np.array([0.1 - dt]), vol, 0.01, is_call)
    bumped = price_chain(750.0, strike, np.array([0.1]), vol + 1e-4, 0.01, is_call)

    assert (later.price - now.price)[0] / dt == pytest.approx(now.theta[0], rel=1e-3)
    assert (bumped.price - now.price)[0] / 1e-4 == pytest.approx(now.vega[0], rel=1e-3)


# -- put-call parity ----------------------------------------------------------------------------
def test_put_call_parity_holds_on_the_mids_within_the_spreads() -> None:
    config = MarketConfig(seed=1)
    market = SyntheticMarket(GOOG, config)
    play_day(market, MONDAY, minutes=120)
    moment = minute(MONDAY, 120)
    book, spot = market.book, market.spot
    quotes = {(c.expiry, c.strike, c.right): i for i, c in enumerate(market.listed)}
    checked = 0

    for (expiry, strike, right), call_i in quotes.items():
        if right != OptionRight.CALL:
            continue
        put_i = quotes[(expiry, strike, OptionRight.PUT)]
        seconds = max((datetime.combine(expiry, time(16, 0)) - moment).total_seconds(), 60.0)
        years = seconds / (365.0 * 24 * 3600)
        call_mid = (book.bid[call_i] + book.ask[call_i]) / 2
        put_mid = (book.bid[put_i] + book.ask[put_i]) / 2
        gap = call_mid - put_mid - (spot - strike * math.exp(-config.rate * years))
        spreads = (book.ask[call_i] - book.bid[call_i]) + (book.ask[put_i] - book.bid[put_i])
        assert abs(gap) <= spreads / 2, (expiry, strike, gap, spreads)
        checked += 1

    assert checked == len(market.listed) // 2


# -- option filter ------------------------------------------------------------------------------
def listed_universe(price: float) -> OptionFilterUniverse:
    market = new_market()
    market.start_day(MONDAY)
    return OptionFilterUniverse(market.listed, price, MONDAY)


@pytest.mark.parametrize("k", [1, 2, 5])
def test_strikes_filter_keeps_2k_plus_1_strikes_centred_on_the_at_the_money_strike(k: int) -> None:
    universe = listed_universe(750.0)

    kept = universe.strikes(-k, k).contracts

    strikes = sorted({c.strike for c in kept})
    assert strikes == [750.0 + 5 * i for i in range(-k, k + 1)]
    # LEAN's filter narrows the universe in place: compare with a fresh listing
    assert len(kept) == len([c for c in listed_universe(750.0).contracts if c.strike in strikes])


def test_strikes_filter_between_two_strikes_keeps_k_strikes_below_and_k_above_the_price() -> None:
    universe = listed_universe(752.3)

    kept = universe.strikes(-2, 2).contracts

    assert sorted({c.strike for c in kept}) == [745.0, 750.0, 755.0, 760.0]


def test_expiration_filter_keeps_expiries_within_the_days_to_expiry_window() -> None:
    universe = listed_universe(750.0)

    kept = universe.expiration(5, 20).contracts

    assert {c.expiry for c in kept} == {date(2016, 1, 15), date(2016, 1, 22)}  # 11 and 18 days
    assert all(5 <= (c.expiry - MONDAY).days <= 20 for c in kept)


def test_expiration_window_bounds_are_inclusive() -> None:
    universe = listed_universe(750.0)

    kept = universe.expiration(4, 4).contracts

    assert {c.expiry for c in kept} == {date(2016, 1, 8)}


class FilteredChainRecorder(QCAlgorithm):
    def initialize(self) -> None:
        self.set_start_date(MONDAY)
        self.set_end_date(MONDAY)
        option = self.add_option("GOOG")
        option.set_filter(lambda u: u.strikes(-2, 2).expiration(5, 20))
        self.option_symbol = option.symbol
        self.chains: list[set[tuple[date, float, OptionRight]]] = []

    def on_data(self, slice: Any) -> None:
        chain = slice.option_chains.get(self.option_symbol)
        self.chains.append({(c.expiry.date(), c.strike, c.right) for c in chain})


def test_chain_in_on_data_holds_the_filtered_contracts_all_day(tmp_path: Path) -> None:
    engine = HarnessEngine(FilteredChainRecorder, parameters={}, storage_dir=tmp_path,
                           market_config=MarketConfig(seed=1))

    engine.run()

    chains = engine.algorithm.chains  # type: ignore[attr-defined]
    assert len(chains) == MINUTES_PER_DAY
    expected = {(expiry, strike, right) for expiry in (date(2016, 1, 15), date(2016, 1, 22))
                for strike in (740.0, 745.0, 750.0, 755.0, 760.0)
                for right in (OptionRight.CALL, OptionRight.PUT)}
    assert all(chain == expected for chain in chains)


class NoFilter(QCAlgorithm):
    def initialize(self) -> None:
        self.set_start_date(MONDAY)
        self.set_end_date(MONDAY)
        self.option_symbol = self.add_option("GOOG").symbol
        self.strikes: set[float] = set()
        self.days: set[int] = set()

    def on_data(self, slice: Any) -> None:
        for c in slice.option_chains.get(self.option_symbol):
            self.strikes.add(c.strike)
            self.days.add((c.expiry.date() - self.time.date()).days)


def test_default_filter_is_one_strike_either_side_within_35_days(tmp_path: Path) -> None:
    engine = HarnessEngine(NoFilter, parameters={}, storage_dir=tmp_path, market_config=MarketConfig(seed=1))

    engine.run()

    algo = engine.algorithm
    assert algo.strikes == {745.0, 750.0, 755.0}  # type: ignore[attr-defined]
    # 01-08, 01-15, 01-22, 01-29, 02-05; 02-12 (39 days) and the monthlies after it are out
    assert algo.days == {4, 11, 18, 25, 32}  # type: ignore[attr-defined]
