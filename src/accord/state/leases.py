"""Leases: time-limited claims taken by a conditional write, safe on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accord.state.models import Lease
from accord.state.types import utcnow


def acquire(session: Session, key: str, owner: str, seconds: float) -> bool:
    """Take or renew the lease ``key`` for ``owner``; False if someone else holds it.

    The claim is one conditional UPDATE (expired or ours), falling back to an INSERT guarded
    by the primary key, so two workers can never both succeed.
    """
    now = utcnow()
    expires = now + timedelta(seconds=seconds)
    claimed = session.execute(
        update(Lease)
        .where(Lease.key == key, or_(Lease.expires_at < now, Lease.owner == owner))
        .values(owner=owner, expires_at=expires)
    )
    if claimed.rowcount:  # type: ignore[attr-defined]
        return True
    try:
        with session.begin_nested():
            session.add(Lease(key=key, owner=owner, expires_at=expires))
        return True
    except IntegrityError:
        return False


def release(session: Session, key: str, owner: str) -> None:
    session.execute(delete(Lease).where(Lease.key == key, Lease.owner == owner))
