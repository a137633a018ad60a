"""A real sidecar process and a real headless Chromium (Debian's, driven by Playwright) for the
dashboard tests and bench. ``.ci/run`` installs ``chromium`` with apt-get; where it is absent the
browser tests skip with that reason."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.test_api_kill9 import free_port, wait_ready
from tests.test_api_support import TOKEN

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "backtests" / "screenshots"
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def browser_skip_reason() -> str | None:
    if chromium_path() is None:
        return "Debian's chromium is not installed (apt-get install chromium; .ci/run does it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    return None


@contextmanager
def sidecar(storage: Path, audit: Path, **settings: str) -> Iterator[str]:
    """``python -m api`` on a free loopback port; yields its base URL."""
    port = free_port()
    env = {**os.environ, "TRADING_API_TOKEN": TOKEN, "OBJECT_STORE_DIR": str(storage), "AUDIT_DIR": str(audit),
           "ENVIRONMENT": "test", "ACCESS_LOG": "false", "LOG_LEVEL": "WARNING",
           **{key.upper(): value for key, value in settings.items()}}
    env.pop("CORS_ALLOWED_ORIGINS", None)
    process = subprocess.Popen([sys.executable, "-m", "api", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def chromium_page(width: int = 1280, height: int = 800) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            page.set_default_timeout(10_000)
            yield page
        finally:
            browser.close()


def sign_in(page: Any, url: str) -> None:
    page.goto(url + "/")
    page.get_by_label("API token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("#dashboard:not([hidden])")


def run_harness(storage: Path, days: int = 3) -> None:
    subprocess.run([sys.executable, "-m", "harness.runner", "--days", str(days), "--storage", str(storage), "--fresh"],
                   cwd=ROOT, check=True, capture_output=True, timeout=300)
