"""The scheduler enqueues each mapping's pass on its interval (the local executor runs it
here), backs a failing mapping off while the others go on, and stops loudly on refused
credentials."""

from __future__ import annotations

import threading

import pytest

from accord.errors import AuthError
from accord.runtime.scheduler import Scheduler
from accord.services import operations
from accord.services.workloads import local_executor
from accord.state.workloads import recent
from tests.worlds import World, WorldFactory


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def scheduler(world: World, clock: FakeClock, notices: list[str] | None = None) -> Scheduler:
    with world.context() as ctx:
        config = ctx.config
    executor = local_executor(world.hub, attempts=1)
    return Scheduler.of(
        config, executor.submit, clock=clock, on_notice=None if notices is None else notices.append
    )


def test_each_mapping_is_enqueued_on_its_interval(make_world: WorldFactory) -> None:
    world = make_world(records=8)
    operations.sync_full(world.hub)
    clock = FakeClock()
    s = scheduler(world, clock)
    with world.context() as ctx:
        names = {m.name for m in ctx.config.template.mappings}
        names |= {d.name for d in ctx.config.template.documents}  # their runs, on their own
    first = s.run_due()
    assert {d.row.payload.get("mapping") for d in first} == names | {None}
    assert all(d.row.status == "done" for d in first), [d.row.message for d in first]
    assert first[-1].row.kind == "renew_subscriptions"  # after the passes
    assert s.due() == []
    clock.now += 301  # CUSTOMER, CONTACT and the documents every 300 s, the rest every 1800 s
    with world.context() as ctx:
        documents = [d.name for d in ctx.config.template.documents if d.interval_seconds == 300]
    assert "SALES ORDER" in documents
    assert s.due() == ["CUSTOMER", "CONTACT", *documents]
    customer_id, account_id = sorted(world.coupled_pairs("CUSTOMER"))[0]
    world.bc.store.update("customers", customer_id, {"city": "Scheduled"})
    second = s.run_due()
    assert [d.row.key for d in second] == [
        "pass:bc-sales:CUSTOMER:4",
        "pass:bc-sales:CONTACT:4",
        *(f"documents:bc-sales:{name}:4" for name in documents),
    ]
    assert world.dv.store.get("accounts", account_id)["address1_city"] == "Scheduled"
    clock.now += 1800
    assert set(s.due()) == names
    clock.now += 3600
    assert set(s.due()) == names | {"subscriptions"}
    with world.hub.db.session() as session:  # every pass ran as a workload
        kinds = {row.kind for row in recent(session, limit=100)}
    assert kinds == {"sync_pass", "run_documents", "renew_subscriptions"}


def test_throttling_backs_off_and_refused_credentials_stop(make_world: WorldFactory) -> None:
    world = make_world(records=5)
    operations.sync_full(world.hub)
    clock = FakeClock()
    notices: list[str] = []
    s = scheduler(world, clock, notices)
    world.bc.faults.add(status=503, path="integrationCustomers", count=None)
    done = s.run_due()
    assert any(n.startswith("CUSTOMER") and "retrying in 5 s" in n for n in notices), notices
    assert [d.row.status for d in done].count("failed") == 1  # the others went on
    clock.now += 6
    assert s.due() == ["CUSTOMER"]  # backed off 5 s, not the full interval
    world.bc.faults.clear()
    world.dv.set_credentials(world.dv.client_id, None)
    world.dv.expire_tokens()
    with pytest.raises(AuthError):
        s.run(threading.Event(), max_cycles=1)
    assert any("stopping" in n for n in notices)
