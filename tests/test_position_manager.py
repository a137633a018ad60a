"""PositionManager (issue 3): ladder, stop-loss, expiry guard, Greeks refresh, never over-closing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execution.bot_managed_positions import BotManagedPosition, GreeksSource
from execution.positions.position_manager import PositionManager
from models.audit import AuditAction
from models.bot_config import BotConfig, Right
from models.market_data import ContractQuote
from models.option_greeks import bs_greeks
from models.orders import OrderPurpose
from utils.audit_logger import AuditLogger, MemoryAuditSink

NOW = datetime(2016, 1, 4, 10, 0)
EXPIRY = date(2016, 2, 19)
SYMBOL = "GOOG  160219P00700000"


def manager(**params: str) -> tuple[PositionManager, MemoryAuditSink]:
    sink = MemoryAuditSink()
    audit = AuditLogger(clock=lambda: NOW.replace(tzinfo=UTC), sinks=[sink])
    return PositionManager(BotConfig.from_parameters(params.get), audit), sink


def open_short(pm: PositionManager, quantity: int = 10, price: float = 10.0, multiplier: float = 100.0,
               symbol: str = SYMBOL) -> BotManagedPosition:
    contract = ContractQuote(symbol, Right.PUT, 700.0, EXPIRY, price - 0.1, price + 0.1)
    position = pm.open_position(contract, multiplier, NOW, correlation_id="C000001")
    pm.apply_fill(position, -quantity, price, 0.0, NOW)
    return position


def quote(mid: float, symbol: str = SYMBOL, half_spread: float = 0.05, **greeks: float) -> ContractQuote:
    return ContractQuote(symbol, Right.PUT, 700.0, EXPIRY, mid - half_spread, mid + half_spread, **greeks)


def test_a_short_gains_when_premium_decays_and_the_first_level_takes_its_share() -> None:
    pm, sink = manager(profit_ladder="0.50:0.30,0.80:0.50")
    position = open_short(pm, quantity=10, price=10.0)
    pm.refresh(NOW, 750.0, {SYMBOL: quote(4.9)})  # +51 %
    (intent,) = pm.decide_exits(NOW, {})
    assert intent.purpose == OrderPurpose.PROFIT_TAKE and intent.quantity == 3  # buy back 3 of 10
    assert intent.correlation_id == "C000001"
    assert sink.actions()[-1] == AuditAction.PROFIT_TAKE
    assert position.pnl_pct == pytest.approx(0.51)


def test_each_level_fires_once_and_not_while_a_close_is_working() -> None:
    pm, _ = manager(profit_ladder="0.50:0.30,0.80:0.50")
    position = open_short(pm, quantity=10)
    pm.refresh(NOW, 750.0, {SYMBOL: quote(4.0)})
    (first,) = pm.decide_exits(NOW, {})
    assert pm.decide_exits(NOW, {position.id: 3}) == []  # level 1 working: nothing new
    pm.apply_fill(position, first.quantity, 4.0, 0.0, NOW)
    assert pm.decide_exits(NOW, {}) == []  # level 1 done, level 2 not reached
    pm.refresh(NOW, 750.0, {SYMBOL: quote(1.9)})
    (second,) = pm.decide_exits(NOW, {})
    assert second.ladder_level == 1 and second.quantity == 3  # 0.5 of 7 = 3.5 -> 3
    pm.apply_fill(position, second.quantity, 1.9, 0.0, NOW)
    assert pm.decide_exits(NOW, {}) == [] and position.quantity == -4


def test_a_level_that_rounds_to_zero_is_skipped_logged_and_audited(caplog: pytest.LogCaptureFixture) -> None:
    pm, sink = manager(profit_ladder="0.50:0.30")
    position = open_short(pm, quantity=1)
    pm.refresh(NOW, 750.0, {SYMBOL: quote(3.0)})
    assert pm.decide_exits(NOW, {}) == []
    assert pm.decide_exits(NOW, {}) == []  # skipped once, not every slice
    assert position.quantity == -1
    assert sink.actions().count(AuditAction.PROFIT_TAKE_SKIPPED) == 1
    assert [r.getMessage() for r in caplog.records].count("PROFIT_TAKE_SKIPPED") == 1


def test_stop_loss_closes_everything_not_already_being_closed() -> None:
    pm, sink = manager(stop_loss_pct="1.0")
    position = open_short(pm, quantity=5, price=10.0)
    pm.refresh(NOW, 700.0, {SYMBOL: quote(20.0)})  # loss of 100 % of the premium
    (intent,) = pm.decide_exits(NOW, {position.id: 2})
    assert intent.purpose == OrderPurpose.STOP_LOSS and intent.quantity == 3
    assert AuditAction.STOP_LOSS in sink.actions()


def test_stop_loss_just_below_the_threshold_does_not_fire() -> None:
    pm, _ = manager(stop_loss_pct="1.0")
    open_short(pm, quantity=5, price=10.0)
    pm.refresh(NOW, 700.0, {SYMBOL: quote(19.99)})
    assert pm.decide_exits(NOW, {}) == []


def test_long_positions_profit_when_the_price_rises() -> None:
    pm, _ = manager(entry_side="buy", profit_ladder="1.0:0.5")
    contract = ContractQuote(SYMBOL, Right.PUT, 700.0, EXPIRY, 4.9, 5.1)
    position = pm.open_position(contract, 100.0, NOW, None)
    pm.apply_fill(position, 4, 5.0, 0.0, NOW)
    pm.refresh(NOW, 700.0, {SYMBOL: quote(10.0)})
    (intent,) = pm.decide_exits(NOW, {})
    assert intent.quantity == -2 and position.unrealized_pnl == pytest.approx(5.0 * 4 * 100)


def test_the_expiry_guard_closes_all_at_exit_dte() -> None:
    pm, _ = manager(exit_dte="5")
    open_short(pm, quantity=4)
    late = datetime.combine(EXPIRY - timedelta(days=5), NOW.time())
    pm.refresh(late, 750.0, {SYMBOL: quote(9.0)})
    (intent,) = pm.decide_exits(late, {})
    assert intent.purpose == OrderPurpose.EXPIRY_GUARD and intent.quantity == 4


def test_market_greeks_are_used_when_lean_has_them() -> None:
    pm, _ = manager()
    position = open_short(pm, quantity=2, multiplier=100.0)
    pm.refresh(NOW, 750.0, {SYMBOL: quote(10.0, delta=-0.3, gamma=0.01, theta=-36.5, vega=0.8, rho=-0.2, iv=0.3)})
    assert position.greeks_source == GreeksSource.MARKET
    assert position.dollar_delta == pytest.approx(-0.3 * -2 * 100 * 750.0)
    assert position.daily_theta_decay == pytest.approx(-36.5 / 365 * -2 * 100)  # short earns the decay
    greeks = pm.portfolio_greeks()
    assert greeks.net_delta == pytest.approx(60.0) and greeks.vega == pytest.approx(-160.0)


def test_our_black_scholes_fills_in_when_lean_has_no_greeks() -> None:
    pm, _ = manager()
    position = open_short(pm, quantity=1)
    years = (EXPIRY - NOW.date()).days / 365
    truth = bs_greeks(False, 720.0, 700.0, years, 0.01, 0.32)
    pm.refresh(NOW, 720.0, {SYMBOL: quote(float(truth.price), half_spread=0.0001)})
    assert position.greeks_source == GreeksSource.CALCULATED
    assert position.iv == pytest.approx(0.32, abs=1e-3)
    assert position.delta == pytest.approx(float(truth.delta), abs=1e-3)


def test_the_contract_multiplier_is_used_not_a_literal_100() -> None:
    pm, _ = manager()
    position = open_short(pm, quantity=1, multiplier=10.0)  # a mini option
    pm.refresh(NOW, 750.0, {SYMBOL: quote(8.0, delta=-0.3, iv=0.3)})
    assert position.unrealized_pnl == pytest.approx(2.0 * 10.0)
    assert position.dollar_delta == pytest.approx(-0.3 * -1 * 10.0 * 750.0)


def test_a_quote_without_a_bid_leaves_the_mark_and_greeks_as_they_were() -> None:
    pm, _ = manager()
    position = open_short(pm)
    pm.refresh(NOW, 750.0, {SYMBOL: ContractQuote(SYMBOL, Right.PUT, 700.0, EXPIRY, 0.0, 0.0)})
    assert position.mark_price is None and position.greeks_source is None
    assert pm.decide_exits(NOW, {}) == []


@settings(max_examples=150, deadline=None)
@given(quantity=st.integers(1, 50),
       path=st.lists(st.tuples(st.floats(0.05, 30.0), st.integers(0, 3), st.floats(0.0, 1.0)), min_size=1,
                     max_size=40))
def test_closing_orders_never_exceed_what_is_held(quantity: int, path: list[tuple[float, int, float]]) -> None:
    """Random marks, and working closes that fill partly or not at all between slices: the
    contracts covered by working closes never exceed the position, and it never flips."""
    pm, _ = manager(profit_ladder="0.2:0.3,0.4:0.3,0.6:0.5,0.9:1", stop_loss_pct="0.8")
    position = open_short(pm, quantity=quantity, price=10.0)
    working: list[int] = []  # remaining contracts of each working close
    for mid, fills, fraction in path:
        pm.refresh(NOW, 750.0, {SYMBOL: quote(mid)})
        for intent in pm.decide_exits(NOW, {position.id: sum(working)}):
            assert intent.quantity > 0  # buying back a short
            working.append(intent.quantity)
        assert sum(working) <= abs(position.quantity)
        for _ in range(min(fills, len(working))):
            part = max(1, int(working[0] * fraction))
            pm.apply_fill(position, part, mid, 0.0, NOW)
            working[0] -= part
            if working[0] == 0:
                working.pop(0)
        assert position.quantity <= 0
