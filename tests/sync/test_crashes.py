"""Crash and concurrency scenarios (peers.md §3.3, §3.4, §3.14): a worker dying between the
write and the checkpoint, and two workers on the same records, never duplicate anything."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from accord.services import operations
from accord.state.models import Job, Watermark
from accord.sync import book, pages
from accord.sync.passes import PassBusy, PassOptions, run_pass
from tests.worlds import WorldFactory, custom_template


class Crash(RuntimeError):
    pass


@pytest.fixture
def crash_after_first_write(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """The first successful write's bookkeeping raises: the records exist in the target but
    the pass never recorded them (a worker killed between write and checkpoint)."""
    calls = {"n": 0, "armed": 0}
    original = book.Book.success

    def crashing(self: Any, *args: Any) -> None:
        if calls["armed"]:
            calls["n"] += 1
        if calls["n"] == 1:
            calls["n"] += 1
            raise Crash("worker killed")
        original(self, *args)

    monkeypatch.setattr(book.Book, "success", crashing)
    return calls


def test_crash_between_write_and_checkpoint_creates_no_duplicates_in_dataverse(
    make_world: WorldFactory, crash_after_first_write: dict[str, int]
) -> None:
    world = make_world(records=12, seed_overlap=0.0)
    operations.sync_full(world.hub, ["SALESPEOPLE", "CURRENCY", "PAYMENT TERMS", "SHIPMENT METHOD"])
    crash_after_first_write["armed"] = 1
    accounts_before = world.dv.store.count("accounts")
    with world.context() as ctx, pytest.raises(Crash):
        run_pass(ctx, "CUSTOMER", "to_crm", PassOptions(kind="full"))
    created_before_crash = world.dv.store.count("accounts") - accounts_before
    assert created_before_crash > 0  # the whole first batch reached Dataverse
    with world.context() as ctx:
        result = run_pass(ctx, "CUSTOMER", "to_crm", PassOptions(kind="full"))
    assert result.status == "success"
    customers = world.bc.store.count("customers")
    assert world.dv.store.count("accounts") == accounts_before + customers
    assert len(world.coupled_pairs("CUSTOMER")) == customers
    assert all(c.state == "coupled" for c in world.couplings("CUSTOMER"))
    with world.hub.db.session() as s:
        statuses = sorted(
            j.status for j in s.query(Job).filter(Job.kind == "full", Job.direction == "to_crm")
        )
    assert "failed" in statuses  # the crashed job is closed, not left running


def test_crash_between_write_and_checkpoint_creates_no_duplicates_in_business_central(
    make_world: WorldFactory, crash_after_first_write: dict[str, int]
) -> None:
    world = make_world(records=8, seed_overlap=0.0)
    operations.sync_full(world.hub, ["SALESPEOPLE", "CURRENCY", "PAYMENT TERMS", "SHIPMENT METHOD"])
    crash_after_first_write["armed"] = 1
    customers_before = world.bc.store.count("customers")
    with world.context() as ctx, pytest.raises(Crash):
        run_pass(ctx, "CUSTOMER", "to_erp", PassOptions(kind="full"))
    assert world.bc.store.count("customers") > customers_before
    with world.context() as ctx:
        result = run_pass(ctx, "CUSTOMER", "to_erp", PassOptions(kind="full"))
    assert result.status == "success"
    accounts = world.dv.store.count("accounts")
    # Business Central takes no caller-chosen ids: the retry found the records it had
    # created by their match fields instead of creating them again
    assert world.bc.store.count("customers") == customers_before + accounts
    numbers = [c["number"] for c in world.bc.store.all("customers")]
    assert len(numbers) == len(set(numbers))


def test_two_workers_on_the_same_pass(make_world: WorldFactory) -> None:
    world = make_world(records=40, seed_overlap=0.0)
    operations.sync_full(world.hub, ["SALESPEOPLE", "CURRENCY", "PAYMENT TERMS", "SHIPMENT METHOD"])
    world.dv.faults.latency(0.3)  # the first pass is still running when the second starts
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def worker() -> None:
        with world.context() as ctx:
            barrier.wait()
            try:
                result = run_pass(ctx, "CUSTOMER", "to_crm", PassOptions(kind="full"))
                outcomes.append(result.status)
            except PassBusy:
                outcomes.append("busy")

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # whichever order they ran in, every customer exists exactly once in Dataverse
    with world.context() as ctx:
        run_pass(ctx, "CUSTOMER", "to_crm", PassOptions(kind="full"))
    world.dv.faults.latency(0)
    assert sorted(outcomes) == ["busy", "success"]
    pairs = world.coupled_pairs("CUSTOMER")
    assert len(pairs) == world.bc.store.count("customers")
    names = [a["accountnumber"] for a in world.dv.store.all("accounts") if a["accountnumber"]]
    assert len(names) == len(set(names))


def test_synchronize_now_racing_a_pass_creates_once(make_world: WorldFactory) -> None:
    world = make_world(records=10)
    operations.sync_full(world.hub)
    new = world.bc.store.insert("customers", {"displayName": "Racer Ltd", "city": "Monza"})
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def now() -> None:
        barrier.wait()
        try:
            operations.sync_now(world.hub, "CUSTOMER", [new["id"]], "to_crm")
        except PassBusy as exc:
            errors.append(exc)

    def scheduled() -> None:
        barrier.wait()
        try:
            operations.sync_incremental(world.hub, ["CUSTOMER"])
        except PassBusy as exc:
            errors.append(exc)

    threads = [threading.Thread(target=now), threading.Thread(target=scheduled)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    operations.sync_incremental(world.hub, ["CUSTOMER"])
    racers = [a for a in world.dv.store.all("accounts") if a["name"] == "Racer Ltd"]
    assert len(racers) == 1


def test_a_failed_chunk_still_books_the_writes_that_completed(
    make_world: WorldFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first chunk's creates are in flight when the second chunk fails: they are awaited
    and booked (coupled, not left as intents to be looked for again) before the error goes up."""
    world = make_world(records=12, seed_overlap=0.0)
    operations.sync_full(world.hub, ["SALESPEOPLE", "CURRENCY", "PAYMENT TERMS", "SHIPMENT METHOD"])
    monkeypatch.setattr(pages, "CHUNK", 5)
    original = pages.link_chunk
    calls = {"n": 0}

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise Crash("the second chunk failed")
        return original(*args, **kwargs)

    monkeypatch.setattr(pages, "link_chunk", failing)
    with world.context() as ctx, pytest.raises(Crash):
        run_pass(ctx, "CUSTOMER", "to_crm", PassOptions(kind="full"))
    states = Counter(c.state for c in world.couplings("CUSTOMER"))
    assert states == {"coupled": 5}, states


