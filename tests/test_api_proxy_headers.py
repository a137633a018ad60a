"""X-Forwarded-For is trusted only from FORWARDED_ALLOW_IPS (none by default, issue 15): otherwise
a client on loopback could forge the audited address and escape the failed-login brake.

Runs ``python -m api`` (uvicorn, where the proxy headers are handled) on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from api.settings import load_settings
from models.audit import AuditAction
from models.exceptions import ConfigurationError
from tests.test_api_kill9 import ROOT, free_port, wait_ready
from tests.test_api_support import AUTH, TOKEN, order_body
from utils.audit_reader import read_file_trail

FORGED = "203.0.113.9"


def audited_addresses(tmp_path: Path, forwarded_allow_ips: str | None) -> dict[AuditAction, set[str | None]]:
    port = free_port()
    env = {**os.environ, "TRADING_API_TOKEN": TOKEN, "OBJECT_STORE_DIR": str(tmp_path / "storage"),
           "AUDIT_DIR": str(tmp_path / "audit"), "ENVIRONMENT": "test", "ACCESS_LOG": "false", "LOG_LEVEL": "WARNING"}
    env.pop("FORWARDED_ALLOW_IPS", None)
    if forwarded_allow_ips is not None:
        env["FORWARDED_ALLOW_IPS"] = forwarded_allow_ips
    process = subprocess.Popen([sys.executable, "-m", "api", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, process)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-Forwarded-For": FORGED}) as client:
            assert client.get("/api/v1/state", headers={"Authorization": "Bearer wrong"}).status_code == 401
            assert client.post("/api/v1/orders", headers=AUTH, json=order_body()).status_code == 202
    finally:
        process.terminate()
        process.wait(timeout=30)
    entries = read_file_trail(tmp_path / "audit").entries
    return {action: {e.ip_address for e in entries if e.action is action}
            for action in (AuditAction.AUTH_FAILED, AuditAction.ORDER_SUBMIT)}


def test_by_default_a_forwarded_address_is_ignored(tmp_path: Path) -> None:
    addresses = audited_addresses(tmp_path, None)
    assert addresses == {AuditAction.AUTH_FAILED: {"127.0.0.1"}, AuditAction.ORDER_SUBMIT: {"127.0.0.1"}}


def test_a_configured_proxy_is_trusted(tmp_path: Path) -> None:
    addresses = audited_addresses(tmp_path, "127.0.0.1")
    assert addresses == {AuditAction.AUTH_FAILED: {FORGED}, AuditAction.ORDER_SUBMIT: {FORGED}}


@pytest.mark.parametrize("value", ["*", "proxy.internal", "10.0.0.1, nonsense"])
def test_a_wildcard_or_a_name_is_refused_as_a_proxy(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigurationError, match="FORWARDED_ALLOW_IPS"):
        load_settings(trading_api_token=TOKEN, forwarded_allow_ips=value, object_store_dir=tmp_path)
