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
from accord.sandboxes import run_sandboxes
from accord.services import catalog, operations, setup
from accord.services.hub import Hub
from accord.state.runtime_tables import ApiToken
from accord.state.workloads import recent
from accord.testing.sandbox import settings_from_sandbox
from tests.api.conftest import free_port
from tests.cli.helpers import on
from tests.worlds import WorldFactory, creating_template

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


def invoke(home: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--home", str(home), *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_tokens_are_shown_once_stored_hashed_and_revocable(tmp_path: Path) -> None:
    code, out = invoke(tmp_path, "tokens", "create", "console", "--json")
    assert code == 2 and "no state yet" in out  # tokens belong to a state set up first
    Hub(Settings(home=tmp_path), create=True).close()
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
    """Embedded: the API, and with --scheduler each mapping's pass, run in one process."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "ACCORD_BROKER_URL"}
    with run_sandboxes(["business-central", "dataverse"], records=3) as sx:
        hub = Hub(Settings(home=tmp_path))
        try:
            setup.connect(hub, settings_from_sandbox(sx["business-central"], name="bc"))
            setup.connect(hub, settings_from_sandbox(sx["dataverse"], name="crm"))
            setup.init_integration(hub, "bc-sales", {"erp": "bc", "crm": "crm"})
            enabled = {
                m.name for m in catalog.integration(hub, None).template.mappings if m.enabled
            }
        finally:
            hub.close()
        _, out = invoke(tmp_path, "tokens", "create", "ops", "--json")
        token = json.loads(out)["token"]
        server = subprocess.Popen(
            [sys.executable, "-m", "accord.cli.app", "--home", str(tmp_path), "serve",
             "--host", "127.0.0.1", "--port", str(port), "--scheduler"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
        try:
            ask(server, f"http://127.0.0.1:{port}", token, enabled)
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def wait_healthy(server: subprocess.Popen[bytes], base: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            health = httpx.get(f"{base}/healthz", timeout=2)
            break
        except httpx.TransportError:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            assert time.monotonic() < deadline, "accord serve did not answer"
            time.sleep(0.2)
    assert health.json()["status"] == "ok"


def ask(server: subprocess.Popen[bytes], base: str, token: str, enabled: set[str]) -> None:
    """The served API answers with a token only, and the scheduler's passes all ran."""
    wait_healthy(server, base)
    auth = {"Authorization": f"Bearer {token}"}
    names = [c["name"] for c in httpx.get(f"{base}/api/v1/connections", headers=auth).json()]
    assert names == ["bc", "crm"]
    assert httpx.get(f"{base}/api/v1/connections").status_code == 401
    done: set[str] = set()
    deadline = time.monotonic() + 40
    while done != enabled and time.monotonic() < deadline:
        every = httpx.get(f"{base}/api/v1/workloads", headers=auth, timeout=10).json()
        assert not [r for r in every if r["status"] == "failed"], every
        rows = [r for r in every if r["kind"] == "sync_pass"]
        done = {r["payload"]["mapping"] for r in rows if r["status"] == "done"}
        time.sleep(0.3)
    assert done == enabled, rows
    assert all(r["key"].startswith("pass:bc-sales:") for r in rows)
    assert {r["kind"] for r in every} == {"sync_pass", "run_documents", "renew_subscriptions"}


def test_run_enqueues_each_pass_and_runs_it_here(
    make_world: WorldFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without a broker ``accord run`` runs what its scheduler enqueues in this process."""
    monkeypatch.delenv("ACCORD_BROKER_URL", raising=False)
    world = make_world(records=4, template=creating_template(tmp_path))
    operations.sync_full(world.hub)
    customer_id, account_id = sorted(world.coupled_pairs("CUSTOMER"))[0]
    world.bc.store.update("customers", customer_id, {"city": "Enqueued"})
    ran = on(world, "run", "--cycles", "1")
    assert ran.code == 0, ran.output
    assert "work runs in this process" in ran.output
    assert "CUSTOMER to_crm: success" in ran.output and "modified=1" in ran.output
    assert world.dv.store.get("accounts", account_id)["address1_city"] == "Enqueued"
    with world.hub.db.session() as session:
        keys = {row.key.rsplit(":", 1)[0] for row in recent(session, limit=100)}
    assert "pass:bc-sales:CUSTOMER" in keys and "renew:bc-sales:subscriptions" in keys
