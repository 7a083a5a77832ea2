"""``accord couplings`` lists and searches coupled records; ``sync -r`` takes an id, a short
id or a natural key, and one that names no record is an error."""

from __future__ import annotations

import json

import pytest

from tests.cli.helpers import on
from tests.worlds import World, WorldFactory


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


def synced(make_world: WorldFactory) -> World:
    world = make_world(records=12, seed_overlap=0.0, create_unmatched=True)
    assert on(world, "sync", "--full").code == 0
    return world


def test_couplings_show_and_find_both_ids_and_keys(make_world: WorldFactory) -> None:
    world = synced(make_world)
    customer = sorted(world.bc.store.all("customers"), key=lambda c: c["number"])[2]
    account = next(a for _, a in world.coupled_pairs("CUSTOMER") if _ == customer["id"])
    account_number = world.dv.store.get("accounts", account)["accountnumber"]

    ran = on(world, "couplings", "-m", "CUSTOMER", "--search", customer["number"].lower())
    assert ran.code == 0, ran.output
    assert customer["id"][:8] in ran.stdout and account[:8] in ran.stdout
    assert customer["number"] in ran.stdout and account_number in ran.stdout

    found = json.loads(on(world, "couplings", "-s", account[:13], "--json").stdout)
    assert found["total"] == 1
    records = found["couplings"][0]["records"]
    assert records["erp"] == {"id": customer["id"], "natural_key": customer["number"]}
    assert records["crm"]["id"] == account

    everything = json.loads(on(world, "couplings", "--limit", "5", "--json").stdout)
    assert len(everything["couplings"]) == 5
    status = json.loads(on(world, "status", "--json").stdout)
    assert everything["total"] == sum(m["couplings"] for m in status["mappings"])
    ran = on(world, "couplings", "-m", "NOPE")
    assert ran.code == 2 and "NOPE" in ran.stderr and "CUSTOMER" in ran.stderr


def test_sync_now_by_natural_key_short_id_or_id(make_world: WorldFactory) -> None:
    world = synced(make_world)
    first, second = sorted(world.bc.store.all("customers"), key=lambda c: c["number"])[:2]
    pairs = dict(world.coupled_pairs("CUSTOMER"))
    world.bc.store.update("customers", first["id"], {"city": "Keyville"})
    world.bc.store.update("customers", second["id"], {"city": "Shortville"})
    ran = on(
        world, "sync", "-m", "CUSTOMER", "-d", "to_crm",
        "-r", first["number"], "-r", second["id"][:8], "--json",
    )  # fmt: skip
    assert ran.code == 0, ran.output
    assert json.loads(ran.stdout)["passes"][0]["counts"]["modified"] == 2
    assert world.dv.store.get("accounts", pairs[first["id"]])["address1_city"] == "Keyville"
    assert world.dv.store.get("accounts", pairs[second["id"]])["address1_city"] == "Shortville"

    # an uncoupled record by its natural key is created on the other side
    world.bc.store.insert("customers", {"number": "FRESH-1", "displayName": "Fresh Co"})
    ran = on(world, "sync", "-m", "CUSTOMER", "-d", "to_crm", "-r", "FRESH-1")
    assert ran.code == 0 and "inserted 1" in ran.stdout, ran.output


@pytest.mark.parametrize("value", ["C-NOPE-1", "00000000-0000-0000-0000-00000000abcd"])
def test_an_unknown_record_is_an_error_not_zeros(make_world: WorldFactory, value: str) -> None:
    world = synced(make_world)
    ran = on(world, "sync", "-m", "CUSTOMER", "-d", "to_crm", "-r", value)
    assert ran.code == 2 and value in ran.stderr and "erp" in ran.stderr, ran.output
    assert "Synchronized now" not in ran.stdout
