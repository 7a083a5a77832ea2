"""Watermarks of document mappings (``trigger.watermark``): an automatic run reads only the
source documents changed since the last complete run, not every triggered one.

The mark is the table engine's (``sync.marks.safe_mark``): the source's clock at the read,
less the trigger's overlap, never past the run's start; kept in the mapping's ``watermarks``
row for its source role. It moves only when a run read every page and no document failed
(a passing error): a crash or a failure leaves it, so the next run reads the same window
again, and what was done then is ``already``. Held documents come back by ``accord retry``.
A document an action left waiting for a related record (a won quote whose Sales order is not
Submitted yet) does not change itself when it becomes due, so the run reads the waiting ones
again by id until their action ran.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import select

from accord.config.documents import DocumentMappingSpec
from accord.config.filters import Filter
from accord.connectors.base import ChangeQuery, Record
from accord.documents.outcomes import Outcome
from accord.state.couplings import record_id
from accord.state.document_tables import DocumentEvent
from accord.state.models import Coupling, Watermark
from accord.state.types import utcnow
from accord.sync.context import SyncContext
from accord.sync.marks import BOUNDARY, safe_mark

WAITING = "waiting:"
"""History rows ``waiting:<action>``: the action waits for its related record."""


class Window:
    """What one automatic run of a document mapping reads of its source."""

    def __init__(
        self, ctx: SyncContext, doc: DocumentMappingSpec, mapping_id: int, role: str
    ) -> None:
        self.ctx, self.doc, self.mapping_id, self.role = ctx, doc, mapping_id, role
        self.on = doc.trigger.watermark
        self.start: datetime | None = None
        self.mark: datetime | None = None
        self.complete = False

    def read(self, condition: Filter | None, page_size: int | None = None) -> Iterator[Record]:
        """The triggered source documents (changed since the mark, with the watermark),
        a page at a time; then the waiting ones."""
        since = None
        if self.on:
            with self.ctx.db.session() as session:
                row = session.get(Watermark, (self.mapping_id, self.role))
                since = row.since - BOUNDARY if row is not None and row.since else None
        self.start = utcnow()
        connector = self.ctx.connector(self.role)
        entity = self.doc.entity(self.role)
        query = ChangeQuery(since=since, filter=condition, page_size=page_size)
        feed = connector.read_changes(entity, query)
        seen: set[str] = set()
        newest: datetime | None = None
        for page in feed:
            for record in page.records:
                seen.add(record.id)
                if record.modified_at is not None and (
                    newest is None or record.modified_at > newest
                ):
                    newest = record.modified_at
            yield from page.records
        if self.on:
            waiting = [i for i in self.waiting() if i not in seen]
            for part in range(0, len(waiting), 200):
                yield from connector.get(entity, waiting[part : part + 200])
            self.mark = safe_mark(
                feed.server_time, newest, self.start, self.doc.trigger.overlap_seconds
            )
        self.complete = True

    def waiting(self) -> list[str]:
        """Source ids of documents whose action still waits for its related record."""
        names = [a.name for a in self.doc.actions if a.related]
        if not names:
            return []
        with self.ctx.db.session() as session:
            waits = select(DocumentEvent.coupling_id, DocumentEvent.name).where(
                DocumentEvent.mapping_id == self.mapping_id,
                DocumentEvent.name.in_([WAITING + n for n in names]),
            )
            ran = select(DocumentEvent.coupling_id, DocumentEvent.name).where(
                DocumentEvent.mapping_id == self.mapping_id, DocumentEvent.name.in_(names)
            )
            done = {(cid, WAITING + name) for cid, name in session.execute(ran)}
            pending = {cid for cid, name in session.execute(waits) if (cid, name) not in done}
            couplings = session.scalars(select(Coupling).where(Coupling.id.in_(pending)))
            return [rid for c in couplings if (rid := record_id(c, self.role))]

    def close(self, outcomes: Sequence[Outcome]) -> None:
        """Move the mark after a complete read with no failed document."""
        if not self.on or not self.complete or self.mark is None:
            return
        if any(o.status == "failed" for o in outcomes):
            return
        with self.ctx.db.session() as session:
            row = session.get(Watermark, (self.mapping_id, self.role))
            if row is None:
                row = Watermark(mapping_id=self.mapping_id, role=self.role)
                session.add(row)
            if row.since is None or self.mark > row.since:
                row.since = self.mark
            row.updated_at = utcnow()