def test_source_deleted_while_its_create_is_unfinished_takes_the_created_record_along(
    make_world: WorldFactory, crash_after_first_write: dict[str, int], tmp_path: Path
) -> None:
    """A worker created the account, then died before recording it (the coupling stays
    ``creating``, the account's id planned); a person deletes the account: with deletes
    propagating, the customer goes too. (Found by the chaos run: the unfinished coupling was
    dropped, so the customer outlived its deleted counterpart.)"""
    template = custom_template(tmp_path, "CUSTOMER", deletion="propagate")
    world = make_world(records=6, seed_overlap=0.0, template=template)
    operations.sync_full(world.hub)
    fresh = world.bc.store.insert("customers", {"number": "F-1", "displayName": "Fresh Ltd"})
    crash_after_first_write["armed"] = 1
    with world.context() as ctx, pytest.raises(Crash):
        run_pass(ctx, "CUSTOMER", "to_crm", PassOptions(kind="incremental"))
    (account,) = world.dv.store.find_raw("accounts", {"name": "Fresh Ltd"})
    assert {c.state for c in world.couplings("CUSTOMER")} == {"coupled", "creating"}
    world.dv.store.delete("accounts", account["accountid"])
    with world.context() as ctx:
        run_pass(ctx, "CUSTOMER", "to_erp", PassOptions(kind="incremental"))
    operations.sync_incremental(world.hub, ["CUSTOMER"])
    assert world.bc.store.get("customers", fresh["id"]) is None
    assert world.dv.store.find_raw("accounts", {"name": "Fresh Ltd"}) == []
    assert {c.state for c in world.couplings("CUSTOMER")} == {"coupled"}


@pytest.mark.parametrize("made_on", ["business-central", "dataverse"])
def test_edits_after_a_create_whose_outcome_was_lost_merge(
    make_world: WorldFactory, crash_after_first_write: dict[str, int], made_on: str
) -> None:
    """The worker that created the counterpart died before recording it; both sides are then
    edited on different fields. The next pass finds the record it made and couples it with
    what the create sent as the baseline, so the edits merge (found by the chaos run: the pair
    was taken as a first sight and every edited field was held as a conflict)."""
    world = make_world(records=6, seed_overlap=0.0)
    operations.sync_full(world.hub)
    bc, dv = world.bc.store, world.dv.store
    if made_on == "business-central":
        bc.insert("customers", {"number": "L-1", "displayName": "Lost Ltd", "city": "Oslo"})
        direction = "to_crm"
    else:
        dv.insert("accounts", {"name": "Lost Ltd", "address1_city": "Oslo"})
        direction = "to_erp"
    crash_after_first_write["armed"] = 1
    with world.context() as ctx, pytest.raises(Crash):
        run_pass(ctx, "CUSTOMER", direction, PassOptions(kind="incremental"))
    (customer,) = bc.find_raw("customers", {"displayName": "Lost Ltd"})
    (account,) = dv.find_raw("accounts", {"name": "Lost Ltd"})
    bc.update("customers", customer["id"], {"city": "Bergen"})
    dv.update("accounts", account["accountid"], {"telephone1": "+47 555"})
    for _ in range(2):
        operations.sync_incremental(world.hub, ["CUSTOMER"])
    assert operations.conflicts(world.hub) == []
    assert bc.get("customers", customer["id"])["phoneNumber"] == "+47 555"
    assert dv.get("accounts", account["accountid"])["address1_city"] == "Bergen"


