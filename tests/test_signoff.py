"""The paper-trading sign-off (reports/signoff.py) from a live Object Store folder: a clean live
session with a restart passes; an order without an outcome, an unmatched fill, a slippage breach
and a backtest folder each fail with the evidence named."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.runner import run
from models.audit import AuditAction, AuditEntry
from reports.signoff import main, run_checks


@pytest.fixture(scope="module")
def live_storage(tmp_path_factory) -> Path:
    storage = tmp_path_factory.mktemp("live") / "storage"
    run(days=1, start=None, seed=7, storage=storage, overrides={}, live_mode=True)
    # a restart the next session, on the same Object Store
    run(days=1, start=datetime(2015, 12, 24).date(), seed=7, storage=storage, overrides={}, live_mode=True)
    return storage


def by_name(checks):
    return {c.name.split(" ")[0] + " " + c.name.split(" ")[1]: c for c in checks}


def test_a_clean_live_session_with_a_restart_passes_the_order_fill_and_restart_checks(live_storage):
    checks, _ = run_checks(live_storage)
    named = by_name(checks)

    assert named["Live (paper)"].passed
    assert named["Every order"].passed, named["Every order"].evidence
    assert named["No unmatched"].passed and named["No risk-limit"].passed
    restarts = named["Restarts reconciled"]
    assert restarts.passed and restarts.evidence[0] == "1 restarts"
    assert restarts.evidence[1].startswith("restart at 2015-12-24")
    assert named["Audit trail"].passed


def append_chunk(storage: Path, *entries: AuditEntry) -> None:
    day = entries[0].timestamp.date().isoformat()
    path = storage / "options_bot" / "audit" / day / "chunk_999999.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(e.to_json() + "\n" for e in entries), encoding="utf-8")


def entry(action: AuditAction, resource_id: str, **fields) -> AuditEntry:
    return AuditEntry(timestamp=datetime(2015, 12, 24, 20, 0, tzinfo=UTC), action=action,
                      description=f"test {resource_id}", actor="system", actor_type="system",
                      resource_type="order", resource_id=resource_id, **fields)


def test_an_order_without_outcome_an_unmatched_fill_and_a_breach_fail_with_evidence(live_storage, tmp_path, capsys):
    storage = tmp_path / "storage"
    shutil.copytree(live_storage, storage)
    append_chunk(storage,
                 entry(AuditAction.ORDER_SUBMIT, "C777777", after_state={"symbol": "GOOG  160122P00700000",
                                                                          "quantity": -2, "purpose": "entry"}),
                 entry(AuditAction.ORDER_EVENT_UNMATCHED, "42"),
                 entry(AuditAction.SLIPPAGE_BUDGET_BREACH, "C777777"))
    out = tmp_path / "signoff.md"

    assert main(["--storage", str(storage), "--out", str(out)]) == 1

    sheet = out.read_text(encoding="utf-8")
    assert sheet.startswith("# Paper-trading sign-off: FAIL")
    assert "order C777777: submitted -2, filled +0, no rejection, not working" in sheet
    assert "order.event_unmatched: test 42" in sheet
    assert "risk.slippage_budget_breach: test C777777" in sheet
    assert "| Risk: risk management verified |" in sheet
    printed = capsys.readouterr().out
    assert "FAIL  Every order accounted for from request to fill" in printed
    assert "FAIL  No unmatched fill and no component failure" in printed


def test_a_backtest_folder_is_not_a_paper_session(tmp_path):
    storage = tmp_path / "storage"
    run(days=1, start=None, seed=7, storage=storage, overrides={})
    checks, _ = run_checks(storage)
    live = by_name(checks)["Live (paper)"]
    assert not live.passed and "snapshot mode: backtest" in live.evidence


def test_an_empty_folder_fails_clearly_instead_of_crashing(tmp_path):
    checks, data = run_checks(tmp_path / "nothing")
    assert not all(c.passed for c in checks)
    assert any("no such folder" in p for p in data.problems)
