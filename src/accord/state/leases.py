"""Leases: short claims taken by a conditional write, kept alive by a heartbeat.

A lease row names its holder (host, process id, boot id) and when it last beat. Another
worker may take it when it has expired or, on the same host, at once when the holder is
provably dead: its process is gone (same boot) or the machine has rebooted since. Every
claim is one conditional UPDATE or a primary-key-guarded INSERT, safe on SQLite and
PostgreSQL: two workers can never both succeed.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, delete, event, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from accord.errors import AccordError, Phase
from accord.state.db import Database
from accord.state.models import Lease
from accord.state.types import utcnow

BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")


class LeaseBusy(AccordError):
    """Someone alive holds the lease."""

    def __init__(self, key: str):
        super().__init__(f"lease {key!r} is held by another worker", phase=Phase.STATE)


class LeaseLost(AccordError):
    """The lease was taken by another worker while we held it: stop the work it guards."""

    def __init__(self, key: str):
        super().__init__(
            f"lease {key!r} was lost (its heartbeat stalled and another worker took it over); "
            "stopped so that two workers never run the same work",
            phase=Phase.STATE,
        )


@dataclass(frozen=True)
class Holder:
    """Who holds a lease: enough to tell, from the same host, whether it is still alive."""

    host: str
    pid: int
    boot_id: str | None


@cache
def boot_id() -> str | None:
    """This machine's boot id (Linux), None where the system has none."""
    try:
        return BOOT_ID_FILE.read_text().strip() or None
    except OSError:
        return None


def this_holder() -> Holder:
    return Holder(socket.gethostname(), os.getpid(), boot_id())


def process_exists(pid: int) -> bool:
    """Whether ``pid`` names a live process on this machine (a zombie counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, but alive
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[:1] != ["Z"]


def holder_is_dead(row: Lease, me: Holder) -> bool:
    """Whether the holder of ``row`` is provably dead, judged from ``me``'s host."""
    if row.host != me.host or row.pid is None:
        return False  # another machine: only expiry tells
    if row.boot_id and me.boot_id and row.boot_id != me.boot_id:
        return True  # held before this machine last booted
    return row.pid != me.pid and not process_exists(row.pid)


def acquire(
    session: Session, key: str, owner: str, seconds: float, holder: Holder | None = None
) -> bool:
    """Take or renew the lease ``key`` for ``owner``; False if someone alive holds it."""
    me = holder or this_holder()
    now = utcnow()
    values = {
        "owner": owner,
        "expires_at": now + timedelta(seconds=seconds),
        "host": me.host,
        "pid": me.pid,
        "boot_id": me.boot_id,
        "heartbeat_at": now,
    }
    if _claim(session, key, owner, values):
        return True
    current = session.execute(select(Lease).where(Lease.key == key)).scalar_one_or_none()
    if current is None or not holder_is_dead(current, me):
        return False
    # take it only from the very holder we judged dead (nobody else got there first)
    taken = session.execute(
        update(Lease)
        .where(Lease.key == key, Lease.owner == current.owner, Lease.pid == current.pid)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(taken.rowcount)  # type: ignore[attr-defined]


def _claim(session: Session, key: str, owner: str, values: dict[str, Any]) -> bool:
    """Insert the lease, or take it over when it lapsed or is ``owner``'s already: one
    statement (``INSERT … ON CONFLICT DO UPDATE … WHERE``) on PostgreSQL and SQLite."""
    table = cast(Table, Lease.__table__)
    dialect = session.get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    upsert = (
        make(table)
        .values(key=key, **values)
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_=values,
            where=or_(table.c.expires_at < values["heartbeat_at"], table.c.owner == owner),
        )
    )
    return session.execute(upsert.returning(table.c.key)).first() is not None


def renew(session: Session, key: str, owner: str, seconds: float) -> bool:
    """Extend ``owner``'s lease; False when it is no longer ours."""
    now = utcnow()
    renewed = session.execute(
        update(Lease)
        .where(Lease.key == key, Lease.owner == owner)
        .values(expires_at=now + timedelta(seconds=seconds), heartbeat_at=now)
    )
    return bool(renewed.rowcount)  # type: ignore[attr-defined]


def release(session: Session, key: str, owner: str) -> None:
    session.execute(delete(Lease).where(Lease.key == key, Lease.owner == owner))


