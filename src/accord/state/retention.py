"""Personal data in the state: job logs and error rows age out; a record's stored values can be
erased without uncoupling it.

Accord keeps copies of record values in three places: a link's last-synced values (the
baseline), error messages and details (a rejected value is often quoted), and held conflicts
(a value per role). Ids, hashes and coupling states are not personal data and stay.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from accord.state.models import Conflict, CouplingLink, Job, JobError


def prune(session: Session, older_than: datetime) -> Counter[str]:
    """Delete finished jobs (with their error rows) and resolved conflicts that started or
    were resolved before ``older_than``; the newest job of each mapping and direction stays,
    so status keeps its last run."""
    newest = (
        select(func.max(Job.started_at).label("started_at"), Job.mapping_id, Job.direction)
        .group_by(Job.mapping_id, Job.direction)
        .subquery()
    )
    keep = select(Job.id).join(
        newest,
        (Job.started_at == newest.c.started_at)
        & (Job.direction == newest.c.direction)
        & (
            (Job.mapping_id == newest.c.mapping_id)
            | (Job.mapping_id.is_(None) & newest.c.mapping_id.is_(None))
        ),
    )
    old = select(Job.id).where(
        Job.started_at < older_than, Job.status != "running", Job.id.not_in(keep)
    )
    counts: Counter[str] = Counter()
    counts["errors"] = _rowcount(
        session.execute(
            delete(JobError).where(or_(JobError.job_id.in_(old), JobError.created_at < older_than))
        )
    )
    counts["jobs"] = _rowcount(session.execute(delete(Job).where(Job.id.in_(old))))
    counts["conflicts"] = _rowcount(
        session.execute(
            delete(Conflict).where(
                Conflict.resolved_at.is_not(None), Conflict.resolved_at < older_than
            )
        )
    )
    return counts


def forget(
    session: Session, mapping_id: int, coupling_ids: Sequence[int], *, keys: bool = False
) -> Counter[str]:
    """Erase the values stored for these couplings: baselines, hashes (so the next pass
    re-baselines the pair as at first sight), last errors, error rows naming their records
    and their conflicts. With ``keys`` the natural keys (an e-mail, a name) go too."""
    counts: Counter[str] = Counter()
    if not coupling_ids:
        return counts
    ids = list(coupling_ids)
    record_ids = list(
        session.scalars(
            select(CouplingLink.record_id).where(
                CouplingLink.coupling_id.in_(ids), CouplingLink.record_id.is_not(None)
            )
        )
    )
    values: dict[str, object] = {"synced": {}, "content_hash": None, "last_error": None}
    if keys:
        values["natural_key"] = None
    counts["links"] = _rowcount(
        session.execute(
            update(CouplingLink).where(CouplingLink.coupling_id.in_(ids)).values(**values)
        )
    )
    if record_ids:
        counts["errors"] = _rowcount(
            session.execute(
                delete(JobError).where(
                    JobError.mapping_id == mapping_id,
                    or_(
                        JobError.source_id.in_(record_ids),
                        JobError.destination_id.in_(record_ids),
                    ),
                )
            )
        )
    counts["conflicts"] = _rowcount(
        session.execute(delete(Conflict).where(Conflict.coupling_id.in_(ids)))
    )
    return counts


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
