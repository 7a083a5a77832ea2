"""Both sides changed: merge of different fields, held conflicts, resolution per field,
and the other policies, end to end."""

from __future__ import annotations

from pathlib import Path

from accord.services import operations
from tests.worlds import World, WorldFactory, custom_template

CITY = "crm=address1_city:erp=city"
EMAIL = "crm=emailaddress1:erp=email"


def settled(make_world: WorldFactory, **kw: object) -> World:
    world = make_world(records=10, **kw)
    operations.sync_full(world.hub)
    for first_sight in operations.conflicts(world.hub):  # matched pairs that differed
        operations.resolve(world.hub, first_sight.id, "erp")
    operations.sync_incremental(world.hub)
    assert operations.conflicts(world.hub) == []
    return world


def test_different_fields_changed_on_both_sides_both_survive(make_world: WorldFactory) -> None:
    world = settled(make_world)
    customer_id, account_id = sorted(world.coupled_pairs("CUSTOMER"))[0]
    world.bc.store.update("customers", customer_id, {"email": "erp@example.com"})
    world.dv.store.update("accounts", account_id, {"telephone1": "+47 123"})
    operations.sync_incremental(world.hub, ["CUSTOMER"])
    customer = world.bc.store.get("customers", customer_id)
    account = world.dv.store.get("accounts", account_id)
    assert customer["email"] == account["emailaddress1"] == "erp@example.com"
    assert customer["phoneNumber"] == account["telephone1"] == "+47 123"
    assert operations.conflicts(world.hub) == []


def test_held_conflict_is_listed_and_resolved_per_field(make_world: WorldFactory) -> None:
    world = settled(make_world)
    customer_id, account_id = sorted(world.coupled_pairs("CUSTOMER"))[0]
    world.bc.store.update("customers", customer_id, {"city": "Bergen", "email": "a@erp.example"})
    world.dv.store.update(
        "accounts", account_id, {"address1_city": "Trondheim", "emailaddress1": "b@crm.example"}
    )
    results = operations.sync_incremental(world.hub, ["CUSTOMER"])
    assert sum(r.counts["conflicts"] for r in results) >= 1
    (conflict,) = operations.conflicts(world.hub)
    assert set(conflict.fields) == {CITY, EMAIL}
    city = conflict.fields[CITY]
    assert city["values"] == {"erp": "Bergen", "crm": "Trondheim"}
    # nothing was overwritten while the conflict is held, however often we sync
    operations.sync_incremental(world.hub, ["CUSTOMER"])
    assert world.bc.store.get("customers", customer_id)["city"] == "Bergen"
    assert world.dv.store.get("accounts", account_id)["address1_city"] == "Trondheim"
    assert len(operations.conflicts(world.hub)) == 1

    operations.resolve(world.hub, conflict.id, {CITY: "crm", EMAIL: "erp"})
    customer = world.bc.store.get("customers", customer_id)
    account = world.dv.store.get("accounts", account_id)
    assert customer["city"] == account["address1_city"] == "Trondheim"
    assert customer["email"] == account["emailaddress1"] == "a@erp.example"
    assert operations.conflicts(world.hub) == []
    after = operations.sync_incremental(world.hub, ["CUSTOMER"])
    assert sum(r.counts["modified"] + r.counts["conflicts"] for r in after) == 0


def test_destination_wins_converges_in_one_run(make_world: WorldFactory, tmp_path: Path) -> None:
    world = settled(make_world, template=custom_template(tmp_path, conflict="destination_wins"))
    customer_id, account_id = sorted(world.coupled_pairs("CUSTOMER"))[0]
    world.bc.store.update("customers", customer_id, {"city": "Bergen"})
    world.dv.store.update("accounts", account_id, {"address1_city": "Trondheim"})
    operations.sync_incremental(world.hub, ["CUSTOMER"])
    assert world.bc.store.get("customers", customer_id)["city"] == "Trondheim"
    assert world.dv.store.get("accounts", account_id)["address1_city"] == "Trondheim"


