"""Audit trail benchmarks (issue 6), printed figures:

1. Append throughput through AuditLogger into the buffered Object Store sink (LEAN-rule keys,
   the harness's folder-backed store), chunks of 500 entries, flushed when full and at the end.
   Goal: >= 50,000 entries/s.
2. Cost of one append when the day already holds 1,000 versus 100,000 entries, with a flush
   after every append (the worst case: every entry critical). Goal: ratio <= 1.5.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.object_store import ObjectStore  # noqa: E402
from utils.audit_logger import AuditLogger  # noqa: E402
from utils.audit_reader import read_storage_folder_trail  # noqa: E402
from utils.audit_sinks import ObjectStoreAuditSink  # noqa: E402

T0 = datetime(2015, 12, 23, 14, 31, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(microseconds=1)  # stays inside one day for 86e9 entries
        return self.now


def fill(audit: AuditLogger, n: int) -> None:
    audit.log_order_fill(f"C{n:07d}", "GOOG  160115P00750000", -1, 12.35, -1, 12.35, "filled",
                         slippage_pct=0.004, fee=0.65, correlation_id=f"C{n:07d}")


def throughput(entries: int = 100_000, repeats: int = 3) -> None:
    rates = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            sink = ObjectStoreAuditSink(ObjectStore(Path(tmp)))
            audit = AuditLogger(clock=Clock(), sinks=[sink])
            start = time.perf_counter()
            for n in range(entries):
                fill(audit, n)
            audit.flush()
            elapsed = time.perf_counter() - start
            rates.append(entries / elapsed)
            stored = len(read_storage_folder_trail(tmp).entries)
            assert stored == entries, f"{stored} of {entries} entries read back"
    print(f"audit append throughput (buffered Object Store sink, {entries:,} entries): "
          f"median {statistics.median(rates):,.0f} entries/s (goal >= 50,000) "
          f"[runs: {', '.join(f'{r:,.0f}' for r in rates)}]")


def append_cost(day_size: int, samples: int = 300) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        sink = ObjectStoreAuditSink(ObjectStore(Path(tmp)))
        audit = AuditLogger(clock=Clock(), sinks=[sink])
        for n in range(day_size):
            fill(audit, n)
        audit.flush()
        costs = []
        for n in range(samples):
            start = time.perf_counter()
            fill(audit, day_size + n)
            audit.flush()
            costs.append(time.perf_counter() - start)
        return statistics.median(costs)


def append_cost_ratio() -> None:
    small, large = append_cost(1_000), append_cost(100_000)
    print(f"one append + flush, day holding 1,000 entries: {small * 1e6:,.1f} µs; "
          f"100,000 entries: {large * 1e6:,.1f} µs; ratio {large / small:.2f} (goal <= 1.5)")


if __name__ == "__main__":
    throughput()
    append_cost_ratio()
