"""Status: per mapping the last passes, counters, watermarks, couplings, errors, conflicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, or_, select

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
    disabled: str | None = None
    """Why the mapping does not run, when it is disabled."""


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
                    spec.why_disabled(),
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


@dataclass
class LinkInfo:
    """One role's record of a coupling: its id and natural key."""

    id: str | None
    natural_key: str | None


@dataclass
class CouplingRow:
    mapping: str
    id: int
    state: str
    skipped: bool
    last_result: str | None
    """The worst last result of its links (``failure`` before ``success``)."""
    records: dict[str, LinkInfo]


def coupled_records(
    hub: Hub,
    integration: str | None = None,
    mappings: list[str] | None = None,
    search: str | None = None,
    limit: int = 50,
) -> tuple[list[CouplingRow], int]:
    """Couplings with both roles' ids and natural keys (``search``: a text found in an id or
    a natural key, any case); the first ``limit`` by mapping and age, and how many match."""
    with hub.db.session() as session:
        config = load_integration(session, integration)
        for name in mappings or []:
            config.template.mapping(name)  # raises with the valid names
        wanted = [config.mapping_ids[m] for m in mappings or config.mapping_ids]
        names = {v: k for k, v in config.mapping_ids.items()}
        where = [Coupling.mapping_id.in_(wanted)]
        if search:
            text = f"%{search.lower()}%"
            found = select(CouplingLink.coupling_id).where(
                CouplingLink.mapping_id.in_(wanted),
                or_(
                    func.lower(CouplingLink.record_id).like(text),
                    func.lower(CouplingLink.natural_key).like(text),
                ),
            )
            where.append(Coupling.id.in_(found))
        total = session.scalar(select(func.count()).select_from(Coupling).where(*where)) or 0
        order = {mid: position for position, mid in enumerate(config.mapping_ids.values())}
        query = select(Coupling).where(*where).order_by(Coupling.mapping_id, Coupling.id)
        rows = sorted(
            session.scalars(query.limit(limit)).all(),
            key=lambda c: (order.get(c.mapping_id, 0), c.id),
        )
        return [
            CouplingRow(
                names[c.mapping_id],
                c.id,
                c.state,
                bool(c.skipped),
                _worst({link.last_result for link in c.links.values()}),
                {
                    role: LinkInfo(link.record_id, link.natural_key)
                    for role, link in sorted(c.links.items())
                },
            )
            for c in rows
        ], int(total)


def _worst(results: set[str | None]) -> str | None:
    for result in ("failure", "waiting", "success"):
        if result in results:
            return result
    return None
