"""Retry with exponential backoff and jitter (seed 5.2) — the one canonical implementation.

``retry`` decorates sync and async functions alike. Each failed attempt that will be retried is
logged RETRY_ATTEMPT (WARNING); the last one RETRY_EXHAUSTED (ERROR) before the error is
re-raised unchanged. Exceptions outside ``exceptions`` are not retried at all.

``sleep``/``async_sleep``/``random`` are injectable so tests run without real sleeping and with
a fixed jitter.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import random as _random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from utils.logging_config import get_logger

logger = get_logger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def _validate(max_attempts: int, delay: float, backoff_factor: float, max_delay: float) -> None:
    if not isinstance(max_attempts, int) or max_attempts < 1:
        raise ValueError(f"retry: max_attempts must be an integer >= 1, got {max_attempts!r}")
    if delay < 0 or max_delay < 0:
        raise ValueError(f"retry: delay and max_delay must be >= 0, got {delay!r}, {max_delay!r}")
    if backoff_factor < 1:
        raise ValueError(f"retry: backoff_factor must be >= 1, got {backoff_factor!r}")


def retry(
    max_attempts: int = 3,
    delay: float = 0.1,
    backoff_factor: float = 2.0,
    max_delay: float = 30.0,
    exceptions: tuple[type[BaseException], ...] = (Exception,),
    on_retry: Callable[[BaseException, int], None] | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    random: Callable[[], float] = _random.random,
) -> Callable[[F], F]:
    """Retry the decorated function on ``exceptions`` with jittered exponential backoff.

    ``max_attempts`` counts the first try. ``on_retry(error, attempt)`` runs before each wait.
    """
    _validate(max_attempts, delay, backoff_factor, max_delay)

    def decorator(func: F) -> F:
        name = getattr(func, "__qualname__", repr(func))

        def wait_after(error: BaseException, attempt: int, current: float) -> float | None:
            """Log the failed attempt; return the wait before the next one, None when exhausted."""
            if attempt >= max_attempts:
                logger.error("RETRY_EXHAUSTED", extra={
                    "function": name, "attempts": attempt, "error": str(error),
                    "error_type": type(error).__name__})
                return None
            wait = min(current, max_delay) * (0.5 + random() * 0.5)
            logger.warning("RETRY_ATTEMPT", extra={
                "function": name, "attempt": attempt, "next_delay": round(wait, 6),
                "error": str(error), "error_type": type(error).__name__})
            if on_retry is not None:
                on_retry(error, attempt)
            return wait

        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                current = delay
                for attempt in range(1, max_attempts + 1):
                    try:
                        return await func(*args, **kwargs)
                    except exceptions as error:
                        wait = wait_after(error, attempt, current)
                        if wait is None:
                            raise
                    await async_sleep(wait)
                    current = min(current * backoff_factor, max_delay)
                raise AssertionError("unreachable: the last attempt returns or raises")

            return cast(F, async_wrapper)

        @functools.wraps(func)
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            current = delay
            for attempt in range(1, max_attempts + 1):
                try:
                    return func(*args, **kwargs)
                except exceptions as error:
                    wait = wait_after(error, attempt, current)
                    if wait is None:
                        raise
                sleep(wait)
                current = min(current * backoff_factor, max_delay)
            raise AssertionError("unreachable: the last attempt returns or raises")

        return cast(F, sync_wrapper)

    return decorator
