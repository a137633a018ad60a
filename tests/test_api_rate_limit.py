"""slowapi limits per token: POST /orders 10/minute by default, reads looser; 429 + Retry-After."""

from __future__ import annotations

from pathlib import Path

from api.settings import ApiSettings
from tests.test_api_support import AUTH, TOKEN, api_client, inbox_files, order_body


def test_the_defaults_are_ten_orders_a_minute_and_looser_reads() -> None:
    settings = ApiSettings(trading_api_token=TOKEN)  # type: ignore[arg-type]
    assert settings.rate_limit_orders == "10/minute"
    assert int(settings.rate_limit_reads.split("/")[0]) > 10


def test_the_eleventh_order_in_a_minute_is_429_with_retry_after(tmp_path: Path) -> None:
    with api_client(tmp_path, rate_limit_orders="10/minute") as client:
        codes = [client.post("/api/v1/orders", headers={**AUTH, "Idempotency-Key": f"burst-{i}"},
                             json=order_body()).status_code for i in range(11)]
        refused = client.post("/api/v1/orders", headers={**AUTH, "Idempotency-Key": "burst-late"}, json=order_body())
        reads_still_work = client.get("/api/v1/state", headers=AUTH).status_code
    assert codes == [202] * 10 + [429]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert len(inbox_files(tmp_path / "storage")) == 10
    assert reads_still_work == 200


def test_reads_share_one_budget_and_answer_429_with_retry_after(tmp_path: Path) -> None:
    with api_client(tmp_path, rate_limit_reads="5/minute") as client:
        codes = [client.get(path, headers=AUTH).status_code
                 for path in ["/api/v1/state", "/api/v1/positions", "/api/v1/greeks", "/api/v1/risk",
                              "/api/v1/audit", "/api/v1/orders"]]
        refused = client.get("/api/v1/state", headers=AUTH)
    assert codes == [200] * 5 + [429]
    assert int(refused.headers["retry-after"]) >= 1


def test_invalid_requests_do_not_use_up_the_order_budget(tmp_path: Path) -> None:
    with api_client(tmp_path, rate_limit_orders="2/minute") as client:
        for _ in range(5):
            assert client.post("/api/v1/orders", headers=AUTH, json=order_body(quantity=0)).status_code == 422
        ok = client.post("/api/v1/orders", headers=AUTH, json=order_body())
    assert ok.status_code == 202
