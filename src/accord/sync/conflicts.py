"""Held conflicts: one open row per coupling with both sides' values per field."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.state.models import Conflict, Coupling
from accord.state.types import utcnow


def hold_conflict(
    session: Session, mapping_id: int, coupling: Coupling, fields: dict[str, Any]
) -> bool:
    """Open (or refresh) the conflict of ``coupling`` with ``fields``; True when it is new
    (a conflict is counted once, not on every pass that sees it again)."""
    row = session.scalar(
        select(Conflict).where(Conflict.coupling_id == coupling.id, Conflict.resolved_at.is_(None))
    )
    if row is None:
        session.add(Conflict(mapping_id=mapping_id, coupling_id=coupling.id, fields=fields))
        return True
    merged = dict(row.fields)
    merged.update(fields)
    row.fields = merged
    row.detected_at = utcnow()
    return False
