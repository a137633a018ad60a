"""Which contract a position rolls into (execution/rolls/roll_target.py)."""

from __future__ import annotations

import dataclasses
import logging
import random
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from execution.bot_managed_positions import BotManagedPosition
from execution.rolls.roll_target import NoRollTarget, RollTarget, TargetRule, find_roll_target
from execution.smart_execution import combo_net_quote
from models.bot_config import Right
from models.market_data import ContractQuote
from models.option_greeks import bs_greeks
from models.roll_config import PutStrikeCap, RollConfig

TODAY = date(2016, 1, 4)
HELD_EXPIRY = TODAY + timedelta(days=5)
SPOT = 105.0
RATE = 0.01
CONFIG = RollConfig(dte=10, target_min_dte=21, target_max_dte=60, target_delta=0.30, min_open_interest=0,
                    max_spread_pct=0.25)


def osi(expiry: date, right: Right, strike: float, underlying: str = "GOOG") -> str:
    return f"{underlying:<6}{expiry:%y%m%d}{'C' if right == Right.CALL else 'P'}{round(strike * 1000):08d}"


def quote(*, dte: int = 33, strike: float = 100.0, right: Right = Right.PUT, bid: float = 2.0, ask: float = 2.2,
          oi: float = 100.0, delta: float | None = None, underlying: str = "GOOG") -> ContractQuote:
    """A put 33 days out with |delta| 0.30 (sign follows the right) unless told otherwise."""
    expiry = TODAY + timedelta(days=dte)
    if delta is None:
        delta = -0.30 if right == Right.PUT else 0.30
    return ContractQuote(osi(expiry, right, strike, underlying), right, strike, expiry, bid, ask, oi,
                         0.3 if delta else 0.0, delta)


def held(*, right: Right = Right.PUT, strike: float = 100.0, quantity: int = -2, entry: float = 2.0,
         bid: float = 0.9, ask: float = 1.0) -> tuple[BotManagedPosition, ContractQuote]:
    """A short 100 put sold at 2.00, expiring in 5 days, quoted 0.90 / 1.00."""
    current = ContractQuote(osi(HELD_EXPIRY, right, strike), right, strike, HELD_EXPIRY, bid, ask, 500.0)
    position = BotManagedPosition(id="P00001", symbol=current.symbol, underlying="GOOG", right=right,
                                  strike=strike, expiry=HELD_EXPIRY, multiplier=100.0,
                                  opened_at=datetime(2015, 12, 1), quantity=quantity, entry_price=entry,
                                  mark_price=(bid + ask) / 2, underlying_price=SPOT)
    return position, current


def find(chain: list[ContractQuote], config: RollConfig = CONFIG, spot: float = SPOT,
         **held_kwargs: Any) -> RollTarget | NoRollTarget:
    position, current = held(**held_kwargs)
    return find_roll_target(position, chain, spot, TODAY, config, current, risk_free_rate=RATE)


def target(chain: list[ContractQuote], config: RollConfig = CONFIG, **kwargs: Any) -> RollTarget:
    result = find(chain, config, **kwargs)
    assert isinstance(result, RollTarget), result
    return result


def no_target(chain: list[ContractQuote], config: RollConfig = CONFIG, **kwargs: Any) -> NoRollTarget:
    result = find(chain, config, **kwargs)
    assert isinstance(result, NoRollTarget), result
    return result


# --- the choice ---------------------------------------------------------------------------------

def test_picks_the_contract_closest_to_the_target_delta():
    chain = [quote(strike=95, delta=-0.20), quote(strike=98, delta=-0.28), quote(strike=101, delta=-0.40)]

    chosen = target(chain)

    assert chosen.quote.strike == 98 and chosen.delta == -0.28 and chosen.delta_source == "market"
    assert chosen.qualified == 3 and chosen.dte == 33


def test_a_short_roll_buys_back_the_held_contract_and_sells_the_new_one():
    new = quote(bid=2.0, ask=2.2)

    chosen = target([new], quantity=-3)

    assert (chosen.close_ratio, chosen.open_ratio, chosen.quantity) == (1, -1, 3)
    assert chosen.close_symbol == osi(HELD_EXPIRY, Right.PUT, 100.0) and chosen.symbol == new.symbol
    assert (chosen.net_bid, chosen.net_ask) == combo_net_quote(((1, 0.9, 1.0), (-1, 2.0, 2.2)))
    assert chosen.net_mid == pytest.approx(-1.15)  # 0.95 paid, 2.10 received: a credit
    assert chosen.is_credit and chosen.expected_net_credit == pytest.approx(1.15 * 3 * 100)
    assert chosen.worst_net_credit == pytest.approx((2.0 - 1.0) * 3 * 100)


