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
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from accord.config.documents import DocumentMappingSpec
from accord.config.filters import Filter, all_of, matches
from accord.connectors.base import ChangeQuery, Record, WriteOp
from accord.documents import (
    actions,
    chunks,
    deep_insert,
    dependencies,
    lines,
    revisions,
    writeback,
)
from accord.documents.outcomes import (
    DocumentRun,
    MappingWork,
    Outcome,
    document_spec,
    is_automatic,
)
from accord.documents.values import (
    Lookups,
    Problem,
    Scope,
    field_values,
    plan_lines,
)
from accord.errors import AccordError, ConfigError
from accord.mapping.fields import is_blank
from accord.state import documents as state
from accord.state.couplings import link_of, owners, record_id
from accord.state.jobs import add_counts, add_error, finish_job, start_job
from accord.state.models import Coupling
from accord.sync.context import SyncContext


class Refused(AccordError):
    """The target refused the document's header for what it holds (not a passing error)."""


class _Run(MappingWork):
    def __init__(self, ctx: SyncContext, doc: DocumentMappingSpec) -> None:
        super().__init__(ctx, doc)
        self.identity_source = doc.identity[self.source]
        self.identity_target = doc.identity[self.target]
        self.held = False
        self.marks = any(b.after == "create" for b in doc.write_back)
        """A triggered coupled document lost its mark (submitted again): mark it again."""

    # ------------------------------------------------------------------ choosing
    def trigger(self) -> Filter | None:
        parts = [f for f in (self.doc.trigger.when, self.doc.filters.get(self.source)) if f]
        return all_of(*parts) if len(parts) > 1 else (parts[0] if parts else None)

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

    def preference(self, record: Record) -> tuple[bool, int]:
        """Of source documents sharing an identity (a quote's revisions), the one taken on
        demand: a triggered one, then the newest revision."""
        condition = self.trigger()
        triggered = condition is None or matches(condition, record.values)
        return triggered, revisions.revision_of(self.doc, record.values) if self.doc.revision else 0

    def triggered(self) -> Iterator[Record]:
        """Every source document meeting the trigger, a page at a time."""
        query = ChangeQuery(filter=self.trigger(), page_size=chunks.TRIGGER_PAGE)
        for page in self.ctx.connector(self.source).read_changes(
            self.doc.entity(self.source), query
        ):
            yield from page.records

    # ------------------------------------------------------------------ one document
    def one(self, record: Record, asked: bool) -> Outcome:
        identity = str(record.values.get(self.identity_source) or "")
        with self.ctx.db.session() as session:
            coupling = state.documents(session, self.mapping_id, self.source, [record.id]).get(
                record.id
            )
        condition = self.trigger()
        triggered = condition is None or matches(condition, record.values)
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
        if coupling is not None and coupling.skipped and not self.held:
            return Outcome(
                record.id,
                identity,
                "held" if asked else "still_held",  # reported when it was held
                messages=[
                    f"held: {coupling.links[self.source].last_error}; fix it, then 'accord retry'"
                ],
            )
        if coupling is not None and coupling.state == "coupled":
            if triggered and self.marks:  # its mark is gone (submitted again): mark it again
                self.step(coupling, "writing_back")
                return self.finish(record, coupling, identity, "already")
            outcome = Outcome(record.id, identity, "already", record_id(coupling, self.target))
            return self.passed(record, coupling, outcome)
        resumed = coupling is not None
        if coupling is not None and coupling.state == "writing_back":
            return self.finish(record, coupling, identity, "completed")
        if coupling is None or coupling.state == "creating":
            before = revisions.earlier(self.ctx, self.doc, self.mapping_id, record, identity)
            if before is not None and before.converted is not None:
                problem = revisions.converted_problem(self.doc, record, before)
                return self.hold(record, coupling, identity, [problem])
            if before is not None:
                coupling = revisions.take_over(
                    self.ctx,
                    self.doc,
                    self.mapping_id,
                    coupling,
                    record,
                    identity,
                    before,
                    self.job_id,
                )
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

    def finish(self, record: Record, coupling: Coupling, identity: str, status: str) -> Outcome:
        scope = Scope(self.settings, source=record.values)
        problems = writeback.write_back(
            self.ctx,
            self.doc,
            self.mapping_id,
            coupling,
            scope,
            self.job_id,
            read={self.source: record.values},
        )
        if problems:
            return self.hold(record, coupling, identity, problems)
        self.step(coupling, "coupled")
        return Outcome(record.id, identity, status, record_id(coupling, self.target))

    def prepare(
        self,
        record: Record,
        coupling: Coupling | None,
        source_lines: Sequence[Mapping[str, Any]] | None = None,
        found: Lookups | None = None,
    ) -> tuple[list[Problem], dict[str, Any], list[Any]]:
        """Everything the target needs, read and looked up before anything is written
        (``source_lines`` and ``found``: already read and looked up for a chunk)."""
        doc = self.doc
        if source_lines is None:
            source_lines = (
                [r.values for r in lines.read_lines(self.ctx, doc, self.source, record.id)]
                if doc.lines
                else []
            )
        if found is None:
            found = dependencies.resolve_for(self.ctx, doc, [record.values], source_lines)
        scope = Scope(self.settings, source=record.values)
        header, problems = field_values(doc, doc.header, record.values, found, scope)
        header[self.identity_target] = record.values.get(self.identity_source)
        problems += self.identity_problems(record)
        planned: list[Any] = []
        if doc.lines:
            positions = (
                lines.recorded_positions(self.ctx, coupling.id)
                if coupling is not None and coupling.state != "rebuilding"
                else {}
            )
            info = self.ctx.connector(self.target).entity(str(doc.lines.per_role[self.target]))
            planned, more = plan_lines(
                doc,
                source_lines,
                found,
                scope,
                lambda name: info.fields[name].max_length if name in info.fields else None,
                positions,
            )
            problems += more
        return problems, header, planned

    def identity_problems(self, record: Record) -> list[Problem]:
        """An identity that cannot find the target's document again: blank, or longer than
        the target field keeps (where the target describes its length)."""
        value = record.values.get(self.identity_source)
        where = f"{self.target}.{self.identity_target}"
        problem = None if not is_blank(value) else f"is blank; {where} needs it"
        info = self.ctx.connector(self.target).entity(self.doc.entity(self.target))
        limit = getattr(info.fields.get(self.identity_target), "max_length", None)
        if problem is None and limit is not None and len(str(value)) > limit:
            problem = f"{len(str(value))} characters; {where} keeps {limit}: shorten it"
        return [Problem(None, self.identity_source, problem)] if problem else []

    def header(
        self, coupling: Coupling, identity: str, values: dict[str, Any], planned: list[Any]
    ) -> tuple[str, bool]:
        """The target's header id: found again by its identity field (False), else created
        (True)."""
        connector = self.ctx.connector(self.target)
        entity = self.doc.entity(self.target)
        found = connector.find(entity, {self.identity_target: identity}, limit=2)
        if len(found) > 1:
            raise Refused(
                f"{len(found)} {entity} have {self.identity_target} {identity!r}; "
                "keep one and run again"
            )
        if found:
            with self.ctx.db.session() as session:
                owner = owners(session, self.mapping_id, self.target, [found[0].id])
            if owner.get(found[0].id, coupling.id) != coupling.id:
                raise Refused(
                    f"{entity} {found[0].id} with {self.identity_target} {identity!r} belongs "
                    f"to another {self.doc.entity(self.source)} of the same "
                    f"{self.identity_source}; give this one its own {self.identity_source}"
                )
            self.event(coupling, "found_again", self.target, detail={"id": found[0].id})
            return found[0].id, False
        if deep_insert.applies(self.doc):
            return deep_insert.create_one(self, coupling, values, planned), True
        given = {k: v for k, v in values.items() if v is not None}  # blank: the default
        [result] = connector.write(entity, [WriteOp("create", "header", given)])
        if not result.ok or result.id is None:
            error = AccordError if result.retryable else Refused
            raise error(f"{self.target} refused the {entity}: {result.error}")
        self.event(coupling, "created", self.target, detail={"id": result.id})
        return result.id, True

    # ------------------------------------------------------------------ state
    def step(
        self,
        coupling: Coupling,
        to: str,
        target_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        with self.ctx.db.session() as session:
            row = session.get(Coupling, coupling.id)
            assert row is not None
            row.state, row.skipped = to, False
            if target_id is not None:
                link_of(row, self.target).record_id = target_id
            for link in row.links.values():
                link.last_result, link.last_error, link.last_job = "success", None, self.job_id
            state.add_event(
                session, self.mapping_id, coupling.id, to, detail=detail, job_id=self.job_id
            )
        coupling.state = to

    def event(self, coupling: Coupling, name: str, role: str, **more: Any) -> None:
        with self.ctx.db.session() as session:
            state.add_event(
                session, self.mapping_id, coupling.id, name, role=role, job_id=self.job_id, **more
            )

    def discard(self, coupling: Coupling) -> str:
        """Delete the target's copy of a document whose lines could not all be written, so
        that nothing half-written stays; the next run makes it again."""
        target_id = record_id(coupling, self.target)
        entity = self.doc.entity(self.target)
        assert target_id is not None
        [result] = self.ctx.connector(self.target).write(
            entity, [WriteOp("delete", "discard", id=target_id)]
        )
        if not result.ok and not result.not_found:
            return f"its incomplete {entity} {target_id} could not be deleted: {result.error}"
        with self.ctx.db.session() as session:
            row = session.get(Coupling, coupling.id)
            assert row is not None
            row.state = "creating"
            link_of(row, self.target).record_id = None
            state.forget_lines(session, coupling.id)
            state.add_event(
                session,
                self.mapping_id,
                coupling.id,
                "discarded",
                role=self.target,
                detail={"id": target_id},
                job_id=self.job_id,
            )
        coupling.state = "creating"
        coupling.links[self.target].record_id = None
        return f"its incomplete {entity} {target_id} was deleted; it is made again after the fix"

    def hold(
        self,
        record: Record,
        coupling: Coupling | None,
        identity: str,
        problems: list[Problem],
    ) -> Outcome:
        name = f"{self.doc.entity(self.source)} {identity}"
        texts = [p.text(name) for p in problems]
        if coupling is not None and coupling.state == "lines":
            texts.append(f"document {name}: {self.discard(coupling)}")
        with self.ctx.db.session() as session:
            if coupling is None:
                coupling = state.intend(
                    session, self.mapping_id, (self.source, self.target), record.id, identity
                )
            row = session.get(Coupling, coupling.id)
            assert row is not None
            row.skipped = self.doc.missing_dependency != "wait"
            link = link_of(row, self.source)
            link.last_result, link.last_error, link.last_job = (
                "failure",
                "\n".join(texts)[:4000],
                self.job_id,
            )
            for text in texts:
                if self.job_id is not None:
                    add_error(
                        session,
                        self.job_id,
                        self.mapping_id,
                        text,
                        source_id=record.id,
                        destination_id=record_id(row, self.target),
                    )
            state.add_event(
                session,
                self.mapping_id,
                row.id,
                "held",
                role=self.source,
                reason="\n".join(texts)[:4000],
                job_id=self.job_id,
            )
        return Outcome(record.id, identity, "held", record_id(coupling, self.target), texts)


def run_documents(
    ctx: SyncContext,
    name: str,
    identities: Sequence[str] = (),
    *,
    automatic: bool | None = None,
    held: bool = False,
) -> DocumentRun:
    """One run of document mapping ``name``: resume stopped transfers, then take the
    documents named by ``identities`` (on demand), or every triggered one when the trigger
    is automatic (``automatic`` overrides the mapping's setting). ``held``: retry held
    documents too."""
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
    records, skipped = run.candidates(identities, take_all and not streamed, held)
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
    finally:
        with ctx.db.session() as session:
            add_counts(session, run.job_id, result.job_counts())
            finish_job(session, run.job_id)
    return result
