"""``run_backtest``: the offline harness (``python -m harness.runner``) in a subprocess, with a time
limit, in a temporary Object Store folder; returns the summary the runner prints as a dict."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio

from mcp_servers.base_server import ToolError
from utils.logging_config import get_logger

logger = get_logger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TIME_LIMIT = 120.0


def parse_summary(text: str) -> dict[str, str]:
    """``  label    value`` lines of the runner's summary -> {label: value}."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("  "):
            continue
        parts = line.strip().split("  ", 1)
        if len(parts) == 2:
            out[parts[0].strip()] = parts[1].strip()
    return out


async def run_backtest(args: dict[str, Any]) -> dict[str, Any]:
    limit = float(args.get("time_limit_seconds", DEFAULT_TIME_LIMIT))
    with tempfile.TemporaryDirectory(prefix="mcp-backtest-") as folder:
        command = [sys.executable, "-m", "harness.runner", "--days", str(args.get("days", 5)),
                   "--seed", str(args.get("seed", 7)), "--storage", str(Path(folder) / "storage"), "--fresh",
                   "--log-file", str(Path(folder) / "harness.log")]
        if args.get("start"):
            command += ["--start", args["start"]]
        for name, value in sorted(args.get("parameters", {}).items()):
            command += ["--param", f"{name}={value}"]
        logger.info("MCP_BACKTEST_STARTED", extra={"command": command[2:], "time_limit_seconds": limit})
        try:
            with anyio.fail_after(limit):
                done = await anyio.run_process(command, cwd=REPO_ROOT, check=False)
        except TimeoutError:
            logger.warning("MCP_BACKTEST_TIMED_OUT", extra={"time_limit_seconds": limit})
            raise ToolError(f"backtest did not finish within {limit:g} s; try fewer days") from None
    stdout, stderr = done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
    if done.returncode != 0:
        logger.warning("MCP_BACKTEST_FAILED", extra={"returncode": done.returncode, "stderr": stderr[-500:]})
        raise ToolError(f"backtest failed (exit {done.returncode}): {stderr.strip()[-500:]}")
    return {"statistics": parse_summary(stdout)}
