"""The options report's trade accounting from a hand-written audit trail: P&L by exit reason
(each ladder level, stop-loss, roll, expiry, assignment, a person's or an agent's request), DTE and
delta buckets, win rate, profit factor, expectancy, slippage and roll credits. Every expected
number is worked out by hand in the test."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from models.audit import AuditAction, AuditEntry
from reports import tables
from reports.trades import build_ledger, expiry_of

T0 = datetime(2016, 1, 4, 15, 0, tzinfo=UTC)
PUT = "GOOG  160219P00700000"  # expires 2016-02-19: 46 days after T0
CALL = "GOOG  160115C00800000"  # expires 2016-01-15: 11 days after T0
NEW = "GOOG  160318P00680000"


class Trail:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []
        self.minute = 0

    def add(self, action: AuditAction, resource_id: str, *, correlation: str | None = None,
            after: dict[str, Any] | None = None, before: dict[str, Any] | None = None,
            meta: dict[str, Any] | None = None, actor_type: str = "system") -> None:
        self.minute += 1
        self.entries.append(AuditEntry(
            timestamp=T0 + timedelta(minutes=self.minute), action=action, description="test",
            actor="system" if actor_type == "system" else "someone", actor_type=actor_type,
            resource_type="order", resource_id=resource_id, before_state=before, after_state=after,
            correlation_id=correlation, metadata=meta or {}))

    def submit(self, order: str, symbol: str, qty: int, purpose: str, correlation: str,
               order_type: str = "limit", actor_type: str = "system") -> None:
        self.add(AuditAction.ORDER_SUBMIT, order, correlation=correlation, actor_type=actor_type,
                 after={"symbol": symbol, "quantity": qty, "order_type": order_type, "purpose": purpose})

    def fill(self, order: str, symbol: str, qty: int, price: float, fee: float = 1.0,
             slippage_pct: float | None = None, correlation: str | None = None) -> None:
        self.add(AuditAction.ORDER_FILL, order, correlation=correlation,
                 meta={"symbol": symbol, "fill_quantity": qty, "fill_price": price, "fee": fee,
                       "slippage_pct": slippage_pct})


def sample_trail() -> list[AuditEntry]:
    t = Trail()
    # Trade 1: sell 3 puts at 2.00 (delta -0.25 at entry); ladder L1 buys 1 at 1.00; stop buys 2 at 4.00
    t.submit("C1", PUT, -3, "entry", "C1")
    t.fill("C1", PUT, -3, 2.00, fee=1.95, slippage_pct=2.0, correlation="C1")  # sell: mid 2.00/0.98
    t.add(AuditAction.TRADE_OPEN, "P1", correlation="C1", after={"symbol": PUT},
          meta={"at_entry": {"delta": -0.25, "iv": 0.3, "mid": 2.04}})
    t.add(AuditAction.PROFIT_TAKE, "P1", correlation="C1", meta={"ladder_level": 1})
    t.submit("C2", PUT, 1, "profit_take", "C1")
    t.fill("C2", PUT, 1, 1.00, slippage_pct=-1.0, correlation="C1")
    t.submit("C3", PUT, 2, "stop_loss", "C1", order_type="market")
    t.fill("C3", PUT, 2, 4.00, slippage_pct=5.0, correlation="C1")
    # Trade 2: an agent buys 2 calls at 3.00 (no LEAN delta at entry); a person sells them at 3.50
    t.submit("X1", CALL, 2, "external", "X1", actor_type="ai_agent")
    t.fill("X1", CALL, 2, 3.00, correlation="X1")
    t.add(AuditAction.TRADE_OPEN, "P2", correlation="X1", after={"symbol": CALL},
          meta={"at_entry": {"delta": None, "iv": None, "mid": 3.0}})
    t.submit("X2", CALL, -2, "external", "X1", actor_type="human")
    t.fill("X2", CALL, -2, 3.50, correlation="X1")
    # Trade 3: sell 1 put at 5.00, rolled: buy it back at 3.00, sell NEW at 6.00 (expected credit 250)
    t.submit("C4", PUT, -1, "entry", "C4")
    t.fill("C4", PUT, -1, 5.00, correlation="C4")
    t.add(AuditAction.ROLL_START, "R1", correlation="R1", before={"symbol": PUT, "position_id": "P3"})
    t.fill("R1", PUT, 1, 3.00, fee=0.65, correlation="R1")
    t.fill("R1", NEW, -1, 6.00, fee=0.65, correlation="R1")
    t.add(AuditAction.ROLL_COMPLETE, "R1", correlation="R1", after={"symbol": NEW},
          meta={"open_symbol": NEW, "expected_net_credit": 250.0, "delta": -0.33})
    # Trade 4 (NEW) ends at expiry, settled at 0 by an order the bot never placed
    t.fill("77", NEW, 1, 0.0, fee=0.0)
    return t.entries


def test_a_fill_lean_flags_as_assignment_is_an_assignment_even_at_zero():
    t = Trail()
    t.submit("C1", PUT, -1, "entry", "C1")
    t.fill("C1", PUT, -1, 4.00, fee=0.0, correlation="C1")
    t.add(AuditAction.ORDER_FILL, "91", meta={"symbol": PUT, "fill_quantity": 1, "fill_price": 0.0, "fee": 0.0,
                                              "is_assignment": True})
    ledger = build_ledger(t.entries)
    assert ledger.trades[0].exit_reason == "assignment"
    assert tables.trade_summary(ledger)["assignments"] == 1 and tables.trade_summary(ledger)["expired"] == 0


def test_expiry_is_read_from_the_option_symbol():
    assert expiry_of(PUT).isoformat() == "2016-02-19"
    assert expiry_of("not an option") is None


def test_exits_are_attributed_to_their_reasons_with_their_pnl():
    ledger = build_ledger(sample_trail())
    by_reason = tables.pnl_by_exit_reason(ledger)

    assert by_reason.loc["profit_take L1", "pnl"] == pytest.approx((2.00 - 1.00) * 1 * 100)
    assert by_reason.loc["stop_loss", "pnl"] == pytest.approx((2.00 - 4.00) * 2 * 100)
    assert by_reason.loc["request:human", "pnl"] == pytest.approx((3.50 - 3.00) * 2 * 100)
    assert by_reason.loc["roll", "pnl"] == pytest.approx((5.00 - 3.00) * 100)
    assert by_reason.loc["expiry", "pnl"] == pytest.approx(6.00 * 100)
    assert by_reason.loc["stop_loss", "contracts"] == 2
    assert set(by_reason.index) == {"profit_take L1", "stop_loss", "request:human", "roll", "expiry"}


def test_trades_carry_their_entry_buckets_and_net_pnl():
    ledger = build_ledger(sample_trail())
    trades = tables.trades_frame(ledger).set_index("symbol")

    first = trades.loc[PUT].iloc[0]
    assert first["pnl"] == pytest.approx(100 - 400 - (1.95 + 1 + 1))
    assert (first["dte_at_entry"], first["dte_bucket"], first["delta_bucket"]) == (46, "36-60", "0.20-0.30")
    assert trades.loc[CALL, "delta_bucket"] == "n/a" and trades.loc[CALL, "origin"] == "external"
    rolled = trades.loc[NEW]
    assert rolled["origin"] == "roll" and rolled["delta_bucket"] == "0.30-0.40"
    assert rolled["pnl"] == pytest.approx(600 - 0.65)


def test_win_rate_profit_factor_and_expectancy_per_bucket():
    ledger = build_ledger(sample_trail())
    # closed trades, net: T1 -303.95 (46 DTE), T2 +98 (11 DTE), T3 +199.35 (46 DTE), T4 +599.35 (74 DTE)
    by_dte = tables.pnl_by_dte_bucket(ledger)
    t1, t3 = 100 - 400 - 3.95, 200 - 1 - 0.65
    row = by_dte.loc["36-60"]
    assert row["count"] == 2
    assert row["win_rate"] == pytest.approx(0.5)
    assert row["profit_factor"] == pytest.approx(t3 / -t1)
    assert row["expectancy"] == pytest.approx((t1 + t3) / 2)
    assert by_dte.loc["8-21", "profit_factor"] == math.inf  # a win and no loss
    assert by_dte.loc["61+", "count"] == 1


def test_pnl_by_month_adds_up_the_closing_fills():
    by_month = tables.pnl_by_month(build_ledger(sample_trail()))
    assert list(by_month.index) == ["2016-01"]
    assert by_month.loc["2016-01", "pnl"] == pytest.approx(100 - 400 + 100 + 200 + 600)
    assert by_month.loc["2016-01", "count"] == 5
    assert tables.pnl_by_month(build_ledger([])).empty


def test_slippage_against_the_mid_per_order_type():
    ledger = build_ledger(sample_trail())
    table = tables.slippage_by_order_type(ledger)
    # sell 3 at 2.00 with 2 % slippage: mid 2.00/0.98, slippage 0.02 x mid x 3 x 100
    assert table.loc[("limit", "entry"), "slippage_usd"] == pytest.approx(0.02 * 2.00 / 0.98 * 300)
    # buy 2 at 4.00 with 5 %: mid 4.00/1.05
    assert table.loc[("market", "stop_loss"), "slippage_usd"] == pytest.approx(0.05 * 4.00 / 1.05 * 200)
    assert table.loc[("limit", "profit_take"), "slippage_usd"] == pytest.approx(-0.01 * 1.00 / 0.99 * 100)


def test_roll_credit_is_the_legs_net_and_fees_add_up():
    ledger = build_ledger(sample_trail())
    (roll,) = ledger.rolls
    assert roll.actual_credit == pytest.approx((6.00 - 3.00) * 100)
    assert roll.expected_credit == 250.0
    summary = tables.trade_summary(ledger)
    assert summary["fees"] == pytest.approx(1.95 + 1 + 1 + 1 + 1 + 1 + 0.65 + 0.65)
    assert summary["closed trades"] == 4 and summary["open trades"] == 0
    assert summary["win rate"] == pytest.approx(3 / 4)
    assert summary["expired"] == 1 and summary["assignments"] == 0


def test_a_fill_without_numbers_is_reported_not_fatal():
    t = Trail()
    t.add(AuditAction.ORDER_FILL, "C9", meta={"symbol": PUT, "fill_quantity": None, "fill_price": 1.0})
    ledger = build_ledger(t.entries)
    assert ledger.trades == [] and "no symbol, quantity or price" in ledger.warnings[0]
