"""The dashboard in a real browser: Debian's Chromium, headless, driven by Playwright, against a real
sidecar process reading the Object Store folder of a real harness run. Screenshots at 1280x800 and
at a phone's width are kept in backtests/screenshots/ (test artifacts)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from tests.browser_support import ARTIFACTS, browser_skip_reason, chromium_page, run_harness, sidecar, sign_in
from tests.mcp_support import ALPHA, mcp_session, result_json, write_policy
from tests.test_api_support import AUTH
from utils.object_store_schema import STATE_KEY
from utils.order_inbox import INBOX_PREFIX

SKIP = browser_skip_reason()
pytestmark = pytest.mark.skipif(SKIP is not None, reason=SKIP or "")


@pytest.fixture(scope="module")
def harness_storage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    storage = tmp_path_factory.mktemp("run") / "storage"
    run_harness(storage)
    return storage


@pytest.fixture
def served(harness_storage: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    storage = tmp_path / "storage"
    storage.mkdir()
    (storage / STATE_KEY).parent.mkdir(parents=True)
    (storage / STATE_KEY).write_bytes((harness_storage / STATE_KEY).read_bytes())
    with sidecar(storage, tmp_path / "audit", snapshot_stale_after_seconds="3600", ws_poll_interval_seconds="0.1",
                 mcp_agent_policy_file=str(write_policy(tmp_path / "policy")),
                 mcp_proposals_dir=str(tmp_path / "proposals")) as url:
        yield url, storage


def open_positions(storage: Path) -> list[dict[str, Any]]:
    doc = json.loads((storage / STATE_KEY).read_text())
    return [p for p in doc["positions"] if p["status"] != "closed"]


def test_sign_in_shows_the_harness_runs_positions_greeks_and_equity(served: tuple[str, Path]) -> None:
    url, storage = served
    expected = open_positions(storage)
    assert expected, "the harness run should leave an open position"
    with chromium_page() as page:
        sign_in(page, url)
        page.wait_for_selector("#positions tbody tr")
        rows = page.locator("#positions tbody tr")
        assert rows.count() == len(expected)
        assert rows.first.locator("td").first.inner_text() == expected[0]["symbol"]
        assert page.locator("#trading-state").inner_text().lower() == "active"
        assert page.locator("#limits tbody tr").count() >= 8
        assert page.locator("#equity-chart canvas").count() > 0  # lightweight-charts drew it
        assert page.locator("#stale-banner").is_hidden()
        assert page.evaluate("() => localStorage.length + sessionStorage.length") == 0
        assert "ob_session" not in page.evaluate("() => document.cookie")  # HttpOnly
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard-1280x800.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(ARTIFACTS / "dashboard-390x844.png"), full_page=True)


def test_halt_and_resume_reach_the_inbox_with_the_persons_name_and_reason(served: tuple[str, Path]) -> None:
    url, storage = served
    with chromium_page() as page:
        sign_in(page, url)
        page.get_by_label("Your name").fill("Ann Trader")
        page.get_by_label("Reason").fill("news pending")
        page.get_by_role("button", name="Halt trading").click()
        page.wait_for_selector("#control-result:has-text('Halt request queued')")
        page.get_by_role("button", name="Resume trading").click()
        page.wait_for_selector("#control-result:has-text('Resume request queued')")
        page.wait_for_function("() => document.querySelectorAll('#orders tbody tr').length >= 2")
    requests = [json.loads(p.read_text()) for p in (storage / INBOX_PREFIX).glob("*.json")]
    assert sorted(r["action"] for r in requests) == ["halt", "resume"]
    assert {r["actor"] for r in requests} == {"Ann Trader"} and {r["reason"] for r in requests} == {"news pending"}


def test_a_wrong_token_is_refused_on_the_page(served: tuple[str, Path]) -> None:
    url, _ = served
    with chromium_page() as page:
        page.goto(url + "/")
        page.get_by_label("API token").fill("not-the-token-" + "x" * 30)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector("#signin-error:has-text('Sign-in failed')")
        assert page.locator("#dashboard").is_hidden()


def test_a_stale_snapshot_shows_the_banner_live(served: tuple[str, Path]) -> None:
    url, storage = served
    with chromium_page() as page:
        sign_in(page, url)
        assert page.locator("#stale-banner").is_hidden()
        old = time.time() - 7200
        os.utime(storage / STATE_KEY, (old, old))  # the algorithm stopped writing two hours ago
        page.wait_for_selector("#stale-banner:not([hidden])", timeout=5000)
        assert "stale" in page.locator("#stale-banner").inner_text()


def test_every_control_has_an_accessible_name(served: tuple[str, Path]) -> None:
    url, _ = served
    with chromium_page() as page:
        sign_in(page, url)
        unnamed = page.evaluate("""() => [...document.querySelectorAll('button, input, select, textarea')]
            .filter(el => {
                const label = el.labels && el.labels.length ? el.labels[0].textContent.trim() : '';
                return !(label || (el.getAttribute('aria-label') || '').trim() || el.textContent.trim());
            }).map(el => el.outerHTML)""")
    assert unnamed == []


def test_an_agents_proposal_is_approved_on_the_page_and_reaches_the_inbox(served: tuple[str, Path]) -> None:
    url, storage = served
    [held] = open_positions(storage)

    async def propose() -> dict[str, Any]:
        async with mcp_session(f"{url}/mcp", ALPHA) as session:
            return result_json(await session.call_tool("propose_order", {
                "underlying": held["underlying"], "right": held["right"], "strike": held["strike"],
                "expiry": held["expiry"], "side": "buy", "quantity": 1, "order_type": "market", "confidence": 0.8,
                "reasoning": "close one of the short puts"}))

    proposal = anyio.run(propose)
    assert proposal["status"] == "pending"
    with chromium_page() as page:
        sign_in(page, url)
        approve = page.get_by_role("button", name=f"Approve proposal {proposal['proposal_id']}")
        approve.wait_for()
        page.get_by_label("Your name").fill("Dana Ops")
        approve.click()
        page.wait_for_selector(f"#control-result:has-text('Proposal {proposal['proposal_id']}: approved')")
        page.wait_for_selector("#proposals-empty:has-text('None.')")
    decided = httpx.get(f"{url}/api/v1/proposals/{proposal['proposal_id']}", headers=AUTH, timeout=10).json()
    assert decided["status"] == "approved" and decided["decision"]["by"] == "Dana Ops"
    requests = [json.loads(p.read_text()) for p in (storage / INBOX_PREFIX).glob("*.json")]
    assert [r["request_id"] for r in requests] == [proposal["correlation_id"]]
    assert requests[0]["order"]["quantity"] == 1 and requests[0]["order"]["side"] == "buy"
