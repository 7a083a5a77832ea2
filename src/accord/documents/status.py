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
from dataclasses import dataclass, field
from typing import Any

from accord.config.documents import DocumentMappingSpec, RelatedSpec, TimelineSpec, WriteBackSpec
from accord.config.filters import matches
from accord.connectors.base import Record, WriteOp
from accord.documents import writeback
from accord.documents.outcomes import DocumentRun, MappingWork, Outcome, document_spec
from accord.documents.values import Scope
from accord.errors import AccordError, ConfigError
from accord.mapping.values import same
from accord.state import documents as state
from accord.state.couplings import record_id
from accord.state.jobs import add_counts, add_error, finish_job, start_job
from accord.state.leases import LeaseBusy, hold
from accord.state.models import Coupling
from accord.sync.context import SyncContext

RelatedKey = tuple[str, str, tuple[tuple[str, str], ...]]


def follows_status(doc: DocumentMappingSpec) -> bool:
    """Whether the mapping has anything to do after a transfer."""
    return bool(
        doc.events.timeline or doc.events.record or any(b.after == "pass" for b in doc.write_back)
    )


def _key(role: str, related: RelatedSpec) -> RelatedKey:
    return role, related.entity, tuple(sorted(related.link.items()))


@dataclass
class _Doc:
    """One followed document as this pass sees it."""

    coupling: Coupling
    headers: dict[str, Mapping[str, Any] | None] = field(default_factory=dict)
    """Role -> its header as read now (None: gone)."""
    known: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    """Role -> its header, or its last recorded values when gone."""
    related: dict[RelatedKey, list[Record]] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)

    @property
    def identity(self) -> str:
        return next((link.natural_key or "" for link in self.coupling.links.values()), "")


class _Pass(MappingWork):
    """One status pass over a mapping's transferred documents."""

    # ------------------------------------------------------------------ reading
    def wanted_related(self) -> dict[RelatedKey, RelatedSpec]:
        doc = self.doc
        found: dict[RelatedKey, RelatedSpec] = {}
        pairs = [(r, s) for e in doc.events.timeline for r, s in e.each.items()]
        pairs += [(r, s) for b in doc.write_back if b.after == "pass" for r, s in b.related.items()]
        pairs += [(r, s) for r, specs in doc.ended_by.items() for s in specs]
        for role, spec in pairs:
            found.setdefault(_key(role, spec), spec)
        return found

    def read(self, couplings: Sequence[Coupling]) -> list[_Doc]:
        docs = [_Doc(c) for c in couplings]
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
                    and same(r.values.get(first), wanted)
                    and all(same(r.values.get(f), header.get(m)) for f, m in rest)
                ]
        return docs

    def remember(self, d: _Doc) -> None:
        """Record each role's ``events.record`` fields when they changed; a header that is
        gone is known by its last recorded values."""
        for role in (self.source, self.target):
            header = d.headers.get(role)
            names = self.doc.events.record.get(role, [])
            with self.ctx.db.session() as session:
                last = state.last_event(session, d.coupling.id, f"status:{role}")
                before = dict(last.detail.get("values") or {}) if last else {}
                if header is None:
                    d.known[role] = before
                    continue
                d.known[role] = header
                now = {n: _plain(header.get(n)) for n in names}
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
    def ended(self, d: _Doc, role: str) -> bool:
        if d.headers.get(role) is not None or record_id(d.coupling, role) is None:
            return False
        return any(d.related.get(_key(role, s)) for s in self.doc.ended_by.get(role, []))

    def one(self, d: _Doc) -> Outcome:
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

    def flow_back(self, d: _Doc) -> None:
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

    def occurrences(self, d: _Doc, event: TimelineSpec) -> list[tuple[Mapping[str, Any], str]]:
        """(related record values, key) of each time ``event`` holds for the document."""
        if event.each:
            [(role, spec)] = event.each.items()
            condition = event.when.get(role)
            return [
                (r.values, r.id)
                for r in d.related.get(_key(role, spec), [])
                if condition is None or matches(condition, r.values)
            ]
        for role, condition in event.when.items():
            header = d.headers.get(role)
            if header is None or not matches(condition, header):
                return []
        return [({}, "document")]

    def scope(self, d: _Doc, related: Mapping[str, Any]) -> Scope:
        return Scope(
            self.settings,
            source=d.known.get(self.source, {}),
            target=d.known.get(self.target, {}),
            related=related,
        )

    # ------------------------------------------------------------------ effects
    def fire(self, d: _Doc, event: TimelineSpec, related: Mapping[str, Any], key: str) -> None:
        """Post ``event`` once: intent, post (or find it again), record."""
        cid = d.coupling.id
        done_key = f"{cid}:{event.name}:{key}"
        with self.ctx.db.session() as session:
            if state.has_event(session, self.mapping_id, done_key):
                return
        scope = self.scope(d, related)
        posted: dict[str, str | None] = {}
        for role, text in event.per_role.items():
            rid = record_id(d.coupling, role)
            if rid is None:
                continue
            body = str(scope.render(text))
            again = not self.once(
                d, f"intent:{done_key}:{role}", f"posting:{event.name}", role=role, text=body
            )
            posted[role] = self.post(role, rid, body, again)
        self.once(d, done_key, f"posted:{event.name}", related=key, posts=posted)
        d.done.append(f"{event.name}: posted" + (f" ({key})" if key != "document" else ""))

    def post(self, role: str, rid: str, text: str, again: bool) -> str | None:
        """Post ``text`` on ``rid``'s timeline; when ``again`` (an intent without its record:
        a crash), the post written then is found by its document and text instead."""
        spec = self.doc.events.post.get(role)
        if spec is None:
            raise ConfigError(
                f"{self.doc.name}: events.post names no post entity for {role} "
                "({entity, regarding, text})"
            )
        connector = self.ctx.connector(role)
        if again:
            found = connector.find(spec.entity, {spec.regarding: rid, spec.text: text}, limit=1)
            if found:
                return found[0].id
        values = {**spec.values, spec.regarding: rid, spec.text: text}
        [result] = connector.write(spec.entity, [WriteOp("create", "post", values)])
        if not result.ok:
            raise AccordError(f"{role} refused the post {text!r}: {result.error}")
        return result.id

    def write_back(self, d: _Doc, number: int, back: WriteBackSpec) -> bool:
        """Run one pass write-back once, when it is due; True when it ran (now or before)."""
        done_key = f"{d.coupling.id}:write_back:{number}"
        with self.ctx.db.session() as session:
            if state.has_event(session, self.mapping_id, done_key):
                return True
        if back.ended is not None and not self.ended(d, back.ended):
            return False
        related: Mapping[str, Any] = {}
        for role, spec in back.related.items():
            found = d.related.get(_key(role, spec), [])
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

    def once(self, d: _Doc, key: str, name: str, **detail: Any) -> bool:
        role, source = detail.pop("role", None), detail.pop("source", "accord")
        with self.ctx.db.session() as session:
            return state.add_event(
                session,
                self.mapping_id,
                d.coupling.id,
                name,
                role=role,
                source=source,
                detail=detail,
                once_key=key[:200],
                job_id=self.job_id,
            )


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


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
        run.job_id = start_job(session, run.mapping_id, f"to_{run.source}", "documents").id
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
