"""``accord sandbox up --no-custom-api`` serves a Business Central tenant without Accord's
extension: the standard API answers, the custom API group's routes 404."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest


@pytest.mark.parametrize(("flag", "status"), [("--custom-api", 200), ("--no-custom-api", 404)])
def test_sandbox_up_custom_api_switch(tmp_path: Path, flag: str, status: int) -> None:
    env = {**os.environ, "ACCORD_HOME": str(tmp_path)}
    command = [sys.executable, "-m", "accord.cli.app", "sandbox", "up", "--json", "--records", "5"]
    proc = subprocess.Popen(
        [*command, "--only", "business-central", flag],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        facts = json.loads(proc.stdout.readline())["business-central"]
        verify = ssl.create_default_context(cafile=facts["ca_cert"])
        token = httpx.post(
            facts["token_url"],
            data={
                "grant_type": "client_credentials",
                "client_id": facts["client_id"],
                "client_secret": facts["client_secret"],
                "scope": facts["scope"],
            },
            verify=verify,
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        group = facts["base_url"].replace("/api/v2.0", "/api/accord/integration/v1.0")
        standard = httpx.get(f"{facts['base_url']}/companies", headers=headers, verify=verify)
        custom = httpx.get(f"{group}/companies", headers=headers, verify=verify)
        assert (standard.status_code, custom.status_code) == (200, status)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
