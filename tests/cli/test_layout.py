"""Readable at 80 columns (short ids, folded cells), one block per row when narrower;
``--version``; help text on every option and argument of every command."""

from __future__ import annotations

import re
from importlib.metadata import version
from typing import Any

import pytest
import typer

from accord.cli.app import app
from tests.cli.helpers import accord, on
from tests.worlds import WorldFactory


def test_tables_fit_80_columns_with_short_ids(
    make_world: WorldFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world(records=10)  # overlap: conflicts held at first sight
    bad = sorted(world.bc.store.all("customers"), key=lambda c: c["number"])[-1]
    world.dv.store.reject("accounts", "name", bad["displayName"], "Duplicate detection rule " * 4)
    monkeypatch.setenv("COLUMNS", "80")
    outputs = [on(world, "sync", "--full").stdout]
    coupled = dict(world.coupled_pairs("CUSTOMER"))
    seeded = sorted(world.bc.store.all("customers"), key=lambda c: c["number"])
    erp_id = next(c["id"] for c in seeded if c["id"] in coupled)
    world.bc.store.update("customers", erp_id, {"city": "A much longer city name than usual"})
    for command in (["preview"], ["sync"], ["status"], ["errors"], ["conflicts"], ["couplings"]):
        ran = on(world, *command)
        assert ran.code in (0, 1), ran.output
        outputs.append(ran.stdout)
    text = "\n".join(outputs)
    too_wide = [line for line in text.splitlines() if len(line) > 80]
    assert not too_wide, too_wide
    assert "…" not in text  # nothing cut off: long cells fold onto more lines
    ids = [i for pair in world.coupled_pairs("CUSTOMER") for i in pair if i]
    assert [i for i in ids if i in text] == []  # record ids are shown short
    assert erp_id[:8] in text
    assert "Duplicate" in text and "0x80040265" in text  # the error's message, wrapped


def test_a_narrow_terminal_gets_one_block_per_row(
    make_world: WorldFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world(records=4, seed_overlap=0.0, create_unmatched=True)
    assert on(world, "sync", "--full").code == 0
    monkeypatch.setenv("COLUMNS", "40")
    ran = on(world, "status")
    assert ran.code == 0
    lines = ran.stdout.splitlines()
    assert all(len(line) <= 40 for line in lines), lines
    assert any(re.match(r"^mapping\s+CUSTOMER$", line) for line in lines), ran.stdout
    assert any(re.match(r"^records\s+\d+ coupled", line) for line in lines), ran.stdout


def test_version() -> None:
    ran = accord("--version")
    assert ran.code == 0 and ran.stdout.strip() == f"accord {version('accord')}"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", version("accord"))


def walk(command: Any, path: str = "accord") -> list[tuple[str, Any]]:
    """Every command under ``command`` (Typer's Click objects), with its command line."""
    found = [(path, command)]
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            found += walk(sub, f"{path} {name}")
    return found


def test_every_command_option_and_argument_has_help() -> None:
    missing = []
    commands = walk(typer.main.get_command(app))
    assert len(commands) > 15
    for path, command in commands:
        if not (command.help or "").strip():
            missing.append(path)
        for param in command.params:
            text = getattr(param, "help", None)
            if not (text or "").strip():
                missing.append(f"{path} {param.name}")
    assert not missing, missing
