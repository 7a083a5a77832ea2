"""Running the real ``accord`` command in-process against a test world's state."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from accord.cli.app import app
from tests.worlds import World

runner = CliRunner()


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def accord(*args: str, env: dict[str, str] | None = None) -> Ran:
    result: Result = runner.invoke(app, list(args), catch_exceptions=False, env=env)
    return Ran(result.exit_code, result.stdout, result.stderr)


def state_args(world: World) -> list[str]:
    """``--home`` and ``--database-url`` of the world's state."""
    home = world.hub.settings.home
    return ["--home", str(home), "--database-url", world.hub.db.url]


def on(world: World, *args: str) -> Ran:
    """``accord`` against the world's state."""
    return accord(*state_args(world), *args)


def home_of(world: World) -> Path:
    return Path(world.hub.settings.home)
