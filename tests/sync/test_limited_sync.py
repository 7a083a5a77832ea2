"""A full sync against sandboxes with their service-protection limits on: nothing fails,
the service's concurrency is never exceeded and no request comes before its Retry-After
(all counted at the sandboxes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from accord.config.settings import Settings
from accord.sandboxes import run_sandboxes
from accord.services import operations, setup
from accord.services.hub import Hub
from accord.testing.sandbox import settings_from_sandbox
from tests.worlds import creating_template

RETRY = {
    "max_attempts": 3,
    "base_delay": 0.05,
    "max_delay": 0.5,
    "max_retry_after": 10,
    "jitter": 0.0,
    "max_throttled_attempts": 200,
}
LIMITS: dict[str, dict[str, Any]] = {
    # the documented concurrency (5, queue 95), 10 requests per 2 s, no Retry-After (as BC);
    # both windows start full (as if at the limit for the 2 s before), so the limits bite even
    # on a slow machine
    "business-central": {
        "window_seconds": 2.0,
        "requests": 10,
        "prefill_requests": 1.0,
        "latency_per_request": 0.01,
        "latency_per_record": 0.0005,
    },
    # 4 at once, and an execution-time budget of 200 ms per 2 s at 4 ms per written record:
    # less than the eight batches of ten customers that go out together cost
    "dataverse": {
        "window_seconds": 2.0,
        "concurrent": 4,
        "requests": 1000,
        "execution_ms": 200.0,
        "prefill_execution": 1.0,
        "execution_ms_per_request": 5.0,
        "execution_ms_per_record": 4.0,
        "latency_per_request": 0.01,
        "latency_per_record": 0.002,
    },
}


def test_full_sync_against_limited_sandboxes_completes_within_their_limits(
    tmp_path: Path,
) -> None:
    """The services' limits are HTTP behaviour: one state database (SQLite) is enough."""
    database_url = f"sqlite:///{tmp_path / 'state.db'}"
    with run_sandboxes(["business-central", "dataverse"], records=80, seed=7, limits=LIMITS) as sx:
        bc, dv = sx["business-central"], sx["dataverse"]
        hub = Hub(Settings(home=tmp_path / "home"), database_url=database_url)
        try:
            setup.connect(hub, settings_from_sandbox(bc, name="bc", retry=RETRY))
            setup.connect(
                hub,
                settings_from_sandbox(
                    dv,
                    name="crm",
                    retry=RETRY,
                    batch_size=10,
                    concurrency={"max_in_flight": 4},
                ),
            )
            template = creating_template(tmp_path)  # creates what it cannot match: writes
            setup.init_integration(hub, template, {"erp": "bc", "crm": "crm"})
            bc.limits.restart()  # full windows from now on, however long the set-up took
            dv.limits.restart()
            runs = operations.sync_full(hub)
        finally:
            hub.close()
        bc_seen, dv_seen = bc.limits.stats(), dv.limits.stats()
        customers = bc.store.count("customers")
        accounts = dv.store.count("accounts")
    seen = {"bc": bc_seen, "dv": dv_seen}
    assert all(r.status == "success" for r in runs), [(r.mapping, r.message) for r in runs]
    failed = sum(p.counts.get("failed", 0) for r in runs for p in r.passes)
    assert failed == 0
    assert accounts == customers
    # the limits bit: BC refused requests over its rate, Dataverse over its execution time
    assert bc_seen["throttled"].get("requests", 0) > 0, seen
    assert dv_seen["throttled"].get("execution", 0) > 0, seen
    # ... and Accord stayed inside what each service serves at once, and waited as told
    assert bc_seen["peak_concurrent"] <= 5, seen
    assert dv_seen["peak_concurrent"] <= 4 and "concurrency" not in dv_seen["throttled"], seen
    assert dv_seen["early_requests"] == 0, seen
