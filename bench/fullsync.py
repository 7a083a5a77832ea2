"""``full-sync``: baseline and Accord over the same sandboxes, each sandbox its own process.

One Business Central sandbox (N customers) serves both reads; each side writes into its own
fresh, empty Dataverse sandbox. Both measured runs happen in fresh child processes.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.figures import full_sync_figures, reconcile_figures, targets_met
from bench.procs import BC, DV, REPO, CpuMeter, SandboxProcess, run_child

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


def uncommitted() -> list[str]:
    """Tracked files changed in the working tree (read only: ``git status``); the figures
    measure them too."""
    done = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    return sorted(line[3:] for line in done.stdout.splitlines() if line.strip())


def machine(started_at: str | None) -> dict[str, Any]:
    """Where and when; ``tree_moved`` when the checked-out commit changed during the run;
    ``uncommitted``: tracked files that differed from it when the run ended."""
    ended_at = commit()
    return {
        "commit": started_at,
        "tree_moved": started_at != ended_at,
        "uncommitted": uncommitted(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "date": dt.date.today().isoformat(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


def run_baseline(
    bc: SandboxProcess, dv: SandboxProcess, pairs_file: str | None = None
) -> dict[str, Any]:
    """The hand-written copy into a fresh Dataverse sandbox; request counts from both."""
    bc.reset_stats()
    dv.reset_stats()
    config = {"bc": bc.facts, "dv": dv.facts, "pairs_file": pairs_file}
    meter = CpuMeter({"bc": bc.proc.pid, "dv": dv.proc.pid})
    result = run_child("bench.baseline", config)
    result["sandbox_cpu_seconds"] = meter.stop()
    by_side = {"bc": bc.stats()["total"], "dv": dv.stats()["total"]}
    result["requests_by_side"] = by_side
    result["request_total"] = sum(by_side.values())
    return result


def run_baseline_reconcile(
    bc: SandboxProcess, dv: SandboxProcess, pairs_file: str
) -> dict[str, Any]:
    """The baseline's snapshot reconciliation (after the BC deletes Accord's run made)."""
    bc.reset_stats()
    dv.reset_stats()
    result = run_child("bench.reconcile", {"bc": bc.facts, "pairs_file": pairs_file})
    by_side = {"bc": bc.stats()["total"], "dv": dv.stats()["total"]}
    result["requests_by_side"] = by_side
    result["request_total"] = sum(by_side.values())
    return result


def run_accord(
    bc: SandboxProcess,
    seed: int,
    incremental: bool = True,
    wait: bool = True,
    reconcile_percent: float = 0.0,
) -> dict[str, Any]:
    """Accord's full sync (and no-change incremental, and snapshot reconciliation) into a
    fresh Dataverse sandbox."""
    with SandboxProcess(DV, 0, seed) as dv:
        config = {
            "bc": bc.facts,
            "dv": dv.facts,
            "bc_ready_at": bc.ready_at,
            "incremental": incremental,
            "wait_out_overlap": wait,
            "reconcile_percent": reconcile_percent if incremental else 0.0,
        }
        return run_child("bench.accord_side", config)


def full_sync(
    records: int,
    seed: int = 7,
    log: Log = print,
    wait: bool = True,
    reconcile_percent: float = 1.0,
) -> dict[str, Any]:
    """Every figure of the full-sync benchmark at ``records`` customers.

    The baseline's Dataverse sandbox stays up through Accord's run: after Accord's last phase
    deleted ``reconcile_percent`` % of the BC customers, the baseline reconciles too.
    """
    started_at = commit()
    log(f"starting a Business Central sandbox with {records} customers ...")
    with (
        tempfile.TemporaryDirectory(prefix="accord-bench-") as folder,
        SandboxProcess(BC, records, seed) as bc,
        SandboxProcess(DV, 0, seed) as baseline_dv,
    ):
        pairs = str(Path(folder) / "baseline-pairs.tsv")
        log(f"BC sandbox ready in {bc.start_seconds:.0f} s")
        log("baseline: hand-written copy ...")
        baseline = run_baseline(bc, baseline_dv, pairs)
        log(f"baseline: {baseline['seconds']:.2f} s; Accord: full sync + incremental ...")
        accord = run_accord(bc, seed, wait=wait, reconcile_percent=reconcile_percent)
        log(f"Accord: full sync {accord['full']['seconds']:.2f} s")
        base_reconcile = None
        if "reconcile" in accord:
            log("baseline: snapshot reconciliation ...")
            base_reconcile = run_baseline_reconcile(bc, baseline_dv, pairs)
    figures = full_sync_figures(records, baseline, accord)
    if base_reconcile is not None:
        figures["snapshot_reconcile"] = reconcile_figures(records, accord, base_reconcile)
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
        began = time.perf_counter()
        with SandboxProcess(BC, size, seed) as bc:
            log(f"memory: BC sandbox with {size} customers ready in {bc.start_seconds:.0f} s")
            result = run_accord(bc, seed, incremental=False)
        peaks[size] = {
            "bc_sandbox_start_seconds": round(bc.start_seconds, 1),
            "run_seconds": round(time.perf_counter() - began, 1),
            "peak_rss_mb": round(result["peak_rss_mb"], 1),
            "rss_before_full_sync_mb": round(result["rss_before_mb"], 1),
            "full_sync_seconds": round(result["full"]["seconds"], 3),
            "cpu_seconds": result["full"].get("cpu_seconds", {}),
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
