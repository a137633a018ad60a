"""services/proposals.py: one decision per proposal (first wins), expiry, the approved digest,
ids that cannot escape the folder, and a damaged file refused instead of crashing."""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.proposals import (
    APPROVED,
    EXPIRED,
    PENDING,
    REJECTED,
    Proposal,
    ProposalRefused,
    ProposalStore,
    new_proposal,
)
from utils.order_inbox import OrderSpec

NOW = datetime(2026, 1, 2, 15, 0, tzinfo=UTC)
ORDER = OrderSpec("GOOG", "put", 720.0, date(2016, 1, 22), "buy", 1, "limit", 9.5, 0.8, "cover")


def stored(tmp_path: Path) -> tuple[ProposalStore, Proposal]:
    store = ProposalStore(tmp_path)
    proposal = new_proposal("alpha", "open", ORDER, NOW, 120, {}, {}, 950.0)
    store.save(proposal)
    return store, proposal


def test_the_first_decision_wins_and_a_second_is_refused(tmp_path: Path) -> None:
    store, proposal = stored(tmp_path)
    assert store.status(proposal, NOW) == PENDING
    store.decide(proposal, APPROVED, "ops:dana", NOW, proposal.digest)
    with pytest.raises(ProposalRefused) as again:
        store.decide(proposal, REJECTED, "ops:eve", NOW)
    assert again.value.status == 409 and "already approved by ops:dana" in str(again.value)
    assert store.status(proposal, NOW) == APPROVED


def test_expiry_and_a_different_digest_are_refused(tmp_path: Path) -> None:
    store, proposal = stored(tmp_path)
    with pytest.raises(ProposalRefused) as changed:
        store.decide(proposal, APPROVED, "ops:dana", NOW, "f" * 64)
    late = NOW + timedelta(seconds=120)
    with pytest.raises(ProposalRefused) as expired:
        store.decide(proposal, APPROVED, "ops:dana", late, proposal.digest)
    assert changed.value.status == 409 and expired.value.status == 410
    assert store.status(proposal, late) == EXPIRED


@pytest.mark.parametrize("bad_id", ["../etc/passwd", "prop_../../x", "prop_" + "a" * 80, "other_123"])
def test_ids_that_are_not_proposal_ids_are_not_found(tmp_path: Path, bad_id: str) -> None:
    with pytest.raises(ProposalRefused) as caught:
        ProposalStore(tmp_path).get(bad_id)
    assert caught.value.status == 404


def test_a_damaged_proposal_file_is_refused_not_a_crash(tmp_path: Path) -> None:
    store, proposal = stored(tmp_path)
    (tmp_path / f"{proposal.proposal_id}.json").write_text("{torn")
    with pytest.raises(ProposalRefused, match="unreadable"):
        store.get(proposal.proposal_id)


def test_concurrent_autonomous_proposals_cannot_overspend_the_budget(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from models.agent_policy import AgentBudget, AgentPolicyConfig, AgentSpec, ApprovalMode, hash_token
    from services import proposal_service
    from services.agent_runtime import build_runtime
    from tests.test_api_support import write_snapshot

    write_snapshot(tmp_path / "storage")
    runtime = build_runtime(tmp_path / "storage", tmp_path / "audit", environ={})
    agent = AgentSpec("alpha", hash_token("tok"), AgentBudget(
        orders_per_day=3, contracts_per_order=5, premium_at_risk_per_day=1e6,
        allowed_actions=frozenset({"open"}), allowed_underlyings=frozenset({"GOOG"})))
    runtime.policy = AgentPolicyConfig(approval_mode=ApprovalMode.AUTONOMOUS, agents=(agent,))
    # Every reader of the budget waits for the others (a race made certain): without the lock all 8
    # would read "0 used" and all be approved; with it the barrier breaks and they go one by one.
    barrier, read_use = threading.Barrier(8, timeout=0.5), runtime.proposals.budget_use

    def racing_use(name: str, day: datetime) -> Any:
        use = read_use(name, day)
        with contextlib.suppress(threading.BrokenBarrierError):  # serialised by the lock: nobody else comes
            barrier.wait()
        return use

    runtime.proposals.budget_use = racing_use  # type: ignore[method-assign]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: proposal_service.propose(runtime, agent, "open", ORDER), range(8)))
    assert sorted(r["status"] for r in results).count("approved") == 3
    assert read_use("alpha", datetime.now(UTC)).orders == 3