def test_a_long_roll_sells_the_held_contract_and_buys_the_new_one_without_short_limits():
    far_above = quote(strike=150, delta=-0.30, bid=45.0, ask=46.0)

    chosen = target([far_above], RollConfig(credit_only=True), quantity=2)

    assert (chosen.close_ratio, chosen.open_ratio, chosen.quantity) == (-1, 1, 2)
    assert not chosen.is_credit and chosen.expected_net_credit < 0


def test_tie_on_delta_prefers_the_nearer_expiry():
    chain = [quote(dte=47, strike=95, delta=-0.30), quote(dte=26, strike=90, delta=-0.30)]

    assert target(chain).dte == 26


def test_tie_on_delta_and_expiry_prefers_the_strike_further_out_of_the_money():
    puts = [quote(strike=99, delta=-0.35), quote(strike=97, delta=-0.25)]
    calls = [quote(right=Right.CALL, strike=111, delta=0.35), quote(right=Right.CALL, strike=113, delta=0.25)]

    assert target(puts).quote.strike == 97
    assert target(calls, right=Right.CALL, strike=110.0).quote.strike == 113


def test_the_choice_does_not_depend_on_the_order_of_the_chain():
    chain = [quote(dte=d, strike=k, delta=-delta) for d in (26, 33, 47) for k, delta in
             ((90, 0.15), (95, 0.25), (98, 0.35), (100, 0.45))]
    expected = target(chain).symbol

    for seed in range(5):
        shuffled = chain[:]
        random.Random(seed).shuffle(shuffled)
        assert target(shuffled).symbol == expected


def test_missing_market_delta_is_computed_from_the_mid():
    vol, strikes, years = 0.35, [85.0, 92.0, 99.0], 33 / 365
    prices = bs_greeks(False, SPOT, strikes, years, RATE, vol)
    chain = [quote(strike=k, bid=p - 0.05, ask=p + 0.05, delta=0.0)
             for k, p in zip(strikes, prices.price.tolist(), strict=True)]
    nearest = min(range(3), key=lambda i: abs(abs(prices.delta[i]) - 0.30))

    chosen = target(chain, RollConfig(max_spread_pct=2.0))

    assert chosen.delta_source == "calculated" and chosen.quote.strike == strikes[nearest]
    assert chosen.delta == pytest.approx(prices.delta[nearest], abs=2e-3)


# --- each criterion, alone, rejects and is counted ----------------------------------------------

@pytest.mark.parametrize(("rejected", "contract", "config"), [
    (TargetRule.RIGHT, quote(right=Right.CALL, delta=0.3), CONFIG),
    (TargetRule.NOT_LATER, quote(dte=5), dataclasses.replace(CONFIG, target_min_dte=11, dte=1)),
    (TargetRule.DTE_WINDOW, quote(dte=61), CONFIG),
    (TargetRule.DTE_WINDOW, quote(dte=20), CONFIG),
    (TargetRule.UNDERLYING, quote(underlying="GOOGL"), CONFIG),
    (TargetRule.QUOTE, quote(bid=0.0, ask=0.1), CONFIG),
    (TargetRule.QUOTE, quote(bid=2.2, ask=2.0), CONFIG),
    (TargetRule.QUOTE, quote(bid=float("nan")), CONFIG),
    (TargetRule.OPEN_INTEREST, quote(oi=9), dataclasses.replace(CONFIG, min_open_interest=10)),
    (TargetRule.SPREAD, quote(bid=1.0, ask=1.3), dataclasses.replace(CONFIG, max_spread_pct=0.25)),
    (TargetRule.STRIKE_LIMIT, quote(strike=102.5), CONFIG),
    (TargetRule.CREDIT, quote(bid=0.95, ask=1.05), dataclasses.replace(CONFIG, credit_only=True)),
    (TargetRule.DELTA, quote(bid=150.0, ask=151.0, delta=0.0), CONFIG),  # above any put price: no vol
])
def test_each_criterion_rejects_and_is_counted_in_the_reason(rejected, contract, config):
    result = no_target([contract], config)

    assert result.rejected == {rejected.value: 1} and result.considered == 1
    assert f"{rejected.value} 1" in result.reason


def test_rejections_are_counted_once_each_and_add_up_to_the_chain():
    chain = [quote(right=Right.CALL), quote(dte=61), quote(bid=1.0, ask=1.5), quote(strike=110), quote(dte=3)]

    result = no_target(chain)

    assert result.rejected == {"right": 1, "not_later": 1, "dte_window": 1, "spread": 1, "strike_limit": 1}
    assert sum(result.rejected.values()) == len(chain)


