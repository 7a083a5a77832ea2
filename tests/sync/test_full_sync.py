"""End-to-end: the bc-sales template over the sandboxes, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from accord.services import operations
from accord.state.models import JobError
from accord.sync.full import incremental_sync
from accord.sync.passes import PassResult
from tests.worlds import WorldFactory, custom_template


def totals(results: list[PassResult]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in results:
        for k, v in r.counts.items():
            out[k] = out.get(k, 0) + v
    return out


def test_full_sync_with_data_on_both_sides_couples_and_reports_unmatched_without_creating(
    make_world: WorldFactory,
) -> None:
    world = make_world(records=30)  # bc-sales without filters: every seeded record counts
    accounts_before = world.dv.store.count("accounts")
    customers_before = world.bc.store.count("customers")
    runs = operations.sync_full(world.hub)
    customer = next(r for r in runs if r.mapping == "CUSTOMER")
    assert customer.recommendation == "couple"
    assert customer.coupling is not None and customer.coupling.counts["coupled"] > 0
    matched = customer.coupling.counts["coupled"]
    unmatched = customers_before + accounts_before - 2 * matched
    assert unmatched > 0
    assert customer.coupling.counts["unmatched"] == unmatched
    assert customer.status == "error" and "not created" in (customer.message or "")
    assert world.bc.store.count("customers") == customers_before
    assert world.dv.store.count("accounts") == accounts_before
    assert sum(p.counts["inserted"] for p in customer.passes) == 0
    assert len(world.coupled_pairs("CUSTOMER")) == matched
    with world.hub.db.session() as session:
        messages = [e.message for e in session.scalars(select(JobError))]
    assert any("Failed to couple" in m for m in messages)


def test_full_sync_creates_unmatched_records_when_the_mapping_says_so(
    make_world: WorldFactory, tmp_path: Path
) -> None:
    template = custom_template(tmp_path, create_new_if_no_match=True)
    world = make_world(records=30, template=template)
    accounts_before = world.dv.store.count("accounts")
    customers_before = world.bc.store.count("customers")
    runs = operations.sync_full(world.hub)
    customer = next(r for r in runs if r.mapping == "CUSTOMER")
    assert customer.status == "success", customer.message
    assert customer.coupling is not None
    pairs = world.coupled_pairs("CUSTOMER")
    # the records Microsoft's default filters leave out stay where they are
    bc_ids = {r["id"] for r in world.in_scope("CUSTOMER", "erp", world.bc.store.all("customers"))}
    dv_ids = {
        r["accountid"] for r in world.in_scope("CUSTOMER", "crm", world.dv.store.all("accounts"))
    }
    assert {a for a, _ in pairs} == bc_ids
    assert {b for _, b in pairs} == dv_ids
    matched = customer.coupling.counts["coupled"]
    assert len(bc_ids) == customers_before + accounts_before - matched
    assert len(dv_ids) == len(bc_ids)

    again = operations.sync_full(world.hub)
    assert sum(p.counts["inserted"] for r in again for p in r.passes) == 0
    assert len(world.in_scope("CUSTOMER", "crm", world.dv.store.all("accounts"))) == len(dv_ids)


def test_initial_sync_setting_overrides_the_recommendation(
    make_world: WorldFactory, tmp_path: Path
) -> None:
    template = custom_template(tmp_path, initial_sync="full")
    world = make_world(records=30, template=template)
    runs = operations.sync_full(world.hub, ["CUSTOMER"])
    assert runs[0].recommendation == "full" and runs[0].coupling is None


def test_lookups_translate_references_through_couplings(make_world: WorldFactory) -> None:
    world = make_world(records=30)
    operations.sync_full(world.hub)
    rates = {r["id"]: r["code"] for r in world.bc.store.all("currencyRates")}
    currency_pairs = {rates[erp]: crm for erp, crm in world.coupled_pairs("CURRENCY")}
    checked = 0
    for customer_id, account_id in world.coupled_pairs("CUSTOMER"):
        customer = world.bc.store.get("customers", customer_id)
        account = world.dv.store.get("accounts", account_id)
        assert customer is not None and account is not None
        currency = customer.get("currencyCode")
        if currency:
            assert account["_transactioncurrencyid_value"] == currency_pairs[currency]
            checked += 1
    assert checked > 0


def test_no_change_means_no_writes_and_no_update_loop(make_world: WorldFactory) -> None:
    world = make_world(records=20)
    operations.sync_full(world.hub)
    operations.sync_incremental(world.hub)  # settles the overlap window
    customer_id, account_id = sorted(world.coupled_pairs("CUSTOMER"))[0]
    world.bc.store.update("customers", customer_id, {"city": "Loopville"})
    first = totals(operations.sync_incremental(world.hub))
    assert first.get("modified") == 1
    assert world.dv.store.get("accounts", account_id)["address1_city"] == "Loopville"
    for _ in range(3):
        later = totals(operations.sync_incremental(world.hub))
        assert later.get("modified", 0) == 0 and later.get("inserted", 0) == 0
    assert world.dv.store.get("accounts", account_id)["address1_city"] == "Loopville"


def test_incremental_pass_with_nothing_changed_is_cheap(make_world: WorldFactory) -> None:
    world = make_world(records=20)
    operations.sync_full(world.hub)
    world.bc.clock.advance(3600)
    world.dv.clock.advance(3600)
    with world.context() as ctx:  # one context, as the scheduler keeps it
        incremental_sync(ctx, ["CUSTOMER"])
        world.bc.reset_stats()
        world.dv.reset_stats()
        results = incremental_sync(ctx, ["CUSTOMER"])
    assert totals(results).get("modified", 0) == 0
    # exactly one read per direction: BC "modified since" and the Dataverse delta link
    assert world.bc.stats()["total"] == 1
    assert world.dv.stats()["total"] == 1, (
        world.dv.stats(),
        [(r.direction, dict(r.counts)) for r in results],
    )


def test_every_mapping_settles_without_loops(make_world: WorldFactory) -> None:
    world = make_world(records=30)
    operations.sync_full(world.hub)
    # the first pass sends ERP-owned fields of records that came from the CRM, once
    operations.sync_incremental(world.hub)
    for _ in range(2):
        results = operations.sync_incremental(world.hub)
        busy = {
            (r.mapping, r.direction): dict(r.counts)
            for r in results
            if r.counts["inserted"] or r.counts["modified"] or r.counts["failed"]
        }
        assert busy == {}
        assert all(r.status == "success" for r in results)
