"""Running one page of a pass through the stages: link -> decide -> plan writes -> apply.

The runner owns the transaction: it commits once per chunk of records and before every wait
on the network, so no transaction is held across a request. Writes run in the background
while the next chunk is decided; their results are booked on this thread, in order. When a
chunk fails, the results of every write already sent are still booked and committed before
the error goes up.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from accord.connectors.base import Record, WriteOp, WriteResult
from accord.observability import get_logger, observe_page
from accord.state import couplings, jobs
from accord.state.models import Coupling
from accord.sync.book import Book, transient
from accord.sync.conflicts import hold_conflict
from accord.sync.decide import Decision, decide
from accord.sync.deletions import DeletionHandler
from accord.sync.inserts import Insert, Inserts, Update, describe
from accord.sync.links import LinkedChunk, link_chunk
from accord.sync.scope import PassScope, PreviewRow

__all__ = ["CHUNK", "IN_FLIGHT", "PageProcessor", "PreviewRow"]

CHUNK = 1000
"""Records decided and written together (Dataverse's batch limit; ten BC batches)."""
IN_FLIGHT = 2
"""Writes sent ahead of their bookkeeping (well under BC's 5 and Dataverse's 52 concurrent)."""

_PREVIEW_COUNTER = {
    "modify": "modified",
    "fail": "failed",
    "skip": "skipped",
    "conflict": "conflicts",
}
_log = get_logger(component="sync.pages")


class PageProcessor(PassScope):
    """Applies the engine's decisions to pages of one pass and keeps the counters."""

    def __init__(self, *args: object, **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.book = Book(self)
        self.deletions = DeletionHandler(self)
        self.inserts = Inserts(self, self.book, self.deletions.destination_deleted)
        self._committed: Counter[str] = Counter()
        self._retried: set[str] = set()
        self._pool: ThreadPoolExecutor | None = None
        self._inflight: deque[
            tuple[Future[list[WriteResult]], Callable[[list[WriteResult]], None]]
        ] = deque()

    def retry_ids(self) -> list[str]:
        return couplings.retry_first(self.session, self.mapping_id, self.source_role)

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
                    self.process_chunk(records[start : start + CHUNK], track_seen)
                    self.commit()
                self._drain()
            except BaseException:
                self._salvage()
                raise
            finally:
                self._pool = None
        if deleted_ids:
            self.deletions.source_deleted(deleted_ids)
        self.commit()
        if not self.dry_run:
            observe_page(self.mapping.name, self.direction, len(records), job_id=self.job_id)

    def process_chunk(self, records: Sequence[Record], track_seen: bool = False) -> None:
        """The stages for one chunk: link, decide, look for matches, plan and send writes."""
        chunk = link_chunk(self, records, track_seen=track_seen)
        inserts: list[Insert] = []
        updates: list[Update] = []
        for record in records:
            self._decide(record, chunk, inserts, updates)
        self.inserts.match(inserts, updates, chunk.lookups)
        self.commit()  # decided couplings are durable before the writes go out
        self._send_updates(updates)
        self.inserts.create(inserts, self.submit)

    def _decide(
        self, record: Record, chunk: LinkedChunk, inserts: list[Insert], updates: list[Update]
    ) -> None:
        if record.id in chunk.unchanged:
            self.counts["unchanged"] += 1  # as last synced: nothing to decide, write or book
            return
        row = chunk.found.get(record.id)
        if row is not None and row.state == "uncoupled":
            if not self.force:
                return  # its counterpart was deleted and the policy uncoupled them
            self.deletions.forget(row)  # synchronize-now: create it again on purpose
            row = None
        if row is not None and row.skipped and not self.force:
            self._preview_or_count(record, row)
            return
        if row is not None and row.state == "creating":
            decision = decide(
                self.mapping,
                self.direction,
                record,
                None,
                None,
                chunk.lookups,
                create_uncoupled=True,
                explain=self.dry_run,
            )
            self.route_insert(record, decision, row, inserts)
            return
        dest_id = self.dest_id(row) if row is not None else None
        dest = chunk.destinations.get(dest_id) if dest_id else None
        if row is not None and dest is None and dest_id in chunk.fetched:
            self.deletions.destination_deleted(record, row)
            return
        if row is not None and not self.dry_run:
            self.book.echoes(row, record, dest)
        decision = decide(
            self.mapping,
            self.direction,
            record,
            self.view(row) if row is not None else None,
            dest,
            chunk.lookups,
            force=self.force,
            create_uncoupled=self.create_uncoupled,
            explain=self.dry_run,
        )
        if row is None:
            self.route_insert(record, decision, None, inserts)
        else:
            updates.append(Update(record, decision, row, dest))

    def route_insert(
        self, record: Record, decision: Decision, row: Coupling | None, inserts: list[Insert]
    ) -> None:
        if decision.action == "ignore":
            return
        if decision.action == "fail":
            self.book.failure(record, row, decision.error or "mapping failed")
            return
        inserts.append(Insert(record, decision, row))

    def _preview_or_count(self, record: Record, row: Coupling) -> None:
        self.counts["skipped"] += 1
        if self.dry_run:
            self.preview_row(record.id, self.dest_id(row), "skip")

    # -- plan and send the writes ---------------------------------------------------------
    def _send_updates(self, updates: list[Update]) -> None:
        ops: list[WriteOp] = []
        pending: dict[str, Update] = {}
        for item in updates:
            if self._settled_without_write(item):
                continue
            self.book.sending(item.row, item.decision)
            ref = f"u{len(ops)}"
            etag = item.dest.etag if item.dest is not None else None
            ops.append(
                WriteOp("update", ref, item.decision.values, id=self.dest_id(item.row), etag=etag)
            )
            pending[ref] = item

        def written(results: list[WriteResult]) -> None:
            for result in results:
                item = pending[result.ref]
                if result.ok:
                    self.book.success(item.record, item.row, item.decision, item.dest, result)
                    self.counts["modified"] += 1
                elif result.not_found:
                    self.deletions.destination_deleted(item.record, item.row)
                else:
                    self.book.failure(
                        item.record, item.row, describe(result), transient=transient(result)
                    )

        if ops:
            self.commit()  # the update intents are durable before anything is sent
        self.submit(ops, written)

    def _settled_without_write(self, item: Update) -> bool:
        """Book what needs no write (unchanged, skipped, failed, held); False to write."""
        decision = item.decision
        if self.dry_run:
            action = decision.action
            self.counts[_PREVIEW_COUNTER.get(action, action)] += 1
            if action not in ("unchanged", "ignore"):
                self.preview_row(
                    item.record.id,
                    self.dest_id(item.row),
                    action,
                    decision.changes,
                    decision.conflicts,
                    decision.error,
                )
            return True
        if decision.action == "skip":
            self.counts["skipped"] += 1
            return True
        if decision.action == "fail":
            self.book.failure(item.record, item.row, decision.error or "mapping failed")
            return True
        if decision.conflicts and hold_conflict(
            self.session, self.mapping_id, item.row, decision.conflicts
        ):
            self.counts["conflicts"] += 1
        if decision.values:
            return False
        self.book.success(item.record, item.row, decision, item.dest, None)
        if not decision.conflicts:
            self.counts["unchanged"] += 1
        return True

    def submit(self, ops: list[WriteOp], done: Callable[[list[WriteResult]], None]) -> None:
        """Write ``ops``; ``done`` books the results.

        Inside :meth:`process` writes run in the background while the next chunks are
        decided, up to :data:`IN_FLIGHT` at once, so the target is never idle waiting for us;
        results are booked in order, on this thread and this session, before the page ends.
        """
        if not ops:
            return
        entity = self.mapping.entity(self.dest_role)
        if self._pool is None:
            self.commit()
            done(self.dest.write(entity, ops))
            return
        self._inflight.append((self._pool.submit(self.dest.write, entity, ops), done))
        while len(self._inflight) > IN_FLIGHT:
            self._drain_oldest()

    def _drain_oldest(self) -> None:
        future, done = self._inflight.popleft()
        self.commit()  # nothing uncommitted while waiting on the network
        done(future.result())

    def _drain(self) -> None:
        while self._inflight:
            self._drain_oldest()

    def _salvage(self) -> None:
        """After a failure: book every write that completed, so nothing written is lost."""
        if self.dry_run:
            self._inflight.clear()
            return
        try:
            self.session.rollback()
            while self._inflight:
                future, done = self._inflight.popleft()
                try:
                    done(future.result())
                except Exception as exc:
                    _log.warning("write lost its bookkeeping", error=str(exc))
            self.commit()
        except Exception as exc:
            _log.warning("could not book the writes of a failed chunk", error=str(exc))

    # -- bookkeeping ----------------------------------------------------------------------
    def commit(self) -> None:
        if self.dry_run:
            return
        if self.job_id is not None:
            jobs.add_counts(self.session, self.job_id, self.counts - self._committed)
            self._committed = Counter(self.counts)
        self.session.commit()

    def detect_snapshot_deletes(self) -> None:
        self.deletions.snapshot_deletes()
        self.commit()
