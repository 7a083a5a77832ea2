"""``full-sync --realistic``: the ceiling arithmetic, and one tiny limited run end to end."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from bench.procs import REPO
from bench.realistic import ceiling

from accord.sandboxes.common.limits import BUSINESS_CENTRAL, DATAVERSE

COMMAND = [sys.executable, "-m", "bench", "full-sync", "--realistic"]


def test_the_ceiling_is_the_tightest_limit() -> None:
    rates = ceiling(BUSINESS_CENTRAL, DATAVERSE, 100)
    # Dataverse: 1,200,000 ms per 300 s = 4000 ms/s; a batch of 100 costs 50 + 100 x 20 ms
    assert rates["dataverse_writes"] == pytest.approx(4000 / 2050 * 100, abs=0.1)
    # Business Central: 20 requests/s x 20,000 records per page
    assert rates["business_central_reads"] == 400_000
    assert rates["ceiling"] == rates["dataverse_writes"]
    counted = DATAVERSE.changed(batch_counts="operations")
    assert ceiling(BUSINESS_CENTRAL, counted, 100)["ceiling"] == pytest.approx(20.0)


def test_realistic_end_to_end_tiny() -> None:
    done = subprocess.run(
        [*COMMAND, "--records", "400", "--scale", "30", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["status"] == "success" and figures["counts"].get("failed", 0) == 0
    assert figures["counts"]["inserted"] == 400
    assert figures["accord_records_per_s"] > 0
    assert figures["ceiling_records_per_s"] == figures["ceiling_by_limit"]["dataverse_writes"]
    dv = figures["seen_by_sandbox"]["dataverse"]
    assert dv["on"] and dv["peak_concurrent"] <= 52
