"""Job log: one row per pass with counters, and per-record error rows."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import update
from sqlalchemy.orm import Session

from accord.state.models import Job, JobError
from accord.state.types import utcnow

COUNTERS = (
    "inserted",
    "modified",
    "deleted",
    "unchanged",
    "skipped",
    "failed",
    "coupled",
    "uncoupled",
    "conflicts",
)


def start_job(
    session: Session, mapping_id: int | None, direction: str, kind: str, *, dry_run: bool = False
) -> Job:
    job = Job(mapping_id=mapping_id, direction=direction, kind=kind, dry_run=dry_run)
    session.add(job)
    session.flush()
    return job


def abandon_stale(session: Session, mapping_id: int, direction: str) -> int:
    """Close jobs of this mapping and direction left 'running' by a worker that died.

    Called by the holder of the pass lease, so no live worker can own them."""
    result = session.execute(
        update(Job)
        .where(Job.mapping_id == mapping_id, Job.direction == direction, Job.status == "running")
        .values(
            status="abandoned",
            finished_at=utcnow(),
            message="the worker stopped before the pass finished",
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def add_counts(session: Session, job_id: str, counts: Counter[str]) -> None:
    """Add ``counts`` to the job's counters in one UPDATE (persisted per page)."""
    values = {name: getattr(Job, name) + counts[name] for name in COUNTERS if counts[name]}
    if values:
        session.execute(update(Job).where(Job.id == job_id).values(**values))


def finish_job(
    session: Session, job_id: str, *, message: str | None = None, stopped: bool = False
) -> Job:
    """Close a job: ``failed`` if it stopped early, ``error`` if records failed, else
    ``success`` (Microsoft's per-direction job status)."""
    job = session.get(Job, job_id, populate_existing=True)  # counters as stored: one read
    assert job is not None
    job.finished_at = utcnow()
    job.status = "failed" if stopped else ("error" if job.failed else "success")
    job.message = message
    return job


def add_error(
    session: Session,
    job_id: str,
    mapping_id: int | None,
    message: str,
    *,
    source_id: str | None = None,
    destination_id: str | None = None,
    detail: str | None = None,
) -> None:
    session.add(
        JobError(
            job_id=job_id,
            mapping_id=mapping_id,
            source_id=source_id,
            destination_id=destination_id,
            message=message[:4000],
            detail=detail,
        )
    )
