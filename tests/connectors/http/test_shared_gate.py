"""Two worker processes on one Dataverse user share the adaptive gate through Redis: a 429's
Retry-After seen by one pauses the other, and together they keep within the service's
concurrency (ADR 0025). Real processes, a real sandbox with its limits on, a real Redis."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from accord.connectors.http.shared_gate import SharedGate
from accord.errors import TransientError
from accord.sandboxes import SandboxHandle, run_sandboxes
from tests.conftest import need
from tests.connectors.http.test_ratelimit_shared import redis_up

REDIS = "redis://127.0.0.1:6379/0"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def limited_dv() -> Iterator[SandboxHandle]:
    need(redis_up(), "Redis is not reachable at 127.0.0.1:6379")
    with run_sandboxes(["dataverse"], records=5) as sx:
        yield sx["dataverse"]


def run_workers(
    handle: SandboxHandle, storage: str, threads: int, each: int, **options: Any
) -> list[dict[str, Any]]:
    """Two worker processes started together; what each saw."""
    facts = handle.as_json()
    endpoint = f"dataverse:{httpx.URL(handle.base_url).netloc.decode()}:{handle.client_id}"
    SharedGate(storage, endpoint, 1, lease_seconds=1).clear()
    retry = {"max_attempts": 3, "max_throttled_attempts": 50, "jitter": 0, "base_delay": 0.05}
    job = {
        "facts": facts,
        "options": {"rate_limit_storage": storage, "retry": retry, **options},
        "threads": threads,
        "each": each,
    }
    env = {"PYTHONPATH": f"{ROOT / 'src'}:{ROOT}", "PATH": "/usr/bin:/bin"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.connectors.http.gate_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        for _ in range(2)
    ]
    try:
        for proc in procs:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(json.dumps(job) + "\n")
            proc.stdin.flush()
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        return [json.loads(proc.communicate(timeout=120)[0]) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()


def test_a_retry_after_seen_by_one_worker_pauses_the_other(limited_dv: SandboxHandle) -> None:
    limited_dv.limits.switch_on(requests=6, window_seconds=1.0, latency_per_request=0.02)
    try:
        seen = run_workers(limited_dv, REDIS, threads=4, each=4)
        stats = limited_dv.limits.stats()
    finally:
        limited_dv.limits.configure(None)
    assert [s["statuses"] for s in seen] == [[200] * 16, [200] * 16]
    assert stats["throttled"].get("requests", 0) >= 1
    assert stats["early_requests"] == 0, stats["early_seconds_after_429"]


def test_two_workers_keep_together_within_the_services_concurrency(
    limited_dv: SandboxHandle,
) -> None:
    limited_dv.limits.switch_on(concurrent=3, latency_per_request=0.05, requests=10_000)
    try:
        seen = run_workers(limited_dv, REDIS, threads=6, each=4, concurrency={"max_in_flight": 3})
        stats = limited_dv.limits.stats()
    finally:
        limited_dv.limits.configure(None)
    assert [s["statuses"] for s in seen] == [[200] * 24, [200] * 24]
    assert stats["peak_concurrent"] == 3 and stats["throttled"] == {}
    assert all(s["gate"]["throttled"] == 0 for s in seen)


def test_an_unreachable_shared_gate_is_a_transient_error_naming_it() -> None:
    gate = SharedGate("redis://127.0.0.1:1/0", f"t-{uuid.uuid4().hex}", 2, lease_seconds=5)
    with pytest.raises(TransientError, match=r"shared rate gate .* cannot be reached"):
        gate.try_acquire()
