"""Deletes (peers.md §3.7): seen through Dataverse delta links, a missing counterpart, and a
snapshot diff for Business Central; handled by the mapping's policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.services import operations
from tests.worlds import World, WorldFactory, custom_template


def world_with(make_world: WorldFactory, tmp_path: Path, policy: str) -> World:
    world = make_world(records=10, template=custom_template(tmp_path, "CUSTOMER", deletion=policy))
    operations.sync_full(world.hub)
    operations.sync_incremental(world.hub)
    return world


def test_crm_delete_uncouples_and_keeps_the_erp_record(
    make_world: WorldFactory, tmp_path: Path
) -> None:
    world = world_with(make_world, tmp_path, "uncouple")
    customer_id, account_id = sorted(world.coupled_pairs("CUSTOMER"))[0]
    world.dv.store.delete("accounts", account_id)
    operations.sync_incremental(world.hub, ["CUSTOMER"])
    assert customer_id not in {a for a, _ in world.coupled_pairs("CUSTOMER")}
    assert world.bc.store.get("customers", customer_id) is not None


def test_crm_delete_propagates_to_the_erp(make_world: WorldFactory, tmp_path: Path) -> None:
    world = world_with(make_world, tmp_path, "propagate")
    customer_id, account_id = sorted(world.coupled_pairs("CUSTOMER"))[0]
    world.dv.store.delete("accounts", account_id)
    results = operations.sync_incremental(world.hub, ["CUSTOMER"])
    assert sum(r.counts["deleted"] for r in results) == 1
    assert world.bc.store.get("customers", customer_id) is None
    assert customer_id not in {a for a, _ in world.coupled_pairs("CUSTOMER")}


def test_crm_delete_is_restored_from_the_erp(make_world: WorldFactory, tmp_path: Path) -> None:
    world = world_with(make_world, tmp_path, "restore")
    customer_id, account_id = sorted(world.coupled_pairs("CUSTOMER"))[0]
    name = world.dv.store.get("accounts", account_id)["name"]
    world.dv.store.delete("accounts", account_id)
    operations.sync_incremental(world.hub, ["CUSTOMER"])
    new_account = dict(world.coupled_pairs("CUSTOMER"))[customer_id]
    assert new_account != account_id
    assert world.dv.store.get("accounts", new_account)["name"] == name


def test_erp_delete_is_found_by_the_full_sync_snapshot(
    make_world: WorldFactory, tmp_path: Path
) -> None:
    world = world_with(make_world, tmp_path, "propagate")
    customer_id, account_id = sorted(world.coupled_pairs("CUSTOMER"))[0]
    world.bc.store.delete("customers", customer_id)
    operations.sync_incremental(world.hub, ["CUSTOMER"])  # BC reports no deletes
    assert world.dv.store.get("accounts", account_id) is not None
    operations.sync_full(world.hub, ["CUSTOMER"])
    assert world.dv.store.get("accounts", account_id) is None
    assert customer_id not in {a for a, _ in world.coupled_pairs("CUSTOMER")}


@pytest.mark.parametrize("policy", ["ignore", "restore", "uncouple"])
def test_changed_record_whose_counterpart_is_gone(
    make_world: WorldFactory, tmp_path: Path, policy: str
) -> None:
    world = world_with(make_world, tmp_path, policy)
    customer_id, account_id = sorted(world.coupled_pairs("CUSTOMER"))[0]
    # deleted in Sales in a way the delta feed has not reported yet; then changed in BC
    world.dv.store.delete("accounts", account_id)
    world.bc.store.update("customers", customer_id, {"city": "Afterwards"})
    with world.context() as ctx:
        from accord.sync.passes import PassOptions, run_pass

        result = run_pass(ctx, "CUSTOMER", "to_crm", PassOptions())
    pairs = dict(world.coupled_pairs("CUSTOMER"))
    if policy == "ignore":
        assert result.counts["failed"] == 1
        assert customer_id in pairs  # kept for a person to decide
    elif policy == "restore":
        assert world.dv.store.get("accounts", pairs[customer_id])["address1_city"] == "Afterwards"
    else:
        assert result.counts["uncoupled"] == 1 and customer_id not in pairs


def test_uncoupled_survivor_is_not_recreated_by_its_next_change(
    make_world: WorldFactory, tmp_path: Path
) -> None:
    """Defect: with 'uncouple', the next edit of the survivor re-created the deleted record."""
    world = world_with(make_world, tmp_path, "uncouple")
    customer_id, account_id = sorted(world.coupled_pairs("CUSTOMER"))[0]
    accounts = world.dv.store.count("accounts")
    world.dv.store.delete("accounts", account_id)
    operations.sync_incremental(world.hub, ["CUSTOMER"])
    world.bc.store.update("customers", customer_id, {"city": "Edited Later"})
    operations.sync_incremental(world.hub, ["CUSTOMER"])
    operations.sync_incremental(world.hub, ["CUSTOMER"])
    assert world.dv.store.count("accounts") == accounts - 1
    assert customer_id not in {a for a, _ in world.coupled_pairs("CUSTOMER")}


@pytest.mark.parametrize(
    ("policy", "counter"),
    [("uncouple", "uncoupled"), ("propagate", "deleted"), ("ignore", "skipped")],
)
def test_preview_of_a_delete_agrees_with_the_sync(
    make_world: WorldFactory, tmp_path: Path, policy: str, counter: str
) -> None:
    """Defect: the preview predicted a delete where the sync uncoupled."""
    world = world_with(make_world, tmp_path, policy)
    _, account_id = sorted(world.coupled_pairs("CUSTOMER"))[0]
    world.dv.store.delete("accounts", account_id)
    preview = operations.sync_incremental(world.hub, ["CUSTOMER"], dry_run=True)
    done = operations.sync_incremental(world.hub, ["CUSTOMER"])
    keys = ("inserted", "modified", "deleted", "uncoupled", "skipped")
    predicted = {k: sum(r.counts[k] for r in preview) for k in keys}
    happened = {k: sum(r.counts[k] for r in done) for k in keys}
    assert predicted == happened
    assert happened[counter] == 1


def test_propagated_deletes_go_out_in_one_batch(make_world: WorldFactory, tmp_path: Path) -> None:
    world = world_with(make_world, tmp_path, "propagate")
    pairs = sorted(world.coupled_pairs("CUSTOMER"))[:3]
    for _customer_id, account_id in pairs:
        world.dv.store.delete("accounts", account_id)
    world.bc.reset_stats()
    results = operations.sync_incremental(world.hub, ["CUSTOMER"])
    assert sum(r.counts["deleted"] for r in results) == 3
    assert all(world.bc.store.get("customers", c) is None for c, _ in pairs)
    routes = world.bc.stats()["by_route"]
    batches = sum(n for route, n in routes.items() if "$batch" in route)
    deletes = sum(n for route, n in routes.items() if route.startswith("DELETE"))
    assert (batches, deletes) == (1, 0), routes
