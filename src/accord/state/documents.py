"""Queries of the document engine: document couplings by step, planned lines, the event
history and setting values.

A document coupling's ``state`` is the step its transfer has reached: ``creating`` (the
intent, recorded before the target's header is looked for or created), ``lines`` (the
header exists; its lines are being written), ``writing_back`` (the target is complete; the
write-back onto the source is under way) and ``coupled`` (done). A held document is
``skipped`` with its error on the source link, until ``accord retry``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from accord.state.couplings import by_ids, link_of, new_coupling
from accord.state.document_tables import DocumentEvent, DocumentLine, DocumentSetting
from accord.state.models import Coupling, CouplingLink, Integration, TableMapping
from accord.state.types import utcnow

STEPS = ("creating", "lines", "writing_back", "coupled")


def mapping_row_id(session: Session, integration: str, mapping: str) -> int:
    """The id of ``mapping``'s row in ``integration`` (made for a document mapping added by
    an upgrade that predates document rows)."""
    row = session.scalar(
        select(TableMapping)
        .join(Integration, Integration.id == TableMapping.integration_id)
        .where(Integration.name == integration, TableMapping.name == mapping)
    )
    if row is not None:
        return row.id
    owner = session.scalar(select(Integration).where(Integration.name == integration))
    assert owner is not None, integration
    made = TableMapping(integration_id=owner.id, name=mapping, position=10_000)
    session.add(made)
    session.flush()
    return made.id


def settings_of(session: Session, mapping_id: int) -> dict[str, Any]:
    """The values an integration gave the mapping's settings."""
    rows = session.scalars(select(DocumentSetting).where(DocumentSetting.mapping_id == mapping_id))
    return {row.name: row.value for row in rows}


def set_setting(session: Session, mapping_id: int, name: str, value: Any) -> None:
    row = session.get(DocumentSetting, (mapping_id, name))
    if row is None:
        session.add(DocumentSetting(mapping_id=mapping_id, name=name, value=value))
    else:
        row.value = value


def documents(
    session: Session, mapping_id: int, source: str, ids: Iterable[str]
) -> dict[str, Coupling]:
    """The document couplings of the ``source`` documents ``ids``, keyed by source id."""
    return by_ids(session, mapping_id, source, ids)


def intend(
    session: Session, mapping_id: int, roles: tuple[str, str], source_id: str, identity: str
) -> Coupling:
    """Record the intent to transfer one source document (before anything is written)."""
    source, target = roles
    row = new_coupling(mapping_id, state="creating", **{source: source_id, target: None})
    for role in roles:
        link_of(row, role).natural_key = identity[:200]
    session.add(row)
    session.flush()
    return row


def unfinished(
    session: Session, mapping_id: int, source: str, *, held: bool, limit: int = 5000
) -> list[str]:
    """Source ids of documents whose transfer stopped before its end (a crash, an error),
    not held ones unless ``held`` (then also finished documents held by an action due on a
    pass, their last result a failure)."""
    conditions: list[Any] = [Coupling.state != "coupled"]
    if held:
        conditions = [or_(Coupling.state != "coupled", CouplingLink.last_result == "failure")]
    else:
        conditions.append(Coupling.skipped.is_(False))
    query = (
        select(CouplingLink.record_id)
        .join(Coupling, CouplingLink.coupling_id == Coupling.id)
        .where(
            CouplingLink.mapping_id == mapping_id,
            CouplingLink.role == source,
            CouplingLink.record_id.is_not(None),
            *conditions,
        )
        .limit(limit)
    )
    return [r for r in session.scalars(query) if r is not None]


def held_ids(session: Session, mapping_id: int, source: str) -> list[str]:
    """Source ids of held documents."""
    query = (
        select(CouplingLink.record_id)
        .join(Coupling, CouplingLink.coupling_id == Coupling.id)
        .where(
            CouplingLink.mapping_id == mapping_id,
            CouplingLink.role == source,
            Coupling.skipped.is_(True),
        )
    )
    return [r for r in session.scalars(query) if r is not None]


def release_held(session: Session, mapping_ids: Sequence[int]) -> int:
    """Make held documents of ``mapping_ids`` eligible again; how many there were."""
    rows = session.scalars(
        select(Coupling).where(Coupling.mapping_id.in_(list(mapping_ids)), Coupling.skipped)
    ).all()
    for row in rows:
        row.skipped = False
    return len(rows)


def planned_lines(session: Session, coupling_id: int) -> list[DocumentLine]:
    return list(
        session.scalars(
            select(DocumentLine)
            .where(DocumentLine.coupling_id == coupling_id)
            .order_by(DocumentLine.position)
        )
    )


def forget_lines(session: Session, coupling_id: int) -> None:
    """Drop the planned lines of a document whose target copy was discarded."""
    for row in planned_lines(session, coupling_id):
        session.delete(row)


ONCE_KEY_LENGTH = 200
"""The column's width; a longer key keeps its start and a hash of the whole."""


def fit_key(once_key: str) -> str:
    """``once_key`` as stored: itself when it fits, else its start and a hash of all of it,
    so two long keys that share their first 200 characters stay apart."""
    if len(once_key) <= ONCE_KEY_LENGTH:
        return once_key
    digest = hashlib.sha256(once_key.encode()).hexdigest()[:32]
    return f"{once_key[: ONCE_KEY_LENGTH - 33]}#{digest}"


def once_done(session: Session, mapping_id: int, once_key: str) -> bool:
    """True when an event with ``once_key`` was recorded for the mapping."""
    return bool(
        session.scalar(
            select(DocumentEvent.id).where(
                and_(
                    DocumentEvent.mapping_id == mapping_id,
                    DocumentEvent.once_key == fit_key(once_key),
                )
            )
        )
    )


