"""``accord state copy``: the home's SQLite state into an empty PostgreSQL database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accord.cli.app import app
from tests.services.test_state_copy import _source

runner = CliRunner()


def test_state_copy_from_the_command_line(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    home = tmp_path / "home"
    _source(home).close()
    args = ["--home", str(home), "state", "copy", "--to", postgres_url]
    result = runner.invoke(app, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    copied = json.loads(result.output)
    assert copied["tables"]["coupling_links"] == 10 and copied["total"] > 10
    assert copied["source"].endswith("accord.db")

    again = runner.invoke(app, args, catch_exceptions=False)
    assert again.exit_code == 2 and "already holds Accord data" in again.output
    assert "Traceback" not in again.output
