"""Deletions: a record gone on one side of a coupling, handled by the mapping's policy.

Policies: ``ignore`` (keep the coupling, flag it), ``propagate`` (delete the survivor too),
``restore`` (create the deleted side again from the survivor and re-couple), ``uncouple``
(keep both sides' data; the coupling stays as an *uncoupled* marker on the survivor, so a
later change of the survivor does not re-create what was deleted). A dry run counts and
lists exactly what the pass would do, through the same decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from accord.config.spec import to_role
from accord.connectors.base import Record, WriteOp
from accord.mapping.fields import Role
from accord.state import couplings
from accord.state.models import Coupling
from accord.state.types import utcnow
from accord.sync.book import transient
from accord.sync.decide import Action, decide
from accord.sync.inserts import Insert
from accord.sync.links import lookups_for

if TYPE_CHECKING:
    from accord.sync.pages import PageProcessor

DELETED_COUNTERPART = (
    "cannot be updated because it is coupled to a deleted {role} record "
    "{id}; choose a deletion policy (restore, uncouple, propagate) or "
    "uncouple it by hand"
)

SOURCE_GONE: dict[str, Action] = {
    "ignore": "flag",
    "uncouple": "uncouple",
    "propagate": "delete",
    "restore": "restore",
}
"""What a pass does when its source record was deleted, per deletion policy."""
DESTINATION_GONE: dict[str, Action] = {
    "ignore": "fail",
    "uncouple": "uncouple",
    "propagate": "delete",
    "restore": "restore",
}
"""What a pass does when a changed source's coupled destination record is gone."""
_COUNTER: dict[str, str] = {
    "flag": "skipped",
    "uncouple": "uncoupled",
    "delete": "deleted",
    "restore": "inserted",
    "fail": "failed",
}


