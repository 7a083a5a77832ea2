"""``accord connect`` and ``accord sandbox up`` take any registered system."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accord.cli.app import app
from accord.config.settings import Settings
from accord.connectors.business_central.connector import BusinessCentralSettings
from accord.sandboxes import run_sandboxes
from accord.services.hub import Hub
from tests.fake_plugin import SYSTEM, install_plugin

runner = CliRunner()
TOKEN_URL = "https://127.0.0.1:9/t/oauth2/v2.0/token"


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")


def invoke(home: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--home", str(home), *args], catch_exceptions=False)
    return result.exit_code, result.output


def saved(home: Path, name: str) -> object:
    hub = Hub(Settings(home=home))
    try:
        return hub.connection(name)
    finally:
        hub.close()


def test_connect_from_sandbox_json_checks_and_prints_json(tmp_path: Path) -> None:
    with run_sandboxes(["business-central"], records=2) as sx:
        info = tmp_path / "sandboxes.json"
        info.write_text(json.dumps(sx.as_json()) + "\n")
        code, out = invoke(
            tmp_path,
            "connect",
            "erp",
            "--system",
            "business-central",
            "--sandbox-json",
            str(info),
            "--set",
            "options.page_size=7",
            "--json",
        )
        assert code == 0, out
        result = json.loads(out)
        company = sx["business-central"].company_name
    assert result["checked"] is True and result["auth"] == "client_credentials"
    assert result["settings"]["company"] == company
    assert result["settings"]["auth"]["client_secret"] == "**********"
    loaded = saved(tmp_path, "erp")
    assert isinstance(loaded, BusinessCentralSettings)
    assert loaded.options["page_size"] == 7 and loaded.company == company


def test_auth_kind_and_settings_from_set_options(tmp_path: Path) -> None:
    code, out = invoke(
        tmp_path,
        "connect",
        "erp",
        "--system",
        "business-central",
        "--auth",
        "device_code",
        "--set",
        "base_url=https://bc.example.test/api/v2.0",
        "--set",
        f"token_url={TOKEN_URL}",
        "--set",
        "client_id=app",
        "--environment",
        "sandbox",
        "--no-check",
    )
    assert code == 0, out
    assert "erp" in out and "device_code" in out
    loaded = saved(tmp_path, "erp")
    assert isinstance(loaded, BusinessCentralSettings)
    assert loaded.auth.kind == "device_code" and loaded.environment == "sandbox"


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (
            ["--system", "sap-r3"],
            "unknown system 'sap-r3'; registered systems: business-central, dataverse",
        ),
        (
            ["--system", "dataverse", "--auth", "basic"],
            "auth kind 'basic' is not accepted by dataverse; valid: client_credentials",
        ),
        (
            ["--system", "dataverse", "--company", "x"],
            "'company' is not a setting of dataverse with auth client_credentials; valid:",
        ),
        (["--system", "dataverse", "--set", "oops"], "--set 'oops' is not KEY=VALUE"),
        (
            ["--system", "dataverse", "--set", "base_url=https://o.test"],
            "auth.client_credentials.token_url: Field required",
        ),
    ],
)
def test_bad_input_names_what_is_wrong(tmp_path: Path, args: list[str], complaint: str) -> None:
    code, out = invoke(tmp_path, "connect", "x", *args, "--no-check")
    assert code == 2
    assert complaint in " ".join(out.split())


def test_a_plugin_registered_by_entry_point_is_connected_with_no_other_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_plugin(tmp_path / "site", monkeypatch)
    code, out = invoke(
        tmp_path / "home",
        "connect",
        "books",
        "--system",
        SYSTEM,
        "--auth",
        "api_key",
        "--base-url",
        "https://erp.example.test/api",
        "--set",
        "account=A-7",
        "--set",
        "key=k-123",
        "--set",
        "header=X-Api-Key",
    )
    assert code == 0, out
    import echo_plugin  # type: ignore[import-not-found]

    assert echo_plugin.CHECKED[-1] == "A-7"
    loaded = saved(tmp_path / "home", "books")
    assert type(loaded).__name__ == "EchoSettings"
    assert loaded.auth.key.get_secret_value() == "k-123"  # type: ignore[attr-defined]


def test_sandbox_up_serves_only_the_named_system(tmp_path: Path) -> None:
    code, out = invoke(tmp_path, "sandbox", "up", "--system", "sap-r3")
    assert code == 2 and "registered: business-central, dataverse" in out
    env = {**os.environ, "ACCORD_HOME": str(tmp_path)}
    command = [sys.executable, "-m", "accord.cli.app", "sandbox", "up", "--json"]
    proc = subprocess.Popen(
        [*command, "--records", "2", "--system", "dataverse"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        data = json.loads(proc.stdout.readline())
        assert list(data) == ["dataverse"] and data["dataverse"]["system"] == "dataverse"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
