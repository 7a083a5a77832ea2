"""Failure scenarios (peers.md §3.8, §3.10, §3.11, §3.15): throttling, quotas, a record the
target rejects, partial batch failures reported honestly, and expired credentials."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.errors import AuthError
from accord.services import operations, status
from accord.state.couplings import record_id
from accord.state.models import Coupling
from tests.worlds import World, WorldFactory, custom_template


def pass_of(results: list, direction: str):  # type: ignore[no-untyped-def]
    return next(r for r in results if r.direction == direction)


def synced_world(make_world: WorldFactory, records: int = 12, **kw: object) -> World:
    world = make_world(records=records, create_unmatched=True, **kw)
    operations.sync_full(world.hub)
    # records the full sync pulled in from Sales still owe Sales their ERP-owned fields
    operations.sync_incremental(world.hub)
    return world


def test_throttling_is_retried_and_nothing_is_lost(make_world: WorldFactory) -> None:
    world = make_world(records=25, create_unmatched=True)
    world.bc.faults.add(status=429, path="integrationCustomers", count=2, retry_after=0.2)
    world.dv.faults.add(status=429, path=r"\$batch", count=1, retry_after=0.2)
    world.dv.faults.add(status=503, path="accounts", count=1)
    runs = operations.sync_full(world.hub)
    assert all(r.status == "success" for r in runs), [(r.mapping, r.message) for r in runs]
    assert len(world.coupled_pairs("CUSTOMER")) == world.bc.store.count("customers")
    assert world.dv.store.count("accounts") == world.bc.store.count("customers")


def test_exhausted_quota_stops_the_pass_without_moving_the_watermark(
    make_world: WorldFactory,
) -> None:
    world = synced_world(make_world)
    customer_id = sorted(a for a, _ in world.coupled_pairs("CUSTOMER"))[0]
    world.bc.store.update("customers", customer_id, {"city": "Quota City"})
    world.bc.faults.add(status=429, path="integrationCustomers", count=None, retry_after=0.05)
    results = operations.sync_incremental(world.hub, ["CUSTOMER"])
    push = pass_of(results, "to_crm")
    assert push.status == "failed" and "429" in (push.message or "")
    world.bc.faults.clear()  # the quota resets (next day): the change is still picked up
    results = operations.sync_incremental(world.hub, ["CUSTOMER"])
    assert pass_of(results, "to_crm").counts["modified"] == 1
    account = world.dv.store.get("accounts", dict(world.coupled_pairs("CUSTOMER"))[customer_id])
    assert account["address1_city"] == "Quota City"


def test_one_rejected_record_fails_alone_and_is_reported(
    make_world: WorldFactory, tmp_path: Path
) -> None:
    template = custom_template(tmp_path, initial_sync="full")
    world = make_world(records=20, seed_overlap=0.0, template=template)
    bad = sorted(world.bc.store.all("customers"), key=lambda c: c["number"])[3]
    world.dv.store.reject("accounts", "name", bad["displayName"], "Duplicate detection rule")
    from_erp = world.bc.store.count("customers")
    runs = operations.sync_full(world.hub)
    customer = next(r for r in runs if r.mapping == "CUSTOMER")
    push = customer.passes[0]
    total = world.bc.store.count("customers")  # now also those the CRM had
    assert push.counts["inserted"] == from_erp - 1 and push.counts["failed"] == 1
    assert push.status == "error" and customer.status == "error"
    errors = status.recent_errors(world.hub, mapping="CUSTOMER")
    assert len(errors) == 1
    assert errors[0].source_id == bad["id"] and "Duplicate detection rule" in errors[0].message
    assert world.dv.store.count("accounts") == total - 1

    # failed records are retried first; the same error twice marks the record skipped
    operations.sync_incremental(world.hub, ["CUSTOMER"])
    row = next(c for c in world.couplings("CUSTOMER") if record_id(c, "erp") == bad["id"])
    assert row.skipped and row.links["erp"].last_result == "failure"
    skipped = operations.sync_incremental(world.hub, ["CUSTOMER"])
    assert pass_of(skipped, "to_crm").counts["failed"] == 0

    # once the cause is fixed, retry makes it eligible again and it goes through
    world.dv.store.clear_rejects()
    assert operations.retry(world.hub, "CUSTOMER") == 1
    results = operations.sync_incremental(world.hub, ["CUSTOMER"])
    assert pass_of(results, "to_crm").counts["inserted"] == 1
    assert world.dv.store.count("accounts") == total
    assert all(c.state == "coupled" and not c.skipped for c in world.couplings("CUSTOMER"))


def test_a_value_the_erp_refuses_fails_that_record_only(make_world: WorldFactory) -> None:
    world = synced_world(make_world)
    pairs = sorted(world.coupled_pairs("CUSTOMER"))
    too_long = "X" * 150  # Dataverse allows 160 characters, Business Central 100
    world.dv.store.update("accounts", pairs[0][1], {"name": too_long})
    world.dv.store.update("accounts", pairs[1][1], {"name": "Fine Name Ltd"})
    results = operations.sync_incremental(world.hub, ["CUSTOMER"])
    pull = pass_of(results, "to_erp")
    assert pull.counts["failed"] == 1 and pull.counts["modified"] == 1
    assert world.bc.store.get("customers", pairs[1][0])["displayName"] == "Fine Name Ltd"
    message = status.recent_errors(world.hub, mapping="CUSTOMER")[0].message
    assert "displayName" in message or "length" in message.lower()


def test_expired_token_is_renewed_during_a_run(make_world: WorldFactory) -> None:
    world = synced_world(make_world)
    customer_id, account_id = sorted(world.coupled_pairs("CUSTOMER"))[0]
    with world.context() as ctx:
        from accord.sync.full import incremental_sync

        incremental_sync(ctx, ["CUSTOMER"])
        world.bc.expire_tokens()
        world.dv.expire_tokens()
        world.bc.store.update("customers", customer_id, {"city": "Renewed"})
        results = incremental_sync(ctx, ["CUSTOMER"])
    assert all(r.status == "success" for r in results)
    assert world.dv.store.get("accounts", account_id)["address1_city"] == "Renewed"


def test_revoked_credentials_stop_loudly_and_are_recorded(make_world: WorldFactory) -> None:
    world = synced_world(make_world)
    world.dv.set_credentials(world.dv.client_id, None)
    world.dv.expire_tokens()
    with pytest.raises(AuthError) as err:
        operations.sync_incremental(world.hub, ["CUSTOMER"])
    assert "crm" in str(err.value)  # names the connection
    rows = status.status(world.hub)
    customer = next(r for r in rows if r.name == "CUSTOMER")
    last = customer.last_passes[0]
    assert last.status == "failed" and last.message
    with world.hub.db.session() as s:
        assert s.query(Coupling).count() > 0  # nothing synced is lost
