"""Smoke test of ``python -m bench latency``: a tiny run end to end through the receivers
and by polling, its figures in the keys the docs name."""

from __future__ import annotations

import json
import subprocess
import sys

from bench.procs import REPO


def test_latency_benchmark_runs_and_reports_its_keys() -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "latency",
            "--changes",
            "20",
            "--polling-changes",
            "4",
            "--poll-interval",
            "1",
            "--rate",
            "40",
            "--json",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    figures = json.loads(run.stdout)
    assert figures["changes"] == 20 and figures["polling_changes"] == 4
    assert 0 < figures["p50_seconds"] <= figures["p95_seconds"] <= figures["max_seconds"]
    assert 0 < figures["polling_p50_seconds"] <= figures["polling_p95_seconds"]
    assert figures["polling_interval_seconds"] == 1
