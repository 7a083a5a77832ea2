"""The random fault mode: a share of API requests get a 429, a 5xx, a timeout, a dropped
connection (before or after the work) or a partial $batch."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from accord.sandboxes import SandboxHandle
from tests.sandboxes.conftest import tls
from tests.sandboxes.test_dataverse_batch import batch, part, statuses


def _one(handle: SandboxHandle, kind: str, **options: object) -> None:
    handle.faults.chaos(1.0, kinds=(kind,), seed=1, **options)  # type: ignore[arg-type]


def test_throttle_and_errors(dv: SandboxHandle, dv_http: httpx.Client) -> None:
    _one(dv, "throttle", retry_after=2)
    throttled = dv_http.get("accounts", params={"$top": "1"})
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "2"
    assert throttled.json()["error"]["message"]
    _one(dv, "error")
    assert {dv_http.get("accounts").status_code for _ in range(12)} <= {500, 503}
    dv.faults.chaos(None)
    assert dv_http.get("accounts", params={"$top": "1"}).status_code == 200


def test_timeout_answers_after_the_client_gave_up(dv: SandboxHandle, dv_http: httpx.Client) -> None:
    _one(dv, "timeout", timeout_delay=0.6)
    before = dv.store.count("accounts")
    with pytest.raises(httpx.ReadTimeout):
        dv_http.post("accounts", json={"name": "Never"}, timeout=0.3)
    time.sleep(0.5)
    dv.faults.chaos(None)
    assert dv.store.count("accounts") == before  # nothing done


@pytest.mark.parametrize(("kind", "created"), [("drop", 0), ("drop_after", 1)])
def test_dropped_connections(
    dv: SandboxHandle, dv_http: httpx.Client, kind: str, created: int
) -> None:
    """``drop`` cuts before the app ran; ``drop_after`` after: done, the answer lost."""
    name = f"Dropped {uuid.uuid4().hex[:8]}"
    _one(dv, kind)
    with pytest.raises(httpx.TransportError):
        dv_http.post("accounts", json={"name": name})
    dv.faults.chaos(None)
    assert len(dv.store.find_raw("accounts", {"name": name})) == created


def test_partial_batch_fails_some_operations(dv: SandboxHandle, dv_http: httpx.Client) -> None:
    _one(dv, "partial_batch", batch_failure_rate=0.5)
    ctype, body = batch([part("POST", "accounts", {"name": f"Part {n}"}) for n in range(40)])
    headers = {"Content-Type": ctype, "Prefer": "odata.continue-on-error"}
    resp = dv_http.post("$batch", content=body, headers=headers)
    dv.faults.chaos(None)
    assert resp.status_code == 200
    found = statuses(resp)
    assert len(found) == 40 and 204 in found
    assert set(found) - {204} and set(found) <= {204, 429, 500, 503}
    assert dv.stats()["random_faults"] == {}  # switched off


def test_rate_share_and_counts_over_http(bc: SandboxHandle, bc_http: httpx.Client) -> None:
    admin = httpx.Client(base_url=bc.origin, verify=tls(bc))
    assert admin.post("/_sandbox/chaos", json={"rate": 0.25, "seed": 5}).status_code == 204
    assert admin.post("/_sandbox/chaos", json={"rate": 2}).status_code == 400
    assert admin.post("/_sandbox/chaos", json={"rate": 0.2, "kinds": ["boom"]}).status_code == 400
    admin.post("/_sandbox/chaos", json={"rate": 0.25, "seed": 5, "kinds": ["throttle", "error"]})
    codes = [bc_http.get("companies").status_code for _ in range(200)]
    faulted = sum(1 for c in codes if c != 200)
    assert 25 <= faulted <= 75
    fired = admin.get("/_sandbox/stats").json()["random_faults"]
    assert sum(fired.values()) == faulted and set(fired) <= {"throttle", "error"}
    assert admin.delete("/_sandbox/faults").status_code == 204  # clear() ends the mode too
    assert bc_http.get("companies").status_code == 200
