"""The demo's suggested command works from anywhere (the key is found beside its state), and
``accord status`` in an empty folder creates nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from accord.services.demo import demo_world
from tests.cli.helpers import accord


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("ACCORD_HOME", raising=False)
    monkeypatch.delenv("ACCORD_DATABASE_URL", raising=False)
    monkeypatch.delenv("ACCORD_SECRET_KEY", raising=False)


def test_the_demo_state_syncs_from_another_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo_home = tmp_path / "project" / ".accord" / "demo"
    with demo_world(demo_home, records=8) as world:
        url = f"sqlite:///{(demo_home / 'demo.db').resolve()}"
        world.hub.close()
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        monkeypatch.chdir(elsewhere)
        env = {"ACCORD_DATABASE_URL": url}
        ran = accord("status", env=env)
        assert ran.code == 0, ran.output
        ran = accord("sync", "--full", env=env)
        assert ran.code in (0, 1), ran.output  # 1: pairs held at first sight
        assert "decrypt" not in ran.output and "CUSTOMER" in ran.stdout
        assert os.listdir(elsewhere) == []  # no stray key or state made here


def test_status_in_an_empty_folder_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for command in (["status"], ["errors", "--json"], ["couplings"], ["conflicts"]):
        ran = accord(*command)
        assert ran.code == 2 and "no state yet" in ran.stderr, ran.output
        assert ran.stdout == ""
    assert os.listdir(tmp_path) == []
