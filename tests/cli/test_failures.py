"""No tracebacks: bad files, a CA deleted after connect, unknown names, unreachable or
missing databases are one line naming what is wrong, exit 2; --debug shows the traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accord.sandboxes import run_sandboxes
from tests.cli.helpers import accord, on
from tests.conftest import need, pg_available
from tests.worlds import WorldFactory


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


def one_line_error(ran_output: str, *named: str) -> None:
    assert "Traceback" not in ran_output
    lines = [line for line in ran_output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), ran_output
    for text in named:
        assert text in lines[0], (text, ran_output)


def connect_args(home: Path, *extra: str) -> list[str]:
    return ["--home", str(home), "connect", "crm", "--system", "dataverse", *extra]


def test_missing_or_malformed_sandbox_json_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    ran = accord(*connect_args(tmp_path, "--sandbox-json", str(missing)))
    assert ran.code == 2
    one_line_error(ran.stderr, str(missing))
    garbled = tmp_path / "garbled.json"
    garbled.write_text("business-central: https://127.0.0.1:1\n")
    ran = accord(*connect_args(tmp_path, "--sandbox-json", str(garbled)))
    assert ran.code == 2
    one_line_error(ran.stderr, str(garbled))
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"business-central": {"base_url": "https://x"}}))
    ran = accord(*connect_args(tmp_path, "--sandbox-json", str(other)))
    assert ran.code == 2
    one_line_error(ran.stderr, str(other), "business-central")


def test_a_missing_ca_file_is_named_at_connect(tmp_path: Path) -> None:
    with run_sandboxes(["dataverse"], records=0) as sx:
        facts = tmp_path / "sandboxes.json"
        facts.write_text(json.dumps(sx.as_json()))
        missing = tmp_path / "gone-ca.pem"
        ran = accord(
            *connect_args(tmp_path, "--sandbox-json", str(facts), "--ca-cert", str(missing))
        )
    assert ran.code == 2
    one_line_error(ran.stderr, str(missing))
    assert not (tmp_path / "accord.db").exists()  # nothing was saved


def test_a_ca_file_deleted_after_connect_is_named(make_world: WorldFactory, tmp_path: Path) -> None:
    world = make_world(records=3, seed_overlap=0.0, create_unmatched=True)
    ca = tmp_path / "moved-ca.pem"
    ca.write_bytes(Path(world.bc.ca_cert).read_bytes())
    home = world.hub.settings.home
    args = ["--home", str(home), "--database-url", world.hub.db.url]
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(world.sx.as_json()))
    ran = accord(
        *args, "connect", "bc", "--system", "business-central",
        "--sandbox-json", str(facts), "--ca-cert", str(ca),
    )  # fmt: skip
    assert ran.code == 0, ran.output
    ca.unlink()
    ran = accord(*args, "sync", "-m", "CUSTOMER")
    assert ran.code == 2 and str(ca) in ran.stderr and "Traceback" not in ran.output


def test_unknown_mapping_of_uncouple_lists_the_valid_ones(make_world: WorldFactory) -> None:
    world = make_world(records=2)
    ran = on(world, "uncouple", "CUSTOMERS", "--all")
    assert ran.code == 2
    one_line_error(ran.stderr, "CUSTOMERS", "CUSTOMER,")
    ran = on(world, "uncouple", "CUSTOMER", "no-such-id")
    assert ran.code == 2
    one_line_error(ran.stderr, "no-such-id")


def test_an_unreachable_database_is_named_without_its_password(tmp_path: Path) -> None:
    url = "postgresql://accord:hunter2@127.0.0.1:9/accord"
    ran = accord("--home", str(tmp_path), "--database-url", url, "status")
    assert ran.code == 2
    one_line_error(ran.stderr, "127.0.0.1:9")
    assert "hunter2" not in ran.stderr
    need(pg_available(), "PostgreSQL is not running on 127.0.0.1:5432")
    url = "postgresql://127.0.0.1:5432/no_such_database_here"
    ran = accord("--home", str(tmp_path), "--database-url", url, "status")
    assert ran.code == 2
    one_line_error(ran.stderr, "no_such_database_here")


def test_a_sqlite_folder_that_does_not_exist_is_named_not_created(tmp_path: Path) -> None:
    folder = tmp_path / "not" / "here"
    url = f"sqlite:///{folder}/state.db"
    connect = ["connect", "x", "--system", "dataverse", "--no-check", "--base-url", "https://h/a"]
    connect += ["--token-url", "https://h/t", "--client-id", "i", "--client-secret", "s"]
    for command in (["status"], connect):
        ran = accord("--home", str(tmp_path / "home"), "--database-url", url, *command)
        assert ran.code == 2
        assert str(folder) in ran.stderr and "Traceback" not in ran.output
    assert not folder.exists() and not (tmp_path / "not").exists()


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    args = ["--home", str(tmp_path), "--database-url", "postgresql://127.0.0.1:9/x", "status"]
    with pytest.raises(Exception, match=r"127\.0\.0\.1:9"):
        accord("--debug", *args)
    with pytest.raises(Exception, match=r"127\.0\.0\.1:9"):
        accord(*args, env={"ACCORD_DEBUG": "1"})
