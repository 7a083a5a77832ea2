"""The document engine: one run of a document mapping (``transfer`` mode, header then
lines under one recorded intent).

A run takes, in this order, the documents whose transfer stopped before its end (a crash),
the held ones when retried, then the triggered ones: every source document meeting the
trigger (when the trigger is automatic) or the ones asked for by identity (on demand).
Each document moves through the steps of :mod:`accord.state.documents`, one committed
step at a time: the intent is recorded; the target's header is looked for by its identity
field (so a crash after the create never makes a second one) and created if absent; its
lines are recorded, then written; the write-back marks the source. Anything that stops a
document -- a customer filtered out, a write-in without the write-in item -- is found
before the first write: the document is held with an error naming it, its line and what
to fix, and the other documents go on. A new revision of a source document takes over its
earlier revision's target (:mod:`~accord.documents.revisions`); actions due on a pass run
once per key (:mod:`~accord.documents.actions`); write-backs ``after: pass`` are the status
pass's (:mod:`~accord.documents.status`), run after a transfer by the services. Nothing
here knows a system: the flow is the template's.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Sequence

from accord.config.documents import DocumentMappingSpec
from accord.connectors.base import Record
from accord.documents import actions, chunks, deep_insert, lines, revisions, writeback
from accord.documents.choosing import ChoosingWork
from accord.documents.makers import makers_first
from accord.documents.outcomes import DocumentRun, Outcome, document_spec, is_automatic
from accord.documents.targets import Refused
from accord.documents.values import Problem, Scope
from accord.documents.watermarks import Window
from accord.errors import ConfigError
from accord.state import documents as state
from accord.state.couplings import record_id
from accord.state.jobs import add_counts, finish_job, start_job
from accord.state.models import Coupling
from accord.sync.context import SyncContext


class _Run(ChoosingWork):
    """One run of a document mapping: each document through its steps
    (:mod:`~accord.documents.steps`), read and looked up first
    (:mod:`~accord.documents.targets`)."""

    def __init__(self, ctx: SyncContext, doc: DocumentMappingSpec) -> None:
        super().__init__(ctx, doc)
        self.held = False
        self.marks = any(b.after == "create" and self.source in b.per_role for b in doc.write_back)
        """A triggered coupled document lost its mark (submitted again): mark it again."""
        self.window = Window(ctx, doc, self.mapping_id, self.source)

    # ------------------------------------------------------------------ one document
    def one(self, record: Record, asked: bool) -> Outcome:
        identity = str(record.values.get(self.identity_source) or "")
        with self.ctx.db.session() as session:
            coupling = state.documents(session, self.mapping_id, self.source, [record.id]).get(
                record.id
            )
        settled = self.settled(record, coupling, identity, asked)
        if settled is not None:
            return settled
        resumed = coupling is not None
        if coupling is None or coupling.state == "creating":
            taken = self.earlier_revision(record, coupling, identity)
            if isinstance(taken, Outcome):
                return taken
            coupling = taken
        return self.transfer(record, coupling, identity, asked, resumed)

    def settled(
        self, record: Record, coupling: Coupling | None, identity: str, asked: bool
    ) -> Outcome | None:
        """The outcome of a document with nothing to write: not triggered, held, already
        transferred, or only its write-back left; None when it has more to do."""
        triggered = self.is_triggered(record)
        if coupling is None and not triggered:
            return Outcome(
                record.id,
                identity,
                "not_triggered",
                messages=[
                    f"{self.doc.entity(self.source)} {identity} does not meet the trigger of "
                    f"{self.doc.name}"
                ],
            )
        if coupling is None:
            return None
        if coupling.skipped and not self.held:
            return Outcome(
                record.id,
                identity,
                "held" if asked else "still_held",  # reported when it was held
                messages=[
                    f"held: {coupling.links[self.source].last_error}; fix it, then 'accord retry'"
                ],
            )
        if coupling.state == "coupled":
            if triggered and self.marks:  # submitted again: its lines, then its mark again
                problems = self.lines_again(record, coupling)
                if problems:
                    return self.hold(record, coupling, identity, problems)
                self.step(coupling, "writing_back")
                return self.finish(record, coupling, identity, "already", {self.source})
            outcome = Outcome(record.id, identity, "already", record_id(coupling, self.target))
            return self.passed(record, coupling, outcome)
        if coupling.state == "writing_back":
            return self.finish(record, coupling, identity, "completed")
        return None

    def lines_again(self, record: Record, coupling: Coupling) -> list[Problem]:
        """A transferred document submitted again (reopened and changed at its source, as
        Microsoft's resubmit): its lines brought to the target by line key, added, changed
        and removed as the mapping says; what the target refuses (a released order, a
        shipped line) comes back as problems naming the line."""
        if self.doc.lines is None:
            return []
        problems, _, planned = self.prepare(record, coupling)
        target_id = record_id(coupling, self.target)
        if problems or target_id is None:
            return problems
        return lines.write_lines(self.ctx, self.doc, coupling.id, target_id, planned)[0]

    def earlier_revision(
        self, record: Record, coupling: Coupling | None, identity: str
    ) -> Coupling | Outcome | None:
        """The coupling after an earlier revision's target is taken over (unchanged when
        there is none), or the outcome holding a revision of a converted document."""
        before = revisions.earlier(self.ctx, self.doc, self.mapping_id, record, identity)
        if before is None:
            return coupling
        if before.converted is not None:
            problem = revisions.converted_problem(self.doc, record, before)
            return self.hold(record, coupling, identity, [problem])
        return revisions.take_over(
            self.ctx, self.doc, self.mapping_id, coupling, record, identity, before, self.job_id
        )

    def transfer(
        self,
        record: Record,
        coupling: Coupling | None,
        identity: str,
        asked: bool,
        resumed: bool,
    ) -> Outcome:
        """Read and look up, then (re)build or create the header, write the lines and write
        back, each step recorded; held before the first write when something is missing."""
        problems, header, planned = self.prepare(record, coupling)
        if problems:
            return self.hold(record, coupling, identity, problems)
        fresh = False
        if coupling is not None and coupling.state == "rebuilding":
            problems = revisions.rebuild(
                self.ctx, self.doc, self.mapping_id, coupling, self.settings, header, self.job_id
            )
            if problems:
                return self.hold(record, coupling, identity, problems)
            self.step(coupling, "lines" if self.doc.lines else "writing_back")
            fresh = True
        if coupling is None:
            coupling = self.intend(record, identity, asked)
        if coupling.state == "creating":
            try:
                made, fresh = self.header(coupling, identity, header, planned)
            except deep_insert.RefusedLines as exc:
                return self.hold(record, coupling, identity, exc.problems)
            except Refused as exc:
                return self.hold(record, coupling, identity, [Problem(None, "header", str(exc))])
            coupling.links[self.target].record_id = made
            whole = fresh and deep_insert.applies(self.doc)  # made with all its lines
            self.step(coupling, "lines" if self.doc.lines and not whole else "writing_back", made)
        if coupling.state == "lines":
            target_id = record_id(coupling, self.target)
            assert target_id is not None
            problems, written = lines.write_lines(
                self.ctx, self.doc, coupling.id, target_id, planned, fresh=fresh
            )
            if problems:
                return self.hold(record, coupling, identity, problems)
            self.step(coupling, "writing_back", detail={"lines": written})
        outcome = self.finish(record, coupling, identity, "completed" if resumed else "created")
        return outcome if outcome.status == "held" else self.passed(record, coupling, outcome)

    def intend(self, record: Record, identity: str, asked: bool) -> Coupling:
        """The intent to transfer ``record``, recorded with the event that picked it up."""
        with self.ctx.db.session() as session:
            coupling = state.intend(
                session, self.mapping_id, (self.source, self.target), record.id, identity
            )
            state.add_event(
                session,
                self.mapping_id,
                coupling.id,
                "picked_up",
                role=self.source,
                reason="on demand" if asked else "trigger",
                job_id=self.job_id,
            )
        return coupling

    def passed(self, record: Record, coupling: Coupling, outcome: Outcome) -> Outcome:
        """Run the actions due on this pass (a won quote made into an order), once each."""
        if not any(a.run == "pass" for a in self.doc.actions):
            return outcome
        target = {"id": record_id(coupling, self.target)}
        scope = Scope(self.settings, source=record.values, target=target)
        done = actions.on_pass(
            self.ctx, self.doc, self.mapping_id, coupling, record, scope, self.job_id
        )
        if done.problems:
            return self.hold(record, coupling, outcome.identity, done.problems)
        if coupling.skipped or coupling.links[self.source].last_result == "failure":
            self.step(coupling, "coupled")  # held on an earlier pass: through now
        if done.status is not None:
            outcome.status = done.status
            outcome.target_id = done.target_id or outcome.target_id
            outcome.messages += done.messages or []
        return outcome

    def finish(
        self,
        record: Record,
        coupling: Coupling,
        identity: str,
        status: str,
        roles: Collection[str] | None = None,
    ) -> Outcome:
        """The write-backs after creation (``roles``: only onto these), then coupled."""
        scope = Scope(self.settings, source=record.values)
        problems = writeback.write_back(
            self.ctx,
            self.doc,
            self.mapping_id,
            coupling,
            scope,
            self.job_id,
            read={self.source: record.values},
            roles=roles,
        )
        if problems:
            return self.hold(record, coupling, identity, problems)
        self.step(coupling, "coupled")
        return Outcome(record.id, identity, status, record_id(coupling, self.target))


def run_documents(
    ctx: SyncContext,
    name: str,
    identities: Sequence[str] = (),
    *,
    automatic: bool | None = None,
    held: bool = False,
    only: Sequence[str] = (),
) -> DocumentRun:
    """One run of document mapping ``name``: resume stopped transfers, then take the
    documents named by ``identities`` (on demand), or every triggered one when the trigger
    is automatic (``automatic`` overrides the mapping's setting). ``held``: retry held
    documents too. ``only``: take just these source documents, by id (already transferred:
    :mod:`~accord.documents.makers`)."""
    doc = document_spec(ctx, name)
    if not doc.enabled:
        raise ConfigError(f"document mapping {name} is disabled")
    if doc.mode != "transfer":
        raise ConfigError(
            f"document mapping {name}: this engine runs mode transfer (sync is not built yet)"
        )
    deep_insert.check(ctx, doc)
    run = _Run(ctx, doc)
    run.held = held
    take_all = is_automatic(doc, run.settings) if automatic is None else automatic
    streamed = take_all and not identities  # read a page at a time, taken chunk by chunk
    if only:
        take_all = streamed = False
        identities = ()
    records, skipped = run.candidates(identities, take_all and not streamed, held)
    if only:
        records = run.by_ids(only)
    elif identities:  # a won quote makes its submitted order before intake would
        for maker, ids in makers_first(ctx, doc, records):
            run_documents(ctx, maker, only=ids)
    pages = chunks.parts(run.triggered()) if streamed else iter(())
    first = next(pages, [])
    if not records and not skipped and not first:
        return DocumentRun(name, None)  # nothing to do: no job logged
    with ctx.db.session() as session:
        run.job_id = start_job(session, run.mapping_id, doc.direction, "documents").id
    result = DocumentRun(name, run.job_id, skipped)
    try:
        asked = set(identities)
        chunks.take(run, result, records, asked)
        seen = {r.id for r in records}
        for part in itertools.chain([first], pages):
            chunks.take(run, result, [r for r in part if r.id not in seen], asked)
        run.window.close(result.outcomes)
    finally:
        with ctx.db.session() as session:
            add_counts(session, run.job_id, result.job_counts())
            finish_job(session, run.job_id)
    return result
