"""A full sync split into parts that workers run at once: every record synced once, none
created twice, even when two splits of the same records race; the watermark moves as a full
pass's would. Worker threads keep their sync context between workloads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from accord.runtime.executor import Outcome, Submitted, execute, submit_row
from accord.runtime.workloads import SyncPart, Workload
from accord.services import setup
from accord.services.workloads import handlers, submit_full_parts
from accord.state.models import Watermark
from accord.state.workloads import get
from accord.sync.context import SyncContext
from accord.sync.full import full_sync
from accord.testing.sandbox import settings_from_sandbox
from tests.worlds import WorldFactory, creating_template


def test_parts_run_at_once_and_create_each_record_once(
    make_world: WorldFactory, tmp_path: Path
) -> None:
    world = make_world(records=12, template=creating_template(tmp_path))
    with world.context() as ctx:
        full_sync(ctx, ["SALESPEOPLE"])  # the customers' salesperson lookups resolve
    recorded: list[str] = []

    def record(workload: Workload) -> Submitted:
        recorded.append(workload.key)
        return submit_row(world.hub.db, workload)

    submit_full_parts(world.hub, record, "CUSTOMER", "to_crm", part_size=3)
    first = list(recorded)
    # a second split of the same records, racing the first (a scheduler run twice)
    submit_full_parts(world.hub, record, "CUSTOMER", "to_crm", part_size=5)
    assert len(first) >= 3 and len(recorded) > len(first)
    with world.hub.db.session() as session:
        rows = [get(session, key) for key in recorded]
        payloads = [SyncPart.model_validate(row.payload) for row in rows if row is not None]
    customers = world.bc.store.all("customers")
    assert sorted(i for p in payloads[: len(first)] for i in p.record_ids) == sorted(
        c["id"] for c in customers
    )
    run = handlers(world.hub)
    with ThreadPoolExecutor(4) as pool:
        outcomes: list[Outcome] = list(
            pool.map(lambda key: execute(world.hub.db, run, key), recorded)
        )
    assert [o.status for o in outcomes] == ["done"] * len(recorded), outcomes
    pairs = world.coupled_pairs("CUSTOMER")
    assert {erp for erp, _ in pairs} == {c["id"] for c in customers}
    accounts = [a["accountid"] for a in world.dv.store.all("accounts")]
    assert len(accounts) == len(set(accounts))
    assert len({crm for _, crm in pairs}) == len(pairs)  # one account per customer
    assert sum(1 for a in world.dv.store.all("accounts") if a.get("accountnumber")) == len(
        {a.get("accountnumber") for a in world.dv.store.all("accounts") if a.get("accountnumber")}
    )  # no account number twice: nothing was created twice
    with world.hub.db.session() as session:
        marks = session.query(Watermark).all()
        assert any(m.role == "erp" and m.since is not None for m in marks)


def test_a_thread_keeps_its_context_until_the_state_changes(make_world: WorldFactory) -> None:
    """Workers reuse one sync context (tokens, connections, compiled mappings) per thread;
    a changed state or a failed call opens a new one."""
    world = make_world(records=2)
    hub = world.hub

    def kept() -> SyncContext:
        with hub.kept_context() as ctx:
            return ctx

    first = kept()
    assert kept() is first
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(kept).result() is not first  # each thread its own
    setup.connect(hub, settings_from_sandbox(world.bc, name="bc2"))  # the state changed
    changed = kept()
    assert changed is not first
    with pytest.raises(RuntimeError), hub.kept_context() as ctx:
        assert ctx is changed
        raise RuntimeError("the workload failed")
    assert kept() is not changed
