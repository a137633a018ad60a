from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from models.exceptions import SnapshotFormatError
from utils.object_store_schema import (
    SCHEMA_VERSION,
    STATE_KEY,
    EquitySummary,
    PositionSnapshot,
    StateSnapshot,
    is_valid_key,
    parse_state_snapshot,
)


def make_snapshot() -> StateSnapshot:
    position = PositionSnapshot(
        id="P00001", symbol="GOOG  160122P00720000", underlying="GOOG", right="put", strike=720.0,
        expiry="2016-01-22", side="short", quantity=-2, entry_price=11.15, mark_price=10.0,
        multiplier=100.0, unrealized_pnl=230.0, realized_pnl=0.0, fees=2.0,
        opened_at="2015-12-23T09:31:00", status="open")
    return StateSnapshot(
        algorithm_time=datetime(2015, 12, 23, 15, 0, tzinfo=UTC), mode="backtest", ticker="GOOG",
        underlying_price=750.5, equity=EquitySummary(100_230.0, 102_228.0, 230.0, 2.0),
        positions=[position], counters={"fills": 1}, parameters={"ticker": "GOOG"},
        equity_history=[(datetime(2015, 12, 23, 15, 0, tzinfo=UTC), 100_230.0)])


def test_snapshot_round_trips_through_json():
    snapshot = make_snapshot()
    assert parse_state_snapshot(snapshot.to_json()) == snapshot
    assert json.loads(snapshot.to_json())["schema_version"] == SCHEMA_VERSION


def test_a_torn_snapshot_is_reported_not_half_parsed():
    text = make_snapshot().to_json()
    with pytest.raises(SnapshotFormatError, match="not valid JSON"):
        parse_state_snapshot(text[: len(text) // 2])


def test_a_newer_schema_version_is_refused():
    doc = json.loads(make_snapshot().to_json())
    doc["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(SnapshotFormatError, match="schema_version"):
        parse_state_snapshot(json.dumps(doc))


@pytest.mark.parametrize(("path", "value", "message"), [
    (("equity",), None, "equity"),
    (("positions", 0, "quantity"), "two", "quantity"),
    (("counters", "fills"), 1.5, "counter"),
    (("parameters", "ticker"), 5, "string"),
    (("algorithm_time",), "2015-12-23T15:00:00", "time zone"),
])
def test_a_field_of_the_wrong_type_names_the_field(path, value, message):
    doc = json.loads(make_snapshot().to_json())
    target = doc
    for part in path[:-1]:
        target = target[part]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    with pytest.raises(SnapshotFormatError, match=message):
        parse_state_snapshot(json.dumps(doc))


def test_unknown_fields_are_ignored_for_forward_compatibility():
    doc = json.loads(make_snapshot().to_json())
    doc["portfolio_greeks"] = {"delta": 1.0}
    doc["positions"][0]["delta"] = -0.3
    assert parse_state_snapshot(json.dumps(doc)).positions[0].quantity == -2


@pytest.mark.parametrize(("key", "valid"), [
    (STATE_KEY, True), ("options_bot/audit/2015-12-23/chunk_000001.jsonl", True), ("a/b.c.d", False),
    ("options_bot/audit/2015-12-23/chunk_000001", True), ("state.v2.json", False), ("a:b", False),
])
def test_keys_follow_leans_object_store_rule(key, valid):
    assert is_valid_key(key) is valid
