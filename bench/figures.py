"""The benchmark's arithmetic: minimum request counts, ratios and target checks."""

from __future__ import annotations

import math
from typing import Any

from bench import reconcile

BC_PAGE = 20_000
"""Business Central's maximum page size (``odata.maxpagesize``)."""
DV_BATCH = 1_000
"""Dataverse's maximum requests per ``$batch``."""
TOKEN_REQUESTS = 2
"""One client-credentials token request per system."""
MATCH_CHECK = 1
"""Match before create: every create first looks for its counterpart. Into an empty
destination one request (a count) shows there is none, so no record needs a look-up; into
a non-empty one the look-ups would be batched by value (not measured here)."""

TARGETS = {
    "throughput_ratio": 0.85,  # at least
    "requests_ratio": 1.1,  # at most
    "memory_ratio": 1.2,  # at most (peak RSS at N over N/10)
    "noop_requests_per_direction": 2,  # at most, per mapping and direction
    "noop_ratio": 0.02,  # below
}


def min_requests(records: int) -> int:
    """Token requests + ``ceil(N/20000)`` BC pages + ``ceil(N/1000)`` Dataverse batches +
    the one request that shows the destination holds no match."""
    pages = max(1, math.ceil(records / BC_PAGE))
    return TOKEN_REQUESTS + pages + math.ceil(records / DV_BATCH) + MATCH_CHECK


def per_second(records: int, seconds: float) -> float:
    return records / seconds if seconds > 0 else 0.0


def full_sync_figures(
    records: int, baseline: dict[str, Any], accord: dict[str, Any]
) -> dict[str, Any]:
    """Every figure of one ``full-sync`` run (baseline and Accord child reports merged)."""
    full = accord["full"]
    accord_rps = per_second(records, full["seconds"])
    baseline_rps = per_second(records, baseline["seconds"])
    minimum = min_requests(records)
    out: dict[str, Any] = {
        "records": records,
        "accord_records_per_s": round(accord_rps, 1),
        "baseline_records_per_s": round(baseline_rps, 1),
        "throughput_ratio": round(accord_rps / baseline_rps, 3) if baseline_rps else None,
        "full_sync_seconds": round(full["seconds"], 3),
        "baseline_seconds": round(baseline["seconds"], 3),
        "requests": full["request_total"],
        "requests_per_record": round(full["request_total"] / records, 5),
        "min_requests": minimum,
        "min_requests_per_record": round(minimum / records, 5),
        "requests_ratio": round(full["request_total"] / minimum, 3),
        "accord_requests_by_side": {side: s["total"] for side, s in full["requests"].items()},
        "accord_requests_by_route": {side: s["by_route"] for side, s in full["requests"].items()},
        "baseline_requests": baseline["request_total"],
        "baseline_requests_by_side": baseline["requests_by_side"],
        "cpu_seconds": {
            "accord": full.get("cpu_seconds", {}),
            "baseline": {
                "baseline": baseline.get("cpu_seconds"),
                **baseline.get("sandbox_cpu_seconds", {}),
            },
        },
        "peak_rss_mb": round(accord["peak_rss_mb"], 1),
        "rss_before_full_sync_mb": round(accord["rss_before_mb"], 1),
        "baseline_peak_rss_mb": round(baseline["peak_rss_mb"], 1),
        "full_sync_status": full["status"],
        "full_sync_counts": full["counts"],
        "failure_reasons": accord.get("failure_reasons", []),
        "baseline_written": baseline["written"],
        "baseline_failed": baseline["failed"],
        "prerequisites": accord.get("prerequisites", []),
    }
    if "noop" in accord:
        out.update(noop_figures(accord, full["seconds"]))
    return out


def noop_figures(accord: dict[str, Any], full_seconds: float) -> dict[str, Any]:
    """The no-change incremental pass (after one settling pass per direction)."""
    noop, settle = accord["noop"], accord["settle"]
    seconds = sum(p["seconds"] for p in noop.values())
    return {
        "incremental_noop_requests": sum(p["request_total"] for p in noop.values()),
        "incremental_noop_requests_by_direction": {d: p["request_total"] for d, p in noop.items()},
        "incremental_noop_seconds": round(seconds, 3),
        "incremental_noop_seconds_by_direction": {
            d: round(p["seconds"], 3) for d, p in noop.items()
        },
        "incremental_noop_ratio": round(seconds / full_seconds, 4) if full_seconds else None,
        "incremental_noop_counts": {d: p["counts"] for d, p in noop.items()},
        "settle_passes": {
            d: {
                "seconds": round(p["seconds"], 3),
                "counts": p["counts"],
                "requests": p["request_total"],
                "requests_by_route": {s: r["by_route"] for s, r in p["requests"].items()},
            }
            for d, p in settle.items()
        },
        "peak_rss_mb_all_passes": round(accord["peak_rss_mb_all_passes"], 1),
        "waited_before_settle_seconds": round(accord["waited_seconds"], 1),
    }


def reconcile_figures(
    records: int, accord: dict[str, Any], baseline: dict[str, Any]
) -> dict[str, Any]:
    """The snapshot reconciliation pass after deleting a share of the BC customers."""
    rec = accord["reconcile"]
    read = records - rec["deleted"]
    minimum = reconcile.min_requests(read, rec["deleted"], rec["policy"])
    by_route = {side: s["by_route"] for side, s in rec["requests"].items()}
    return {
        "deleted_in_source": rec["deleted"],
        "deletion_policy": rec["policy"],
        "records_read": read,
        "seconds": round(rec["seconds"], 3),
        "baseline_seconds": round(baseline["seconds"], 3),
        "speed_ratio": round(baseline["seconds"] / rec["seconds"], 3) if rec["seconds"] else None,
        "share_of_full_sync_time": round(rec["seconds"] / accord["full"]["seconds"], 3),
        "requests": rec["request_total"],
        "min_requests": minimum,
        "requests_ratio": round(rec["request_total"] / minimum, 3),
        "requests_by_route": by_route,
        "baseline_requests": baseline["request_total"],
        "baseline_found_gone": baseline["gone"],
        "status": rec["status"],
        "counts": rec["counts"],
        "cpu_seconds": rec.get("cpu_seconds", {}),
        "peak_rss_mb_after": round(rec["peak_rss_mb"], 1),
        "delete_seconds_untimed": round(rec["delete_seconds"], 1),
    }


def targets_met(figures: dict[str, Any]) -> dict[str, bool]:
    """Which targets a ``full-sync`` run meets (only those it measured)."""
    met: dict[str, bool] = {}
    if figures.get("throughput_ratio") is not None:
        met["throughput"] = figures["throughput_ratio"] >= TARGETS["throughput_ratio"]
    if "requests_ratio" in figures:
        met["requests"] = figures["requests_ratio"] <= TARGETS["requests_ratio"]
    if "incremental_noop_requests_by_direction" in figures:
        limit = TARGETS["noop_requests_per_direction"]
        met["noop_requests"] = all(
            n <= limit for n in figures["incremental_noop_requests_by_direction"].values()
        )
        met["noop_time"] = figures["incremental_noop_ratio"] < TARGETS["noop_ratio"]
    if "memory_ratio" in figures:
        met["memory"] = figures["memory_ratio"] <= TARGETS["memory_ratio"]
    return met
