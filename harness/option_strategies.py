"""LEAN's OptionStrategies factory [Common/Securities/Option/OptionStrategies.cs]: every factory
method with LEAN's leg order, ratios, strategy names
[Common/Securities/Option/StrategyMatcher/OptionStrategyDefinitions.cs] and argument checks
(ArgumentException as ValueError with .NET's message; harness/lean_option_strategy.py). Strikes
are compared as decimals, as LEAN does (``higher - middle != middle - lower`` on floats would
misjudge strikes like 0.1 apart).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from itertools import pairwise

from harness.lean_enums import OptionRight
from harness.lean_option_strategy import OptionLegData, OptionStrategy, UnderlyingLegData
from harness.lean_option_strategy import argument_error as _argument_error
from harness.lean_symbols import Symbol

CALL, PUT = OptionRight.CALL, OptionRight.PUT
US_EQUITY_OPTION_MULTIPLIER = 100  # symbol-properties database: usa equity options (CoveredCall's lot)


def _d(value: float) -> Decimal:
    return Decimal(str(value))


def _check(canonical: Symbol, name: str, *expirations: tuple[datetime, str]) -> None:
    """CheckCanonicalOptionSymbol and CheckExpirationDate."""
    if canonical.underlying is None or canonical.id.strike_price != 0:
        raise _argument_error(f"{name}: canonicalOption must contain canonical option symbol", "canonicalOption")
    for expiration, parameter in expirations:
        if expiration in (datetime.max, datetime.min):
            raise _argument_error(f"{name}: expiration must contain expiration date", parameter)


def _strategy(name: str, canonical: Symbol, legs: list[tuple[OptionRight, float, int, datetime]],
              underlying_quantity: int | None = None) -> OptionStrategy:
    underlying = ([UnderlyingLegData(canonical.underlying, underlying_quantity)]  # type: ignore[arg-type]
                  if underlying_quantity is not None else [])
    return OptionStrategy(name, canonical, [OptionLegData(r, k, q, e) for r, k, q, e in legs], underlying)


def _single(name: str, canonical: Symbol, right: OptionRight, strike: float, expiration: datetime,
            underlying_quantity: int | None = None, label: str | None = None) -> OptionStrategy:
    _check(canonical, label or name.replace(" ", ""), (expiration, "expiration"))
    return _strategy(name, canonical, [(right, strike, -1, expiration)], underlying_quantity)


def _invert(strategy: OptionStrategy, name: str) -> OptionStrategy:
    """InvertStrategy: every leg's ratio times -1, and the inverted strategy's name."""
    strategy.name = name
    for leg in [*strategy.option_legs, *strategy.underlying_legs]:
        leg.quantity *= -1
    return strategy


def _join(name: str, canonical: Symbol, *parts: OptionStrategy) -> OptionStrategy:
    return OptionStrategy(name, canonical, [leg for part in parts for leg in part.option_legs])


def _vertical(name: str, canonical: Symbol, right: OptionRight, leg1: float, leg2: float, expiration: datetime,
              leg1_quantity: int, leg1_below: bool) -> OptionStrategy:
    """The four vertical spreads: leg1Strike must be below (calls) or above (puts) leg2Strike."""
    label = name.replace(" ", "")
    _check(canonical, label, (expiration, "expiration"))
    if (_d(leg1) >= _d(leg2)) if leg1_below else (_d(leg1) <= _d(leg2)):
        relation = "less" if leg1_below else "greater"
        raise _argument_error(f"{label}: leg1Strike must be {relation} than leg2Strike", "leg1Strike, leg2Strike")
    return _strategy(name, canonical, [(right, leg1, leg1_quantity, expiration),
                                       (right, leg2, -leg1_quantity, expiration)])


def _butterfly(name: str, label: str, canonical: Symbol, right: OptionRight, higher: float, middle: float,
               lower: float, expiration: datetime) -> OptionStrategy:
    _check(canonical, label, (expiration, "expiration"))
    h, m, low = _d(higher), _d(middle), _d(lower)
    if h <= m or low >= m or h - m != m - low:
        error = "ButterflyCall" if right == CALL else "ButterflyPut"
        raise _argument_error(f"{error}: upper and lower strikes must both be equidistant from the middle strike",
                              "higherStrike, middleStrike, lowerStrike")
    return _strategy(name, canonical, [(right, higher, 1, expiration), (right, middle, -2, expiration),
                                       (right, lower, 1, expiration)])


def _calendar(name: str, canonical: Symbol, right: OptionRight, strike: float, near: datetime,
              far: datetime) -> OptionStrategy:
    label = name.replace(" ", "")
    _check(canonical, label, (near, "nearExpiration"), (far, "farExpiration"))
    if near >= far:
        raise _argument_error(f"{label}: near expiration must be less than far expiration",
                              "nearExpiration, farExpiration")
    return _strategy(name, canonical, [(right, strike, -1, near), (right, strike, 1, far)])


def _ascending(strikes: list[float]) -> bool:
    return all(_d(a) < _d(b) for a, b in pairwise(strikes))


class OptionStrategies:
    """OptionStrategies.cs: the factory methods, in LEAN's leg order, ratios and names."""

    @staticmethod
    def covered_call(canonical_option: Symbol, strike: float, expiration: datetime) -> OptionStrategy:
        return _single("Covered Call", canonical_option, CALL, strike, expiration, US_EQUITY_OPTION_MULTIPLIER)

    @staticmethod
    def protective_call(canonical_option: Symbol, strike: float, expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.covered_call(canonical_option, strike, expiration), "Protective Call")

    @staticmethod
    def covered_put(canonical_option: Symbol, strike: float, expiration: datetime) -> OptionStrategy:
        return _single("Covered Put", canonical_option, PUT, strike, expiration, -US_EQUITY_OPTION_MULTIPLIER)

    @staticmethod
    def protective_put(canonical_option: Symbol, strike: float, expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.covered_put(canonical_option, strike, expiration), "Protective Put")

    @staticmethod
    def protective_collar(canonical_option: Symbol, call_strike: float, put_strike: float,
                          expiration: datetime) -> OptionStrategy:
        if _d(call_strike) < _d(put_strike):
            raise _argument_error("ProtectiveCollar: callStrike must be greater than putStrike",
                                  "callStrike, putStrike")
        covered_call = OptionStrategies.covered_call(canonical_option, call_strike, expiration)
        protective_put = OptionStrategies.protective_put(canonical_option, put_strike, expiration)
        return OptionStrategy("Protective Collar", canonical_option,
                              [*covered_call.option_legs, *protective_put.option_legs],
                              covered_call.underlying_legs)  # only 1 lot of long stock

    @staticmethod
    def conversion(canonical_option: Symbol, strike: float, expiration: datetime) -> OptionStrategy:
        strategy = OptionStrategies.protective_collar(canonical_option, strike, strike, expiration)
        strategy.name = "Conversion"
        return strategy

    @staticmethod
    def reverse_conversion(canonical_option: Symbol, strike: float, expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.conversion(canonical_option, strike, expiration), "Reverse Conversion")

    @staticmethod
    def naked_call(canonical_option: Symbol, strike: float, expiration: datetime) -> OptionStrategy:
        return _single("Naked Call", canonical_option, CALL, strike, expiration)

    @staticmethod
    def naked_put(canonical_option: Symbol, strike: float, expiration: datetime) -> OptionStrategy:
        return _single("Naked Put", canonical_option, PUT, strike, expiration)

    @staticmethod
    def bear_call_spread(canonical_option: Symbol, leg1_strike: float, leg2_strike: float,
                         expiration: datetime) -> OptionStrategy:
        return _vertical("Bear Call Spread", canonical_option, CALL, leg1_strike, leg2_strike, expiration, -1, True)

    @staticmethod
    def bear_put_spread(canonical_option: Symbol, leg1_strike: float, leg2_strike: float,
                        expiration: datetime) -> OptionStrategy:
        return _vertical("Bear Put Spread", canonical_option, PUT, leg1_strike, leg2_strike, expiration, 1, False)

    @staticmethod
    def bull_call_spread(canonical_option: Symbol, leg1_strike: float, leg2_strike: float,
                         expiration: datetime) -> OptionStrategy:
        return _vertical("Bull Call Spread", canonical_option, CALL, leg1_strike, leg2_strike, expiration, 1, True)

    @staticmethod
    def bull_put_spread(canonical_option: Symbol, leg1_strike: float, leg2_strike: float,
                        expiration: datetime) -> OptionStrategy:
        return _vertical("Bull Put Spread", canonical_option, PUT, leg1_strike, leg2_strike, expiration, -1, False)

    @staticmethod
    def straddle(canonical_option: Symbol, strike: float, expiration: datetime) -> OptionStrategy:
        _check(canonical_option, "Straddle", (expiration, "expiration"))
        return _strategy("Straddle", canonical_option, [(CALL, strike, 1, expiration), (PUT, strike, 1, expiration)])

    @staticmethod
    def short_straddle(canonical_option: Symbol, strike: float, expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.straddle(canonical_option, strike, expiration), "Short Straddle")

    @staticmethod
    def strangle(canonical_option: Symbol, call_leg_strike: float, put_leg_strike: float,
                 expiration: datetime) -> OptionStrategy:
        _check(canonical_option, "Strangle", (expiration, "expiration"))
        if _d(call_leg_strike) <= _d(put_leg_strike):
            raise _argument_error("Strangle: callLegStrike must be greater than putLegStrike",
                                  "callLegStrike, putLegStrike")
        return _strategy("Strangle", canonical_option, [(CALL, call_leg_strike, 1, expiration),
                                                        (PUT, put_leg_strike, 1, expiration)])

    @staticmethod
    def short_strangle(canonical_option: Symbol, call_leg_strike: float, put_leg_strike: float,
                       expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.strangle(canonical_option, call_leg_strike, put_leg_strike, expiration),
                       "Short Strangle")

    @staticmethod
    def call_butterfly(canonical_option: Symbol, higher_strike: float, middle_strike: float, lower_strike: float,
                       expiration: datetime) -> OptionStrategy:
        return _butterfly("Butterfly Call", "CallButterfly", canonical_option, CALL, higher_strike, middle_strike,
                          lower_strike, expiration)

    butterfly_call = call_butterfly  # LEAN's alias

    @staticmethod
    def short_butterfly_call(canonical_option: Symbol, higher_strike: float, middle_strike: float,
                             lower_strike: float, expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.call_butterfly(canonical_option, higher_strike, middle_strike, lower_strike,
                                                       expiration), "Short Butterfly Call")

    @staticmethod
    def put_butterfly(canonical_option: Symbol, higher_strike: float, middle_strike: float, lower_strike: float,
                      expiration: datetime) -> OptionStrategy:
        return _butterfly("Butterfly Put", "PutButterfly", canonical_option, PUT, higher_strike, middle_strike,
                          lower_strike, expiration)

    butterfly_put = put_butterfly  # LEAN's alias

    @staticmethod
    def short_butterfly_put(canonical_option: Symbol, higher_strike: float, middle_strike: float,
                            lower_strike: float, expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.put_butterfly(canonical_option, higher_strike, middle_strike, lower_strike,
                                                      expiration), "Short Butterfly Put")

    @staticmethod
    def call_calendar_spread(canonical_option: Symbol, strike: float, near_expiration: datetime,
                             far_expiration: datetime) -> OptionStrategy:
        return _calendar("Call Calendar Spread", canonical_option, CALL, strike, near_expiration, far_expiration)

    @staticmethod
    def short_call_calendar_spread(canonical_option: Symbol, strike: float, near_expiration: datetime,
                                   far_expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.call_calendar_spread(canonical_option, strike, near_expiration,
                                                             far_expiration), "Short Call Calendar Spread")

    @staticmethod
    def put_calendar_spread(canonical_option: Symbol, strike: float, near_expiration: datetime,
                            far_expiration: datetime) -> OptionStrategy:
        return _calendar("Put Calendar Spread", canonical_option, PUT, strike, near_expiration, far_expiration)

    @staticmethod
    def short_put_calendar_spread(canonical_option: Symbol, strike: float, near_expiration: datetime,
                                  far_expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.put_calendar_spread(canonical_option, strike, near_expiration,
                                                            far_expiration), "Short Put Calendar Spread")

    @staticmethod
    def iron_butterfly(canonical_option: Symbol, otm_put_strike: float, atm_strike: float, otm_call_strike: float,
                       expiration: datetime) -> OptionStrategy:
        if _d(atm_strike) - _d(otm_put_strike) != _d(otm_call_strike) - _d(atm_strike):
            raise _argument_error("IronButterfly: intervals between exercise prices must be equal")
        strategy = OptionStrategies.iron_condor(canonical_option, otm_put_strike, atm_strike, atm_strike,
                                                otm_call_strike, expiration)
        strategy.name = "Iron Butterfly"
        return strategy

    @staticmethod
    def short_iron_butterfly(canonical_option: Symbol, otm_put_strike: float, atm_strike: float,
                             otm_call_strike: float, expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.iron_butterfly(canonical_option, otm_put_strike, atm_strike, otm_call_strike,
                                                       expiration), "Short Iron Butterfly")

    @staticmethod
    def iron_condor(canonical_option: Symbol, long_put_strike: float, short_put_strike: float,
                    short_call_strike: float, long_call_strike: float, expiration: datetime) -> OptionStrategy:
        _check(canonical_option, "IronCondor", (expiration, "expiration"))
        lp, sp, sc, lc = map(_d, (long_put_strike, short_put_strike, short_call_strike, long_call_strike))
        if lp >= sp or sp > sc or sc >= lc:
            raise _argument_error("IronCondor: strike prices must be in ascending order",
                                  "longPutStrike, shortPutStrike, shortCallStrike, longCallStrike")
        return _strategy("Iron Condor", canonical_option, [
            (PUT, long_put_strike, 1, expiration), (PUT, short_put_strike, -1, expiration),
            (CALL, short_call_strike, -1, expiration), (CALL, long_call_strike, 1, expiration)])

    @staticmethod
    def short_iron_condor(canonical_option: Symbol, short_put_strike: float, long_put_strike: float,
                          long_call_strike: float, short_call_strike: float, expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.iron_condor(canonical_option, short_put_strike, long_put_strike,
                                                    long_call_strike, short_call_strike, expiration),
                       "Short Iron Condor")

    @staticmethod
    def box_spread(canonical_option: Symbol, higher_strike: float, lower_strike: float,
                   expiration: datetime) -> OptionStrategy:
        if _d(higher_strike) <= _d(lower_strike):
            raise _argument_error("BoxSpread: strike prices must be in descending order, higherStrike, lowerStrike")
        return _join("Box Spread", canonical_option,
                     OptionStrategies.bear_put_spread(canonical_option, higher_strike, lower_strike, expiration),
                     OptionStrategies.bull_call_spread(canonical_option, lower_strike, higher_strike, expiration))

    @staticmethod
    def short_box_spread(canonical_option: Symbol, higher_strike: float, lower_strike: float,
                         expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.box_spread(canonical_option, higher_strike, lower_strike, expiration),
                       "Short Box Spread")

    @staticmethod
    def jelly_roll(canonical_option: Symbol, strike: float, near_expiration: datetime,
                   far_expiration: datetime) -> OptionStrategy:
        return _join("Jelly Roll", canonical_option,
                     OptionStrategies.call_calendar_spread(canonical_option, strike, near_expiration, far_expiration),
                     OptionStrategies.short_put_calendar_spread(canonical_option, strike, near_expiration,
                                                                far_expiration))

    @staticmethod
    def short_jelly_roll(canonical_option: Symbol, strike: float, near_expiration: datetime,
                         far_expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.jelly_roll(canonical_option, strike, near_expiration, far_expiration),
                       "Short Jelly Roll")

    @staticmethod
    def bear_call_ladder(canonical_option: Symbol, lower_strike: float, middle_strike: float, higher_strike: float,
                         expiration: datetime) -> OptionStrategy:
        _check(canonical_option, "BearCallLadder", (expiration, "expiration"))
        if not _ascending([lower_strike, middle_strike, higher_strike]):
            raise _argument_error("BearCallLadder: strike prices must be in ascending order",
                                  "lowerStrike, middleStrike, higherStrike")
        return _strategy("Bear Call Ladder", canonical_option, [
            (CALL, lower_strike, -1, expiration), (CALL, middle_strike, 1, expiration),
            (CALL, higher_strike, 1, expiration)])

    @staticmethod
    def bear_put_ladder(canonical_option: Symbol, higher_strike: float, middle_strike: float, lower_strike: float,
                        expiration: datetime) -> OptionStrategy:
        _check(canonical_option, "BearPutLadder", (expiration, "expiration"))
        if not _ascending([lower_strike, middle_strike, higher_strike]):
            raise _argument_error("BearPutLadder: strike prices must be in descending order",
                                  "higherStrike, middleStrike, lowerStrike")
        return _strategy("Bear Put Ladder", canonical_option, [
            (PUT, higher_strike, 1, expiration), (PUT, middle_strike, -1, expiration),
            (PUT, lower_strike, -1, expiration)])

    @staticmethod
    def bull_call_ladder(canonical_option: Symbol, lower_strike: float, middle_strike: float, higher_strike: float,
                         expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.bear_call_ladder(canonical_option, lower_strike, middle_strike, higher_strike,
                                                         expiration), "Bull Call Ladder")

    @staticmethod
    def bull_put_ladder(canonical_option: Symbol, higher_strike: float, middle_strike: float, lower_strike: float,
                        expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.bear_put_ladder(canonical_option, higher_strike, middle_strike, lower_strike,
                                                        expiration), "Bull Put Ladder")

    @staticmethod
    def call_backspread(canonical_option: Symbol, lower_strike: float, higher_strike: float,
                        expiration: datetime) -> OptionStrategy:
        _check(canonical_option, "CallBackspread", (expiration, "expiration"))
        if _d(lower_strike) >= _d(higher_strike):
            raise _argument_error("CallBackspread: strike prices must be in ascending order, lowerStrike, higherStrike")
        return _strategy("Call Backspread", canonical_option, [(CALL, lower_strike, -1, expiration),
                                                               (CALL, higher_strike, 2, expiration)])

    @staticmethod
    def put_backspread(canonical_option: Symbol, higher_strike: float, lower_strike: float,
                       expiration: datetime) -> OptionStrategy:
        _check(canonical_option, "PutBackspread", (expiration, "expiration"))
        if _d(higher_strike) <= _d(lower_strike):
            raise _argument_error("PutBackspread: strike prices must be in descending order, higherStrike, lowerStrike")
        return _strategy("Put Backspread", canonical_option, [(PUT, higher_strike, -1, expiration),
                                                              (PUT, lower_strike, 2, expiration)])

    @staticmethod
    def short_call_backspread(canonical_option: Symbol, lower_strike: float, higher_strike: float,
                              expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.call_backspread(canonical_option, lower_strike, higher_strike, expiration),
                       "Short Call Backspread")

    @staticmethod
    def short_put_backspread(canonical_option: Symbol, higher_strike: float, lower_strike: float,
                             expiration: datetime) -> OptionStrategy:
        return _invert(OptionStrategies.put_backspread(canonical_option, higher_strike, lower_strike, expiration),
                       "Short Put Backspread")