def test_an_empty_chain_says_so():
    result = no_target([])

    assert result.rejected == {} and "the chain is empty" in result.reason


def test_a_held_contract_without_an_ask_finds_no_target():
    result = no_target([quote()], bid=0.0, ask=0.0)

    assert "no usable quote" in result.reason


def test_no_target_is_logged_at_debug(caplog):
    caplog.set_level(logging.DEBUG, logger="options_bot")

    no_target([quote(dte=61)])

    record = next(r for r in caplog.records if r.getMessage() == "ROLL_NO_TARGET")
    assert record.levelno == logging.DEBUG and record.rejected == {"dte_window": 1}


# --- thresholds at their edges ------------------------------------------------------------------

@pytest.mark.parametrize(("dte", "qualifies"), [(20, False), (21, True), (60, True), (61, False)])
def test_dte_window_is_inclusive(dte, qualifies):
    assert isinstance(find([quote(dte=dte)]), RollTarget) is qualifies


@pytest.mark.parametrize(("oi", "qualifies"), [(9.0, False), (10.0, True), (11.0, True)])
def test_open_interest_minimum_is_inclusive(oi, qualifies):
    config = dataclasses.replace(CONFIG, min_open_interest=10)

    assert isinstance(find([quote(oi=oi)], config), RollTarget) is qualifies


@pytest.mark.parametrize(("ask", "qualifies"), [(2.2, True), (2.25, True), (2.26, False)])
def test_spread_maximum_is_inclusive(ask, qualifies):
    # bid 2.0: ask 2.25 is a spread of 0.25 / 2.125 = 11.76 %
    config = dataclasses.replace(CONFIG, max_spread_pct=0.25 / 2.125)

    assert isinstance(find([quote(bid=2.0, ask=ask)], config), RollTarget) is qualifies


# --- credit only --------------------------------------------------------------------------------

def test_credit_only_refuses_a_debit_roll():
    debit = quote(bid=0.60, ask=0.70)  # sells for 0.60, buying back costs 1.00

    assert no_target([debit], dataclasses.replace(CONFIG, credit_only=True)).rejected == {"credit": 1}
    assert target([debit], dataclasses.replace(CONFIG, credit_only=False)).is_credit is False


@pytest.mark.parametrize(("bid", "qualifies"), [(1.0, False), (1.01, True)])
def test_credit_only_needs_more_than_zero_at_the_far_side(bid, qualifies):
    config = dataclasses.replace(CONFIG, credit_only=True, max_spread_pct=2.0)

    assert isinstance(find([quote(bid=bid, ask=bid + 0.1)], config), RollTarget) is qualifies


# --- strike limits ------------------------------------------------------------------------------

@pytest.mark.parametrize(("strike", "cap", "qualifies"), [
    (102.0, PutStrikeCap.PREMIUM, True),  # old strike 100 + premium 2.00
    (102.5, PutStrikeCap.PREMIUM, False),
    (102.5, PutStrikeCap.OFF, True),
    (101.0, PutStrikeCap.PROFIT, True),  # 100 + (2.00 - 0.95 mid) = 101.05
    (101.5, PutStrikeCap.PROFIT, False),
])
def test_short_put_new_strike_is_capped(strike, cap, qualifies):
    config = dataclasses.replace(CONFIG, put_strike_cap=cap)

    assert isinstance(find([quote(strike=strike)], config), RollTarget) is qualifies


def test_profit_cap_keeps_an_itm_put_at_its_old_strike():
    config = dataclasses.replace(CONFIG, put_strike_cap=PutStrikeCap.PROFIT)

    assert no_target([quote(strike=100.5)], config, spot=95.0).rejected == {"strike_limit": 1}
    assert isinstance(find([quote(strike=100.0)], config, spot=95.0), RollTarget)


@pytest.mark.parametrize(("strike", "floor", "qualifies"), [
    (109.0, True, False), (110.0, True, True), (111.0, True, True), (109.0, False, True)])
def test_short_call_new_strike_is_floored_at_the_old_one(strike, floor, qualifies):
    config = dataclasses.replace(CONFIG, call_strike_floor=floor)
    call = quote(right=Right.CALL, strike=strike)

    assert isinstance(find([call], config, right=Right.CALL, strike=110.0), RollTarget) is qualifies


# --- properties over random chains --------------------------------------------------------------

