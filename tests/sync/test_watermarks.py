"""Watermark scenarios (peers.md §3.1, §3.2, §3.9): boundaries, late commits, clock skew,
time zones and paging never lose or repeat a record."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from accord.services import operations
from accord.state.models import Watermark
from accord.state.store import load_integration
from tests.worlds import World, WorldFactory


def synced(world: World, make_change: dict[str, str], customer_id: str) -> bool:
    pairs = dict(world.coupled_pairs("CUSTOMER"))
    account = world.dv.store.get("accounts", pairs[customer_id])
    return all(account.get(k) == v for k, v in make_change.items())


def first_customers(world: World, n: int) -> list[str]:
    return sorted(a for a, _ in world.coupled_pairs("CUSTOMER") if a)[:n]


def erp_watermark(world: World) -> datetime | None:
    with world.hub.db.session() as s:
        mid = load_integration(s).mapping_ids["CUSTOMER"]
        mark = s.get(Watermark, (mid, "erp"))
        return mark.since if mark else None


def test_same_timestamp_and_late_commits_are_not_lost(make_world: WorldFactory) -> None:
    world = make_world(records=12, create_unmatched=True)
    operations.sync_full(world.hub)
    a, b, c = first_customers(world, 3)
    stamp = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=5)
    world.bc.clock.freeze(stamp)
    world.bc.store.update("customers", a, {"city": "Alpha"})
    operations.sync_incremental(world.hub, ["CUSTOMER"])
    assert synced(world, {"address1_city": "Alpha"}, a)
    # committed after the pass read, with exactly the watermark's timestamp
    world.bc.store.update("customers", b, {"city": "Bravo"})
    # committed late with an older timestamp (a long transaction, a skewed node)
    world.bc.clock.freeze(stamp - timedelta(seconds=30))
    world.bc.store.update("customers", c, {"city": "Charlie"})
    results = operations.sync_incremental(world.hub, ["CUSTOMER"])
    assert synced(world, {"address1_city": "Bravo"}, b)
    assert synced(world, {"address1_city": "Charlie"}, c)
    # boundary records read again are recognised as unchanged, not written twice
    push = next(r for r in results if r.direction == "to_crm")
    assert push.counts["modified"] == 2


def test_watermark_never_moves_past_the_pass_start(make_world: WorldFactory) -> None:
    world = make_world(records=8, create_unmatched=True)
    operations.sync_full(world.hub)
    a, b = first_customers(world, 2)
    world.bc.clock.freeze(datetime.now(UTC) + timedelta(hours=1))  # a clock an hour ahead
    world.bc.store.update("customers", a, {"city": "Future"})
    before = datetime.now(UTC)
    operations.sync_incremental(world.hub, ["CUSTOMER"])
    mark = erp_watermark(world)
    assert mark is not None and before - timedelta(seconds=65) <= mark <= datetime.now(UTC)
    world.bc.clock.unfreeze()  # back to true time: this change is older than the skewed one
    world.bc.store.update("customers", b, {"city": "Present"})
    operations.sync_incremental(world.hub, ["CUSTOMER"])
    assert synced(world, {"address1_city": "Future"}, a)
    assert synced(world, {"address1_city": "Present"}, b)


@pytest.fixture
def far_time_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_local_time_zone_does_not_shift_the_cursor(
    make_world: WorldFactory, far_time_zone: None
) -> None:
    world = make_world(records=8, create_unmatched=True)
    operations.sync_full(world.hub)
    (a,) = first_customers(world, 1)
    world.bc.store.update("customers", a, {"city": "Tarawa"})
    operations.sync_incremental(world.hub, ["CUSTOMER"])
    assert synced(world, {"address1_city": "Tarawa"}, a)
    mark = erp_watermark(world)
    assert mark is not None and mark.utcoffset() == timedelta(0)
    assert abs((datetime.now(UTC) - mark).total_seconds()) < 120


def test_small_pages_lose_and_repeat_nothing(make_world: WorldFactory) -> None:
    world = make_world(records=40, bc={"page_size": 7}, dv={"page_size": 7}, create_unmatched=True)
    runs = operations.sync_full(world.hub)
    assert all(r.status == "success" for r in runs)
    pairs = world.coupled_pairs("CUSTOMER")
    assert len(pairs) == world.bc.store.count("customers") == world.dv.store.count("accounts")
    assert len({a for a, _ in pairs}) == len({b for _, b in pairs}) == len(pairs)
    # pages across a delta link too: change more accounts than a page holds
    changed = sorted(b for _, b in pairs if b)[:15]
    for account_id in changed:
        world.dv.store.update("accounts", account_id, {"telephone1": "+47 000"})
    results = operations.sync_incremental(world.hub, ["CUSTOMER"])
    pull = next(r for r in results if r.direction == "to_erp")
    assert pull.counts["modified"] == 15, (
        dict(pull.counts),
        [(r.direction, dict(r.counts)) for r in results],
    )