class LeaseKeeper:
    """Holds one lease and renews it from a background thread every ``beat`` seconds.

    ``lost`` turns true if a renewal finds the lease taken by someone else; the work it
    guards should call :meth:`check` between steps. Use :func:`hold`, or :meth:`take` and
    :meth:`release` where a ``with`` block does not fit.
    """

    def __init__(
        self, db: Database, key: str, owner: str, *, ttl: float = 30.0, beat: float = 10.0
    ):
        if not 0 < beat < ttl:
            raise ValueError(f"heartbeat ({beat}s) must be positive and shorter than ttl ({ttl}s)")
        self.db = db
        self.key = key
        self.owner = owner
        self.ttl = ttl
        self.beat = beat
        self._lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._taken_at: float | None = None

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    @property
    def held_seconds(self) -> float:
        """Seconds since the lease was taken (0 if never taken)."""
        return 0.0 if self._taken_at is None else time.monotonic() - self._taken_at

    def take(self, session: Session | None = None) -> bool:
        """Acquire the lease and start the heartbeat; False if someone alive holds it.

        With ``session`` the claim is part of the caller's transaction (one commit for it and
        what the caller records with it); the caller releases the keeper if that fails. The
        heartbeat starts once the claim is committed: before, another connection cannot see
        it, and a beat would find the lease gone."""
        if session is None:
            with self.db.session() as own:
                return self.take(own)
        if not acquire(session, self.key, self.owner, self.ttl):
            return False
        self._taken_at = time.monotonic()
        self._lost.clear()
        self._stop.clear()
        event.listen(session, "after_commit", self._start_heartbeat, once=True)
        return True

    def _start_heartbeat(self, _session: Session) -> None:
        if self._stop.is_set() or self._thread is not None:
            return  # released before its claim was committed, or already beating
        self._thread = threading.Thread(
            target=self._heartbeat, name=f"lease-heartbeat {self.key}", daemon=True
        )
        self._thread.start()

    def check(self) -> None:
        """Raise :class:`LeaseLost` if another worker has taken the lease."""
        if self.lost:
            raise LeaseLost(self.key)

    def release(self, session: Session | None = None) -> None:
        """Stop the heartbeat and give the lease up (if it is still ours); with ``session``,
        as part of the caller's transaction."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if session is not None:
            release(session, self.key, self.owner)
            return
        with self.db.session() as own:
            release(own, self.key, self.owner)

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.beat):
            try:
                with self.db.session() as session:
                    still_ours = renew(session, self.key, self.owner, self.ttl)
            except SQLAlchemyError:
                continue  # the database is unreachable: try again at the next beat
            if not still_ours:
                self._lost.set()
                return

    def __enter__(self) -> LeaseKeeper:
        if not self.take():
            raise LeaseBusy(self.key)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextmanager
def hold(
    db: Database, key: str, owner: str, ttl: float = 30.0, beat: float = 10.0
) -> Iterator[LeaseKeeper]:
    """Hold ``key`` for the duration of the block, renewed by a heartbeat.

    Raises :class:`LeaseBusy` when someone alive holds it.
    """
    with LeaseKeeper(db, key, owner, ttl=ttl, beat=beat) as keeper:
        yield keeper


class LeaseSet:
    """Many leases taken and given up together, each in one session (a chunk of
    documents): the keys someone alive holds are left out of :attr:`taken`; one heartbeat
    thread renews them all. Same claims as :func:`acquire`, so a :class:`LeaseKeeper` of one
    of the keys and a set holding it exclude each other."""

    def __init__(self, db: Database, keys: list[str], owner: str, *, ttl: float = 60.0) -> None:
        self.db, self.keys, self.owner, self.ttl = db, keys, owner, ttl
        self.taken: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LeaseSet:
        with self.db.session() as session:
            self.taken = {k for k in self.keys if acquire(session, k, self.owner, self.ttl)}
        self._thread = threading.Thread(target=self._heartbeat, name="lease-set", daemon=True)
        self._thread.start()
        return self

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                with self.db.session() as session:
                    for key in self.taken:
                        renew(session, key, self.owner, self.ttl)
            except SQLAlchemyError:
                continue

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self.db.session() as session:
            session.execute(
                delete(Lease).where(Lease.key.in_(list(self.taken)), Lease.owner == self.owner)
            )