class DeletionHandler:
    """Applies the deletion policy for one pass."""

    def __init__(self, processor: PageProcessor):
        self.p = processor
        self.policy = processor.mapping.spec.deletion
        self.started = utcnow()
        """Before this pass read anything (what :meth:`release_absent` compares with)."""

    def _preview(self, source_id: str, dest_id: str | None, action: Action) -> None:
        self.p.counts[_COUNTER[action]] += 1
        self.p.preview_row(source_id, dest_id, action)

    def forget(self, row: Coupling) -> None:
        """Drop a coupling row now (its ids are free again)."""
        self.p.session.delete(row)
        self.p.session.flush()

    def tombstone(self, row: Coupling, deleted: Role) -> None:
        """Uncouple after a delete: the survivor keeps a marker, the deleted id is freed."""
        row.state = "uncoupled"
        row.deleted_role = deleted
        row.links.pop(deleted, None)
        for link in row.links.values():
            link.synced = {}
            link.content_hash = None
            link.last_result = link.last_error = None
        row.skipped = False
        self.p.session.flush()
        self.p.counts["uncoupled"] += 1

    def source_deleted(self, ids: Sequence[str]) -> None:
        """The source reported these ids deleted (tombstones, delta links, snapshot diff)."""
        p = self.p
        found = couplings.by_ids(p.session, p.mapping_id, p.source_role, ids)
        self._link_what_lost_creates_made(list(found.values()))
        to_delete: list[Coupling] = []
        for source_id, row in found.items():
            # an unfinished create whose destination id is known may have created it (its
            # outcome was lost): that record is the survivor, as if the create had finished
            unfinished = row.state == "creating" and p.dest_id(row) is not None
            if row.state != "coupled" and not unfinished:
                if not p.dry_run:
                    self.forget(row)  # a create that never got an id, or a marker
                continue
            action = SOURCE_GONE[self.policy] if p.dest_id(row) else "flag"
            if p.dry_run:
                self._preview(source_id, p.dest_id(row), action)
            elif action == "delete":
                to_delete.append(row)
            else:
                self._survivor_of_deleted_source(row, action)
        self._delete_survivors(to_delete)

    def _link_what_lost_creates_made(self, rows: list[Coupling]) -> None:
        """Unfinished creates into a destination that assigns ids know no id when the answer
        was lost; what they made is found by what they sent and linked, so the deletion
        policy reaches it (else it would stay, uncoupled, and come back the other way)."""
        p = self.p
        unknown = [r for r in rows if r.state == "creating" and p.dest_id(r) is None]
        if p.dry_run or not unknown or p.dest_info.client_ids:
            return
        made = p.inserts.find_made(unknown)
        for row in unknown:
            if row.id in made:
                p.link_if_free(row, p.dest_role, made[row.id])

    def release_absent(self) -> None:
        """After a read of this source's changes: planned creates into it that were found
        missing before the read began and whose delete it did not report never arrived;
        they are made on their next try (a reported delete took the deletion policy)."""
        p = self.p
        if not p.dry_run and p.source_info.client_ids:
            couplings.release_absent(p.session, p.mapping_id, p.source_role, self.started)
            p.commit()

    def retry_failed(self) -> None:
        """Deletes that failed last time (the source is gone, its counterpart still there):
        the source's feed does not report them again, so they are retried first."""
        p = self.p
        if p.dry_run or SOURCE_GONE[self.policy] != "delete":
            return
        ids = couplings.undeleted_ids(p.session, p.mapping_id, p.source_role)
        if ids:
            self.source_deleted(ids)
            p.commit()

    def _survivor_of_deleted_source(self, row: Coupling, action: Action) -> None:
        p = self.p
        dest_id = p.dest_id(row)
        if action == "flag" or dest_id is None:
            row.deleted_role = p.source_role
            p.counts["skipped"] += 1
        elif action == "uncouple":
            self.tombstone(row, p.source_role)
        else:
            self._restore_source(row, dest_id)

    def _delete_survivors(self, rows: list[Coupling]) -> None:
        """Delete the counterparts of deleted sources: one write call (batched by the
        connector) for the page, not a request per record."""
        if not rows:
            return
        p = self.p
        p.commit()  # no transaction across the delete requests
        ops = [WriteOp("delete", f"d{n}", id=p.dest_id(row)) for n, row in enumerate(rows)]
        results = {r.ref: r for r in p.dest.write(p.mapping.entity(p.dest_role), ops)}
        for op, row in zip(ops, rows, strict=True):
            result = results.get(op.ref)
            if result is not None and (result.ok or result.not_found):
                p.session.delete(row)
                p.counts["deleted"] += 1
            else:
                p.counts["failed"] += 1
                row.deleted_role = p.source_role

    def _restore_source(self, row: Coupling, dest_id: str) -> None:
        """Create the deleted source record again from the surviving destination record."""
        p = self.p
        p.commit()
        survivors = p.dest.get(p.mapping.entity(p.dest_role), [dest_id], p.dest_fields())
        if not survivors:
            p.session.delete(row)
            p.counts["uncoupled"] += 1
            return
        self.forget(row)
        from accord.sync.pages import PageProcessor

        back = PageProcessor(
            p.ctx,
            p.mapping,
            p.mapping_id,
            to_role(p.source_role),
            p.session,
            p.job_id,
            force=True,
            create_uncoupled=True,
        )
        back.process_chunk(survivors)
        p.counts.update(back.counts)

    def destination_deleted(self, record: Record, row: Coupling) -> None:
        """The coupled destination record is gone while the source changed."""
        p = self.p
        action = DESTINATION_GONE[self.policy]
        if p.dry_run:
            self._preview(record.id, p.dest_id(row), action)
            return
        if action == "restore":
            self.forget(row)
            decision = decide(
                p.mapping,
                p.direction,
                record,
                None,
                None,
                lookups_for(p, [record]),
                create_uncoupled=True,
            )
            inserts: list[Insert] = []
            p.route_insert(record, decision, None, inserts)
            p.inserts.create(inserts, p.submit)
        elif action == "uncouple":
            self.tombstone(row, p.dest_role)
        elif action == "delete":
            p.commit()  # no transaction across the delete request
            result = p.source.write(
                p.mapping.entity(p.source_role), [WriteOp("delete", "d", id=record.id)]
            )[0]
            if result.ok or result.not_found:
                p.session.delete(row)
                p.counts["deleted"] += 1
            else:
                message = f"could not delete {record.id}: {result.error}"
                p.book.failure(record, row, message, transient=transient(result))
        else:
            p.book.failure(
                record, row, DELETED_COUNTERPART.format(role=p.dest_role, id=p.dest_id(row))
            )

    def snapshot_deletes(self) -> None:
        """After a full read: couplings whose source was not seen and is gone are deletes --
        also of unfinished creates, whose created record then takes the deletion policy."""
        p = self.p
        unseen = couplings.unseen_ids(
            p.session,
            p.mapping_id,
            p.source_role,
            p.job_id,
            unfinished=not p.source_info.client_ids,
        )
        p.commit()
        entity = p.mapping.entity(p.source_role)
        for part in couplings.chunks(unseen, 200):
            present = {r.id for r in p.source.get(entity, list(part), [p.source_info.key])}
            gone = [sid for sid in part if sid not in present]
            if gone:
                self.source_deleted(gone)
                p.commit()
