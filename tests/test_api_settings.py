"""Configuration: weak settings refused with a message that says what to set; non-zero exit."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from api.settings import DEV_ORIGINS, load_settings
from models.exceptions import ConfigurationError
from tests.test_api_support import TOKEN

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch) -> None:
    for name in ("TRADING_API_TOKEN", "CORS_ALLOWED_ORIGINS", "ENVIRONMENT", "RATE_LIMIT_ORDERS"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(("token", "expected"), [
    (None, "is required"),
    ("", "at least 32"),
    ("short-token", "at least 32"),
    ("default-token-change-me", "published default"),
    ("a" * 40, "weak"),
    (" " + TOKEN, "weak"),
])
def test_a_missing_or_weak_token_is_refused_with_how_to_make_one(token: str | None, expected: str) -> None:
    overrides = {} if token is None else {"trading_api_token": token}
    with pytest.raises(ConfigurationError) as caught:
        load_settings(**overrides)
    message = str(caught.value)
    assert "TRADING_API_TOKEN" in message and expected in message
    assert "secrets.token_urlsafe" in message


@pytest.mark.parametrize("origins", ["*", "https://a.example,*", "https://*.example.com", "not-an-origin",
                                     "https://a.example/path"])
def test_wildcard_or_malformed_origins_are_refused(origins: str) -> None:
    with pytest.raises(ConfigurationError, match="CORS_ALLOWED_ORIGINS"):
        load_settings(trading_api_token=TOKEN, cors_allowed_origins=origins)


def test_production_requires_an_explicit_origin_list() -> None:
    with pytest.raises(ConfigurationError, match="CORS_ALLOWED_ORIGINS is required"):
        load_settings(trading_api_token=TOKEN, environment="production")
    settings = load_settings(trading_api_token=TOKEN, environment="production",
                             cors_allowed_origins="https://a.example, https://b.example/")
    assert settings.allowed_origins == ["https://a.example", "https://b.example"]


def test_development_defaults_to_localhost_3000_with_a_warning(caplog) -> None:
    caplog.set_level(logging.WARNING, logger="options_bot")
    settings = load_settings(trading_api_token=TOKEN)
    assert settings.allowed_origins == list(DEV_ORIGINS)
    assert any(r.getMessage() == "CORS_DEV_MODE" for r in caplog.records)


def test_a_malformed_rate_limit_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="RATE_LIMIT_ORDERS"):
        load_settings(trading_api_token=TOKEN, rate_limit_orders="lots")


def test_the_token_is_read_from_the_environment_and_never_printed(monkeypatch) -> None:
    monkeypatch.setenv("TRADING_API_TOKEN", TOKEN)
    settings = load_settings()
    assert settings.trading_api_token.get_secret_value() == TOKEN
    assert TOKEN not in repr(settings) and TOKEN not in str(settings)


@pytest.mark.parametrize(("environment", "complaint"), [
    ({}, "TRADING_API_TOKEN"),
    ({"TRADING_API_TOKEN": "default-token-change-me"}, "TRADING_API_TOKEN"),
    ({"TRADING_API_TOKEN": TOKEN, "CORS_ALLOWED_ORIGINS": "*"}, "CORS_ALLOWED_ORIGINS"),
    ({"TRADING_API_TOKEN": TOKEN, "ENVIRONMENT": "production"}, "CORS_ALLOWED_ORIGINS"),
])
def test_the_entry_point_exits_non_zero_before_listening(environment: dict[str, str], complaint: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"TRADING_API_TOKEN", "CORS_ALLOWED_ORIGINS", "ENVIRONMENT"}}
    env.update(environment)
    done = subprocess.run([sys.executable, "-m", "api", "--port", "1"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert complaint in done.stderr and "cannot start" in done.stderr
    assert "Uvicorn running" not in done.stderr + done.stdout
