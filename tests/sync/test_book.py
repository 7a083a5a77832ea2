"""Bookkeeping of a pass's outcomes (sync/book.py), end to end over the sandboxes."""

from __future__ import annotations

from accord.services import operations
from tests.worlds import WorldFactory


def test_a_number_the_erp_assigns_on_create_reaches_the_crm(make_world: WorldFactory) -> None:
    """Defect: a customer created from Sales got its number from Business Central's number
    series, and that number never reached the Sales account."""
    world = make_world(records=10, create_unmatched=True)
    operations.sync_full(world.hub)
    operations.sync_incremental(world.hub)
    account = world.dv.store.insert("accounts", {"name": "Numberless Ltd", "address1_city": "Oslo"})
    assert not account.get("accountnumber")
    operations.sync_incremental(world.hub)  # creates the customer in Business Central
    pairs = dict((crm, erp) for erp, crm in world.coupled_pairs("CUSTOMER"))
    customer = world.bc.store.get("customers", pairs[account["accountid"]])
    assert customer is not None and customer["number"]

    operations.sync_incremental(world.hub)  # carries the assigned number back
    synced = world.dv.store.get("accounts", account["accountid"])
    assert synced is not None and synced["accountnumber"] == customer["number"]
    assert synced["address1_city"] == "Oslo" and synced["name"] == "Numberless Ltd"

    settled = operations.sync_incremental(world.hub, ["CUSTOMER"])
    assert sum(r.counts["modified"] + r.counts["inserted"] for r in settled) == 0