def test_an_update_whose_outcome_was_lost_is_not_taken_for_an_edit_there(
    make_world: WorldFactory, crash_after_first_write: dict[str, int]
) -> None:
    """The account was updated, then the worker died before recording it; the customer is
    edited again. The account holds what Accord wrote, recorded as the update's intent before
    sending, so it is Accord's own echo and the new edit is carried (found by the chaos run:
    the account looked edited there too and the edit was held as a conflict)."""
    world = make_world(records=6, seed_overlap=0.0)
    operations.sync_full(world.hub)
    bc, dv = world.bc.store, world.dv.store
    customer_id, account_id = world.carried_customer("U-1", "Echo Ltd")
    bc.update("customers", customer_id, {"city": "Bergen"})
    crash_after_first_write["armed"] = 1
    with world.context() as ctx, pytest.raises(Crash):
        run_pass(ctx, "CUSTOMER", "to_crm", PassOptions(kind="incremental"))
    assert dv.get("accounts", account_id)["address1_city"] == "Bergen"
    bc.update("customers", customer_id, {"city": "Tromsø"})
    dv.update("accounts", account_id, {"telephone1": "+47 555"})
    for _ in range(2):
        operations.sync_incremental(world.hub, ["CUSTOMER"])
    assert operations.conflicts(world.hub) == []
    assert dv.get("accounts", account_id)["address1_city"] == "Tromsø"
    assert bc.get("customers", customer_id)["phoneNumber"] == "+47 555"


def test_a_reconciliation_carries_the_delete_of_an_unfinished_creates_source(
    make_world: WorldFactory, crash_after_first_write: dict[str, int], tmp_path: Path
) -> None:
    """The account was created, then the worker died before recording it (the coupling stays
    ``creating``); the customer is deleted. Business Central shows no deletes: the
    reconciliation's snapshot diff must find it among unfinished creates too, and the account
    goes (found by the chaos run: only coupled records were checked)."""
    template = custom_template(tmp_path, "CUSTOMER", deletion="propagate")
    world = make_world(records=6, seed_overlap=0.0, template=template)
    operations.sync_full(world.hub)
    bc, dv = world.bc.store, world.dv.store
    fresh = bc.insert("customers", {"number": "F-2", "displayName": "Gone Ltd"})
    crash_after_first_write["armed"] = 1
    with world.context() as ctx, pytest.raises(Crash):
        run_pass(ctx, "CUSTOMER", "to_crm", PassOptions(kind="incremental"))
    assert len(dv.find_raw("accounts", {"name": "Gone Ltd"})) == 1
    bc.delete("customers", fresh["id"])
    with world.context() as ctx:  # the reconciliation's pass from Business Central
        run_pass(ctx, "CUSTOMER", "to_crm", PassOptions(kind="full"))
    assert dv.find_raw("accounts", {"name": "Gone Ltd"}) == []
    assert {c.state for c in world.couplings("CUSTOMER")} == {"coupled"}


def test_an_unfinished_create_whose_counterpart_is_gone_takes_the_deletion_policy(
    make_world: WorldFactory, crash_after_first_write: dict[str, int], tmp_path: Path
) -> None:
    """The account was created, then the worker died before recording it; the customer is
    deleted. The pass the other way retries the unfinished create as an update of the
    customer it knows: a 404 there means it was deleted, so the policy applies (found by the
    chaos run: the 404 was recorded as a failure on every pass, the account left behind)."""
    template = custom_template(tmp_path, "CUSTOMER", deletion="propagate")
    world = make_world(records=6, seed_overlap=0.0, template=template)
    operations.sync_full(world.hub)
    bc, dv = world.bc.store, world.dv.store
    fresh = bc.insert("customers", {"number": "F-3", "displayName": "Left Ltd"})
    crash_after_first_write["armed"] = 1
    with world.context() as ctx, pytest.raises(Crash):
        run_pass(ctx, "CUSTOMER", "to_crm", PassOptions(kind="incremental"))
    bc.delete("customers", fresh["id"])
    with world.context() as ctx:
        result = run_pass(ctx, "CUSTOMER", "to_erp", PassOptions(kind="incremental"))
    assert result.counts["failed"] == 0, result.counts
    assert dv.find_raw("accounts", {"name": "Left Ltd"}) == []
    assert {c.state for c in world.couplings("CUSTOMER")} == {"coupled"}


