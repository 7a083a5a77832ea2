"""One pass: read changed source records page by page, decide, write, record -- per direction.

Order inside a pass (Microsoft's engine, §1.5): records that failed last time first, then
every source record changed after the watermark. State commits once per page in the same
transaction as the couplings it describes; the watermark moves only after the last page, to
the source's clock at the read (or the newest change seen) minus the overlap window, never
past the pass start and never backwards.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import update
from sqlalchemy.orm import Session

from accord.config.filters import Filter
from accord.connectors.base import ChangeQuery
from accord.errors import AccordError, AuthError, ConfigError, Phase, TerminalError, TransientError
from accord.mapping.fields import CompiledMapping, PassDirection
from accord.observability import get_logger, observe_pass
from accord.state import jobs, leases
from accord.state.couplings import chunks
from accord.state.models import Watermark
from accord.state.types import utcnow
from accord.sync.context import SyncContext
from accord.sync.marks import BOUNDARY, latest, safe_mark
from accord.sync.pages import PageProcessor
from accord.sync.scope import PreviewRow

PassKind = Literal["full", "incremental", "records"]
_log = get_logger(component="sync.passes")
LEASE_SECONDS = 30.0
"""A pass lease lapses this long after its holder's last heartbeat (it beats every third)."""
READ_PAGE_SIZE = 10_000
"""Records asked for per page (systems may send fewer): a page is held in memory while it is
processed, so this bounds memory whatever the table size; half BC's 20,000 maximum costs a
handful of extra reads per 100,000 records."""


@dataclass
class PassOptions:
    """How to run a pass."""

    kind: PassKind = "incremental"
    record_ids: Sequence[str] = ()
    """For ``records``: the source role's ids to synchronize now."""
    deleted_ids: Sequence[str] = ()
    """For ``records``: source ids known to be deleted (a webhook said so); the mapping's
    deletion policy applies to them."""
    force: bool = False
    """Write even when unchanged; the source wins every field (synchronize-now)."""
    create_uncoupled: bool | None = None
    """None: create counterparts when the mapping does not sync only coupled records."""
    dry_run: bool = False
    part: str | None = None
    """For ``records``: names one part of a full pass split among workers
    (:func:`partition_full_pass`); parts run at once, each under its own lease."""


@dataclass
class PassResult:
    """What a pass did."""

    mapping: str
    direction: PassDirection
    job_id: str | None
    status: str
    counts: Counter[str] = field(default_factory=Counter)
    message: str | None = None
    preview: list[PreviewRow] = field(default_factory=list)


class PassBusy(AccordError):
    """Another worker is running the same pass."""


def run_pass(
    ctx: SyncContext,
    mapping_name: str,
    direction: PassDirection,
    options: PassOptions | None = None,
) -> PassResult:
    """Run one pass of ``mapping_name`` in ``direction`` (a disabled mapping is an error)."""
    mapping = ctx.mapping(mapping_name)
    require_enabled(mapping)
    return _Pass(ctx, mapping, direction, options or PassOptions()).run()


def require_enabled(mapping: CompiledMapping) -> None:
    """A disabled mapping runs nothing: say so, and why it may be."""
    reason = mapping.spec.why_disabled()
    if reason:
        raise ConfigError(reason)


