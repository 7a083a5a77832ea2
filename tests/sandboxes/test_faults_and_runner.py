"""Fault injection over HTTP, dropped connections, latency, and the runner API."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from accord.sandboxes import SANDBOXES, SandboxHandle, run_sandboxes, serve_forever
from tests.sandboxes.conftest import tls


def test_http_fault_control_and_stats(bc: SandboxHandle, bc_http: httpx.Client) -> None:
    admin = httpx.Client(base_url=bc.origin, verify=tls(bc))
    assert admin.post("/_sandbox/reset-stats").status_code == 204
    added = admin.post(
        "/_sandbox/faults", json={"status": 503, "path": "companies$", "count": 2, "retry_after": 1}
    )
    assert added.status_code == 201
    codes = [bc_http.get("companies").status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    assert admin.get("/_sandbox/stats").json()["total"] == 3
    admin.post("/_sandbox/faults", json={"status": 500, "count": None})
    assert bc_http.get("companies").status_code == 500
    assert admin.delete("/_sandbox/faults").status_code == 204
    assert bc_http.get("companies").status_code == 200
    assert admin.post("/_sandbox/faults", json={"bogus": 1}).status_code == 400


def test_dropped_connection_and_latency(dv: SandboxHandle, dv_http: httpx.Client) -> None:
    dv.faults.add(path="accounts", drop=True, count=1)
    with pytest.raises(httpx.TransportError):
        dv_http.get("accounts", params={"$top": "1"})
    assert dv_http.get("accounts", params={"$top": "1"}).status_code == 200
    dv.faults.latency(0.3)
    started = time.perf_counter()
    dv_http.get("accounts", params={"$top": "1"})
    assert time.perf_counter() - started >= 0.3
    dv.faults.add(status=429, count=1, delay=0.2, retry_after=3)
    slow = dv_http.get("accounts", params={"$top": "1"})
    assert slow.status_code == 429 and slow.headers["retry-after"] == "3"


def test_a_rule_after_the_work(dv: SandboxHandle, dv_http: httpx.Client) -> None:
    """``after``: the app does the work, then the rule answers (the outcome is lost)."""
    dv.faults.add(status=503, method="POST", path="accounts$", after=True, count=1)
    lost = dv_http.post("accounts", json={"name": "Made Anyway Ltd"})
    assert lost.status_code == 503
    assert len(dv.store.find_raw("accounts", {"name": "Made Anyway Ltd"})) == 1


def test_empty_sandboxes_and_json(tmp_path: object) -> None:
    with run_sandboxes(
        ["dataverse", "business-central"],
        records=0,
        seed=1,
        token_lifetime=60,
        database_dir=str(tmp_path),
    ) as sx:
        info = sx.as_json()
        assert set(info) == {"dataverse", "business-central"} == set(SANDBOXES)
        assert info["business-central"]["company_name"] == "CRONUS USA, Inc."
        assert info["dataverse"]["company_id"] is None
        assert info["dataverse"]["base_url"].endswith("/api/data/v9.2")
        assert sx["business-central"].store.count("customers") == 0
        assert sx["dataverse"].store.count("accounts") == 0
        assert sx["dataverse"].origin != sx["business-central"].origin
        token = httpx.post(
            sx["dataverse"].token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": sx["dataverse"].client_id,
                "client_secret": sx["dataverse"].client_secret,
                "scope": sx["dataverse"].scope,
            },
            verify=tls(sx["dataverse"]),
        ).json()
        assert token["expires_in"] == 60
    with pytest.raises(ValueError, match="valid"), run_sandboxes(["nope"]):
        pass


def test_serve_forever_prints_one_json_line() -> None:
    lines: list[str] = []
    stop = threading.Event()

    def capture(text: str) -> None:
        lines.append(text)
        stop.set()

    serve_forever(["dataverse"], records=0, seed=3, json_out=True, print_fn=capture, stop=stop)
    assert len(lines) == 1
    assert json.loads(lines[0])["dataverse"]["scope"].endswith("/.default")
