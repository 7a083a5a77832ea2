"""Workloads run by the local executor: once per key, each on its own, their outcome kept."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from accord.errors import TransientError
from accord.runtime.executor import (
    MAX_ATTEMPTS,
    LocalExecutor,
    Submitted,
    execute,
    fetch,
    submit_row,
)
from accord.runtime.scheduler import Periodic, Scheduler
from accord.runtime.workloads import Couple, Reconcile, SyncPass, SyncRecords, Workload
from accord.services import operations
from accord.services.workloads import handlers, local_executor
from accord.state.db import Database
from accord.state.models import Job
from tests.worlds import World, WorldFactory, creating_template


def jobs(world: World) -> int:
    with world.hub.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Job)) or 0)


def changed_pair(world: World, city: str) -> str:
    """Change one coupled customer's city in Business Central; its Dataverse account id."""
    customer_id, account_id = sorted(world.coupled_pairs("CUSTOMER"))[0]
    assert customer_id and account_id
    world.bc.store.update("customers", customer_id, {"city": city})
    return account_id


def test_a_pass_runs_in_process_and_keeps_its_result(
    make_world: WorldFactory, tmp_path: Path
) -> None:
    world = make_world(records=6, template=creating_template(tmp_path))
    operations.sync_full(world.hub)
    account_id = changed_pair(world, "Workloaded")
    done = local_executor(world.hub).submit(SyncPass(mapping="CUSTOMER", key="k1"))
    assert done.created and done.row.status == "done", done.row.message
    assert done.row.attempts == 1
    assert world.dv.store.get("accounts", account_id)["address1_city"] == "Workloaded"
    passes = done.row.result["passes"]
    assert {p["direction"] for p in passes} == {"to_crm", "to_erp"}
    assert all(p["job_id"] and p["status"] == "success" for p in passes)


def test_the_same_key_submitted_twice_runs_once(make_world: WorldFactory, tmp_path: Path) -> None:
    world = make_world(records=4, template=creating_template(tmp_path))
    operations.sync_full(world.hub)
    executor = local_executor(world.hub)
    before = jobs(world)
    first = executor.submit(SyncPass(mapping="CUSTOMER", direction="to_crm", key="same"))
    again = executor.submit(SyncPass(mapping="CUSTOMER", direction="to_crm", key="same"))
    assert first.created and not again.created
    assert again.row.status == "done" and again.row.attempts == 1
    assert jobs(world) == before + 1
    # a message delivered twice (the broker's at-least-once) finds it finished
    outcome = execute(world.hub.db, handlers(world.hub), "same")
    assert outcome.status == "finished-before"
    assert jobs(world) == before + 1


def test_a_bad_mapping_fails_alone(make_world: WorldFactory, tmp_path: Path) -> None:
    world = make_world(records=4, template=creating_template(tmp_path))
    operations.sync_full(world.hub)
    account_id = changed_pair(world, "StillSynced")
    submitted: list[Workload] = []
    executor = local_executor(world.hub, attempts=1)

    def submit(workload: Workload) -> Submitted:
        submitted.append(workload)
        return executor.submit(workload)

    def sync_pass(mapping: str) -> Periodic:
        return Periodic(
            mapping, 60.0, lambda key: SyncPass(key=key, integration="bc-sales", mapping=mapping)
        )

    clock = [6000.0]
    notices: list[str] = []
    scheduler = Scheduler(
        "bc-sales",
        [sync_pass("NOPE"), sync_pass("CUSTOMER")],
        submit,
        clock=lambda: clock[0],
        on_notice=notices.append,
    )
    scheduler.run_due()
    with world.hub.db.session() as session:
        from accord.state.workloads import get

        rows = {w.mapping: get(session, w.key) for w in submitted if isinstance(w, SyncPass)}
    bad, good = rows["NOPE"], rows["CUSTOMER"]
    assert bad is not None and bad.status == "failed"
    assert "NOPE" in (bad.message or "") and "CUSTOMER" in (bad.message or "")
    assert good is not None and good.status == "done", good.message if good else None
    assert world.dv.store.get("accounts", account_id)["address1_city"] == "StillSynced"
    assert [n.split(":")[0] for n in notices] == ["NOPE"] and "retrying in 5 s" in notices[0]
    # the same slot is not submitted twice; the next one is, the failed job under a new key
    assert scheduler.run_due() == []
    clock[0] += 60
    assert [s.row.key for s in scheduler.run_due()] == [
        "pass:bc-sales:NOPE:101.1",
        "pass:bc-sales:CUSTOMER:101",
    ]
    assert "retrying in 10 s" in notices[-1]


