"""Options report benchmarks (issue 17), printed figures:

1. A year of heavy trading rebuilt from the audit trail: 5,000 trades (entry, two ladder levels,
   a stop: 20,000 fills, 50,000 audit entries) into the ledger and every table. Goal: <= 3 s.
2. LEAN statistics of a year of half-hourly equity (252 days x 13 points). Goal: <= 0.2 s.
3. The whole report (tables, 4 figures, HTML) of a 21-day harness backtest. Goal: <= 5 s.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas  # noqa: E402, F401  (before harness/ is on sys.path: harness/calendar.py)

from models.audit import AuditAction, AuditEntry  # noqa: E402
from reports import tables  # noqa: E402
from reports.lean_statistics import portfolio_statistics  # noqa: E402
from reports.trades import build_ledger  # noqa: E402

T0 = datetime(2016, 1, 4, 14, 31, tzinfo=UTC)


def trail(trades: int) -> list[AuditEntry]:
    entries, clock = [], T0

    def add(action: AuditAction, rid: str, corr: str, after=None, meta=None) -> None:
        nonlocal clock
        clock += timedelta(minutes=1)
        entries.append(AuditEntry(timestamp=clock, action=action, description="", actor="system",
                                  actor_type="system", resource_type="order", resource_id=rid,
                                  after_state=after, correlation_id=corr, metadata=meta or {}))

    for n in range(trades):
        symbol = f"GOOG  16{(n % 12) + 1:02d}15P00{700 + n % 50:03d}000"
        corr = f"C{n:07d}"
        steps = [("entry", -4, 10.0, None), ("profit_take", 1, 5.0, 1), ("profit_take", 1, 2.0, 2),
                 ("stop_loss", 2, 20.0, None)]
        for k, (purpose, qty, price, level) in enumerate(steps):
            oid = f"{corr}-{k}"
            if level is not None:
                add(AuditAction.PROFIT_TAKE, corr, corr, meta={"ladder_level": level})
            add(AuditAction.ORDER_SUBMIT, oid, corr, after={"symbol": symbol, "quantity": qty, "purpose": purpose,
                                                             "order_type": "limit"})
            add(AuditAction.ORDER_FILL, oid, corr, meta={"symbol": symbol, "fill_quantity": qty, "fill_price": price,
                                                          "fee": 0.65, "slippage_pct": 0.5})
    return entries


def ledger_and_tables(trades: int = 5_000) -> None:
    entries = trail(trades)
    start = time.perf_counter()
    ledger = build_ledger(entries)
    for table in (tables.pnl_by_exit_reason(ledger), tables.pnl_by_dte_bucket(ledger),
                  tables.pnl_by_delta_bucket(ledger), tables.slippage_by_order_type(ledger)):
        assert not table.empty
    elapsed = time.perf_counter() - start
    assert len(ledger.trades) == trades and all(t.is_closed for t in ledger.trades)
    print(f"ledger + tables: {trades:,} trades, {len(entries):,} audit entries in {elapsed:.2f} s (goal <= 3 s)")


def statistics_of_a_year() -> None:
    points = [(T0 + timedelta(days=d, minutes=30 * k), 100_000 + 50 * d + (k % 3) * 10.0)
              for d in range(365) if (T0 + timedelta(days=d)).weekday() < 5 for k in range(13)]
    start = time.perf_counter()
    stats = portfolio_statistics(points, 100_000.0, 0.01)
    elapsed = time.perf_counter() - start
    print(f"LEAN statistics: {len(points):,} equity points, {stats.daily_returns} daily returns in "
          f"{elapsed * 1000:.1f} ms (goal <= 200 ms)")


def whole_report() -> None:
    from harness.runner import run
    from reports.__main__ import write_report
    from reports.sources import load_storage

    with tempfile.TemporaryDirectory() as tmp:
        storage = Path(tmp) / "storage"
        run(21, None, 7, storage, {})
        start = time.perf_counter()
        page = write_report(load_storage(storage), Path(tmp) / "report")
        elapsed = time.perf_counter() - start
        size = page.stat().st_size
    print(f"whole report of a 21-day backtest (tables, figures, HTML {size / 1024:.0f} KiB): {elapsed:.2f} s "
          f"(goal <= 5 s)")


if __name__ == "__main__":
    ledger_and_tables()
    statistics_of_a_year()
    whole_report()
