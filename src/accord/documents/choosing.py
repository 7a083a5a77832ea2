"""Which source documents a run takes: the stopped ones, the ones named on demand, or
every one meeting the trigger, a page at a time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from accord.config.filters import Filter, all_of, matches
from accord.connectors.base import Record
from accord.documents import revisions
from accord.documents.chunks import TRIGGER_PAGE
from accord.documents.outcomes import Outcome
from accord.documents.targets import TargetWork
from accord.documents.watermarks import Window
from accord.state import documents as state
from accord.state.couplings import chunks


class ChoosingWork(TargetWork):
    """A document run's choice of source documents."""

    window: Window
    """The trigger's watermark (what changed since the last complete run, when it keeps one)."""

    def trigger(self) -> Filter | None:
        parts = [f for f in (self.doc.trigger.when, self.doc.filters.get(self.source)) if f]
        return all_of(*parts) if len(parts) > 1 else (parts[0] if parts else None)

    def is_triggered(self, record: Record) -> bool:
        condition = self.trigger()
        return condition is None or matches(condition, record.values)

    def candidates(
        self, identities: Sequence[str], automatic: bool, held: bool
    ) -> tuple[list[Record], list[Outcome]]:
        connector = self.ctx.connector(self.source)
        entity = self.doc.entity(self.source)
        with self.ctx.db.session() as session:
            resume = state.unfinished(session, self.mapping_id, self.source, held=held)
        chosen: dict[str, Record] = {r.id: r for r in connector.get(entity, resume)}
        skipped: list[Outcome] = []
        if identities:
            found = connector.find_any(entity, self.identity_source, list(identities))
            named: dict[str, Record] = {}
            for r in sorted(found, key=self.preference):  # several share it: the last wins
                named[str(r.values.get(self.identity_source))] = r
            for identity in identities:
                record = named.get(identity)
                if record is None:
                    message = f"no {entity} has {self.identity_source} {identity!r}"
                    skipped.append(Outcome("", identity, "not_found", messages=[message]))
                else:
                    chosen.setdefault(record.id, record)
        elif automatic:
            for record in self.triggered():
                chosen.setdefault(record.id, record)
        return list(chosen.values()), skipped

    def by_ids(self, ids: Sequence[str]) -> list[Record]:
        """The source documents ``ids``, read by id."""
        connector, entity = self.ctx.connector(self.source), self.doc.entity(self.source)
        return [r for part in chunks(ids, 200) for r in connector.get(entity, list(part))]

    def preference(self, record: Record) -> tuple[bool, int]:
        """Of source documents sharing an identity (a quote's revisions), the one taken on
        demand: a triggered one, then the newest revision."""
        revision = revisions.revision_of(self.doc, record.values) if self.doc.revision else 0
        return self.is_triggered(record), revision

    def triggered(self) -> Iterator[Record]:
        """Every source document meeting the trigger (changed since the watermark, when
        the trigger keeps one), a page at a time."""
        yield from self.window.read(self.trigger(), page_size=TRIGGER_PAGE)
