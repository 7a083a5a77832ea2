"""The command line: real commands against real sandboxes, clear errors for bad input."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accord.cli.app import app
from accord.sandboxes import run_sandboxes

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")


def invoke(home: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--home", str(home), *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_set_up_sync_and_inspect_from_the_command_line(tmp_path: Path) -> None:
    with run_sandboxes(["business-central", "dataverse"], records=15) as sx:
        info = tmp_path / "sandboxes.json"
        info.write_text(json.dumps(sx.as_json()) + "\n")
        home = tmp_path / "home"
        for name, system in (("bc", "business-central"), ("crm", "dataverse")):
            code, out = invoke(
                home, "connect", name, "--system", system, "--sandbox-json", str(info)
            )
            assert code == 0, out
        code, out = invoke(home, "init", "--connection", "erp=bc", "-c", "crm=crm")
        assert code == 0 and "bc-sales" in out
        code, out = invoke(home, "sync", "--full")
        # unmatched records are reported, not created, and matched pairs whose values
        # differ are held at first sight: exit 1 says so
        assert code == 1 and "not created" in out, out
        code, out = invoke(home, "sync", "--full", "--create-new")
        # the rest is created; the conflicts held by the first run are not new: exit 0
        assert code == 0 and re.search(r"\+[1-9]", out), out  # something was created
        assert "CUSTOMER" in out and "couple" in out
        code, out = invoke(home, "status")
        assert code == 0 and "CUSTOMER" in out
        code, out = invoke(home, "preview")
        assert code == 0 and ("Nothing would change" in out or "Would change" in out)
        code, out = invoke(home, "sync")
        assert code == 0 and "Passes" in out
        code, out = invoke(home, "errors")
        assert code == 0
        code, out = invoke(home, "conflicts")
        # matched pairs whose values differed are held at first sight, never overwritten
        held = sorted({int(i) for i in re.findall(r"^\W*(\d+)\s*│", out, re.MULTILINE)})
        assert code == 0 and "Held conflicts" in out and held, out
        for conflict_id in held:
            code, out = invoke(home, "resolve", str(conflict_id), "--take", "erp")
            assert code == 0, out
        code, out = invoke(home, "conflicts")
        assert code == 0 and "No open conflicts" in out


def test_bad_input_gets_a_clear_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code, out = invoke(home, "status")
    assert code == 2 and "accord init" in out
    code, out = invoke(
        home,
        "connect",
        "x",
        "--system",
        "sap-r3",
        "--base-url",
        "https://h/a",
        "--token-url",
        "https://h/t",
        "--client-id",
        "i",
        "--client-secret",
        "s",
        "--no-check",
    )
    assert code == 2 and "registered systems: business-central, dataverse" in out
    code, out = invoke(
        home,
        "connect",
        "bc",
        "--system",
        "business-central",
        "--base-url",
        "https://127.0.0.1:9/v2.0/t/e/api/v2.0",
        "--token-url",
        "https://127.0.0.1:9/t/oauth2/v2.0/token",
        "--client-id",
        "i",
        "--client-secret",
        "s",
    )
    assert code == 2 and "127.0.0.1:9" in out


def test_unreachable_and_bad_credentials_are_named(tmp_path: Path) -> None:
    with run_sandboxes(["dataverse"], records=0) as sx:
        dv = sx["dataverse"]
        code, out = invoke(
            tmp_path,
            "connect",
            "crm",
            "--system",
            "dataverse",
            "--base-url",
            dv.base_url,
            "--token-url",
            dv.token_url,
            "--client-id",
            dv.client_id,
            "--client-secret",
            "wrong",
            "--ca-cert",
            dv.ca_cert,
            "--scope",
            dv.scope,
        )
    assert code == 2
    assert "crm" in out and ("invalid_client" in out or "AADSTS7000215" in out)


def test_sandbox_up_prints_one_json_line_first(tmp_path: Path) -> None:
    env = {**os.environ, "ACCORD_HOME": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "accord.cli.app", "sandbox", "up", "--json", "--records", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        data = json.loads(line)
        assert set(data) == {"business-central", "dataverse"}
        bc = data["business-central"]
        assert bc["base_url"].endswith("/api/v2.0")
        assert data["dataverse"]["base_url"].endswith("/api/data/v9.2")
        assert {"token_url", "client_id", "client_secret", "ca_cert"} <= set(bc)
        assert Path(bc["ca_cert"]).exists()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("args", [["resolve", "1"], ["sync", "-r", "x"]])
def test_incomplete_commands_say_what_is_missing(tmp_path: Path, args: list[str]) -> None:
    code, out = invoke(tmp_path, *args)
    assert code == 2 and ("give" in out or "need" in out)
