"""Issue 19: entry conditions (day colour, minimum move, blackout dates), sizing by buying power
capped by the risk limits, covered calls at or above the cost basis, and LEAN daily history in the
harness."""

from __future__ import annotations

import itertools
import math
from datetime import date, datetime
from pathlib import Path

import pytest

from execution.positions.entry_conditions import (
    EntryGate,
    check_entry,
    covered_call_strike_ok,
    daily_sigma,
    day_colour_allows,
    move_threshold,
    size_entry,
)
from harness.runner import run
from models.bot_config import BotConfig, Right
from models.exceptions import ConfigurationError
from models.market_data import ContractQuote
from models.risk_limits import RiskLimits
from tests.test_trading_bot import NOW, candidates, make_bot

TODAY = date(2016, 1, 4)
CLOSES = [100.0, 101.0, 99.5, 100.5, 100.0]  # the last is the previous close


def config(**params: str) -> BotConfig:
    return BotConfig.from_parameters(params.get)


@pytest.mark.parametrize(("mode", "price", "allowed"), [
    ("red", 99.0, True), ("red", 100.0, True), ("red", 101.0, False),
    ("green", 101.0, True), ("green", 100.0, True), ("green", 99.0, False), ("any", 50.0, True)])
def test_day_colour_skips_only_the_wrong_side_of_the_previous_close(mode, price, allowed):
    assert day_colour_allows(mode, price, 100.0) is allowed


def test_puts_on_red_days_calls_on_green_days():
    puts = config(entry_put_day="red")
    calls = config(entry_right="call", entry_call_day="green")

    assert check_entry(puts, TODAY, 99.0, CLOSES).allowed and not check_entry(puts, TODAY, 101.0, CLOSES).allowed
    assert check_entry(calls, TODAY, 101.0, CLOSES).allowed and not check_entry(calls, TODAY, 99.0, CLOSES).allowed
    assert "a green day" in check_entry(puts, TODAY, 101.0, CLOSES).reason


def test_the_minimum_move_by_percent():
    cfg = config(entry_min_move_pct="0.01")  # 1 % of the previous close 100: 1.00

    assert not check_entry(cfg, TODAY, 100.99, CLOSES).allowed
    assert check_entry(cfg, TODAY, 98.9, CLOSES).allowed and check_entry(cfg, TODAY, 101.0, CLOSES).allowed


def test_the_minimum_move_by_sigma_of_daily_log_returns():
    returns = [math.log(b / a) for a, b in itertools.pairwise(CLOSES)]
    mean = sum(returns) / len(returns)
    sigma = math.sqrt(sum((r - mean) ** 2 for r in returns) / (len(returns) - 1))
    cfg = config(entry_min_move_sigma="1.5", entry_min_move_pct="0.5")  # sigma wins over the pct

    threshold = move_threshold(100.0, CLOSES, 1.5, 0.5)

    assert daily_sigma(CLOSES) == pytest.approx(sigma)
    assert threshold == pytest.approx(100.0 * (math.exp(sigma) - 1) * 1.5)
    assert not check_entry(cfg, TODAY, 100.0 + threshold * 0.99, CLOSES).allowed
    assert check_entry(cfg, TODAY, 100.0 - threshold * 1.01, CLOSES).allowed


def test_no_history_refuses_an_entry_that_needs_it_and_too_little_refuses_sigma():
    assert not check_entry(config(entry_put_day="red"), TODAY, 99.0, []).allowed
    assert not check_entry(config(entry_min_move_sigma="1"), TODAY, 90.0, [100.0, 99.0]).allowed
    assert check_entry(config(), TODAY, 99.0, None).allowed  # nothing set: no history needed


def test_blackout_dates_refuse_entries_on_those_days_only():
    cfg = config(entry_blackout_dates="2016-01-04,2016-01-28")

    assert not check_entry(cfg, TODAY, 100.0, None).allowed
    assert check_entry(cfg, date(2016, 1, 5), 100.0, None).allowed
    with pytest.raises(ConfigurationError, match="entry_blackout_dates"):
        config(entry_blackout_dates="next tuesday")


