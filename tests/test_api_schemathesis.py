"""Property-based fuzzing of every documented operation (schemathesis over ASGI, in process): no
generated request, valid or deliberately invalid, may produce a server error (5xx)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode

from api.app import create_app
from tests.test_api_support import AUTH, make_settings, write_snapshot

MAX_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))  # per operation and mode: bounded, about 5 s in all


def _app(root: Path) -> Any:
    write_snapshot(root / "storage")
    return create_app(make_settings(root, rate_limit_orders="100000/minute", rate_limit_reads="100000/minute"))


SIGN_IN = "POST /api/v1/session"


def test_the_schema_documents_bearer_auth_and_a_public_health(tmp_path: Path) -> None:
    schema = _app(tmp_path).openapi()
    assert schema["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    assert schema["security"] == [{"BearerToken": []}]
    assert schema["paths"]["/api/v1/health"]["get"]["security"] == []


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_generated_request_causes_a_server_error(tmp_path: Path, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", _app(tmp_path), headers=AUTH)
    failures: list[str] = []
    statuses: set[int] = set()
    sign_in_statuses: set[int] = set()
    operations = 0
    skipped: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case: Any) -> None:
            response = case.call(headers=AUTH)
            # the dashboard's sign-in takes its credential in the body: a generated token is a 401 there
            (sign_in_statuses if case.operation.label == SIGN_IN else statuses).add(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}")
            case.validate_response(response, checks=[not_a_server_error])

        try:
            check()
        except Unsatisfiable:  # nothing to make invalid (an operation without parameters or body)
            skipped.append(operation.label)
    assert operations >= 12
    assert mode is GenerationMode.NEGATIVE or not skipped
    assert len(skipped) <= operations // 2, skipped
    assert failures == []
    assert 429 not in statuses and {200, 422} <= statuses  # the fuzzing reached the handlers
    if mode is GenerationMode.POSITIVE:
        assert 401 not in statuses
    assert sign_in_statuses and sign_in_statuses <= {400, 401, 422}  # generated tokens are refused, never a 5xx
