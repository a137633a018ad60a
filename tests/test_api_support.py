"""Shared helpers for the sidecar API tests (imported by tests/test_api_*.py), plus checks that the
helpers themselves build what the tests assume."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.app import create_app
from api.settings import ApiSettings, load_settings
from models.pre_trade_rules import context_to_dict
from services.gateway_dry_run import rebuilt_context
from services.risk_precheck import trading_state
from utils.object_store_schema import (
    STATE_KEY,
    ChainContract,
    EquitySummary,
    OptionChainSlice,
    PositionSnapshot,
    StateSnapshot,
    parse_state_snapshot,
)
from utils.order_inbox import INBOX_PREFIX, INBOX_TMP_PREFIX

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx; TestClient still works
    from fastapi.testclient import TestClient

TOKEN = "tok_" + "9fK2xQ7mZp4LwR8vT1nB6yH3cJ5dG0sA"  # 36 characters, test only
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class FolderStore:
    """The slice of LEAN's ObjectStore the audit sink needs, over a local storage folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, path: str, text: str) -> bool:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return True

    def read(self, path: str) -> str:
        return (self.root / path).read_text(encoding="utf-8")

    def contains_key(self, path: str) -> bool:
        return (self.root / path).exists()

    @property
    def keys(self) -> list[str]:
        return [p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()]


def make_settings(tmp_path: Path, **overrides: Any) -> ApiSettings:
    values: dict[str, Any] = {
        "trading_api_token": TOKEN, "environment": "test", "object_store_dir": tmp_path / "storage",
        "audit_dir": tmp_path / "audit", "cors_allowed_origins": "https://dash.example.com",
        "rate_limit_orders": "1000/minute", "rate_limit_reads": "10000/minute",
        "rate_limit_auth_failures": "1000/minute", "ws_poll_interval_seconds": 3600.0,
    }
    values.update(overrides)
    return load_settings(**values)


@contextmanager
def api_client(tmp_path: Path, **overrides: Any) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, **overrides)
    with TestClient(create_app(settings)) as client:
        yield client


def make_position(position_id: str = "P00001", **changes: Any) -> PositionSnapshot:
    position = PositionSnapshot(
        id=position_id, symbol="GOOG  160122P00720000", underlying="GOOG", right="put", strike=720.0,
        expiry="2016-01-22", side="short", quantity=-2, entry_price=11.15, mark_price=10.0, multiplier=100.0,
        unrealized_pnl=230.0, realized_pnl=0.0, fees=2.0, opened_at="2015-12-23T09:31:00", status="open",
        delta=-0.3, gamma=0.01, theta=-0.2, vega=0.5, rho=-0.1, iv=0.25, dollar_delta=-4500.0,
        daily_theta_decay=40.0, greeks_source="market", greeks_updated_at="2015-12-23T15:00:00+00:00")
    return replace(position, **changes)


# the chain slice a current algorithm publishes (execution/session/chain_slice.py): the contracts the tests trade
CHAIN = [ChainContract(f"GOOG  160115C00{strike}000", "call", float(strike), "2016-01-15", bid, bid + 0.2, bid + 0.1,
                       delta, 0.8, 0.3, 900, "market")
         for strike, bid, delta in ((760, 12.4, 0.45), (770, 8.4, 0.37), (780, 5.4, 0.29))] + [
         ChainContract("GOOG  160122P00720000", "put", 720.0, "2016-01-22", 9.9, 10.1, 10.0, -0.3, 0.5, 0.25, 700,
                       "market")]


def make_snapshot(risk: dict[str, Any] | None = None, positions: list[PositionSnapshot] | None = None,
                  underlying_price: float = 750.5, parameters: dict[str, str] | None = None,
                  published: bool = True) -> StateSnapshot:
    """A snapshot as a current algorithm writes it: with its chain slice and, unless ``published`` is
    False (an older algorithm) or ``risk`` brings its own, the gateway context of its positions."""
    snapshot = StateSnapshot(
        algorithm_time=datetime(2015, 12, 23, 15, 0, tzinfo=UTC), mode="backtest", ticker="GOOG",
        underlying_price=underlying_price, equity=EquitySummary(100_230.0, 102_228.0, 230.0, 2.0),
        positions=[make_position()] if positions is None else positions, counters={"fills": 1},
        parameters={"ticker": "GOOG"} if parameters is None else parameters,
        portfolio_greeks={"delta": -0.6, "dollar_delta": -9000.0, "vega": 1.0},
        risk={"reduce_only": False, "entries_suspended": False} if risk is None else dict(risk),
        option_chain=OptionChainSlice(datetime(2015, 12, 23, 15, 0, tzinfo=UTC), underlying_price, list(CHAIN),
                                      len(CHAIN)))
    if published and "gateway_context" not in snapshot.risk:
        context = rebuilt_context(snapshot, trading_state(snapshot))
        snapshot.risk["gateway_context"] = context_to_dict(context)
    return snapshot


def write_snapshot(storage: Path, snapshot: StateSnapshot | None = None, text: str | None = None) -> Path:
    path = storage / STATE_KEY
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text is not None else (snapshot or make_snapshot()).to_json(), encoding="utf-8")
    return path


DROP: Any = object()  # order_body(field=DROP) leaves the field out


def order_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "actor": "agent:alpha", "actor_type": "ai_agent", "underlying": "GOOG", "right": "call", "strike": 760.0,
        "expiry": "2016-01-15", "side": "buy", "quantity": 1, "order_type": "limit", "limit_price": 12.5,
        "confidence": 0.7, "reasoning": "call skew cheap vs realised"}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not DROP}


def inbox_files(storage: Path) -> list[Path]:
    folder = storage / INBOX_PREFIX
    return sorted(folder.glob("*")) if folder.is_dir() else []


def tmp_files(storage: Path) -> list[Path]:
    folder = storage / INBOX_TMP_PREFIX
    return sorted(folder.glob("*")) if folder.is_dir() else []


# -- the helpers' own checks ---------------------------------------------------------------------
def test_the_sample_snapshot_is_valid_for_the_shared_parser(tmp_path: Path) -> None:
    path = write_snapshot(tmp_path)
    assert parse_state_snapshot(path.read_text()).positions[0].id == "P00001"


def test_the_test_token_is_accepted_by_the_settings(tmp_path: Path) -> None:
    assert make_settings(tmp_path).trading_api_token.get_secret_value() == TOKEN
