"""Smoke test of the benchmark harness (``python -m bench``): the arithmetic, the table, and
one tiny end-to-end run with every sandbox in its own process."""

from __future__ import annotations

import json
import subprocess
import sys

from bench.figures import min_requests, targets_met
from bench.procs import REPO
from bench.report import table

from bench import reconcile


def test_min_requests_formula() -> None:
    # tokens + BC pages + Dataverse batches + the count that shows no match can exist
    assert min_requests(1) == 2 + 1 + 1 + 1
    assert min_requests(10_000) == 2 + 1 + 10 + 1
    assert min_requests(100_000) == 2 + 5 + 100 + 1
    assert min_requests(20_001) == 2 + 2 + 21 + 1


def test_reconcile_minimum_and_pick() -> None:
    assert reconcile.min_requests(99_000, 1_000, "uncouple") == 1 + 5
    assert reconcile.min_requests(0, 10, "uncouple") == 1 + 1
    assert reconcile.min_requests(99_000, 1_000, "propagate") == 1 + 5 + 1 + 1
    ids = [f"{i:04d}" for i in range(1000)]
    picked = reconcile.every_nth(reversed(ids), 1.0)
    assert picked == [f"{i:04d}" for i in range(99, 1000, 100)]
    assert reconcile.every_nth(ids, 0) == []


def test_targets_checked_only_when_measured() -> None:
    assert targets_met({"throughput_ratio": 0.85, "requests_ratio": 1.2}) == {
        "throughput": True,
        "requests": False,
    }
    assert targets_met({"memory_ratio": 1.1}) == {"memory": True}
    assert targets_met(
        {
            "incremental_noop_requests_by_direction": {"to_crm": 1, "to_erp": 3},
            "incremental_noop_ratio": 0.01,
        }
    ) == {"noop_requests": False, "noop_time": True}


def test_table_aligns_columns() -> None:
    lines = table([("a", "1", "x"), ("long name", "100", "")]).splitlines()
    assert lines == ["a            1  x", "long name  100"]


def test_full_sync_end_to_end_tiny() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "full-sync", "--records", "300", "--json", "--no-wait"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout)
    assert figures["records"] == 300
    assert figures["baseline_written"] == 300 and figures["baseline_failed"] == 0
    assert figures["full_sync_counts"].get("inserted") == 300
    assert figures["min_requests"] == 2 + 1 + 1 + 1
    rec = figures["snapshot_reconcile"]
    assert rec["deleted_in_source"] == 3 and rec["records_read"] == 297
    assert rec["counts"].get("uncoupled") == 3 and rec["baseline_found_gone"] == 3
    assert rec["min_requests"] == 2 and rec["status"] == "success"
    for key in (
        "accord_records_per_s",
        "baseline_records_per_s",
        "throughput_ratio",
        "requests_per_record",
        "min_requests_per_record",
        "requests_ratio",
        "peak_rss_mb",
        "incremental_noop_requests",
        "incremental_noop_seconds",
        "incremental_noop_ratio",
        "full_sync_seconds",
    ):
        assert isinstance(figures[key], int | float), key
    assert set(figures["incremental_noop_requests_by_direction"]) == {"to_crm", "to_erp"}