def test_the_gate_reads_history_once_a_day_and_logs_a_refusal_once():
    calls: list[int] = []

    def history(n: int) -> list[float]:
        calls.append(n)
        return CLOSES

    gate = EntryGate(config(entry_put_day="red", entry_sigma_days="20"), history)

    assert not gate.allows(TODAY, 101.0) and not gate.allows(TODAY, 102.0) and gate.allows(TODAY, 99.0)
    assert calls == [21]
    gate.allows(date(2016, 1, 5), 99.0)
    assert calls == [21, 21]


# --- sizing ---------------------------------------------------------------------------------------

PUT = ContractQuote("P700", Right.PUT, 700.0, date(2016, 2, 5), 5.0, 5.2, 100, 0.3, -0.30)


def test_sizing_by_buying_power_writes_what_the_share_of_equity_secures():
    cfg = config(entry_buying_power_pct="0.5", entry_quantity="50")  # 50 % of 1,000,000 / (750 x 100)

    assert size_entry(cfg, RiskLimits(max_single_order_value=1e9, max_position_size_pct=1.0), 1_000_000.0, 750.0,
                      PUT, 100.0) == 6


def test_sizing_is_capped_by_the_risk_limits_and_by_entry_quantity():
    cfg = config(entry_buying_power_pct="1.0", entry_quantity="50")
    equity = 10_000_000.0

    assert size_entry(cfg, RiskLimits(max_single_order_value=5_000.0, max_position_size_pct=1.0), equity, 750.0,
                      PUT, 100.0) == 9  # 5,000 / 520
    assert size_entry(cfg, RiskLimits(max_single_order_value=1e9, max_position_size_pct=0.001), equity, 750.0,
                      PUT, 100.0) == 19  # 10,000 / 520
    assert size_entry(config(entry_buying_power_pct="1.0", entry_quantity="4"), RiskLimits(max_single_order_value=1e9),
                      equity, 750.0, PUT, 100.0) == 4


def test_without_buying_power_sizing_the_fixed_quantity_is_kept():
    assert size_entry(config(entry_quantity="3"), RiskLimits(max_single_order_value=1.0), 1e6, 750.0, PUT, 100.0) == 3


def test_the_bot_sizes_its_entry_and_skips_it_at_zero():
    bot, broker = make_bot(entry_buying_power_pct="0.2", entry_quantity="10")  # 20 % of 100,000 / 75,000: 0
    bot.on_market(NOW, 750.0, {}, candidates())
    assert broker.requests == []

    bot, broker = make_bot(entry_buying_power_pct="1.0", entry_quantity="10")  # 100,000 / 75,000: 1
    bot.on_market(NOW, 750.0, {}, candidates())
    assert [r.quantity for r in broker.requests] == [-1]


def test_the_bot_refuses_an_entry_on_a_blackout_date():
    bot, broker = make_bot(entry_blackout_dates=NOW.date().isoformat())
    bot.on_market(NOW, 750.0, {}, candidates())
    assert broker.requests == []


# --- covered calls ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("strike", "basis", "ok"), [(105.0, 100.0, True), (100.0, 100.0, True),
                                                     (97.5, 100.0, False), (90.0, None, True)])
def test_a_covered_call_is_written_at_or_above_the_cost_basis(strike, basis, ok):
    assert covered_call_strike_ok(strike, basis) is ok


# --- history in the harness ---------------------------------------------------------------------

def test_the_harness_answers_lean_history_with_the_days_before_today(tmp_path: Path) -> None:
    engine, _ = run(days=6, start=None, seed=7, storage=tmp_path, overrides={"entry_put_day": "red"})
    algorithm = engine.algorithm
    frame = algorithm.history(algorithm.adapter._underlying, 3, 4)  # Resolution.DAILY

    assert list(frame.columns) == ["open", "high", "low", "close"] and len(frame) == 3
    # the clock is still on the last day: its own close is not history yet
    assert [round(c, 6) for c in frame["close"]] == [round(c, 6) for _, c in engine.daily_closes[-4:-1]]
    assert frame.index.names == ["symbol", "time"]
    assert isinstance(frame.index[0][1], datetime)
    # the bot read it through execution/lean_history.py: no entry on day 1 (no previous close yet),
    # and every entry on a day not above the previous close
    first_day = engine.daily_closes[0][0]
    opens = [o for o in engine.brokerage.orders.values() if o.tag.startswith("bot:C") and o.time.date() > first_day]
    assert opens and not [o for o in engine.brokerage.orders.values() if o.time.date() == first_day]