class _Pass:
    def __init__(
        self,
        ctx: SyncContext,
        mapping: CompiledMapping,
        direction: PassDirection,
        options: PassOptions,
    ):
        self.ctx = ctx
        self.mapping = mapping
        self.mapping_id = ctx.mapping_id(mapping.name)
        self.direction = direction
        self.options = options
        self.source_role, self.dest_role = mapping.pass_roles(direction)
        self.source = ctx.connector(self.source_role)
        self.lease_key = f"pass:{self.mapping_id}:{direction}" + (
            f":{options.part}" if options.part else ""
        )
        self.keeper = leases.LeaseKeeper(
            ctx.db, self.lease_key, ctx.owner, ttl=LEASE_SECONDS, beat=LEASE_SECONDS / 3
        )

    def run(self) -> PassResult:
        result = PassResult(self.mapping.name, self.direction, None, "running")
        if self.options.dry_run:
            with self.ctx.db.new_session() as session:
                processor = self._processor(session, None)
                self._feed(processor, session)
                session.rollback()
            result.preview = processor.preview
            result.counts = processor.counts
            result.status = "preview"
            return result
        try:  # the lease and the job in one transaction
            with self.ctx.db.session() as session:
                taken = self.keeper.take(session)
                if taken:
                    if not self.options.part:  # other parts' jobs run under their own leases
                        jobs.abandon_stale(session, self.mapping_id, self.direction)
                    job = jobs.start_job(
                        session, self.mapping_id, self.direction, self.options.kind
                    )
                    result.job_id = job.id
        except BaseException:
            self.keeper.release()
            raise
        if not taken:
            raise PassBusy(
                f"{self.mapping.name} {self.direction} is already running on another worker"
            )
        released = False
        try:
            with self.ctx.db.new_session() as session:
                processor = self._processor(session, job.id)
                watermark = self._feed(processor, session)
                self._finish(session, processor, watermark)
                result.counts = processor.counts
                done = jobs.finish_job(session, job.id)
                self.keeper.release(session)  # given up with the job's last commit
                session.commit()
                released = True
                result.status = done.status
        except AccordError as exc:
            self._fail(job.id, exc)
            result.status = "failed"
            result.message = str(exc)
            if not isinstance(exc, TransientError):
                raise
        except BaseException as exc:
            self._fail(job.id, AccordError(f"{type(exc).__name__}: {exc}", phase=Phase.STATE))
            raise
        finally:
            observe_pass(
                self.mapping.name,
                self.direction,
                "crashed" if result.status == "running" else result.status,
                self.keeper.held_seconds,
                result.counts,
                integration=self.ctx.config.name,
                job_id=result.job_id,
            )
            if not released:
                self.keeper.release()
        return result

    def _processor(self, session: Session, job_id: str | None) -> PageProcessor:
        create = self.options.create_uncoupled
        if create is None:
            create = not self.mapping.spec.sync_only_coupled or self.options.kind == "full"
        return PageProcessor(
            self.ctx,
            self.mapping,
            self.mapping_id,
            self.direction,
            session,
            job_id,
            force=self.options.force,
            create_uncoupled=create,
            dry_run=self.options.dry_run,
        )

    def _feed(self, processor: PageProcessor, session: Session) -> _NewMark | None:
        """Process every page; return where the watermark should move (None: leave it)."""
        entity = self.mapping.entity(self.source_role)
        fields = processor.source_fields()
        if self.options.kind == "records":
            for part in chunks(list(self.options.record_ids), 200):
                processor.process(self.source.get(entity, part, fields), ())
            if self.options.deleted_ids:
                processor.process((), list(self.options.deleted_ids))
            return None
        start = utcnow()
        mark = self._watermark(session)
        old_feed = mark.token if mark is not None and self.options.kind == "full" else None
        if not self.options.dry_run:
            retry = processor.retry_ids()
            session.commit()  # no transaction across the reads below
            for part in chunks(retry, 200):
                processor.process(self.source.get(entity, part, fields), (), retrying=True)
            processor.deletions.retry_failed()
        query = ChangeQuery(filter=self._source_filter(), fields=fields, page_size=READ_PAGE_SIZE)
        if self.options.kind == "incremental" and mark is not None:
            since = mark.since - BOUNDARY if mark.since else None
            query = ChangeQuery(
                since=since,
                token=mark.token,
                filter=query.filter,
                fields=fields,
                page_size=READ_PAGE_SIZE,
            )
        newest: datetime | None = None
        if not self.options.dry_run:
            session.commit()  # no transaction across the feed's requests
        if old_feed:
            self._old_feed_deletes(processor, session, entity, old_feed)
        feed = self.source.read_changes(entity, query)
        for page in feed:
            processor.process(
                page.records, page.deleted_ids, track_seen=self.options.kind == "full"
            )
            if not self.options.dry_run:
                self.keeper.check()
            newest = latest(newest, (r.modified_at for r in page.records))
            self.ctx.report(f"{self.mapping.name} {self.direction}", len(page.records))
        return _NewMark(self._safe_mark(feed.server_time, newest, start), feed.next_token)

    def _old_feed_deletes(
        self, processor: PageProcessor, session: Session, entity: str, token: str
    ) -> None:
        """Apply the deletes the saved change feed reports before a full read starts a new
        one: the new feed never reports them, nor does the full read (ADR 0020, fix 11).

        Only the deletes: the full read carries every changed record. The new feed's token is
        saved at the end of the pass, so a pass that stops before then reads these again. A
        feed the source refuses (an expired or invalid token: Dataverse answers 400/410) is
        skipped with a note in the job log; the snapshot diff is then all that finds them."""
        try:
            for page in self.source.read_changes(entity, ChangeQuery(token=token)):
                if page.deleted_ids:
                    processor.process((), page.deleted_ids)
                if not self.options.dry_run:
                    self.keeper.check()
        except TerminalError as exc:
            if isinstance(exc, AuthError):
                raise
            _log.warning("saved change feed unreadable", mapping=self.mapping.name, error=str(exc))
            if processor.job_id is None:  # a preview
                return
            session.rollback()
            jobs.add_error(
                session,
                processor.job_id,
                self.mapping_id,
                "the saved change feed could not be read before the full read started a new "
                f"one; deletes made since the last incremental read are found only by the "
                f"snapshot diff: {exc}",
                detail=exc.detail,
            )
            session.commit()

    def _safe_mark(
        self, server_time: datetime | None, newest: datetime | None, start: datetime
    ) -> datetime | None:
        return safe_mark(server_time, newest, start, self.mapping.spec.overlap_seconds)

    def _source_filter(self) -> Filter | None:
        return self.mapping.spec.filters.get(self.source_role)

    def _watermark(self, session: Session) -> Watermark | None:
        return session.get(Watermark, (self.mapping_id, self.source_role))

    def _finish(self, session: Session, processor: PageProcessor, mark: _NewMark | None) -> None:
        if self.options.kind == "full":
            # also where the source has a delta feed: a full read starts a new one, so deletes
            # made since the last incremental read would be reported by neither
            processor.detect_snapshot_deletes()
        if self.options.kind in ("incremental", "full"):
            processor.deletions.release_absent()
        if mark is not None:
            self._move_mark(session, mark)

    def _move_mark(self, session: Session, mark: _NewMark, *, keep_feed: bool = False) -> None:
        """Move the watermark; ``keep_feed``: a saved change-feed token stays (its deletes
        were not read)."""
        row = session.get(Watermark, (self.mapping_id, self.source_role))
        if row is None:
            row = Watermark(mapping_id=self.mapping_id, role=self.source_role)
            session.add(row)
        if mark.since is not None and (row.since is None or mark.since > row.since):
            row.since = mark.since
        if mark.token is not None and not (keep_feed and row.token):
            row.token = mark.token
        row.updated_at = utcnow()

    def _fail(self, job_id: str, exc: AccordError) -> None:
        with self.ctx.db.session() as session:
            jobs.add_error(
                session, job_id, self.mapping_id, f"pass stopped: {exc}", detail=exc.detail
            )
            jobs.finish_job(session, job_id, message=str(exc), stopped=True)


