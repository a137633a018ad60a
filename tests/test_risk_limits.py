from __future__ import annotations

import json
import runpy
from dataclasses import fields

import pytest

import models.risk_limits as risk_limits_module
from models.exceptions import ConfigurationError
from models.risk_limits import RISK_LIMITS, SPECS, RiskLimits, env_name, parameter_name


def lookup(**values: str):
    return lambda name: values.get(name)


def test_defaults_are_the_seed_values():
    limits = RiskLimits.from_env({})

    assert limits == RiskLimits()
    assert limits.max_position_size_pct == 0.25 and limits.max_single_order_value == 50_000.0
    assert limits.max_daily_loss_pct == 0.03 and limits.max_drawdown_pct == 0.10
    assert limits.blocked_symbols == frozenset({"GME", "AMC", "BBBY"})


def test_every_field_can_be_configured_through_a_parameter_and_an_env_variable():
    assert {spec.field for spec in SPECS} == {f.name for f in fields(RiskLimits)}
    assert parameter_name("max_position_size_pct") == "risk_max_position_pct"
    assert env_name("max_single_order_value") == "RISK_MAX_ORDER_VALUE"
    assert env_name("max_daily_loss_pct") == "RISK_MAX_DAILY_LOSS_PCT"


def test_a_parameter_wins_over_the_environment_which_wins_over_the_default():
    environ = {"RISK_MAX_DAILY_LOSS_PCT": "0.05", "RISK_MAX_DRAWDOWN_PCT": "0.2"}

    limits = RiskLimits.from_parameters(lookup(risk_max_daily_loss_pct="0.04"), environ)

    assert limits.max_daily_loss_pct == 0.04  # parameter
    assert limits.max_drawdown_pct == 0.2  # environment
    assert limits.max_consecutive_losses == 5  # default


def test_an_empty_parameter_falls_back_to_the_environment():
    limits = RiskLimits.from_parameters(lookup(risk_max_position_pct="  "), {"RISK_MAX_POSITION_PCT": "0.1"})

    assert limits.max_position_size_pct == 0.1


def test_from_env_reads_the_seed_appendix_d_names():
    environ = {"RISK_MAX_POSITION_PCT": "0.02", "RISK_MAX_ORDER_VALUE": "5000", "RISK_MAX_DAILY_LOSS_PCT": "0.01"}

    limits = RiskLimits.from_env(environ)

    assert (limits.max_position_size_pct, limits.max_single_order_value, limits.max_daily_loss_pct) == (
        0.02, 5000.0, 0.01)


def test_blocked_symbols_parse_upper_cased_and_a_dash_blocks_nothing():
    assert RiskLimits.from_env({"RISK_BLOCKED_SYMBOLS": "tsla, spy"}).blocked_symbols == {"TSLA", "SPY"}
    assert RiskLimits.from_env({"RISK_BLOCKED_SYMBOLS": "-"}).blocked_symbols == frozenset()


@pytest.mark.parametrize(("name", "value", "expected_text"), [
    ("risk_max_position_pct", "0", "above 0 up to 1"),
    ("risk_max_position_pct", "1.0000001", "above 0 up to 1"),
    ("risk_max_position_pct", "nan", "above 0 up to 1"),
    ("risk_max_order_value", "-1", "above 0"),
    ("risk_max_daily_orders", "0", "an integer from 1"),
    ("risk_max_daily_orders", "2.5", "an integer from 1"),
    ("risk_max_daily_loss_pct", "abc", "a number above 0"),
    ("risk_max_drawdown_pct", "inf", "a number above 0"),
    ("risk_max_consecutive_losses", "-3", "an integer from 1"),
    ("risk_blocked_symbols", "GME;rm", "comma-separated upper-case tickers"),
    ("risk_max_open_positions", "ten", "an integer"),
    ("risk_max_orders_per_minute", "0", "an integer from 1"),
    ("risk_max_abs_dollar_delta", "0", "above 0"),
    ("risk_max_abs_vega", "1e13", "up to 1e+12"),
    ("risk_daily_loss_clears_next_session", "yes", "true or false"),
    ("risk_halted_allows_closes", "1", "true or false"),
])
def test_a_bad_parameter_names_itself_and_the_accepted_range(name, value, expected_text):
    with pytest.raises(ConfigurationError) as caught:
        RiskLimits.from_parameters(lookup(**{name: value}), {})

    assert caught.value.parameter == name
    assert f"'{name}'" in str(caught.value) and expected_text in str(caught.value)


def test_a_bad_environment_variable_names_the_variable():
    with pytest.raises(ConfigurationError) as caught:
        RiskLimits.from_env({"RISK_MAX_DRAWDOWN_PCT": "ten percent"})

    assert caught.value.parameter == "RISK_MAX_DRAWDOWN_PCT"


@pytest.mark.parametrize(("field_name", "value"), [
    ("max_position_size_pct", 1.5), ("max_position_size_pct", "0.2"), ("max_daily_orders", 2.0),
    ("max_daily_orders", True), ("max_consecutive_losses", 0), ("blocked_symbols", {"GME"}),
    ("blocked_symbols", frozenset({"gme"})), ("halted_allows_closes", 1), ("max_abs_vega", float("nan")),
])
def test_direct_construction_validates_type_and_range_naming_the_field(field_name, value):
    with pytest.raises(ConfigurationError) as caught:
        RiskLimits(**{field_name: value})

    assert caught.value.parameter == field_name


@pytest.mark.parametrize(("value", "accepted"), [("0.999999", True), ("1", True), ("1.000001", False)])
def test_position_pct_boundary_one_hundred_percent_is_the_largest_accepted(value, accepted):
    if accepted:
        assert RiskLimits.from_env({"RISK_MAX_POSITION_PCT": value}).max_position_size_pct == float(value)
    else:
        with pytest.raises(ConfigurationError):
            RiskLimits.from_env({"RISK_MAX_POSITION_PCT": value})


def test_ints_given_for_float_limits_are_stored_as_floats():
    assert isinstance(RiskLimits(max_single_order_value=1000).max_single_order_value, float)


def test_as_dict_is_json_ready_with_sorted_blocked_symbols():
    data = RiskLimits().as_dict()

    assert data["blocked_symbols"] == ["AMC", "BBBY", "GME"]
    assert json.loads(json.dumps(data)) == data


def test_as_parameters_round_trips_through_from_parameters():
    limits = RiskLimits(max_position_size_pct=0.1, blocked_symbols=frozenset(), halted_allows_closes=False)

    again = RiskLimits.from_parameters(limits.as_parameters().get, {})

    assert again == limits


def run_module_fresh() -> dict:
    """Execute models/risk_limits.py as at import, without replacing the loaded module."""
    return runpy.run_path(risk_limits_module.__file__, run_name="risk_limits_fresh_import")


def test_module_level_risk_limits_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("RISK_MAX_ORDER_VALUE", "1234")

    namespace = run_module_fresh()

    assert namespace["RISK_LIMITS"].max_single_order_value == 1234.0


def test_a_malformed_env_variable_fails_the_import_instead_of_falling_back_to_defaults(monkeypatch):
    monkeypatch.setenv("RISK_MAX_DAILY_LOSS_PCT", "3%")

    with pytest.raises(ConfigurationError, match="RISK_MAX_DAILY_LOSS_PCT"):
        run_module_fresh()


def test_risk_limits_global_is_a_risk_limits():
    assert isinstance(RISK_LIMITS, RiskLimits)
