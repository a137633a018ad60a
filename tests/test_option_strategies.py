"""OptionStrategies factory methods as LEAN defines them (Common/Securities/Option/OptionStrategies.cs):
leg order, rights, strikes, ratios, the strategy names of OptionStrategyDefinitions.cs, the argument
checks with their messages, and QCAlgorithm.Buy/Sell/Order of a strategy
(Algorithm/QCAlgorithm.Trading.cs GenerateOptionStrategyOrders)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from harness.lean_enums import OptionRight
from harness.lean_option_strategy import OptionLegData, OptionStrategy, UnderlyingLegData, strategy_legs
from harness.lean_symbols import Symbol
from harness.option_strategies import OptionStrategies
from tests.lean_data_paths import LEAN_DATA, needs_lean_data

GOOG = Symbol._create_equity("GOOG")
CANONICAL = Symbol._create_canonical_option(GOOG)
JAN, FEB = datetime(2016, 1, 15), datetime(2016, 2, 19)
C, P = OptionRight.CALL, OptionRight.PUT


def legs(strategy: OptionStrategy) -> list[tuple]:
    return [(leg.right, leg.strike, leg.quantity, leg.expiration) for leg in strategy.option_legs]


def test_straddle_and_short_straddle():
    straddle = OptionStrategies.straddle(CANONICAL, 747.5, JAN)
    assert straddle.name == "Straddle" and legs(straddle) == [(C, 747.5, 1, JAN), (P, 747.5, 1, JAN)]
    short = OptionStrategies.short_straddle(CANONICAL, 747.5, JAN)
    assert short.name == "Short Straddle" and [q for _, _, q, _ in legs(short)] == [-1, -1]


def test_leg_symbols_are_the_contracts_of_the_canonical_option():
    straddle = OptionStrategies.straddle(CANONICAL, 747.5, JAN)
    assert [leg.symbol.value for leg in straddle.option_legs] == ["GOOG  160115C00747500", "GOOG  160115P00747500"]
    assert straddle.canonical_option == CANONICAL and straddle.underlying == GOOG


def test_call_butterfly_is_higher_plus_one_middle_minus_two_lower_plus_one():
    fly = OptionStrategies.call_butterfly(CANONICAL, 750, 747.5, 745, JAN)
    assert fly.name == "Butterfly Call"
    assert legs(fly) == [(C, 750, 1, JAN), (C, 747.5, -2, JAN), (C, 745, 1, JAN)]
    assert legs(OptionStrategies.butterfly_call(CANONICAL, 750, 747.5, 745, JAN)) == legs(fly)
    put_fly = OptionStrategies.short_butterfly_put(CANONICAL, 750, 747.5, 745, JAN)
    assert put_fly.name == "Short Butterfly Put" and legs(put_fly) == [(P, 750, -1, JAN), (P, 747.5, 2, JAN),
                                                                       (P, 745, -1, JAN)]


def test_verticals_and_strangle():
    assert legs(OptionStrategies.bull_call_spread(CANONICAL, 745, 750, JAN)) == [(C, 745, 1, JAN), (C, 750, -1, JAN)]
    assert legs(OptionStrategies.bear_call_spread(CANONICAL, 745, 750, JAN)) == [(C, 745, -1, JAN), (C, 750, 1, JAN)]
    assert legs(OptionStrategies.bull_put_spread(CANONICAL, 750, 745, JAN)) == [(P, 750, -1, JAN), (P, 745, 1, JAN)]
    assert legs(OptionStrategies.bear_put_spread(CANONICAL, 750, 745, JAN)) == [(P, 750, 1, JAN), (P, 745, -1, JAN)]
    assert legs(OptionStrategies.strangle(CANONICAL, 750, 745, JAN)) == [(C, 750, 1, JAN), (P, 745, 1, JAN)]


def test_iron_condor_and_iron_butterfly():
    condor = OptionStrategies.iron_condor(CANONICAL, 740, 745, 750, 755, JAN)
    assert condor.name == "Iron Condor"
    assert legs(condor) == [(P, 740, 1, JAN), (P, 745, -1, JAN), (C, 750, -1, JAN), (C, 755, 1, JAN)]
    fly = OptionStrategies.iron_butterfly(CANONICAL, 745, 747.5, 750, JAN)
    assert fly.name == "Iron Butterfly"
    assert legs(fly) == [(P, 745, 1, JAN), (P, 747.5, -1, JAN), (C, 747.5, -1, JAN), (C, 750, 1, JAN)]


def test_covered_call_sells_a_call_against_one_lot_and_protective_put_inverts_covered_put():
    covered = OptionStrategies.covered_call(CANONICAL, 750, JAN)
    assert covered.name == "Covered Call" and legs(covered) == [(C, 750, -1, JAN)]
    assert [(leg.symbol, leg.quantity) for leg in covered.underlying_legs] == [(GOOG, 100)]
    protective = OptionStrategies.protective_put(CANONICAL, 745, JAN)
    assert protective.name == "Protective Put" and legs(protective) == [(P, 745, 1, JAN)]
    assert [leg.quantity for leg in protective.underlying_legs] == [100]
    collar = OptionStrategies.protective_collar(CANONICAL, 750, 745, JAN)
    assert legs(collar) == [(C, 750, -1, JAN), (P, 745, 1, JAN)] and len(collar.underlying_legs) == 1


def test_calendar_spread_and_jelly_roll():
    assert legs(OptionStrategies.call_calendar_spread(CANONICAL, 750, JAN, FEB)) == [(C, 750, -1, JAN),
                                                                                     (C, 750, 1, FEB)]
    roll = OptionStrategies.jelly_roll(CANONICAL, 750, JAN, FEB)
    assert legs(roll) == [(C, 750, -1, JAN), (C, 750, 1, FEB), (P, 750, 1, JAN), (P, 750, -1, FEB)]


@pytest.mark.parametrize(("make", "message"), [
    (lambda: OptionStrategies.call_butterfly(CANONICAL, 755, 747.5, 745, JAN),
     "ButterflyCall: upper and lower strikes must both be equidistant from the middle strike "
     "(Parameter 'higherStrike, middleStrike, lowerStrike')"),
    (lambda: OptionStrategies.bull_call_spread(CANONICAL, 750, 745, JAN),
     "BullCallSpread: leg1Strike must be less than leg2Strike (Parameter 'leg1Strike, leg2Strike')"),
    (lambda: OptionStrategies.bear_put_spread(CANONICAL, 745, 750, JAN),
     "BearPutSpread: leg1Strike must be greater than leg2Strike (Parameter 'leg1Strike, leg2Strike')"),
    (lambda: OptionStrategies.strangle(CANONICAL, 745, 745, JAN),
     "Strangle: callLegStrike must be greater than putLegStrike (Parameter 'callLegStrike, putLegStrike')"),
    (lambda: OptionStrategies.iron_condor(CANONICAL, 745, 740, 750, 755, JAN),
     "IronCondor: strike prices must be in ascending order "
     "(Parameter 'longPutStrike, shortPutStrike, shortCallStrike, longCallStrike')"),
    (lambda: OptionStrategies.iron_butterfly(CANONICAL, 740, 747.5, 750, JAN),
     "IronButterfly: intervals between exercise prices must be equal"),
    (lambda: OptionStrategies.call_calendar_spread(CANONICAL, 750, FEB, JAN),
     "CallCalendarSpread: near expiration must be less than far expiration "
     "(Parameter 'nearExpiration, farExpiration')"),
    (lambda: OptionStrategies.straddle(GOOG, 750, JAN),
     "Straddle: canonicalOption must contain canonical option symbol (Parameter 'canonicalOption')"),
    (lambda: OptionStrategies.straddle(CANONICAL, 750, datetime.max),
     "Straddle: expiration must contain expiration date (Parameter 'expiration')"),
    (lambda: OptionStrategies.protective_collar(CANONICAL, 740, 745, JAN),
     "ProtectiveCollar: callStrike must be greater than putStrike (Parameter 'callStrike, putStrike')"),
])
def test_invalid_arguments_raise_leans_argument_errors(make, message):
    with pytest.raises(ValueError) as raised:
        make()
    assert str(raised.value) == message


def test_butterfly_strikes_are_compared_as_decimals():
    fly = OptionStrategies.call_butterfly(CANONICAL, 0.3, 0.2, 0.1, JAN)  # 0.3 - 0.2 != 0.2 - 0.1 in floats
    assert [leg.quantity for leg in fly.option_legs] == [1, -2, 1]


def test_create_sorts_legs_and_orders_put_the_underlying_legs_first():
    contract = Symbol._create_option_contract(GOOG, C, 750, JAN)
    strategy = OptionStrategy.create("Mine", [OptionLegData.create(-1, contract), UnderlyingLegData.create(100, GOOG)])
    assert strategy.canonical_option == CANONICAL
    assert [(leg.symbol, leg.quantity) for leg in strategy_legs(strategy)] == [(GOOG, 100), (contract, -1)]


@needs_lean_data
def test_sell_places_one_combo_market_order_of_the_legs_times_the_quantity(tmp_path: Path):
    from harness.lean_run import run_lean
    from harness.qc_algorithm import QCAlgorithm

    class SellStraddle(QCAlgorithm):
        def initialize(self) -> None:
            self.set_start_date(2015, 12, 24)
            self.set_end_date(2015, 12, 24)
            self.canonical = self.add_option("GOOG").symbol
            self.tickets: list = []

        def on_data(self, slice) -> None:
            if not self.tickets and slice.option_chains.get(self.canonical):
                straddle = OptionStrategies.straddle(self.canonical, 747.5, JAN)
                self.tickets = self.sell(straddle, 2) + self.buy(straddle, -1, tag=None)

    tickets = run_lean(SellStraddle, LEAN_DATA, tmp_path / "s").engine.algorithm.tickets

    assert [(t.symbol.value, t.quantity) for t in tickets] == [
        ("GOOG  160115C00747500", -2), ("GOOG  160115P00747500", -2),
        ("GOOG  160115C00747500", 1), ("GOOG  160115P00747500", 1)]
    assert [t.tag for t in tickets] == ["", "", "Straddle (1)", "Straddle (1)"]  # tag ??= only for a null tag
    assert {t.order_type.name for t in tickets} == {"COMBO_MARKET"}
    assert tickets[0].status.name == "FILLED"
