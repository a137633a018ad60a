"""``BotManagedPosition.update_greeks``, the seed's call (4.3): what it keeps, what it refuses."""

from __future__ import annotations

import math
from datetime import date, datetime

import pytest

from execution.bot_managed_positions import BotManagedPosition, GreeksSource
from models.bot_config import Right

NOW = datetime(2016, 1, 4, 10, 0)


def position() -> BotManagedPosition:
    p = BotManagedPosition("P00001", "P700", "GOOG", Right.PUT, 700.0, date(2016, 2, 5), 100.0, NOW, quantity=-1)
    p.set_greeks(-0.3, 0.02, -36.5, 0.5, -0.1, 0.25, 710.0, GreeksSource.MARKET, NOW)
    return p


def test_rho_and_the_underlying_price_keep_their_values_when_left_out() -> None:
    p = position()
    p.update_greeks(-0.4, 0.03, -40.0, 0.6, 0.3, "market", when=NOW)
    assert (p.delta, p.gamma, p.theta, p.vega, p.iv) == (-0.4, 0.03, -40.0, 0.6, 0.3)
    assert (p.rho, p.underlying_price, p.greeks_source) == (-0.1, 710.0, GreeksSource.MARKET)


def test_rho_and_the_underlying_price_are_taken_when_given() -> None:
    p = position()
    p.update_greeks(-0.4, 0.03, -40.0, 0.6, 0.3, rho=-0.2, underlying_price=705.0, when=NOW)
    assert (p.rho, p.underlying_price, p.greeks_source) == (-0.2, 705.0, GreeksSource.CALCULATED)


@pytest.mark.parametrize("bad", [{"delta": math.nan}, {"iv": math.inf}, {"gamma": True}, {"rho": "0.1"},
                                 {"underlying_price": -math.inf}])
def test_a_greek_that_is_not_a_finite_number_is_refused_and_changes_nothing(bad: dict[str, object]) -> None:
    p = position()
    args: dict[str, object] = {"delta": -0.4, "gamma": 0.03, "theta": -40.0, "vega": 0.6, "iv": 0.3, **bad}
    with pytest.raises(ValueError, match="finite"):
        p.update_greeks(**args, when=NOW)  # type: ignore[arg-type]
    assert (p.delta, p.rho, p.underlying_price, p.greeks_updated_at) == (-0.3, -0.1, 710.0, NOW)


def test_an_unknown_source_is_refused() -> None:
    p = position()
    with pytest.raises(ValueError):
        p.update_greeks(-0.4, 0.03, -40.0, 0.6, 0.3, "guessed", when=NOW)
    assert p.delta == -0.3


def test_the_time_defaults_to_the_wall_clock_in_utc() -> None:
    p = position()
    p.update_greeks(-0.4, 0.03, -40.0, 0.6, 0.3)
    assert p.greeks_updated_at is not None and p.greeks_updated_at.tzinfo is not None
