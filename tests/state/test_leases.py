"""Leases with a heartbeat: dead holders on this host are taken over at once, live ones and
holders on other hosts are respected until their heartbeat lapses (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from accord.state import leases
from accord.state.db import Database
from accord.state.leases import Holder, LeaseBusy, LeaseKeeper, LeaseLost, LeaseSet, hold
from accord.state.models import Lease
from accord.state.store import load_integration
from accord.state.types import utcnow
from accord.sync.passes import PassBusy, PassOptions, run_pass
from tests.worlds import WorldFactory

HOLDER_SCRIPT = """
import sys, time
from accord.state.db import Database
from accord.state.leases import LeaseKeeper
keeper = LeaseKeeper(Database(sys.argv[1]), sys.argv[2], "holder-process", ttl=600.0, beat=300.0)
assert keeper.take()
print("held", flush=True)
time.sleep(600)
"""


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


class HolderProcess:
    """Another process that takes ``key`` through the real code and keeps it (ttl 10 min)."""

    def __init__(self, url: str, key: str):
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLDER_SCRIPT, url, key],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line.strip() != "held":
            self.process.kill()
            _, err = self.process.communicate(timeout=30)
            pytest.fail(f"the holder process did not take the lease: {err}")

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would; the parent reaps it like a shell."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        assert self.process.returncode == -signal.SIGKILL


@pytest.fixture
def holders() -> Iterator[list[HolderProcess]]:
    started: list[HolderProcess] = []
    yield started
    for holder in started:
        if holder.process.poll() is None:
            holder.kill()


def _take(db: Database, key: str, owner: str, holder: Holder | None = None) -> bool:
    with db.session() as s:
        return leases.acquire(s, key, owner, 60, holder)


def _row(db: Database, key: str) -> Lease | None:
    with db.session() as s:
        return s.get(Lease, key)


def test_a_killed_holder_on_this_host_is_taken_over_at_once(
    db: Database, database_url: str, holders: list[HolderProcess]
) -> None:
    holder = HolderProcess(database_url, "pass:1:to_remote")
    holders.append(holder)
    row = _row(db, "pass:1:to_remote")
    assert row is not None and row.pid == holder.process.pid and row.host == socket.gethostname()
    assert row.expires_at > utcnow() + timedelta(minutes=9)
    holder.kill()
    started = time.monotonic()
    assert _take(db, "pass:1:to_remote", "next-run")
    assert time.monotonic() - started < 5
    row = _row(db, "pass:1:to_remote")
    assert row is not None and row.owner == "next-run" and row.pid == os.getpid()


def test_a_live_holder_in_another_process_keeps_its_lease(
    db: Database, database_url: str, holders: list[HolderProcess]
) -> None:
    holders.append(HolderProcess(database_url, "k"))
    assert not _take(db, "k", "intruder")
    with pytest.raises(LeaseBusy, match="held by another worker"), hold(db, "k", "intruder"):
        pass
    row = _row(db, "k")
    assert row is not None and row.owner == "holder-process"


def _foreign_lease(db: Database, key: str, expires_in: float, **holder: object) -> None:
    now = utcnow()
    values: dict[str, object] = {"host": "another-host", "pid": 4242, "boot_id": "b-elsewhere"}
    values.update(holder)
    with db.session() as s:
        s.add(
            Lease(
                key=key,
                owner="foreign",
                expires_at=now + timedelta(seconds=expires_in),
                heartbeat_at=now,
                **values,
            )
        )


def test_a_holder_on_another_host_is_respected_until_its_heartbeat_lapses(db: Database) -> None:
    _foreign_lease(db, "fresh", expires_in=30)
    _foreign_lease(db, "lapsed", expires_in=-1)
    assert not _take(db, "fresh", "me")
    assert _take(db, "lapsed", "me")
    fresh, lapsed = _row(db, "fresh"), _row(db, "lapsed")
    assert fresh is not None and fresh.owner == "foreign"
    assert lapsed is not None and lapsed.owner == "me" and lapsed.host == socket.gethostname()


def test_a_holder_from_an_earlier_boot_of_this_host_is_taken_over(db: Database) -> None:
    if leases.boot_id() is None:
        pytest.skip("this system has no boot id")
    alive_pid = os.getppid()
    _foreign_lease(
        db, "k", expires_in=600, host=socket.gethostname(), pid=alive_pid, boot_id="earlier-boot"
    )
    assert _take(db, "k", "me")
    _foreign_lease(db, "same-boot", 600, host=socket.gethostname(), pid=alive_pid)
    with db.session() as s:
        s.execute(update(Lease).where(Lease.key == "same-boot").values(boot_id=leases.boot_id()))
    assert not _take(db, "same-boot", "me")  # its process is alive


def test_the_heartbeat_keeps_a_lease_alive_past_its_ttl(db: Database) -> None:
    elsewhere = Holder("another-host", 1, None)
    with hold(db, "k", "worker", ttl=1.0, beat=0.2) as keeper:
        time.sleep(1.6)
        row = _row(db, "k")
        assert row is not None and row.expires_at > utcnow()
        assert row.heartbeat_at is not None and row.heartbeat_at > utcnow() - timedelta(seconds=1)
        assert not _take(db, "k", "other", elsewhere)
        assert not keeper.lost
        keeper.check()
    assert _row(db, "k") is None  # released on exit


def test_the_heartbeat_waits_for_the_claim_to_be_committed(db: Database) -> None:
    """A claim taken in the caller's transaction is invisible to other connections until it
    commits: a beat before then found no lease and reported it lost (review)."""
    keeper = LeaseKeeper(db, "k", "worker", ttl=5.0, beat=0.1)
    with db.session() as session:
        assert keeper.take(session)
        time.sleep(0.5)  # several beats while the claim is not yet committed
    time.sleep(0.3)
    assert not keeper.lost
    row = _row(db, "k")
    assert row is not None and row.owner == "worker"
    assert row.heartbeat_at is not None and row.heartbeat_at > utcnow() - timedelta(seconds=1)
    keeper.release()
    assert _row(db, "k") is None


def test_a_keeper_whose_lease_was_taken_reports_it_lost(db: Database) -> None:
    keeper = LeaseKeeper(db, "k", "worker", ttl=1.0, beat=0.1)
    assert keeper.take()
    with db.session() as s:
        s.execute(update(Lease).where(Lease.key == "k").values(owner="thief"))
    deadline = time.monotonic() + 5
    while not keeper.lost and time.monotonic() < deadline:
        time.sleep(0.05)
    assert keeper.lost
    with pytest.raises(LeaseLost, match="was lost"):
        keeper.check()
    keeper.release()
    row = _row(db, "k")
    assert row is not None and row.owner == "thief"  # not ours to release


def test_a_pass_killed_mid_run_does_not_block_the_next_one(
    make_world: WorldFactory, database_url: str, holders: list[HolderProcess]
) -> None:
    world = make_world(records=5)
    with world.hub.db.session() as s:
        mapping_id = load_integration(s).mapping_ids["CURRENCY"]
    key = f"pass:{mapping_id}:to_crm"
    live = HolderProcess(database_url, key)
    holders.append(live)
    with world.context() as ctx, pytest.raises(PassBusy, match="already running on another"):
        run_pass(ctx, "CURRENCY", "to_crm", PassOptions(kind="full"))
    live.kill()  # the worker running the pass dies with SIGKILL
    with world.context() as ctx:
        result = run_pass(ctx, "CURRENCY", "to_crm", PassOptions(kind="full"))
    assert result.status == "success"
    assert _row(world.hub.db, key) is None


def test_a_lease_set_and_one_lease_exclude_each_other(db: Database) -> None:
    with hold(db, "doc:b", "one-by-one"), LeaseSet(db, ["doc:a", "doc:b", "doc:c"], "chunk") as s:
        assert s.taken == {"doc:a", "doc:c"}  # b is left to its holder
        with pytest.raises(LeaseBusy), hold(db, "doc:a", "one-by-one"):
            pass
    assert _row(db, "doc:a") is None and _row(db, "doc:c") is None  # given up together
    assert _row(db, "doc:b") is None
