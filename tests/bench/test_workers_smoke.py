"""Smoke test of ``python -m bench workers``: a tiny split full sync with one and two real
Celery workers over RabbitMQ and PostgreSQL, its figures in the keys the docs name."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bench.procs import REPO

from tests.conftest import PG_ADMIN_URL, need, pg_available
from tests.runtime.test_celery_worker import BROKER, broker_reachable


def test_workers_benchmark_runs_and_reports_its_keys() -> None:
    need(broker_reachable(BROKER), f"no message broker at {BROKER}")
    need(pg_available(), "PostgreSQL is not reachable at " + PG_ADMIN_URL)
    run = subprocess.run(
        [sys.executable, "-m", "bench", "workers", "--records", "30", "--workers", "1,2",
         "--part-size", "10", "--latency", "0.05", "--broker", BROKER, "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "ACCORD_BENCH_PG_URL": PG_ADMIN_URL},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    figures = json.loads(run.stdout)
    assert set(figures["records_per_s_by_workers"]) == {"1", "2"}
    assert all(rate > 0 for rate in figures["records_per_s_by_workers"].values())
    for n, result in figures["runs"].items():
        assert result["parts"] >= 3 and result["parts_failed"] == 0, (n, result)
        # every customer synced once: as many accounts created as customers coupled
        assert result["records"] == result["accounts_created"] > 0, (n, result)
    assert figures["speedup_by_workers"]["1"] == 1.0
