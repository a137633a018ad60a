"""kill -9 of the sidecar during a burst of 1,000 submissions (loopback only, bounded): prints what
survived and exits non-zero on any loss.

Four clients submit 1,000 orders (one idempotency key each) to ``python -m api`` on 127.0.0.1; the
server is killed with SIGKILL once half of them are acknowledged, restarted, and every key is retried.
Checks: every request acknowledged (2xx) before the kill is in the inbox exactly once with exactly one
ORDER_SUBMIT audit entry; after the retries every key is, too. Usage: ``python bench/bench_kill9.py
[--burst 1000]``.
"""

from __future__ import annotations

import argparse
import collections
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_api import TOKEN, free_port, start_server  # noqa: E402
from models.audit import AuditAction  # noqa: E402
from utils.audit_reader import read_file_trail  # noqa: E402
from utils.order_inbox import INBOX_PREFIX, derive_request_id, read_request  # noqa: E402

WORKERS = 4
ORDER = {"actor": "bench", "actor_type": "ai_agent", "underlying": "GOOG", "right": "call", "strike": 760.0,
         "expiry": "2016-01-15", "side": "buy", "quantity": 1, "order_type": "limit", "limit_price": 12.5,
         "confidence": 0.6, "reasoning": "kill -9 bench"}


def wait_ready(port: int) -> None:
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit("server not ready")


def burst(port: int, keys: list[str], acked: dict[str, str], kill_at: int, enough: threading.Event) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10.0) as client:
        for key in keys:
            try:
                response = client.post("/api/v1/orders", headers={"Idempotency-Key": key}, json=ORDER)
            except httpx.TransportError:
                return
            if 200 <= response.status_code < 300:
                acked[key] = response.json()["request_id"]
                if len(acked) >= kill_at:
                    enough.set()


def check(workdir: Path, keys: list[str]) -> tuple[int, int, int]:
    """(keys in the inbox more than once, keys missing from the inbox, keys without exactly one ORDER_SUBMIT)."""
    stored = collections.Counter(read_request(p.read_bytes()).idempotency_key
                                 for p in (workdir / "storage" / INBOX_PREFIX).glob("*.json"))
    submits = collections.Counter(e.correlation_id for e in read_file_trail(workdir / "audit").entries
                                  if e.action is AuditAction.ORDER_SUBMIT)
    twice = sum(count > 1 for count in stored.values())
    missing = sum(key not in stored for key in keys)
    unaudited = sum(submits[derive_request_id(key)] != 1 for key in keys)
    return twice, missing, unaudited


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=1_000)
    count = min(max(parser.parse_args().burst, 20), 5_000)
    keys = [f"kill9-{i:05d}" for i in range(count)]
    with tempfile.TemporaryDirectory(prefix="bench_kill9_") as tmp:
        workdir, port = Path(tmp), free_port()
        acked: dict[str, str] = {}
        enough = threading.Event()
        server = start_server(workdir, port)
        wait_ready(port)
        workers = [threading.Thread(target=burst, args=(port, keys[w::WORKERS], acked, count // 2, enough))
                   for w in range(WORKERS)]
        for worker in workers:
            worker.start()
        enough.wait(timeout=600)
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=60)
        for worker in workers:
            worker.join(timeout=120)
        before = check(workdir, list(acked))
        inbox = workdir / "storage" / INBOX_PREFIX
        stored = {read_request(p.read_bytes()).idempotency_key for p in inbox.glob("*.json")}
        unacked = sorted(stored - set(acked))
        unacked_unaudited = check(workdir, unacked)[2]
        server = start_server(workdir, port)
        try:
            wait_ready(port)
            retried: dict[str, str] = {}
            burst(port, keys, retried, count + 1, threading.Event())
        finally:
            server.terminate()
            server.wait(timeout=60)
        after = check(workdir, keys)
    print(f"burst {count}: {len(acked)} acknowledged before the kill -9")
    print(f"stored but not acknowledged when killed: {len(unacked)} ({unacked_unaudited} without an ORDER_SUBMIT "
          "yet: the retry must write it)")
    print(f"acknowledged before the kill: {before[0]} twice in the inbox, {before[1]} missing, "
          f"{before[2]} without exactly one ORDER_SUBMIT (goal 0, 0, 0)")
    print(f"after the restart and a retry of every key ({len(retried)} acknowledged): {after[0]} twice, "
          f"{after[1]} missing, {after[2]} without exactly one ORDER_SUBMIT (goal 0, 0, 0)")
    return 0 if before == after == (0, 0, 0) and len(retried) == count else 1


if __name__ == "__main__":
    sys.exit(main())
