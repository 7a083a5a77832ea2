"""Write a document's lines under its recorded intent: each planned line is recorded (with
its position) before it is written, found again by position after a crash, written when
added, updated when changed, and deleted or held when gone from the source."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.config.documents import DocumentMappingSpec
from accord.config.filters import where
from accord.connectors.base import ChangeQuery, Record, WriteOp
from accord.documents.values import PlannedLine, Problem, roles
from accord.mapping.values import same
from accord.state.document_tables import DocumentLine
from accord.state.documents import planned_lines
from accord.sync.context import SyncContext


def read_lines(ctx: SyncContext, doc: DocumentMappingSpec, role: str, header: str) -> list[Record]:
    """The lines of ``role``'s document ``header``, in the order the mapping names."""
    spec = doc.lines
    assert spec is not None
    entity = str(spec.per_role[role])
    query = ChangeQuery(filter=where(spec.parent[role], "eq", header))
    found = [r for page in ctx.connector(role).read_changes(entity, query) for r in page.records]
    return ordered(doc, role, found)


def ordered(doc: DocumentMappingSpec, role: str, found: list[Record]) -> list[Record]:
    """``found`` lines of ``role`` sorted in the order the mapping names (in place)."""
    assert doc.lines is not None
    order = doc.lines.order_by.get(role) or doc.lines.position.get(role)
    if order:
        found.sort(key=lambda r: (r.values.get(order) is None, r.values.get(order) or 0))
    return found


def recorded_positions(ctx: SyncContext, coupling_id: int) -> dict[str, int]:
    """Source line key (or ``charge:NAME``) -> the position recorded for it (comment lines
    left out: they follow their line)."""
    with ctx.db.session() as session:
        rows = planned_lines(session, coupling_id)
        return {r.source_key: r.position for r in rows if r.kind != "comment"}


def recorded(session: Session, ids: Sequence[int]) -> dict[tuple[int, int], DocumentLine]:
    """The recorded lines of couplings ``ids`` by (coupling id, position), one query."""
    query = select(DocumentLine).where(DocumentLine.coupling_id.in_(ids))
    return {(r.coupling_id, r.position): r for r in session.scalars(query)} if ids else {}


def record_planned(
    session: Session, items: Sequence[tuple[int, Sequence[PlannedLine]]]
) -> dict[tuple[int, int], DocumentLine]:
    """Record the planned lines of each (coupling id, lines) before they are written (a line
    already recorded at its position keeps its row and target id); every recorded line of
    those couplings by (coupling id, position)."""
    rows = recorded(session, [cid for cid, _ in items])
    for cid, planned in items:
        for line in planned:
            row = rows.get((cid, line.position))
            if row is None:
                row = DocumentLine(coupling_id=cid, position=line.position, source_key=line.key)
                session.add(row)
                rows[(cid, line.position)] = row
            row.source_key, row.kind = line.key, line.kind
    session.flush()
    return rows


def _differs(values: Mapping[str, Any], record: Record) -> bool:
    return any(
        name in record.values and not same(value, record.values[name])
        for name, value in values.items()
    )


def write_lines(
    ctx: SyncContext,
    doc: DocumentMappingSpec,
    coupling_id: int,
    target_id: str,
    planned: Sequence[PlannedLine],
    *,
    fresh: bool = False,
) -> tuple[list[Problem], int]:
    """Bring the target document's lines to ``planned``; the problems that stop it and how
    many lines were written. ``fresh``: this run created the header just now (and found no
    earlier one), so it has no lines to read."""
    spec = doc.lines
    assert spec is not None
    _, target = roles(doc)
    entity = str(spec.per_role[target])
    position_field = spec.position.get(target)
    existing = [] if fresh else read_lines(ctx, doc, target, target_id)
    by_id = {r.id: r for r in existing}
    by_position = (
        {int(r.values[position_field]): r for r in existing if r.values.get(position_field)}
        if position_field
        else {}
    )
    wanted = {p.position: p for p in planned}
    with ctx.db.session() as session:  # the intent: every line recorded before it is written
        recorded_rows = record_planned(session, [(coupling_id, planned)])
        recorded = {
            p: (r.source_key, r.target_id, r.content_hash, r.kind)
            for (_, p), r in recorded_rows.items()
        }
    ops: list[WriteOp] = []
    problems: list[Problem] = []
    adopted: dict[int, str] = {}
    for line in planned:
        _, target_line_id, written_hash, _ = recorded[line.position]
        record = by_id.get(target_line_id or "") or by_position.get(line.position)
        ref = str(line.position)
        if record is None:
            ops.append(WriteOp("create", ref, {**line.values, spec.parent[target]: target_id}))
        elif written_hash != line.hash and _differs(line.values, record):
            ops.append(WriteOp("update", ref, line.values, id=record.id))
        else:
            adopted[line.position] = record.id
    for position, (key, target_line_id, _, kind) in sorted(recorded.items()):
        if position in wanted:
            continue
        record = by_id.get(target_line_id or "") or by_position.get(position)
        if record is None:
            continue
        if spec.removed == "hold" and kind == "line":
            problems.append(
                Problem(
                    key,
                    "line",
                    f"removed in {roles(doc)[0]} after the document was written to {target} "
                    f"(its line at position {position} stays); put the line back, or remove "
                    f"it in {target} yourself",
                )
            )
        elif spec.removed == "delete" or kind != "line":
            ops.append(WriteOp("delete", str(position), id=record.id))
    results = ctx.connector(target).write(entity, ops) if ops else []
    written = 0
    with ctx.db.session() as session:
        rows = {r.position: r for r in planned_lines(session, coupling_id)}
        for position, line_id in adopted.items():
            rows[position].target_id = line_id
            rows[position].content_hash = wanted[position].hash
        for op, result in zip(ops, results, strict=True):
            row = rows[int(op.ref)]
            if not result.ok:
                planned_line = wanted.get(int(op.ref))
                label = planned_line.label if planned_line else row.source_key
                problems.append(Problem(label, "line", f"{target} refused it: {result.error}"))
            elif op.kind == "delete":
                session.delete(row)
            else:
                written += 1
                row.target_id = result.id or op.id
                row.content_hash = wanted[int(op.ref)].hash
    return problems, written
