"""Documents taken in chunks: the triggered documents no run has touched yet go through the
steps of :mod:`accord.documents.engine` together, each step committed for the whole chunk
before the next write (one lease claim, one database session per step, one request per
batch where the one-by-one engine sends one per document).

Per chunk: the leases of its documents in one session; their lines read with one filtered
query per 200 documents; lookups translated once; the intents of all recorded; the target
looked for by the identities of all (one filtered query per 40); the headers created in
batches, their ids recorded; the lines recorded, written in batches, recorded; the
write-back (unlock, mark) in one batch per step, the unlock's own values recorded before it.
A document that needs more than that -- found again in the target, refused, held -- goes on
alone through the engine's own steps from where its state says, so every crash guarantee
stays the one of ADR 0021: a crash leaves each document at a recorded step the next run
resumes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from accord.config.filters import matches, where
from accord.connectors.base import ChangeQuery, ChangeTracking, Record, WriteOp
from accord.documents import deep_insert, dependencies, lines
from accord.documents.chunk_writes import mark_chunk, write_chunk_lines
from accord.documents.outcomes import DocumentRun, Outcome
from accord.documents.values import Problem, given
from accord.errors import AccordError
from accord.state import documents as state
from accord.state.jobs import add_error
from accord.state.leases import LeaseBusy, LeaseSet, hold
from accord.state.models import Coupling

if TYPE_CHECKING:
    from accord.documents.engine import _Run

CHUNK = 1000
"""Documents per chunk: one Dataverse batch (its limit is 1000) per write-back step."""
TRIGGER_PAGE = 2 * CHUNK
"""Triggered documents read a page at a time, at most two chunks a page: the memory a page
takes to parse does not grow with the documents waiting (up to 5,000 a page otherwise), for
one request more per 2,000 documents."""
BUSY = "another worker is transferring it now"
PARENTS_PER_READ = 200
"""Documents whose lines one filtered query reads (its URL stays well under the limits)."""


def fresh_ones(run: _Run, records: list[Record]) -> tuple[list[Record], list[Record]]:
    """``records`` split into the triggered ones no run has touched yet (taken in chunks)
    and the others (taken one by one). A mapping with revisions or actions goes one by one:
    a new revision hands over an earlier one's target, an action runs per document."""
    if run.doc.revision or run.doc.actions:
        return [], records
    with run.ctx.db.session() as session:
        known = state.documents(session, run.mapping_id, run.source, [r.id for r in records])
    condition = run.trigger()
    fresh, others = [], []
    for record in records:
        untouched = record.id not in known
        if untouched and (condition is None or matches(condition, record.values)):
            fresh.append(record)
        else:
            others.append(record)
    return fresh, others


def parts(records: Iterator[Record], size: int = CHUNK) -> Iterator[list[Record]]:
    """``records`` in lists of ``size``, read as they are needed."""
    while part := list(itertools.islice(records, size)):
        yield part


def take(run: _Run, result: DocumentRun, records: list[Record], asked: set[str]) -> None:
    """Documents the run touched before one by one, each under its lease; the others in
    chunks (below)."""
    fresh, others = fresh_ones(run, records) if records else ([], [])
    for record in others:
        try:
            # one worker per document: a second one (another run, another machine)
            # would find no target yet and create it twice
            with hold(run.ctx.db, f"document:{run.mapping_id}:{record.id}", run.ctx.owner):
                result.outcomes.append(_alone(run, record, asked))
        except LeaseBusy:
            identity = str(record.values.get(run.identity_source) or record.id)
            result.outcomes.append(Outcome(record.id, identity, "busy", messages=[BUSY]))
    for start in range(0, len(fresh), CHUNK):  # the chunk holds their leases
        part = fresh[start : start + CHUNK]
        result.outcomes += transfer(run, part, asked, lambda record: _alone(run, record, asked))


