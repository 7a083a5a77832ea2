"""``python -m bench latency``: from a change in Business Central to the same value in Sales.

Two ways, over the same sandboxes and state:
- **receivers**: Business Central notifies at once (its own delay, 30 s on a real tenant, is a
  setting reported apart as ``bc_notification_delay_seconds``); ``accord serve``'s receiver
  stores each change and a drainer runs the record passes;
- **polling**: no subscriptions; the mapping's incremental pass runs every
  ``poll_interval`` seconds, as the scheduler would.
A change is timed from the moment it is written in the BC sandbox to the moment the Dataverse
sandbox holds the new value (both read in-process, so no clock is shared over the network).
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from accord.api.webhooks import webhook_router
from accord.config.settings import Settings
from accord.sandboxes import SandboxSet, run_sandboxes
from accord.services import inbox, operations, setup
from accord.services.hub import Hub
from accord.state import couplings
from accord.state.store import load_integration
from accord.testing.sandbox import settings_from_sandbox

Log = Callable[[str], None]
MAPPING = "CUSTOMER"


def latency(
    changes: int,
    log: Log,
    *,
    rate: float = 20.0,
    bc_delay: float = 0.0,
    poll_interval: float = 5.0,
    polling_changes: int = 100,
) -> dict[str, Any]:
    """Time ``changes`` changes through the receivers and ``polling_changes`` by polling."""
    with run_sandboxes(["business-central", "dataverse"], records=200) as sx, _hub() as hub:
        pairs = _synced(sx, hub, log)
        sx["business-central"].options.webhooks.delay = bc_delay
        with _receiver(hub) as url:
            made = inbox.subscribe(hub, url)
            log(f"subscribed {len(made)} entity sets at {url}")
            with _repeating(lambda: inbox.drain(hub), 0.02):
                pushed = _measure(sx, pairs, changes, rate, log, "receivers")
            inbox.unsubscribe(hub)
        with _repeating(lambda: operations.sync_incremental(hub, [MAPPING]), poll_interval):
            polled = _measure(sx, pairs, polling_changes, rate, log, "polling")
    return {
        "changes": changes,
        "p50_seconds": _quantile(pushed, 0.5),
        "p95_seconds": _quantile(pushed, 0.95),
        "max_seconds": round(max(pushed), 4),
        "bc_notification_delay_seconds": bc_delay,
        "accord_p95_seconds": _quantile([s - bc_delay for s in pushed], 0.95),
        "polling_changes": polling_changes,
        "polling_interval_seconds": poll_interval,
        "polling_p50_seconds": _quantile(polled, 0.5),
        "polling_p95_seconds": _quantile(polled, 0.95),
    }


def _synced(sx: SandboxSet, hub: Hub, log: Log) -> list[tuple[str, str]]:
    setup.connect(hub, settings_from_sandbox(sx["business-central"], name="bc"))
    setup.connect(hub, settings_from_sandbox(sx["dataverse"], name="crm"))
    setup.init_integration(hub, "bc-sales", {"erp": "bc", "crm": "crm"})
    operations.sync_full(hub)
    for held in operations.conflicts(hub):
        operations.resolve(hub, held.id, "erp")
    operations.sync_incremental(hub)
    with hub.db.session() as session:
        mapping_id = load_integration(session).mapping_ids[MAPPING]
        rows = couplings.pairs(session, mapping_id, ("erp", "crm"), 10_000)
    pairs = [(a, b) for a, b, _ in rows if a and b]
    log(f"{len(pairs)} coupled customers")
    return pairs


def _measure(
    sx: SandboxSet, pairs: list[tuple[str, str]], count: int, rate: float, log: Log, what: str
) -> list[float]:
    bc, dv = sx["business-central"], sx["dataverse"]
    pending: dict[int, tuple[str, str, float]] = {}
    took: list[float] = []
    lock = threading.Lock()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set() or pending:
            with lock:
                items = list(pending.items())
            for n, (crm_id, value, started) in items:
                row = dv.store.get("accounts", crm_id)
                if row is not None and row["address1_city"] == value:
                    with lock:
                        pending.pop(n, None)
                        took.append(time.monotonic() - started)
            time.sleep(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    for n in range(count):
        erp_id, crm_id = pairs[n % len(pairs)]
        value = f"{what[:4]}-{n}"
        with lock:
            pending[n] = (crm_id, value, time.monotonic())
        bc.store.update("customers", erp_id, {"city": value}, bc.company_id)
        time.sleep(1 / rate)
    done.set()
    watcher.join(timeout=120)
    if pending:
        raise RuntimeError(f"{what}: {len(pending)} change(s) never arrived")
    log(f"{what}: {count} changes, p95 {_quantile(took, 0.95):.3f} s")
    return took


def _quantile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return round(values[0], 4)
    return round(statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1], 4)


@contextmanager
def _hub() -> Iterator[Hub]:
    with tempfile.TemporaryDirectory(prefix="accord-latency-") as folder:
        hub = Hub(Settings(home=Path(folder)))
        try:
            yield hub
        finally:
            hub.close()


@contextmanager
def _receiver(hub: Hub) -> Iterator[str]:
    app = FastAPI()
    app.include_router(webhook_router(lambda: hub))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)


@contextmanager
def _repeating(work: Callable[[], object], every: float) -> Iterator[None]:
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            work()
            stop.wait(every)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=60)
