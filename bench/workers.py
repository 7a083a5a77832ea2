"""``python -m bench workers``: full-sync throughput with 1, 2 and 4 Celery workers.

Business Central (N customers) and Dataverse (no accounts) run in their own processes with a
latency on every API request (200 ms by default) and no service-protection limits, so the
target, not the CPU, bounds the rate. Per worker count, everything but Business Central (which
the timed sync only reads) is fresh: Dataverse, a PostgreSQL state database, a private broker
queue, and ``accord worker`` processes (one workload at a time each). The CUSTOMER full sync
(BC -> Dataverse) is split into parts (``services.workloads.submit_full_parts``) and timed
from the split to the last part done; then every customer must be coupled once and no
account created twice.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from accord.config.settings import Settings
from accord.runtime.celery_app import CeleryExecutor, make_app
from accord.services import setup
from accord.services.hub import Hub
from accord.services.workloads import submit_full_parts
from accord.state.models import Coupling
from accord.state.runtime_tables import WorkloadRow
from accord.sync.full import full_sync
from accord.testing.sandbox import settings_from_sandbox
from bench.accord_side import MAPPING, PREREQUISITES, unfiltered
from bench.procs import BC, DV, REPO, SandboxProcess, _env, drop_queue, fresh_database

Log = Callable[[str], None]
BROKER = os.environ.get("ACCORD_BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
TARGET = 3.0
"""Four workers at least three times as fast as one (issue 8)."""


def workers(
    records: int,
    log: Log,
    *,
    counts: tuple[int, ...] = (1, 2, 4),
    part_size: int = 20,
    latency: float = 0.2,
    broker: str = BROKER,
    seed: int = 7,
) -> dict[str, Any]:
    """Time the split full sync of ``records`` customers with each number of workers."""
    with SandboxProcess(BC, records, seed) as bc:  # read only by the timed sync: shared
        runs = {str(n): _run(n, bc, log, part_size, latency, broker, seed) for n in counts}
    rates = {n: r["records_per_s"] for n, r in runs.items()}
    out: dict[str, Any] = {
        "records": runs[str(counts[0])]["records"],
        "part_size": part_size,
        "latency_per_request_seconds": latency,
        "broker": broker.split(":", 1)[0],
        "records_per_s_by_workers": rates,
        "seconds_by_workers": {n: r["seconds"] for n, r in runs.items()},
        "speedup_by_workers": {
            n: round(rate / rates[str(counts[0])], 2) for n, rate in rates.items()
        },
        "runs": runs,
    }
    if "1" in rates and "4" in rates:
        out["target_speedup_4_vs_1"] = TARGET
        out["met"] = rates["4"] >= TARGET * rates["1"]
    return out


def _run(
    n: int, bc: SandboxProcess, log: Log, part_size: int, latency: float, broker: str, seed: int
) -> dict[str, Any]:
    with ExitStack() as stack:
        home = Path(tempfile.mkdtemp(prefix="accord-workers-"))
        stack.callback(shutil.rmtree, home, True)
        dv = stack.enter_context(SandboxProcess(DV, 0, seed))
        url = stack.enter_context(fresh_database("accord_bench"))
        hub = Hub(Settings(home=home), database_url=url)
        stack.callback(hub.close)
        for side, box in (("bc", bc), ("dv", dv)):
            setup.connect(hub, settings_from_sandbox(box.handle, name=side))
        setup.init_integration(hub, unfiltered(home), {"erp": "bc", "crm": "dv"})
        with hub.context() as ctx:  # untimed: CUSTOMER's salesperson lookup must resolve
            full_sync(ctx, PREREQUISITES)
        _, accounts_before = _check(hub)
        _limit(bc, dv, latency)
        stack.callback(_limit, bc, dv, 0.0)
        queue = f"accord-bench-{uuid.uuid4().hex[:10]}"
        app = make_app(broker, queue)
        stack.callback(drop_queue, app, queue)
        stack.enter_context(_workers(n, home, url, broker, queue, app))
        executor = CeleryExecutor(hub.db, app)
        started = time.perf_counter()
        parts = submit_full_parts(hub, executor.submit, MAPPING, "to_crm", part_size=part_size)
        statuses = _wait([p.row.key for p in parts], hub)
        seconds = time.perf_counter() - started
        coupled, accounts = _check(hub)
        spread = _spread(hub, [p.row.key for p in parts])
        log(f"{n} worker(s): {coupled} customers in {seconds:.1f} s ({len(parts)} parts)")
        return {
            "workers": n,
            "records": coupled,
            "seconds": round(seconds, 2),
            "records_per_s": round(coupled / seconds, 1),
            "parts": len(parts),
            "parts_failed": statuses.get("failed", 0),
            "accounts_created": accounts - accounts_before,
            **spread,
        }
    raise AssertionError("unreachable")


def _limit(bc: SandboxProcess, dv: SandboxProcess, latency: float) -> None:
    """Every API request waits ``latency`` seconds; no request limit."""
    for box in (bc, dv):
        limits = {"requests": None, "latency": latency}
        box._admin.post("/_sandbox/limits", json=limits).raise_for_status()


def _check(hub: Hub) -> tuple[int, int]:
    """Coupled customers, and the accounts at Dataverse (one each: nothing created twice)."""
    with hub.context() as ctx, hub.db.session() as session:
        coupled = session.scalar(
            select(func.count())
            .select_from(Coupling)
            .where(Coupling.mapping_id == ctx.mapping_id(MAPPING), Coupling.state == "coupled")
        )
        accounts = ctx.connector("crm").count(ctx.mapping(MAPPING).entity("crm"), None)
    return int(coupled or 0), accounts


def _spread(hub: Hub, keys: list[str]) -> dict[str, Any]:
    """How the parts spread over the workers: parts per worker, starts, busy seconds."""
    with hub.db.session() as session:
        found = session.scalars(select(WorkloadRow).where(WorkloadRow.key.in_(keys))).all()
    per_worker: dict[str, int] = {}
    for row in found:
        name = (row.worker or "?").rsplit(":", 1)[0]  # host:pid (the rest names a thread)
        per_worker[name] = per_worker.get(name, 0) + 1
    busy = sum(
        (r.finished_at - r.started_at).total_seconds()
        for r in found
        if r.finished_at and r.started_at
    )
    return {
        "parts_by_worker": per_worker,
        "attempts": sum(r.attempts for r in found),
        "part_seconds_mean": round(busy / max(len(found), 1), 2),
    }


def _wait(keys: list[str], hub: Hub, timeout: float = 3600.0) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        with hub.db.session() as session:
            rows = session.execute(
                select(WorkloadRow.status, func.count())
                .where(WorkloadRow.key.in_(keys))
                .group_by(WorkloadRow.status)
            ).all()
        statuses = {status: int(count) for status, count in rows}
        if statuses.get("done", 0) + statuses.get("failed", 0) == len(keys):
            return statuses
        if time.monotonic() > deadline:
            raise RuntimeError(f"parts not finished after {timeout} s: {statuses}")
        time.sleep(0.1)


@contextmanager
def _workers(n: int, home: Path, url: str, broker: str, queue: str, app: Any) -> Iterator[None]:
    """``n`` ``accord worker`` processes on ``queue``, answering a ping before timing starts."""
    procs = []
    try:
        for i in range(n):
            argv = [
                *(sys.executable, "-m", "accord.cli.app", "--home", str(home)),
                *("--database-url", url, "worker", "--broker", broker, "--queue", queue),
                *("--name", f"w{i}@{queue}", "--sweep-seconds", "0"),
            ]
            with (home / f"worker-{i}.log").open("ab") as log:
                procs.append(
                    subprocess.Popen(
                        argv, cwd=REPO, env=_env(), stdout=log, stderr=subprocess.STDOUT
                    )
                )
        deadline = time.monotonic() + 120
        while len(app.control.ping(timeout=1.0) or []) < n:
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                logs = "\n".join(p.read_text()[-2000:] for p in home.glob("worker-*.log"))
                raise RuntimeError(f"workers did not start:\n{logs}")
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def rows(figures: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The table ``python -m bench workers`` prints without --json."""
    out = [
        ("records", str(figures["records"]), ""),
        ("part size", str(figures["part_size"]), "records per workload"),
    ]
    for n, rate in figures["records_per_s_by_workers"].items():
        speedup = figures["speedup_by_workers"][n]
        out.append((f"{n} worker(s)", f"{rate} records/s", f"x{speedup}"))
    return out
