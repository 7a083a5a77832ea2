"""Service-protection limits of the sandboxes: 429s with each service's body and headers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from accord.sandboxes import SandboxHandle
from accord.sandboxes.common.limits import BUSINESS_CENTRAL, DATAVERSE
from tests.sandboxes.conftest import api_client, tls

QUICK = {"latency_per_request": 0.0, "latency_per_record": 0.0}


@pytest.fixture()
def dv_limited(dv: SandboxHandle) -> Iterator[httpx.Client]:
    with api_client(dv) as client:
        yield client
    dv.limits.configure(None)


@pytest.fixture()
def bc_limited(bc: SandboxHandle) -> Iterator[httpx.Client]:
    with api_client(bc) as client:
        yield client
    bc.limits.configure(None)


def _customers(bc: SandboxHandle) -> str:
    return f"companies({bc.company_id})/customers?$top=1"


def test_limits_are_off_by_default(dv: SandboxHandle, dv_http: httpx.Client) -> None:
    for _ in range(5):
        assert dv_http.get("accounts?$top=1").status_code == 200
    assert dv.limits.stats()["on"] is False


def test_dataverse_request_limit_answers_429_with_its_code_and_retry_after_then_recovers(
    dv: SandboxHandle, dv_limited: httpx.Client
) -> None:
    dv.limits.switch_on(requests=3, window_seconds=1.0, **QUICK)
    assert [dv_limited.get("accounts?$top=1").status_code for _ in range(3)] == [200] * 3
    refused = dv_limited.get("accounts?$top=1")
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "0x80072322"
    assert "limit of 3 over time window of 1 seconds" in error["message"]
    wait = int(refused.headers["Retry-After"])
    assert wait >= 1
    time.sleep(wait)
    assert dv_limited.get("accounts?$top=1").status_code == 200
    assert dv.limits.stats()["throttled"] == {"requests": 1}


def test_business_central_request_limit_sends_its_code_and_no_retry_after_by_default(
    bc: SandboxHandle, bc_limited: httpx.Client
) -> None:
    bc.limits.switch_on(requests=2, window_seconds=1.0, **QUICK)
    assert [bc_limited.get(_customers(bc)).status_code for _ in range(2)] == [200, 200]
    refused = bc_limited.get(_customers(bc))
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "Application_TooManyRequests"
    assert "Maximum (2)" in refused.json()["error"]["message"]
    assert "Retry-After" not in refused.headers
    bc.limits.switch_on(requests=1, window_seconds=1.0, retry_after=True, **QUICK)
    assert bc_limited.get(_customers(bc)).status_code == 200
    assert bc_limited.get(_customers(bc)).headers["Retry-After"] == "1"


def test_dataverse_execution_time_budget_is_its_own_limit(
    dv: SandboxHandle, dv_limited: httpx.Client
) -> None:
    dv.limits.switch_on(
        window_seconds=5.0, execution_ms=100.0, execution_ms_per_request=60.0, **QUICK
    )
    assert dv_limited.get("accounts?$top=1").status_code == 200
    assert dv_limited.get("accounts?$top=1").status_code == 200  # 60 ms < 100 ms before it
    refused = dv_limited.get("accounts?$top=1")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "0x80072321"
    assert (
        "limit of 100 milliseconds over time window of 5 seconds"
        in (refused.json()["error"]["message"])
    )
    assert 1 <= int(refused.headers["Retry-After"]) <= 5


def _parallel(client: httpx.Client, path: str, n: int) -> list[httpx.Response]:
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: client.get(path), range(n)))


def test_dataverse_refuses_requests_over_its_concurrency_limit_at_once(
    dv: SandboxHandle, dv_limited: httpx.Client
) -> None:
    dv.limits.switch_on(concurrent=2, latency_per_request=0.6, latency_per_record=0.0)
    answers = _parallel(dv_limited, "accounts?$top=1", 4)
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200, 200, 429, 429]
    refused = next(r for r in answers if r.status_code == 429)
    assert refused.json()["error"]["code"] == "0x80072326"
    assert refused.json()["error"]["message"].endswith("limit of 2.")
    assert dv.limits.stats()["peak_concurrent"] == 2


def test_business_central_queues_over_its_concurrency_limit_and_refuses_past_the_queue(
    bc: SandboxHandle, bc_limited: httpx.Client
) -> None:
    bc.limits.switch_on(concurrent=1, queue=1, latency_per_request=0.6, latency_per_record=0.0)
    answers = _parallel(bc_limited, _customers(bc), 3)
    assert sorted(r.status_code for r in answers) == [200, 200, 429]
    refused = next(r for r in answers if r.status_code == 429)
    assert refused.json()["error"]["code"] == "Application_TooManyRequests"
    assert bc.limits.stats()["peak_concurrent"] == 2  # one served, one queued


def test_a_batch_counts_once_or_per_operation_as_set(
    bc: SandboxHandle, bc_limited: httpx.Client
) -> None:
    customers = f"companies({bc.company_id})/customers"
    ids = [row["id"] for row in bc.store.all("customers")[:3]]
    batch = {
        "requests": [
            {"id": str(i), "method": "GET", "url": f"{customers}({cid})"}
            for i, cid in enumerate(ids)
        ]
    }
    headers = {"Content-Type": "application/json"}
    bc.limits.switch_on(requests=3, window_seconds=5.0, batch_counts="operations", **QUICK)
    assert bc_limited.post("$batch", content=json.dumps(batch), headers=headers).is_success
    assert bc.limits.stats()["records_written"] == 3
    assert bc_limited.get(_customers(bc)).status_code == 429
    bc.limits.switch_on(requests=3, window_seconds=5.0, batch_counts="request", **QUICK)
    assert bc_limited.post("$batch", content=json.dumps(batch), headers=headers).is_success
    assert bc_limited.get(_customers(bc)).status_code == 200


def test_presets_carry_the_reference_numbers_and_scale_keeps_the_rates() -> None:
    assert (BUSINESS_CENTRAL.requests, BUSINESS_CENTRAL.window_seconds) == (6000, 300.0)
    assert (BUSINESS_CENTRAL.concurrent, BUSINESS_CENTRAL.queue) == (5, 95)
    assert (DATAVERSE.requests, DATAVERSE.concurrent, DATAVERSE.execution_ms) == (
        6000,
        52,
        1_200_000,
    )
    small = DATAVERSE.scaled(10)
    assert (small.window_seconds, small.requests, small.execution_ms) == (30.0, 600, 120_000)
    assert small.write_ceiling(100) == pytest.approx(DATAVERSE.write_ceiling(100))
    with pytest.raises(ValueError, match="unknown limit setting"):
        DATAVERSE.changed(request=1)


def test_limits_switch_over_the_admin_routes(dv: SandboxHandle, dv_limited: httpx.Client) -> None:
    admin = httpx.Client(base_url=dv.origin, verify=tls(dv))
    try:
        made = admin.post("/_sandbox/service-limits", json={"scale": 10, "requests": 1})
        assert made.status_code == 201
        assert made.json()["window_seconds"] == 30.0 and made.json()["requests"] == 1
        assert admin.post("/_sandbox/service-limits", json={"nope": 1}).status_code == 400
        dv.limits.switch_on(requests=1, window_seconds=30.0, **QUICK)
        dv_limited.get("accounts?$top=1")
        assert dv_limited.get("accounts?$top=1").status_code == 429
        assert admin.get("/_sandbox/service-limits").json()["throttled"] == {"requests": 1}
        assert admin.delete("/_sandbox/service-limits").status_code == 204
        assert dv_limited.get("accounts?$top=1").status_code == 200
    finally:
        admin.close()


def test_a_prefilled_window_admits_only_the_steady_rate_from_the_start(
    dv: SandboxHandle, dv_limited: httpx.Client
) -> None:
    dv.limits.switch_on(requests=4, window_seconds=10.0, prefill_requests=1.0, **QUICK)
    statuses = [dv_limited.get("accounts?$top=1").status_code for _ in range(2)]
    assert 429 in statuses  # one request frees every 2.5 s: two in a row cannot both pass
    dv.limits.switch_on(requests=4, window_seconds=10.0, **QUICK)
    assert [dv_limited.get("accounts?$top=1").status_code for _ in range(2)] == [200, 200]
