"""The read, risk, roll, analysis and backtest tools over HTTP with the SDK client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
from mcp import types

from tests.mcp_support import ALPHA, error_text, mcp_session, result_json, sidecar
from tests.test_api_support import inbox_files, make_position, make_snapshot, write_snapshot

RISK = {"trading_state": "active", "circuit_breaker": {"state": "active"},
        "limits": {"max_single_order_value": 50_000.0, "max_open_positions": 2, "max_abs_dollar_delta": 100_000.0,
                   "max_abs_vega": 5_000.0, "blocked_symbols": ["GME"]}}
HELD = {"underlying": "GOOG", "right": "put", "strike": 720.0, "expiry": "2016-01-22", "quantity": 1,
        "order_type": "limit", "limit_price": 10.0, "confidence": 0.6, "reasoning": "r"}


def calls(url: str, steps: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    async def go() -> list[Any]:
        async with mcp_session(url, ALPHA) as session:
            return [await session.call_tool(name, args) for name, args in steps]
    return anyio.run(go)


def test_check_order_previews_the_exposure_greeks_and_headroom_after_the_order(tmp_path: Path,
                                                                               monkeypatch: Any) -> None:
    positions = [make_position(correlation_id="req_abc")]
    with sidecar(tmp_path, monkeypatch, snapshot=make_snapshot(risk=RISK, positions=positions)) as server:
        more, cover, blocked, state, chain = calls(server.mcp_url, [
            ("check_order", {**HELD, "side": "sell"}), ("check_order", {**HELD, "side": "buy"}),
            ("check_order", {**HELD, "underlying": "GME", "side": "sell"}), ("get_risk_state", {}),
            ("get_option_chain", {"expiry": "2016-01-22", "min_abs_delta": 0.2, "max_abs_delta": 0.4})])
    more, cover = result_json(more), result_json(cover)
    assert more["passed"] and more["adds_exposure"] and more["preview"]["position_after"] == -3
    assert more["preview"]["cash_flow"] == 1000.0 and more["preview"]["credit_debit"] == "credit"
    # portfolio -9,000 + the held position's dollar delta per signed contract (-4,500 / -2) x -1 sold
    assert more["preview"]["dollar_delta_after"] == -11_250.0
    assert more["preview"]["headroom"]["max_single_order_value"] == 49_000.0
    assert more["preview"]["headroom"]["max_open_positions"] == 1.0
    assert cover["adds_exposure"] is False and cover["preview"]["position_after"] == -1
    assert not result_json(blocked)["passed"] and "blocked_symbol: GME is blocked" in result_json(blocked)["violations"]
    assert result_json(state)["trading_state"] == "active"
    assert [c["symbol"] for c in result_json(chain)["contracts"]] == ["GOOG  160122P00720000"]


def test_propose_roll_closes_then_opens_later_and_explain_position_reads_the_trail(tmp_path: Path,
                                                                                  monkeypatch: Any) -> None:
    with sidecar(tmp_path, monkeypatch, snapshot=make_snapshot(risk=RISK)) as server:
        roll, too_early, explain = calls(server.mcp_url, [
            ("propose_roll", {"position_id": "P00001", "new_expiry": "2016-02-19", "confidence": 0.8,
                              "reasoning": "more time"}),
            ("propose_roll", {"position_id": "P00001", "new_expiry": "2016-01-15", "confidence": 0.8,
                              "reasoning": "less time"}),
            ("explain_position", {"position_id": "P00001"})])
        approved = server.approve(result_json(roll))
    roll = result_json(roll)
    assert roll["status"] == "pending" and approved.status_code == 200
    request = approved.json()  # previewed as its two legs ...
    assert request["order"]["side"] == "buy" and request["legs"][0]["side"] == "sell"
    assert request["legs"][0]["expiry"] == "2016-02-19" and request["legs"][0]["quantity"] == 2
    queued = request["inbox"]["request"]  # ... queued as ONE roll request: one combo order
    assert queued["action"] == "roll" and queued["order"] is None and len(inbox_files(tmp_path / "storage")) == 1
    assert queued["roll"] == {**request["roll"], "position_id": "P00001", "side": "short", "quantity": 2,
                              "new_expiry": "2016-02-19", "new_strike": 720.0, "order_type": "market"}
    assert "after the position's expiry" in error_text(too_early)
    assert result_json(explain)["position"]["id"] == "P00001"


def test_run_backtest_returns_the_harness_statistics(tmp_path: Path, monkeypatch: Any) -> None:
    with sidecar(tmp_path, monkeypatch) as server:
        ok, slow = calls(server.mcp_url, [("run_backtest", {"days": 1, "seed": 3}),
                                          ("run_backtest", {"days": 60, "time_limit_seconds": 1})])
    stats = result_json(ok)["statistics"]
    assert stats["slices"].startswith("390") and "start equity" in stats
    assert "did not finish within 1 s" in error_text(slow)


def test_get_positions_follows_each_new_snapshot_and_its_text_is_its_structured_content(
        tmp_path: Path, monkeypatch: Any) -> None:
    """The tool serialises positions once per snapshot version: a new snapshot must still show at once."""
    async def two_reads(url: str, storage: Path) -> list[Any]:
        async with mcp_session(url, ALPHA) as session:
            first = await session.call_tool("get_positions", {})
            write_snapshot(storage, make_snapshot(positions=[make_position("P00002", quantity=-5),
                                                             make_position("P00003", status="closed")]))
            return [first, await session.call_tool("get_positions", {})]

    with sidecar(tmp_path, monkeypatch, snapshot=make_snapshot()) as server:
        first, second = anyio.run(two_reads, server.mcp_url, tmp_path / "storage")
    for result in (first, second):
        text = result.content[0]
        assert isinstance(text, types.TextContent) and json.loads(text.text) == result_json(result)
    assert [p["id"] for p in result_json(first)["positions"]] == ["P00001"]
    assert [(p["id"], p["quantity"]) for p in result_json(second)["positions"]] == [("P00002", -5)]
    assert result_json(second)["meta"]["snapshot_version"] == result_json(first)["meta"]["snapshot_version"] + 1
