"""The status pass of a document mapping: what happens to transferred documents after
their transfer (an order released, shipped, invoiced in the target), told back to the source.

For every coupled document not finished yet, a pass reads both headers (one request per
role) and the related records the template names (one request per related entity), then:

- writes header fields mapped towards the source (``direction: to_<source>``) that differ,
  while the target's header exists, unlocking the source document as its write-back says;
- records the ``events.record`` fields of each role when they changed (``status:<role>``);
  a header that is gone keeps its last recorded values, so the related records it names
  (posted shipments by order number) are still found;
- the document *ended* in a role when its header is gone there and one of ``ended_by``'s
  records exists (an order deleted by posting its last invoice): its own life, not a delete;
- fires each timeline event once per document, or once per related record (``each``):
  the intent is recorded first, then the post is written, then its record; a run finding
  an intent without its record looks for the post by its document and text before posting,
  so a crash in between never posts twice;
- runs each ``write_back`` with ``after: pass`` once, when its ``when`` holds (on the
  header or on a related record) and, with ``ended``, once the document ended there.

A document that ended in its target and whose pass write-backs all ran is finished: later
passes leave it. Nothing here names a system: the flow is the template's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from accord.config.documents import DocumentMappingSpec, RelatedSpec, TimelineSpec, WriteBackSpec
from accord.config.filters import matches
from accord.documents import writeback
from accord.documents.effects import (
    Effects,
    Followed,
    RelatedKey,
    pass_direction,
    related_key,
)
from accord.documents.outcomes import DocumentRun, Outcome, document_spec, plain
from accord.errors import AccordError
from accord.mapping.values import same
from accord.state import documents as state
from accord.state.couplings import record_id
from accord.state.jobs import add_counts, add_error, finish_job, start_job
from accord.state.leases import LeaseBusy, hold
from accord.state.models import Coupling
from accord.sync.context import SyncContext


def follows_status(doc: DocumentMappingSpec) -> bool:
    """Whether the mapping has anything to do after a transfer."""
    return bool(
        doc.events.timeline or doc.events.record or any(b.after == "pass" for b in doc.write_back)
    )


class _Pass(Effects):
    """One status pass over a mapping's transferred documents."""

    # ------------------------------------------------------------------ reading
    def wanted_related(self) -> dict[RelatedKey, RelatedSpec]:
        doc = self.doc
        found: dict[RelatedKey, RelatedSpec] = {}
        pairs = [(r, s) for e in doc.events.timeline for r, s in e.each.items()]
        pairs += [(r, s) for b in doc.write_back if b.after == "pass" for r, s in b.related.items()]
        pairs += [(r, s) for r, specs in doc.ended_by.items() for s in specs]
        for role, spec in pairs:
            found.setdefault(related_key(role, spec), spec)
        return found

    def read(self, couplings: Sequence[Coupling]) -> list[Followed]:
        docs = [Followed(c) for c in couplings]
        for role in (self.source, self.target):
            ids = [rid for d in docs if (rid := record_id(d.coupling, role))]
            read = {
                r.id: r.values for r in self.ctx.connector(role).get(self.doc.entity(role), ids)
            }
            for d in docs:
                rid = record_id(d.coupling, role)
                d.headers[role] = read.get(rid) if rid else None
        for d in docs:
            self.remember(d)
        for key, spec in self.wanted_related().items():
            role = key[0]
            (first, mine), *rest = sorted(spec.link.items())
            values = {
                d.coupling.id: d.known.get(role, {}).get(mine)
                for d in docs
                if d.known.get(role, {}).get(mine) not in (None, "")
            }
            connector = self.ctx.connector(role)
            records = (
                connector.find_any(spec.entity, first, list(dict.fromkeys(values.values())))
                if values
                else []
            )
            for d in docs:
                wanted = values.get(d.coupling.id)
                header = d.known.get(role, {})
                d.related[key] = [
                    r
                    for r in records
                    if wanted is not None
                    and (spec.when is None or matches(spec.when, r.values))
                    and same(r.values.get(first), wanted)
                    and all(same(r.values.get(f), header.get(m)) for f, m in rest)
                ]
        return docs

    def remember(self, d: Followed) -> None:
        """Record each role's ``events.record`` fields when they changed; a header that is
        gone is known by its last recorded values."""
        for role in (self.source, self.target):
            header = d.headers.get(role)
            names = self.doc.events.record.get(role, [])
            with self.ctx.db.session() as session:
                last = state.last_event(session, d.coupling.id, f"status:{role}")
                if last is None:  # not followed yet: the values it was made with
                    last = state.last_event(session, d.coupling.id, "created", role=role)
                before = dict(last.detail.get("values") or {}) if last else {}
                if header is None:
                    d.known[role] = before
                    continue
                d.known[role] = header
                now = {n: plain(header.get(n)) for n in names}
                if names and now != {n: before.get(n) for n in names}:
                    state.add_event(
                        session,
                        self.mapping_id,
                        d.coupling.id,
                        f"status:{role}",
                        role=role,
                        source=role,
                        detail={"values": now, "before": before},
                        job_id=self.job_id,
                    )

    # ------------------------------------------------------------------ one document
    def ended(self, d: Followed, role: str) -> bool:
        if d.headers.get(role) is not None or record_id(d.coupling, role) is None:
            return False
        return any(d.related.get(related_key(role, s)) for s in self.doc.ended_by.get(role, []))

    def one(self, d: Followed) -> Outcome:
        cid = d.coupling.id
        self.flow_back(d)
        for role in self.doc.ended_by:
            if self.ended(d, role):
                self.once(d, f"{cid}:ended:{role}", f"ended:{role}", role=role, source=role)
        for event in self.doc.events.timeline:
            for related, key in self.occurrences(d, event):
                self.fire(d, event, related, key)
        pending = False
        for number, back in enumerate(self.doc.write_back):
            if back.after == "pass":
                pending = not self.write_back(d, number, back) or pending
        status = "updated" if d.done else "unchanged"
        if self.ended(d, self.target) and not pending:
            self.once(d, f"{cid}:{state.FOLLOWED_UNTIL}", state.FOLLOWED_UNTIL)
            status = "finished"
        gone = [r for r in (self.source, self.target) if d.headers.get(r) is None]
        notes = [f"{self.doc.entity(r)} is gone from {r}" for r in gone if not self.ended(d, r)]
        return Outcome(
            record_id(d.coupling, self.source) or "",
            d.identity,
            status,
            record_id(d.coupling, self.target),
            d.done + notes,
        )

    def flow_back(self, d: Followed) -> None:
        """Header fields mapped towards the source take the target's values while the
        target's header exists (plain values; unlocked as the source's write-back says)."""
        source, target = self.source, self.target
        there, here = d.headers.get(target), d.headers.get(source)
        if there is None or here is None:
            return
        values: dict[str, Any] = {}
        for spec in self.doc.header:
            mine, theirs = spec.name_for(source), spec.name_for(target)
            if (spec.direction or self.doc.direction) != f"to_{source}" or spec.lookup:
                continue
            if mine and theirs and not same(there.get(theirs), here.get(mine)):
                values[mine] = there.get(theirs)
        if not values:
            return
        back = next(
            (b for b in self.doc.write_back if source in b.unlock),
            WriteBackSpec.model_validate({source: values}),
        )
        problem = writeback.write_one(
            self.ctx, self.doc, self.mapping_id, d.coupling, back, source, values,
            self.job_id, here,
        )  # fmt: skip
        if problem is not None:
            raise AccordError(problem.text(f"{self.doc.entity(source)} {d.identity}"))
        d.headers[source] = d.known[source] = {**here, **values}
        d.done.append("fields: " + ", ".join(sorted(values)))

    def occurrences(self, d: Followed, event: TimelineSpec) -> list[tuple[Mapping[str, Any], str]]:
        """(related record values, key) of each time ``event`` holds for the document."""
        if event.each:
            [(role, spec)] = event.each.items()
            condition = event.when.get(role)
            return [
                (r.values, r.id)
                for r in d.related.get(related_key(role, spec), [])
                if condition is None or matches(condition, r.values)
            ]
        for role, condition in event.when.items():
            header = d.headers.get(role)
            if header is None or not matches(condition, header):
                return []
        return [({}, "document")]

    def write_back(self, d: Followed, number: int, back: WriteBackSpec) -> bool:
        """Run one pass write-back once, when it is due; True when it ran (now or before)."""
        done_key = f"{d.coupling.id}:write_back:{number}"
        with self.ctx.db.session() as session:
            if state.once_done(session, self.mapping_id, done_key):
                return True
        if back.ended is not None and not self.ended(d, back.ended):
            return False
        related: Mapping[str, Any] = {}
        for role, spec in back.related.items():
            found = d.related.get(related_key(role, spec), [])
            condition = back.when.get(role)
            found = [r for r in found if condition is None or matches(condition, r.values)]
            if not found:
                return False
            related = found[-1].values
        for role, condition in back.when.items():
            header = d.headers.get(role)
            if role not in back.related and (header is None or not matches(condition, header)):
                return False
        scope = self.scope(d, related)
        for role, values in back.per_role.items():
            rendered = scope.render(values)
            header = d.headers.get(role)
            if header is None:
                return False
            if all(same(v, header.get(k)) for k, v in rendered.items()):
                continue  # written before a crash, or already so
            problem = writeback.write_one(
                self.ctx, self.doc, self.mapping_id, d.coupling, back, role, rendered,
                self.job_id, header,
            )  # fmt: skip
            if problem is not None:
                raise AccordError(problem.text(f"{self.doc.entity(role)} {d.identity}"))
            d.headers[role] = {**header, **rendered}
        self.once(d, done_key, f"write_back:{number}")
        d.done.append(f"write-back {number + 1}: " + ", ".join(back.per_role))
        return True


