"""50 parallel submissions with one idempotency key against a real server (uvicorn on 127.0.0.1):
one inbox request, one ORDER_SUBMIT audit entry, the same answer for everyone (issue 15 keeps it)."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from models.audit import AuditAction
from tests.test_api_kill9 import free_port, sidecar
from tests.test_api_support import AUTH, inbox_files, order_body
from utils.audit_reader import read_file_trail

PARALLEL = 50


def test_parallel_duplicates_make_one_request_and_one_audit_entry(tmp_path: Path) -> None:
    port = free_port()
    answers: list[httpx.Response] = []
    start = threading.Barrier(PARALLEL)

    def submit() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=AUTH, timeout=30.0) as client:
            start.wait()
            answers.append(client.post("/api/v1/orders", headers={"Idempotency-Key": "dup-burst"},
                                       json=order_body()))

    with sidecar(tmp_path, port):
        threads = [threading.Thread(target=submit) for _ in range(PARALLEL)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert len(answers) == PARALLEL and {r.status_code for r in answers} == {202}
    assert len({r.json()["request_id"] for r in answers}) == 1
    assert sum(not r.json()["replayed"] for r in answers) == 1
    assert len(inbox_files(tmp_path / "storage")) == 1
    submits = [e for e in read_file_trail(tmp_path / "audit").entries if e.action is AuditAction.ORDER_SUBMIT]
    assert len(submits) == 1
