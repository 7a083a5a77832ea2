"""``accord sandbox up``: the facts file appears whole once the sandboxes serve, and a
SIGTERM (as from ``kill`` or a service manager) removes the private key, data and file."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx


def wait_for(path: Path, proc: subprocess.Popen[str], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the facts file never appeared"
        time.sleep(0.1)


def test_sigterm_removes_keys_data_and_the_facts_file(tmp_path: Path) -> None:
    facts = tmp_path / ".accord" / "sandboxes.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "accord.cli.app", "sandbox", "up", "--records", "3",
         "--json-file", str(facts)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "ACCORD_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    try:
        wait_for(facts, proc)
        assert facts.stat().st_mode & 0o777 == 0o600  # it holds client secrets
        data = json.loads(facts.read_text())  # written whole: never a partial file
        ca = Path(data["dataverse"]["ca_cert"])
        workdir = ca.parent.parent
        assert ca.exists() and any(workdir.rglob("*key*"))
        answer = httpx.get(
            data["dataverse"]["base_url"], verify=ssl.create_default_context(cafile=str(ca))
        )
        assert answer.status_code in (200, 401)  # it serves
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not workdir.exists(), list(workdir.rglob("*"))
    assert not facts.exists()
    assert proc.returncode == 0
    assert str(facts) in (proc.stderr.read() if proc.stderr else "")


def test_sigterm_of_sandbox_up_with_json_on_stdout_cleans_up(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "accord.cli.app", "sandbox", "up", "--records", "2", "--json",
         "--system", "business-central"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "ACCORD_HOME": str(tmp_path)},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        data = json.loads(proc.stdout.readline())
        workdir = Path(data["business-central"]["ca_cert"]).parent.parent
        assert workdir.exists()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not workdir.exists()
