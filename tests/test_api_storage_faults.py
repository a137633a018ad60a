"""Storage faults (issue 15) on a real small tmpfs: read-only or full storage answers 503/507 JSON
with Retry-After and stores nothing; an order whose audit entry cannot be written is not acknowledged,
and its retry (same key) writes it once. Needs root to mount; skipped with the reason otherwise."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from models.audit import AuditAction
from tests.test_api_support import AUTH, api_client, inbox_files, order_body
from utils.audit_reader import read_file_trail
from utils.order_inbox import INBOX_PREFIX


def _mount(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["mount", *args], capture_output=True, check=False)


@contextmanager
def tmpfs(path: Path, size_kb: int = 256) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (the fault tests run in CI as root)")
    path.mkdir(parents=True, exist_ok=True)
    mounted = _mount("-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(path))
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield path
    finally:
        _mount("-o", "remount,rw", str(path))
        subprocess.run(["umount", "-l", str(path)], check=False)


def read_only(path: Path) -> None:
    assert _mount("-o", "remount,ro", str(path)).returncode == 0


def fill(path: Path) -> None:
    fd = os.open(path / "ballast.bin", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 4096):
            continue
    except OSError as exc:
        assert exc.errno == 28  # ENOSPC: the tmpfs is full
    finally:
        os.close(fd)


def audited(tmp_path: Path, action: AuditAction) -> list:
    return [e for e in read_file_trail(tmp_path / "audit").entries if e.action is action]


def assert_storage_fault(response, status: int, cause: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json" and int(response.headers["retry-after"]) > 0
    assert response.json()["cause"] == cause


def test_read_only_storage_is_a_503_with_retry_after_and_reads_still_work(tmp_path: Path) -> None:
    storage = tmpfs(tmp_path / "storage")
    with storage as root:
        (root / INBOX_PREFIX).mkdir(parents=True)
        with api_client(tmp_path) as client:
            read_only(root)
            order = client.post("/api/v1/orders", headers=AUTH, json=order_body())
            halt = client.post("/api/v1/trading/halt", headers=AUTH, json={"actor": "ops", "reason": "r/o"})
            listing = client.get("/api/v1/orders", headers=AUTH)
        assert_storage_fault(order, 503, "read_only")
        assert_storage_fault(halt, 503, "read_only")
        assert listing.status_code == 200 and listing.json()["total"] == 0
        assert audited(tmp_path, AuditAction.ORDER_SUBMIT) == []


def test_full_storage_is_a_507_and_leaves_no_partial_request(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "storage", size_kb=64) as root:
        (root / INBOX_PREFIX).mkdir(parents=True)
        (root / "options_bot" / "inbox_tmp").mkdir(parents=True)
        with api_client(tmp_path) as client:
            fill(root)
            order = client.post("/api/v1/orders", headers=AUTH, json=order_body(reasoning="x" * 1500))
        assert_storage_fault(order, 507, "no_space")
        assert inbox_files(root) == [] and list((root / "options_bot" / "inbox_tmp").iterdir()) == []


def test_an_order_that_cannot_be_audited_is_not_acknowledged_and_its_retry_audits_it_once(tmp_path: Path) -> None:
    headers = {**AUTH, "Idempotency-Key": "audit-down-1"}
    with tmpfs(tmp_path / "audit") as audit_dir, api_client(tmp_path) as client:
        read_only(audit_dir)
        refused = client.post("/api/v1/orders", headers=headers, json=order_body())
        halt = client.post("/api/v1/trading/halt", headers=AUTH, json={"actor": "ops", "reason": "audit down"})
        assert _mount("-o", "remount,rw", str(audit_dir)).returncode == 0
        retried = client.post("/api/v1/orders", headers=headers, json=order_body())
        again = client.post("/api/v1/orders", headers=headers, json=order_body())
        submits = audited(tmp_path, AuditAction.ORDER_SUBMIT)
    assert_storage_fault(refused, 503, "audit_unwritable")
    assert halt.status_code == 202  # a halt is never held back by the audit disk
    assert retried.status_code == 202 and again.status_code == 202
    assert [e.correlation_id for e in submits] == [retried.json()["request_id"]]
