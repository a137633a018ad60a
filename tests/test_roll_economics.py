"""Issue 19: roll economics (least credit / largest debit), roll_close_if_unable_to_roll modes, ATM
as ITM and the target choice modes."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execution.rolls.roll_rules import RollAction, RollRule, close_when_unable, is_itm, resolve_no_target, should_roll
from execution.rolls.roll_target import NoRollTarget, RollTarget, TargetRule, find_roll_target, working_limit
from harness.runner import run
from models.audit import AuditAction
from models.bot_config import Right
from models.exceptions import ConfigurationError
from models.roll_config import CloseIfUnable, RollConfig, TargetChoice
from tests.log_capture import capture
from tests.test_roll_rules import TODAY, lookup, position
from tests.test_roll_target import CONFIG, RATE, SPOT, chains, find, held, no_target, quote, target
from utils.audit_reader import read_storage_folder_trail

# the held short put: sold at 2.00, quoted 0.90 / 1.00 (tests.test_roll_target.held)
NO_FALLBACK = dataclasses.replace(CONFIG, market_fallback=False)


# --- economics: parameters ----------------------------------------------------------------------

def test_economics_parameters_take_off_or_a_number_in_range():
    config = RollConfig.from_parameters(lookup(roll_min_credit="0.10", roll_max_debit="off", roll_max_debit_pct="0.2"))

    assert (config.min_credit, config.max_debit, config.max_debit_pct, config.min_credit_pct) == (0.10, None, 0.2, None)
    assert config.as_parameters()["roll_max_debit"] == "off"
    assert RollConfig.from_parameters(lookup(**config.as_parameters())) == config


@pytest.mark.parametrize(("name", "value"), [("roll_max_debit", "-0.5"), ("roll_max_debit_pct", "11"),
                                             ("roll_min_credit", "cheap"), ("roll_min_credit_pct", "nan")])
def test_a_bad_economics_value_names_the_parameter_and_the_range(name, value):
    with pytest.raises(ConfigurationError, match=name) as info:
        RollConfig.from_parameters(lookup(**{name: value}))

    assert "off or a number from 0 to" in str(info.value)


def test_the_floor_is_the_strictest_knob_and_off_means_no_bound():
    everything_off = RollConfig(max_debit_pct=None)

    assert everything_off.min_net_credit(2.0) == float("-inf")
    assert RollConfig().min_net_credit(2.0) == pytest.approx(-1.0)  # default: at most half the premium as debit
    assert RollConfig(max_debit=0.25).min_net_credit(2.0) == pytest.approx(-0.25)
    assert RollConfig(min_credit=0.05, min_credit_pct=0.1).min_net_credit(2.0) == pytest.approx(0.2)


# --- economics: the target search ---------------------------------------------------------------

def test_the_issue_scenario_a_debit_of_1_25_per_share_is_refused_with_the_numbers():
    # buying the held put back costs 1.00 (ask); the new one sells for 0.00..: bid 0.25 -> a 0.75 debit at
    # the far side. Here the new one is bid 0.60 / ask 0.70 and the held one is deep ITM at 1.85 / 1.90.
    costly = quote(bid=0.60, ask=0.70)
    config = dataclasses.replace(CONFIG, max_debit=0.5)

    refused = no_target([costly], config, bid=1.85, ask=1.90)

    assert refused.rejected == {"economics": 1}
    assert refused.economics == {"min_net_credit": -0.5, "best_net_credit": pytest.approx(-1.30),
                                 "basis": "far side of both legs", "premium_received": 2.0}
    assert "best net credit -1.30/share" in refused.reason and "floor -0.50/share" in refused.reason
    assert refused.to_dict()["economics"] == refused.economics


def test_a_debit_inside_the_bound_still_rolls():
    debit = quote(bid=0.60, ask=0.70)  # 0.40 debit at the far side

    chosen = target([debit], dataclasses.replace(CONFIG, max_debit=0.40))

    assert chosen.symbol == debit.symbol and not chosen.is_credit


def test_the_floor_is_read_at_the_limit_when_no_market_fallback_can_send_it_at_market():
    # mid of held 0.95, new 1.15: limit -0.20 (a credit of 0.20); far side 1.10 - 1.00 = 0.10
    new = quote(bid=1.10, ask=1.20)

    assert isinstance(find([new], dataclasses.replace(CONFIG, min_credit=0.15)), NoRollTarget)
    assert target([new], dataclasses.replace(NO_FALLBACK, min_credit=0.15)).symbol == new.symbol
    assert isinstance(find([new], dataclasses.replace(NO_FALLBACK, min_credit=0.21)), NoRollTarget)


def test_the_pct_knobs_scale_with_the_premium_received():
    new = quote(bid=1.30, ask=1.40)  # 0.30 credit at the far side; premium received 2.00

    assert target([new], dataclasses.replace(CONFIG, min_credit_pct=0.15)).symbol == new.symbol
    assert no_target([new], dataclasses.replace(CONFIG, min_credit_pct=0.16)).rejected == {"economics": 1}
    assert target([new], dataclasses.replace(CONFIG, min_credit_pct=0.16), entry=1.5).symbol == new.symbol


def test_economics_pass_over_a_candidate_for_one_that_pays():
    close_delta = quote(strike=97.0, delta=-0.30, bid=0.40, ask=0.50)  # 0.60 debit
    further = quote(strike=100.0, delta=-0.36, bid=1.20, ask=1.30)  # 0.20 credit

    chosen = target([close_delta, further], dataclasses.replace(CONFIG, max_debit=0.0))

    assert chosen.symbol == further.symbol


def test_economics_bind_short_positions_only():
    debit = quote(right=Right.CALL, strike=110.0, delta=0.30, bid=3.0, ask=3.2)

    chosen = target([debit], dataclasses.replace(CONFIG, max_debit=0.0), right=Right.CALL, quantity=2)

    assert chosen.symbol == debit.symbol


def test_a_refused_roll_is_audited_with_the_numbers_in_the_backtest(tmp_path: Path) -> None:
    overrides = {"roll_min_credit": "50", "roll_close_if_unable_to_roll": "never"}  # no roll collects $50/share
    engine, _ = run(days=21, start=None, seed=7, storage=tmp_path, overrides=overrides)
    bot = engine.algorithm.adapter.bot
    trail = read_storage_folder_trail(tmp_path).entries
    refused = [e for e in trail if e.action == AuditAction.ROLL_FAIL and e.reason == "ROLL_NO_TARGET"]

    assert refused and bot.counters["rolls_completed"] == 0
    numbers = refused[0].metadata["economics"]
    assert numbers["min_net_credit"] == 50 and numbers["best_net_credit"] < 50
    assert numbers["basis"] == "far side of both legs" and refused[0].metadata["rejected"]["economics"] >= 1


# --- roll_close_if_unable_to_roll ---------------------------------------------------------------

NONE = NoRollTarget("no contract qualified among 1: spread 1", 1, {"spread": 1})


def due(*, pnl_mark: float, dte: int = 5, config: RollConfig | None = None):
    return should_roll(position(dte=dte, mark=pnl_mark, spot=95.0), None, TODAY, config or RollConfig())


def test_the_default_is_profitable_and_closes_a_winner_inside_the_roll_window():
    decision = resolve_no_target(due(pnl_mark=0.5), NONE, RollConfig())

    assert RollConfig().close_if_unable_to_roll == CloseIfUnable.PROFITABLE
    assert (decision.action, decision.rule) == (RollAction.CLOSE, RollRule.CLOSE_NO_TARGET)
    assert "P&L 75.00% > 0 and DTE 5 <= 10" in decision.reason


def test_profitable_holds_a_loser_that_always_would_close():
    # short at 2.00, now 3.00: P&L -50 %, due to roll with roll_min_pnl -1
    config = RollConfig(min_pnl=-1.0)
    losing = should_roll(position(dte=5, mark=3.0, spot=95.0), None, TODAY, config)

    held = resolve_no_target(losing, NONE, config)
    closed = resolve_no_target(losing, NONE, dataclasses.replace(config, close_if_unable_to_roll=CloseIfUnable.ALWAYS))

    assert losing.should_roll and held.action == RollAction.HOLD and "is not > 0" in held.reason
    assert closed.action == RollAction.CLOSE


def test_profitable_closes_only_inside_roll_max_dte_when_it_is_set():
    config = RollConfig(pnl=0.5, max_dte=20, dte=10, target_min_dte=21)
    early = should_roll(position(dte=25, mark=0.5), None, TODAY, dataclasses.replace(config, max_dte=30))
    inside = should_roll(position(dte=15, mark=0.5), None, TODAY, config)

    assert early.should_roll and not close_when_unable(early, dataclasses.replace(config, max_dte=20))[0]
    assert inside.should_roll and close_when_unable(inside, config)[0]


def test_never_holds_even_a_winner():
    decision = resolve_no_target(due(pnl_mark=0.5), NONE, RollConfig(close_if_unable_to_roll=CloseIfUnable.NEVER))

    assert decision.action == RollAction.HOLD and "never" in decision.reason


@pytest.mark.parametrize(("legacy", "mode"), [("true", CloseIfUnable.ALWAYS), ("FALSE", CloseIfUnable.NEVER)])
def test_the_old_boolean_values_still_work_and_say_so(legacy, mode, caplog):
    config = RollConfig.from_parameters(lookup(roll_close_if_unable_to_roll=legacy))

    assert config.close_if_unable_to_roll == mode
    assert config.notes and f"read as '{mode.value}'" in config.notes[0] and "profitable" in config.notes[0]
    assert RollConfig(close_if_unable_to_roll=(mode == CloseIfUnable.ALWAYS)).close_if_unable_to_roll == mode


def test_the_roll_manager_logs_a_legacy_value():
    from execution.rolls.roll_manager import RollManager

    config = RollConfig.from_parameters(lookup(roll_close_if_unable_to_roll="true"))
    with capture("options_bot.execution.rolls.roll_manager") as log:
        RollManager(config, bot=None)  # type: ignore[arg-type]

    warnings = [r for r in log.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == ["ROLL_PARAMETER_LEGACY_VALUE"]
    assert "read as 'always'" in warnings[0].__dict__["detail"]


def test_an_unknown_close_mode_names_the_choices_and_the_legacy_values():
    with pytest.raises(ConfigurationError, match=r"never, always, profitable.*true = always"):
        RollConfig.from_parameters(lookup(roll_close_if_unable_to_roll="sometimes"))


# --- at the money -------------------------------------------------------------------------------

@pytest.mark.parametrize("right", [Right.PUT, Right.CALL])
def test_at_the_money_counts_as_in_the_money_only_when_asked(right):
    assert is_itm(right, 100.0, 100.0) is False
    assert is_itm(right, 100.0, 100.0, atm_is_itm=True) is True
    assert is_itm(right, 100.0, None, atm_is_itm=True) is None


def test_atm_is_itm_makes_an_at_the_money_put_hold_when_itm_rolls_are_off():
    atm = position(dte=5, spot=100.0)
    config = RollConfig(put_itm=False)

    assert should_roll(atm, None, TODAY, config).should_roll
    assert should_roll(atm, None, TODAY, dataclasses.replace(config, atm_is_itm=True)).rule == RollRule.ITM


# --- target choice ------------------------------------------------------------------------------

SOONEST = dataclasses.replace(CONFIG, target_choice=TargetChoice.SOONEST_EXPIRY)


def test_soonest_expiry_takes_the_soonest_then_the_highest_delta_at_or_below_target():
    chain = [quote(dte=47, strike=99, delta=-0.30), quote(dte=33, strike=96, delta=-0.22),
             quote(dte=33, strike=98, delta=-0.27), quote(dte=33, strike=100, delta=-0.31)]

    assert target(chain, SOONEST).quote.strike == 98
    assert target(chain, CONFIG).quote.strike == 99 or target(chain, CONFIG).delta == -0.30


def test_soonest_expiry_falls_back_to_the_lowest_delta_above_target():
    chain = [quote(dte=47, strike=99, delta=-0.34), quote(dte=33, strike=101, delta=-0.45),
             quote(dte=33, strike=100, delta=-0.38)]

    chosen = target(chain, SOONEST)

    assert (chosen.dte, chosen.quote.strike) == (33, 100) and "soonest_expiry" in chosen.reason


def test_target_choice_parses_and_rejects_unknown_modes():
    assert RollConfig.from_parameters(lookup(roll_target_choice="soonest_expiry")).target_choice == \
        TargetChoice.SOONEST_EXPIRY
    with pytest.raises(ConfigurationError, match=r"roll_target_choice.*closest_delta, soonest_expiry"):
        RollConfig.from_parameters(lookup(roll_target_choice="cheapest"))


def test_every_new_criterion_is_in_the_funnel_order():
    assert [r.value for r in TargetRule][-3:] == ["credit", "economics", "delta"]


# --- a net mid that rounds to 0 ---------------------------------------------------------------

@pytest.mark.parametrize(("net_mid", "limit"), [(0.0, 0.01), (-0.004, 0.01), (0.004, 0.01), (-0.006, -0.01),
                                                (1.234, 1.23), (-1.15, -1.15)])
def test_the_first_limit_is_the_net_mid_to_the_cent_and_never_zero(net_mid, limit):
    assert working_limit(net_mid) == pytest.approx(limit)


def test_a_roll_whose_net_mid_is_zero_goes_out_as_a_one_cent_debit():
    even = quote(bid=0.90, ask=1.00)  # the same mid as the held contract: net mid 0

    chosen = target([even], dataclasses.replace(CONFIG, max_spread_pct=2.0))

    assert chosen.net_mid == pytest.approx(0.0) and chosen.limit_price == 0.01


def test_the_harness_refuses_a_combo_limit_of_zero_as_lean_does():
    from harness.qc_algorithm import QCAlgorithm

    with pytest.raises(ValueError, match="cannot be zero"):
        QCAlgorithm().combo_limit_order([], 1, 0.0)


# --- property: the floor holds for every target, at the basis the combo works at ------------------

economics_configs = st.builds(
    lambda min_credit, max_debit, max_debit_pct, fallback, choice: dataclasses.replace(
        CONFIG, min_credit=min_credit, max_debit=max_debit, max_debit_pct=max_debit_pct, market_fallback=fallback,
        target_choice=choice, max_spread_pct=2.0),
    st.sampled_from([None, 0.0, 0.1, 0.5]), st.sampled_from([None, 0.0, 0.3, 1.0]),
    st.sampled_from([None, 0.1, 0.5]), st.booleans(), st.sampled_from(list(TargetChoice)))


@settings(max_examples=200, deadline=None)
@given(chain=chains, config=economics_configs, right=st.sampled_from([Right.PUT, Right.CALL]))
def test_every_short_roll_meets_the_floor_at_its_basis(chain, config, right):
    position, current = held(right=right, quantity=-2)
    floor = config.min_net_credit(position.entry_price)

    result = find_roll_target(position, chain, SPOT, TODAY, config, current, risk_free_rate=RATE)

    if isinstance(result, RollTarget):
        credit = -result.net_ask if config.market_fallback else -result.limit_price
        assert credit >= floor - 1e-9
    elif result.rejected.get("economics"):
        assert result.economics["best_net_credit"] < floor - 1e-9 + 1e-4  # rounded to 4 places


def test_a_roll_that_goes_out_is_audited_with_its_limit_and_worst_credit():
    chosen = target([quote(bid=1.30, ask=1.40)], dataclasses.replace(CONFIG, max_debit=0.0), quantity=-3)

    numbers = chosen.to_dict()

    assert numbers["limit_price"] == pytest.approx(-0.40)  # held mid 0.95, new mid 1.35
    assert numbers["worst_net_credit"] == pytest.approx((1.30 - 1.00) * 3 * 100)
