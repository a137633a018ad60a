"""Sidecar API benchmark (loopback only, bounded): prints figures, exits 0.

Starts ``python -m api`` under uvicorn on 127.0.0.1 (free port, temporary Object Store with a
realistic snapshot) and measures:

- GET /api/v1/state at concurrency 32 over keep-alive connections: req/s, p50/p99
  (goal: p99 < 10 ms at >= 2,000 req/s on the 2-core machine),
- POST /api/v1/orders durable ack (fsync'd inbox file before the 202), one client: p50/p99
  (goal: p99 < 20 ms),
- idle RSS of the server (goal < 120 MB),
- 200 WebSocket clients connecting, authenticating and dropping concurrently: the server's client
  count must return to 0 (no leak),
- with 100k requests queued and 1M audit lines (``--requests``, ``--audit-lines``; ``--scale-only``):
  GET /api/v1/orders?limit=50 p99 (goal <= 10 ms) and GET /api/v1/audit p99 (goal <= 20 ms).

The load generator is a minimal asyncio HTTP/1.1 client (the server, not the client library, is
what is measured). Usage: ``python bench/bench_api.py [--seconds 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from utils.object_store_schema import STATE_KEY, EquitySummary, PositionSnapshot, StateSnapshot  # noqa: E402

TOKEN = "bench_" + "Qm4Lx9Tz2Rv7Kp1Wn8Yc3Hd6Jf0Gs5Ab"
CONCURRENCY = 32
PACED_RATE = 2_000.0
WS_CLIENTS = 200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_snapshot(storage: Path) -> int:
    start = datetime(2015, 12, 23, 14, 30, tzinfo=UTC)
    positions = [PositionSnapshot(
        id=f"P{i:05d}", symbol=f"GOOG  160122P00{700 + i * 5}000", underlying="GOOG", right="put",
        strike=700.0 + i * 5, expiry="2016-01-22", side="short", quantity=-2, entry_price=11.15, mark_price=10.0,
        multiplier=100.0, unrealized_pnl=230.0, realized_pnl=0.0, fees=2.0, opened_at="2015-12-23T09:31:00",
        status="open", delta=-0.3, gamma=0.01, theta=-0.2, vega=0.5, rho=-0.1, iv=0.25, dollar_delta=-4500.0,
        daily_theta_decay=40.0, greeks_source="market", greeks_updated_at="2015-12-23T15:00:00+00:00")
        for i in range(10)]
    snapshot = StateSnapshot(
        algorithm_time=start, mode="backtest", ticker="GOOG", underlying_price=750.5,
        equity=EquitySummary(100_230.0, 102_228.0, 230.0, 2.0), positions=positions, counters={"fills": 12},
        parameters={"ticker": "GOOG", "risk_max_order_value": "50000"},
        equity_history=[(start + timedelta(minutes=i), 100_000.0 + i) for i in range(500)],
        portfolio_greeks={"delta": -6.0, "dollar_delta": -45_000.0, "vega": 10.0},
        risk={"reduce_only": False, "entries_suspended": False})
    path = storage / STATE_KEY
    path.parent.mkdir(parents=True, exist_ok=True)
    text = snapshot.to_json()
    path.write_text(text, encoding="utf-8")
    return len(text)


def start_server(workdir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TRADING_API_TOKEN": TOKEN, "OBJECT_STORE_DIR": str(workdir / "storage"),
           "AUDIT_DIR": str(workdir / "audit"), "ENVIRONMENT": "test", "RATE_LIMIT_ORDERS": "100000/second",
           "RATE_LIMIT_READS": "100000/second", "ACCESS_LOG": "false", "LOG_LEVEL": "WARNING",
           "WS_MAX_CLIENTS": "1000"}
    env.pop("CORS_ALLOWED_ORIGINS", None)
    return subprocess.Popen([sys.executable, "-m", "api", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Connection:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
                      ) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {TOKEN}",
                 f"Content-Length: {len(body)}"]
        if body:
            lines.append("Content-Type: application/json")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def wait_ready(port: int, process: subprocess.Popen[bytes], attempts: int = 400) -> None:
    for _ in range(attempts):
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            connection = await Connection.open(port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        status, _ = await connection.request("GET", "/api/v1/health")
        connection.close()
        if status == 200:
            return
    raise SystemExit("server not ready")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def bench_state(port: int, seconds: float, rate: float | None = None) -> dict[str, float]:
    """Closed loop (each connection sends its next request when the last one is answered) or, with
    ``rate``, open loop at ``rate`` req/s in all, latency counted from each request's scheduled
    time (no coordinated omission)."""
    connections = [await Connection.open(port) for _ in range(CONCURRENCY)]
    for connection in connections:  # warm-up
        await connection.request("GET", "/api/v1/state")
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    deadline = start + seconds

    async def worker(index: int, connection: Connection) -> None:
        nonlocal errors
        sent = 0
        while time.perf_counter() < deadline:
            begin = time.perf_counter()
            if rate is not None:
                begin = start + (sent * CONCURRENCY + index) / rate
                if begin > deadline:
                    break
                await asyncio.sleep(max(0.0, begin - time.perf_counter()))
            status, _ = await connection.request("GET", "/api/v1/state")
            latencies.append(time.perf_counter() - begin)
            errors += status != 200
            sent += 1

    began = time.perf_counter()
    await asyncio.gather(*(worker(i, c) for i, c in enumerate(connections)))
    elapsed = time.perf_counter() - began
    for connection in connections:
        connection.close()
    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "p50_ms": percentile(latencies, 0.5) * 1e3,
            "p99_ms": percentile(latencies, 0.99) * 1e3, "errors": errors}


async def bench_orders(port: int, count: int) -> dict[str, float]:
    connection = await Connection.open(port)
    latencies: list[float] = []
    errors = 0
    for i in range(count):
        body = json.dumps({"actor": "bench", "actor_type": "ai_agent", "underlying": "GOOG", "right": "call",
                           "strike": 760.0, "expiry": "2016-01-15", "side": "buy", "quantity": 1,
                           "order_type": "limit", "limit_price": 12.5, "confidence": 0.6,
                           "reasoning": "benchmark"}).encode()
        begin = time.perf_counter()
        status, _ = await connection.request("POST", "/api/v1/orders", body, {"Idempotency-Key": f"bench-{i}"})
        latencies.append(time.perf_counter() - begin)
        errors += status != 202
    connection.close()
    return {"requests": count, "p50_ms": statistics.median(latencies) * 1e3,
            "p99_ms": percentile(latencies, 0.99) * 1e3, "errors": errors}


async def ws_clients(port: int) -> dict[str, float]:
    import websockets

    async def one(i: int) -> bool:
        async with websockets.connect(f"ws://127.0.0.1:{port}/api/v1/ws", open_timeout=30) as ws:
            await ws.send(json.dumps({"type": "auth", "token": TOKEN}))
            ok = json.loads(await asyncio.wait_for(ws.recv(), 30)) == {"type": "auth_ok"}
            if i % 2:  # half drop without a closing handshake
                ws.transport.abort()
            return ok

    async def server_count() -> int:
        connection = await Connection.open(port)
        _, body = await connection.request("GET", "/api/v1/health")
        connection.close()
        return int(json.loads(body)["websocket_clients"])

    began = time.perf_counter()
    results = await asyncio.gather(*(one(i) for i in range(WS_CLIENTS)), return_exceptions=True)
    connected = sum(r is True for r in results)
    remaining = await server_count()
    for _ in range(100):  # the server notices aborted sockets asynchronously: bounded wait
        if remaining == 0:
            break
        await asyncio.sleep(0.05)
        remaining = await server_count()
    return {"clients": WS_CLIENTS, "authenticated": connected, "seconds": time.perf_counter() - began,
            "clients_left_on_server": remaining}


def write_scale_data(workdir: Path, requests: int, audit_lines: int) -> None:
    """``requests`` inbox requests (written directly, without fsync: set-up, not measured) and
    ``audit_lines`` sidecar audit lines over five days."""
    from utils.order_inbox import INBOX_PREFIX, InboxAction, InboxRequest, OrderSpec, derive_request_id

    inbox = workdir / "storage" / INBOX_PREFIX
    inbox.mkdir(parents=True, exist_ok=True)
    start = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
    spec = OrderSpec(underlying="GOOG", right="call", strike=760.0, expiry=datetime(2016, 1, 15).date(), side="buy",
                     quantity=1, order_type="limit", limit_price=12.5, confidence=0.6, reasoning="benchmark")
    for i in range(requests):
        key = f"scale-{i}"
        action = InboxAction.HALT if i % 100 == 0 else InboxAction.SUBMIT
        request = InboxRequest(derive_request_id(key), key, start + timedelta(seconds=i), "bench", "ai_agent", action,
                               order=spec if action is InboxAction.SUBMIT else None,
                               reason="bench" if action is InboxAction.HALT else None)
        (inbox / f"{request.request_id}.json").write_text(request.to_json())
    audit_dir = workdir / "audit"
    audit_dir.mkdir(parents=True, exist_ok=True)
    per_day = -(-audit_lines // 5)
    for day in range(5):
        moment = start + timedelta(days=day - 5)
        with (audit_dir / f"audit_{moment.date().isoformat()}.jsonl").open("w", encoding="utf-8") as handle:
            for i in range(min(per_day, audit_lines - day * per_day)):
                stamp = (moment + timedelta(microseconds=i * 80_000)).isoformat()
                action = ("order.submit", "auth.failed", "system.manual_intervention")[i % 3]
                handle.write(f'{{"id":"{day:02d}{i:010d}","timestamp":"{stamp}","action":"{action}",'
                             f'"description":"bench entry","actor":"bench","actor_type":"human",'
                             f'"resource_type":"order_request","resource_id":"r{i}","before_state":null,'
                             f'"after_state":null,"reason":null,"ip_address":"127.0.0.1","session_id":null,'
                             f'"correlation_id":"req_{day}_{i // 4}","metadata":{{}}}}\n')


async def bench_reads(port: int, path: str, count: int) -> dict[str, float]:
    connection = await Connection.open(port)
    began = time.perf_counter()
    status, _ = await connection.request("GET", path)  # the first read waits for the index
    first = time.perf_counter() - began
    latencies, errors = [], int(status != 200)
    for _ in range(count):
        begin = time.perf_counter()
        status, _ = await connection.request("GET", path)
        latencies.append(time.perf_counter() - begin)
        errors += status != 200
    connection.close()
    return {"first_s": first, "p50_ms": statistics.median(latencies) * 1e3,
            "p99_ms": percentile(latencies, 0.99) * 1e3, "errors": errors}


async def run_scale(requests: int, audit_lines: int) -> int:
    memory = "/dev/shm" if Path("/dev/shm").is_dir() else None  # set-up and clean-up of 100k files in RAM
    with tempfile.TemporaryDirectory(prefix="bench_api_scale_", dir=memory) as tmp:
        workdir = Path(tmp)
        began = time.perf_counter()
        write_scale_data(workdir, requests, audit_lines)
        print(f"scale data: {requests} inbox requests, {audit_lines} audit lines written in "
              f"{time.perf_counter() - began:.1f} s")
        port = free_port()
        server = start_server(workdir, port)
        try:
            await wait_ready(port, server, attempts=6000)
            orders = await bench_reads(port, "/api/v1/orders?limit=50", 300)
            audit = await bench_reads(port, "/api/v1/audit?limit=100", 300)
            deep = await bench_reads(port, "/api/v1/audit?limit=100&offset=500000&action=order.submit", 100)
            rss = rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=60)
    for name, figures, goal in (("GET /api/v1/orders?limit=50", orders, 10), ("GET /api/v1/audit?limit=100", audit, 20),
                                ("GET /api/v1/audit (offset 500k, action filter)", deep, 20)):
        print(f"{name}: p50 {figures['p50_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms (goal p99 <= {goal} ms), "
              f"first read (index build) {figures['first_s']:.2f} s, errors {figures['errors']:.0f}")
    print(f"RSS with the indexes: {rss:.1f} MB")
    return 0 if orders["errors"] == audit["errors"] == deep["errors"] == 0 else 1


async def run(seconds: float) -> int:
    with tempfile.TemporaryDirectory(prefix="bench_api_") as tmp:
        workdir = Path(tmp)
        snapshot_bytes = write_snapshot(workdir / "storage")
        port = free_port()
        server = start_server(workdir, port)
        try:
            await wait_ready(port, server)
            await asyncio.sleep(1.0)  # let start-up settle before measuring idle memory
            idle = rss_mb(server.pid)
            state = await bench_state(port, seconds)
            paced = await bench_state(port, seconds, rate=PACED_RATE)
            orders = await bench_orders(port, 300)
            ws = await ws_clients(port)
            after = rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"snapshot size: {snapshot_bytes / 1024:.1f} KiB")
    print(f"idle RSS: {idle:.1f} MB (goal < 120 MB); after the runs: {after:.1f} MB")
    print(f"GET /api/v1/state x{CONCURRENCY}: {state['requests']:.0f} requests, {state['rps']:.0f} req/s, "
          f"p50 {state['p50_ms']:.2f} ms, p99 {state['p99_ms']:.2f} ms, errors {state['errors']:.0f} "
          "(closed loop: as fast as the server answers)")
    print(f"GET /api/v1/state x{CONCURRENCY} paced at {PACED_RATE:.0f} req/s: {paced['rps']:.0f} req/s, "
          f"p50 {paced['p50_ms']:.2f} ms, p99 {paced['p99_ms']:.2f} ms, errors {paced['errors']:.0f} "
          "(goal p99 < 10 ms at >= 2,000 req/s)")
    print(f"POST /api/v1/orders durable ack: {orders['requests']:.0f} requests, p50 {orders['p50_ms']:.2f} ms, "
          f"p99 {orders['p99_ms']:.2f} ms, errors {orders['errors']:.0f} (goal p99 < 20 ms)")
    print(f"WebSocket: {ws['clients']:.0f} clients, {ws['authenticated']:.0f} authenticated, "
          f"{ws['seconds']:.2f} s, clients left on the server: {ws['clients_left_on_server']:.0f} (goal 0)")
    clean = state["errors"] == paced["errors"] == orders["errors"] == ws["clients_left_on_server"] == 0
    return 0 if clean else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of the GET /state run (max 60)")
    parser.add_argument("--requests", type=int, default=100_000, help="inbox requests for the order-list run")
    parser.add_argument("--audit-lines", type=int, default=1_000_000, help="audit lines for the audit run")
    parser.add_argument("--scale-only", action="store_true", help="only the order-list and audit runs")
    args = parser.parse_args()
    status = 0 if args.scale_only else asyncio.run(run(min(max(args.seconds, 1.0), 60.0)))
    return status or asyncio.run(run_scale(min(max(args.requests, 1), 200_000),
                                           min(max(args.audit_lines, 1), 2_000_000)))


if __name__ == "__main__":
    sys.exit(main())
