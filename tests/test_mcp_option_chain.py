"""``get_option_chain`` reads the chain slice the algorithm publishes in its state snapshot (issue 16):
contracts around the money of the expiries its filter sees, bounded, with quotes and Greeks; the
tool filters them by expiry and |delta|. A snapshot without a chain still parses, and the tool says so."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import anyio

from execution.session.chain_slice import CHAIN_SLICE_LIMIT, compact_chain
from harness.lean_run import run_lean
from harness.runner import REPO_ROOT, load_algorithm_class, load_parameters, run
from models.bot_config import Right
from models.market_data import ContractQuote
from tests.lean_data_paths import LEAN_DATA, needs_lean_data
from tests.mcp_support import ALPHA, mcp_session, result_json, sidecar
from tests.test_api_support import make_snapshot
from utils.object_store_schema import STATE_KEY, parse_state_snapshot

NOW = datetime(2015, 12, 23, 11, 0)
AS_OF = datetime(2015, 12, 23, 16, 0, tzinfo=UTC)
EXPIRIES = (date(2015, 12, 31), date(2016, 1, 15), date(2016, 2, 19))


def quote(right: Right, strike: float, expiry: date, delta: float = 0.0, iv: float = 0.0) -> ContractQuote:
    kind = "C" if right == Right.CALL else "P"
    return ContractQuote(f"GOOG  {expiry:%y%m%d}{kind}{int(strike * 1000):08d}", right, strike, expiry,
                         bid=5.0, ask=5.4, open_interest=100.0, iv=iv, delta=delta, vega=0.4 if delta else 0.0)


def chain_of(strikes: range) -> list[ContractQuote]:
    return [quote(right, float(k), expiry, delta=0.5 if right == Right.CALL else -0.5, iv=0.3)
            for expiry in EXPIRIES for k in strikes for right in (Right.CALL, Right.PUT)]


def chain_tool(url: str, args: dict[str, Any]) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        async with mcp_session(url, ALPHA) as session:
            return result_json(await session.call_tool("get_option_chain", args))
    return anyio.run(go)


def test_the_slice_is_bounded_keeps_every_expiry_and_the_strikes_nearest_the_money() -> None:
    quotes = chain_of(range(500, 1000, 5))  # 100 strikes x 2 rights x 3 expiries = 600 contracts

    sliced = compact_chain(quotes, 752.0, NOW, AS_OF, rate=0.01)

    assert sliced.chain_size == 600 and len(sliced.contracts) == CHAIN_SLICE_LIMIT
    by_expiry: dict[str, list[float]] = {}
    for contract in sliced.contracts:
        by_expiry.setdefault(contract.expiry, []).append(contract.strike)
    assert sorted(by_expiry) == [e.isoformat() for e in EXPIRIES]
    for strikes in by_expiry.values():  # 66 each: the 33 strikes nearest 752, call and put
        assert len(strikes) >= 66 and max(abs(k - 752.0) for k in strikes) <= 85.0
        assert strikes.count(750.0) == 2
    first = sliced.contracts[0]
    assert first.mark == 5.2 and first.open_interest == 100 and first.greeks_source == "market"


def test_contracts_without_lean_greeks_get_a_black_scholes_delta_from_the_mid() -> None:
    quotes = [quote(Right.PUT, 700.0, date(2016, 1, 15)), quote(Right.CALL, 800.0, date(2016, 1, 15))]

    sliced = compact_chain(quotes, 750.0, NOW, AS_OF, rate=0.01)

    put, call = sorted(sliced.contracts, key=lambda c: c.right, reverse=True)
    assert put.greeks_source == call.greeks_source == "calculated"
    assert put.delta is not None and -0.5 < put.delta < 0 and call.delta is not None and 0 < call.delta < 0.5
    assert put.iv is not None and put.iv > 0 and put.vega is not None and put.vega > 0


def test_a_snapshot_without_a_chain_still_parses_and_a_chain_round_trips() -> None:
    old = make_snapshot().to_dict()
    del old["option_chain"]  # written before the field existed
    assert parse_state_snapshot(json.dumps(old)).option_chain is None

    sliced = compact_chain(chain_of(range(740, 760, 5)), 750.0, NOW, AS_OF, rate=0.01)
    again = parse_state_snapshot(json.dumps({**old, "option_chain": sliced.to_dict()})).option_chain
    assert again == sliced


def test_the_tool_says_when_the_snapshot_has_no_chain(tmp_path: Path, monkeypatch: Any) -> None:
    with sidecar(tmp_path, monkeypatch, snapshot=make_snapshot()) as server:
        answer = chain_tool(server.mcp_url, {})
    assert answer["source"] == "positions" and "no option chain" in answer["note"]
    assert [c["symbol"] for c in answer["contracts"]] == ["GOOG  160122P00720000"]


def test_the_harness_chain_reaches_the_tool_filtered_by_expiry_and_delta(tmp_path: Path, monkeypatch: Any) -> None:
    storage = tmp_path / "storage"
    run(days=1, start=None, seed=7, storage=storage, overrides={"entry_enabled": "false"})
    stored = parse_state_snapshot((storage / STATE_KEY).read_text()).option_chain
    assert stored is not None and 0 < len(stored.contracts) <= CHAIN_SLICE_LIMIT
    expiry = sorted({c.expiry for c in stored.contracts})[2]

    with sidecar(tmp_path, monkeypatch, snapshot=False) as server:
        whole = chain_tool(server.mcp_url, {})
        picked = chain_tool(server.mcp_url, {"expiry": expiry, "min_abs_delta": 0.2, "max_abs_delta": 0.4})

    assert whole["source"] == "chain" and len(whole["contracts"]) == len(stored.contracts)
    assert whole["contracts"][0].keys() >= {"symbol", "right", "strike", "expiry", "bid", "ask", "mark", "delta",
                                            "vega", "iv", "open_interest"}
    assert picked["contracts"] and {c["expiry"] for c in picked["contracts"]} == {expiry}
    assert all(0.2 <= abs(c["delta"]) <= 0.4 for c in picked["contracts"])
    assert {c["right"] for c in picked["contracts"]} == {"call", "put"}
    expected = [c.symbol for c in stored.contracts
                if c.expiry == expiry and c.delta is not None and 0.2 <= abs(c.delta) <= 0.4]
    assert [c["symbol"] for c in picked["contracts"]] == expected


@needs_lean_data
def test_the_chain_of_leans_goog_sample_reaches_the_tool(tmp_path: Path, monkeypatch: Any) -> None:
    parameters = {**load_parameters(REPO_ROOT / "config.json"), "end_date": "2015-12-23"}
    run_lean(load_algorithm_class(), LEAN_DATA, tmp_path / "storage", parameters)
    snapshot = parse_state_snapshot((tmp_path / "storage" / STATE_KEY).read_text())
    assert snapshot.option_chain is not None and snapshot.option_chain.contracts
    spot = snapshot.option_chain.underlying_price
    assert spot is not None and 700 < spot < 800

    with sidecar(tmp_path, monkeypatch, snapshot=False) as server:
        answer = chain_tool(server.mcp_url, {"min_abs_delta": 0.3, "max_abs_delta": 0.7})

    assert answer["source"] == "chain" and answer["contracts"]
    assert all(c["symbol"].startswith("GOOG") and 0.3 <= abs(c["delta"]) <= 0.7 for c in answer["contracts"])
    assert all(abs(c["strike"] - spot) < 100 for c in answer["contracts"])  # around the money
    assert answer["expiries"] == sorted({c.expiry for c in snapshot.option_chain.contracts})
    assert {c["greeks_source"] for c in answer["contracts"]} <= {"market", "calculated"}

