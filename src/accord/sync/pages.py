"""Processing one page of source records: couple, decide, write, and record the outcome."""

from __future__ import annotations

import uuid
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accord.connectors.base import Record, WriteOp, WriteResult
from accord.mapping.fields import CompiledMapping, Lookups, PassDirection, is_blank, pass_sides
from accord.mapping.values import canonical, content_hash, same
from accord.observability import observe_page, observe_record_error
from accord.state import couplings, jobs
from accord.state.models import Coupling
from accord.sync.conflicts import hold_conflict
from accord.sync.context import SyncContext
from accord.sync.decide import CouplingView, Decision, FieldChange, decide, source_hash
from accord.sync.deletions import DeletionHandler
from accord.sync.matching import CreateMatcher

CHUNK = 1000
"""Records decided and written together (Dataverse's batch limit; ten BC batches)."""
IN_FLIGHT = 2
"""Writes sent ahead of their bookkeeping (well under BC's 5 and Dataverse's 52 concurrent)."""


@dataclass
class PreviewRow:
    """What a pass would do to one record (dry run)."""

    mapping: str
    direction: str
    source_id: str
    destination_id: str | None
    action: str
    changes: list[FieldChange] = field(default_factory=list)
    conflicts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class PageProcessor:
    """Applies the engine's decisions to pages of one pass and keeps the counters."""

    def __init__(
        self,
        ctx: SyncContext,
        mapping: CompiledMapping,
        mapping_id: int,
        direction: PassDirection,
        session: Session,
        job_id: str | None,
        *,
        force: bool,
        create_uncoupled: bool,
        dry_run: bool = False,
    ):
        self.ctx = ctx
        self.mapping = mapping
        self.mapping_id = mapping_id
        self.direction = direction
        self.session = session
        self.job_id = job_id
        self.force = force
        self.create_uncoupled = create_uncoupled
        self.dry_run = dry_run
        self.source_side, self.dest_side = pass_sides(direction)
        self.source = ctx.connector(self.source_side)
        self.dest = ctx.connector(self.dest_side)
        self.source_info = self.source.entity(mapping.entity(self.source_side))
        self.dest_info = self.dest.entity(mapping.entity(self.dest_side))
        self.counts: Counter[str] = Counter()
        self._committed: Counter[str] = Counter()
        self._fetched: set[str] = set()
        self._retried: set[str] = set()
        self._pool: ThreadPoolExecutor | None = None
        self._inflight: deque[
            tuple[Future[list[WriteResult]], Callable[[list[WriteResult]], None]]
        ] = deque()
        self.preview: list[PreviewRow] = []
        self.deletions = DeletionHandler(self)
        self._empty: bool | None = None

    # -- reading helpers ------------------------------------------------------------------
    def source_fields(self) -> list[str]:
        fields = self.mapping.fields_of(self.source_side)
        key = self.source_info.natural_key
        return [*fields, key] if key and key not in fields else fields

    def dest_fields(self) -> list[str]:
        fields = self.mapping.fields_of(self.dest_side)
        key = self.dest_info.natural_key
        return [*fields, key] if key and key not in fields else fields

    def retry_ids(self) -> list[str]:
        return couplings.retry_first(self.session, self.mapping_id, self.source_side)

    # -- the page -------------------------------------------------------------------------
    def process(
        self,
        records: Sequence[Record],
        deleted_ids: Sequence[str],
        *,
        retrying: bool = False,
        track_seen: bool = False,
    ) -> None:
        """Decide and apply one page; commits unless this is a dry run.

        Records retried first (``retrying``) are not processed again when the change feed
        returns them later in the same pass.
        """
        if retrying:
            self._retried.update(r.id for r in records)
        elif self._retried:
            records = [r for r in records if r.id not in self._retried]
        with ThreadPoolExecutor(IN_FLIGHT, thread_name_prefix="accord-write") as pool:
            self._pool = pool
            try:
                for start in range(0, len(records), CHUNK):
                    # decisions, writes and state a chunk at a time, whatever the page size
                    self._process_records(records[start : start + CHUNK], track_seen)
                    self._commit()
                self._drain()
            finally:
                self._pool = None
                self._inflight.clear()
        if deleted_ids:
            self.deletions.source_deleted(deleted_ids)
        self._commit()
        if not self.dry_run:
            observe_page(self.mapping.name, self.direction, len(records), job_id=self.job_id)

    def _process_records(self, records: Sequence[Record], track_seen: bool) -> None:
        found = couplings.by_ids(
            self.session, self.mapping_id, self.source_side, [r.id for r in records]
        )
        if track_seen and not self.dry_run:
            for seen in found.values():
                seen.seen_job = self.job_id
        dest_records = self._fetch_destinations(records, found)
        lookups = self._lookups(records)
        inserts: list[tuple[Record, Decision, Coupling | None]] = []
        updates: list[tuple[Record, Decision, Coupling, Record | None]] = []
        for record in records:
            row = found.get(record.id)
            if row is not None and row.state == "uncoupled":
                if not self.force:
                    continue  # its counterpart was deleted and the policy uncoupled them
                self.deletions.forget(row)  # synchronize-now: create it again on purpose
                row = None
            if row is not None and row.skipped and not self.force:
                self._preview_or_count(record, row)
                continue
            if row is not None and row.state == "creating":
                decision = decide(
                    self.mapping,
                    self.direction,
                    record,
                    None,
                    None,
                    lookups,
                    create_uncoupled=True,
                    explain=self.dry_run,
                )
                self._route_insert(record, decision, row, inserts)
                continue
            view = self._view(row) if row is not None else None
            dest_id = self._dest_id(row) if row is not None else None
            dest = dest_records.get(dest_id) if dest_id else None
            if row is not None and dest is None and dest_id in self._fetched and not row.skipped:
                self.deletions.destination_deleted(record, row)
                continue
            decision = decide(
                self.mapping,
                self.direction,
                record,
                view,
                dest,
                lookups,
                force=self.force,
                create_uncoupled=self.create_uncoupled,
                explain=self.dry_run,
            )
            if row is None:
                self._route_insert(record, decision, None, inserts)
            else:
                updates.append((record, decision, row, dest))
        self._match_inserts(inserts, updates, lookups)
        self._apply_updates(updates)
        self._apply_inserts(inserts)

    def _route_insert(
        self,
        record: Record,
        decision: Decision,
        row: Coupling | None,
        inserts: list[tuple[Record, Decision, Coupling | None]],
    ) -> None:
        if decision.action == "ignore":
            return
        if decision.action == "fail":
            self._record_failure(record, row, decision.error or "mapping failed")
            return
        inserts.append((record, decision, row))

    def _preview_or_count(self, record: Record, row: Coupling) -> None:
        if self.dry_run:
            self._preview(record, self._dest_id(row), Decision("skip"))
        else:
            self.counts["skipped"] += 1

    def _view(self, row: Coupling) -> CouplingView:
        failed = self._last_result(row) == "failure"
        stored = row.local_hash if self.source_side == "local" else row.remote_hash
        return CouplingView(row.id, row.baseline or {}, stored, failed, row.skipped)

    def _dest_id(self, row: Coupling) -> str | None:
        return row.remote_id if self.dest_side == "remote" else row.local_id

    def _source_id(self, row: Coupling) -> str | None:
        return row.local_id if self.source_side == "local" else row.remote_id

    def _last_result(self, row: Coupling) -> str | None:
        return (
            row.last_result_to_remote
            if self.direction == "to_remote"
            else row.last_result_from_remote
        )

    def _fetch_destinations(
        self, records: Sequence[Record], found: dict[str, Coupling]
    ) -> dict[str, Record]:
        """Current destination records of coupled sources that changed (one batched read)."""
        wanted: list[str] = []
        for record in records:
            row = found.get(record.id)
            if row is None or row.state != "coupled" or (row.skipped and not self.force):
                continue
            dest_id = self._dest_id(row)
            if dest_id is None:
                continue
            view = self._view(row)
            if (
                self.force
                or view.last_failed
                or view.source_hash != source_hash(self.mapping, self.direction, record)
            ):
                wanted.append(dest_id)
        self._fetched = set(wanted)
        if not wanted:
            return {}
        entity = self.mapping.entity(self.dest_side)
        return {r.id: r for r in self.dest.get(entity, wanted, self.dest_fields())}

    def _lookups(self, records: Sequence[Record]) -> Lookups:
        tables: dict[Any, dict[str, str]] = {}
        for rule in self.mapping.rules_for(self.direction):
            key = rule.lookup_key(self.direction)
            source_field = rule.field(self.source_side)
            if key is None or source_field is None or key in tables:
                continue
            values = {
                str(r.values.get(source_field))
                for r in records
                if not is_blank(r.values.get(source_field))
            }
            target_id = self.ctx.mapping_id(key[0])
            tables[key] = couplings.translate(
                self.session, target_id, self.source_side, key[1], values
            )
        return tables

    # -- applying decisions ---------------------------------------------------------------
    def _apply_updates(
        self, updates: list[tuple[Record, Decision, Coupling, Record | None]]
    ) -> None:
        ops: list[WriteOp] = []
        pending: dict[str, tuple[Record, Decision, Coupling, Record | None]] = {}
        for record, decision, row, dest in updates:
            if self.dry_run:
                self._preview(record, self._dest_id(row), decision)
                continue
            if decision.action == "skip":
                self.counts["skipped"] += 1
                continue
            if decision.action == "fail":
                self._record_failure(record, row, decision.error or "mapping failed")
                continue
            if decision.conflicts and hold_conflict(
                self.session, self.mapping_id, row, decision.conflicts
            ):
                self.counts["conflicts"] += 1
            if not decision.values:
                self._record_success(record, row, decision, dest, None)
                if not decision.conflicts:
                    self.counts["unchanged"] += 1
                continue
            ref = f"u{len(ops)}"
            ops.append(
                WriteOp(
                    "update",
                    ref,
                    decision.values,
                    id=self._dest_id(row),
                    etag=dest.etag if dest is not None else None,
                )
            )
            pending[ref] = (record, decision, row, dest)

        def written(results: list[WriteResult]) -> None:
            for result in results:
                record, decision, row, dest = pending[result.ref]
                if result.ok:
                    self._record_success(record, row, decision, dest, result)
                    self.counts["modified"] += 1
                elif result.not_found:
                    self.deletions.destination_deleted(record, row)
                else:
                    self._record_failure(record, row, _describe(result))

        self._submit(ops, written)

    def _apply_inserts(self, inserts: list[tuple[Record, Decision, Coupling | None]]) -> None:
        if self.dry_run:
            for record, decision, _row in inserts:
                self._preview(record, None, decision)
            return
        ops: list[WriteOp] = []
        pending: dict[str, tuple[Record, Decision, Coupling]] = {}
        intents = self._intents([record for record, _, existing in inserts if existing is None])
        for record, decision, existing in inserts:
            row = existing or intents.get(record.id)
            if row is None:
                self.counts["skipped"] += 1
                continue
            planned = self._dest_id(row)
            ref = f"c{len(ops)}"
            if planned and not self.dest_info.client_ids:
                ops.append(WriteOp("update", ref, decision.values, id=planned))
            else:
                ops.append(WriteOp("create", ref, decision.values, id=planned))
            pending[ref] = (record, decision, row)
        if ops:
            self.session.commit()  # the intents are durable before anything is created

        def created(results: list[WriteResult]) -> None:
            owners = self._owners([r.id for r in results if r.ok and r.id])
            for result in results:
                record, decision, row = pending[result.ref]
                owner = owners.get(result.id or "")
                if result.ok and owner is not None and owner is not row:
                    message = ALREADY_COUPLED.format(
                        id=result.id, other=self._source_id(owner) or "(a record being created)"
                    )
                    self._record_failure(record, row, message)
                elif result.ok:
                    row.state = "coupled"
                    self._set_dest_id(row, result.id)
                    self._record_success(record, row, decision, None, result)
                    self.counts["inserted"] += 1
                else:
                    self._record_failure(record, row, _describe(result))

        self._submit(ops, created)

    def _intents(self, records: Sequence[Record]) -> dict[str, Coupling]:
        """Intents for many records in one flush; one by one only if another worker took
        some of them meanwhile (the unique constraint decides who creates)."""
        if not records:
            return {}
        rows = {record.id: self._new_intent(record) for record in records}
        try:
            with self.session.begin_nested():
                self.session.add_all(rows.values())
        except IntegrityError:
            taken = {record.id: self._intent(record) for record in records}
            return {k: v for k, v in taken.items() if v is not None}
        return rows

    def _new_intent(self, record: Record) -> Coupling:
        row = Coupling(mapping_id=self.mapping_id, state="creating", seen_job=self.job_id)
        self._set_source_id(row, record.id)
        key = self.source_info.natural_key
        if key:
            self._set_key(row, self.source_side, record.values.get(key))
        if self.dest_info.client_ids:
            self._set_dest_id(row, str(uuid.uuid4()))
        return row

    def _intent(self, record: Record) -> Coupling | None:
        """Record the intent to create (unique per source record: a second worker loses)."""
        row = self._new_intent(record)
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            return None
        return row

    def _owners(self, dest_ids: Sequence[str]) -> dict[str, Coupling]:
        """Couplings that already hold these destination ids."""
        return couplings.by_ids(self.session, self.mapping_id, self.dest_side, dest_ids)

    def _dest_empty(self) -> bool:
        """Whether the destination held nothing when this pass first created (then nothing
        there can be a match, and the look-ups are skipped); asked once per pass."""
        if self._empty is None:
            self._empty = self.dest.count(self.mapping.entity(self.dest_side)) == 0
        return self._empty

    def _match_inserts(
        self,
        inserts: list[tuple[Record, Decision, Coupling | None]],
        updates: list[tuple[Record, Decision, Coupling, Record | None]],
        lookups: Lookups,
    ) -> None:
        """Before anything is created, look for each record's counterpart (one batch of
        look-ups per match group): one match couples, several are held for a person."""
        if not inserts or self._dest_empty():
            return
        matcher = CreateMatcher(
            self.mapping,
            self.dest_side,
            self.dest,
            self.dest_fields(),
            lambda ids: {
                dest_id: (row.state, self._source_id(row))
                for dest_id, row in self._owners(ids).items()
            },
        )
        outcome = matcher.resolve({record.id: d.values for record, d, _ in inserts})
        remaining: list[tuple[Record, Decision, Coupling | None]] = []
        for record, decision, row in inserts:
            if record.id in outcome.ambiguous:
                names = ", ".join(outcome.ambiguous[record.id][:10])
                entity = self.mapping.entity(self.dest_side)
                self._record_failure(record, row, AMBIGUOUS.format(entity=entity, ids=names))
            elif record.id in outcome.found:
                self._adopt_match(record, row, outcome.found[record.id], updates, lookups)
            else:
                remaining.append((record, decision, row))
        inserts[:] = remaining

    def _adopt_match(
        self,
        record: Record,
        row: Coupling | None,
        match: Record,
        updates: list[tuple[Record, Decision, Coupling, Record | None]],
        lookups: Lookups,
    ) -> None:
        """Couple ``record`` to the counterpart found, and decide it as a pair seen for the
        first time (no history: nothing is overwritten silently)."""
        if self.dry_run:
            self._preview(record, match.id, Decision("couple"))
            return
        self.counts["coupled"] += 1
        intent = row
        try:
            with self.session.begin_nested():
                if row is None:
                    row = Coupling(mapping_id=self.mapping_id, seen_job=self.job_id)
                    self._set_source_id(row, record.id)
                    self.session.add(row)
                row.state = "coupled"
                row.baseline = {}
                self._set_dest_id(row, match.id)
                key = self.dest_info.natural_key
                if key:
                    self._set_key(row, self.dest_side, match.values.get(key))
                self.session.flush()
        except IntegrityError:  # another worker coupled one of the two meanwhile
            message = ALREADY_COUPLED.format(id=match.id, other="another record")
            self._record_failure(record, intent, message)
            return
        decision = decide(
            self.mapping, self.direction, record, self._view(row), match, lookups, explain=False
        )
        updates.append((record, decision, row, match))

    def _submit(self, ops: list[WriteOp], done: Callable[[list[WriteResult]], None]) -> None:
        """Write ``ops``; ``done`` records the results.

        Inside :meth:`process` writes run in the background while the next chunks are
        decided, up to :data:`IN_FLIGHT` at once, so the target is never idle waiting for us;
        results are recorded in order, on this thread and this session, before the page ends.
        """
        if not ops:
            return
        entity = self.mapping.entity(self.dest_side)
        if self._pool is None:
            done(self.dest.write(entity, ops))
            return
        self._inflight.append((self._pool.submit(self.dest.write, entity, ops), done))
        while len(self._inflight) > IN_FLIGHT:
            self._drain_oldest()

    def _drain_oldest(self) -> None:
        future, done = self._inflight.popleft()
        done(future.result())

    def _drain(self) -> None:
        while self._inflight:
            self._drain_oldest()

    # -- bookkeeping ----------------------------------------------------------------------
    def _record_success(
        self,
        record: Record,
        row: Coupling,
        decision: Decision,
        dest: Record | None,
        result: WriteResult | None,
    ) -> None:
        """Store the new baseline, hashes, timestamps and result of a synced record.

        The destination's hash is stored only when every mapped destination field is known
        to equal the baseline; a destination change not synced yet (one the opposite pass
        must carry) must never be absorbed into the hash, or that pass would skip it.
        """
        written = result.record if result is not None else None
        known: dict[str, Any] | None = None
        if written is not None:
            known = dict(written.values)
            self._adopt_stored_values(decision, written, created=decision.action == "insert")
        elif dest is not None:
            known = {**dest.values, **decision.values}
        row.baseline = decision.baseline
        source_hash_value = content_hash(
            self.mapping.side_hash_pairs(self.source_side, record.values)
        )
        dest_hash = (
            self._dest_hash(row) if known is None else self._in_sync_hash(known, row.baseline)
        )
        self._set_hashes(row, source_hash_value, dest_hash)
        self._set_modified(row, self.source_side, record.modified_at)
        holder = written or dest
        self._set_modified(row, self.dest_side, holder.modified_at if holder else None)
        key = self.dest_info.natural_key
        if key and known is not None and key in known:
            self._set_key(row, self.dest_side, known.get(key))
        self._set_result(row, "conflict" if decision.conflicts else "success", None)

    def _adopt_stored_values(self, decision: Decision, written: Record, *, created: bool) -> None:
        """The destination may normalize what we wrote, or fill what we left out (a default
        owner): the baseline keeps what it stored. On an update only the written fields are
        taken -- any other difference is a change of the destination's own, still to sync."""
        slot = 0 if self.dest_side == "local" else 1
        for key, name in self.mapping.side_fields(self.dest_side):
            if (
                (created or name in decision.values)
                and name in written.values
                and key in decision.baseline
            ):
                decision.baseline[key][slot] = canonical(written.values[name])

    def _in_sync_hash(self, known: dict[str, Any], baseline: dict[str, Any]) -> str | None:
        slot = 0 if self.dest_side == "local" else 1
        pairs = []
        for key, name in self.mapping.side_fields(self.dest_side):
            pair = baseline.get(key)
            value = known.get(name)
            if pair is None or not same(value, pair[slot]):
                return None
            pairs.append((key, value))
        return content_hash(pairs)

    def _dest_hash(self, row: Coupling) -> str | None:
        return row.remote_hash if self.dest_side == "remote" else row.local_hash

    def _record_failure(self, record: Record, row: Coupling | None, message: str) -> None:
        self.counts["failed"] += 1
        if self.dry_run:
            return
        observe_record_error(
            self.mapping.name, self.direction, message, job_id=self.job_id, record_id=record.id
        )
        if row is None:
            row = self._intent(record)
            if row is None:
                return
            row.state = "creating"
        previous_error, previous_job = self._last_error(row)
        if previous_error == message and previous_job not in (None, self.job_id):
            row.skipped = True
        self._set_result(row, "failure", message)
        assert self.job_id is not None
        jobs.add_error(
            self.session,
            self.job_id,
            self.mapping_id,
            message,
            source_id=record.id,
            destination_id=self._dest_id(row),
        )

    def _last_error(self, row: Coupling) -> tuple[str | None, str | None]:
        if self.direction == "to_remote":
            return row.last_error_to_remote, row.last_job_to_remote
        return row.last_error_from_remote, row.last_job_from_remote

    def _set_result(self, row: Coupling, result: str, error: str | None) -> None:
        if self.direction == "to_remote":
            row.last_result_to_remote, row.last_error_to_remote = result, error
            row.last_job_to_remote = self.job_id
        else:
            row.last_result_from_remote, row.last_error_from_remote = result, error
            row.last_job_from_remote = self.job_id

    def _set_hashes(self, row: Coupling, source: str, dest: str | None) -> None:
        if self.source_side == "local":
            row.local_hash, row.remote_hash = source, dest
        else:
            row.remote_hash, row.local_hash = source, dest

    def _set_modified(self, row: Coupling, side: str, value: Any) -> None:
        if value is None:
            return
        if side == "local" and (row.local_modified_at is None or value > row.local_modified_at):
            row.local_modified_at = value
        if side == "remote" and (row.remote_modified_at is None or value > row.remote_modified_at):
            row.remote_modified_at = value

    def _set_key(self, row: Coupling, side: str, value: Any) -> None:
        text = couplings.key_text(value)
        if side == "local":
            row.local_key = text
        else:
            row.remote_key = text

    def _set_source_id(self, row: Coupling, value: str | None) -> None:
        if self.source_side == "local":
            row.local_id = value
        else:
            row.remote_id = value

    def _set_dest_id(self, row: Coupling, value: str | None) -> None:
        if self.dest_side == "remote":
            row.remote_id = value
        else:
            row.local_id = value

    def _preview(self, record: Record, dest_id: str | None, decision: Decision) -> None:
        self.counts[_PREVIEW_COUNTER.get(decision.action, decision.action)] += 1
        if decision.action in ("unchanged", "ignore"):
            return
        self.preview.append(
            PreviewRow(
                self.mapping.name,
                self.direction,
                record.id,
                dest_id,
                decision.action,
                decision.changes,
                decision.conflicts,
                decision.error,
            )
        )

    def _commit(self) -> None:
        if self.dry_run:
            return
        if self.job_id is not None:
            jobs.add_counts(self.session, self.job_id, self.counts - self._committed)
            self._committed = Counter(self.counts)
        self.session.commit()

    def detect_snapshot_deletes(self) -> None:
        self.deletions.snapshot_deletes()
        self._commit()


ALREADY_COUPLED = (
    "the created record {id} is already coupled to {other}; uncouple one of them or couple by hand"
)
AMBIGUOUS = (
    "ambiguous match: {entity} {ids} all match this record; couple one by hand "
    "(accord couple) or make the match fields unique"
)

_PREVIEW_COUNTER = {
    "insert": "inserted",
    "modify": "modified",
    "fail": "failed",
    "skip": "skipped",
    "conflict": "conflicts",
    "couple": "coupled",
}


def _describe(result: WriteResult) -> str:
    code = f" [{result.error_code}]" if result.error_code else ""
    status = f"HTTP {result.status}" if result.status else "write failed"
    return f"{status}{code}: {result.error or 'no message'}"
