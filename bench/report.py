"""A readable table of a benchmark's figures."""

from __future__ import annotations

from typing import Any

from bench.figures import TARGETS

Row = tuple[str, str, str]


def _mark(met: dict[str, bool], key: str) -> str:
    if key not in met:
        return ""
    return "met" if met[key] else "MISSED"


def full_sync_rows(f: dict[str, Any]) -> list[Row]:
    met = f.get("targets_met", {})
    rows: list[Row] = [
        ("records", str(f["records"]), ""),
        ("Accord records/s", f"{f['accord_records_per_s']:.0f}", ""),
        ("baseline records/s", f"{f['baseline_records_per_s']:.0f}", ""),
        (
            "throughput ratio",
            f"{f['throughput_ratio']:.2f}",
            f">= {TARGETS['throughput_ratio']} {_mark(met, 'throughput')}",
        ),
        (
            "full sync seconds (Accord / baseline)",
            f"{f['full_sync_seconds']:.2f} / {f['baseline_seconds']:.2f}",
            "",
        ),
        (
            "requests (Accord / minimum / baseline)",
            f"{f['requests']} / {f['min_requests']} / {f['baseline_requests']}",
            "",
        ),
        (
            "requests per record (Accord / minimum)",
            f"{f['requests_per_record']:.5f} / {f['min_requests_per_record']:.5f}",
            "",
        ),
        (
            "requests ratio",
            f"{f['requests_ratio']:.2f}",
            f"<= {TARGETS['requests_ratio']} {_mark(met, 'requests')}",
        ),
        (
            "peak RSS MB (Accord / baseline)",
            f"{f['peak_rss_mb']:.0f} / {f['baseline_peak_rss_mb']:.0f}",
            "",
        ),
        ("full sync counts", _counts(f["full_sync_counts"]), f["full_sync_status"]),
    ]
    if "incremental_noop_requests" in f:
        by_dir = f["incremental_noop_requests_by_direction"]
        rows += [
            (
                "no-change incremental requests",
                f"{f['incremental_noop_requests']} ("
                + ", ".join(f"{d} {n}" for d, n in by_dir.items())
                + ")",
                f"<= {TARGETS['noop_requests_per_direction']} per direction "
                + _mark(met, "noop_requests"),
            ),
            ("no-change incremental seconds", f"{f['incremental_noop_seconds']:.3f}", ""),
            (
                "no-change / full sync time",
                f"{f['incremental_noop_ratio']:.2%}",
                f"< {TARGETS['noop_ratio']:.0%} {_mark(met, 'noop_time')}",
            ),
        ]
        for direction, p in f["settle_passes"].items():
            rows.append(
                (
                    f"settling pass {direction}",
                    f"{p['requests']} requests, {p['seconds']:.2f} s",
                    _counts(p["counts"]),
                )
            )
    rec = f.get("snapshot_reconcile")
    if rec:
        rows += [
            (
                "snapshot reconciliation seconds (Accord / baseline)",
                f"{rec['seconds']:.2f} / {rec['baseline_seconds']:.2f}",
                f"{rec['deleted_in_source']} deleted, policy {rec['deletion_policy']}",
            ),
            (
                "snapshot reconciliation requests (Accord / minimum / baseline)",
                f"{rec['requests']} / {rec['min_requests']} / {rec['baseline_requests']}",
                _counts(rec["counts"]),
            ),
        ]
    for reason in f.get("failure_reasons", []):
        rows.append(("failed", str(reason["records"]), reason["message"][:80]))
    return rows


def memory_rows(f: dict[str, Any]) -> list[Row]:
    met = f.get("targets_met", {})
    rows: list[Row] = [
        (f"peak RSS MB at {size} records", f"{mb:.1f}", "") for size, mb in f["peak_rss_mb"].items()
    ]
    rows.append(
        (
            "ratio (largest / smallest)",
            f"{f['memory_ratio']:.2f}",
            f"<= {TARGETS['memory_ratio']} {_mark(met, 'memory')}",
        )
    )
    return rows


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "-"


def table(rows: list[Row]) -> str:
    """Three aligned columns: figure, value, target (or note)."""
    width = [max(len(r[i]) for r in rows) for i in range(2)]
    return "\n".join(f"{a:<{width[0]}}  {b:>{width[1]}}  {c}".rstrip() for a, b, c in rows)
