"""kill -9 of the sidecar during a burst of submissions: after a restart, every request that got a
202 is in the inbox exactly once with one ORDER_SUBMIT audit entry, and retrying any key (acked or
not) never makes a second one (and writes the audit entry a request stored before the kill lacks).

The server runs as ``python -m api`` under uvicorn on 127.0.0.1 on a free port (loopback only);
the burst is bounded (at most 400 requests)."""

from __future__ import annotations

import collections
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from models.audit import AuditAction
from tests.test_api_support import AUTH, TOKEN, inbox_files, order_body
from utils.audit_reader import read_file_trail
from utils.order_inbox import derive_request_id, read_request

ROOT = Path(__file__).resolve().parent.parent
BURST, WORKERS, KILL_AFTER = 400, 4, 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def sidecar(tmp_path: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "TRADING_API_TOKEN": TOKEN, "OBJECT_STORE_DIR": str(tmp_path / "storage"),
           "AUDIT_DIR": str(tmp_path / "audit"), "ENVIRONMENT": "test", "RATE_LIMIT_ORDERS": "100000/minute",
           "RATE_LIMIT_READS": "100000/minute", "ACCESS_LOG": "false", "LOG_LEVEL": "WARNING"}
    env.pop("CORS_ALLOWED_ORIGINS", None)
    process = subprocess.Popen([sys.executable, "-m", "api", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, process)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def wait_ready(port: int, process: subprocess.Popen[bytes], attempts: int = 300) -> None:
    for _ in range(attempts):
        if process.poll() is not None:
            raise RuntimeError(f"sidecar exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)  # readiness polling, not a timing assumption
    raise RuntimeError("sidecar did not become ready")


def burst(port: int, keys: list[str], acked: dict[str, str], on_ack: threading.Event) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=AUTH, timeout=5.0) as client:
        for key in keys:
            try:
                response = client.post("/api/v1/orders", headers={"Idempotency-Key": key}, json=order_body())
            except httpx.TransportError:
                return  # the server is gone
            if response.status_code == 202:
                acked[key] = response.json()["request_id"]
                if len(acked) >= KILL_AFTER:
                    on_ack.set()


def test_every_acked_request_survives_a_kill_9_exactly_once(tmp_path: Path) -> None:
    port = free_port()
    keys = [f"kill9-{i:04d}" for i in range(BURST)]
    acked: dict[str, str] = {}
    enough = threading.Event()
    with sidecar(tmp_path, port) as process:
        workers = [threading.Thread(target=burst, args=(port, keys[w::WORKERS], acked, enough))
                   for w in range(WORKERS)]
        for worker in workers:
            worker.start()
        assert enough.wait(timeout=120), "the burst never reached the kill point"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        for worker in workers:
            worker.join(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert KILL_AFTER <= len(acked) < BURST  # killed mid-burst

    stored = [read_request(path.read_text()) for path in inbox_files(tmp_path / "storage")]
    by_key = collections.Counter(r.idempotency_key for r in stored)
    assert all(count == 1 for count in by_key.values())
    assert set(acked) <= set(by_key)
    assert all(derive_request_id(key) == request_id for key, request_id in acked.items())

    with sidecar(tmp_path, port), httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=AUTH) as client:
        retried = {key: client.post("/api/v1/orders", headers={"Idempotency-Key": key}, json=order_body())
                   for key in keys[: len(acked) + 20]}
    assert {r.status_code for r in retried.values()} == {202}
    assert all(retried[key].json()["replayed"] and retried[key].json()["request_id"] == rid
               for key, rid in acked.items())
    after = collections.Counter(read_request(p.read_text()).idempotency_key for p in inbox_files(tmp_path / "storage"))
    assert all(count == 1 for count in after.values())
    assert set(retried) <= set(after)
    # every acknowledged or retried request has exactly one ORDER_SUBMIT (a retry writes a missing one)
    submits = collections.Counter(e.correlation_id for e in read_file_trail(tmp_path / "audit").entries
                                  if e.action is AuditAction.ORDER_SUBMIT)
    assert all(submits[derive_request_id(key)] == 1 for key in [*acked, *retried])
