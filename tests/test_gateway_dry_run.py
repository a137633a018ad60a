"""The sidecar's pre-check is the pre-trade gateway's own rules on the exposure the algorithm published
(services/gateway_dry_run.py, models/pre_trade_rules.py; issue 16 "check_order: the gateway's own rules
dry-run on the current exposure").

Each scenario runs the real bot (execution/trading_bot.py) to a state, publishes its snapshot as JSON
(what the sidecar reads), and checks that the dry run and the bot's gateway give the same verdict.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from models.orders import OrderPurpose, OrderRequest
from models.pre_trade_rules import PreTradeContext, context_to_dict
from models.risk_limits import RiskLimits
from models.trading_state import TradingState
from services.gateway_context import context_from_dict
from services.gateway_dry_run import dry_run, osi_symbol, parse_osi
from services.risk_precheck import precheck, trading_state
from tests.test_api_support import make_position, make_snapshot
from tests.test_money_path_faults import P650, new_bot, short_two, working_roll
from tests.test_trading_bot import EXPIRY, NOW, candidates, fill
from utils.object_store_schema import (
    ChainContract,
    OptionChainSlice,
    SnapshotFormatError,
    StateSnapshot,
    parse_state_snapshot,
)
from utils.order_inbox import OrderSpec


def published(bot) -> StateSnapshot:
    return parse_state_snapshot(bot.snapshot(NOW, "live").to_json())


def spec(strike: float, side: str, quantity: int, price: float | None = 5.1, right: str = "put",
         expiry: date = EXPIRY) -> OrderSpec:
    kind = "market" if price is None else "limit"
    return OrderSpec("GOOG", right, strike, expiry, side, quantity, kind, price, None, "test")


def test_the_snapshot_carries_the_gateway_context_and_it_reads_back_unchanged() -> None:
    bot, _ = short_two()
    working_roll(bot)
    snapshot = published(bot)
    ctx = context_from_dict(snapshot.risk["gateway_context"])
    assert ctx.positions == {"P700": -2} and ctx.pending == {"P700": 2, "P650": -2}
    assert ctx.working_symbols == {"P700", "P650"} and ctx.open_positions == 2
    assert ctx.trading_state is TradingState.ACTIVE and ctx.portfolio_value == 100_000.0
    assert "P700" in ctx.dollar_delta_per_contract  # held contracts carry their estimate for the sidecar
    assert context_from_dict(context_to_dict(ctx)) == ctx


def test_a_buy_beyond_a_working_roll_leg_in_halted_is_refused_by_both_doors() -> None:
    bot, _ = short_two()
    working_roll(bot)  # buying back the 2 held: a further +2 would make the account long
    bot.breaker.halt(NOW, "ops", "human", "test")
    snapshot = published(bot)
    held = next(p for p in snapshot.positions if p.symbol == "P700")
    order = spec(held.strike, "buy", 2, expiry=date.fromisoformat(held.expiry))
    checked = precheck(order, snapshot, "fresh")
    assert checked.dry_run is not None and checked.dry_run.symbol == "P700"
    assert not checked.dry_run.result.reduces_exposure
    assert any(v.startswith("circuit_breaker: state halted") for v in checked.violations)
    gateway = bot.gateway.submit(OrderRequest("X1", "P700", 2, OrderPurpose.EXTERNAL), NOW)
    assert [c.name for c in gateway.validation.failed] == [c.name for c in checked.dry_run.result.failed]


def test_a_working_entry_counts_against_max_open_positions_in_the_sidecar_too() -> None:
    bot, broker = new_bot(limits=RiskLimits(max_open_positions=1), entry_quantity="1")
    bot.on_market(NOW, 750.0, {}, candidates())  # an entry is working, nothing is held
    assert len(broker.requests) == 1 and not bot.book.open_positions()
    checked = precheck(spec(650.0, "sell", 1, 2.1), published(bot), "fresh")
    assert any(v.startswith("open_positions: open positions 2 exceeds 1") for v in checked.violations)
    assert bot.submit_external("REQ1", P650, -1, None, "user:jane", "human").rejected


def test_an_order_within_every_limit_passes_and_its_preview_is_the_gateways_figures() -> None:
    bot, _ = short_two()
    snapshot = published(bot)
    checked = precheck(spec(650.0, "sell", 1, 2.1), snapshot, "fresh")
    run = checked.dry_run
    assert run is not None and not checked.violations and run.result.approved
    assert run.after["position"] == -1 and run.after["open_positions"] == 2
    assert run.after["order_value"] == pytest.approx(210.0)
    greeks = {c.name: c.current_value for c in run.result.checks}
    assert run.after["dollar_delta"] == pytest.approx(greeks["dollar_delta"], abs=0.01)
    assert run.headroom["max_open_positions"] == bot.limits.max_open_positions - 2
    assert any("Black-Scholes" in note for note in checked.warnings)  # the new contract's Greeks are estimated


def test_closing_held_contracts_is_exempt_while_halted() -> None:
    bot, _ = short_two()
    bot.breaker.halt(NOW, "ops", "human", "test")
    snapshot = published(bot)
    assert trading_state(snapshot) == "halted"
    held = next(p for p in snapshot.positions if p.symbol == "P700")
    checked = precheck(spec(held.strike, "buy", 2, expiry=date.fromisoformat(held.expiry)), snapshot, "fresh")
    assert not checked.violations and checked.dry_run is not None and checked.dry_run.result.reduces_exposure
    # one more than held flips the position: that adds, and halted refuses it
    flip = precheck(spec(held.strike, "buy", 3, expiry=date.fromisoformat(held.expiry)), snapshot, "fresh")
    assert any(v.startswith("circuit_breaker") for v in flip.violations)


def test_a_market_order_on_a_contract_the_snapshot_does_not_price_leaves_the_price_checks_to_the_gateway() -> None:
    bot, _ = short_two()
    checked = precheck(spec(640.0, "sell", 1, None), published(bot), "fresh")
    run = checked.dry_run
    assert run is not None and set(run.unchecked) == {"order_value", "position_size", "dollar_delta", "vega"}
    assert not checked.violations and any("left to the gateway" in w for w in checked.warnings)


def test_a_torn_gateway_context_is_noted_and_the_context_is_rebuilt_from_the_positions() -> None:
    snapshot = make_snapshot(risk={"limits": {"blocked_symbols": ["GOOG"]}, "gateway_context": {"now": 5}})
    checked = precheck(spec(760.0, "buy", 1, 12.5, right="call", expiry=date(2016, 1, 15)), snapshot, "fresh")
    assert any("unreadable" in w for w in checked.warnings)
    assert "blocked_symbol: GOOG is blocked" in checked.violations  # the same rules still ran


@pytest.mark.parametrize("field", ["positions", "prices", "recent_order_times", "trading_state", "now",
                                   "open_positions", "working_symbols"])
def test_a_hostile_context_field_is_a_value_error_naming_the_field(field: str) -> None:
    bot, _ = short_two()
    doc = dict(published(bot).risk["gateway_context"])
    doc[field] = {"x": "1e999"} if field in ("positions", "prices") else (-1 if field == "open_positions" else [7])
    with pytest.raises(ValueError, match=field if field != "recent_order_times" else "recent_order_times"):
        context_from_dict(doc)


def test_a_non_finite_figure_is_left_out_of_the_published_context_and_fails_closed() -> None:
    ctx = PreTradeContext(now=datetime(2016, 1, 4, 10, 0, tzinfo=UTC), portfolio_value=math.nan, positions={},
                          prices={"A": math.inf}, multipliers={"A": 100.0}, open_positions=0, orders_today=0,
                          recent_order_times=(), portfolio_dollar_delta=0.0, portfolio_vega=0.0,
                          dollar_delta_per_contract={"A": math.nan}, vega_per_contract={},
                          session_start_equity=1.0, equity_high_watermark=1.0, trading_state=TradingState.ACTIVE)
    back = context_from_dict(context_to_dict(ctx))
    assert "A" not in back.prices and "A" not in back.dollar_delta_per_contract and math.isnan(back.portfolio_value)


def test_lean_option_symbols_round_trip() -> None:
    contract = ("GOOG", "put", 750.0, date(2015, 12, 18))
    assert osi_symbol(contract) == "GOOG  151218P00750000"
    assert parse_osi("GOOG  151218P00750000") == contract
    assert parse_osi("GOOG  151318P00750000") is None and parse_osi("P700") is None


def test_a_held_lean_symbol_is_found_by_its_terms() -> None:
    position = make_position("P1", right="put", strike=720.0, expiry="2016-01-22", quantity=-2)
    position = replace(position, symbol="GOOG  160122P00720000")
    snapshot = make_snapshot(positions=[position])
    run = dry_run(spec(720.0, "buy", 2, 3.0, expiry=date(2016, 1, 22)), snapshot, "active")
    assert run.symbol == "GOOG  160122P00720000" and run.result.reduces_exposure


def test_a_price_no_volatility_reproduces_leaves_the_greek_limits_to_the_gateway() -> None:
    snapshot = replace(make_snapshot(underlying_price=777.0), option_chain=None)  # the 760 call is 17 in the money;
    # 12.5 is below intrinsic and the snapshot has no chain slice to price it
    checked = precheck(spec(760.0, "buy", 1, 12.5, right="call", expiry=date(2016, 1, 15)), snapshot, "fresh")
    assert checked.dry_run is not None and checked.dry_run.unchecked == ["dollar_delta", "vega"]
    assert not checked.violations and any("no Greek estimate" in w for w in checked.warnings)


def test_a_contract_in_the_published_chain_slice_is_priced_at_its_mid_with_its_greeks() -> None:
    row = ChainContract("GOOG  160115C00760000", "call", 760.0, "2016-01-15", 12.0, 13.0, 12.5, 0.45, 0.8, 0.3, 900,
                        "market")
    chain = OptionChainSlice(datetime(2015, 12, 23, 15, 0, tzinfo=UTC), 750.5, [row], 1)
    snapshot = replace(make_snapshot(), option_chain=chain)
    checked = precheck(spec(760.0, "buy", 1, 14.0, right="call", expiry=date(2016, 1, 15)), snapshot, "fresh")
    run = checked.dry_run
    assert run is not None and run.symbol == row.symbol and run.price == 12.5  # the mid, not the 14.0 limit
    assert run.after["dollar_delta"] == pytest.approx(-9000.0 + 0.45 * 100 * 750.5, abs=0.01)
    assert run.after["vega"] == pytest.approx(1.0 + 0.8 * 100, abs=0.01)
    assert not any("Black-Scholes" in w for w in checked.warnings)


def test_a_rolls_legs_are_checked_as_one_unit_as_the_gateway_checks_a_combo() -> None:
    bot, _ = new_bot(limits=RiskLimits(max_abs_dollar_delta=50_000.0), entry_quantity="2")
    bot.on_market(NOW, 750.0, {}, candidates())
    fill(bot, bot.broker.requests[0], -2, 5.0)  # short 2 P700 (delta -0.30): +45,000 dollar delta
    bot.on_market(NOW, 750.0, {"P700": candidates()[0]})
    snapshot = published(bot)
    assert snapshot.portfolio_greeks["dollar_delta"] == pytest.approx(45_000.0)
    close, open_new = spec(700.0, "buy", 2, 5.1), spec(650.0, "sell", 2, 2.1)
    alone = precheck(open_new, snapshot, "fresh")
    assert any(v.startswith("dollar_delta") for v in alone.violations)  # opening more shorts alone: too much delta
    rolled = precheck(close, snapshot, "fresh", legs=(open_new,))
    assert rolled.dry_run is not None and not rolled.violations, rolled.violations
    assert rolled.dry_run.symbol == "P700" and rolled.dry_run.after["position"] == 0


@pytest.mark.parametrize(("field", "value"), [
    ("portfolio_value", 10**400), ("prices", {"P700": 10**400}), ("positions", {"P700": [1]}),
    ("recent_order_times", ["2016-01-04T09:59:00+00:00"]), ("open_positions", 10**12), ("underlyings", {"P700": 7}),
    ("trading_state", "sideways"), ("now", "yesterday")])
def test_hostile_context_content_is_noted_and_never_crashes_the_dry_run(field: str, value: Any) -> None:
    bot, _ = short_two()
    snapshot = published(bot)
    doc = dict(snapshot.risk["gateway_context"])
    doc[field] = value  # the bot's context has a naive "now": an aware order time mixes the two
    with pytest.raises(ValueError):
        context_from_dict(doc)
    hostile = replace(snapshot, risk={**snapshot.risk, "gateway_context": doc})
    checked = precheck(spec(650.0, "sell", 1, 2.1), hostile, "fresh")
    assert checked.dry_run is not None and any("unreadable" in d for d in checked.dry_run.doubts)


def test_hostile_limits_are_a_doubt_not_a_crash() -> None:
    bot, _ = short_two()
    snapshot = published(bot)
    hostile = replace(snapshot, risk={**snapshot.risk, "limits": {"max_open_positions": 10**400}})
    checked = precheck(spec(650.0, "sell", 1, 2.1), hostile, "fresh")
    assert checked.dry_run is not None and any("limits are unreadable" in d for d in checked.dry_run.doubts)


def test_a_snapshot_number_beyond_a_float_is_a_format_error() -> None:
    text = make_snapshot().to_json().replace('"strike":720.0', '"strike":1' + "0" * 400, 1)
    with pytest.raises(SnapshotFormatError, match="out of range"):
        parse_state_snapshot(text)


def test_a_person_decides_when_the_verdict_rests_on_the_agents_own_price() -> None:
    bot, _ = short_two()
    checked = precheck(spec(650.0, "sell", 10, 0.05), published(bot), "fresh")  # a far-below-mid limit
    assert checked.dry_run is not None and any("own limit" in d for d in checked.dry_run.doubts)
    on_chain = precheck(spec(760.0, "buy", 1, 12.5, right="call", expiry=date(2016, 1, 15)), make_snapshot(), "fresh")
    assert on_chain.dry_run is not None and on_chain.dry_run.doubts == []  # priced by the snapshot's chain slice


def test_a_held_contract_keeps_the_gateways_figures_and_is_not_re_estimated() -> None:
    bot, _ = short_two()
    snapshot = published(bot)
    doc = dict(snapshot.risk["gateway_context"])
    doc["dollar_delta_per_contract"] = {}  # the gateway had no estimate for what it holds: it fails closed
    blind = replace(snapshot, risk={**snapshot.risk, "gateway_context": doc})
    held = next(p for p in blind.positions if p.symbol == "P700")
    more = precheck(spec(held.strike, "sell", 1, 5.1, expiry=date.fromisoformat(held.expiry)), blind, "fresh")
    assert any(v.startswith("dollar_delta: no dollar_delta estimate for P700") for v in more.violations)
