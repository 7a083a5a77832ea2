"""``accord template``: diff, upgrade (asks, or --yes), history and rollback, with --json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from accord.cli.app import app
from tests.services.test_templates import pair  # noqa: F401  (fixture)
from tests.worlds import WorldFactory

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


def test_diff_upgrade_history_and_rollback_from_the_command_line(
    make_world: WorldFactory,
    pair: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    world = make_world(records=4, template=pair["old"])
    base = ["--home", str(tmp_path / "home"), "--database-url", world.hub.db.url, "template"]

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, [*base, *args], catch_exceptions=False)
        return result.exit_code, result.output

    code, out = run("diff", pair["new"], "--json")
    assert code == 0, out
    plan = json.loads(out)
    assert plan["changed"] and plan["from"]["revision"] == 1
    statuses = {m["name"]: m["status"] for m in plan["mappings"]}
    assert statuses[pair["leaf"]] == "added" and statuses["CUSTOMER"] == "changed"

    code, out = run("diff", pair["new"])
    assert code == 0 and "~ CUSTOMER: changed" in out and "first sight" in out, out

    code, out = run("upgrade", pair["new"], "--json")
    assert code == 2 and "--json needs --yes" in out
    code, out = run("upgrade", pair["new"])  # not a terminal: nothing is applied unasked
    assert code == 2 and "confirm with --yes" in out
    code, out = run("history", "--json")
    assert [r["revision"] for r in json.loads(out)["revisions"]] == [1]

    code, out = run("upgrade", pair["new"], "--yes", "--json")
    assert code == 0, out
    applied = json.loads(out)
    assert applied["applied"] and applied["revision"] == 2

    code, out = run("upgrade", pair["new"], "--yes")
    assert code == 0 and "already runs this template" in out

    code, out = run("rollback", "1", "--yes")
    assert code == 0 and "Revision 3 applied" in out, out
    code, out = run("history")
    assert code == 0 and "rollback to 1  (current)" in out, out

    code, out = run("diff", str(tmp_path / "missing.yaml"))
    assert code == 2 and "template file not found" in out and "Traceback" not in out
