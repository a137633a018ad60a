"""Benchmark of the pre-trade gateway (printed figures, no pass/fail): median cost per order of
``PreTradeValidator.validate`` with every check on, for

1. an approved exposure-adding order (all twelve checks evaluated),
2. an approved two-leg roll,
3. a rejected order (adds the RISK_LIMIT_EXCEEDED log records and one audit entry),
4. the circuit breaker's ``on_equity`` (run once per slice by the bot).

The context holds 20 open positions and 5 orders in the last minute, as a busy bot would.
"""

from __future__ import annotations

import logging
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from execution.risk.circuit_breaker import CircuitBreaker, TradingState  # noqa: E402
from execution.risk.pre_trade_validator import PreTradeContext, PreTradeValidator  # noqa: E402
from models.orders import OrderPurpose, OrderRequest  # noqa: E402
from models.risk_limits import RiskLimits  # noqa: E402
from utils.audit_logger import AuditLogger, MemoryAuditSink  # noqa: E402
from utils.logging_config import ROOT_LOGGER  # noqa: E402

NOW = datetime(2015, 12, 23, 15, 0, tzinfo=UTC)
SYMBOLS = [f"GOOG  160115P00{700 + 5 * i:03d}000" for i in range(22)]


def build_context() -> PreTradeContext:
    held = {s: (1 if i % 2 else -1) for i, s in enumerate(SYMBOLS[:20])}
    return PreTradeContext(
        now=NOW, portfolio_value=100_000.0, positions=held, prices={s: 10.0 for s in SYMBOLS},
        multipliers={s: 100.0 for s in SYMBOLS}, open_positions=len(held), orders_today=40,
        recent_order_times=tuple(NOW - timedelta(seconds=10 * i) for i in range(1, 6)),
        portfolio_dollar_delta=-2_000.0, portfolio_vega=150.0,
        dollar_delta_per_contract={s: -1_000.0 for s in SYMBOLS}, vega_per_contract={s: 50.0 for s in SYMBOLS},
        session_start_equity=100_500.0, equity_high_watermark=101_000.0, trading_state=TradingState.ACTIVE,
        underlyings={s: "GOOG" for s in SYMBOLS})


def median_us(action: Callable[[], object], repeats: int = 20_000) -> float:
    for _ in range(500):
        action()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter_ns()
        action()
        samples.append(time.perf_counter_ns() - started)
    return statistics.median(samples) / 1_000.0


def main() -> None:
    logging.getLogger(ROOT_LOGGER).addHandler(logging.NullHandler())
    logging.getLogger(ROOT_LOGGER).propagate = False  # measure the gateway, not a console handler
    limits = RiskLimits(max_open_positions=30, max_daily_orders=1_000)
    audit = AuditLogger(clock=lambda: NOW, sinks=[MemoryAuditSink()])
    gateway, ctx = PreTradeValidator(limits, audit), build_context()
    entry = OrderRequest("c1", SYMBOLS[20], 1, OrderPurpose.ENTRY)
    roll = [OrderRequest("r1", SYMBOLS[1], -1, OrderPurpose.ENTRY),
            OrderRequest("r2", SYMBOLS[21], 1, OrderPurpose.ENTRY)]
    too_big = OrderRequest("c2", SYMBOLS[20], 80, OrderPurpose.ENTRY)
    assert gateway.validate(entry, ctx).approved and gateway.validate(roll, ctx).approved
    assert not gateway.validate(too_big, ctx).approved
    breaker = CircuitBreaker(limits, audit)
    breaker.start_session(NOW.date(), 100_000.0)

    print("pre-trade gateway, all checks on, 20 open positions (median per call):")
    print(f"  approved single-leg entry : {median_us(lambda: gateway.validate(entry, ctx)):6.1f} µs")
    print(f"  approved two-leg roll     : {median_us(lambda: gateway.validate(roll, ctx)):6.1f} µs")
    print(f"  rejected (log + audit)    : {median_us(lambda: gateway.validate(too_big, ctx), 5_000):6.1f} µs")
    print(f"  circuit breaker on_equity : {median_us(lambda: breaker.on_equity(NOW, 99_900.0)):6.1f} µs")


if __name__ == "__main__":
    main()