def _alone(run: _Run, record: Record, asked: set[str]) -> Outcome:
    """One document through its steps, under its lease; an error stops it alone (the next
    run resumes it)."""
    identity = str(record.values.get(run.identity_source) or record.id)
    try:
        return run.one(record, str(record.values.get(run.identity_source)) in asked)
    except AccordError as exc:
        message = f"document {identity}: {exc}"
        with run.ctx.db.session() as session:
            assert run.job_id is not None
            add_error(session, run.job_id, run.mapping_id, message, source_id=record.id)
        return Outcome(record.id, identity, "failed", messages=[message])


def transfer(
    run: _Run, records: list[Record], asked: set[str], one: Callable[[Record], Outcome]
) -> list[Outcome]:
    """Transfer a chunk of fresh ``records``; ``one`` takes a document alone (under the
    chunk's lease) from the step its state records."""
    keys = {r.id: f"document:{run.mapping_id}:{r.id}" for r in records}
    outcomes: list[Outcome] = []
    with LeaseSet(run.ctx.db, list(keys.values()), run.ctx.owner) as leases:
        mine = []
        for record in records:
            if keys[record.id] in leases.taken:
                mine.append(record)
            else:
                outcomes.append(Outcome(record.id, _identity(run, record), "busy", messages=[BUSY]))
        if mine:
            _Chunk(run, asked, one, outcomes).run(mine)
    return outcomes


def _identity(run: _Run, record: Record) -> str:
    return str(record.values.get(run.identity_source) or "")