def add_event(
    session: Session,
    mapping_id: int,
    coupling_id: int,
    name: str,
    *,
    role: str | None = None,
    source: str = "accord",
    reason: str | None = None,
    detail: Mapping[str, Any] | None = None,
    once_key: str | None = None,
    job_id: str | None = None,
) -> bool:
    """Add one event to a document's history; with ``once_key``, only the first time
    (True when it was added)."""
    if once_key is not None and once_done(session, mapping_id, once_key):
        return False
    session.add(
        DocumentEvent(
            mapping_id=mapping_id,
            coupling_id=coupling_id,
            name=name,
            role=role,
            source=source,
            reason=reason,
            detail=dict(detail or {}),
            once_key=None if once_key is None else fit_key(once_key),
            job_id=job_id,
        )
    )
    return True


def last_event(
    session: Session, coupling_id: int, name: str, role: str | None = None
) -> DocumentEvent | None:
    """A document's newest event called ``name`` (about ``role``, when given)."""
    stmt = select(DocumentEvent).where(
        DocumentEvent.coupling_id == coupling_id, DocumentEvent.name == name
    )
    if role is not None:
        stmt = stmt.where(DocumentEvent.role == role)
    return session.scalar(stmt.order_by(DocumentEvent.id.desc()).limit(1))


def history(
    session: Session, mapping_id: int, key: str
) -> list[tuple[Coupling, list[DocumentEvent]]]:
    """The event history of the documents whose identity or id (any role) is ``key``."""
    couplings = session.scalars(
        select(Coupling)
        .join(CouplingLink, CouplingLink.coupling_id == Coupling.id)
        .where(
            CouplingLink.mapping_id == mapping_id,
            (CouplingLink.natural_key == key) | (CouplingLink.record_id == key),
        )
        .distinct()
    ).all()
    return [
        (
            c,
            list(
                session.scalars(
                    select(DocumentEvent)
                    .where(DocumentEvent.coupling_id == c.id)
                    .order_by(DocumentEvent.id)
                )
            ),
        )
        for c in couplings
    ]


FOLLOWED_UNTIL = "status_finished"
"""The event that ends a document's status pass (it ended and its last write-back ran)."""


def followed(
    session: Session, mapping_id: int, keys: Sequence[str] = (), limit: int = 5000
) -> list[Coupling]:
    """Transferred documents whose status is still followed (coupled, not finished), of
    them those whose identity or id is in ``keys`` when given."""
    finished = select(DocumentEvent.coupling_id).where(
        DocumentEvent.mapping_id == mapping_id, DocumentEvent.name == FOLLOWED_UNTIL
    )
    query = select(Coupling).where(
        Coupling.mapping_id == mapping_id,
        Coupling.state == "coupled",
        Coupling.id.not_in(finished),
    )
    if keys:
        named = select(CouplingLink.coupling_id).where(
            CouplingLink.mapping_id == mapping_id,
            CouplingLink.natural_key.in_(list(keys)) | CouplingLink.record_id.in_(list(keys)),
        )
        query = query.where(Coupling.id.in_(named))
    return list(session.scalars(query.order_by(Coupling.id).limit(limit)))


def finished(session: Session, mapping_id: int, keys: Sequence[str]) -> dict[str, Coupling]:
    """Of ``keys`` (identities or ids), those naming a transferred document whose status is
    no longer followed (it ended and every write-back ran), with its coupling."""
    done = select(DocumentEvent.coupling_id).where(
        DocumentEvent.mapping_id == mapping_id, DocumentEvent.name == FOLLOWED_UNTIL
    )
    rows = session.execute(
        select(CouplingLink.natural_key, CouplingLink.record_id, Coupling)
        .join(Coupling, Coupling.id == CouplingLink.coupling_id)
        .where(
            CouplingLink.mapping_id == mapping_id,
            CouplingLink.coupling_id.in_(done),
            CouplingLink.natural_key.in_(list(keys)) | CouplingLink.record_id.in_(list(keys)),
        )
        .order_by(Coupling.id)
    ).all()
    found: dict[str, Coupling] = {}
    for natural, record, coupling in rows:
        for key in (natural, record):
            if key is not None and key in keys:
                found.setdefault(key, coupling)
    return found


EVENT_SETTLE = timedelta(seconds=5)
"""How long a business event waits before listeners see it: longer than any transaction
that records one (each is committed with its post or action, in its own short session)."""


def business_events(
    session: Session,
    mapping_ids: Mapping[int, str],
    *,
    after: int = 0,
    name: str | None = None,
    limit: int = 500,
) -> list[DocumentEvent]:
    """The business events (history rows ``event:<name>``) of the mappings ``mapping_ids``
    recorded after event id ``after``, oldest first: a listener's cursor is the last id.
    Events younger than :data:`EVENT_SETTLE` are left for the next read: PostgreSQL hands
    out ids at insert, not at commit, so a later id may commit before an earlier one, and
    a cursor moved past the earlier one would never see it."""
    wanted = f"event:{name}" if name else None
    settled = utcnow() - EVENT_SETTLE
    query = select(DocumentEvent).where(
        DocumentEvent.mapping_id.in_(list(mapping_ids)),
        DocumentEvent.id > after,
        DocumentEvent.occurred_at < settled,
        DocumentEvent.name == wanted if wanted else DocumentEvent.name.like("event:%"),
    )
    return list(session.scalars(query.order_by(DocumentEvent.id).limit(limit)))