def run_status(ctx: SyncContext, name: str, identities: Sequence[str] = ()) -> DocumentRun:
    """One status pass of document mapping ``name`` over its transferred documents (or
    those named by ``identities``)."""
    doc = document_spec(ctx, name)
    if not doc.enabled or not follows_status(doc):
        return DocumentRun(name, None, kind="status")
    run = _Pass(ctx, doc)
    with ctx.db.session() as session:
        couplings = state.followed(session, run.mapping_id, list(identities))
        named = {link.natural_key for c in couplings for link in c.links.values()}
        named |= {link.record_id for c in couplings for link in c.links.values()}
        ended = state.finished(session, run.mapping_id, [i for i in identities if i not in named])
    missing = [
        Outcome(
            record_id(ended[i], run.source) or "",
            i,
            "finished",
            messages=["finished before: it ended and every write-back ran; no longer followed"],
        )
        if i in ended
        else Outcome("", i, "not_found", messages=[f"no transferred {doc.name} document {i!r}"])
        for i in identities
        if i not in named
    ]
    if not couplings:
        return DocumentRun(name, None, missing, kind="status")
    with ctx.db.session() as session:
        run.job_id = start_job(session, run.mapping_id, pass_direction(doc), "documents").id
    result = DocumentRun(name, run.job_id, missing, kind="status")
    try:
        for d in run.read(couplings):
            try:
                # the transfer's lease: a pass never follows a document being transferred
                source_id = record_id(d.coupling, run.source)
                with hold(ctx.db, f"document:{run.mapping_id}:{source_id}", ctx.owner):
                    result.outcomes.append(run.one(d))
            except LeaseBusy:
                busy = "another worker is following it now"
                result.outcomes.append(Outcome("", d.identity, "busy", messages=[busy]))
            except AccordError as exc:
                message = f"document {d.identity}: {exc}"
                with ctx.db.session() as session:
                    add_error(session, run.job_id, run.mapping_id, message)
                result.outcomes.append(Outcome("", d.identity, "failed", messages=[message]))
    finally:
        with ctx.db.session() as session:
            add_counts(session, run.job_id, result.job_counts())
            finish_job(session, run.job_id)
    return result
