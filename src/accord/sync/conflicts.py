"""Held conflicts: one open row per coupling with both sides' values per field."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.state.models import Conflict, Coupling
from accord.state.types import utcnow


def hold_conflict(
    session: Session, mapping_id: int, coupling: Coupling, fields: dict[str, Any]
) -> Conflict:
    """Open (or refresh) the conflict of ``coupling`` with ``fields``."""
    row = session.scalar(
        select(Conflict).where(Conflict.coupling_id == coupling.id, Conflict.resolved_at.is_(None))
    )
    if row is None:
        row = Conflict(mapping_id=mapping_id, coupling_id=coupling.id, fields=fields)
        session.add(row)
    else:
        merged = dict(row.fields)
        merged.update(fields)
        row.fields = merged
        row.detected_at = utcnow()
    return row
