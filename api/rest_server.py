"""The seed's ``api/rest_server.py`` (sections 3.3, 3.7, 9.2, 10.3): the names its readers import.

Thin aliases, no second copy of logic:

* ``ThreadSafeRef`` is ``api.thread_safe_ref.ThreadSafeRef`` (set once; ``get(timeout)`` raises
  ``RuntimeError`` before it is set; ``access()`` holds the lock).
* ``app`` is the sidecar's FastAPI app, built by ``api.app.create_app`` from the environment
  (``TRADING_API_TOKEN``, ``CORS_ALLOWED_ORIGINS``, ... — see api/settings.py) the first time
  someone asks for it, so importing this module needs no token: ``from api.rest_server import
  ThreadSafeRef`` works anywhere, while ``from api.rest_server import app`` (or ``uvicorn
  api.rest_server:app``) raises ``ConfigurationError`` naming what to set when the environment is
  weak or incomplete. The app is built once per process.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from api.thread_safe_ref import ThreadSafeRef

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["ThreadSafeRef", "get_app"]  # and ``app``, built on first access (``__getattr__``)

_app: ThreadSafeRef[FastAPI] = ThreadSafeRef("SidecarApp")
_build_lock = threading.Lock()


def get_app() -> FastAPI:
    """The sidecar app from the environment, built on first use (``ConfigurationError`` if weak)."""
    built = _app.get_or_none()
    if built is not None:
        return built
    with _build_lock:
        built = _app.get_or_none()
        if built is None:
            from api.app import create_app
            from api.settings import load_settings
            from utils.logging_config import configure_logging

            settings = load_settings()
            configure_logging(level=settings.log_level, structured=True)
            built = create_app(settings)
            _app.set(built)
        return built


def __getattr__(name: str) -> object:
    """``rest_server.app`` is built lazily (PEP 562), so a plain import never needs the token."""
    if name == "app":
        return get_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
