"""Entry point: ``python -m api`` (or ``make api``) runs the sidecar under uvicorn.

A bad configuration prints what to set and how, and exits with status 2 before anything
listens. ``create_app_from_env`` is the uvicorn factory (``uvicorn --factory
api.main:create_app_from_env``) with the same rule; run that way, pass ``--no-proxy-headers`` (or
``--forwarded-allow-ips``) yourself, as ``proxy_options`` does for ``python -m api``.
"""

from __future__ import annotations

import argparse
import sys

from fastapi import FastAPI

from api.app import create_app
from api.settings import ApiSettings, load_settings
from models.exceptions import ConfigurationError
from utils.logging_config import configure_logging, get_logger

logger = get_logger(__name__)

CONFIG_EXIT_CODE = 2


def _settings_or_exit(**overrides: object) -> ApiSettings:
    try:
        return load_settings(**overrides)
    except ConfigurationError as exc:
        logger.error("SIDECAR_CONFIG_INVALID", extra={"parameter": exc.parameter})
        print(str(exc).split(": ", 1)[-1], file=sys.stderr)
        raise SystemExit(CONFIG_EXIT_CODE) from None


def proxy_options(settings: ApiSettings) -> dict[str, object]:
    """uvicorn trusts X-Forwarded-For from loopback unless told otherwise: trust only FORWARDED_ALLOW_IPS
    (none by default), so the audited client address and the failed-login brake cannot be forged."""
    proxies = settings.trusted_proxies
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": ",".join(proxies) if proxies else None}


def create_app_from_env() -> FastAPI:
    settings = _settings_or_exit()
    configure_logging(level=settings.log_level, structured=True)
    return create_app(settings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api", description="Run the options bot sidecar API.")
    parser.add_argument("--host", help="bind address (default API_HOST, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default API_PORT, 8000)")
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in (("api_host", args.host), ("api_port", args.port)) if v is not None}
    configure_logging(level="INFO", structured=True)
    settings = _settings_or_exit(**overrides)
    configure_logging(level=settings.log_level, structured=True)
    if not settings.binds_loopback:
        logger.warning("SIDECAR_BINDS_BEYOND_LOOPBACK", extra={"host": settings.api_host,
                                                               "hint": "put TLS in front of it"})
    import uvicorn

    logger.info("SIDECAR_STARTING", extra={"host": settings.api_host, "port": settings.api_port})
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port,
                access_log=settings.access_log, log_level=settings.log_level.lower(), server_header=False,
                **proxy_options(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
