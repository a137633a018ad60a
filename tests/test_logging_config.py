"""utils/logging_config (issue 6): JSON formatter, LEAN forwarding by level, required event fields."""

from __future__ import annotations

import io
import json
import logging

import pytest

from utils.logging_config import (
    REQUIRED_FIELDS,
    LeanLogHandler,
    StructuredFormatter,
    configure_logging,
    get_logger,
    missing_fields,
)


class FakeAlgorithm:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def debug(self, message: str) -> None:
        self.lines.append(("debug", message))

    def log(self, message: str) -> None:
        self.lines.append(("log", message))

    def error(self, message: str) -> None:
        self.lines.append(("error", message))


def test_structured_formatter_writes_one_json_object_with_the_extras() -> None:
    stream = io.StringIO()
    configure_logging(level="INFO", structured=True, stream=stream)
    get_logger("tests.formatter").info("ORDER_FILLED", extra={
        "order_id": "C1", "fill_price": 1.25, "fill_quantity": -1, "remaining_quantity": 0})
    record = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert record["message"] == "ORDER_FILLED"
    assert record["level"] == "INFO"
    assert record["logger"] == "options_bot.tests.formatter"
    assert record["fill_price"] == 1.25
    assert {"timestamp", "module", "function", "line"} <= record.keys()


def test_structured_formatter_includes_the_exception() -> None:
    try:
        raise OSError("disk")
    except OSError:
        record = logging.getLogger("x").makeRecord("x", logging.ERROR, __file__, 1, "SAVE_FAILED", (),
                                                   exc_info=__import__("sys").exc_info())
    assert "OSError: disk" in json.loads(StructuredFormatter().format(record))["exception"]


def test_lean_handler_forwards_by_level_and_keeps_debug_out_by_default() -> None:
    algorithm = FakeAlgorithm()
    configure_logging(LeanLogHandler(algorithm))
    log = get_logger("tests.lean")
    log.debug("GREEKS_REFRESHED")
    log.info("TRADE_OPENED", extra={"trade_id": "P1"})
    log.warning("RETRY_ATTEMPT")
    log.error("COMPONENT_FAILED")
    log.critical("CIRCUIT_BREAKER_TRIPPED")
    assert [kind for kind, _ in algorithm.lines] == ["log", "log", "error", "error"]
    assert algorithm.lines[0][1] == "INFO TRADE_OPENED trade_id=P1"


def test_lean_handler_survives_a_failing_algorithm_log(capsys: pytest.CaptureFixture[str]) -> None:
    class Broken(FakeAlgorithm):
        def log(self, message: str) -> None:
            raise RuntimeError("LEAN log closed")

    configure_logging(LeanLogHandler(Broken()))
    get_logger("tests.lean").info("TRADE_OPENED")  # must not raise
    assert "LEAN log closed" in capsys.readouterr().err


@pytest.mark.parametrize("event", sorted(REQUIRED_FIELDS))
def test_every_listed_event_names_its_required_fields(event: str) -> None:
    assert REQUIRED_FIELDS[event]
    assert missing_fields(event, {}) == REQUIRED_FIELDS[event]
    assert not missing_fields(event, dict.fromkeys(REQUIRED_FIELDS[event], 1))


def test_seed_required_fields_are_covered() -> None:
    assert {"trade_id", "symbol", "side", "quantity", "price", "order_id"} <= REQUIRED_FIELDS["TRADE_OPENED"]
    assert {"order_id", "fill_price", "fill_quantity"} <= REQUIRED_FIELDS["ORDER_FILLED"]
    assert {"limit_type", "current_value", "limit_value", "action_taken"} <= REQUIRED_FIELDS["RISK_LIMIT_EXCEEDED"]
    assert {"component", "operation", "error", "error_type", "recoverable"} <= REQUIRED_FIELDS["COMPONENT_FAILED"]