def test_a_propagated_delete_that_failed_is_retried(
    make_world: WorldFactory, tmp_path: Path
) -> None:
    """An account is deleted; carrying the delete to Business Central fails. The delta feed
    reports a delete once, so the next pass must retry it (found by the chaos run: the
    customer stayed for good)."""
    template = custom_template(tmp_path, "CUSTOMER", deletion="propagate")
    world = make_world(records=6, seed_overlap=0.0, template=template)
    operations.sync_full(world.hub)
    bc, dv = world.bc.store, world.dv.store
    customer_id = bc.insert("customers", {"number": "D-1", "displayName": "Doomed Ltd"})["id"]
    operations.sync_incremental(world.hub, ["CUSTOMER"])
    (account,) = dv.find_raw("accounts", {"name": "Doomed Ltd"})
    dv.delete("accounts", account["accountid"])
    world.bc.faults.add(status=400, method="DELETE", count=None)
    world.bc.faults.add(status=400, path=r"\$batch", count=None)
    with world.context() as ctx:
        run_pass(ctx, "CUSTOMER", "to_erp", PassOptions(kind="incremental"))
    assert bc.get("customers", customer_id) is not None  # the delete failed
    world.bc.faults.clear()
    with world.context() as ctx:
        run_pass(ctx, "CUSTOMER", "to_erp", PassOptions(kind="incremental"))
    assert bc.get("customers", customer_id) is None
    assert {c.state for c in world.couplings("CUSTOMER")} == {"coupled"}


def test_a_reconciliation_carries_a_dataverse_delete_made_since_the_last_pass(
    make_world: WorldFactory, tmp_path: Path
) -> None:
    """An account is deleted, then a reconciliation (a full sync) runs before any incremental
    pass: its full read starts a new delta feed, which never reports that delete, so the
    snapshot diff must run for Dataverse too (found by the chaos run: customers whose
    accounts were deleted just before a reconciliation stayed)."""
    template = custom_template(tmp_path, "CUSTOMER", deletion="propagate")
    world = make_world(records=6, seed_overlap=0.0, template=template)
    operations.sync_full(world.hub)
    bc, dv = world.bc.store, world.dv.store
    customer_id = bc.insert("customers", {"number": "R-1", "displayName": "Raced Ltd"})["id"]
    operations.sync_incremental(world.hub, ["CUSTOMER"])
    (account,) = dv.find_raw("accounts", {"name": "Raced Ltd"})
    dv.delete("accounts", account["accountid"])
    operations.sync_full(world.hub, ["CUSTOMER"])
    assert bc.get("customers", customer_id) is None


def test_a_reconciliation_killed_before_it_finishes_keeps_the_saved_feed(
    make_world: WorldFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A create into Dataverse lost its answer and a person deleted the account; then a
    reconciliation's pass from Dataverse dies after its full read, before it finishes. The
    saved delta link must outlive the reset and the dead pass: the deletes it reports are
    what tells "made, then deleted" from "never arrived" (ADR 0020, fix 11; before, the
    reset forgot it and the next read released the create: the account was made again)."""
    template = custom_template(tmp_path, "CUSTOMER", deletion="propagate")
    world = make_world(records=6, seed_overlap=0.0, template=template)
    operations.sync_full(world.hub)
    bc, dv = world.bc.store, world.dv.store
    customer_id = world.lost_create_deleted("K-1", "Killed Ltd")
    with world.context() as ctx:
        mapping_id = ctx.mapping_id("CUSTOMER")
    saved = select(Watermark.token).where(
        Watermark.mapping_id == mapping_id, Watermark.token.is_not(None)
    )
    with world.hub.db.session() as session:
        before = session.scalars(saved).one()
    original = pages.PageProcessor.detect_snapshot_deletes

    def killed(self: pages.PageProcessor) -> None:
        if self.direction == "to_erp":
            raise Crash("worker killed")
        original(self)

    monkeypatch.setattr(pages.PageProcessor, "detect_snapshot_deletes", killed)
    with pytest.raises(Crash):
        operations.sync_full(world.hub, ["CUSTOMER"])
    monkeypatch.undo()
    with world.hub.db.session() as session:
        assert session.scalars(saved).one() == before
    for direction in ("to_crm", "to_erp", "to_crm", "to_erp"):
        run_pass_of(world, direction)
    assert dv.find_raw("accounts", {"name": "Killed Ltd"}) == []
    assert bc.get("customers", customer_id) is None


def run_pass_of(world: Any, direction: str) -> None:
    with world.context() as ctx:
        run_pass(ctx, "CUSTOMER", direction, PassOptions(kind="incremental"))
