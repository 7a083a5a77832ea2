"""``accord forget`` and ``accord prune`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from accord.cli.app import app
from accord.services import operations
from tests.worlds import WorldFactory

runner = CliRunner()


def test_forget_and_prune_from_the_command_line(
    make_world: WorldFactory, database_url: str, tmp_path: Path
) -> None:
    world = make_world(records=6, create_unmatched=True)
    operations.sync_full(world.hub)
    erp_id, _ = sorted(world.coupled_pairs("CUSTOMER"))[0]
    base = ["--home", str(tmp_path / "home"), "--database-url", database_url]

    result = runner.invoke(app, [*base, "forget", "CUSTOMER", erp_id, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["couplings"] == 1

    result = runner.invoke(app, [*base, "forget", "CUSTOMER", "no-such-id"])
    assert result.exit_code != 0 and "no-such-id" in result.output

    result = runner.invoke(app, [*base, "prune", "--days", "30", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"conflicts": 0, "errors": 0, "jobs": 0}  # none that old
