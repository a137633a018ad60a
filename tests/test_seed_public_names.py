"""The seed's public names behave as its readers expect (issue 12): each is the real implementation
or a thin alias of it, called the way the refactoring instructions call it."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

import execution.risk.slippage_budget as slippage_module
import execution.smart_execution as smart_execution
from execution.bot_managed_positions import BotManagedPosition, GreeksSource
from models.audit import AuditAction, AuditEntry
from models.bot_config import Right
from tests.test_api_support import TOKEN, api_client
from utils.audit_logger import AuditLogger
from utils.audit_retention import cleanup_old_audits

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "seed" / "refactoring-instructions.md"
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


# -- models/audit.py (seed 8.1) -----------------------------------------------------------------

def test_an_audit_entry_built_as_the_seed_does_gets_a_fresh_uuid_and_a_utc_timestamp() -> None:
    before = datetime.now(UTC)
    first = AuditEntry(action=AuditAction.TRADE_OPEN, description="Opened 3 puts", actor="user:ann",
                       actor_type="human", resource_type="trade", resource_id="T1")
    second = AuditEntry(action=AuditAction.TRADE_OPEN, description="Opened 3 puts", actor="user:ann",
                        actor_type="human", resource_type="trade", resource_id="T1")
    assert UUID4.match(first.id) and first.id != second.id
    assert first.timestamp.tzinfo is not None and before <= first.timestamp <= datetime.now(UTC)
    assert AuditEntry.from_json(first.to_json()) == first


def test_an_explicit_timestamp_and_id_are_kept_and_a_naive_timestamp_is_refused() -> None:
    moment = datetime(2015, 12, 23, 15, 0, tzinfo=UTC)
    entry = AuditEntry(id="fixed", timestamp=moment, action=AuditAction.SYSTEM_START, description="",
                       actor="system", actor_type="system", resource_type="algorithm", resource_id="main")
    assert (entry.id, entry.timestamp) == ("fixed", moment)
    with pytest.raises(ValueError, match="time-zone aware"):
        AuditEntry(timestamp=datetime(2015, 12, 23), action=AuditAction.SYSTEM_START, description="",
                   actor="system", actor_type="system", resource_type="algorithm", resource_id="main")


def test_the_audit_logger_takes_the_seeds_positional_call(tmp_path: Path) -> None:
    clock = datetime(2015, 12, 23, 15, 0, tzinfo=UTC)
    audit = AuditLogger(clock=lambda: clock)
    entry = audit.log(AuditAction.RISK_OVERRIDE, "raised a limit", "user:ann", "human", "risk_limit", "max_order",
                      {"value": 1}, {"value": 2}, "approved by desk", "10.0.0.1", "s-1", {"ticket": "R-9"})
    assert (entry.actor, entry.actor_type, entry.resource_type, entry.resource_id) == \
        ("user:ann", "human", "risk_limit", "max_order")
    assert (entry.before_state, entry.after_state, entry.reason) == ({"value": 1}, {"value": 2}, "approved by desk")
    assert (entry.ip_address, entry.session_id, entry.metadata, entry.timestamp) == \
        ("10.0.0.1", "s-1", {"ticket": "R-9"}, clock)
    with pytest.raises(TypeError, match="resource_type and resource_id"):
        audit.log(AuditAction.RISK_OVERRIDE, "no resource")


# -- utils/audit_retention.py (seed 8.4) ----------------------------------------------------------

def test_cleanup_old_audits_deletes_files_past_retention_and_returns_how_many(tmp_path: Path) -> None:
    today = datetime.now(UTC).date()
    names = {days: f"audit_{(today - timedelta(days=days)).isoformat()}.jsonl" for days in (0, 10, 90, 91, 400)}
    for name in names.values():
        (tmp_path / name).write_text("{}\n")
    (tmp_path / "notes.txt").write_text("not an audit file")
    (tmp_path / "audit_not-a-date.jsonl").write_text("{}\n")

    deleted = cleanup_old_audits(str(tmp_path), retention_days=90)

    assert deleted == 2
    left = {p.name for p in tmp_path.iterdir()}
    assert {names[0], names[10], names[90], "notes.txt", "audit_not-a-date.jsonl"} == left


def test_cleanup_old_audits_on_a_missing_folder_deletes_nothing_and_refuses_a_bad_retention(tmp_path: Path) -> None:
    assert cleanup_old_audits(tmp_path / "absent") == 0
    with pytest.raises(ValueError, match="audit_retention_days"):
        cleanup_old_audits(tmp_path, retention_days=0)


# -- execution/smart_execution.py: SlippageBudget (seed 4.4) --------------------------------------

def test_the_slippage_budget_in_smart_execution_is_the_one_the_bot_uses() -> None:
    assert smart_execution.SlippageBudget is slippage_module.SlippageBudget
    assert smart_execution.SlippageCheckResult is slippage_module.SlippageCheckResult


def test_check_slippage_with_the_seeds_four_arguments_prices_one_us_equity_option_contract() -> None:
    budget = smart_execution.SlippageBudget(max_slippage_per_trade_pct=0.5, max_slippage_per_session_usd=1000.0,
                                            alert_threshold_pct=0.3)
    ok = budget.check_slippage(10.00, 10.04, 3, "o-1")  # 0.4 %: $0.04 x 3 x 100
    assert ok.passed and ok.slippage_usd == pytest.approx(12.0) and ok.slippage_pct == pytest.approx(0.4)
    bad = budget.check_slippage(10.00, 10.10, 1, "o-2")  # 1 %
    assert not bad.passed and "exceeds" in (bad.reason or "") and budget.reduce_only
    assert budget.check_slippage(10.00, 10.01, 1, "o-3", 10.0).slippage_usd == pytest.approx(0.1)


# -- execution/bot_managed_positions.py: update_greeks (seed 4.3) --------------------------------

def _position() -> BotManagedPosition:
    return BotManagedPosition(id="P00001", symbol="GOOG  160122P00720000", underlying="GOOG", right=Right.PUT,
                              strike=720.0, expiry=date(2016, 1, 22), multiplier=100.0,
                              opened_at=datetime(2015, 12, 23, 15, 0, tzinfo=UTC), quantity=-3, entry_price=11.0,
                              rho=-0.05, underlying_price=750.0)


def test_update_greeks_sets_the_seeds_fields_and_keeps_rho_and_the_underlying_price() -> None:
    position = _position()
    before = datetime.now(UTC)
    position.update_greeks(-0.30, 0.01, -36.5, 0.5, 0.25)
    greeks = (position.delta, position.gamma, position.theta, position.vega, position.iv)
    assert greeks == (-0.30, 0.01, -36.5, 0.5, 0.25)
    assert (position.rho, position.underlying_price) == (-0.05, 750.0)
    assert position.greeks_source is GreeksSource.CALCULATED
    assert position.greeks_updated_at is not None and position.greeks_updated_at >= before
    assert position.share_delta == pytest.approx(90.0)  # -0.30 x -3 x 100
    assert position.daily_theta_decay == pytest.approx(30.0)  # -36.5 / 365 x -3 x 100


def test_update_greeks_takes_a_source_and_the_algorithms_time() -> None:
    position = _position()
    when = datetime(2015, 12, 24, 10, 0, tzinfo=UTC)
    position.update_greeks(-0.2, 0.02, -20.0, 0.4, 0.3, "market", rho=-0.07, underlying_price=760.0, when=when)
    assert (position.greeks_source, position.greeks_updated_at) == (GreeksSource.MARKET, when)
    assert (position.rho, position.underlying_price) == (-0.07, 760.0)


@pytest.mark.parametrize(("args", "kwargs"), [
    ((math.nan, 0.01, -36.5, 0.5, 0.25), {}),
    ((-0.3, 0.01, math.inf, 0.5, 0.25), {}),
    ((-0.3, 0.01, -36.5, 0.5, 0.25), {"rho": math.nan}),
    ((-0.3, 0.01, -36.5, 0.5, True), {}),
    ((-0.3, 0.01, -36.5, 0.5, 0.25, "guessed"), {}),
])
def test_update_greeks_refuses_bad_values_and_changes_nothing(args: tuple, kwargs: dict) -> None:
    position = _position()
    untouched = (position.delta, position.theta, position.rho, position.iv, position.greeks_source)
    with pytest.raises(ValueError):
        position.update_greeks(*args, **kwargs)
    assert (position.delta, position.theta, position.rho, position.iv, position.greeks_source) == untouched


# -- the sidecar: GET /health at the root (seed 10.3) and api/rest_server.py ----------------------

def test_health_answers_at_the_root_without_a_token_like_the_versioned_route(tmp_path: Path) -> None:
    with api_client(tmp_path) as client:
        root, versioned = client.get("/health"), client.get("/api/v1/health")
    assert root.status_code == versioned.status_code == 200
    assert root.json().keys() == versioned.json().keys() and root.json()["status"] == "degraded"  # no snapshot yet


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if k not in {"TRADING_API_TOKEN", "CORS_ALLOWED_ORIGINS", "ENVIRONMENT"}}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True,
                          text=True, timeout=60, check=False)


def test_rest_server_imports_without_a_token_and_builds_the_app_only_when_asked(tmp_path: Path) -> None:
    done = _python(
        "import api.rest_server as rs\n"
        "from api.rest_server import ThreadSafeRef\n"
        "assert ThreadSafeRef is __import__('api.thread_safe_ref', fromlist=['x']).ThreadSafeRef\n"
        "try:\n"
        "    from api.rest_server import app\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n", {})
    assert done.returncode == 0, done.stderr
    assert any(line.startswith("ConfigurationError") and "TRADING_API_TOKEN" in line
               for line in done.stdout.splitlines()), done.stdout


def test_rest_server_app_is_the_sidecar_built_once_from_the_environment(tmp_path: Path) -> None:
    done = _python(
        "import json\n"
        "from fastapi.testclient import TestClient\n"
        "import api.rest_server as rs\n"
        "from api.rest_server import app\n"
        "assert rs.app is app and rs.get_app() is app\n"
        "with TestClient(app) as client:\n"
        "    codes = [client.get('/health').status_code, client.get('/api/v1/state').status_code]\n"
        "print('RESULT', json.dumps(codes))\n",
        {"TRADING_API_TOKEN": TOKEN, "OBJECT_STORE_DIR": str(tmp_path / "storage"),
         "AUDIT_DIR": str(tmp_path / "audit"), "ENVIRONMENT": "test"})
    assert done.returncode == 0, done.stderr
    result = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert result and json.loads(result[0].removeprefix("RESULT ")) == [200, 401]


# -- tests/test_critical_fixes.py is the seed's 9.2 block verbatim ---------------------------------

@pytest.mark.skipif(not SEED.is_file(), reason=f"the refactoring instructions are not beside the repository ({SEED})")
def test_the_critical_fixes_tests_are_the_seeds_text_with_only_mock_order_added() -> None:
    block = re.search(r"```python\n(# tests/test_critical_fixes\.py\n.*?)```", SEED.read_text(encoding="utf-8"),
                      re.S)
    assert block is not None
    ours = (ROOT / "tests" / "test_critical_fixes.py").read_text(encoding="utf-8")
    addition = re.search(r"\n\n# --- the only addition.*?# --- end of the addition[^\n]*\n", ours, re.S)
    assert addition is not None and "class MockOrder" in addition.group(0)
    assert ours.replace(addition.group(0), "", 1) == block.group(1)