STRIKES = [90.0, 95.0, 97.5, 100.0, 101.0, 102.0, 102.5, 105.0, 110.0]
contracts = st.builds(
    lambda right, strike, dte, bid, width, oi, size, under: quote(
        right=right, strike=strike, dte=dte, bid=bid, ask=bid + width, oi=oi, underlying=under,
        delta=size if right == Right.CALL else -size),
    st.sampled_from([Right.PUT, Right.CALL]), st.sampled_from(STRIKES),
    st.sampled_from([3, 5, 12, 19, 21, 33, 47, 60, 75]), st.sampled_from([0.0, 0.5, 0.95, 1.0, 1.05, 2.0]),
    st.sampled_from([0.0, 0.05, 0.2, 1.0]), st.sampled_from([0.0, 9.0, 50.0]), st.floats(0.01, 0.99),
    st.sampled_from(["GOOG", "GOOG", "GOOG", "MSFT"]))
chains = st.lists(contracts, max_size=40, unique_by=lambda q: q.symbol)
random_configs = st.builds(
    lambda credit, oi, spread, cap, floor, delta: dataclasses.replace(
        CONFIG, credit_only=credit, min_open_interest=oi, max_spread_pct=spread, put_strike_cap=cap,
        call_strike_floor=floor, target_delta=delta),
    st.booleans(), st.sampled_from([0, 10]), st.sampled_from([0.1, 0.5, 2.0]), st.sampled_from(list(PutStrikeCap)),
    st.booleans(), st.sampled_from([0.2, 0.3, 0.5]))
holdings = st.tuples(st.sampled_from([Right.PUT, Right.CALL]), st.sampled_from([-3, -1, 2]))


def qualifies(q: ContractQuote, position: BotManagedPosition, current: ContractQuote, config: RollConfig) -> bool:
    """Every criterion, written out from the issue (market deltas only, as the strategies make)."""
    short, dte = position.quantity < 0, (q.expiry - TODAY).days
    ok = (q.right == position.right and q.symbol.startswith("GOOG ") and q.expiry > position.expiry
          and config.target_min_dte <= dte <= config.target_max_dte and 0 < q.bid <= q.ask
          and q.open_interest >= config.min_open_interest and q.spread_pct <= config.max_spread_pct + 1e-9)
    if ok and short and position.right == Right.PUT and config.put_strike_cap != PutStrikeCap.OFF:
        profit = max(0.0, position.entry_price - current.mid)
        cap = position.strike + (position.entry_price if config.put_strike_cap == PutStrikeCap.PREMIUM else profit)
        ok = q.strike <= cap + 1e-9
    if ok and short and position.right == Right.CALL and config.call_strike_floor:
        ok = q.strike >= position.strike
    if ok and short and config.credit_only:
        ok = q.bid - current.ask > 1e-9
    return ok


@settings(max_examples=300, deadline=None)
@given(chain=chains, config=random_configs, holding=holdings)
def test_a_target_meets_every_criterion_and_is_found_whenever_one_exists(chain, config, holding):
    right, quantity = holding
    position, current = held(right=right, quantity=quantity)
    eligible = [q for q in chain if qualifies(q, position, current, config)]

    result = find_roll_target(position, chain, SPOT, TODAY, config, current, risk_free_rate=RATE)

    event("a target exists" if eligible else "no target exists")
    if not eligible:
        assert isinstance(result, NoRollTarget)
        assert sum(result.rejected.values()) == len(chain)
        return
    assert isinstance(result, RollTarget)
    assert result.quote in eligible and result.qualified == len(eligible)

    def key(q: ContractQuote) -> tuple[float, int, float, str]:
        otm = q.strike if right == Right.PUT else -q.strike
        return round(abs(abs(q.delta) - config.target_delta), 9), (q.expiry - TODAY).days, otm, q.symbol

    assert key(result.quote) == min(key(q) for q in eligible)


def test_a_nearly_worthless_held_contract_with_no_bid_still_rolls():
    chosen = target([quote(bid=2.0, ask=2.2)], bid=0.0, ask=0.05)

    assert chosen.net_ask == pytest.approx(0.05 - 2.0) and chosen.net_bid == pytest.approx(0.0 - 2.2)


def test_target_and_no_target_serialise_for_the_audit_trail():
    chosen = target([quote()]).to_dict()
    none = no_target([quote(dte=75)]).to_dict()

    assert chosen["open_ratio"] == -1 and chosen["expiry"] == "2016-02-06" and chosen["delta_source"] == "market"
    assert none == {"reason": none["reason"], "considered": 1, "rejected": {"dte_window": 1}}