def test_records_couple_and_reconcile_workloads(make_world: WorldFactory, tmp_path: Path) -> None:
    world = make_world(records=5, template=creating_template(tmp_path))
    executor = local_executor(world.hub)
    reconciled = executor.submit(Reconcile(mappings=["CUSTOMER"]))
    assert reconciled.row.status == "done", reconciled.row.message
    assert reconciled.row.result["mappings"]["CUSTOMER"]["status"]
    coupled = executor.submit(Couple(mapping="CUSTOMER"))
    assert coupled.row.status == "done", coupled.row.message
    customer_id, account_id = sorted(world.coupled_pairs("CUSTOMER"))[0]
    assert customer_id and account_id
    world.bc.store.update("customers", customer_id, {"city": "Chosen"})
    now = executor.submit(
        SyncRecords(mapping="CUSTOMER", direction="to_crm", record_ids=[customer_id])
    )
    assert now.row.status == "done", now.row.message
    assert world.dv.store.get("accounts", account_id)["address1_city"] == "Chosen"


def test_transient_failures_come_back_with_backoff_then_give_up(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    calls: list[str] = []

    def away(workload: Workload) -> dict[str, object]:
        calls.append(workload.key)
        raise TransientError("the target is away")

    def crash(workload: Workload) -> dict[str, object]:
        raise ZeroDivisionError("division by zero")

    try:
        submit_row(db, SyncPass(mapping="M", key="t"))
        outcomes = [execute(db, {"sync_pass": away}, "t") for _ in range(MAX_ATTEMPTS)]
        assert [o.status for o in outcomes[:-1]] == ["retry"] * (MAX_ATTEMPTS - 1)
        assert [o.delay for o in outcomes[:3]] == [5.0, 10.0, 20.0]
        assert fetch(db, "t").status == "failed"  # type: ignore[union-attr]
        assert outcomes[-1].message == f"gave up after {MAX_ATTEMPTS} attempts: the target is away"
        assert execute(db, {"sync_pass": away}, "t").status == "finished-before"
        assert len(calls) == MAX_ATTEMPTS
        submit_row(db, SyncPass(mapping="M", key="c"))
        crashed = execute(db, {"sync_pass": crash}, "c")
        assert crashed.status == "failed"
        assert crashed.message == "ZeroDivisionError: division by zero"
        waits: list[float] = []
        local = LocalExecutor(db, {"sync_pass": away}, sleep=waits.append)
        given_up = local.submit(SyncPass(mapping="M", key="l"))
        assert given_up.row.status == "failed" and waits == [5.0, 10.0]
        assert "gave up after 3 attempts" in (given_up.row.message or "")
        unknown = local.submit(Reconcile(key="r"))
        assert unknown.row.status == "failed"
        assert unknown.row.message == "this worker has no handler for 'reconcile' workloads"
    finally:
        db.dispose()


def test_a_workload_costs_two_commits_and_leaves_no_lease(database_url: str) -> None:
    """The lease goes with the start, its release with the outcome: per workload a worker
    commits twice (it was four), and nothing is left held afterwards."""
    from sqlalchemy import event

    from accord.state.models import Lease

    db = Database(database_url)
    try:
        submit_row(db, Reconcile(key="two-commits"))
        commits: list[int] = []
        event.listen(db.engine, "commit", lambda _conn: commits.append(1))
        outcome = execute(db, {"reconcile": lambda _w: {"ok": True}}, "two-commits")
        assert outcome.status == "done" and len(commits) == 2
        again = execute(db, {"reconcile": lambda _w: {"ok": True}}, "two-commits")
        assert again.status == "finished-before"
        with db.session() as session:
            assert session.scalar(select(func.count()).select_from(Lease)) == 0
            row = fetch(db, "two-commits")
            assert row is not None and row.result == {"ok": True}
    finally:
        db.dispose()
