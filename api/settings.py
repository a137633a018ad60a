"""Sidecar configuration from the environment (pydantic-settings), refusing weak settings.

A bad configuration raises ``ConfigurationError`` whose message says what to set and how; the
entry point (api/main.py) prints it and exits non-zero, so a weak setting never reaches a running
server.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from limits import parse as parse_rate_limit
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.exceptions import ConfigurationError
from utils.logging_config import get_logger

logger = get_logger(__name__)

MIN_TOKEN_LENGTH = 32
FORBIDDEN_TOKENS = frozenset({"default-token-change-me", "changeme", "change-me"})
DEV_ORIGINS = ("http://localhost:3000", "http://127.0.0.1:3000")
TOKEN_HOWTO = ('generate one with: export TRADING_API_TOKEN="$(python -c '
               '"import secrets; print(secrets.token_urlsafe(48))")"')
ORIGINS_HOWTO = "e.g. CORS_ALLOWED_ORIGINS=https://dashboard.example.com,https://ops.example.com"


class ApiSettings(BaseSettings):
    """Every setting has the environment variable of the same name (upper case)."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    trading_api_token: SecretStr = Field(description="shared bearer token, >= 32 random characters")
    environment: Literal["development", "production", "test"] = "development"
    cors_allowed_origins: str = Field("", description="comma-separated origins; '*' is refused")
    object_store_dir: Path = Path("./storage")
    audit_dir: Path = Path("logs/audit")
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=1, le=65535)
    rate_limit_orders: str = "10/minute"
    rate_limit_reads: str = "600/minute"
    rate_limit_auth_failures: str = "60/minute"
    max_body_bytes: int = Field(16_384, ge=256, le=1_048_576)
    risk_precheck: Literal["enforce", "warn", "off"] = "enforce"
    ws_queue_size: int = Field(64, ge=1, le=10_000)
    ws_auth_timeout_seconds: float = Field(5.0, gt=0, le=60)
    ws_poll_interval_seconds: float = Field(0.1, gt=0, le=3600)  # the page sees a change within ~0.1 s
    ws_max_clients: int = Field(500, ge=1, le=100_000)
    ws_ticket_ttl_seconds: float = Field(30.0, gt=0, le=300)
    snapshot_stale_after_seconds: float = Field(30.0, gt=0)
    forwarded_allow_ips: str = Field("", description="comma-separated proxy addresses/networks whose "
                                     "X-Forwarded-For/-Proto are trusted; empty: none (the default)")
    access_log: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # The dashboard's browser sessions (api/sessions.py): idle timeout and absolute lifetime.
    dashboard_session_minutes: float = Field(30.0, gt=0, le=1440)
    dashboard_session_max_hours: float = Field(12.0, gt=0, le=168)
    # Notifications through apprise (api/notifications.py): comma-separated apprise URLs; empty = off.
    notify_urls: SecretStr = Field(SecretStr(""), description="apprise URLs (ntfy://, tgram://, slack://, ...)")
    notify_dedupe_seconds: float = Field(300.0, ge=0, le=86_400)
    notify_max_per_minute: int = Field(20, ge=1, le=10_000)
    # Optional forwarding of inbox requests as LEAN live commands (QuantConnect REST API).
    qc_forward_commands: bool = False
    qc_api_url: str = "https://www.quantconnect.com/api/v2"
    qc_user_id: str = ""
    qc_api_token: SecretStr = SecretStr("")
    qc_project_id: int = 0

    @field_validator("trading_api_token")
    @classmethod
    def _strong_token(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value()
        if token.strip().lower() in FORBIDDEN_TOKENS:
            raise ValueError("is a published default and is refused")
        if len(token) < MIN_TOKEN_LENGTH:
            raise ValueError(f"must be at least {MIN_TOKEN_LENGTH} characters (got {len(token)})")
        if token != token.strip() or len(set(token)) < 8:
            raise ValueError("looks weak (surrounding spaces or fewer than 8 distinct characters)")
        return value

    @field_validator("cors_allowed_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for origin in _split(value):
            if "*" in origin:
                raise ValueError(f"wildcard origin {origin!r} is refused; list each origin")
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
                raise ValueError(f"{origin!r} is not an origin (scheme://host[:port])")
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxies(cls, value: str) -> str:
        for proxy in _split(value):
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"{proxy!r} is not an IP address or network; list each proxy (no '*')") from None
        return value

    @field_validator("rate_limit_orders", "rate_limit_reads", "rate_limit_auth_failures")
    @classmethod
    def _rate(cls, value: str) -> str:
        try:
            parse_rate_limit(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate limit such as '10/minute'") from None
        return value

    @model_validator(mode="after")
    def _production_rules(self) -> ApiSettings:
        if self.environment == "production" and not _split(self.cors_allowed_origins):
            raise ValueError(f"CORS_ALLOWED_ORIGINS is required when ENVIRONMENT=production ({ORIGINS_HOWTO})")
        if self.qc_forward_commands and not (self.qc_user_id and self.qc_api_token.get_secret_value()
                                             and self.qc_project_id > 0):
            raise ValueError("QC_FORWARD_COMMANDS=true needs QC_USER_ID, QC_API_TOKEN and QC_PROJECT_ID")
        return self

    @property
    def allowed_origins(self) -> list[str]:
        origins = [o.rstrip("/") for o in _split(self.cors_allowed_origins)]
        return origins or list(DEV_ORIGINS)

    @property
    def trusted_proxies(self) -> list[str]:
        return _split(self.forwarded_allow_ips)

    @property
    def binds_loopback(self) -> bool:
        try:
            return ipaddress.ip_address(self.api_host).is_loopback
        except ValueError:
            return self.api_host == "localhost"


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _explain(error: ValidationError) -> str:
    lines = ["The sidecar API cannot start; fix these environment variables:"]
    for item in error.errors():
        name = ".".join(str(p) for p in item["loc"]).upper() or "configuration"
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "missing":
            message = "is required"
        hint = ""
        if name == "TRADING_API_TOKEN":
            hint = f" — {TOKEN_HOWTO}"
        elif name == "CORS_ALLOWED_ORIGINS":
            hint = f" — {ORIGINS_HOWTO}"
        lines.append(f"  {name}: {message}{hint}")
    return "\n".join(lines)


def load_settings(**overrides: object) -> ApiSettings:
    """Settings from the environment (``overrides`` win); ``ConfigurationError`` when weak or bad."""
    try:
        settings = ApiSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]["loc"]
        raise ConfigurationError(str(first[0]).upper() if first else "configuration", _explain(exc)) from None
    if not _split(settings.cors_allowed_origins):
        logger.warning("CORS_DEV_MODE", extra={"origins": settings.allowed_origins,
                                               "hint": "set CORS_ALLOWED_ORIGINS for anything but local development"})
    logger.info("CORS_CONFIGURED", extra={"origins": settings.allowed_origins})
    return settings
