"""Bookkeeping of a pass written in bulk: links and couplings kept exact in memory, sent as
one executemany per table and set of columns when the session commits.

The unit of work costs several times the statement it emits for each object it tracks; at a
coupling and two links per record that was most of a full sync's CPU. Values written through
a :class:`Ledger` are set on the objects as already committed (so everything that reads them
in this session sees them) and queued; the queue is flushed just before every commit of the
session it is bound to, so a commit never leaves them behind. Objects not yet in the database
are written the ordinary way (their INSERT carries the values).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, event, insert, inspect, update
from sqlalchemy.orm import InstanceState, Session, class_mapper, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from accord.state.models import Coupling, CouplingLink
from accord.state.types import utcnow


class Ledger:
    """Queued column values per coupling and per link, bound to one session."""

    def __init__(self, session: Session):
        self.session = session
        self._links: dict[tuple[int, str], dict[str, Any]] = {}
        self._couplings: dict[int, dict[str, Any]] = {}
        event.listen(session, "before_commit", self._before_commit)
        event.listen(session, "after_rollback", self._after_rollback)

    def link(self, link: CouplingLink, **values: Any) -> None:
        """Set ``values`` on ``link``."""
        pk = {"coupling_id": link.coupling_id, "role": link.role}
        _queue(link, self._links, (link.coupling_id, link.role), pk, values)

    def coupling(self, row: Coupling, **values: Any) -> None:
        """Set ``values`` on ``row``."""
        _queue(row, self._couplings, row.id, {"id": row.id}, values)

    def insert_couplings(self, rows: list[Coupling], links: list[list[CouplingLink]]) -> None:
        """Insert new couplings, all alike (same column values), and their links in bulk;
        call :meth:`attach` once the caller's transaction or savepoint holds them.

        The rows being alike, the ids the database returns (in any order) can go to them in
        any order; each one's links then take its id."""
        table = _table(Coupling)
        now = utcnow()
        values = []
        for row in rows:
            row.created_at = row.updated_at = now
            values.append(_columns(row, skip=("id",)))
        ids = list(self.session.execute(insert(table).returning(table.c.id), values).scalars())
        if len(ids) != len(rows):
            raise RuntimeError(f"inserted {len(rows)} couplings, the database returned {ids}")
        for row, new_id, own in zip(rows, ids, links, strict=True):
            row.id = new_id
            for link in own:
                link.coupling_id = new_id
        self.insert_links([link for own in links for link in own])

    def insert_links(self, links: list[CouplingLink]) -> None:
        """Insert new links (their couplings are stored) in one executemany."""
        if links:
            self.session.execute(insert(_table(CouplingLink)), [_columns(link) for link in links])

    def attach(self, objects: Sequence[Coupling | CouplingLink]) -> None:
        """Make inserted objects persistent in the session, with every value known (links
        before the couplings that hold them: adding a coupling cascades to its links)."""
        for obj in objects:
            values = _columns(obj)
            make_transient_to_detached(obj)  # this expires every attribute ...
            for name, value in values.items():
                set_committed_value(obj, name, value)  # ... which are known: no reload
            self.session.add(obj)

    def flush(self) -> None:
        """Send what is queued: one executemany per table and set of columns."""
        if not (self._links or self._couplings):
            return
        session = self.session
        for model, queued in ((CouplingLink, self._links), (Coupling, self._couplings)):
            groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
            for values in queued.values():
                groups[tuple(sorted(values))].append(values)
            for rows in groups.values():
                session.execute(update(model), rows)
        self._links.clear()
        self._couplings.clear()

    def _before_commit(self, session: Session) -> None:
        self.flush()

    def _after_rollback(self, session: Session) -> None:
        """What was queued went with the transaction's other writes (the objects expire
        and reload what the database kept)."""
        self._links.clear()
        self._couplings.clear()


def _queue(
    obj: Coupling | CouplingLink,
    queued: dict[Any, dict[str, Any]],
    key: Any,
    pk: dict[str, Any],
    values: dict[str, Any],
) -> None:
    """Set ``values`` on ``obj``: as committed and queued under ``key`` when it is stored,
    the ordinary way (its INSERT carries them) when it is not yet."""
    if not cast("InstanceState[Any]", inspect(obj)).persistent:
        for name, value in values.items():
            setattr(obj, name, value)
        return
    for name, value in values.items():
        set_committed_value(obj, name, value)
    queued.setdefault(key, pk).update(values)


def _table(model: type[Coupling] | type[CouplingLink]) -> Table:
    return cast(Table, model.__table__)


_COLUMNS = {
    model: tuple(a.key for a in class_mapper(model).column_attrs)
    for model in (Coupling, CouplingLink)
}


def _columns(obj: Coupling | CouplingLink, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {name: getattr(obj, name, None) for name in _COLUMNS[type(obj)] if name not in skip}
