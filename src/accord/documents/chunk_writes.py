"""The writes of a chunk of documents (:mod:`accord.documents.chunks`): the lines of
freshly created headers, and the write-back after creation, each in batches over all the
chunk's documents, with the same records before and after each write as the one-by-one
steps (:mod:`accord.documents.lines`, :mod:`accord.documents.writeback`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from accord.config.documents import DocumentMappingSpec
from accord.connectors.base import Record, WriteOp
from accord.documents import writeback
from accord.documents.lines import record_planned, recorded
from accord.documents.values import PlannedLine, Problem, Scope, given, roles
from accord.mapping.values import same
from accord.state.couplings import record_id
from accord.state.documents import add_event
from accord.state.models import Coupling
from accord.sync.context import SyncContext

if TYPE_CHECKING:
    from accord.documents.engine import _Run

Problems = dict[int, list[Problem]]
"""Per coupling id, what stopped its document."""


def write_chunk_lines(
    ctx: SyncContext,
    doc: DocumentMappingSpec,
    items: Sequence[tuple[Coupling, Sequence[PlannedLine]]],
) -> tuple[Problems, dict[int, int]]:
    """Write the planned lines of headers created just now (no lines to read): all
    recorded first, written in batches, confirmed; per coupling id, the problems and how
    many lines were written."""
    spec = doc.lines
    assert spec is not None
    _, target = roles(doc)
    with ctx.db.session() as session:  # the intent: every line recorded before it is written
        record_planned(session, [(coupling.id, planned) for coupling, planned in items])
    ops: list[WriteOp] = []
    wanted: dict[tuple[int, int], PlannedLine] = {}
    for coupling, planned in items:
        parent = {spec.parent[target]: record_id(coupling, target)}
        for line in planned:
            wanted[(coupling.id, line.position)] = line
            ref = f"{coupling.id}:{line.position}"
            ops.append(WriteOp("create", ref, {**line.values, **parent}))
    entity = str(spec.per_role[target])
    results = ctx.connector(target).write(entity, ops) if ops else []
    problems: Problems = defaultdict(list)
    written: dict[int, int] = defaultdict(int)
    with ctx.db.session() as session:
        ids = [coupling.id for coupling, _ in items]
        rows = recorded(session, ids)
        for op, result in zip(ops, results, strict=True):
            cid, position = (int(part) for part in op.ref.split(":"))
            line = wanted[(cid, position)]
            if not result.ok:
                problems[cid].append(
                    Problem(line.label, "line", f"{target} refused it: {result.error}")
                )
                continue
            written[cid] += 1
            row = rows[(cid, position)]
            row.target_id, row.content_hash = result.id, line.hash
    return dict(problems), dict(written)


def mark_chunk(run: _Run, items: Sequence[tuple[Record, Coupling]]) -> Problems:
    """The write-backs due after creation for documents read by this run, in batches:
    the own values of the unlocked fields recorded (one session) before the unlock, then
    the write-back's values written together with them."""
    doc, problems = run.doc, Problems()
    backs = [b for b in doc.write_back if b.after == "create"]
    if any(role != run.source for b in backs for role in b.unlock):
        for record, coupling in items:  # the target's values must be read: one by one
            found = writeback.write_back(
                run.ctx,
                doc,
                run.mapping_id,
                coupling,
                Scope(run.settings, source=record.values),
                run.job_id,
                read={run.source: record.values},
            )
            if found:
                problems[coupling.id] = found
        return problems
    for back in backs:
        for role, values in back.per_role.items():
            todo = [(r, c) for r, c in items if c.id not in problems]
            entity = back.entity.get(role) or doc.entity(role)
            _mark(run, role, entity, values, back.unlock.get(role, {}), todo, problems)
    return problems


def _mark(
    run: _Run,
    role: str,
    entity: str,
    values: Any,
    unlock: dict[str, Any],
    items: list[tuple[Record, Coupling]],
    problems: Problems,
) -> None:
    connector = run.ctx.connector(role)
    originals = {c.id: {name: r.values.get(name) for name in unlock} for r, c in items}
    if unlock:
        with run.ctx.db.session() as session:
            for _, coupling in items:
                add_event(
                    session,
                    run.mapping_id,
                    coupling.id,
                    f"unlocked:{role}",
                    role=role,
                    reason="made editable for the write-back",
                    detail={"original": originals[coupling.id], "unlock": dict(unlock)},
                    job_id=run.job_id,
                )
        locked = [
            (r, c)
            for r, c in items
            if any(not same(value, r.values.get(name)) for name, value in unlock.items())
        ]
        for (_, coupling), error in _write(connector, entity, role, locked, lambda _: unlock):
            problems[coupling.id] = [Problem(None, role, f"{role} refused to unlock it: {error}")]
    rendered = {c.id: given(Scope(run.settings, source=r.values).render(values)) for r, c in items}
    todo = [(r, c) for r, c in items if c.id not in problems]
    marks = {c.id: {**rendered[c.id], **originals[c.id]} for _, c in todo}
    todo = [(r, c) for r, c in todo if marks[c.id]]  # all blank: nothing to write
    refused = _write(connector, entity, role, todo, lambda c: marks[c.id])
    back = [(r, c) for (r, c), _ in refused if originals[c.id]]
    put_back = {c.id for (_, c), _ in refused} - {
        c.id for (_, c), _ in _write(connector, entity, role, back, lambda c: originals[c.id])
    }
    for (_, coupling), error in refused:
        more = "; its own values were put back" if coupling.id in put_back and unlock else ""
        text = f"{role} refused the write-back: {error}{more}"
        problems[coupling.id] = [Problem(None, role, text)]
    with run.ctx.db.session() as session:
        for _, coupling in todo:
            if coupling.id not in problems:
                add_event(
                    session,
                    run.mapping_id,
                    coupling.id,
                    f"written_back:{role}",
                    role=role,
                    detail={"values": dict(rendered[coupling.id])},
                    job_id=run.job_id,
                )


def _write(
    connector: Any,
    entity: str,
    role: str,
    items: list[tuple[Record, Coupling]],
    values: Any,
) -> list[tuple[tuple[Record, Coupling], str]]:
    """Update ``items``' ``role`` records with ``values(coupling)`` in batches; the refused
    ones with their error."""
    ops = [
        WriteOp("update", str(n), dict(values(c)), id=record_id(c, role))
        for n, (_, c) in enumerate(items)
    ]
    results = connector.write(entity, ops) if ops else []
    return [(item, str(res.error)) for item, res in zip(items, results, strict=True) if not res.ok]