def test_synchronize_now_in_a_chosen_direction_and_preview(make_world: WorldFactory) -> None:
    world = settled(make_world)
    customer_id, account_id = sorted(world.coupled_pairs("CUSTOMER"))[0]
    world.dv.store.update("accounts", account_id, {"address1_city": "Crm Town"})
    world.bc.store.update("customers", customer_id, {"city": "Erp Town"})
    preview = operations.sync_now(world.hub, "CUSTOMER", [account_id], "to_erp", dry_run=True)
    assert preview.status == "preview"
    (row,) = preview.preview
    assert [(c.field, c.old, c.new) for c in row.changes] == [("city", "Erp Town", "Crm Town")]
    assert world.bc.store.get("customers", customer_id)["city"] == "Erp Town"  # untouched
    operations.sync_now(world.hub, "CUSTOMER", [account_id], "to_erp")
    assert world.bc.store.get("customers", customer_id)["city"] == "Crm Town"


def test_match_based_coupling_respects_case_and_creates_when_asked(
    make_world: WorldFactory,
) -> None:
    world = make_world(records=30)
    operations.sync_full(world.hub, ["SALESPEOPLE", "CURRENCY", "PAYMENT TERMS", "SHIPMENT METHOD"])
    accounts_before = world.dv.store.count("accounts")
    result, _passes = operations.couple_by_match(world.hub, "CUSTOMER")
    assert result.counts["coupled"] > 0 and result.counts["failed"] > 0
    assert world.dv.store.count("accounts") == accounts_before  # nothing created
    for customer_id, account_id in world.coupled_pairs("CUSTOMER"):
        customer = world.bc.store.get("customers", customer_id)
        account = world.dv.store.get("accounts", account_id)
        assert (
            customer["number"] == account["accountnumber"]
            or customer["displayName"].casefold() == account["name"].casefold()
        )
    created, _ = operations.couple_by_match(world.hub, "CUSTOMER", create_new=True)
    assert created.counts["coupled"] == 0 and created.counts["inserted"] > 0
    in_scope = world.in_scope("CUSTOMER", "erp", world.bc.store.all("customers"))
    assert len(world.coupled_pairs("CUSTOMER")) == len(in_scope)  # blocked ones stay out


def test_preview_writes_nothing(make_world: WorldFactory) -> None:
    world = settled(make_world)
    customer_id, account_id = sorted(world.coupled_pairs("CUSTOMER"))[0]
    world.bc.store.update("customers", customer_id, {"city": "Preview City"})
    new = world.bc.store.insert("customers", {"displayName": "Preview Co"})
    before = world.dv.stats()["by_route"].get("POST /api/data/v9.2/$batch", 0)
    results = operations.sync_incremental(world.hub, ["CUSTOMER"], dry_run=True)
    rows = [row for r in results for row in r.preview]
    actions = {(row.source_id, row.action) for row in rows}
    assert (customer_id, "modify") in actions and (new["id"], "insert") in actions
    assert world.dv.stats()["by_route"].get("POST /api/data/v9.2/$batch", 0) == before
    assert world.dv.store.get("accounts", account_id)["address1_city"] != "Preview City"
    # and the real run afterwards still does it
    operations.sync_incremental(world.hub, ["CUSTOMER"])
    assert world.dv.store.get("accounts", account_id)["address1_city"] == "Preview City"


def test_held_conflict_is_counted_once(make_world: WorldFactory) -> None:
    """Defect: a held conflict was counted again on every pass that saw it."""
    world = settled(make_world)
    customer_id, account_id = sorted(world.coupled_pairs("CUSTOMER"))[0]
    world.bc.store.update("customers", customer_id, {"city": "Bergen"})
    world.dv.store.update("accounts", account_id, {"address1_city": "Trondheim"})
    first = operations.sync_incremental(world.hub, ["CUSTOMER"])
    world.bc.store.update("customers", customer_id, {"city": "Bergen Sentrum"})
    world.dv.store.update("accounts", account_id, {"address1_city": "Trondheim Sentrum"})
    second = operations.sync_incremental(world.hub, ["CUSTOMER"])
    assert sum(r.counts["conflicts"] for r in first) == 1
    assert sum(r.counts["conflicts"] for r in second) == 0
    assert len(operations.conflicts(world.hub)) == 1
