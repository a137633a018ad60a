"""MCP server benchmark (loopback only, bounded): prints figures, exits 0.

Starts the sidecar (``python -m api``, which mounts MCP at /mcp) on 127.0.0.1 with a temporary
Object Store holding a realistic snapshot and two agents, then with the SDK's own client over
streamable HTTP:

- ``get_positions`` round trip at 1 and at 32 concurrent sessions: p50/p99 (goal: p99 <= 15 ms at 32),
  back to back (each session calls again as soon as it has its answer) and paced (5 calls/s each),
- proposal -> inbox: autonomous mode (``propose_order`` within budget until the inbox file exists)
  and manual mode (``POST /api/v1/proposals/{id}/approve`` until the inbox file exists).

The client runs in this process (one core's worth of Python); the figures include its cost. The
CPU per call of server and client bounds what is reachable: with N calls in flight back to back on
C cores, a round trip averages at least N x (server + client CPU per call) / C (Little's law), which
the last figure prints for N = 32 and the machine's cores.
Usage: ``python bench/bench_mcp.py [--calls 200]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_api import free_port, write_snapshot  # noqa: E402
from models.agent_policy import hash_token  # noqa: E402
from tests.mcp_support import mcp_session  # noqa: E402
from utils.order_inbox import INBOX_PREFIX  # noqa: E402

API_TOKEN = "bench_" + "Qm4Lx9Tz2Rv7Kp1Wn8Yc3Hd6Jf0Gs5Ab"
AGENT_TOKEN = "bench_agent_" + "Zr5Wq2Ls8Nd4Kc7Vb1Xm"
SESSIONS = 32
PACED_RATE = 5.0  # calls per second per session: an agent thinking between calls
AN_ORDER = {"underlying": "GOOG", "right": "call", "strike": 760.0, "expiry": "2016-01-15", "side": "buy",
            "quantity": 1, "order_type": "limit", "limit_price": 1.5, "confidence": 0.7, "reasoning": "bench"}


def start(workdir: Path, port: int, mode: str) -> subprocess.Popen[bytes]:
    policy = workdir / f"agents-{mode}.json"
    budget = {"orders_per_day": 100_000, "contracts_per_order": 10, "premium_at_risk_per_day": 1e9,
              "allowed_actions": ["open", "close", "roll"], "allowed_underlyings": ["GOOG"]}
    policy.write_text(json.dumps({"approval_mode": mode, "agents": [
        {"name": "bench", "token_sha256": hash_token(AGENT_TOKEN), "budget": budget}]}))
    env = {**os.environ, "TRADING_API_TOKEN": API_TOKEN, "OBJECT_STORE_DIR": str(workdir / "storage"),
           "AUDIT_DIR": str(workdir / f"audit-{mode}"), "MCP_AGENT_POLICY_FILE": str(policy),
           "MCP_PROPOSALS_DIR": str(workdir / f"proposals-{mode}"), "ENVIRONMENT": "test", "LOG_LEVEL": "WARNING",
           "ACCESS_LOG": "false", "RATE_LIMIT_ORDERS": "100000/minute", "RATE_LIMIT_READS": "1000000/minute"}
    env.pop("CORS_ALLOWED_ORIGINS", None)
    return subprocess.Popen([sys.executable, "-m", "api", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_ready(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("the sidecar did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), to tell the server's cost from the client's."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def round_trips(url: str, sessions: int, calls: int, rate: float | None = None) -> list[float]:
    """Each session calls ``calls`` times, back to back (closed loop) or ``rate`` calls per second."""
    times: list[float] = []

    async def one_session() -> None:
        async with mcp_session(url, AGENT_TOKEN) as session:
            await session.call_tool("get_positions", {})  # warm-up
            next_at = time.perf_counter()
            for _ in range(calls):
                if rate:
                    next_at += 1 / rate
                    await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                started = time.perf_counter()
                result = await session.call_tool("get_positions", {})
                times.append(time.perf_counter() - started)
                assert not result.isError

    await asyncio.gather(*(one_session() for _ in range(sessions)))
    return times


def inbox_count(workdir: Path) -> int:
    folder = workdir / "storage" / INBOX_PREFIX
    return len(list(folder.glob("*.json"))) if folder.is_dir() else 0


async def proposal_latency(url: str, base: str, workdir: Path, mode: str, n: int) -> list[float]:
    times: list[float] = []
    async with mcp_session(url, AGENT_TOKEN) as session, httpx.AsyncClient(
            headers={"Authorization": f"Bearer {API_TOKEN}"}) as http:
        for i in range(n):
            before = inbox_count(workdir)
            order = {**AN_ORDER, "strike": 700.0 + i}
            started = time.perf_counter()
            proposal: Any = (await session.call_tool("propose_order", order)).structuredContent
            if mode == "manual":
                started = time.perf_counter()  # a person's think time is not the system's
                response = await http.post(f"{base}/api/v1/proposals/{proposal['proposal_id']}/approve",
                                           json={"order_digest": proposal["order_digest"], "approver": "ops:bench"})
                assert response.status_code == 200, response.text
            while inbox_count(workdir) == before:
                await asyncio.sleep(0.0005)
            times.append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200, help="calls per session at 1 session (32 sessions: /8)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-mcp-") as folder:
        workdir = Path(folder)
        write_snapshot(workdir / "storage")
        for mode in ("autonomous", "manual"):
            port = free_port()
            server = start(workdir, port, mode)
            try:
                wait_ready(port)
                url, base = f"http://127.0.0.1:{port}/mcp", f"http://127.0.0.1:{port}"
                if mode == "autonomous":
                    one = asyncio.run(round_trips(url, 1, args.calls))
                    cpu_before, client_before = cpu_seconds(server.pid), own_cpu_seconds()
                    many = asyncio.run(round_trips(url, SESSIONS, max(10, args.calls // 8)))
                    requests = len(many) + SESSIONS * 3
                    server_ms = (cpu_seconds(server.pid) - cpu_before) * 1000 / requests
                    client_ms = (own_cpu_seconds() - client_before) * 1000 / requests
                    print(f"get_positions, 1 session:   p50 {pct(one, .5):6.2f} ms  p99 {pct(one, .99):6.2f} ms "
                          f"({len(one)} calls)")
                    print(f"get_positions, {SESSIONS} sessions back to back: p50 {pct(many, .5):6.2f} ms  "
                          f"p99 {pct(many, .99):6.2f} ms ({len(many)} calls; goal p99 <= 15 ms)")
                    print(f"CPU per MCP request (tool call or session set-up): server {server_ms:.2f} ms, "
                          f"SDK client {client_ms:.2f} ms")
                    cores = os.cpu_count() or 1
                    print(f"floor at {SESSIONS} in flight on {cores} cores (Little's law): mean round trip >= "
                          f"{SESSIONS} x {server_ms + client_ms:.2f} / {cores} = "
                          f"{SESSIONS * (server_ms + client_ms) / cores:.1f} ms; server alone (one worker): "
                          f">= {SESSIONS * server_ms:.1f} ms")
                    paced = asyncio.run(round_trips(url, SESSIONS, 20, rate=PACED_RATE))
                    print(f"get_positions, {SESSIONS} sessions at {PACED_RATE:g} calls/s each: p50 "
                          f"{pct(paced, .5):6.2f} ms  p99 {pct(paced, .99):6.2f} ms ({len(paced)} calls)")
                    print(f"load average while measuring: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
                latency = asyncio.run(proposal_latency(url, base, workdir, mode, 30))
                what = "propose_order -> inbox file" if mode == "autonomous" else "approve POST -> inbox file"
                print(f"proposal -> inbox ({mode}, {what}): p50 {pct(latency, .5):6.2f} ms  "
                      f"p99 {pct(latency, .99):6.2f} ms  mean {statistics.mean(latency) * 1000:6.2f} ms")
            finally:
                server.terminate()
                server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
