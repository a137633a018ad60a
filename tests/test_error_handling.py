"""utils/error_handling.retry (issue 6): backoff, jitter, cap, filter, hook, logs — no real sleeping."""

from __future__ import annotations

import asyncio

import pytest

from utils.error_handling import retry
from utils.logging_config import missing_fields


class Flaky:
    def __init__(self, failures: int, error: type[Exception] = ConnectionError) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error(f"failure {self.calls}")
        return "ok"


def test_retries_until_success_with_exponential_backoff_and_full_jitter_range() -> None:
    waits: list[float] = []
    flaky = Flaky(3)
    call = retry(max_attempts=5, delay=1.0, backoff_factor=2.0, max_delay=30.0,
                 sleep=waits.append, random=lambda: 1.0)(flaky)
    assert call() == "ok"
    assert flaky.calls == 4
    assert waits == [1.0, 2.0, 4.0]


def test_jitter_is_between_half_and_all_of_the_delay() -> None:
    waits: list[float] = []
    retry(max_attempts=3, delay=1.0, sleep=waits.append, random=lambda: 0.0)(Flaky(2))()
    assert waits == [0.5, 1.0]


def test_delay_is_capped_at_max_delay() -> None:
    waits: list[float] = []
    retry(max_attempts=6, delay=1.0, backoff_factor=10.0, max_delay=5.0, sleep=waits.append,
          random=lambda: 1.0)(Flaky(5))()
    assert waits == [1.0, 5.0, 5.0, 5.0, 5.0]


def test_exhaustion_re_raises_the_last_error_and_logs_it(caplog: pytest.LogCaptureFixture) -> None:
    flaky = Flaky(10)
    call = retry(max_attempts=3, delay=0.0, sleep=lambda s: None)(flaky)
    with pytest.raises(ConnectionError, match="failure 3"):
        call()
    events = [r.getMessage() for r in caplog.records]
    assert events == ["RETRY_ATTEMPT", "RETRY_ATTEMPT", "RETRY_EXHAUSTED"]
    for record in caplog.records:
        assert not missing_fields(record.getMessage(), vars(record))


def test_exceptions_outside_the_filter_are_not_retried() -> None:
    flaky = Flaky(1, error=KeyError)
    call = retry(max_attempts=5, exceptions=(ConnectionError,), sleep=lambda s: None)(flaky)
    with pytest.raises(KeyError):
        call()
    assert flaky.calls == 1


def test_on_retry_hook_sees_each_error_and_attempt_number() -> None:
    seen: list[tuple[str, int]] = []
    retry(max_attempts=4, delay=0.0, sleep=lambda s: None,
          on_retry=lambda e, n: seen.append((str(e), n)))(Flaky(2))()
    assert seen == [("failure 1", 1), ("failure 2", 2)]


def test_async_functions_are_retried_with_the_async_sleep() -> None:
    waits: list[float] = []
    calls = 0

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    @retry(max_attempts=3, delay=0.25, async_sleep=fake_sleep, random=lambda: 1.0)
    async def fetch() -> int:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise TimeoutError("slow")
        return 42

    assert asyncio.run(fetch()) == 42
    assert waits == [0.25, 0.5]


def test_wrapped_function_keeps_its_name() -> None:
    @retry()
    def save_state() -> None:
        return None

    assert save_state.__name__ == "save_state"


@pytest.mark.parametrize("kwargs", [{"max_attempts": 0}, {"delay": -1.0}, {"backoff_factor": 0.5},
                                    {"max_delay": -2.0}])
def test_bad_settings_are_refused_at_decoration_time(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="retry"):
        retry(**kwargs)
