"""Child process: Accord's CUSTOMER full sync (BC -> Dataverse), a no-change incremental, and
a snapshot reconciliation.

Reads ``{"bc": facts, "dv": facts, "bc_ready_at": epoch, "incremental": bool,
"reconcile_percent": float, "options": {"bc"|"dv": {...}}}`` as JSON on stdin (the sandboxes'
connection facts; when BC finished seeding; connection options per side) and prints one JSON
object: timings, pass counters, sandbox request counts per phase, and ``ru_maxrss`` of this
process after the full sync (``peak_rss_mb``). With ``reconcile_percent``, a last phase deletes
that share of the BC customers and times a snapshot reconciliation (a full pass).
"""

from __future__ import annotations

import json
import resource
import shutil
import ssl
import sys
import tempfile
import time
from collections import Counter
from importlib import resources
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
from sqlalchemy import func, select

from accord.config.settings import Settings
from accord.mapping.fields import PassDirection
from accord.services import setup
from accord.services.hub import Hub
from accord.state import couplings
from accord.state.models import JobError
from accord.sync.context import SyncContext
from accord.sync.full import full_sync
from accord.sync.passes import PassKind, PassOptions, PassResult, run_pass
from accord.testing.sandbox import settings_from_sandbox
from bench import reconcile
from bench.procs import CpuMeter

MAPPING = "CUSTOMER"
PREREQUISITES = ["SALESPEOPLE"]
"""Synced before the measurement: ``salespersonCode`` is a ``not_null`` lookup without
``clear_on_failed_lookup``, so customers fail while their salesperson is uncoupled."""
DIRECTIONS: tuple[PassDirection, ...] = ("to_crm", "to_erp")
MARGIN = 5.0
"""Seconds waited beyond the overlap window before the settling passes."""


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Sandboxes:
    """Stats of both sandboxes over HTTP (the admin routes are not counted)."""

    def __init__(self, facts: dict[str, dict[str, Any]]):
        self.clients = {
            side: httpx.Client(
                base_url=f["origin"], verify=ssl.create_default_context(cafile=f["ca_cert"])
            )
            for side, f in facts.items()
        }

    def reset(self) -> None:
        for client in self.clients.values():
            client.post("/_sandbox/reset-stats").raise_for_status()

    def restart_limits(self) -> None:
        """Start the service-protection windows over (a steady state from now)."""
        for client in self.clients.values():
            client.post("/_sandbox/service-limits/restart").raise_for_status()

    def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for side, client in self.clients.items():
            response = client.get("/_sandbox/stats")
            response.raise_for_status()
            body = response.json()
            out[side] = {"total": body["total"], "by_route": body["by_route"]}
        return out

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


def _pass(
    ctx: SyncContext, direction: PassDirection, kind: PassKind, sandboxes: Sandboxes
) -> dict[str, Any]:
    sandboxes.reset()
    started = time.perf_counter()
    result = run_pass(ctx, MAPPING, direction, PassOptions(kind=kind))
    seconds = time.perf_counter() - started
    return _describe(result, seconds, sandboxes.stats())


def _describe(result: PassResult, seconds: float, stats: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": result.status,
        "message": result.message,
        "seconds": seconds,
        "counts": dict(result.counts),
        "requests": stats,
        "request_total": sum(s["total"] for s in stats.values()),
    }


def _wait_out_overlap(ctx: SyncContext, changed_at: float) -> float:
    """Sleep until the BC customers' last change is older than the overlap window.

    Records changed within ``overlap_seconds`` of a pass are legitimately read again (late
    commits); the no-change pass is meant to measure the steady state after that window.
    ``MARGIN`` covers the engine's re-read boundary and the whole-second HTTP ``Date``.
    """
    overlap = ctx.mapping(MAPPING).spec.overlap_seconds
    wait = max(0.0, changed_at + overlap + MARGIN - time.time())
    time.sleep(wait)
    return wait


def _failure_reasons(hub: Hub, limit: int = 5) -> list[dict[str, Any]]:
    with hub.db.session() as session:
        rows = session.execute(
            select(JobError.message, func.count())
            .group_by(JobError.message)
            .order_by(func.count().desc())
            .limit(limit)
        )
        return [{"message": message, "records": count} for message, count in rows]


def unfiltered(folder: Path) -> str:
    """bc-sales without its table filters, as a YAML file: the baseline writes every seeded
    customer (blocked ones too), so Accord is timed on the same records."""
    import yaml

    from accord.config.loader import BUILTIN_PACKAGE

    data = yaml.safe_load((resources.files(BUILTIN_PACKAGE) / "bc-sales.yaml").read_text())
    for mapping in data["mappings"]:
        mapping.pop("filters", None)
    path = folder / "bc-sales-unfiltered.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)


