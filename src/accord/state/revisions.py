"""Template revisions of an integration, and re-keying the baselines an upgrade moves.

Each template an integration has run with is kept as a revision row (the whole spec as
stored), so ``accord template history`` can list them and an older one can be applied again.
The integration row keeps the current spec; its newest revision row describes it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, bindparam, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from accord.state.models import Base, Conflict, Coupling, CouplingLink, Integration, Watermark
from accord.state.types import utcnow

PAGE = 2000


class TemplateRevision(Base):
    """One template an integration ran with: revision 1 is the one it was set up from."""

    __tablename__ = "template_revisions"
    __table_args__ = (Index("ix_template_revisions", "integration_id", "revision", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column()
    template: Mapped[str] = mapped_column(String(100))
    version: Mapped[str | None] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(64))
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)
    replaced_at: Mapped[datetime | None] = mapped_column()
    note: Mapped[str | None] = mapped_column(Text)


def digest(spec: dict[str, Any]) -> str:
    """A stable SHA-256 of a stored spec (keys sorted)."""
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def revisions(
    session: Session, integration: Integration, *, record: bool = False
) -> list[TemplateRevision]:
    """The integration's revisions, oldest first. None recorded yet (never upgraded), its
    current spec is revision 1, applied when the integration was set up -- stored only with
    ``record``."""
    rows = list(
        session.scalars(
            select(TemplateRevision)
            .where(TemplateRevision.integration_id == integration.id)
            .order_by(TemplateRevision.revision)
        )
    )
    if rows:
        return rows
    first = TemplateRevision(
        integration_id=integration.id,
        revision=1,
        template=integration.template,
        version=(integration.spec or {}).get("version"),
        digest=digest(integration.spec or {}),
        spec=dict(integration.spec or {}),
        applied_at=integration.created_at,
        note="set up",
    )
    if record:
        session.add(first)
        session.flush()
    return [first]


def add_revision(
    session: Session, integration: Integration, spec: dict[str, Any], note: str
) -> TemplateRevision:
    """Record ``spec`` as the integration's next revision (the current one is marked replaced)."""
    rows = revisions(session, integration, record=True)
    now = utcnow()
    rows[-1].replaced_at = now
    row = TemplateRevision(
        integration_id=integration.id,
        revision=rows[-1].revision + 1,
        template=str(spec.get("name", integration.template)),
        version=spec.get("version"),
        digest=digest(spec),
        spec=spec,
        applied_at=now,
        note=note,
    )
    session.add(row)
    session.flush()
    return row


def coupling_counts(session: Session, mapping_ids: Iterable[int]) -> dict[int, int]:
    """Couplings per mapping id."""
    ids = list(mapping_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Coupling.mapping_id, func.count())
        .where(Coupling.mapping_id.in_(ids))
        .group_by(Coupling.mapping_id)
    )
    return {int(mid): int(count) for mid, count in rows}


def forget_change_tokens(session: Session, mapping_id: int) -> int:
    """Drop the change-feed tokens of a mapping's watermarks, keeping how far each role was
    read: a token (a Dataverse delta link) replays the columns and filter of the query that
    made it, so after the mapping's fields or filters change the next pass must start a new
    query from the same time. Returns the watermarks changed."""
    result = session.execute(
        update(Watermark)
        .where(Watermark.mapping_id == mapping_id, Watermark.token.is_not(None))
        .values(token=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def rekey_baselines(
    session: Session, mapping_id: int, renames: dict[str, str], drops: set[str]
) -> int:
    """Rename (``renames``: old id -> new id) and drop (``drops``) field ids in the baselines
    of every link of a mapping, and in its open conflicts. Returns the links changed."""
    if not renames and not drops:
        return 0
    table = Base.metadata.tables["coupling_links"]
    statement = (
        update(table)
        .where(table.c.coupling_id == bindparam("b_id"), table.c.role == bindparam("b_role"))
        .values(synced=bindparam("b_synced", type_=table.c.synced.type))
    )
    changed = 0
    after: tuple[int, str] = (0, "")
    while True:
        rows = session.execute(
            select(CouplingLink.coupling_id, CouplingLink.role, CouplingLink.synced)
            .where(
                CouplingLink.mapping_id == mapping_id,
                (CouplingLink.coupling_id > after[0])
                | ((CouplingLink.coupling_id == after[0]) & (CouplingLink.role > after[1])),
            )
            .order_by(CouplingLink.coupling_id, CouplingLink.role)
            .limit(PAGE)
        ).all()
        if not rows:
            break
        after = (rows[-1][0], rows[-1][1])
        updates = []
        for coupling_id, role, synced in rows:
            moved = _moved(synced or {}, renames, drops)
            if moved is not None:
                updates.append({"b_id": coupling_id, "b_role": role, "b_synced": moved})
        if updates:
            session.connection().execute(statement, updates)
            changed += len(updates)
    _rekey_conflicts(session, mapping_id, renames, drops)
    return changed


def _moved(
    synced: dict[str, Any], renames: dict[str, str], drops: set[str]
) -> dict[str, Any] | None:
    if not any(key in renames or key in drops for key in synced):
        return None
    moved: dict[str, Any] = {}
    for key, value in synced.items():
        if key in drops:
            continue
        moved[renames.get(key, key)] = value
    return moved


def _rekey_conflicts(
    session: Session, mapping_id: int, renames: dict[str, str], drops: set[str]
) -> None:
    """Open conflicts follow re-keyed fields; those left with no field are closed."""
    for conflict in session.scalars(
        select(Conflict).where(Conflict.mapping_id == mapping_id, Conflict.resolved_at.is_(None))
    ):
        fields = _moved(conflict.fields or {}, renames, drops)
        if fields is None:
            continue
        conflict.fields = fields
        if not fields:
            conflict.resolved_at = utcnow()
            conflict.resolution = "template upgrade: its field mappings were removed or changed"
