"""Submitted workloads: recorded once per idempotency key, then claimed, run and closed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accord.state.runtime_tables import WorkloadRow
from accord.state.types import utcnow

FINISHED = ("done", "failed")


def record(
    session: Session, key: str, kind: str, payload: dict[str, Any]
) -> tuple[WorkloadRow, bool]:
    """Record a submitted workload; (the row, True) when new, (the first one, False) when
    ``key`` was submitted before -- a primary-key-guarded insert, safe between workers."""
    existing = session.get(WorkloadRow, key, populate_existing=True)
    if existing is not None:
        return existing, False
    try:
        with session.begin_nested():
            row = WorkloadRow(key=key, kind=kind, payload=payload, status="queued", result={})
            session.add(row)
        return row, True
    except IntegrityError:
        pass
    existing = session.get(WorkloadRow, key, populate_existing=True)
    assert existing is not None
    return existing, False


def get(session: Session, key: str) -> WorkloadRow | None:
    return session.get(WorkloadRow, key, populate_existing=True)


def start(session: Session, key: str, worker: str) -> WorkloadRow | None:
    """Mark a workload running (one more attempt); None when it has finished already."""
    started = (
        update(WorkloadRow)
        .where(WorkloadRow.key == key, WorkloadRow.status.not_in(FINISHED))
        .values(
            status="running",
            attempts=WorkloadRow.attempts + 1,
            worker=worker,
            started_at=utcnow(),
            message=None,
        )
        .returning(WorkloadRow)
        .execution_options(populate_existing=True)
    )
    return session.scalars(started).one_or_none()  # one statement, the row locked by it


def finish(
    session: Session,
    key: str,
    status: str,
    *,
    message: str | None = None,
    result: dict[str, Any] | None = None,
) -> None:
    """Close a workload (``done``/``failed``) or send it back (``queued``) with a reason."""
    values: dict[str, Any] = {"status": status, "message": message}
    if status in FINISHED:
        values["finished_at"] = utcnow()
    if result is not None:
        values["result"] = result
    session.execute(update(WorkloadRow).where(WorkloadRow.key == key).values(**values))


def recent(session: Session, *, status: str | None = None, limit: int = 50) -> list[WorkloadRow]:
    """The newest workloads first, optionally of one status."""
    query = select(WorkloadRow).order_by(WorkloadRow.enqueued_at.desc()).limit(limit)
    if status:
        query = query.where(WorkloadRow.status == status)
    return list(session.scalars(query))


def depth(session: Session) -> dict[str, int]:
    """Workloads per unfinished status (``queued``, ``running``): the queue's depth."""
    rows = session.execute(
        select(WorkloadRow.status, func.count())
        .where(WorkloadRow.status.not_in(FINISHED))
        .group_by(WorkloadRow.status)
    ).all()
    found = {str(status): int(count) for status, count in rows}
    return {"queued": found.get("queued", 0), "running": found.get("running", 0)}


def stranded(session: Session, limit: int = 500) -> list[str]:
    """Keys of workloads left ``running`` by a worker that is gone: their lease is missing,
    expired, or (same host) held by a dead process. A live run always holds its lease."""
    from accord.state.leases import holder_is_dead, this_holder
    from accord.state.models import Lease

    keys = list(
        session.scalars(select(WorkloadRow.key).where(WorkloadRow.status == "running").limit(limit))
    )
    if not keys:
        return []
    held = {
        row.key.removeprefix("workload:"): row
        for row in session.scalars(
            select(Lease).where(Lease.key.in_([f"workload:{k}" for k in keys]))
        )
    }
    now, me = utcnow(), this_holder()
    return [
        k for k in keys if k not in held or held[k].expires_at < now or holder_is_dead(held[k], me)
    ]
