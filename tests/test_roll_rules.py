"""The roll knobs (models/roll_config.py) and when a position rolls (execution/rolls/roll_rules.py)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from execution.bot_managed_positions import BotManagedPosition
from execution.rolls.roll_rules import RollAction, RollRule, is_itm, resolve_no_target, should_roll
from execution.rolls.roll_target import NoRollTarget
from models.bot_config import Right
from models.exceptions import ConfigurationError
from models.market_data import ContractQuote
from models.roll_config import ROLL_PARAMETERS, PutStrikeCap, RollConfig

TODAY = date(2016, 1, 4)


def lookup(**values: str):
    return lambda name: values.get(name)


def position(*, right: Right = Right.PUT, strike: float = 100.0, dte: int = 30, quantity: int = -2,
             entry: float = 2.0, mark: float | None = 1.0, spot: float = 105.0) -> BotManagedPosition:
    """A short 100 put at 2.00, marked at 1.00 (P&L +50 %), spot 105 (out of the money)."""
    return BotManagedPosition(id="P00001", symbol="GOOG  160203P00100000", underlying="GOOG", right=right,
                              strike=strike, expiry=TODAY + timedelta(days=dte), multiplier=100.0,
                              opened_at=datetime(2015, 12, 1), quantity=quantity, entry_price=entry,
                              mark_price=mark, underlying_price=spot)


def mark_for_pnl(pnl: float, entry: float = 2.0) -> float:
    """The mark of a short position at ``pnl`` (fraction of the premium)."""
    return entry * (1.0 - pnl)


# --- configuration ----------------------------------------------------------------------------

def test_defaults_parse_to_the_dataclass_defaults():
    config = RollConfig.from_parameters(lookup())

    assert config == RollConfig()
    assert config.dte == 10 and config.pnl == pytest.approx(0.9) and config.put_strike_cap == PutStrikeCap.PREMIUM


def test_every_parameter_is_named_roll_and_is_one_field():
    names = [spec.name for spec in ROLL_PARAMETERS]
    fields = {f.name for f in dataclasses.fields(RollConfig)}

    assert all(name.startswith("roll_") for name in names)
    assert {name.removeprefix("roll_") for name in names} == fields
    assert len(names) == len(set(names))


def test_round_trip_through_lean_parameter_strings():
    config = RollConfig.from_parameters(lookup(roll_credit_only="true", roll_pnl="0.75", roll_max_dte="90",
                                               roll_put_strike_cap="profit"))

    again = RollConfig.from_parameters(lambda name: config.as_parameters()[name])

    assert again == config
    assert all(isinstance(v, str) for v in config.as_parameters().values())


def test_an_empty_parameter_takes_the_default():
    assert RollConfig.from_parameters(lookup(roll_dte="")).dte == 10


@pytest.mark.parametrize(("name", "value", "expected_text"), [
    ("roll_dte", "-1", "from 0 to 365"),
    ("roll_dte", "2.5", "from 0 to 365"),
    ("roll_dte", "ten", "from 0 to 365"),
    ("roll_pnl", "1.5", "from 0 to 1"),
    ("roll_pnl", "nan", "from 0 to 1"),
    ("roll_min_pnl", "-101", "from -100 to 1"),
    ("roll_target_delta", "0", "from 0.01 to 0.99"),
    ("roll_max_spread_pct", "inf", "from 0.001 to 2"),
    ("roll_leg_timeout_seconds", "0", "from 1 to 86400"),
    ("roll_credit_only", "yes", "true or false"),
    ("roll_put_itm", "1", "true or false"),
    ("roll_put_strike_cap", "max", "one of premium, profit, off"),
])
def test_a_bad_value_names_the_parameter_and_the_accepted_range(name, value, expected_text):
    with pytest.raises(ConfigurationError) as caught:
        RollConfig.from_parameters(lookup(**{name: value}))

    assert caught.value.parameter == name
    assert f"'{name}'" in str(caught.value) and expected_text in str(caught.value)


@pytest.mark.parametrize(("values", "parameter"), [
    ({"roll_target_min_dte": "50", "roll_target_max_dte": "40"}, "roll_target_min_dte"),
    ({"roll_dte": "21", "roll_target_min_dte": "21"}, "roll_target_min_dte"),
    ({"roll_dte": "10", "roll_max_dte": "9"}, "roll_max_dte"),
    ({"roll_pnl": "0.5", "roll_min_pnl": "0.6"}, "roll_min_pnl"),
    ({"roll_put_itm": "false", "roll_put_always_when_itm": "true"}, "roll_put_always_when_itm"),
    ({"roll_call_itm": "false", "roll_call_always_when_itm": "true"}, "roll_call_always_when_itm"),
])
def test_contradicting_values_name_the_parameter_to_fix(values, parameter):
    with pytest.raises(ConfigurationError) as caught:
        RollConfig.from_parameters(lookup(**values))

    assert caught.value.parameter == parameter


def test_min_pnl_above_roll_pnl_is_fine_when_the_pnl_rule_is_off():
    config = RollConfig.from_parameters(lookup(roll_pnl="0", roll_min_pnl="0.5"))

    assert config.pnl == 0 and config.min_pnl == 0.5


def test_direct_construction_is_validated_like_parameters():
    with pytest.raises(ConfigurationError) as caught:
        dataclasses.replace(RollConfig(), dte=-1)

    assert caught.value.parameter == "roll_dte"


# --- DTE, P&L, min P&L, max DTE -----------------------------------------------------------------

@pytest.mark.parametrize(("dte", "action", "rule"), [
    (9, RollAction.ROLL, RollRule.DTE),
    (10, RollAction.ROLL, RollRule.DTE),
    (11, RollAction.HOLD, RollRule.NO_TRIGGER),
])
def test_dte_rule_fires_at_and_below_roll_dte(dte, action, rule):
    decision = should_roll(position(dte=dte), None, TODAY, RollConfig(dte=10))

    assert (decision.action, decision.rule, decision.dte) == (action, rule, dte)


@pytest.mark.parametrize(("pnl", "action", "rule"), [
    (0.8999, RollAction.HOLD, RollRule.NO_TRIGGER),
    (0.9, RollAction.ROLL, RollRule.PNL),
    (0.95, RollAction.ROLL, RollRule.PNL),
])
def test_pnl_rule_fires_at_and_above_roll_pnl(pnl, action, rule):
    decision = should_roll(position(dte=30, mark=mark_for_pnl(pnl)), None, TODAY, RollConfig(pnl=0.9))

    assert (decision.action, decision.rule) == (action, rule)
    assert decision.pnl == pytest.approx(pnl)


@pytest.mark.parametrize(("pnl", "action", "rule"), [
    (-0.2001, RollAction.HOLD, RollRule.MIN_PNL),
    (-0.2, RollAction.ROLL, RollRule.DTE),
    (-0.1, RollAction.ROLL, RollRule.DTE),
])
def test_dte_rule_needs_pnl_at_least_min_pnl(pnl, action, rule):
    decision = should_roll(position(dte=5, mark=mark_for_pnl(pnl)), None, TODAY, RollConfig(min_pnl=-0.2))

    assert (decision.action, decision.rule) == (action, rule)


def test_pnl_rule_switched_off_by_zero_never_fires():
    decision = should_roll(position(dte=30, mark=0.0), None, TODAY, RollConfig(pnl=0.0))

    assert decision.rule == RollRule.NO_TRIGGER and "roll_pnl is off" in decision.reason


@pytest.mark.parametrize(("dte", "action", "rule"), [
    (44, RollAction.ROLL, RollRule.PNL),
    (45, RollAction.ROLL, RollRule.PNL),
    (46, RollAction.HOLD, RollRule.MAX_DTE),
])
def test_max_dte_stops_rolls_of_positions_with_more_days(dte, action, rule):
    decision = should_roll(position(dte=dte, mark=0.05), None, TODAY, RollConfig(max_dte=45))

    assert (decision.action, decision.rule) == (action, rule)


def test_max_dte_also_bounds_always_when_itm():
    itm_put = position(dte=80, spot=90.0, mark=12.0)

    decision = should_roll(itm_put, None, TODAY, RollConfig(max_dte=60, put_always_when_itm=True))

    assert decision.rule == RollRule.MAX_DTE and decision.itm is True


# --- in the money -------------------------------------------------------------------------------

def test_itm_put_holds_when_put_itm_is_off():
    decision = should_roll(position(dte=5, spot=95.0, mark=5.5), None, TODAY,
                           RollConfig(put_itm=False, min_pnl=-5.0))

    assert (decision.action, decision.rule, decision.itm) == (RollAction.HOLD, RollRule.ITM, True)


def test_itm_put_rolls_when_put_itm_is_on():
    decision = should_roll(position(dte=5, spot=95.0, mark=5.5), None, TODAY,
                           RollConfig(put_itm=True, min_pnl=-5.0))

    assert (decision.action, decision.rule, decision.itm) == (RollAction.ROLL, RollRule.DTE, True)


def test_an_at_the_money_put_is_not_in_the_money():
    decision = should_roll(position(dte=5, spot=100.0), None, TODAY, RollConfig(put_itm=False))

    assert decision.itm is False and decision.rule == RollRule.DTE


def test_itm_settings_are_per_right():
    itm_call = position(right=Right.CALL, dte=5, spot=110.0, mark=10.5)
    config = RollConfig(put_itm=False, call_itm=True, min_pnl=-5.0)

    assert should_roll(itm_call, None, TODAY, config).rule == RollRule.DTE
    assert should_roll(itm_call, None, TODAY, dataclasses.replace(config, call_itm=False)).rule == RollRule.ITM


def test_always_when_itm_rolls_an_itm_put_whatever_its_dte_and_pnl():
    losing_itm_put = position(dte=40, spot=90.0, mark=10.5)  # P&L -425 %

    decision = should_roll(losing_itm_put, None, TODAY, RollConfig(put_always_when_itm=True))

    assert (decision.action, decision.rule) == (RollAction.ROLL, RollRule.ALWAYS_WHEN_ITM)


def test_always_when_itm_leaves_an_otm_put_to_the_other_rules():
    decision = should_roll(position(dte=40, spot=110.0), None, TODAY, RollConfig(put_always_when_itm=True))

    assert decision.rule == RollRule.NO_TRIGGER


def test_always_when_itm_for_calls_does_not_apply_to_puts():
    decision = should_roll(position(dte=40, spot=90.0, mark=10.5), None, TODAY,
                           RollConfig(call_always_when_itm=True))

    assert decision.action == RollAction.HOLD


def test_unknown_spot_holds_when_itm_rolls_are_off():
    decision = should_roll(position(dte=5, spot=0.0), None, TODAY, RollConfig(put_itm=False))

    assert (decision.rule, decision.itm) == (RollRule.ITM_UNKNOWN, None)


def test_unknown_spot_does_not_block_when_itm_rolls_are_allowed():
    decision = should_roll(position(dte=5, spot=0.0), None, TODAY, RollConfig(put_itm=True))

    assert decision.rule == RollRule.DTE


def test_an_explicit_spot_wins_over_the_positions_underlying_price():
    decision = should_roll(position(dte=5, spot=105.0), None, TODAY, RollConfig(put_itm=False), spot=95.0)

    assert decision.rule == RollRule.ITM


@pytest.mark.parametrize(("right", "strike", "spot", "expected"), [
    (Right.PUT, 100.0, 99.99, True), (Right.PUT, 100.0, 100.0, False), (Right.CALL, 100.0, 100.01, True),
    (Right.CALL, 100.0, 100.0, False), (Right.CALL, 100.0, float("nan"), None), (Right.PUT, 100.0, None, None),
])
def test_is_itm_means_intrinsic_value_above_zero(right, strike, spot, expected):
    assert is_itm(right, strike, spot) is expected


# --- other holds and the P&L source -------------------------------------------------------------

def test_disabled_rolling_holds_everything():
    decision = should_roll(position(dte=1), None, TODAY, RollConfig(enabled=False))

    assert decision.rule == RollRule.DISABLED


def test_a_flat_position_holds():
    assert should_roll(position(quantity=0, dte=1), None, TODAY, RollConfig()).rule == RollRule.FLAT


def test_without_mark_or_quote_the_pnl_is_unknown_and_the_position_holds():
    decision = should_roll(position(dte=5, mark=None), None, TODAY, RollConfig())

    assert (decision.rule, decision.pnl) == (RollRule.NO_PNL, None)


def test_without_a_mark_the_quote_mid_measures_the_pnl():
    quote = ContractQuote("GOOG  160203P00100000", Right.PUT, 100.0, TODAY + timedelta(days=30), 0.15, 0.25)

    decision = should_roll(position(dte=30, mark=None), quote, TODAY, RollConfig(pnl=0.9))

    assert decision.pnl == pytest.approx(0.9) and decision.rule == RollRule.PNL


def test_a_long_position_rolls_on_its_gain():
    long_put = position(quantity=3, entry=2.0, mark=3.9, dte=30)

    decision = should_roll(long_put, None, TODAY, RollConfig(pnl=0.9))

    assert decision.pnl == pytest.approx(0.95) and decision.rule == RollRule.PNL


# --- no target ----------------------------------------------------------------------------------

def test_no_target_closes_when_close_if_unable_to_roll_is_on():
    due = should_roll(position(dte=5), None, TODAY, RollConfig())
    none = NoRollTarget("no contract qualified among 3: spread 3", 3, {"spread": 3})

    decision = resolve_no_target(due, none, RollConfig(close_if_unable_to_roll=True))

    assert (decision.action, decision.rule) == (RollAction.CLOSE, RollRule.CLOSE_NO_TARGET)
    assert decision.should_close and "spread 3" in decision.reason


def test_no_target_holds_when_close_if_unable_to_roll_is_off():
    due = should_roll(position(dte=5), None, TODAY, RollConfig())
    none = NoRollTarget("no contract qualified among 0: the chain is empty", 0, {})

    decision = resolve_no_target(due, none, RollConfig(close_if_unable_to_roll=False))

    assert (decision.action, decision.rule) == (RollAction.HOLD, RollRule.NO_TARGET)
    assert decision.to_dict()["rule"] == "no_target" and decision.to_dict()["dte"] == 5


# --- properties ---------------------------------------------------------------------------------

configs = st.builds(
    lambda dte, pnl, min_pnl, max_extra, put_itm, always: RollConfig(
        dte=dte, pnl=pnl, min_pnl=min(min_pnl, pnl) if pnl else min_pnl,
        max_dte=dte + max_extra if max_extra >= 0 else 0, put_itm=put_itm or always,
        put_always_when_itm=always, target_min_dte=dte + 1, target_max_dte=dte + 30),
    st.integers(0, 60), st.sampled_from([0.0, 0.5, 0.9, 1.0]), st.floats(-3, 1),
    st.integers(-1, 60), st.booleans(), st.booleans())


@given(config=configs, dte=st.integers(-1, 200), mark=st.floats(0, 20), spot=st.floats(50, 150))
def test_never_rolls_past_max_dte_or_below_min_pnl_unless_always_when_itm(config, dte, mark, spot):
    decision = should_roll(position(dte=dte, mark=mark, spot=spot), None, TODAY, config)

    if decision.should_roll:
        assert not (config.max_dte and dte > config.max_dte)
        if decision.rule != RollRule.ALWAYS_WHEN_ITM:
            assert decision.pnl is not None and decision.pnl >= config.min_pnl - 1e-9
            assert decision.itm is not True or config.put_itm
            assert dte <= config.dte or decision.pnl >= config.pnl - 1e-9
