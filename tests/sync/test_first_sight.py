"""Correct by default (DESIGN §3.2): a created record's defaults never overwrite values a
person entered, and a pair coupled by match is never overwritten silently at first sight."""

from __future__ import annotations

from typing import Any

from accord.services import operations
from tests.worlds import WorldFactory

CRM_OWNED = {
    "accounts": [
        "creditlimit",
        "paymenttermscode",
        "address1_shippingmethodcode",
        "_ownerid_value",
    ],
    "contacts": ["_parentcustomerid_value", "_ownerid_value"],
    "products": ["standardcost", "_defaultuomscheduleid_value"],
}


def _snapshot(store: Any, entity: str, key: str) -> dict[str, dict[str, Any]]:
    return {row[key]: dict(row) for row in store.all(entity)}


def test_first_incremental_pass_after_a_full_sync_writes_nothing(make_world: WorldFactory) -> None:
    """Defect: BC defaults (credit limit 0, no payment terms) overwrote Sales values of
    records that came from Sales, on the first pass after the full sync."""
    world = make_world(records=40, seed_overlap=0.0, create_unmatched=True)
    before = {
        entity: _snapshot(world.dv.store, entity, key)
        for entity, key in (("accounts", "accountid"), ("contacts", "contactid"))
    }
    runs = operations.sync_full(world.hub)
    assert all(r.status == "success" for r in runs), [(r.mapping, r.message) for r in runs]
    results = operations.sync_incremental(world.hub)
    written = {(r.mapping, r.direction): r.counts["modified"] for r in results}
    assert all(count == 0 for count in written.values()), written
    for entity, rows in before.items():
        key = "accountid" if entity == "accounts" else "contactid"
        after = _snapshot(world.dv.store, entity, key)
        for record_id, row in rows.items():
            for name in CRM_OWNED[entity]:
                if row.get(name) not in (None, ""):
                    assert after[record_id][name] == row[name], (entity, record_id, name)


def test_pairs_coupled_by_match_are_not_overwritten_at_first_sight(
    make_world: WorldFactory,
) -> None:
    """Defect: BC won every differing field of a matched pair, with no conflict."""
    world = make_world(records=40, seed_overlap=1.0)
    accounts = _snapshot(world.dv.store, "accounts", "accountid")
    customers = _snapshot(world.bc.store, "customers", "id")
    operations.sync_full(world.hub)
    held = operations.conflicts(world.hub)
    assert held, "differing values of matched pairs must be held for a person"
    pairs = world.coupled_pairs("CUSTOMER")
    assert pairs
    for customer_id, account_id in pairs:
        if account_id not in accounts or customer_id not in customers:
            continue  # created by the sync
        account = world.dv.store.get("accounts", account_id)
        old = accounts[account_id]
        for name in ("creditlimit", "_ownerid_value", "paymenttermscode", "name"):
            if old.get(name) not in (None, ""):
                assert account[name] == old[name], (account_id, name)
        customer = world.bc.store.get("customers", customer_id)
        for name in ("displayName", "phoneNumber", "email"):
            if customers[customer_id].get(name) not in (None, ""):
                assert customer[name] == customers[customer_id][name], (customer_id, name)


def test_first_sight_follows_the_initial_master(make_world: WorldFactory, tmp_path: Any) -> None:
    from tests.worlds import custom_template

    template = custom_template(tmp_path, "CUSTOMER", initial_master="erp")
    world = make_world(records=40, seed_overlap=1.0, template=template)
    operations.sync_full(world.hub)
    assert [c for c in operations.conflicts(world.hub) if c.mapping == "CUSTOMER"] == []
    for customer_id, account_id in world.coupled_pairs("CUSTOMER"):
        customer = world.bc.store.get("customers", customer_id)
        account = world.dv.store.get("accounts", account_id)
        assert customer["displayName"].casefold() == account["name"].casefold()