@dataclass(frozen=True)
class _NewMark:
    since: datetime | None
    token: str | None


def partition_full_pass(
    ctx: SyncContext, mapping_name: str, direction: PassDirection, size: int
) -> list[list[str]]:
    """The ids of every source record a full pass would read, in parts of ``size`` that
    workers run at once as ``records`` passes (:attr:`PassOptions.part`).

    The watermark moves to where this read certainly covered (as a full pass's would), so
    incremental passes carry on from it; what changes after the read is theirs. Parts find
    no snapshot deletes (a whole, unsplit full pass does that), so a saved change-feed token
    is kept: the next incremental pass reads the deletes made before this read from it."""
    mapping = ctx.mapping(mapping_name)
    require_enabled(mapping)
    scan = _Pass(ctx, mapping, direction, PassOptions(kind="full"))
    entity = mapping.entity(scan.source_role)
    key = scan.source.entity(entity).key
    start = utcnow()
    feed = scan.source.read_changes(
        entity, ChangeQuery(filter=scan._source_filter(), fields=[key], page_size=READ_PAGE_SIZE)
    )
    ids: list[str] = []
    newest: datetime | None = None
    for page in feed:
        ids.extend(r.id for r in page.records)
        newest = latest(newest, (r.modified_at for r in page.records))
    mark = _NewMark(scan._safe_mark(feed.server_time, newest, start), feed.next_token)
    with ctx.db.session() as session:
        scan._move_mark(session, mark, keep_feed=True)
    return [list(part) for part in chunks(ids, max(size, 1))]


def reset_watermarks(session: Session, mapping_id: int) -> None:
    """Forget how far a mapping was read (a full sync starts from scratch).

    A saved change-feed token is kept: the full pass reads its deletes before starting a new
    feed and replaces it only when done; until then incremental passes carry on with it (it
    reports everything since, deletes included, where a fresh read would not)."""
    session.execute(update(Watermark).where(Watermark.mapping_id == mapping_id).values(since=None))
