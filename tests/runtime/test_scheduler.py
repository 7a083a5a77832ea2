"""The scheduler runs each mapping on its own interval, backs off on throttling and stops
loudly on refused credentials."""

from __future__ import annotations

import threading

import pytest

from accord.errors import AuthError
from accord.runtime.scheduler import Scheduler
from accord.services import operations
from tests.worlds import WorldFactory


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_each_mapping_runs_on_its_interval(make_world: WorldFactory) -> None:
    world = make_world(records=8)
    operations.sync_full(world.hub)
    clock = FakeClock()
    with world.context() as ctx:
        scheduler = Scheduler(ctx, clock=clock)
        first = scheduler.run_due()
        assert {r.mapping for r in first} == {m.name for m in ctx.config.template.mappings}
        assert scheduler.due() == []
        clock.now += 301  # CUSTOMER and CONTACT run every 300 s, the rest every 1800 s
        assert scheduler.due() == ["CUSTOMER", "CONTACT"]
        customer_id, account_id = sorted(world.coupled_pairs("CUSTOMER"))[0]
        world.bc.store.update("customers", customer_id, {"city": "Scheduled"})
        second = scheduler.run_due()
        assert {r.mapping for r in second} == {"CUSTOMER", "CONTACT"}
        assert world.dv.store.get("accounts", account_id)["address1_city"] == "Scheduled"
        clock.now += 1800
        assert set(scheduler.due()) == {m.name for m in ctx.config.template.mappings}


def test_throttling_backs_off_and_refused_credentials_stop(make_world: WorldFactory) -> None:
    world = make_world(records=5)
    operations.sync_full(world.hub)
    clock = FakeClock()
    notices: list[str] = []
    with world.context() as ctx:
        scheduler = Scheduler(ctx, clock=clock, on_notice=notices.append)
        world.bc.faults.add(status=503, path="integrationCustomers", count=None)
        scheduler.run_due()
        assert any("CUSTOMER" in n and "retrying in 5 s" in n for n in notices)
        clock.now += 6
        assert "CUSTOMER" in scheduler.due()  # backed off 5 s, not the full interval
        world.bc.faults.clear()
        world.dv.set_credentials(world.dv.client_id, None)
        world.dv.expire_tokens()
        with pytest.raises(AuthError):
            scheduler.run(threading.Event(), max_cycles=1)
    assert any("stopping" in n for n in notices)
