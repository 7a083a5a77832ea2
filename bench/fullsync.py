"""``full-sync``: baseline and Accord over the same sandboxes, each sandbox its own process.

One Business Central sandbox (N customers) serves both reads; each side writes into its own
fresh, empty Dataverse sandbox. Both measured runs happen in fresh child processes.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from collections.abc import Callable
from typing import Any

from bench.figures import full_sync_figures, targets_met
from bench.procs import BC, DV, REPO, SandboxProcess, run_child

Log = Callable[[str], None]


def commit() -> str | None:
    """The checked-out commit (read only: ``git rev-parse``)."""
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or None


def machine(started_at: str | None) -> dict[str, Any]:
    """Where and when; ``tree_moved`` when the checked-out commit changed during the run."""
    ended_at = commit()
    return {
        "commit": started_at,
        "tree_moved": started_at != ended_at,
        "date": dt.date.today().isoformat(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


def run_baseline(bc: SandboxProcess, seed: int) -> dict[str, Any]:
    """The hand-written copy into a fresh Dataverse sandbox; request counts from both."""
    with SandboxProcess(DV, 0, seed) as dv:
        bc.reset_stats()
        dv.reset_stats()
        result = run_child("bench.baseline", {"bc": bc.facts, "dv": dv.facts})
        by_side = {"bc": bc.stats()["total"], "dv": dv.stats()["total"]}
    result["requests_by_side"] = by_side
    result["request_total"] = sum(by_side.values())
    return result


def run_accord(
    bc: SandboxProcess, seed: int, incremental: bool = True, wait: bool = True
) -> dict[str, Any]:
    """Accord's full sync (and no-change incremental) into a fresh Dataverse sandbox."""
    with SandboxProcess(DV, 0, seed) as dv:
        config = {
            "bc": bc.facts,
            "dv": dv.facts,
            "bc_ready_at": bc.ready_at,
            "incremental": incremental,
            "wait_out_overlap": wait,
        }
        return run_child("bench.accord_side", config)


def full_sync(records: int, seed: int = 7, log: Log = print, wait: bool = True) -> dict[str, Any]:
    """Every figure of the full-sync benchmark at ``records`` customers."""
    started_at = commit()
    log(f"starting a Business Central sandbox with {records} customers ...")
    with SandboxProcess(BC, records, seed) as bc:
        log("baseline: hand-written copy ...")
        baseline = run_baseline(bc, seed)
        log(f"baseline: {baseline['seconds']:.2f} s; Accord: full sync + incremental ...")
        accord = run_accord(bc, seed, wait=wait)
    figures = full_sync_figures(records, baseline, accord)
    figures["targets_met"] = targets_met(figures)
    figures["machine"] = machine(started_at)
    return figures


def memory(records: int, seed: int = 7, log: Log = print) -> dict[str, Any]:
    """Peak RSS of Accord's full sync at ``records // 10`` and ``records`` customers."""
    started_at = commit()
    sizes = [max(1, records // 10), records]
    peaks: dict[int, dict[str, Any]] = {}
    for size in sizes:
        log(f"memory: Accord full sync of {size} customers ...")
        with SandboxProcess(BC, size, seed) as bc:
            result = run_accord(bc, seed, incremental=False)
        peaks[size] = {
            "peak_rss_mb": round(result["peak_rss_mb"], 1),
            "rss_before_full_sync_mb": round(result["rss_before_mb"], 1),
            "full_sync_seconds": round(result["full"]["seconds"], 3),
            "status": result["full"]["status"],
            "counts": result["full"]["counts"],
        }
    small, large = (peaks[s]["peak_rss_mb"] for s in sizes)
    figures: dict[str, Any] = {
        "records": records,
        "sizes": sizes,
        "peak_rss_mb": {str(s): peaks[s]["peak_rss_mb"] for s in sizes},
        "memory_ratio": round(large / small, 3) if small else None,
        "runs": {str(s): peaks[s] for s in sizes},
    }
    figures["targets_met"] = targets_met(figures)
    figures["machine"] = machine(started_at)
    return figures
