"""Hypothesis-generated inbox files (issue 15): random bytes, deep nesting, huge or non-finite
numbers, wrong types and torn copies of valid requests, next to valid ones. Whatever the mix: the
consumer's poll never raises, every file gets exactly one outcome, every valid request is acted on
(halts first), and the sidecar lists and shows every file (no 5xx, nothing accepted lost)."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from api.app import create_app
from execution.orders.inbox_consumer import InboxConsumer
from harness.object_store import ObjectStore
from services.order_queue import OrderQueue
from tests.test_api_support import AUTH, TestClient, make_settings, order_body
from utils.audit_logger import AuditLogger, MemoryAuditSink
from utils.order_inbox import (
    InboxAction,
    InboxRequest,
    OrderSpec,
    OutcomeStatus,
    derive_request_id,
    inbox_key,
    outcome_key,
    read_outcome,
    write_request_atomically,
)

NOW = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def valid(key: str, action: InboxAction = InboxAction.SUBMIT, minutes: int = 0) -> InboxRequest:
    spec = OrderSpec(underlying="SPY", right="put", strike=400.0, expiry=date(2026, 2, 20), side="sell", quantity=1,
                     order_type="market", limit_price=None, confidence=0.5, reasoning="fuzz")
    return InboxRequest(derive_request_id(key), key, NOW + timedelta(minutes=minutes), "agent:fuzz", "ai_agent",
                        action, order=spec if action is InboxAction.SUBMIT else None,
                        reason=None if action is InboxAction.SUBMIT else "fuzz")


VALID_DOC = valid("template").to_dict()
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                      max_size=3), max_leaves=10)


def _mutated(field: str, value: Any) -> bytes:
    doc = json.loads(json.dumps(VALID_DOC))
    target = doc["order"] if field in doc["order"] else doc
    target[field] = value
    return json.dumps(doc, allow_nan=True).encode("utf-8", errors="surrogatepass")


FIELDS = sorted(set(VALID_DOC) | set(VALID_DOC["order"]))
POISON = st.one_of(
    st.binary(max_size=300),
    st.integers(min_value=500, max_value=150_000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(min_value=500, max_value=150_000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.integers(min_value=4_300, max_value=20_000).map(lambda n: b'{"schema_version": 1' + b"0" * n + b"}"),
    st.tuples(st.sampled_from(FIELDS), JSON_VALUES | st.sampled_from([10 ** 400, float("nan"), float("inf"),
                                                                      "\ud800", True, "3", 2.0])).map(
        lambda pair: _mutated(*pair)),
    st.integers(min_value=1, max_value=len(valid("template").to_json()) - 1).map(
        lambda cut: valid("template").to_json().encode()[:cut]),
)


class Bot:
    """The narrow part of TradingBot the consumer uses: records what it was asked to do."""

    def __init__(self) -> None:
        self.audit = AuditLogger(clock=lambda: NOW, sinks=[MemoryAuditSink()])
        self.config = SimpleNamespace(ticker="SPY")
        self.actions: list[str] = []
        self.entries_suspended = False
        self.breaker = SimpleNamespace(halt=lambda *a: self.actions.append("halt"),
                                       reset=lambda *a: self.actions.append("resume"))

    def submit_external(self, request_id: str, *args: object) -> Any:
        self.actions.append(f"submit:{request_id}")
        return SimpleNamespace(rejected=False, lean_order_ids=[1], rejection=None)

    def cancel_external(self, request_id: str) -> bool:
        self.actions.append(f"cancel:{request_id}")
        return True


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(poison=st.lists(POISON, min_size=1, max_size=4))
@example(poison=[valid("misfiled").to_json().encode(), b"[" * 100_000 + b"]" * 100_000, b"\xff"])
def test_no_mix_of_poison_files_stops_the_consumer_or_the_sidecar_reader(poison: list[bytes]) -> None:
    with tempfile.TemporaryDirectory(prefix="inbox_fuzz_") as tmp:
        root = Path(tmp)
        orders = [valid(f"ok-{i}", minutes=i) for i in range(2)]
        halt = valid("halt", InboxAction.HALT, minutes=5)
        for request in (*orders, halt):
            assert write_request_atomically(root, request)
        poison_ids = [f"req_poison{i}" for i in range(len(poison))]
        for request_id, data in zip(poison_ids, poison, strict=True):
            (root / inbox_key(request_id)).write_bytes(data)

        bot = Bot()
        consumer = InboxConsumer(ObjectStore(root), bot, lambda spec: object(), lambda: NOW)  # type: ignore[arg-type]
        consumer.poll()
        assert consumer.poll() == 0  # nothing left, nothing acted on twice

        assert bot.actions[0] == "halt"
        assert sorted(bot.actions[1:]) == sorted(f"submit:{r.request_id}" for r in orders)
        for request in orders:
            assert read_outcome((root / outcome_key(request.request_id)).read_text()).status is OutcomeStatus.ACCEPTED
        for request_id in poison_ids:  # a whole request under another request's key is misfiled: unreadable too
            outcome = read_outcome((root / outcome_key(request_id)).read_text())
            assert outcome.status is OutcomeStatus.UNREADABLE and outcome.reasons

        queue = OrderQueue(root)
        total, items = queue.page(0, 50)
        assert total == len(poison) + 3 and len(items) == total
        for request_id in poison_ids:
            record = queue.record(request_id)
            assert record is not None and record["state"] == "unreadable" and record["request"] is None

        with TestClient(create_app(make_settings(root, object_store_dir=root))) as client:
            responses = [client.get("/api/v1/orders?limit=50", headers=AUTH),
                         *(client.get(f"/api/v1/orders/{rid}", headers=AUTH) for rid in poison_ids),
                         client.post("/api/v1/orders", headers={**AUTH, "Idempotency-Key": "ok-0"},
                                     json=order_body(underlying="SPY"))]
        assert all(r.status_code < 500 for r in responses)
        assert responses[0].json()["total"] == len(poison) + 3
