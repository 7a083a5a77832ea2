"""Exit codes a script can rely on: 0 all good, 1 records failed or conflicts were held in
this run, 2 a pass or the command failed -- with the reason on stderr."""

from __future__ import annotations

import pytest

from tests.cli.helpers import accord, on
from tests.worlds import WorldFactory


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


def test_all_good_is_0_a_rejected_record_is_1(make_world: WorldFactory) -> None:
    world = make_world(records=12, seed_overlap=0.0, create_unmatched=True)
    ran = on(world, "sync", "--full")
    assert ran.code == 0, ran.output
    customer = world.bc.store.insert("customers", {"displayName": "Refused Ltd", "city": "Oslo"})
    world.dv.store.reject("accounts", "name", "Refused Ltd", "Duplicate detection rule")
    ran = on(world, "sync", "-m", "CUSTOMER")
    assert ran.code == 1, ran.output
    assert "failed 1" in ran.stdout
    ran = on(world, "errors", "--json")
    assert ran.code == 0 and customer["id"] in ran.stdout


def test_conflicts_held_in_this_run_are_1_and_not_again(make_world: WorldFactory) -> None:
    world = make_world(records=12, seed_overlap=0.0, create_unmatched=True)
    assert on(world, "sync", "--full").code == 0
    pair = sorted(world.coupled_pairs("CUSTOMER"))[0]
    world.bc.store.update("customers", pair[0], {"city": "Bergen"})
    world.dv.store.update("accounts", pair[1], {"address1_city": "Trondheim"})
    ran = on(world, "sync", "-m", "CUSTOMER")
    assert ran.code == 1 and "conflicts 1" in ran.stdout, ran.output
    # the same conflict, still held, is not new: the next run is all good
    assert on(world, "sync", "-m", "CUSTOMER").code == 0


def test_a_system_down_is_2_and_named_on_stderr(make_world: WorldFactory) -> None:
    world = make_world(records=8, seed_overlap=0.0, create_unmatched=True)
    assert on(world, "sync", "--full").code == 0
    origin = world.bc.origin
    world.bc.server.stop()
    ran = on(world, "sync")
    assert ran.code == 2, ran.output
    assert "connection 'bc'" in ran.stderr, ran.stderr
    assert origin.removeprefix("https://") in ran.stderr
    # named as soon as the integration is prepared (its company is looked up), pass or not
    assert "Traceback" not in ran.output
    ran = on(world, "sync", "--full")
    assert ran.code == 2 and origin.removeprefix("https://") in ran.stderr, ran.output


def test_a_failing_service_is_2_with_its_answer(make_world: WorldFactory) -> None:
    world = make_world(records=8, seed_overlap=0.0, create_unmatched=True)
    assert on(world, "sync", "--full").code == 0
    world.dv.faults.add(status=503, count=None)
    ran = on(world, "sync", "-m", "CUSTOMER", "--json")
    assert ran.code == 2
    assert "503" in ran.stderr and "CUSTOMER" in ran.stderr
    assert '"exit_code": 2' in ran.stdout or '"exit_code":2' in ran.stdout


def test_exit_codes_are_in_the_help() -> None:
    ran = accord("--help")
    assert ran.code == 0
    text = " ".join(ran.stdout.replace("│", " ").split())
    assert "Exit codes: 0 all good; 1 some records failed or new conflicts were held" in text
    assert "2 a pass or the command failed" in text
