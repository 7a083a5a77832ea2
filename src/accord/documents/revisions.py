"""Documents that come in revisions (ADR 0016 ``revision``): a quote revised in Sales is a
new source record (``ReviseQuote`` closes the old one and makes revision + 1 with the same
quote number and name). Its earlier revision's target document is taken over, not made
again: in one step the earlier coupling lets go of the target document and the new one holds
it, in state ``rebuilding``; then the ``before_rebuild`` actions run (the target's version is
archived, once per earlier revision), the target's lines are deleted and its header is
written from the new revision, and the lines are written as for a new document. Each step
is recorded, so a crash resumes where it stopped. A revision of a document whose target
ended by its own life (a quote made into an order) is held with an error."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from accord.config.documents import DocumentMappingSpec
from accord.config.filters import where
from accord.connectors.base import Record, WriteOp
from accord.documents import actions, lines
from accord.documents.values import Problem, Scope, roles
from accord.mapping.fields import is_blank
from accord.state import documents as state
from accord.state.couplings import link_of, record_id
from accord.state.models import Coupling, CouplingLink

if TYPE_CHECKING:
    from accord.sync.context import SyncContext


@dataclass
class Earlier:
    """The earlier revision whose target document a new revision takes over."""

    coupling_id: int
    source_id: str
    target_id: str
    values: dict[str, Any]
    converted: dict[str, Any] | None
    """The details of the action that ended the target document (made it an order)."""


def revision_of(doc: DocumentMappingSpec, values: Mapping[str, Any]) -> int:
    assert doc.revision is not None
    field = doc.revision.name_for(roles(doc)[0])
    value = values.get(field or "")
    return 0 if value is None or is_blank(value) else int(value)


def earlier(
    ctx: SyncContext, doc: DocumentMappingSpec, mapping_id: int, record: Record, identity: str
) -> Earlier | None:
    """The newest earlier revision of ``record`` whose target document exists (same
    identity, same ``revision.document`` value, a lower revision number), if any."""
    if doc.revision is None or revision_of(doc, record.values) == 0 or not identity:
        return None
    source, target = roles(doc)
    with ctx.db.session() as session:
        rows = session.scalars(
            select(Coupling)
            .join(CouplingLink, CouplingLink.coupling_id == Coupling.id)
            .where(
                CouplingLink.mapping_id == mapping_id,
                CouplingLink.role == source,
                CouplingLink.natural_key == identity[:200],
                CouplingLink.record_id != record.id,
            )
        ).all()
        held = {c.id: (record_id(c, source), record_id(c, target)) for c in rows}
    held = {k: v for k, v in held.items() if v[0] and v[1]}
    if not held:
        return None
    found = {
        r.id: r
        for r in ctx.connector(source).get(doc.entity(source), [s for s, _ in held.values() if s])
    }
    same = doc.revision.document.get(source)
    mine = revision_of(doc, record.values)
    best: Earlier | None = None
    for coupling_id, (source_id, target_id) in held.items():
        old = found.get(source_id or "")
        if old is None or (same and old.values.get(same) != record.values.get(same)):
            continue
        number = revision_of(doc, old.values)
        if number >= mine or (best is not None and number <= revision_of(doc, best.values)):
            continue
        assert source_id is not None and target_id is not None
        best = Earlier(coupling_id, source_id, target_id, dict(old.values), None)
    if best is not None:
        with ctx.db.session() as session:
            for action in doc.actions:
                if action.couples_to is None:
                    continue
                event = state.last_event(session, best.coupling_id, action.name)
                if event is not None:
                    best.converted = {"action": action.name, **dict(event.detail)}
    return best


def converted_problem(doc: DocumentMappingSpec, record: Record, before: Earlier) -> Problem:
    assert before.converted is not None
    what = doc.entity(roles(doc)[0])
    made = before.converted
    text = (
        f"revision {revision_of(doc, record.values)} cannot be taken: revision "
        f"{revision_of(doc, before.values)} was already made into {made.get('mapping')} "
        f"document {made.get('id')} in {doc.target} (by {made['action']}); a {what} made "
        f"into an order is not revised there: change that order, or make a new {what} with "
        "its own name for the change"
    )
    assert doc.revision is not None
    return Problem(None, doc.revision.name_for(roles(doc)[0]) or "revision", text)


def take_over(
    ctx: SyncContext,
    doc: DocumentMappingSpec,
    mapping_id: int,
    coupling: Coupling | None,
    record: Record,
    identity: str,
    before: Earlier,
    job_id: str | None,
) -> Coupling:
    """Move ``before``'s target document to this revision's coupling (made when absent),
    state ``rebuilding``, in one step."""
    source, target = roles(doc)
    assert doc.revision is not None
    kept = {
        k: before.values.get(k)
        for k in [*doc.revision.per_role.values(), *doc.revision.document.values()]
    }
    with ctx.db.session() as session:
        old = session.get(Coupling, before.coupling_id)
        assert old is not None
        link_of(old, target).record_id = None
        state.add_event(
            session,
            mapping_id,
            old.id,
            "revised",
            role=source,
            reason=f"revision {revision_of(doc, record.values)} took over its {doc.entity(target)}",
            detail={"to": record.id, "target": before.target_id},
            job_id=job_id,
        )
        session.flush()
        row = (
            session.get(Coupling, coupling.id)
            if coupling is not None
            else state.intend(session, mapping_id, (source, target), record.id, identity)
        )
        assert row is not None
        row.state, row.skipped = "rebuilding", False
        link_of(row, target).record_id = before.target_id
        state.add_event(
            session,
            mapping_id,
            row.id,
            "revision",
            role=source,
            reason=f"revision {revision_of(doc, record.values)} of {identity}",
            detail={"from": before.source_id, "target": before.target_id, "earlier": kept},
            job_id=job_id,
        )
        session.flush()
        session.refresh(row)
        return row


def _versions(
    ctx: SyncContext, doc: DocumentMappingSpec, target_id: str
) -> Callable[[], int] | None:
    """How many archived versions the target keeps of its document (``revision.archives``)."""
    assert doc.revision is not None
    if not doc.revision.archives:
        return None
    [(role, archives)] = doc.revision.archives.items()
    [(their, mine)] = archives.link.items()
    if mine != "id":
        return None
    connector = ctx.connector(role)
    return lambda: connector.count(archives.entity, where(their, "eq", target_id))


def rebuild(
    ctx: SyncContext,
    doc: DocumentMappingSpec,
    mapping_id: int,
    coupling: Coupling,
    settings: Mapping[str, Any],
    header: Mapping[str, Any],
    job_id: str | None,
) -> list[Problem]:
    """Archive (the ``before_rebuild`` actions, once per earlier revision), delete the
    target's lines and write its header from this revision; the problems that stop it."""
    assert doc.revision is not None
    _, target = roles(doc)
    target_id = record_id(coupling, target)
    assert target_id is not None
    with ctx.db.session() as session:
        event = state.last_event(session, coupling.id, "revision")
        earlier_values = dict(event.detail.get("earlier") or {}) if event is not None else {}
    scope = Scope(settings, source=earlier_values, target={"id": target_id})
    by_name = {a.name: a for a in doc.actions}
    for name in doc.revision.before_rebuild:
        problem = actions.run_action(
            ctx,
            doc,
            mapping_id,
            coupling,
            by_name[name],
            scope,
            job_id,
            _versions(ctx, doc, target_id),
        )
        if problem is not None:
            return [problem]
    connector = ctx.connector(target)
    problems: list[Problem] = []
    if doc.lines is not None:
        entity = str(doc.lines.per_role[target])
        old = lines.read_lines(ctx, doc, target, target_id)
        ops = [WriteOp("delete", r.id, id=r.id) for r in old]
        for result in connector.write(entity, ops) if ops else []:
            if not result.ok and not result.not_found:
                problems.append(
                    Problem(None, "line", f"{target} refused to delete it: {result.error}")
                )
        with ctx.db.session() as session:
            state.forget_lines(session, coupling.id)
    values = {k: v for k, v in header.items() if k != doc.identity[target]}
    [result] = connector.write(
        doc.entity(target), [WriteOp("update", "header", values, id=target_id)]
    )
    if not result.ok:
        problems.append(Problem(None, "header", f"{target} refused the rebuild: {result.error}"))
    return problems
