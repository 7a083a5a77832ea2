"""Queries on couplings and their links: bulk look-ups by id, failed records, lookup tables."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, inspect, or_, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import set_committed_value

from accord.mapping.fields import is_blank
from accord.state.models import Coupling, CouplingLink

CHUNK = 500
SENDING = "~sending"
"""Reserved key of a link's ``synced``: what an update being sent to that link's record will
make the baseline (field id -> role -> value), recorded before sending; kept until the next
outcome is booked, so a write whose answer was lost is recognized as the engine's own."""


ABSENT = "absent"
"""``last_result`` of the planned link of an unfinished create into a system taking the
caller's ids, found missing when retried: it never arrived, or it arrived and was deleted
there. It is not made again until a read of that system's changes since has shown no delete
(:func:`release_absent`, which marks it :data:`MISSING`); a delete found there takes the
deletion policy instead."""
MISSING = "missing"
"""``last_result`` of the planned link of an unfinished create known never to have arrived:
its next try creates it (and clears the mark before sending)."""


def key_text(value: object) -> str | None:
    """A natural key as stored on a link: blank (None, empty, zero GUID) is None."""
    return None if is_blank(value) else str(value)[:200]


def chunks(values: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def record_id(coupling: Coupling, role: str) -> str | None:
    """The id of ``role``'s record in ``coupling`` (None while it is being created)."""
    link = coupling.links.get(role)
    return link.record_id if link is not None else None


def link_of(coupling: Coupling, role: str) -> CouplingLink:
    """``role``'s link of ``coupling``, added empty when it has none yet."""
    link = coupling.links.get(role)
    if link is None:
        link = CouplingLink(mapping_id=coupling.mapping_id, role=role, synced={})
        coupling.links[role] = link
    return link


def attach(coupling: Coupling, link: CouplingLink) -> None:
    """Add ``link`` to ``coupling.links`` as already stored (no unit-of-work event: it is
    inserted in bulk, see :class:`accord.state.ledger.Ledger`)."""
    state = inspect(coupling)
    loaded = state.dict.get("links") if "links" in state.dict else None
    links = {**(loaded or {}), link.role: link}  # a coupling just inserted has none yet
    set_committed_value(coupling, "links", list(links.values()))


def new_coupling(mapping_id: int, state: str = "coupled", **ids: str | None) -> Coupling:
    """A coupling with a link per role given as ``role=record id``."""
    row = Coupling(mapping_id=mapping_id, state=state, skipped=False)
    for role, rid in ids.items():
        link_of(row, role).record_id = rid
    return row


def baseline(coupling: Coupling) -> dict[str, dict[str, Any]]:
    """Per field mapping id, the value each role had when last synchronized (only fields
    every link knows: a pair with half a history has none)."""
    links = list(coupling.links.values())
    if len(links) < 2:
        return {}
    keys = set(links[0].synced or {}) - {SENDING}
    for link in links[1:]:
        keys &= set(link.synced or {})
    return {key: {link.role: link.synced[key] for link in links} for key in keys}


def synced_of(pairs: dict[str, dict[str, Any]], role: str) -> dict[str, Any]:
    """``role``'s half of a baseline (field id -> role -> value)."""
    return {key: values.get(role) for key, values in pairs.items() if role in values}


def store_baseline(coupling: Coupling, pairs: dict[str, dict[str, Any]]) -> None:
    """Write ``pairs`` (field id -> role -> value) onto the links, replacing what they held."""
    for role, link in coupling.links.items():
        synced = synced_of(pairs, role)
        if synced != link.synced:
            link.synced = synced


def _of_role(link: Any, mapping_id: int, role: str) -> Any:
    """The condition: ``link`` belongs to ``role`` in mapping ``mapping_id``."""
    return and_(link.mapping_id == mapping_id, link.role == role)


def partners(
    session: Session, mapping_id: int, role: str, other: str, ids: Iterable[str]
) -> dict[str, str]:
    """Of ``ids`` (records of ``role``), those ``mapping_id`` has coupled, with the ``other``
    role's record each is coupled to."""
    found: dict[str, str] = {}
    for rid, row in by_ids(session, mapping_id, role, ids).items():
        partner = record_id(row, other)
        if row.state == "coupled" and partner is not None:
            found[rid] = partner
    return found


def by_ids(session: Session, mapping_id: int, role: str, ids: Iterable[str]) -> dict[str, Coupling]:
    """Couplings of ``mapping_id`` whose ``role`` record id is in ``ids``, keyed by that id."""
    wanted = list(dict.fromkeys(ids))
    found: dict[str, Coupling] = {}
    for part in chunks(wanted):
        rows = session.scalars(
            select(Coupling)
            .join(CouplingLink, CouplingLink.coupling_id == Coupling.id)
            .where(_of_role(CouplingLink, mapping_id, role), CouplingLink.record_id.in_(part))
        )
        for row in rows:
            rid = record_id(row, role)
            if rid is not None:
                found[rid] = row
    return found


def owners(session: Session, mapping_id: int, role: str, ids: Sequence[str]) -> dict[str, int]:
    """Per ``role`` record id of ``ids`` already in a coupling: that coupling's id."""
    found: dict[str, int] = {}
    for part in chunks(list(dict.fromkeys(ids))):
        rows = session.execute(
            select(CouplingLink.record_id, CouplingLink.coupling_id).where(
                _of_role(CouplingLink, mapping_id, role), CouplingLink.record_id.in_(part)
            )
        )
        for record_id, coupling_id in rows:
            found[str(record_id)] = int(coupling_id)
    return found


def source_of(session: Session, coupling_id: int, role: str) -> str:
    """How an error names coupling ``coupling_id``: its ``role`` record id."""
    found = session.scalar(
        select(CouplingLink.record_id).where(
            CouplingLink.coupling_id == coupling_id, CouplingLink.role == role
        )
    )
    return found or "(a record being created)"


def retry_first(session: Session, mapping_id: int, source: str, limit: int = 5000) -> list[str]:
    """Source ids of records that failed last time (not skipped), that wait for a reference
    to couple (``waiting``), and unfinished creates."""
    return _role_ids(
        session,
        mapping_id,
        source,
        Coupling.skipped.is_(False),
        or_(
            CouplingLink.last_result.in_(("failure", "waiting")),
            Coupling.state == "creating",
        ),
        limit=limit,
    )


def undeleted_ids(session: Session, mapping_id: int, role: str, limit: int = 5000) -> list[str]:
    """``role`` ids of records deleted there whose counterpart's delete failed (the coupling
    kept, ``deleted_role`` set): a feed reports a delete once, so a pass retries these."""
    return _role_ids(
        session,
        mapping_id,
        role,
        Coupling.state.in_(("coupled", "creating")),
        Coupling.deleted_role == role,
        limit=limit,
    )


def unseen_ids(
    session: Session, mapping_id: int, role: str, job_id: str | None, *, unfinished: bool = False
) -> list[str]:
    """``role`` ids of coupled records that the full read of job ``job_id`` did not see; with
    ``unfinished`` also of unfinished creates (``creating``: a create whose outcome was lost,
    whose source may be deleted meanwhile where the system shows no deletes). Only for a role
    whose ids the system assigns: such an id is never a planned one of a create into it."""
    states = ("coupled", "creating") if unfinished else ("coupled",)
    return _role_ids(
        session,
        mapping_id,
        role,
        Coupling.state.in_(states),
        (Coupling.seen_job != job_id) | Coupling.seen_job.is_(None),
    )


def unknown_outcomes(
    session: Session, mapping_id: int, origin: str, target: str, limit: int = 500
) -> list[Coupling]:
    """Unfinished creates from ``origin`` into ``target`` that know no ``target`` id: their
    answer was lost (or is on its way), so what they made, if anything, is in ``target``
    and coupled to nothing."""
    knowing = select(CouplingLink.coupling_id).where(
        _of_role(CouplingLink, mapping_id, target), CouplingLink.record_id.is_not(None)
    )
    query = (
        select(Coupling)
        .join(CouplingLink, CouplingLink.coupling_id == Coupling.id)
        .where(
            Coupling.mapping_id == mapping_id,
            Coupling.state == "creating",
            _of_role(CouplingLink, mapping_id, origin),
            CouplingLink.record_id.is_not(None),
            Coupling.id.not_in(knowing),
        )
        .limit(limit)
    )
    return list(session.scalars(query))


def _role_ids(
    session: Session, mapping_id: int, role: str, *conditions: Any, limit: int | None = None
) -> list[str]:
    """``role`` record ids of the mapping's couplings that meet ``conditions``."""
    query = (
        select(CouplingLink.record_id)
        .join(Coupling, CouplingLink.coupling_id == Coupling.id)
        .where(
            _of_role(CouplingLink, mapping_id, role),
            CouplingLink.record_id.is_not(None),
            *conditions,
        )
    )
    if limit is not None:
        query = query.limit(limit)
    return [r for r in session.scalars(query) if r is not None]


_LINKS = (aliased(CouplingLink, name="link_a"), aliased(CouplingLink, name="link_b"))
"""Two links of one coupling, made once: building an alias anew adapts its columns again on
every query (a twentieth of a second per look-up, the costliest step of a small page)."""


def translate(
    session: Session,
    mapping_id: int,
    source: tuple[str, str],
    target: tuple[str, str],
    values: Iterable[str],
) -> dict[str, str]:
    """Map references to ``source`` role records to references to the coupled ``target``
    role records; each side is (role, ``id`` or ``key``: by record id or natural key)."""
    wanted = [v for v in dict.fromkeys(values) if v]
    if not wanted:
        return {}
    src, dst = _LINKS
    source_col = src.natural_key if source[1] == "key" else src.record_id
    target_col = dst.natural_key if target[1] == "key" else dst.record_id
    table: dict[str, str] = {}
    for part in chunks(wanted):
        rows = session.execute(
            select(source_col, target_col)
            .join(Coupling, Coupling.id == src.coupling_id)
            .join(dst, and_(dst.coupling_id == src.coupling_id, dst.role == target[0]))
            .where(
                _of_role(src, mapping_id, source[0]),
                source_col.in_(part),
                Coupling.state == "coupled",
                target_col.is_not(None),
            )
        )
        for source_value, target_value in rows:
            table[str(source_value)] = str(target_value)
    return table


def pairs(
    session: Session, mapping_id: int, roles: tuple[str, str], limit: int
) -> list[tuple[str | None, str | None, str | None]]:
    """(first role's id, second role's id, first role's natural key) of coupled records,
    ordered by that key."""
    first, second = _LINKS
    rows = session.execute(
        select(first.record_id, second.record_id, first.natural_key)
        .join(Coupling, Coupling.id == first.coupling_id)
        .join(second, and_(second.coupling_id == first.coupling_id, second.role == roles[1]))
        .where(_of_role(first, mapping_id, roles[0]), Coupling.state == "coupled")
        .order_by(first.natural_key)
        .limit(limit)
    ).all()
    return [(a, b, c) for a, b, c in rows]


def release_absent(session: Session, mapping_id: int, role: str, before: datetime) -> int:
    """Unfinished creates into ``role`` found missing (:data:`ABSENT`) before ``before``,
    when a read of ``role``'s changes that began at ``before`` reported no delete of them
    (a delete would have ended them): they never arrived, and are created on the next try.
    Returns how many."""
    marked = select(Coupling.id).where(
        Coupling.mapping_id == mapping_id,
        Coupling.state == "creating",
        Coupling.updated_at < before,
    )
    result = session.execute(
        update(CouplingLink)
        .where(
            _of_role(CouplingLink, mapping_id, role),
            CouplingLink.last_result == ABSENT,
            CouplingLink.coupling_id.in_(marked),
        )
        .values(last_result=MISSING)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
