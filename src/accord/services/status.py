"""Status: per mapping the last passes, counters, watermarks, couplings, errors, conflicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select

from accord.services.hub import Hub
from accord.state.jobs import COUNTERS
from accord.state.models import Conflict, Coupling, CouplingLink, Job, JobError, Watermark
from accord.state.store import load_integration


@dataclass
class PassSummary:
    direction: str
    kind: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, int]
    message: str | None


@dataclass
class MappingStatus:
    name: str
    direction: str
    couplings: int
    failed: int
    skipped: int
    open_conflicts: int
    watermarks: dict[str, datetime | None]
    last_passes: list[PassSummary] = field(default_factory=list)


def summarize(job: Job) -> PassSummary:
    return PassSummary(
        job.direction,
        job.kind,
        job.status,
        job.started_at,
        job.finished_at,
        {n: getattr(job, n) for n in COUNTERS},
        job.message,
    )


def status(hub: Hub, integration: str | None = None, passes: int = 3) -> list[MappingStatus]:
    """The state of every mapping of the integration."""
    rows: list[MappingStatus] = []
    with hub.db.session() as session:
        config = load_integration(session, integration)
        for spec in config.template.mappings:
            mid = config.mapping_ids[spec.name]
            counts = session.execute(
                select(
                    func.count(), func.sum(case((Coupling.skipped.is_(True), 1), else_=0))
                ).where(Coupling.mapping_id == mid)
            ).one()
            failed = (
                session.scalar(
                    select(func.count(func.distinct(CouplingLink.coupling_id))).where(
                        CouplingLink.mapping_id == mid, CouplingLink.last_result == "failure"
                    )
                )
                or 0
            )
            conflicts = (
                session.scalar(
                    select(func.count())
                    .select_from(Conflict)
                    .where(Conflict.mapping_id == mid, Conflict.resolved_at.is_(None))
                )
                or 0
            )
            marks = {
                w.role: w.since
                for w in session.scalars(select(Watermark).where(Watermark.mapping_id == mid))
            }
            jobs = session.scalars(
                select(Job)
                .where(Job.mapping_id == mid)
                .order_by(Job.started_at.desc())
                .limit(passes)
            ).all()
            rows.append(
                MappingStatus(
                    spec.name,
                    spec.direction,
                    int(counts[0] or 0),
                    int(failed),
                    int(counts[1] or 0),
                    int(conflicts),
                    marks,
                    [summarize(j) for j in jobs],
                )
            )
    return rows


@dataclass
class ErrorRow:
    mapping: str
    job_id: str
    source_id: str | None
    destination_id: str | None
    message: str
    created_at: datetime


def recent_errors(
    hub: Hub, integration: str | None = None, mapping: str | None = None, limit: int = 50
) -> list[ErrorRow]:
    """The newest job errors, newest first."""
    with hub.db.session() as session:
        config = load_integration(session, integration)
        names = {v: k for k, v in config.mapping_ids.items()}
        query = select(JobError).order_by(JobError.created_at.desc(), JobError.id.desc())
        if mapping:
            config.template.mapping(mapping)
            query = query.where(JobError.mapping_id == config.mapping_ids[mapping])
        else:
            query = query.where(JobError.mapping_id.in_(list(names)))
        return [
            ErrorRow(
                names.get(e.mapping_id or -1, "?"),
                e.job_id,
                e.source_id,
                e.destination_id,
                e.message,
                e.created_at,
            )
            for e in session.scalars(query.limit(limit))
        ]