def run(config: dict[str, Any]) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="accord-bench-"))
    sandboxes = Sandboxes({"bc": config["bc"], "dv": config["dv"]})
    hub = Hub(Settings(home=home), database_url=f"sqlite:///{home / 'accord.db'}")
    try:
        options = config.get("options") or {}  # per side: connection options (retry, ...)
        for side in ("bc", "dv"):
            facts = SimpleNamespace(**config[side])
            setup.connect(hub, settings_from_sandbox(facts, name=side, **options.get(side, {})))
        setup.init_integration(hub, unfiltered(home), {"erp": "bc", "crm": "dv"})
        with hub.context() as ctx:  # untimed: CUSTOMER's one lookup that must resolve
            prep = [
                {
                    "mapping": r.mapping,
                    "status": r.status,
                    "counts": dict(r.coupling.counts) if r.coupling else {},
                }
                for r in full_sync(ctx, PREREQUISITES)
            ]
        rss_before = peak_rss_mb()
        full = _timed_full_pass(hub, config, sandboxes)
        out: dict[str, Any] = {
            "prerequisites": prep,
            "rss_before_mb": rss_before,
            "peak_rss_mb": peak_rss_mb(),
            "full": full,
        }
        if config.get("incremental", True):
            with hub.context() as ctx:  # one long-lived context, as the scheduler keeps
                out["waited_seconds"] = (
                    _wait_out_overlap(ctx, config["bc_ready_at"])
                    if config.get("wait_out_overlap", True)
                    else 0.0
                )
                out["settle"] = {d: _pass(ctx, d, "incremental", sandboxes) for d in DIRECTIONS}
                out["noop"] = {d: _pass(ctx, d, "incremental", sandboxes) for d in DIRECTIONS}
            out["peak_rss_mb_all_passes"] = peak_rss_mb()
        if config.get("reconcile_percent"):
            out["reconcile"] = _reconcile(hub, config, sandboxes)
        out["failure_reasons"] = _failure_reasons(hub)
        out["totals"] = dict(sum((Counter(p["counts"]) for p in _passes(out)), Counter()))
        return out
    finally:
        hub.close()
        sandboxes.close()
        shutil.rmtree(home, ignore_errors=True)


def _timed_full_pass(hub: Hub, config: dict[str, Any], sandboxes: Sandboxes) -> dict[str, Any]:
    """One timed full CUSTOMER pass in a fresh context (as `accord sync --full` opens one),
    with its requests and the CPU seconds of each process."""
    sandboxes.reset()
    if config.get("restart_limits"):
        sandboxes.restart_limits()
    meter = _meter(config)
    started = time.perf_counter()
    with hub.context() as ctx:
        result = run_pass(ctx, MAPPING, "to_crm", PassOptions(kind="full"))
    out = _describe(result, time.perf_counter() - started, sandboxes.stats())
    out["cpu_seconds"] = meter.stop()
    return out


def _meter(config: dict[str, Any]) -> CpuMeter:
    """CPU time of this process and of both sandboxes (when their pids are known)."""
    pids: dict[str, int | None] = {"accord": None}
    pids.update({side: config[side]["pid"] for side in ("bc", "dv") if "pid" in config[side]})
    return CpuMeter(pids)


def _reconcile(hub: Hub, config: dict[str, Any], sandboxes: Sandboxes) -> dict[str, Any]:
    """Delete a share of the coupled BC customers through the BC API, then time one full
    pass in a fresh context: the snapshot diff finds them (CUSTOMER's policy: uncouple)."""
    with hub.context() as ctx, hub.db.session() as session:
        mapping_id = ctx.mapping_id(MAPPING)
        policy = ctx.mapping(MAPPING).spec.deletion
        coupled = couplings.pairs(session, mapping_id, ("erp", "crm"), 10**9)
        ids = reconcile.every_nth((e for e, _c, _k in coupled if e), config["reconcile_percent"])
    delete_seconds = reconcile.delete_customers(config["bc"], ids)
    rss_before = peak_rss_mb()
    out = _timed_full_pass(hub, config, sandboxes)
    out.update(
        deleted=len(ids),
        delete_seconds=delete_seconds,
        policy=policy,
        peak_rss_mb=peak_rss_mb(),
        peak_rss_mb_before=rss_before,
    )
    return out


def _passes(out: dict[str, Any]) -> list[dict[str, Any]]:
    found = [out["full"]]
    if "reconcile" in out:
        found.append(out["reconcile"])
    for phase in ("settle", "noop"):
        found.extend(out.get(phase, {}).values())
    return found


def main() -> None:
    print(json.dumps(run(json.load(sys.stdin))), flush=True)


if __name__ == "__main__":
    main()
