"""``accord tokens`` and ``accord serve`` from the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from accord.cli.app import app
from accord.config.settings import Settings
from accord.services.hub import Hub
from accord.state.runtime_tables import ApiToken
from tests.api.conftest import free_port

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


def invoke(home: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--home", str(home), *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_tokens_are_shown_once_stored_hashed_and_revocable(tmp_path: Path) -> None:
    code, out = invoke(tmp_path, "tokens", "create", "console", "--json")
    assert code == 0, out
    issued = json.loads(out)
    assert issued["token"].startswith("acc_") and len(issued["token"]) > 40
    hub = Hub(Settings(home=tmp_path))
    try:
        with hub.db.session() as session:
            stored = session.query(ApiToken).one()
            assert issued["token"] not in (stored.token_hash, stored.prefix)
            assert len(stored.token_hash) == 64
    finally:
        hub.close()
    code, out = invoke(tmp_path, "tokens", "create", "console")
    assert code == 2 and "a token named 'console' exists already" in out
    code, out = invoke(tmp_path, "tokens", "list", "--json")
    listed = json.loads(out)
    assert [t["name"] for t in listed] == ["console"] and listed[0]["revoked_at"] is None
    assert issued["token"] not in out
    code, out = invoke(tmp_path, "tokens", "revoke", "console")
    assert code == 0 and "revoked" in out
    code, out = invoke(tmp_path, "tokens", "list")
    assert code == 0 and "console" in out
    code, out = invoke(tmp_path, "tokens", "revoke", "nobody")
    assert code == 2 and "no token named 'nobody'; known: console" in out


def test_serve_answers_on_the_port_it_was_given(tmp_path: Path) -> None:
    _, out = invoke(tmp_path, "tokens", "create", "ops", "--json")
    token = json.loads(out)["token"]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "ACCORD_BROKER_URL"}
    server = subprocess.Popen(
        [sys.executable, "-m", "accord.cli.app", "--home", str(tmp_path), "serve",
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "accord serve did not answer"
                time.sleep(0.2)
        assert health.json()["status"] == "ok"
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{base}/api/v1/connections", headers=auth).json() == []
        assert httpx.get(f"{base}/api/v1/connections").status_code == 401
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
