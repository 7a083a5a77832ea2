"""Deletions: a record gone on one side of a coupling, handled by the mapping's policy.

Policies: ``ignore`` (keep the coupling, flag it), ``propagate`` (delete the survivor too),
``restore`` (create the deleted side again from the survivor and re-couple), ``uncouple``
(drop the coupling, keep both sides' data).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select

from accord.connectors.base import Record, WriteOp
from accord.mapping.fields import PassDirection
from accord.state import couplings
from accord.state.models import Coupling
from accord.sync.decide import Decision, decide

if TYPE_CHECKING:
    from accord.sync.pages import PageProcessor

DELETED_COUNTERPART = (
    "cannot be updated because it is coupled to a deleted {side} record "
    "{id}; choose a deletion policy (restore, uncouple, propagate) or "
    "uncouple it by hand"
)


class DeletionHandler:
    """Applies the deletion policy for one pass."""

    def __init__(self, processor: PageProcessor):
        self.p = processor
        self.policy = processor.mapping.spec.deletion

    def source_deleted(self, ids: Sequence[str]) -> None:
        """The source reported these ids deleted (tombstones, delta links, snapshot diff)."""
        p = self.p
        found = couplings.by_ids(p.session, p.mapping_id, p.source_side, ids)
        for row in found.values():
            if p.dry_run:
                p.counts["deleted" if self.policy == "propagate" else "uncoupled"] += 1
                continue
            self._survivor_of_deleted_source(row)

    def _survivor_of_deleted_source(self, row: Coupling) -> None:
        p = self.p
        dest_id = p._dest_id(row)
        if self.policy == "ignore" or dest_id is None:
            row.deleted_side = p.source_side
            p.counts["skipped"] += 1
        elif self.policy == "uncouple":
            p.session.delete(row)
            p.counts["uncoupled"] += 1
        elif self.policy == "propagate":
            result = p.dest.write(
                p.mapping.entity(p.dest_side), [WriteOp("delete", "d", id=dest_id)]
            )[0]
            if result.ok or result.not_found:
                p.session.delete(row)
                p.counts["deleted"] += 1
            else:
                p.counts["failed"] += 1
                row.deleted_side = p.source_side
        else:
            self._restore_source(row, dest_id)

    def _restore_source(self, row: Coupling, dest_id: str) -> None:
        """Create the deleted source record again from the surviving destination record."""
        p = self.p
        survivors = p.dest.get(p.mapping.entity(p.dest_side), [dest_id], p.dest_fields())
        if not survivors:
            p.session.delete(row)
            p.counts["uncoupled"] += 1
            return
        reverse: PassDirection = "from_remote" if p.direction == "to_remote" else "to_remote"
        p.session.delete(row)
        p.session.flush()
        from accord.sync.pages import PageProcessor

        back = PageProcessor(
            p.ctx,
            p.mapping,
            p.mapping_id,
            reverse,
            p.session,
            p.job_id,
            force=True,
            create_uncoupled=True,
        )
        back._process_records(survivors, track_seen=False)
        p.counts.update(back.counts)

    def destination_deleted(self, record: Record, row: Coupling) -> None:
        """The coupled destination record is gone while the source changed."""
        p = self.p
        if p.dry_run:
            p.counts["deleted"] += 1
            return
        if self.policy == "restore":
            p.session.delete(row)
            p.session.flush()
            decision = decide(
                p.mapping,
                p.direction,
                record,
                None,
                None,
                p._lookups([record]),
                create_uncoupled=True,
            )
            inserts: list[tuple[Record, Decision, Coupling | None]] = []
            p._route_insert(record, decision, None, inserts)
            p._apply_inserts(inserts)
        elif self.policy == "uncouple":
            p.session.delete(row)
            p.counts["uncoupled"] += 1
        elif self.policy == "propagate":
            result = p.source.write(
                p.mapping.entity(p.source_side), [WriteOp("delete", "d", id=record.id)]
            )[0]
            if result.ok or result.not_found:
                p.session.delete(row)
                p.counts["deleted"] += 1
            else:
                p._record_failure(record, row, f"could not delete {record.id}: {result.error}")
        else:
            p._record_failure(
                record, row, DELETED_COUNTERPART.format(side=p.dest_side, id=p._dest_id(row))
            )

    def snapshot_deletes(self) -> None:
        """After a full read: couplings whose source was not seen and is gone are deletes."""
        p = self.p
        column = couplings.id_column(p.source_side)
        unseen = [
            sid
            for sid in p.session.scalars(
                select(column).where(
                    Coupling.mapping_id == p.mapping_id,
                    Coupling.state == "coupled",
                    column.is_not(None),
                    (Coupling.seen_job != p.job_id) | Coupling.seen_job.is_(None),
                )
            )
            if sid is not None
        ]
        entity = p.mapping.entity(p.source_side)
        for part in couplings.chunks(unseen, 200):
            present = {r.id for r in p.source.get(entity, list(part), [p.source_info.key])}
            gone = [sid for sid in part if sid not in present]
            if gone:
                self.source_deleted(gone)
