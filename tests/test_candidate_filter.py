"""The adapter reads LEAN's Greeks only for chain contracts the entry rule could pick (issue 14's
"Greeks only for the contracts read": each read crosses pythonnet in real LEAN, and LEAN's price
model evaluates what is read). The rule's decisions do not change: it filters the same way."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from execution.positions.entry_rule import usable_for_entry
from execution.trading_bot import TradingBot
from harness.lean_run import run_lean
from harness.runner import REPO_ROOT, load_algorithm_class, load_parameters
from models.bot_config import Right
from models.market_data import ContractQuote
from tests.lean_data_paths import LEAN_DATA, needs_lean_data
from tests.test_trading_bot import NOW, make_bot


def quotes() -> list[ContractQuote]:
    today = NOW.date()
    return [ContractQuote("P30", Right.PUT, 700.0, today + timedelta(days=30), 5.0, 5.2),
            ContractQuote("C30", Right.CALL, 800.0, today + timedelta(days=30), 5.0, 5.2),
            ContractQuote("P3", Right.PUT, 700.0, today + timedelta(days=3), 5.0, 5.2),
            ContractQuote("P90", Right.PUT, 700.0, today + timedelta(days=90), 5.0, 5.2),
            ContractQuote("Pwide", Right.PUT, 690.0, today + timedelta(days=30), 1.0, 2.0),
            ContractQuote("Pone", Right.PUT, 680.0, today + timedelta(days=30), 0.0, 0.1)]


def test_the_filter_is_the_entry_rules_own_and_is_off_while_shares_are_held() -> None:
    bot, _ = make_bot()
    wanted = bot.candidate_filter(NOW)
    assert wanted is not None
    assert [q.symbol for q in quotes() if wanted(q)] == ["P30"]
    assert [q.symbol for q in quotes() if usable_for_entry(bot.config, q, NOW.date())] == ["P30"]
    bot.assignments.stocks["GOOG"] = type("S", (), {"symbol": "GOOG", "quantity": 300})()  # the wheel reads calls
    assert bot.candidate_filter(NOW) is None


@needs_lean_data
def test_main_py_trades_the_same_with_and_without_the_filter_and_reads_far_fewer_greeks(tmp_path: Path,
                                                                                         monkeypatch: Any) -> None:
    parameters = load_parameters(REPO_ROOT / "config.json")
    parameters.update({"start_date": "2015-12-23", "end_date": "2015-12-24"})
    filtered = run_lean(load_algorithm_class(), LEAN_DATA, tmp_path / "a", dict(parameters))
    monkeypatch.setattr(TradingBot, "candidate_filter", lambda self, now: None)
    every = run_lean(load_algorithm_class(), LEAN_DATA, tmp_path / "b", dict(parameters))
    for field in ("orders", "fills", "fees", "end_equity", "slices"):
        assert getattr(filtered.result, field) == getattr(every.result, field), field
    assert filtered.result.start == date(2015, 12, 23) and filtered.result.orders > 0
    assert filtered.engine.greeks.evaluated * 5 < every.engine.greeks.evaluated


def test_the_filter_is_off_while_a_roll_reads_the_chain(monkeypatch: Any) -> None:
    bot, _ = make_bot()
    assert bot.candidate_filter(NOW) is not None
    monkeypatch.setattr(bot.rolls, "wants_chain", lambda now: now == NOW)  # a roll is due now: it needs every expiry
    assert bot.candidate_filter(NOW) is None
    assert bot.candidate_filter(NOW + timedelta(minutes=1)) is not None
