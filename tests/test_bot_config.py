from __future__ import annotations

import pytest

from models.bot_config import PARAMETERS, BotConfig, OptionSide, Right
from models.exceptions import ConfigurationError


def lookup(**values: str):
    return lambda name: values.get(name)


def test_defaults_parse_to_the_documented_values():
    config = BotConfig.from_parameters(lookup())
    assert config.ticker == "GOOG"
    assert config.entry_right == Right.PUT and config.entry_side == OptionSide.SELL
    assert config.entry_target_delta == pytest.approx(0.30)
    assert str(config.start_date) == "2015-12-23" and str(config.end_date) == "2015-12-28"


def test_round_trip_through_lean_parameter_strings():
    config = BotConfig.from_parameters(lookup(entry_right="call", cash="250000.5"))
    again = BotConfig.from_parameters(lambda name: config.as_parameters()[name])
    assert again == config
    assert all(isinstance(v, str) for v in config.as_parameters().values())


@pytest.mark.parametrize(("name", "value", "expected_text"), [
    ("entry_target_delta", "abc", "from 0.01 to 0.99"),
    ("entry_target_delta", "1.5", "from 0.01 to 0.99"),
    ("entry_target_delta", "nan", "from 0.01 to 0.99"),
    ("cash", "-5", "from 1000 to 1e+09"),
    ("entry_quantity", "2.5", "from 1 to 1000"),
    ("ticker", "goog", "upper-case ticker"),
    ("ticker", "GOOG;rm", "upper-case ticker"),
    ("start_date", "23/12/2015", "YYYY-MM-DD"),
    ("entry_enabled", "yes", "true or false"),
    ("entry_right", "straddle", "one of put, call"),
])
def test_a_bad_value_names_the_parameter_and_the_accepted_range(name, value, expected_text):
    with pytest.raises(ConfigurationError) as caught:
        BotConfig.from_parameters(lookup(**{name: value}))
    assert caught.value.parameter == name
    assert f"'{name}'" in str(caught.value) and expected_text in str(caught.value)


def test_end_before_start_is_rejected():
    with pytest.raises(ConfigurationError, match="end_date"):
        BotConfig.from_parameters(lookup(start_date="2016-01-10", end_date="2016-01-05"))


def test_target_dte_outside_the_entry_window_is_rejected():
    with pytest.raises(ConfigurationError, match="entry_target_dte"):
        BotConfig.from_parameters(lookup(entry_target_dte="90", entry_max_dte="60"))


def test_an_expiry_guard_that_would_close_every_new_position_is_rejected():
    with pytest.raises(ConfigurationError, match="exit_dte"):
        BotConfig.from_parameters(lookup(exit_dte="7", entry_min_dte="7"))


def test_every_parameter_has_a_default_that_parses():
    for spec in PARAMETERS:
        BotConfig.from_parameters(lookup(**{spec.name: spec.default}))
