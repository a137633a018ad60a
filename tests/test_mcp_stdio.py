"""``python -m mcp_servers`` over stdio, driven by the SDK's own stdio client (as a desktop agent
client runs it): the agent is named by MCP_AGENT_TOKEN; tools and resources work; a proposal made
here is approved through the sidecar (they share the proposal folder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from pydantic import AnyUrl

from tests.mcp_support import ALPHA, result_json, sidecar, write_policy
from tests.test_api_support import inbox_files, write_snapshot

REPO = Path(__file__).resolve().parent.parent
ORDER = {"underlying": "GOOG", "right": "put", "strike": 720.0, "expiry": "2016-01-22", "side": "buy",
         "quantity": 1, "order_type": "limit", "limit_price": 9.5, "confidence": 0.8, "reasoning": "cover one"}


def params(tmp_path: Path, token: str) -> StdioServerParameters:
    env = {**os.environ, "MCP_AGENT_TOKEN": token, "MCP_AGENT_POLICY_FILE": str(tmp_path / "agents.json"),
           "OBJECT_STORE_DIR": str(tmp_path / "storage"), "AUDIT_DIR": str(tmp_path / "audit"),
           "MCP_PROPOSALS_DIR": str(tmp_path / "proposals"), "LOG_LEVEL": "WARNING"}
    return StdioServerParameters(command=sys.executable, args=["-m", "mcp_servers"], env=env, cwd=str(REPO))


async def session_run(tmp_path: Path) -> dict[str, Any]:
    with (tmp_path / "stderr.log").open("w") as errlog:
        async with stdio_client(params(tmp_path, ALPHA), errlog=errlog) as (read, write), \
                ClientSession(read, write) as session:
            init = await session.initialize()
            tools = await session.list_tools()
            positions = result_json(await session.call_tool("get_positions", {}))
            limits = await session.read_resource(AnyUrl("bot://risk/limits"))
            proposal = result_json(await session.call_tool("propose_order", ORDER))
            bad = await session.call_tool("propose_order", {**ORDER, "strike": "high"})
            after = await session.call_tool("get_proposal", {"proposal_id": proposal["proposal_id"]})
    return {"init": init, "tools": tools, "positions": positions, "limits": limits, "proposal": proposal,
            "bad": bad, "after": result_json(after)}


def test_a_desktop_client_lists_reads_and_proposes_over_stdio_and_a_person_approves(tmp_path: Path,
                                                                                     monkeypatch: Any) -> None:
    write_policy(tmp_path)
    write_snapshot(tmp_path / "storage")
    out = anyio.run(session_run, tmp_path)
    assert out["init"].serverInfo.name == "options-bot"
    assert out["init"].capabilities.resources.subscribe is True
    assert len(out["tools"].tools) == 11
    assert [p["id"] for p in out["positions"]["positions"]] == ["P00001"]
    assert json.loads(out["limits"].contents[0].text)["meta"]["available"] is True
    assert out["proposal"]["status"] == "pending" and out["after"]["status"] == "pending"
    assert out["bad"].isError
    with sidecar(tmp_path, monkeypatch, snapshot=False) as server:  # same folders: the person approves
        approved = server.approve(out["proposal"])
    assert approved.status_code == 200
    assert [p.stem for p in inbox_files(tmp_path / "storage")] == [out["proposal"]["correlation_id"]]


def test_the_stdio_server_refuses_to_start_without_a_known_agent_token(tmp_path: Path) -> None:
    write_policy(tmp_path)
    env = params(tmp_path, "not-a-token").env
    done = subprocess.run([sys.executable, "-m", "mcp_servers"], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode != 0 and "MCP_AGENT_TOKEN" in done.stderr
    assert "not-a-token" not in done.stderr