class _Chunk:
    def __init__(
        self, run: _Run, asked: set[str], one: Callable[[Record], Outcome], out: list[Outcome]
    ) -> None:
        self.run_, self.asked, self.one, self.out = run, asked, one, out
        self.done: set[str] = set()

    def report(self, outcome: Outcome) -> None:
        self.out.append(outcome)
        self.done.add(outcome.source_id)

    def run(self, records: list[Record]) -> None:
        try:
            self.steps(records)
        except AccordError as exc:  # a whole call failed: each document resumes next run
            self.fail([(r, str(exc)) for r in records if r.id not in self.done])

    def fail(self, failed: list[tuple[Record, str]]) -> None:
        """Documents stopped by a passing error, at the step their state records."""
        run = self.run_
        with run.ctx.db.session() as session:
            for record, error in failed:
                message = f"document {_identity(run, record)}: {error}"
                if run.job_id is not None:
                    add_error(session, run.job_id, run.mapping_id, message, source_id=record.id)
                self.report(Outcome(record.id, _identity(run, record), "failed", None, [message]))

    def steps(self, records: list[Record]) -> None:
        run, doc = self.run_, self.run_.doc
        fresh, others = fresh_ones(run, records)  # again, under the leases
        for record in others:
            self.report(self.one(record))
        source_lines = self.read_lines([r.id for r in fresh]) if doc.lines else {}
        found = dependencies.resolve_for(
            run.ctx,
            doc,
            [r.values for r in fresh],
            [v for rows in source_lines.values() for v in rows],
        )
        ready: list[tuple[Record, dict[str, Any], list[Any]]] = []
        for record in fresh:
            problems, header, planned = run.prepare(
                record, None, source_lines.get(record.id, []), found
            )
            if problems:
                self.report(run.hold(record, None, _identity(run, record), problems))
            else:
                ready.append((record, header, planned))
        if not ready:
            return
        couplings = self.intend([r for r, _, _ in ready])
        if deep_insert.applies(doc):  # the intent of every line, before the first write
            deep_insert.record(run.ctx, [(couplings[r.id].id, planned) for r, _, planned in ready])
        made = self.create(ready, couplings)
        if doc.lines and not deep_insert.applies(doc):
            made = self.write_lines(made, couplings)
        self.write_back(made, couplings)

    def read_lines(self, ids: list[str]) -> dict[str, list[Mapping[str, Any]]]:
        """Source id -> its lines' values in the mapping's order, one filtered query."""
        run = self.run_
        spec = run.doc.lines
        assert spec is not None
        parent = spec.parent[run.source]
        grouped: dict[str, list[Record]] = {i: [] for i in ids}
        connector, entity = run.ctx.connector(run.source), str(spec.per_role[run.source])
        if connector.entity(entity).change_tracking is ChangeTracking.SNAPSHOT:
            # lines a service lists only per document (Business Central's): one read each
            per_parent = [ChangeQuery(filter=where(parent, "eq", i)) for i in ids]
        else:
            per_parent = [
                ChangeQuery(filter=where(parent, "in", ids[start : start + PARENTS_PER_READ]))
                for start in range(0, len(ids), PARENTS_PER_READ)
            ]
        for query in per_parent:
            for page in connector.read_changes(entity, query):
                for record in page.records:
                    grouped.setdefault(str(record.values.get(parent)), []).append(record)
        return {
            i: [r.values for r in lines.ordered(run.doc, run.source, rows)]
            for i, rows in grouped.items()
        }

    def intend(self, records: list[Record]) -> dict[str, Coupling]:
        run = self.run_
        couplings: dict[str, Coupling] = {}
        with run.ctx.db.session() as session:
            for record in records:
                coupling = state.intend(
                    session,
                    run.mapping_id,
                    (run.source, run.target),
                    record.id,
                    _identity(run, record),
                )
                state.add_event(
                    session,
                    run.mapping_id,
                    coupling.id,
                    "picked_up",
                    role=run.source,
                    reason="on demand" if _identity(run, record) in self.asked else "trigger",
                    job_id=run.job_id,
                )
                couplings[record.id] = coupling
        return couplings

    def create(
        self,
        ready: list[tuple[Record, dict[str, Any], list[Any]]],
        couplings: dict[str, Coupling],
    ) -> list[tuple[Record, list[Any]]]:
        """The headers: looked for by identity all at once; the ones found go on alone (the
        engine adopts or holds them); the others created in batches (with their lines, by
        deep insert, ``deep_insert.PART`` at a time)."""
        run = self.run_
        connector = run.ctx.connector(run.target)
        entity = run.doc.entity(run.target)
        identities = [_identity(run, r) for r, _, _ in ready]
        there = {
            str(r.values.get(run.identity_target)).casefold()
            for r in connector.find_any(entity, run.identity_target, identities)
        }
        todo = []
        for record, header, planned in ready:
            if _identity(run, record).casefold() in there:
                self.report(self.one(record))
            else:
                todo.append((record, header, planned))
        if not deep_insert.applies(run.doc):
            return self.made(todo, couplings)
        made: list[tuple[Record, list[Any]]] = []
        for start in range(0, len(todo), deep_insert.PART):  # their answers carry the lines:
            made += self.made(todo[start : start + deep_insert.PART], couplings)  # a part each
        return made

    def made(
        self, todo: list[tuple[Record, dict[str, Any], list[Any]]], couplings: dict[str, Coupling]
    ) -> list[tuple[Record, list[Any]]]:
        """Create ``todo``'s headers (with their lines: deep insert), record them; the ones
        made, the refused ones held, the others failed (resumed next run)."""
        run = self.run_
        connector = run.ctx.connector(run.target)
        entity = run.doc.entity(run.target)
        deep = deep_insert.applies(run.doc)
        if deep:  # each header with its lines, all or nothing
            items = [(couplings[r.id].id, header, planned) for r, header, planned in todo]
            results = deep_insert.send(run.ctx, run.doc, items)
        else:
            ops = [
                WriteOp("create", str(n), given(header)) for n, (_, header, _) in enumerate(todo)
            ]
            results = connector.write(entity, ops) if ops else []
        made: list[tuple[Record, list[Any]]] = []
        refused: list[tuple[Record, list[Problem]]] = []
        failed: list[tuple[Record, str]] = []
        to = "lines" if run.doc.lines and not deep else "writing_back"
        with run.ctx.db.session() as session:
            rows = _rows(session, [couplings[r.id].id for r, _, _ in todo])
            for (record, _, planned), result in zip(todo, results, strict=True):
                cid = couplings[record.id].id
                if not result.ok or result.id is None:
                    error = f"{run.target} refused the {entity}: {result.error}"
                    if result.retryable:
                        failed.append((record, error))
                    elif deep:
                        refused.append((record, deep_insert.problems(run.doc, planned, result)))
                    else:
                        refused.append((record, [Problem(None, "header", error)]))
                    continue
                more = {"lines": len(planned)} if deep else {}
                run.created(session, rows[cid], result, **more)
                couplings[record.id].links[run.target].record_id = result.id
                self.step(session, rows[cid], to, {"lines": len(planned)} if deep else None)
                couplings[record.id].state = to
                made.append((record, planned))
            if deep:
                done = {r.id: res for (r, _, _), res in zip(todo, results, strict=True)}
                deep_insert.confirm(
                    session,
                    run.doc,
                    [(couplings[r.id].id, planned, done[r.id].lines) for r, planned in made],
                )
        self.fail(failed)
        for record, problems in refused:  # state 'creating', nothing written: looked for again
            self.report(run.hold(record, couplings[record.id], _identity(run, record), problems))
        return made

    def write_lines(
        self, made: list[tuple[Record, list[Any]]], couplings: dict[str, Coupling]
    ) -> list[tuple[Record, list[Any]]]:
        run = self.run_
        problems, written = write_chunk_lines(
            run.ctx, run.doc, [(couplings[r.id], planned) for r, planned in made]
        )
        complete = []
        with run.ctx.db.session() as session:
            rows = _rows(session, [couplings[r.id].id for r, _ in made])
            for record, planned in made:
                cid = couplings[record.id].id
                if cid in problems:
                    continue
                self.step(session, rows[cid], "writing_back", {"lines": written.get(cid, 0)})
                couplings[record.id].state = "writing_back"
                complete.append((record, planned))
        for record, _ in made:  # a refused line: the incomplete copy is discarded, held
            cid = couplings[record.id].id
            if cid in problems:
                held = run.hold(record, couplings[record.id], _identity(run, record), problems[cid])
                self.report(held)
        return complete

    def write_back(
        self, made: list[tuple[Record, list[Any]]], couplings: dict[str, Coupling]
    ) -> None:
        run = self.run_
        records = [r for r, _ in made]
        problems = mark_chunk(run, [(r, couplings[r.id]) for r in records])
        with run.ctx.db.session() as session:
            rows = _rows(session, [couplings[r.id].id for r in records])
            for record in records:
                coupling = couplings[record.id]
                if coupling.id not in problems:
                    self.step(session, rows[coupling.id], "coupled")
                    coupling.state = "coupled"
        for record in records:
            coupling = couplings[record.id]
            identity = _identity(run, record)
            if coupling.id in problems:
                self.report(run.hold(record, coupling, identity, problems[coupling.id]))
            else:
                target = coupling.links[run.target].record_id
                self.report(Outcome(record.id, identity, "created", target))

    def step(self, session: Any, row: Coupling, to: str, detail: Any = None) -> None:
        """The engine's step, within the chunk's session."""
        run = self.run_
        row.state, row.skipped = to, False
        for link in row.links.values():
            link.last_result, link.last_error, link.last_job = "success", None, run.job_id
        state.add_event(session, run.mapping_id, row.id, to, detail=detail, job_id=run.job_id)


def _rows(session: Any, ids: list[int]) -> dict[int, Coupling]:
    query = select(Coupling).where(Coupling.id.in_(ids)).options(selectinload(Coupling.links))
    return {row.id: row for row in session.scalars(query)} if ids else {}
