"""The workloads table: one row per key, claimed once finished never again, and a workload
its worker left is found by its lapsed lease (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from accord.state import leases
from accord.state import workloads as table
from accord.state.db import Database
from accord.state.models import Lease
from accord.state.types import utcnow


def test_record_is_idempotent_and_a_finished_workload_is_not_started(database_url: str) -> None:
    db = Database(database_url)
    try:
        with db.session() as session:
            _, created = table.record(session, "k", "sync_pass", {"kind": "sync_pass"})
            again, created_again = table.record(session, "k", "reconcile", {"other": 1})
            assert created and not created_again
            assert again.kind == "sync_pass" and again.payload == {"kind": "sync_pass"}
        with db.session() as session:
            started = table.start(session, "k", "w1")
            assert started is not None and started.attempts == 1
            assert table.depth(session) == {"queued": 0, "running": 1}
            table.finish(session, "k", "done", result={"ok": True})
        with db.session() as session:
            assert table.start(session, "k", "w2") is None
            row = table.get(session, "k")
            assert row is not None and row.status == "done" and row.finished_at is not None
            assert table.depth(session) == {"queued": 0, "running": 0}
    finally:
        db.dispose()


def test_stranded_workloads_are_those_without_a_live_lease(database_url: str) -> None:
    db = Database(database_url)
    try:
        with db.session() as session:
            for key in ("alive", "expired", "no-lease", "queued"):
                table.record(session, key, "sync_pass", {})
            for key in ("alive", "expired", "no-lease"):
                table.start(session, key, "w")
            assert leases.acquire(session, "workload:alive", "me", 30)
            assert leases.acquire(session, "workload:expired", "other", 30)
            session.execute(
                update(Lease)
                .where(Lease.key == "workload:expired")
                .values(expires_at=utcnow() - timedelta(seconds=1), host="elsewhere")
            )
        with db.session() as session:
            assert sorted(table.stranded(session)) == ["expired", "no-lease"]
    finally:
        db.dispose()
