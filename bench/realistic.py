"""``full-sync --realistic``: Accord's full CUSTOMER sync with the sandboxes' service-protection
limits on, against the ceiling those limits allow.

Both sandboxes run in their own processes with the presets of
:mod:`accord.sandboxes.common.limits` (the numbers of api-protocols.md, ADR 0015), their windows
``scale`` times shorter (same rates). The windows start over when the timed pass starts, and
Dataverse's then holds a whole window of execution time, spread evenly, as if this user had been
at its budget all along: the run measures the steady state from its first second rather than a
burst into an empty window. The ceiling is the
lowest rate any limit allows for the sync's essential work: writing N accounts in ``$batch``
requests of ``batch_size`` (Dataverse's request count, execution time and concurrency), and
reading N customers in pages of 20,000 (Business Central's request count and concurrency).
Accord's own extra requests (look-ups for matching, metadata) are not in the ceiling.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from accord.sandboxes.common.limits import ServiceLimits
from bench.procs import BC, DV, SandboxProcess, run_child

Log = Callable[[str], None]
TARGET = 0.9
BC_PAGE = 20_000
"""Business Central's largest page (Accord asks for it)."""
RETRY = {"max_throttled_attempts": 1000, "max_retry_after": 300}
"""Throttled tries do not use up the retry budget: under a limit, waiting is the job."""


def _switch_on(sandbox: SandboxProcess, settings: dict[str, Any]) -> ServiceLimits:
    response = sandbox._admin.post("/_sandbox/service-limits", json=settings)
    response.raise_for_status()
    return ServiceLimits(**response.json())


def _seen(sandbox: SandboxProcess) -> dict[str, Any]:
    response = sandbox._admin.get("/_sandbox/service-limits")
    response.raise_for_status()
    seen: dict[str, Any] = response.json()
    return seen


def ceiling(bc: ServiceLimits, dv: ServiceLimits, batch_size: int) -> dict[str, float]:
    """Records per second each limit allows; ``ceiling`` is the lowest."""
    rates = {
        "dataverse_writes": dv.write_ceiling(batch_size),
        "business_central_reads": min(
            bc.requests / bc.window_seconds * BC_PAGE,
            bc.concurrent * BC_PAGE / max(bc.latency_per_request, 1e-9),
        ),
    }
    rates["ceiling"] = min(rates.values())
    return {k: round(v, 1) for k, v in rates.items()}


def realistic(
    records: int,
    seed: int = 7,
    log: Log = print,
    *,
    scale: float = 10.0,
    batch_size: int = 100,
) -> dict[str, Any]:
    """Figures of one limited full sync of ``records`` customers."""
    log(f"starting sandboxes ({records} BC customers), limits on, windows / {scale:g} ...")
    began = time.perf_counter()
    with SandboxProcess(BC, records, seed) as bc, SandboxProcess(DV, 0, seed) as dv:
        bc_limits = _switch_on(bc, {"scale": scale})
        dv_limits = _switch_on(dv, {"scale": scale, "prefill_execution": 1.0})
        log(f"sandboxes ready in {time.perf_counter() - began:.0f} s; Accord's full sync ...")
        config = {
            "bc": bc.facts,
            "dv": dv.facts,
            "bc_ready_at": bc.ready_at,
            "incremental": False,
            "reconcile_percent": 0.0,
            "restart_limits": True,
            "options": {
                "bc": {"retry": RETRY},
                "dv": {"retry": RETRY, "batch_size": batch_size},
            },
        }
        accord = run_child("bench.accord_side", config)
        seen = {"business_central": _seen(bc), "dataverse": _seen(dv)}
    full = accord["full"]
    rates = ceiling(bc_limits, dv_limits, batch_size)
    accord_rate = records / full["seconds"]
    figures: dict[str, Any] = {
        "records": records,
        "accord_records_per_s": round(accord_rate, 1),
        "ceiling_records_per_s": rates["ceiling"],
        "ratio": round(accord_rate / rates["ceiling"], 3),
        "ceiling_by_limit": rates,
        "full_sync_seconds": round(full["seconds"], 2),
        "status": full["status"],
        "counts": full["counts"],
        "seen_by_sandbox": seen,
        "limits": {
            "scale": scale,
            "batch_size": batch_size,
            "business_central": _settings(bc_limits),
            "dataverse": _settings(dv_limits),
        },
        "requests_by_side": {side: s["total"] for side, s in full["requests"].items()},
        "failure_reasons": accord.get("failure_reasons", []),
    }
    figures["targets_met"] = {"realistic_ceiling": figures["ratio"] >= TARGET}
    return figures


def _settings(limits: ServiceLimits) -> dict[str, Any]:
    keep = (
        "requests",
        "window_seconds",
        "concurrent",
        "queue",
        "execution_ms",
        "batch_counts",
        "execution_ms_per_request",
        "execution_ms_per_record",
        "latency_per_request",
        "latency_per_record",
        "retry_after",
        "prefill_execution",
        "prefill_requests",
    )
    return {key: getattr(limits, key) for key in keep}


def rows(f: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The readable table."""
    met = "met" if f["targets_met"]["realistic_ceiling"] else "NOT met"
    dv = f["seen_by_sandbox"]["dataverse"]
    return [
        ("records", str(f["records"]), ""),
        ("Accord records/s", f"{f['accord_records_per_s']:.1f}", ""),
        ("ceiling records/s", f"{f['ceiling_records_per_s']:.1f}", "lowest of the limits"),
        ("ratio", f"{f['ratio']:.3f}", f">= {TARGET} {met}"),
        ("full sync seconds", f"{f['full_sync_seconds']:.1f}", f["status"]),
        ("Dataverse 429s", str(sum(dv["throttled"].values())), str(dv["throttled"])),
        ("Dataverse peak concurrent", str(dv["peak_concurrent"]), ""),
        ("requests before Retry-After", str(dv["early_requests"]), "must be 0"),
    ]
