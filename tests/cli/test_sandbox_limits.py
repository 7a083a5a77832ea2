"""``accord sandbox up --limits SCALE`` serves the sandboxes with their limits switched on."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
from typer.testing import CliRunner

from accord.cli.app import app


def test_sandbox_up_with_limits_switches_them_on_with_shorter_windows(tmp_path: Path) -> None:
    env = {**os.environ, "ACCORD_HOME": str(tmp_path)}
    command = [sys.executable, "-m", "accord.cli.app", "sandbox", "up", "--json"]
    proc = subprocess.Popen(
        [*command, "--records", "5", "--system", "dataverse", "--limits", "10"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        facts = json.loads(proc.stdout.readline())["dataverse"]
        origin = facts["base_url"].split("/api/")[0]
        tls = ssl.create_default_context(cafile=facts["ca_cert"])
        with httpx.Client(base_url=origin, verify=tls) as admin:
            seen = admin.get("/_sandbox/service-limits").json()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert seen["on"] is True and seen["throttled"] == {}


def test_sandbox_up_refuses_a_scale_that_is_not_positive(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["sandbox", "up", "--limits", "0"], env={"ACCORD_HOME": str(tmp_path)}
    )
    assert result.exit_code == 2 and "--limits must be a scale > 0" in result.output
